//! `releve keys import` (CSV, KEM with --kem-password) and `releve keys export` (the manager's
//! only), as a user runs them on a demo database.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_releve");

fn releve(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("RELEVE_PASSWORD").env_remove("RELEVE_KEM_PASSWORD").output().expect("run releve")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

#[test]
fn keys_import_and_export_from_the_command_line() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("demo.db");
    let db_s = db.to_str().expect("utf8");
    let o = releve(&["demo", "--db", db_s, "--meters", "10", "--seed", "3", "--now", "2026-11-20"]);
    assert!(o.status.success(), "{}", text(&o));
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(dir.path().join("demo.db.key")).expect("the master key file").permissions().mode();
        assert_eq!(mode & 0o777, 0o600, "readable by the service user only");
    }

    let csv = dir.path().join("keys.csv");
    std::fs::write(&csv, "12345678\t000102030405060708090A0B0C0D0E0F\n").expect("write");
    let o = releve(&["keys", "import", "--db", db_s, csv.to_str().expect("utf8")]);
    assert!(o.status.success() && text(&o).contains("1 keys imported"), "{}", text(&o));

    // A KEM file with a wrong password: refused in words, nothing imported.
    let kem = dir.path().join("order.kem");
    std::fs::write(&kem, "<EncryptedData><CipherData><CipherValue>AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=</CipherValue></CipherData></EncryptedData>").expect("write");
    let o = releve(&["keys", "import", "--db", db_s, "--kem-password", "secret", kem.to_str().expect("utf8")]);
    assert!(!o.status.success());
    assert!(text(&o).contains("the password does not open this KEM file"), "{}", text(&o));

    let out = dir.path().join("export.csv");
    let out_s = out.to_str().expect("utf8");
    let o = releve(&["keys", "export", "--db", db_s, "--user", "superuser", "--out", out_s]);
    assert!(!o.status.success(), "a superuser may not export keys: {}", text(&o));
    assert!(text(&o).contains("export_keys"), "{}", text(&o));
    assert!(!out.exists());
    let o = releve(&["keys", "export", "--db", db_s, "--out", out_s]);
    assert!(o.status.success(), "{}", text(&o));
    let content = std::fs::read_to_string(&out).expect("export");
    assert!(content.starts_with("serial;key;manufacturer\n"));
    assert!(content.contains("12345678;000102030405060708090A0B0C0D0E0F;\n"), "{content}");
    assert!(text(&o).contains(&format!("{} keys written", content.lines().count() - 1)), "{}", text(&o));
}
