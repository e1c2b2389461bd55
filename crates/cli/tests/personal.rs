//! `releve report personal-data`: a customer's subject access written straight to a ZIP
//! file by the real binary (opened with the core's reader: the customer's readings and the
//! PDF summary); a clerk is refused and no file is left.

#[path = "support/releve.rs"]
mod releve;

use releve_core::personal::zip;
use std::process::Command;

#[test]
fn a_manager_writes_a_customers_personal_data_and_a_clerk_is_refused() {
    let (dir, db) = releve::demo_db();
    let db_arg = db.to_str().expect("utf8");
    let out = dir.path().join("pd.zip");
    let printed = releve::run_ok(&["report", "personal-data", "--db", db_arg, "--customer", "C0100001", "--out", out.to_str().expect("utf8")]);
    assert!(printed.starts_with("customer C0100001: 1 meters, "), "{printed}");
    let files = zip::read_all(&std::fs::read(&out).expect("zip")).expect("a ZIP");
    let file = |name: &str| files.iter().find(|f| f.0 == name).map(|f| f.1.clone()).unwrap_or_else(|| panic!("{name}"));
    let customer = String::from_utf8(file("customer.csv")).expect("utf8");
    let readings = String::from_utf8(file("readings.csv")).expect("utf8");
    assert!(customer.lines().nth(1).is_some_and(|l| l.contains(";C0100001;")), "{customer}");
    assert!(readings.lines().count() > 100, "the customer's readings");
    assert!(file("summary.pdf").starts_with(b"%PDF-"));

    let refused_out = dir.path().join("refused.zip");
    let o = Command::new(releve::BIN)
        .args(["report", "personal-data", "--db", db_arg, "--customer", "C0100001", "--out", refused_out.to_str().expect("utf8"), "--user", "clerk"])
        .env("RELEVE_PASSWORD", "clerk")
        .output()
        .expect("run");
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("personal_data"), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(!refused_out.exists(), "no file left");
}
