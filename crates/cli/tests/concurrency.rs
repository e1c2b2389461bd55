//! Everything at once, as a utility's day has it: `releve serve` answering clerks while a
//! 1,000,000-line file is imported by `releve import` in another process, two more imports
//! run through the API, a scheduled export runs (from cron, and "run now" in the app),
//! clerks log in, rename a group and browse. Before: logins failed with "database is locked", the second import
//! failed, `releve jobs run` failed. Now: no error anywhere, every import complete, and a
//! login's p99 during the imports stays under 500 ms (printed next to the idle figure).

use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

#[path = "support/releve.rs"]
mod releve;

use releve::{demo_db, drive_by, serve, BIN};

/// POST /api/<command> with a JSON body: (status, body).
fn call(port: u16, token: Option<&str>, command: &str, body: &str) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    s.set_read_timeout(Some(Duration::from_secs(120))).expect("timeout");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    let request = format!(
        "POST /api/{command} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(request.as_bytes()).and_then(|()| s.write_all(body.as_bytes())).expect("send");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).expect("answer");
    let text = String::from_utf8_lossy(&answer);
    let status = text.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    let body = text.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

fn login(port: u16, who: &str) -> (Duration, String) {
    let t = Instant::now();
    let (status, v) = call(port, None, "login", &format!(r#"{{"login":"{who}","password":"{who}"}}"#));
    assert_eq!(status, 200, "login of {who}: {v}");
    (t.elapsed(), v["token"].as_str().expect("token").to_string())
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

#[test]
fn a_million_line_import_beside_the_server_blocks_nobody() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");
    let big = dir.path().join("big.txt");
    std::fs::write(&big, drive_by(70_000_000, 10_000, 1_000_000)).expect("write");
    let second = String::from_utf8(drive_by(80_000_000, 2_000, 100_000)).expect("text");
    let third = String::from_utf8(drive_by(85_000_000, 3_000, 150_000)).expect("text");

    // Logins here measure waiting behind the import, not the password hash: the test database
    // hashes at the fast cost (each account's hash is redone at that cost at its first login).
    rusqlite::Connection::open(&db)
        .and_then(|c| c.execute("INSERT OR REPLACE INTO settings(key, value) VALUES ('password_cost', 'fast')", []))
        .expect("password cost");
    let server = serve(db_s);
    let port = server.port;
    let mut idle: Vec<Duration> = (0..40).map(|i| login(port, if i % 2 == 0 { "clerk" } else { "manager" }).0).collect();
    let (_, manager) = login(port, "manager");
    let (status, groups) = call(port, Some(&manager), "groups_list", "{}");
    assert_eq!(status, 200, "{groups}");
    let group = groups[0]["id"].as_i64().expect("a demo group");

    let started = Instant::now();
    let mut cli = Command::new(BIN)
        .args(["import", "--db", db_s, big.to_str().expect("utf8")])
        .env("RELEVE_PASSWORD", "manager")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("releve import");
    std::thread::sleep(Duration::from_millis(500));
    let body = serde_json::json!({"files": [{"name": "second.txt", "content": second}]}).to_string();
    let (status, task) = call(port, Some(&manager), "import_start", &body);
    assert_eq!(status, 200, "second import: {task}");
    let task = task["task"].as_str().expect("task").to_string();
    let (_, superuser) = login(port, "superuser");
    let body = serde_json::json!({"files": [{"name": "third.txt", "content": third}]}).to_string();
    let (status, third_task) = call(port, Some(&superuser), "import_start", &body);
    assert_eq!(status, 200, "third import: {third_task}");
    let third_task = third_task["task"].as_str().expect("task").to_string();
    let jobs = Command::new(BIN).args(["jobs", "run", "--db", db_s]).env("RELEVE_PASSWORD", "manager").spawn().expect("jobs run");
    // The demo's monthly billing export, run now: a real file while the imports write.
    let (status, list) = call(port, Some(&manager), "export_jobs_list", "{}");
    assert_eq!(status, 200, "{list}");
    let job = list[0]["id"].as_i64().expect("the demo's job");
    let t = Instant::now();
    let (status, run) = call(port, Some(&manager), "export_job_run_now", &format!(r#"{{"id":{job}}}"#));
    let export_took = t.elapsed();
    assert_eq!(status, 200, "scheduled export during the imports: {run}");
    assert_eq!(run["status"], "ok", "{run}");

    let mut busy: Vec<Duration> = Vec::new();
    let mut edits: Vec<Duration> = Vec::new();
    let mut n = 0;
    let cli_status = loop {
        if let Some(status) = cli.try_wait().expect("wait") {
            break status;
        }
        let (took, token) = login(port, if n % 2 == 0 { "clerk" } else { "manager" });
        busy.push(took);
        let t = Instant::now();
        let rename = format!(r#"{{"id":{group},"name":"Secteur nord {n}"}}"#);
        let (status, v) = call(port, Some(&manager), "group_rename", &rename);
        assert_eq!(status, 200, "group rename during the import: {v}");
        edits.push(t.elapsed());
        let (status, v) = call(port, Some(&token), "meters_list", r#"{"limit":50}"#);
        assert_eq!(status, 200, "browsing during the import: {v}");
        n += 1;
        std::thread::sleep(Duration::from_millis(100));
    };
    let import_secs = started.elapsed().as_secs_f64();
    let mut out = String::new();
    cli.stdout.take().expect("stdout").read_to_string(&mut out).expect("read");
    assert!(cli_status.success(), "releve import: {out}");
    assert!(out.contains("1000000 lines, 1000000 telegrams stored"), "{out}");
    let jobs = jobs.wait_with_output().expect("jobs");
    assert!(jobs.status.success(), "releve jobs run during the import");
    let deadline = Instant::now() + Duration::from_secs(300);
    for (token, task, lines) in [(&manager, &task, 100_000), (&superuser, &third_task, 150_000)] {
        let report = loop {
            let (status, v) = call(port, Some(token), "import_status", &format!(r#"{{"task":"{task}"}}"#));
            assert_eq!(status, 200, "{v}");
            if v["state"] != "running" {
                break v;
            }
            assert!(Instant::now() < deadline, "an API import did not end");
            std::thread::sleep(Duration::from_millis(200));
        };
        assert_eq!(report["state"], "done", "{report}");
        assert_eq!(report["report"]["files"][0]["stored"], lines, "{report}");
    }

    idle.sort();
    busy.sort();
    edits.sort();
    eprintln!(
        "1,000,000-line CLI import beside releve serve + 100,000- and 150,000-line API imports: {import_secs:.1} s; \
         login idle p50 {:?} p99 {:?}; during the imports ({} logins) p50 {:?} p99 {:?} max {:?}; group rename p50 {:?} max {:?}; \
         billing export run now {export_took:?}",
        percentile(&idle, 0.5),
        percentile(&idle, 0.99),
        busy.len(),
        percentile(&busy, 0.5),
        percentile(&busy, 0.99),
        busy.last().expect("logins"),
        percentile(&edits, 0.5),
        edits.last().expect("edits"),
    );
    assert!(busy.len() >= 20, "logins happened during the import: {}", busy.len());
    assert!(percentile(&busy, 0.99) < Duration::from_millis(500), "login p99 during the imports: {:?}", percentile(&busy, 0.99));
    drop(server);
}

/// `kill -9` in the middle of an import: what was committed stays, the store is sound, the
/// import's row says where it stopped, and importing the same file again completes it
/// without storing anything twice.
#[test]
fn an_import_killed_midway_is_completed_by_importing_the_file_again() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");
    let file = dir.path().join("big.txt");
    std::fs::write(&file, drive_by(90_000_000, 5_000, 400_000)).expect("write");
    let import = || {
        Command::new(BIN)
            .args(["import", "--db", db_s, file.to_str().expect("utf8")])
            .env("RELEVE_PASSWORD", "manager")
            .stdout(Stdio::piped())
            .stderr(Stdio::null())
            .spawn()
            .expect("releve import")
    };
    let conn = rusqlite::Connection::open(&db).expect("open");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy");
    let ours = "SELECT count(*) FROM telegrams WHERE meter_id IN (SELECT id FROM meters WHERE serial >= '90000000')";
    let mut child = import();
    let deadline = Instant::now() + Duration::from_secs(120);
    let stopped_at: i64 = loop {
        let next: Option<i64> = conn
            .query_row("SELECT next_line FROM imports WHERE state = 'running' ORDER BY id DESC LIMIT 1", [], |r| r.get(0))
            .ok();
        if let Some(n) = next.filter(|n| *n > 1) {
            child.kill().expect("kill -9");
            let _ = child.wait();
            break n;
        }
        assert!(child.try_wait().expect("wait").is_none(), "the import ended before it could be killed");
        assert!(Instant::now() < deadline, "no batch committed");
        std::thread::sleep(Duration::from_millis(20));
    };
    let integrity: String = conn.query_row("PRAGMA integrity_check", [], |r| r.get(0)).expect("check");
    assert_eq!(integrity, "ok");
    let kept: i64 = conn.query_row(ours, [], |r| r.get(0)).expect("count");
    assert!(kept >= stopped_at - 1 && kept < 400_000, "committed lines stay: {kept} telegrams, next line {stopped_at}");

    let again = import().wait_with_output().expect("import again");
    let out = String::from_utf8_lossy(&again.stdout);
    assert!(again.status.success(), "{out}");
    assert!(out.contains(&format!("stopped at line {stopped_at}")) || out.contains("stopped at line"), "{out}");
    assert!(out.contains("400000 lines"), "{out}");
    let all: i64 = conn.query_row(ours, [], |r| r.get(0)).expect("count");
    assert_eq!(all, 400_000, "every telegram once");
    let readings: i64 = conn
        .query_row("SELECT count(*) FROM readings WHERE meter_id IN (SELECT id FROM meters WHERE serial >= '90000000')", [], |r| r.get(0))
        .expect("readings");
    assert_eq!(readings, 400_000, "every reading once");
    let states: Vec<String> = conn
        .prepare("SELECT state FROM imports WHERE source LIKE '%big.txt' ORDER BY id")
        .expect("q")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("states");
    assert_eq!(states, ["failed", "done"], "the killed import is marked as stopped, the second is done");
}
