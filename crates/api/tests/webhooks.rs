//! Webhooks through `Ctx::call` and the webhooks' thread's round (`jobs::webhooks_once`)
//! against a REAL HTTP receiver on loopback (a `TcpListener` thread) that checks the headers
//! and the signature with its own HMAC: a failed delivery retried until it lands, once; a
//! receiver that is down tried on the backoff's times and then `failed`; `export.done` after
//! a real scheduled export run; a tampered body refused by the receiver's check.

use hmac::{Hmac, Mac};
use releve_api::{Clock, Ctx};
use releve_core::access::{self, Permission, Role, Session};
use releve_core::store;
use serde_json::{json, Value};
use sha2::Sha256;
use std::collections::HashMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::{Arc, Mutex};

/// 2026-01-01 10:00 in Paris.
const NOW: i64 = 1_767_258_000;

struct Fixture {
    dir: tempfile::TempDir,
    ctx: Ctx,
    clock: Arc<AtomicI64>,
    boss: String,
}

fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(AtomicI64::new(NOW));
    let c = clock.clone();
    let shared: Clock = Arc::new(move || c.load(Ordering::SeqCst));
    let ctx = Ctx::open_with_clock(&dir.path().join("t.db"), shared).expect("open");
    store::settings::set(&ctx.store().writer(), "password_cost", "fast").expect("test cost");
    let system = Session::system("test");
    for (login, role) in [("boss", Role::Manager), ("clerk", Role::User)] {
        let u = store::users::NewUser { salt: None, login, name: login, role, password: "pw", locale: "fr" };
        access::create_user(ctx.store(), system.permit(Permission::ManageUsers).expect("system"), &u, NOW).expect("user");
    }
    let login = ctx.call(None, "login", json!({"login": "boss", "password": "pw"})).expect("login");
    let boss = login["token"].as_str().expect("token").to_string();
    Fixture { dir, ctx, clock, boss }
}

impl Fixture {
    /// A command as the manager, logged in again when the clock moved past the idle time.
    fn call(&self, name: &str, args: Value) -> Value {
        let login = || self.ctx.call(None, "login", json!({"login": "boss", "password": "pw"})).expect("login")["token"].as_str().expect("token").to_string();
        let token = login();
        self.ctx.call(Some(&token), name, args).unwrap_or_else(|e| panic!("{name}: {e:?}"))
    }

    fn now(&self) -> i64 {
        self.clock.load(Ordering::SeqCst)
    }

    fn set(&self, t: i64) {
        self.clock.store(t, Ordering::SeqCst);
    }

    /// One round of the webhooks' thread at the clock's time (the log's purge included).
    fn round(&self) -> releve_core::webhooks::Report {
        let mut purged = 0;
        releve_api::jobs::webhooks_once(self.ctx.store(), self.now(), &mut purged).expect("round")
    }

    fn add(&self, name: &str, url: &str, events: &[&str]) -> (i64, String) {
        let added = self.call("webhook_add", json!({"name": name, "url": url, "events": events}));
        (added["id"].as_i64().expect("id"), added["secret"].as_str().expect("secret").to_string())
    }

    fn log(&self) -> Vec<Value> {
        self.call("webhook_deliveries", json!({}))["rows"].as_array().expect("rows").clone()
    }
}

/// A request as the receiver saw it.
#[derive(Debug, Clone)]
struct Seen {
    line: String,
    headers: HashMap<String, String>,
    body: Vec<u8>,
}

/// A receiver on loopback answering the statuses of `script` in turn (then 200).
fn receiver(script: &[u16]) -> (String, Arc<Mutex<Vec<Seen>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let url = format!("http://127.0.0.1:{}/hooks/releve", listener.local_addr().expect("addr").port());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let mut script: Vec<u16> = script.iter().rev().copied().collect();
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let Some(req) = read_request(&mut s) else { continue };
            log.lock().expect("log").push(req);
            let status = script.pop().unwrap_or(200);
            let body = if status == 200 { "thanks" } else { "receiver exploded" };
            let answer = format!("HTTP/1.1 {status} X\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}", body.len());
            let _ = s.write_all(answer.as_bytes());
        }
    });
    (url, seen)
}

fn read_request(s: &mut std::net::TcpStream) -> Option<Seen> {
    let mut buf = Vec::new();
    let mut chunk = [0u8; 4096];
    let head_end = loop {
        if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break i + 4;
        }
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    };
    let head = String::from_utf8_lossy(&buf[..head_end]).to_string();
    let mut lines = head.lines();
    let line = lines.next()?.to_string();
    let headers: HashMap<String, String> = lines
        .filter_map(|l| l.split_once(':'))
        .map(|(k, v)| (k.trim().to_ascii_lowercase(), v.trim().to_string()))
        .collect();
    let length: usize = headers.get("content-length")?.parse().ok()?;
    while buf.len() < head_end + length {
        match s.read(&mut chunk) {
            Ok(0) | Err(_) => return None,
            Ok(n) => buf.extend_from_slice(&chunk[..n]),
        }
    }
    Some(Seen { line, headers, body: buf[head_end..head_end + length].to_vec() })
}

/// The receiver's own check of `Releve-Signature: t=<unix>,v1=<hex>`: HMAC-SHA256 of
/// "<t>.<body>" under the secret.
fn signature_ok(secret: &str, header: &str, body: &[u8]) -> bool {
    let mut t = None;
    let mut v1 = None;
    for part in header.split(',') {
        match part.split_once('=') {
            Some(("t", v)) => t = Some(v.to_string()),
            Some(("v1", v)) => v1 = Some(v.to_string()),
            _ => {}
        }
    }
    let (Some(t), Some(v1)) = (t, v1) else { return false };
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("key");
    mac.update(format!("{t}.").as_bytes());
    mac.update(body);
    hex::encode(mac.finalize().into_bytes()) == v1
}

/// Check a request's headers and signature; its body as JSON.
fn checked(req: &Seen, secret: &str, event: &str) -> Value {
    assert_eq!(req.line, "POST /hooks/releve HTTP/1.1");
    assert_eq!(req.headers["content-type"], "application/json");
    assert_eq!(req.headers["releve-event"], event);
    assert!(req.headers["user-agent"].starts_with("Relevé/"), "{:?}", req.headers);
    assert!(req.headers["releve-delivery"].parse::<i64>().is_ok(), "{:?}", req.headers);
    assert!(signature_ok(secret, &req.headers["releve-signature"], &req.body), "signature of {:?}", req.headers);
    let body: Value = serde_json::from_slice(&req.body).expect("JSON");
    assert_eq!(body["type"], event);
    assert!(body["created_at"].as_str().expect("created_at").ends_with("+01:00"), "ISO 8601 with the offset: {body}");
    body
}

/// A saved layout and a daily job at 06:30 to a folder allowed; the slot of the next day.
fn daily_export(f: &Fixture) -> i64 {
    let out = f.dir.path().join("out");
    std::fs::create_dir_all(&out).expect("out");
    f.call("folders_allowed_set", json!({"folders": [out.to_string_lossy()]}));
    let layout = json!({"layout": {"name": "Liste", "format": "csv",
        "fields": [{"var": "meter_serial"}, {"var": "value_end"}], "trailer": [{"var": "record_count"}]}});
    f.call("export_layout_save", layout);
    let job = json!({"name": "quotidien", "layout": "Liste", "every": "daily", "hour": 6, "minute": 30,
        "period": "previous_day", "destination": "folder", "folder": out.to_string_lossy()});
    f.call("export_job_save", job);
    1_767_331_800 // 2026-01-02 06:30 in Paris
}

#[test]
fn export_done_is_retried_after_a_500_and_lands_once() {
    let f = fixture();
    let (url, seen) = receiver(&[500]);
    let (id, secret) = f.add("billing", &url, &["export.done"]);
    assert!(secret.len() >= 40, "{secret}");
    let listed = f.call("webhooks_list", json!({}));
    assert!(!listed.to_string().contains(&secret), "the secret is shown once: {listed}");
    assert_eq!(listed["endpoints"][0]["events"], json!(["export.done"]));
    f.round(); // the thread was running before the run

    let slot = daily_export(&f);
    f.set(slot + 60);
    let c = f.clock.clone();
    let clock: Clock = Arc::new(move || c.load(Ordering::SeqCst));
    releve_api::jobs::tick(f.ctx.store(), &clock, "test").expect("tick runs the export");
    let report = f.round();
    assert_eq!((report.delivered, report.retried, report.failed), (0, 1, 0), "{report:?}");
    let log = f.log();
    assert_eq!(log.len(), 1, "{log:?}");
    let d = &log[0];
    assert_eq!((d["event"].as_str(), d["status"].as_str(), d["attempts"].as_i64()), (Some("export.done"), Some("pending"), Some(1)));
    assert_eq!(d["http_status"], 500);
    assert_eq!(d["response"], "receiver exploded");
    assert_eq!(d["next_try"].as_i64(), Some(slot + 60 + 30), "the first wait is 30 s");

    f.set(slot + 60 + 29);
    assert_eq!(f.round(), Default::default(), "not due yet");
    f.set(slot + 60 + 30);
    assert_eq!(f.round().delivered, 1);
    f.set(slot + 3600);
    assert_eq!(f.round(), Default::default(), "delivered: never sent again");
    // Later rounds make no new export.done of the same run.
    f.set(slot + 7200);
    f.round();

    let requests = seen.lock().expect("seen").clone();
    assert_eq!(requests.len(), 2, "one failed attempt, one delivery");
    let first = checked(&requests[0], &secret, "export.done");
    let second = checked(&requests[1], &secret, "export.done");
    assert_eq!(first, second, "the same body at every attempt");
    assert_eq!(requests[0].headers["releve-delivery"], requests[1].headers["releve-delivery"]);
    let data = &second["data"];
    assert_eq!((data["job"].as_str(), data["layout"].as_str(), data["status"].as_str()), (Some("quotidien"), Some("Liste"), Some("ok")));
    let file = data["file"].as_str().expect("file");
    assert!(file.ends_with(".csv") && !file.contains('/'), "the file's name only: {file}");
    assert_eq!(data["period_from"], "2026-01-01");
    let log = f.log();
    assert_eq!((log[0]["status"].as_str(), log[0]["attempts"].as_i64(), log[0]["http_status"].as_i64()), (Some("delivered"), Some(2), Some(200)));
    assert_eq!(log[0]["next_try"], Value::Null);

    // A ping now, through the command.
    let ping = f.call("webhook_test", json!({"id": id}));
    assert_eq!((ping["event"].as_str(), ping["status"].as_str(), ping["http_status"].as_i64()), (Some("ping"), Some("delivered"), Some(200)));
    let requests = seen.lock().expect("seen").clone();
    let body = checked(&requests[2], &secret, "ping");
    assert_eq!(body["data"]["webhook"], "billing");
}

#[test]
fn a_receiver_that_is_down_is_tried_on_the_backoff_then_failed() {
    let f = fixture();
    let port = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    }; // closed: connections are refused
    let (id, _) = f.add("down", &format!("http://127.0.0.1:{port}/x"), &["export.done"]);
    let ping = f.call("webhook_test", json!({"id": id}));
    assert_eq!((ping["status"].as_str(), ping["attempts"].as_i64()), (Some("pending"), Some(1)));
    assert!(ping["error"].as_str().expect("error").contains("connect"), "{ping}");
    assert_eq!(ping["http_status"], Value::Null);
    let mut t = NOW;
    let mut next = ping["next_try"].as_i64().expect("next");
    for (attempt, wait) in [(2, 120), (3, 600), (4, 3600), (5, 21_600)] {
        assert_eq!(next - t, [30, 120, 600, 3600, 21_600][attempt - 2], "the wait before attempt {attempt}");
        f.set(next - 1);
        assert_eq!(f.round(), Default::default(), "not before its time");
        t = next;
        f.set(t);
        assert_eq!(f.round().retried, 1);
        let d = &f.log()[0];
        assert_eq!(d["attempts"].as_i64(), Some(attempt as i64));
        next = d["next_try"].as_i64().expect("next");
        assert_eq!(next, t + wait);
    }
    f.set(next);
    assert_eq!(f.round().failed, 1, "the sixth attempt is the last");
    let d = &f.log()[0];
    assert_eq!((d["status"].as_str(), d["attempts"].as_i64(), d["next_try"].as_i64()), (Some("failed"), Some(6), None));
    f.set(next + 86_400);
    assert_eq!(f.round(), Default::default(), "failed for good");
    assert_eq!(f.call("webhooks_list", json!({}))["endpoints"][0]["failed"], 1);
    // The log keeps what is done for its days, then forgets it.
    f.call("webhook_settings", json!({"log_days": 2}));
    f.round();
    assert_eq!(f.log().len(), 1, "made 1 day 7 hours ago");
    f.set(NOW + 2 * 86_400 + 1);
    f.round();
    assert_eq!(f.log().len(), 0, "past 2 days");
}

#[test]
fn two_workers_at_once_send_a_delivery_once() {
    let f = fixture();
    let (url, seen) = receiver(&[]);
    let (_, _) = f.add("billing", &url, &["export.done"]);
    // Ten events at once, and two processes' workers (here two threads on the store) at them.
    {
        let conn = f.ctx.store().writer();
        for i in 0..10 {
            let reference = format!("bench:{i}");
            let d = store::webhooks::NewDelivery { endpoint_id: 1, event: "export.done", reference: &reference, body: "{}", created_at: NOW };
            store::webhooks::enqueue(&conn, &d).expect("enqueue");
        }
    }
    let client = releve_core::http::client().expect("client");
    let reports: Vec<_> = std::thread::scope(|s| {
        let workers: Vec<_> = (0..2).map(|_| s.spawn(|| releve_core::webhooks::deliver_due(f.ctx.store(), NOW, client).expect("deliver"))).collect();
        workers.into_iter().map(|w| w.join().expect("join")).collect()
    });
    assert_eq!(reports.iter().map(|r| r.delivered).sum::<usize>(), 10, "{reports:?}");
    assert_eq!(seen.lock().expect("seen").len(), 10, "each sent once");
    let ids: std::collections::BTreeSet<String> = seen.lock().expect("seen").iter().map(|r| r.headers["releve-delivery"].clone()).collect();
    assert_eq!(ids.len(), 10);
}

#[test]
fn the_receivers_check_refuses_a_tampered_body() {
    let f = fixture();
    let (url, seen) = receiver(&[]);
    let (id, secret) = f.add("portal", &url, &["readings.batch"]);
    f.call("webhook_test", json!({"id": id}));
    let req = seen.lock().expect("seen")[0].clone();
    let header = &req.headers["releve-signature"];
    assert!(signature_ok(&secret, header, &req.body));
    let mut tampered = req.body.clone();
    let i = tampered.iter().position(|b| *b == b'p').expect("a 'p'");
    tampered[i] = b'q';
    assert!(!signature_ok(&secret, header, &tampered), "one byte changed");
    assert!(!signature_ok("whsec_other", header, &req.body), "another secret");
    assert_eq!(releve_core::webhooks::signature::verify(&secret, header, &tampered), None);
    assert!(releve_core::webhooks::signature::verify(&secret, header, &req.body).is_some());
}

#[test]
fn endpoints_are_checked_listed_paused_and_removed() {
    let f = fixture();
    let bad = |url: &str, events: Value, words: &str| {
        let e = f.ctx.call(Some(&f.boss), "webhook_add", json!({"name": "x", "url": url, "events": events})).expect_err(url);
        assert_eq!(e.code, "bad_input", "{e:?}");
        assert!(e.message.contains(words), "{url}: {e:?}");
    };
    bad("ftp://example.org/x", json!(["export.done"]), "allowed: http, https");
    bad("not a url", json!(["export.done"]), "not a URL");
    bad("", json!(["export.done"]), "a value is needed");
    bad("https://user:pw@example.org/", json!(["export.done"]), "no user or password");
    bad("https://example.org/", json!(["meter.exploded"]), "unknown value 'meter.exploded'");
    let (id, _) = f.add("a", "https://example.org/hook", &["readings.batch", "info_code.started", "readings.batch"]);
    let e = f.ctx.call(Some(&f.boss), "webhook_add", json!({"name": "a", "url": "https://example.org/2", "events": ["export.done"]})).expect_err("taken");
    assert!(e.message.contains("exists"), "{e:?}");
    let listed = f.call("webhooks_list", json!({}));
    assert_eq!(listed["endpoints"][0]["events"], json!(["info_code.started", "readings.batch"]));
    assert_eq!(listed["endpoints"][0]["active"], true);
    f.call("webhook_set_active", json!({"id": id, "active": false}));
    assert_eq!(f.call("webhooks_list", json!({}))["endpoints"][0]["active"], false);
    // A clerk may not see them.
    let login = f.ctx.call(None, "login", json!({"login": "clerk", "password": "pw"})).expect("login");
    let clerk = login["token"].as_str().expect("token");
    assert_eq!(f.ctx.call(Some(clerk), "webhooks_list", json!({})).expect_err("clerk").code, "forbidden");
    f.call("webhook_remove", json!({"id": id}));
    assert_eq!(f.call("webhooks_list", json!({}))["endpoints"], json!([]));
    assert_eq!(f.ctx.call(Some(&f.boss), "webhook_remove", json!({"id": id})).expect_err("gone").code, "not_found");
    // At most 20.
    for i in 0..20 {
        f.add(&format!("e{i}"), "https://example.org/h", &["export.done"]);
    }
    bad("https://example.org/h", json!(["export.done"]), "at most 20");
    f.call("webhook_settings", json!({"log_days": 7}));
    assert_eq!(f.call("webhooks_list", json!({}))["log_days"], 7);
}

/// A plaintext Kamstrup water telegram (volume in litres; status 0x04: low battery) as a
/// drive-by line received at 2026-01-01 08:<minute> Paris.
fn line(serial: &str, access: u8, litres: u32, status: u8, minute: u8) -> String {
    use mbus::encode::{wmbus_frame, FrameSpec};
    let mut payload = vec![0x04, 0x13];
    payload.extend_from_slice(&litres.to_le_bytes());
    let spec = FrameSpec { manufacturer: "KAM", id: serial, version: 0x1b, device_type: mbus::DeviceType::Water, access_number: access, status };
    let frame = wmbus_frame(&spec, &payload, None);
    format!("T1;1;1;2026-01-01 08:{minute:02}:00.000;80;;;0x{}", hex::encode(frame))
}

fn import(f: &Fixture, name: &str, lines: &[String]) -> releve_core::import::FileReport {
    let system = Session::system("test");
    let permit = system.permit(Permission::Import).expect("system imports");
    releve_core::import::import_drive_by(f.ctx.store(), permit, name, lines.join("\n").as_bytes(), f.now(), &mut |_, _| {}).expect("import")
}

/// The feed rows `(after, until]` as (serial, ts) and all the feed's rows.
fn feed(f: &Fixture, after: i64, until: i64) -> (Vec<(String, i64)>, i64) {
    let conn = f.ctx.store().reader().expect("reader");
    let mut stmt = conn
        .prepare("SELECT m.serial, r.ts FROM reading_feed r JOIN meters m ON m.id = r.meter_id WHERE r.seq > ?1 AND r.seq <= ?2 ORDER BY r.seq")
        .expect("sql");
    let rows = stmt.query_map([after, until], |r| Ok((r.get(0)?, r.get(1)?))).expect("rows").collect::<Result<Vec<_>, _>>().expect("rows");
    let all = conn.query_row("SELECT count(*) FROM reading_feed", [], |r| r.get(0)).expect("count");
    (rows, all)
}

#[test]
fn readings_batch_and_info_code_started_after_real_imports() {
    let f = fixture();
    let (url, seen) = receiver(&[]);
    let (id, secret) = f.add("portal", &url, &["info_code.started", "readings.batch"]);
    // Readings stored before the webhooks' first round are the past: not sent.
    let before = import(&f, "old.txt", &[line("40000010", 1, 100, 0, 0)]);
    assert_eq!(before.stored, 1);
    f.round();
    assert!(seen.lock().expect("seen").is_empty(), "nothing of the past");

    let first = import(&f, "a.txt", &[
        line("40000011", 1, 1000, 0, 1),
        line("40000011", 2, 1010, 0, 2),
        line("40000011", 3, 1020, 0, 3),
        line("40000012", 1, 2000, 0, 4),
        line("40000012", 2, 2005, 0x04, 5),
    ]);
    assert_eq!(first.stored, 5, "{first:?}");
    let report = f.round();
    assert_eq!(report.delivered, 1, "the info code at once; the readings gather for 5 s: {report:?}");
    f.set(f.now() + 5);
    let report = f.round();
    assert_eq!(report.delivered, 1, "then the batch: {report:?}");
    let requests = seen.lock().expect("seen").clone();
    let mut batch = None;
    let mut started = None;
    for r in &requests {
        let event = r.headers["releve-event"].clone();
        let body = checked(r, &secret, &event);
        match event.as_str() {
            "readings.batch" => batch = Some(body),
            "info_code.started" => started = Some(body),
            other => panic!("unexpected {other}"),
        }
    }
    let batch = batch.expect("readings.batch")["data"].clone();
    let (after, until) = (batch["after"].as_i64().expect("after"), batch["until"].as_i64().expect("until"));
    let (rows, all) = feed(&f, after, until);
    let serials: Vec<&str> = rows.iter().map(|(s, _)| s.as_str()).collect();
    assert_eq!(serials, ["40000011", "40000011", "40000011", "40000012", "40000012"], "exactly the new readings");
    assert_eq!(all, 6, "and the old one is before `after`");
    assert_eq!((batch["readings"].as_i64(), batch["meters"].as_i64()), (Some(5), Some(2)));
    assert_eq!(batch["meter_list"].as_array().map(Vec::len), Some(2));
    assert_eq!(batch["meter_list_complete"], true);
    assert_eq!(batch["feed"], format!("/api/v1/readings/feed?after={after}"));
    assert_eq!(batch["first_reading_at"], "2026-01-01T08:01:00+01:00");
    let started = started.expect("info_code.started")["data"].clone();
    assert_eq!(started["meter"]["serial"], "40000012");
    assert!(started["code"].as_str().expect("code").contains("battery"), "{started}");

    // The next batch starts where this one ended; an import storing nothing makes none.
    let second = import(&f, "b.txt", &[line("40000011", 4, 1030, 0, 6), line("40000013", 1, 3000, 0, 7)]);
    assert_eq!(second.stored, 2);
    import(&f, "a-again.txt", &[line("40000011", 1, 1000, 0, 1)]);
    f.set(f.now() + 5);
    assert_eq!(f.round().delivered, 1, "one batch, the low battery goes on (no new start)");
    let requests = seen.lock().expect("seen").clone();
    assert_eq!(requests.len(), 3);
    let next = checked(&requests[2], &secret, "readings.batch")["data"].clone();
    assert_eq!(next["after"].as_i64(), Some(until), "no gap, no overlap");
    let (rows, _) = feed(&f, until, next["until"].as_i64().expect("until"));
    assert_eq!(rows.iter().map(|(s, _)| s.as_str()).collect::<Vec<_>>(), ["40000011", "40000013"]);
    assert_eq!(next["readings"], 2);
    f.set(f.now() + 60);
    assert_eq!(f.round(), Default::default(), "nothing new");
    assert_eq!(seen.lock().expect("seen").len(), 3);
    let kept: i64 = f.ctx.store().reader().expect("reader")
        .query_row("SELECT coalesce(sum(length(body)), 0) FROM webhook_deliveries WHERE endpoint_id = ?1", [id], |r| r.get(0)).expect("bodies");
    assert_eq!(kept, 0, "a delivered event's body is not kept");
}
