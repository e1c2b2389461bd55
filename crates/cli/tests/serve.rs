//! `releve serve` against hostile or careless requests, over a real socket: huge bodies,
//! bad numbers, wildcards, other users' tasks and uploads; its request log; the database's
//! file mode.

use releve_core::Store;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command};
use std::time::{Duration, Instant};

const BIN: &str = env!("CARGO_BIN_EXE_releve");
const MB: u64 = 1 << 20;

/// A demo database (20 meters; accounts manager, superuser, clerk, password = login)
/// served on a free loopback port; the server is killed on drop.
struct Server {
    _dir: tempfile::TempDir,
    db: PathBuf,
    addr: String,
    child: Child,
}

impl Server {
    fn start() -> Server {
        let dir = tempfile::tempdir().expect("tmp");
        let db = dir.path().join("park.db");
        let db_s = db.to_str().expect("utf8");
        let demo = Command::new(BIN).args(["demo", "--db", db_s, "--meters", "20", "--seed", "5", "--now", "2026-11-20"]).output().expect("demo");
        assert!(demo.status.success(), "{}", String::from_utf8_lossy(&demo.stderr));
        let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
        let addr = format!("127.0.0.1:{port}");
        let child = Command::new(BIN)
            .args(["serve", "--db", db_s, "--addr", &addr])
            .env("RELEVE_NIGHTLY_RETENTION", "off")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .spawn()
            .expect("serve");
        let up = (0..100).any(|_| {
            std::thread::sleep(Duration::from_millis(100));
            TcpStream::connect(&addr).is_ok()
        });
        assert!(up, "server listens");
        Server { _dir: dir, db, addr, child }
    }

    /// The server's peak resident memory so far (VmHWM), bytes.
    fn peak_memory(&self) -> u64 {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id())).expect("status");
        let line = status.lines().find(|l| l.starts_with("VmHWM:")).expect("VmHWM");
        line.split_whitespace().nth(1).and_then(|k| k.parse::<u64>().ok()).expect("kB") * 1024
    }

    fn post(&self, path: &str, token: Option<&str>, body: &str) -> (u16, Value) {
        send(&self.addr, path, token, body.len() as u64, &mut body.as_bytes())
    }

    fn call(&self, token: &str, command: &str, args: Value) -> (u16, Value) {
        self.post(&format!("/api/{command}"), Some(token), &args.to_string())
    }

    fn login(&self, login: &str) -> String {
        let (status, s) = self.post("/api/login", None, &json!({"login": login, "password": login}).to_string());
        assert_eq!(status, 200, "{s}");
        s["token"].as_str().expect("token").to_string()
    }

    fn store(&self) -> Store {
        Store::open_read_only(&self.db).expect("open")
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// One HTTP/1.1 POST whose body (`length` bytes) is read from `body` and written while the
/// answer is awaited: (status, JSON body). The answer may come before the body is sent.
fn send(addr: &str, path: &str, token: Option<&str>, length: u64, body: &mut (dyn Read + Send)) -> (u16, Value) {
    let mut s = TcpStream::connect(addr).expect("connect");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(s, "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {length}\r\nConnection: close\r\n\r\n")
        .expect("send head");
    let mut writer = s.try_clone().expect("clone");
    std::thread::scope(|scope| {
        scope.spawn(move || {
            let _ = std::io::copy(body, &mut writer);
        });
        let answer = read_answer(&mut s);
        let _ = s.shutdown(std::net::Shutdown::Both);
        answer
    })
}

/// Read a response until its whole body (Content-Length) is in: (status, JSON).
fn read_answer(s: &mut TcpStream) -> (u16, Value) {
    let mut got = Vec::new();
    let mut buf = [0u8; 65536];
    loop {
        let n = s.read(&mut buf).unwrap_or(0);
        got.extend_from_slice(&buf[..n]);
        let text = String::from_utf8_lossy(&got).to_string();
        if let Some(split) = text.find("\r\n\r\n") {
            let head = &text[..split];
            let length = head
                .lines()
                .find_map(|l| l.to_ascii_lowercase().strip_prefix("content-length:").map(|v| v.trim().parse::<usize>().unwrap_or(0)));
            let body = &text[split + 4..];
            if n == 0 || length.is_some_and(|len| body.len() >= len) {
                let status = head[9..12].parse().expect("status");
                return (status, serde_json::from_str(body).unwrap_or(Value::Null));
            }
        }
        assert!(n > 0, "connection closed without an answer: {text:?}");
    }
}

/// `n` bytes of `byte`, generated (never held in memory).
fn filler(byte: u8, n: u64) -> impl Read + Send {
    std::io::repeat(byte).take(n)
}

#[test]
fn a_huge_login_is_refused_before_any_work_and_never_reaches_the_audit_log() {
    let server = Server::start();
    let before = server.peak_memory();
    let size = 300 * MB;
    let head = br#"{"login":""#;
    let tail = br#"","password":"x"}"#;
    let mut body = head.chain(filler(b'a', size)).chain(&tail[..]);
    let started = Instant::now();
    let (status, e) = send(&server.addr, "/api/login", None, head.len() as u64 + size + tail.len() as u64, &mut body);
    let took = started.elapsed();
    assert_eq!((status, e["error"]["code"].as_str()), (413, Some("too_large")), "{e}");
    assert_eq!(e["error"]["params"]["limit"], 16 * 1024);
    // Under the body limit, a login over 100 characters is refused before the store.
    let (status, e) = server.post("/api/login", None, &json!({"login": "b".repeat(5_000), "password": "x"}).to_string());
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_input")), "{e}");
    assert!(e["error"]["message"].as_str().expect("message").starts_with("login:"), "{e}");
    let (status, e) = server.post("/api/login", None, &json!({"login": "clerk", "password": "p".repeat(2_000)}).to_string());
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_input")), "{e}");
    let (status, _) = server.post("/api/login", None, &json!({"login": "c".repeat(100), "password": "x"}).to_string());
    assert_eq!(status, 401, "a 100-character login is tried");
    let grown = server.peak_memory().saturating_sub(before);
    eprintln!("300 MiB login: answered in {took:?}; server peak memory +{} KiB", grown / 1024);
    assert!(grown < 100 * MB, "peak memory grew by {grown} bytes");
    let conn = server.store();
    let conn = conn.reader().expect("reader");
    let widest: i64 = conn
        .query_row("SELECT max(length(user) + length(details) + length(computer)) FROM audit_log", (), |r| r.get(0))
        .expect("audit");
    assert!(widest < 4096, "widest audit row {widest} characters");
}

#[test]
fn bodies_are_bounded_and_a_strangers_body_is_never_read() {
    let server = Server::start();
    let before = server.peak_memory();
    for path in ["/api/meters_list", "/api/upload?name=big.txt", "/api/import_start"] {
        let started = Instant::now();
        let (status, e) = send(&server.addr, path, None, 1 << 30, &mut filler(b' ', 1 << 30));
        let took = started.elapsed();
        assert_eq!((status, e["error"]["code"].as_str()), (401, Some("not_logged_in")), "{path}: {e}");
        eprintln!("1 GiB to {path} without a token: 401 in {took:?}");
        assert!(took < Duration::from_secs(2), "{path}: {took:?}");
    }
    let grown = server.peak_memory().saturating_sub(before);
    eprintln!("server peak memory +{} KiB", grown / 1024);
    assert!(grown < 100 * MB, "peak memory grew by {grown} bytes");

    let token = server.login("clerk");
    // 2 MiB of JSON to a plain command: refused, whether its length is declared or not.
    let big = json!({"search": "x".repeat(2 * MB as usize)}).to_string();
    let (status, e) = server.post("/api/meters_list", Some(&token), &big);
    assert_eq!((status, e["error"]["code"].as_str()), (413, Some("too_large")), "{e}");
    assert_eq!(e["error"]["params"]["limit"], MB);
    let mut s = TcpStream::connect(&server.addr).expect("connect");
    write!(s, "POST /api/meters_list HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {token}\r\nTransfer-Encoding: chunked\r\nConnection: close\r\n\r\n").expect("head");
    for _ in 0..3 {
        let chunk = " ".repeat(MB as usize);
        if write!(s, "{:x}\r\n{chunk}\r\n", chunk.len()).is_err() {
            break;
        }
    }
    let _ = s.write_all(b"0\r\n\r\n");
    let (status, e) = read_answer(&mut s);
    assert_eq!((status, e["error"]["code"].as_str()), (413, Some("too_large")), "chunked: {e}");
    // Under the bound, the same command answers.
    let (status, page) = server.call(&token, "meters_list", json!({"search": "x".repeat(1000)}));
    assert_eq!((status, page["total"].as_i64()), (200, Some(0)), "{page}");
}

/// A drive-by file: one plaintext telegram of an unknown meter and a garbage line.
fn drive_by_file() -> String {
    let body = format!("442d2c785634121b077a010000000413{}", hex::encode(4242u32.to_le_bytes()));
    format!("{:02x}{body}\nnot a telegram\n", body.len() / 2)
}

fn wait_for_task(server: &Server, token: &str, task: &str) -> Value {
    for _ in 0..200 {
        let (status, t) = server.call(token, "import_status", json!({"task": task}));
        assert_eq!(status, 200, "{t}");
        if t["state"] != "running" {
            return t;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    panic!("task {task} still running");
}

#[test]
fn a_file_uploaded_then_imported_by_its_user_only() {
    let server = Server::start();
    let manager = server.login("manager");
    let superuser = server.login("superuser");
    let clerk = server.login("clerk");
    let file = drive_by_file();
    let (status, up) = server.post("/api/upload?name=drive%20by.txt", Some(&manager), &file);
    assert_eq!(status, 200, "{up}");
    assert_eq!(up["bytes"], file.len());
    let id = up["upload"].as_str().expect("id").to_string();
    assert!(id.len() == 32 && id.bytes().all(|b| b.is_ascii_hexdigit()), "{id}");
    let spool = server.db.parent().expect("dir").join("spool");
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = std::fs::metadata(&spool).expect("spool").permissions().mode() & 0o777;
        assert_eq!(mode, 0o700, "spool {mode:o}");
    }
    assert_eq!(std::fs::read_dir(&spool).expect("spool").count(), 1);
    // A clerk may not upload; another user cannot use the manager's upload.
    let (status, e) = server.post("/api/upload?name=a.txt", Some(&clerk), "00");
    assert_eq!((status, e["error"]["code"].as_str()), (403, Some("forbidden")), "{e}");
    let (status, e) = server.call(&superuser, "import_start", json!({"files": [{"name": "x", "upload": id}]}));
    assert_eq!((status, e["error"]["code"].as_str()), (404, Some("not_found")), "{e}");

    let (status, started) = server.call(&manager, "import_start", json!({"files": [{"name": "drive by.txt", "upload": id}]}));
    assert_eq!(status, 200, "{started}");
    let task = started["task"].as_str().expect("task").to_string();
    let done = wait_for_task(&server, &manager, &task);
    assert_eq!(done["state"], "done", "{done}");
    assert_eq!((done["total_lines"].as_u64(), done["processed_lines"].as_u64()), (Some(2), Some(2)), "{done}");
    let report = &done["report"];
    assert_eq!((report["stored"].as_u64(), report["rejected_count"].as_u64()), (Some(1), Some(1)), "{report}");
    assert_eq!(report["files"][0]["name"], "drive by.txt");
    assert_eq!(std::fs::read_dir(&spool).expect("spool").count(), 0, "the spool file is deleted");
    // An upload is used once.
    let (status, e) = server.call(&manager, "import_start", json!({"files": [{"name": "x", "upload": id}]}));
    assert_eq!((status, e["error"]["code"].as_str()), (404, Some("not_found")), "{e}");
}

#[test]
fn an_import_task_is_unguessable_and_its_owners_only() {
    let server = Server::start();
    let manager = server.login("manager");
    let superuser = server.login("superuser");
    let (status, started) = server.call(&manager, "import_start", json!({"files": [{"name": "d.txt", "content": drive_by_file()}]}));
    assert_eq!(status, 200, "{started}");
    let task = started["task"].as_str().expect("task").to_string();
    let hex = task.strip_prefix("import-").expect("prefix");
    assert!(hex.len() == 32 && hex.bytes().all(|b| b.is_ascii_hexdigit()), "{task}");
    let done = wait_for_task(&server, &manager, &task);
    assert_eq!(done["report"]["rejected_count"], 1, "{done}");
    for other in [task.as_str(), "import-1", "import-2"] {
        let (status, e) = server.call(&superuser, "import_status", json!({"task": other}));
        assert_eq!((status, e["error"]["code"].as_str()), (404, Some("not_found")), "{other}: {e}");
    }
}

#[test]
fn decoder_errors_are_the_clients() {
    let server = Server::start();
    let token = server.login("clerk");
    for (hex, code) in [("12zz", "bad_input"), ("1e442d2c78", "too_short"), ("", "too_short")] {
        for explain in [false, true] {
            let (status, e) = server.call(&token, "decode", json!({"hex": hex, "explain": explain}));
            let got = e["error"]["code"].as_str().expect("code");
            assert!((400..500).contains(&status), "{hex} explain={explain}: {status} {e}");
            if !(explain && code == "too_short") {
                assert_eq!(got, code, "{hex}: {e}");
            }
        }
    }
    let (status, e) = server.call(&token, "decode", json!({"hex": "00", "key": "zz"}));
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_key")), "{e}");
}

#[test]
fn a_search_for_a_wildcard_finds_only_that_character() {
    let server = Server::start();
    let token = server.login("clerk");
    let (_, all) = server.call(&token, "meters_list", json!({"limit": 1000}));
    let rows = all["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 20);
    for wildcard in ["%", "_", "\\", "%%", "a%"] {
        let holding = rows.iter().filter(|r| r.to_string().contains(wildcard)).count() as i64;
        let (status, found) = server.call(&token, "meters_list", json!({"search": wildcard}));
        assert_eq!(status, 200, "{found}");
        assert!(found["total"].as_i64().expect("total") <= holding, "'{wildcard}': {} of 20, {holding} hold it", found["total"]);
    }
    let (status, e) = server.call(&token, "meters_list", json!({"search": "a\u{0}b"}));
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_input")), "{e}");
    // A plain search still finds.
    let serial = rows[0]["serial"].as_str().expect("serial");
    let (_, found) = server.call(&token, "meters_list", json!({"search": &serial[2..6]}));
    assert!(found["total"].as_i64().expect("total") >= 1, "{found}");
}

#[test]
fn the_request_log_names_status_and_user_and_holds_no_secret() {
    let server = Server::start();
    let (status, _) = server.post("/api/login", None, &json!({"login": "clerk", "password": "S3cret-passw0rd"}).to_string());
    assert_eq!(status, 401);
    let token = server.login("clerk");
    let (status, _) = server.call(&token, "meters_list", json!({"limit": 2}));
    assert_eq!(status, 200);
    let (status, _) = server.post("/api/meters_list", None, "{}");
    assert_eq!(status, 401);
    let (status, _) = server.call(&token, "no_such_command", json!({}));
    assert_eq!(status, 404);
    let log_path = server.db.with_file_name("park.db.log");
    let log = (0..50)
        .map(|_| {
            std::thread::sleep(Duration::from_millis(20));
            std::fs::read_to_string(&log_path).unwrap_or_default()
        })
        .find(|l| l.lines().count() >= 5)
        .unwrap_or_else(|| panic!("no log at {}", log_path.display()));
    let lines: Vec<&str> = log.lines().collect();
    let has = |needle: &[&str]| lines.iter().any(|l| needle.iter().all(|n| l.contains(n)));
    assert!(has(&["POST /api/login 401 ", "ms -"]), "{log}");
    assert!(has(&["POST /api/login 200 ", "ms clerk"]), "{log}");
    assert!(has(&["POST /api/meters_list 200 ", "ms clerk"]), "{log}");
    assert!(has(&["POST /api/meters_list 401 ", "ms -"]), "{log}");
    assert!(has(&["POST /api/no_such_command 404 ", "clerk"]), "{log}");
    assert!(!log.contains("S3cret") && !log.contains(&token), "{log}");
}

#[test]
fn a_new_database_is_its_owners_only() {
    use std::os::unix::fs::PermissionsExt;
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("new.db");
    let o = Command::new(BIN).args(["demo", "--db", db.to_str().expect("utf8"), "--meters", "3", "--now", "2026-11-20"]).output().expect("demo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let store = Store::open(&db).expect("open");
    let files = [db.clone(), dir.path().join("new.db-wal"), dir.path().join("new.db-shm")];
    for f in files.iter().filter(|f| f.exists()) {
        let mode = std::fs::metadata(f).expect("meta").permissions().mode() & 0o777;
        assert_eq!(mode, 0o600, "{}: {mode:o}", f.display());
    }
    drop(store);
    assert!(Path::new(&db).exists());
}

#[test]
fn hostile_numbers_are_refused_by_every_command_that_takes_one() {
    let server = Server::start();
    let token = server.login("manager");
    let max = json!(i64::MAX);
    let big = json!(1e308);
    let ids = || vec![json!(-1), json!(0), max.clone(), big.clone(), json!(1i64 << 60)];
    let counts = || vec![json!(-1), json!(0), max.clone(), big.clone(), json!(10_000_000)];
    let offsets = || vec![json!(-1), max.clone(), big.clone()];
    let amounts = || vec![big.clone(), json!(-1e308), max.clone()];
    let day = |d: &str| json!(d);
    let period = json!({"from": "2026-01-01", "to": "2026-01-31"});
    let with = |base: &Value, more: Value| {
        let mut v = base.clone();
        v.as_object_mut().expect("object").extend(more.as_object().expect("object").clone());
        v
    };
    let hist = with(&period, json!({"id": 1, "resolution": "day"}));
    let cases: Vec<(&str, Value, &str, Vec<Value>)> = vec![
        ("meters_list", json!({}), "group_id", ids()),
        ("meters_list", json!({}), "offset", offsets()),
        ("meters_list", json!({}), "limit", counts()),
        ("meter_get", json!({}), "id", ids()),
        ("group_rename", json!({"name": "g"}), "id", ids()),
        ("group_delete", json!({}), "id", ids()),
        ("group_add_meters", json!({"meter_ids": [1]}), "id", ids()),
        ("group_remove_meters", json!({"id": 1}), "meter_ids", ids().into_iter().map(|v| json!([v])).collect()),
        ("group_create", json!({"name": "g"}), "meter_ids", ids().into_iter().map(|v| json!([v])).collect()),
        ("info_codes_overview", json!({}), "period_days", vec![json!(-1), json!(0), max.clone(), big.clone(), json!(1i64 << 40), json!(40_000)]),
        ("info_codes_overview", json!({}), "group_id", ids()),
        ("info_codes_overview", json!({}), "offset", offsets()),
        ("info_codes_overview", json!({}), "limit", counts()),
        ("info_codes_export", json!({}), "period_days", vec![json!(-5), max.clone(), json!(1i64 << 40)]),
        ("map_points", json!({}), "group_id", ids()),
        ("map_set_settings", json!({"tile_url": "https://t.example/{z}/{x}/{y}.png"}), "stale_days", counts()),
        ("meter_exchange", json!({"new_serial": "1", "at": "2026-01-01T00:00", "final_value": 1, "initial_value": 0}), "old_id", ids()),
        ("meter_exchange", json!({"old_id": 1, "new_serial": "1", "at": "2026-01-01T00:00", "initial_value": 0}), "final_value", amounts()),
        ("meter_exchange", json!({"old_id": 1, "new_serial": "1", "at": "2026-01-01T00:00", "final_value": 1}), "initial_value", amounts()),
        ("meters_compare", with(&period, json!({"resolution": "day"})), "ids", ids().into_iter().map(|v| json!([v])).collect()),
        ("meters_compare", with(&period, json!({"ids": [1], "resolution": "day"})), "sum_of_group", ids()),
        ("meter_histogram", json!({"id": 1, "resolution": "day", "to": "2026-01-31"}), "from", vec![day("0001-01-01"), day("1000-06-30"), day("-200000-01-01")]),
        ("meter_histogram", json!({"id": 1, "resolution": "day", "from": "2026-01-01"}), "to", vec![day("9999-12-31"), day("+200000-01-01")]),
        ("meter_histogram", hist.clone(), "id", ids()),
        ("export_readings", period.clone(), "group_id", ids()),
        ("export_readings", json!({"to": "2026-01-31"}), "from", vec![day("0001-01-01")]),
        ("report_consumption", period.clone(), "group_id", ids()),
        ("report_consumption", period.clone(), "above", amounts()),
        ("report_consumption", period.clone(), "below", amounts()),
        ("report_consumption", period.clone(), "offset", offsets()),
        ("report_consumption", period.clone(), "limit", counts()),
        ("report_consumption_export", period.clone(), "above", amounts()),
        ("report_performance", with(&period, json!({"expected_per_day": 1})), "offset", offsets()),
        ("report_performance", with(&period, json!({"expected_per_day": 1})), "limit", counts()),
        ("report_performance", period.clone(), "expected_per_day", vec![json!(-1), max.clone(), big.clone()]),
        ("report_performance_export", period.clone(), "expected_per_day", vec![json!(-1), big.clone()]),
        ("report_performance_comment", json!({"comment": ""}), "id", ids()),
        ("notify_rule_delete", json!({}), "id", ids()),
        ("gateway_set", json!({}), "id", ids()),
        ("gateway_set", json!({"id": 1}), "silent_hours", vec![json!(-1), json!(8761), big.clone()]),
        ("meter_receptions", json!({}), "id", ids()),
        ("silence_settings_set", json!({"meter_hours": {}}), "gateway_hours", vec![json!(-1), json!(8761), big.clone()]),
        ("notify_log", json!({}), "limit", counts()),
        ("export_job_delete", json!({}), "id", ids()),
        ("export_job_run_now", json!({}), "id", ids()),
        ("export_runs_list", json!({}), "job_id", ids()),
        ("export_runs_list", json!({}), "limit", counts()),
        ("export_layout_preview", with(&period, json!({"name": "x"})), "limit", vec![json!(-1), json!(0), max.clone(), big.clone(), json!(5000)]),
        ("consumer_report", period.clone(), "meter_id", ids()),
        ("park_profile_save", json!({"name": "p", "separator": ";", "mapping": {"serial": 0}, "folder": "/tmp"}), "interval_minutes", counts()),
        ("park_profile_save", json!({"name": "p", "separator": ";"}), "mapping", vec![json!({"serial": -1}), json!({"serial": 1e308}), json!({"serial": 5000})]),
    ];
    let mut refused = 0;
    for (command, base, field, values) in &cases {
        for value in values {
            let args = with(base, json!({ *field: value }));
            let (status, e) = server.call(&token, command, args.clone());
            assert_eq!(status, 400, "{command} {args}: {e}");
            let code = e["error"]["code"].as_str().expect("code");
            let message = e["error"]["message"].as_str().expect("message");
            match code {
                "bad_input" => assert!(message.contains(field), "{command} {args}: {message}"),
                "bad_request" => assert!(message.starts_with("invalid arguments"), "{command} {args}: {message}"),
                other => panic!("{command} {args}: code {other}"),
            }
            refused += 1;
        }
    }
    eprintln!("{refused} hostile values refused by {} commands", cases.iter().map(|c| c.0).collect::<std::collections::BTreeSet<_>>().len());
    // The bounds let ordinary values through.
    let (status, page) = server.call(&token, "info_codes_overview", json!({"period_days": 3650, "limit": 5}));
    assert_eq!(status, 200, "{page}");
    let (status, page) = server.call(&token, "meters_list", json!({"offset": 0, "limit": 100000}));
    assert_eq!((status, page["total"].as_i64()), (200, Some(20)), "{page}");
}
