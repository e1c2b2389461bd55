//! `releve retention run` on a real demo file: `--dry-run` prints what the run then removes
//! and removes nothing; the run removes it, shrinks the file and writes one audit entry; a
//! second run removes nothing; a clerk is refused.

#[path = "support/releve.rs"]
mod releve;

use std::process::Command;

/// The numbers of a "would remove: ..." / "removed: ..." line.
fn counts(out: &str, prefix: &str) -> Vec<u64> {
    let line = out.lines().find(|l| l.starts_with(prefix)).unwrap_or_else(|| panic!("no '{prefix}' line in {out}"));
    line.split(|c: char| !c.is_ascii_digit()).filter(|s| !s.is_empty()).map(|s| s.parse().expect("number")).collect()
}

#[test]
fn dry_run_then_run_then_nothing_left() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("r.db");
    let db = db.to_str().expect("path");
    releve::run_ok(&["demo", "--db", db, "--meters", "30", "--now", "2026-01-01"]);
    let size = || std::fs::metadata(db).expect("size").len();
    let before = size();

    let preview = releve::run_ok(&["retention", "run", "--db", db, "--now", "2027-06-01T03:00:00+02:00", "--dry-run"]);
    let would = counts(&preview, "would remove:");
    assert!(would[0] > 10_000, "readings to compact: {preview}");
    assert!(preview.contains("full resolution from 2026-05-01, nothing before 2017-06-01"), "{preview}");
    assert_eq!(size(), before, "a dry run removes nothing");

    let run = releve::run_ok(&["retention", "run", "--db", db, "--now", "2027-06-01T03:00:00+02:00"]);
    assert_eq!(counts(&run, "removed:"), would, "the run removes what the dry run said: {run}");
    assert!(size() * 2 < before, "the file shrinks: {before} -> {}", size());

    let again = releve::run_ok(&["retention", "run", "--db", db, "--now", "2027-06-01 03:00"]);
    assert!(counts(&again, "removed:").iter().all(|n| *n == 0), "{again}");

    let conn = rusqlite::Connection::open(db).expect("open");
    let audited: i64 = conn.query_row("SELECT count(*) FROM audit_log WHERE event = 'retention_run' AND user = 'manager'", [], |r| r.get(0)).expect("audit");
    assert_eq!(audited, 2, "one audit entry per run");

    let refused = Command::new(releve::BIN)
        .args(["retention", "run", "--db", db, "--user", "clerk"])
        .env("RELEVE_PASSWORD", "clerk")
        .output()
        .expect("releve");
    assert!(!refused.status.success());
    assert!(String::from_utf8_lossy(&refused.stderr).contains("forbidden"), "{}", String::from_utf8_lossy(&refused.stderr));
}
