//! Concentrators pushing over HTTP, as a utility runs them: a source made with `releve
//! sources add` (its token printed once), `releve serve` running, pushes sent with curl. A
//! push is answered once stored; a retry stores nothing twice; a wrong token, an oversize
//! body and unreadable lines are refused with their reason and nothing of them is stored.

#[path = "support/releve.rs"]
mod releve;

use releve::{demo_db, drive_by, serve, BIN, run_ok as releve};
use std::path::Path;
use std::process::Command;

/// `releve sources add`: the token it prints.
fn add_source(db: &str, extra: &[&str]) -> String {
    let out = releve(&[&["sources", "add", "--db", db][..], extra].concat());
    let line = out.lines().find_map(|l| l.strip_prefix("Authorization: Bearer ")).unwrap_or_else(|| panic!("no token in {out}"));
    line.trim().to_string()
}

/// curl's POST of `body` (a file) to `url` with `token`: (HTTP status, JSON answer).
fn push(url: &str, token: &str, body: &Path) -> (u16, serde_json::Value) {
    let out_file = body.with_extension("answer");
    let o = Command::new("curl")
        .args(["-s", "-o", out_file.to_str().expect("utf8"), "-w", "%{http_code}", "-X", "POST"])
        .args(["-H", &format!("Authorization: Bearer {token}"), "-H", "Content-Type: text/plain"])
        .arg("--data-binary")
        .arg(format!("@{}", body.display()))
        .arg(url)
        .output()
        .expect("curl");
    let status = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or(0);
    let answer = std::fs::read_to_string(&out_file).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(serde_json::Value::Null);
    (status, answer)
}

fn telegrams(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row("SELECT count(*) FROM telegrams", [], |r| r.get(0)).expect("count")
}

#[test]
fn concentrators_push_over_http_and_are_answered_once_stored() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");
    let token = add_source(db_s, &["--name", "conc-nord", "--format", "lines"]);
    assert_eq!(token.len(), 64, "a 256-bit token");
    let json_token = add_source(db_s, &["--name", "gw-json", "--format", "jsonl"]);
    let small_token = add_source(db_s, &["--name", "petit", "--format", "lines", "--max-body", "1024"]);
    let cme_token = add_source(db_s, &["--name", "cme-chaufferie", "--format", "elvaco"]);
    let listed = releve(&["sources", "list", "--db", db_s]);
    assert_eq!(listed.lines().count(), 4, "{listed}");
    assert!(!listed.contains(&token), "the token is never shown again: {listed}");

    let server = serve(db_s);
    let base = format!("http://127.0.0.1:{}/ingest", server.port);
    let before = telegrams(&db);

    // 2,000 telegrams from 500 meters in one push: answered with the counts, once stored.
    let body = dir.path().join("push.txt");
    std::fs::write(&body, drive_by(71_000_000, 500, 2_000)).expect("write");
    let (status, r) = push(&format!("{base}/conc-nord"), &token, &body);
    assert_eq!(status, 200, "{r}");
    assert_eq!((r["lines"].as_u64(), r["stored"].as_u64(), r["readings"].as_u64()), (Some(2000), Some(2000), Some(2000)), "{r}");
    assert_eq!(telegrams(&db), before + 2000, "acknowledged means stored");

    // The concentrator did not get the answer and sends again: nothing stored twice.
    let (status, r) = push(&format!("{base}/conc-nord"), &token, &body);
    assert_eq!((status, r["stored"].as_u64(), r["duplicates"].as_u64()), (200, Some(0), Some(2000)), "{r}");
    assert_eq!(telegrams(&db), before + 2000);

    // A wrong token, another source's token, a source that does not exist: 401, nothing read.
    for (url, t) in [(format!("{base}/conc-nord"), "0".repeat(64)), (format!("{base}/conc-nord"), json_token.clone()), (format!("{base}/nowhere"), token.clone())] {
        let (status, r) = push(&url, &t, &body);
        assert_eq!((status, r["error"]["code"].as_str()), (401, Some("wrong_token")), "{url}: {r}");
    }

    // Over the source's limit: 413 with the limit.
    let (status, r) = push(&format!("{base}/petit"), &small_token, &body);
    assert_eq!((status, r["error"]["code"].as_str(), r["error"]["params"]["limit"].as_u64()), (413, Some("too_large"), Some(1024)), "{r}");

    // Unreadable lines: 400 naming them, and nothing of the body is stored.
    let good = String::from_utf8(drive_by(72_000_000, 3, 3)).expect("text");
    let bad = dir.path().join("bad.txt");
    std::fs::write(&bad, format!("{}zz not hex\n{}0x123\n", &good[..good.find('\n').expect("line") + 1], &good[good.find('\n').expect("line") + 1..])).expect("write");
    let (status, r) = push(&format!("{base}/conc-nord"), &token, &bad);
    assert_eq!((status, r["error"]["code"].as_str()), (400, Some("bad_lines")), "{r}");
    let lines: Vec<u64> = r["error"]["params"]["lines"].as_array().expect("lines").iter().filter_map(|l| l["line"].as_u64()).collect();
    assert_eq!(lines, [2, 5], "{r}");
    // Each line's reason as a code and values, for the UI to word.
    assert_eq!(r["error"]["params"]["lines"][0]["params"], serde_json::json!({"reason": "not_hex", "character": "z", "column": 1}), "{r}");
    assert_eq!(r["error"]["params"]["lines"][1]["params"], serde_json::json!({"reason": "odd_hex", "digits": 3}), "{r}");
    assert_eq!(telegrams(&db), before + 2000, "nothing half-stored");

    // The source's status says what came and what was refused.
    let listed = releve(&["sources", "list", "--db", db_s]);
    let nord: serde_json::Value = listed.lines().filter_map(|l| serde_json::from_str(l).ok()).find(|v: &serde_json::Value| v["name"] == "conc-nord").expect("listed");
    assert_eq!((nord["telegrams_total"].as_u64(), nord["last_error_code"].as_str()), (Some(4000), Some("bad_lines")), "{nord}");
    assert!(nord["last_push_at"].as_i64().is_some() && nord["per_minute"].as_f64() > Some(0.0), "{nord}");
    // And its log keeps each refusal with what was refused, the unreadable lines by number.
    let conn = rusqlite::Connection::open(&db).expect("open");
    let log: Vec<(String, String)> = conn
        .prepare("SELECT l.code, l.detail FROM source_log l JOIN sources s ON s.id = l.source_id WHERE s.name = 'conc-nord' ORDER BY l.id")
        .expect("log")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("rows")
        .map(|r| r.expect("row"))
        .collect();
    assert_eq!(log.iter().map(|(c, _)| c.as_str()).collect::<Vec<_>>(), ["wrong_token", "wrong_token", "bad_lines"], "{log:?}");
    assert!(log[2].1.contains("line 2:") && log[2].1.contains("line 5:"), "{log:?}");

    // JSON lines with their time (offset) and signal strength.
    let frames = String::from_utf8(drive_by(73_000_000, 3, 3)).expect("text");
    let jsonl: Vec<String> = frames
        .lines()
        .enumerate()
        .map(|(i, l)| {
            let hex = l.rsplit(";0x").next().expect("hex");
            format!(r#"{{"telegram":"{hex}","time":"2026-11-19T10:0{i}:00+01:00","rssi":-{}.5,"gateway":"GW-1"}}"#, 70 + i)
        })
        .collect();
    let json_body = dir.path().join("push.jsonl");
    std::fs::write(&json_body, jsonl.join("\n")).expect("write");
    let (status, r) = push(&format!("{base}/gw-json"), &json_token, &json_body);
    assert_eq!((status, r["stored"].as_u64()), (200, Some(3)), "{r}");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let (first, rssi): (i64, i64) = conn
        .query_row(
            "SELECT min(received_at), max(rssi) FROM telegrams WHERE meter_id IN (SELECT id FROM meters WHERE serial LIKE '73%')",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("times");
    assert_eq!((first, rssi), (1_795_078_800, -71), "10:00+01:00 is 09:00 UTC; -70.5 rounds to -71");
    std::fs::write(&json_body, "{\"telegram\":\"0A0B\"}\n{not json}\n").expect("write");
    let (status, r) = push(&format!("{base}/gw-json"), &json_token, &json_body);
    assert_eq!((status, r["error"]["params"]["lines"][0]["line"].as_u64()), (400, Some(2)), "{r}");

    // An Elvaco CMe gateway's report: a header, then wired M-Bus frames from their C field.
    let rows: Vec<String> = (1..=3u32)
        .map(|i| {
            let id = format!("{:08}", 74_000_000 + i);
            let bcd: String = (0..4).rev().map(|k| &id[2 * k..2 * k + 2]).collect();
            let litres = hex::encode((1000 * i).to_le_bytes());
            format!("CMe3100-7;{id};2026-11-19 1{i}:00:00;1;080172{bcd}2d2c1b0701000000 0413{litres}").replace(' ', "")
        })
        .collect();
    let cme_body = dir.path().join("cme.csv");
    std::fs::write(&cme_body, format!("Gateway;Secondary address;Time;Count;Data\n{}\n", rows.join("\n"))).expect("write");
    let (status, r) = push(&format!("{base}/cme-chaufferie"), &cme_token, &cme_body);
    assert_eq!((status, r["stored"].as_u64(), r["readings"].as_u64(), r["new_meters"].as_u64()), (200, Some(3), Some(3), Some(3)), "{r}");
    let volume: f64 = conn
        .query_row("SELECT value FROM readings WHERE meter_id = (SELECT id FROM meters WHERE serial = '74000002')", [], |r| r.get(0))
        .expect("reading of a wired meter");
    assert!((volume - 2.0).abs() < 1e-9, "{volume}");

    // Removed: its token stops working at once.
    releve(&["sources", "remove", "--db", db_s, "--name", "conc-nord"]);
    let (status, _) = push(&format!("{base}/conc-nord"), &token, &body);
    assert_eq!(status, 401);
    drop(server);
}

/// A concentrator uploading files into a folder source's folder: whole files are taken and
/// moved to done/, an unreadable one to failed/ with its reason beside it, a file still
/// being written is left for a later run; a folder outside the allowed folders is refused.
#[test]
fn concentrators_drop_files_into_a_folder_source() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");
    let inbox = dir.path().join("import").join("depot-nord");
    std::fs::create_dir_all(&inbox).expect("inbox");
    let out = releve(&["sources", "add", "--db", db_s, "--name", "depot-nord", "--kind", "folder", "--format", "lines", "--path", inbox.to_str().expect("utf8")]);
    assert!(out.contains("files dropped into") && !out.contains("Bearer"), "{out}");
    let outside = tempfile::tempdir().expect("outside");
    let refused = Command::new(BIN)
        .args(["sources", "add", "--db", db_s, "--name", "ailleurs", "--kind", "folder", "--format", "lines", "--folder"])
        .arg(outside.path())
        .env("RELEVE_PASSWORD", "manager")
        .output()
        .expect("run");
    assert!(!refused.status.success(), "a folder outside the allowed ones is refused");

    let old = |path: &Path| {
        let o = Command::new("touch").args(["-d", "2 minutes ago"]).arg(path).output().expect("touch");
        assert!(o.status.success());
    };
    let good = inbox.join("releve-0600.txt");
    std::fs::write(&good, drive_by(75_000_000, 100, 300)).expect("write");
    old(&good);
    let bad = inbox.join("casse.txt");
    std::fs::write(&bad, "zz\n").expect("write");
    old(&bad);
    let fresh = inbox.join("en-cours.txt");
    std::fs::write(&fresh, drive_by(76_000_000, 10, 10)).expect("write");

    let o = Command::new(BIN).args(["sources", "run", "--db", db_s]).output().expect("run");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    assert!(!o.status.success(), "a failed file is reported by the exit status: {out}");
    assert!(out.contains("300 lines, 300 telegrams stored") && out.contains("-> ") && out.contains("done"), "{out}");
    assert!(out.contains("casse.txt: failed") && out.contains("en-cours.txt left"), "{out}");
    assert!(inbox.join("done").join("releve-0600.txt").exists() && inbox.join("failed").join("casse.txt").exists());
    let why = std::fs::read_to_string(inbox.join("failed").join("casse.txt.report.json")).expect("report beside it");
    assert!(why.contains("bad_lines") && why.contains("\"line\":1"), "{why}");
    assert!(fresh.exists(), "a file still being written waits");
    assert_eq!(telegrams(&db) - telegrams_before_demo(&db), 300);
    let listed = releve(&["sources", "list", "--db", db_s]);
    assert!(listed.contains("\"telegrams_total\":300") && listed.contains("\"last_error_code\":\"bad_lines\""), "{listed}");
}

/// The demo's own telegrams (meters below 70,000,000).
fn telegrams_before_demo(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row("SELECT count(*) FROM telegrams WHERE meter_id IN (SELECT id FROM meters WHERE serial < '70000000')", [], |r| r.get(0)).expect("count")
}

/// Stopped as a service manager stops it (SIGTERM) while a concentrator's push is being
/// stored: the push is answered (200, all stored), then the receiver exits cleanly.
#[test]
fn a_push_in_flight_is_answered_before_sigterm_stops_the_receiver() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");
    let token = add_source(db_s, &["--name", "conc-sud", "--format", "lines"]);
    let server = serve(db_s);
    let url = format!("http://127.0.0.1:{}/ingest/conc-sud", server.port);
    let body = dir.path().join("big.txt");
    std::fs::write(&body, drive_by(72_000_000, 5_000, 150_000)).expect("write");
    let before = telegrams(&db);
    let pusher = std::thread::spawn(move || push(&url, &token, &body));
    // The push is under way (150,000 telegrams take over a second to store).
    std::thread::sleep(std::time::Duration::from_millis(400));
    let status = server.terminate();
    let (code, answer) = pusher.join().expect("pusher");
    assert_eq!(code, 200, "the push in flight is answered: {answer}");
    assert_eq!(answer["stored"].as_u64(), Some(150_000), "{answer}");
    assert!(status.success(), "a clean exit on SIGTERM: {status}");
    assert_eq!(telegrams(&db), before + 150_000, "what was acknowledged is stored");
}

/// `kill -9` of the receiver while a concentrator pushes its backlog: after a restart the
/// concentrator sends again what was not acknowledged (the push in flight included, part of
/// which may have been committed) and every telegram is stored exactly once.
#[test]
fn kill_9_during_pushes_loses_nothing_acknowledged_and_a_retry_stores_nothing_twice() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");
    let token = add_source(db_s, &["--name", "conc-est", "--format", "lines"]);
    let all = drive_by(73_000_000, 2_000, 200_000);
    let lines: Vec<&[u8]> = all.split_inclusive(|b| *b == b'\n').collect();
    let bodies: Vec<std::path::PathBuf> = lines
        .chunks(5_000)
        .enumerate()
        .map(|(i, chunk)| {
            let path = dir.path().join(format!("backlog-{i:02}.txt"));
            std::fs::write(&path, chunk.concat()).expect("write");
            path
        })
        .collect();
    let before = telegrams(&db);
    let server = serve(db_s);
    let url = format!("http://127.0.0.1:{}/ingest/conc-est", server.port);
    let (pusher_bodies, pusher_token) = (bodies.clone(), token.clone());
    // The concentrator pushes its files one after the other until one is not acknowledged.
    let pusher = std::thread::spawn(move || {
        for (i, body) in pusher_bodies.iter().enumerate() {
            let (status, answer) = push(&url, &pusher_token, body);
            if status != 200 {
                return i;
            }
            assert_eq!(answer["lines"].as_u64(), Some(5_000), "{answer}");
        }
        pusher_bodies.len()
    });
    std::thread::sleep(std::time::Duration::from_millis(1_500));
    drop(server); // kill -9
    let first_unacknowledged = pusher.join().expect("pusher");
    assert!(first_unacknowledged < bodies.len(), "the receiver was killed before the backlog was sent");
    assert!(first_unacknowledged > 0, "some pushes were acknowledged before the kill");
    let acknowledged = (first_unacknowledged * 5_000) as i64;
    let stored = telegrams(&db) - before;
    assert!(stored >= acknowledged, "every acknowledged telegram is stored: {stored} < {acknowledged}");

    let server = serve(db_s);
    let url = format!("http://127.0.0.1:{}/ingest/conc-est", server.port);
    let mut duplicates = 0;
    for body in &bodies[first_unacknowledged..] {
        let (status, answer) = push(&url, &token, body);
        assert_eq!(status, 200, "{answer}");
        duplicates += answer["duplicates"].as_u64().unwrap_or(0);
    }
    assert_eq!(telegrams(&db) - before, 200_000, "every telegram exactly once");
    assert_eq!(duplicates as i64, stored - acknowledged, "what the killed push had committed is recognised, not stored again");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let readings: i64 = conn
        .query_row("SELECT count(*) FROM readings r JOIN meters m ON m.id = r.meter_id WHERE m.serial BETWEEN '73000000' AND '73001999'", [], |r| r.get(0))
        .expect("readings");
    assert_eq!(readings, 200_000, "one reading per telegram, none twice");
}
