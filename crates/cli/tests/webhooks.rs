//! Webhooks as a utility runs them: `releve serve` is open (its webhooks thread), a drive-by
//! file is imported by ANOTHER process (`releve import`), and a REAL receiver on loopback gets
//! one signed `readings.batch` whose feed range `(after, until]` holds exactly the readings
//! that import stored; the receiver checks the signature with its own HMAC, then pulls that
//! range from the open API's readings feed (`GET /api/v1/readings/feed`) with an API key.

#[path = "support/releve.rs"]
mod releve;

use hmac::{Hmac, Mac};
use releve::{demo_db, drive_by, run_ok as releve, serve};
use releve_api::Ctx;
use serde_json::{json, Value};
use sha2::Sha256;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

/// (headers in lower case, body) of each POST received; answers 200.
type Seen = Arc<Mutex<Vec<(String, Vec<u8>)>>>;

fn receiver() -> (String, Seen) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://127.0.0.1:{}/in", listener.local_addr().expect("addr").port());
    let seen: Seen = Arc::default();
    let log = seen.clone();
    std::thread::spawn(move || {
        for mut s in listener.incoming().flatten() {
            let mut buf = Vec::new();
            let mut chunk = [0u8; 8192];
            let mut request = None;
            while request.is_none() {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
                if let Some(end) = buf.windows(4).position(|w| w == b"\r\n\r\n").map(|i| i + 4) {
                    let head = String::from_utf8_lossy(&buf[..end]).to_ascii_lowercase();
                    let length: usize = head.lines().find_map(|l| l.strip_prefix("content-length:")).and_then(|v| v.trim().parse().ok()).unwrap_or(0);
                    if buf.len() >= end + length {
                        request = Some((head, buf[end..end + length].to_vec()));
                    }
                }
            }
            if let Some(r) = request {
                log.lock().expect("log").push(r);
                let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            }
        }
    });
    (url, seen)
}

fn header<'a>(head: &'a str, name: &str) -> &'a str {
    head.lines().find_map(|l| l.strip_prefix(&format!("{name}:"))).map(str::trim).unwrap_or("")
}

fn signed(secret: &str, head: &str, body: &[u8]) -> bool {
    let sig = header(head, "releve-signature");
    let Some((t, v1)) = sig.split_once(",v1=") else { return false };
    let t = t.trim_start_matches("t=");
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes()) == v1
}

fn int(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db).expect("open").query_row(sql, [], |r| r.get(0)).expect(sql)
}

#[test]
fn an_import_by_another_process_reaches_the_receiver_as_one_signed_readings_batch() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");
    let (url, seen) = receiver();
    let secret = {
        let ctx = Ctx::open(&db).expect("open");
        let login = ctx.call(None, "login", json!({"login": "manager", "password": "manager"})).expect("login");
        let token = login["token"].as_str().expect("token");
        let added = ctx.call(Some(token), "webhook_add", json!({"name": "billing", "url": url, "events": ["readings.batch"]})).expect("add");
        added["secret"].as_str().expect("secret").to_string()
    };
    let _server = serve(db_s);
    // The open app's webhooks thread starts its cursors at the present (the demo's readings are the past).
    let deadline = Instant::now() + Duration::from_secs(30);
    while int(&db, "SELECT count(*) FROM webhook_cursors WHERE source = 'reading_feed'") == 0 {
        assert!(Instant::now() < deadline, "the webhooks thread did not start");
        std::thread::sleep(Duration::from_millis(100));
    }
    let before = int(&db, "SELECT coalesce(max(seq), 0) FROM reading_feed");
    let file = dir.path().join("tour.txt");
    std::fs::write(&file, drive_by(88_000_001, 5, 60)).expect("file");
    let out = releve(&["import", "--db", db_s, file.to_str().expect("utf8")]);
    let stored = int(&db, &format!("SELECT count(*) FROM reading_feed WHERE seq > {before}"));
    assert_eq!(stored, 60, "{out}");

    let deadline = Instant::now() + Duration::from_secs(30);
    while seen.lock().expect("seen").is_empty() {
        assert!(Instant::now() < deadline, "no webhook within 30 s");
        std::thread::sleep(Duration::from_millis(100));
    }
    std::thread::sleep(Duration::from_secs(3)); // nothing more comes
    let got = seen.lock().expect("seen").clone();
    assert_eq!(got.len(), 1, "one batch for one import");
    let (head, body) = &got[0];
    assert!(signed(&secret, head, body), "signature: {head}");
    assert_eq!(header(head, "releve-event"), "readings.batch");
    let event: Value = serde_json::from_slice(body).expect("JSON");
    let data = &event["data"];
    assert_eq!(data["after"].as_i64(), Some(before));
    let until = data["until"].as_i64().expect("until");
    assert_eq!(until, int(&db, "SELECT max(seq) FROM reading_feed"));
    assert_eq!(data["readings"], 60);
    assert_eq!(data["meters"], 5);
    let serials: Vec<&str> = data["meter_list"].as_array().expect("list").iter().map(|m| m["serial"].as_str().expect("serial")).collect();
    assert_eq!(serials, ["88000001", "88000002", "88000003", "88000004", "88000005"]);
    let outside = int(&db, &format!(
        "SELECT count(*) FROM reading_feed f JOIN meters m ON m.id = f.meter_id WHERE f.seq > {before} AND f.seq <= {until} AND m.serial NOT LIKE '8800000_'"));
    assert_eq!(outside, 0, "the range holds the import's readings only");
    let log = int(&db, "SELECT count(*) FROM webhook_deliveries WHERE status = 'delivered' AND http_status = 200");
    assert_eq!(log, 1);

    // The billing system pulls what the event names: exactly the import's 60 readings.
    let key = {
        let store = releve_core::Store::open(&db).expect("store");
        let system = releve_core::access::Session::system("test");
        let new = releve_core::access::api_keys::NewKey { name: "billing".into(), scopes: vec!["readings:read".into()], ..Default::default() };
        let permit = system.permit(releve_core::access::Permission::ManageUsers).expect("permit");
        releve_core::access::api_keys::create(&store, permit, &new, chrono::Utc::now().timestamp()).expect("key").secret
    };
    let mut pulled: Vec<Value> = Vec::new();
    let mut path = format!("{}&limit=25", data["feed"].as_str().expect("feed"));
    loop {
        let url = format!("http://127.0.0.1:{}{path}", _server.port);
        let o = std::process::Command::new("curl").args(["-s", "-H", &format!("Authorization: Bearer {key}"), &url]).output().expect("curl");
        let page: Value = serde_json::from_slice(&o.stdout).unwrap_or_else(|_| panic!("{url}: {}", String::from_utf8_lossy(&o.stdout)));
        let items = page["items"].as_array().unwrap_or_else(|| panic!("{url}: {page}"));
        pulled.extend(items.iter().filter(|r| r["cursor"].as_i64().is_some_and(|q| q <= until)).cloned());
        let next = page["next"].as_i64().expect("next");
        if next >= until || !page["more"].as_bool().unwrap_or(false) {
            break;
        }
        path = format!("/api/v1/readings/feed?after={next}&limit=25");
    }
    assert_eq!(pulled.len(), 60, "the event's range is the import's readings");
    assert!(pulled.iter().all(|r| r["cursor"].as_i64().is_some_and(|q| q > before && q <= until)));
    let mut serials: Vec<&str> = pulled.iter().filter_map(|r| r["serial"].as_str()).collect();
    serials.dedup();
    assert_eq!(serials, ["88000001", "88000002", "88000003", "88000004", "88000005"]);
}
