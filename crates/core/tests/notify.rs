//! Alarm notifications against REAL servers on loopback: Python `aiosmtpd` (a Maildir
//! handler) as the SMTP server, a `TcpListener` thread as the SMS gateway. Rules, the
//! minimum duration, one notice per event, quiet hours, failures retried, the preview.

use releve_core::access::Session;
use releve_core::notify::{self, ChannelSettings, RunReport};
use releve_core::store::info_codes::Event;
use releve_core::store::notify::Rule;
use releve_core::store::{self, Store};
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

#[path = "support/smtp.rs"]
mod smtp;
use smtp::{free_port, Smtp};

#[path = "support/users.rs"]
mod users;

/// 2026-01-01T11:00:00Z = 12:00 in Paris (the default time zone).
const NOON: i64 = 1_767_265_200;
const MIN: i64 = 60;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;

/// A fake SMS gateway: records the request line of every HTTP request, answers 200.
fn sms_gateway() -> (u16, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = listener.local_addr().expect("addr").port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = Arc::clone(&seen);
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { continue };
            let mut buf = Vec::new();
            let mut chunk = [0u8; 1024];
            while !buf.windows(4).any(|w| w == b"\r\n\r\n") {
                match s.read(&mut chunk) {
                    Ok(0) | Err(_) => break,
                    Ok(n) => buf.extend_from_slice(&chunk[..n]),
                }
            }
            let text = String::from_utf8_lossy(&buf);
            if let Some(line) = text.lines().next() {
                log.lock().expect("log").push(line.to_string());
            }
            let _ = s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nOK");
        }
    });
    (port, seen)
}

struct Park {
    _dir: tempfile::TempDir,
    store: Store,
    manager: Session,
    clerk: Session,
}

fn park() -> Park {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("notify.db")).expect("open");
    let (manager, clerk) = users::manager_and_clerk(&store, NOON);
    Park { _dir: dir, store, manager, clerk }
}

/// A meter of customer `customer` with the events (code, started_at, ended_at).
fn meter(store: &Store, serial: &str, customer: &str, events: &[(&str, i64, Option<i64>)]) -> i64 {
    let conn = store.writer();
    let c = store::customers::Customer {
        number: customer.into(),
        name: format!("Client {customer}"),
        address: "1 rue Neuve".into(),
        postal_code: "42400".into(),
        city: "Saint-Chamond".into(),
        email: None,
        phone: None,
    };
    let customer_id = store::customers::insert(&conn, &c).expect("customer");
    let m = store::meters::NewMeter {
        serial: serial.into(),
        manufacturer: "KAM".into(),
        device_type: "water".into(),
        status: "active".into(),
        customer_id: Some(customer_id),
        address: "1 rue Neuve".into(),
        postal_code: "42400".into(),
        city: "Saint-Chamond".into(),
        ..Default::default()
    };
    let id = store::meters::insert(&conn, &m, NOON - 400 * DAY).expect("meter");
    for (code, started_at, ended_at) in events {
        let e = Event { code: code.to_string(), started_at: *started_at, last_seen_at: ended_at.unwrap_or(NOON), ended_at: *ended_at };
        store::info_codes::upsert(&conn, id, &e).expect("event");
    }
    id
}

fn channels(p: &Park, smtp_port: u16, sms_port: u16) {
    let s = ChannelSettings {
        smtp_host: "127.0.0.1".into(),
        smtp_port,
        smtp_from: "releve@example.com".into(),
        smtp_user: None,
        smtp_password: Some("secret".into()),
        smtp_tls: "none".into(),
        sms_url_template: format!("http://127.0.0.1:{sms_port}/send?to={{to}}&text={{text}}"),
    };
    let shown = notify::notify_settings(&p.store, &p.manager, &s, NOON).expect("settings");
    assert!(shown.smtp_password_set && shown.settings.smtp_password.is_none(), "the password is never returned");
}

fn rule(name: &str, codes: &[&str], min: i64, email: &[&str], sms: &[&str]) -> Rule {
    Rule {
        id: None,
        name: name.into(),
        codes: codes.iter().map(|c| c.to_string()).collect(),
        group_id: None,
        customer_class: None,
        min_duration_minutes: min,
        quiet_from: None,
        quiet_to: None,
        email_to: email.iter().map(|c| c.to_string()).collect(),
        sms_to: sms.iter().map(|c| c.to_string()).collect(),
        enabled: true,
    }
}

fn report(sent: u64, failed: u64, held: u64) -> RunReport {
    RunReport { sent, failed, held }
}

#[test]
fn min_duration_one_notice_per_event_email_and_sms() {
    let p = park();
    let smtp = Smtp::start(p._dir.path());
    let (sms_port, sms) = sms_gateway();
    channels(&p, smtp.port, sms_port);
    meter(&p.store, "12345678", "C01-0001", &[("leak", NOON - 30 * MIN, None)]);
    meter(&p.store, "87654321", "C02-0001", &[("leak", NOON - 5 * HOUR, None)]); // other class
    let mut r = rule("Fuites C01", &["leak"], 60, &["ops@example.com"], &["+33 612345678"]);
    r.customer_class = Some("C01".into());
    assert!(notify::notify_rule_save(&p.store, &p.clerk, &r, NOON).is_err(), "a clerk may not edit rules");
    let saved = notify::notify_rule_save(&p.store, &p.manager, &r, NOON).expect("save");
    assert_eq!(notify::notify_rules_list(&p.store, &p.clerk).expect("list"), vec![saved]);

    assert_eq!(notify::notify_run(&p.store, NOON).expect("run"), report(0, 0, 0), "30 min old: nothing");
    assert!(smtp.messages().is_empty() && sms.lock().expect("sms").is_empty());

    let later = NOON + 90 * MIN; // the event is 2 h old
    assert_eq!(notify::notify_run(&p.store, later).expect("run"), report(2, 0, 0));
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "exactly one e-mail");
    assert!(mails[0].contains("12345678"), "the body names the serial: {}", mails[0]);
    assert!(mails[0].contains("ops@example.com") && mails[0].contains("C01-0001"));
    assert!(!mails[0].contains("87654321"), "the other customer class is not notified");
    let requests = sms.lock().expect("sms").clone();
    assert_eq!(requests.len(), 1, "exactly one SMS: {requests:?}");
    assert!(requests[0].starts_with("GET /send?to=%2B33%20612345678&text=Releve%3A%20fuite%20compteur%2012345678%20depuis%20"), "{}", requests[0]);

    assert_eq!(notify::notify_run(&p.store, later + 10 * MIN).expect("run"), report(0, 0, 0), "never twice");
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(sms.lock().expect("sms").len(), 1);
    let log = notify::notify_log(&p.store, &p.clerk, 100).expect("log");
    assert_eq!(log.len(), 2);
    assert!(log.iter().all(|n| n.status == "sent" && n.error.is_none() && n.serial.as_deref() == Some("12345678")));
}

#[test]
fn quiet_hours_hold_back_then_release() {
    let p = park();
    let smtp = Smtp::start(p._dir.path());
    let (sms_port, _sms) = sms_gateway();
    channels(&p, smtp.port, sms_port);
    let night = NOON + 15 * HOUR; // 03:00 in Paris on 2 January
    meter(&p.store, "11112222", "C01-0002", &[("burst", night - 5 * HOUR, None)]);
    let mut r = rule("Ruptures la journée", &["burst"], 60, &["astreinte@example.com"], &[]);
    r.quiet_from = Some("22:00".into());
    r.quiet_to = Some("07:00".into());
    notify::notify_rule_save(&p.store, &p.manager, &r, NOON).expect("save");

    assert_eq!(notify::notify_run(&p.store, night).expect("run"), report(0, 0, 1), "held back at 03:00");
    assert!(smtp.messages().is_empty());
    assert_eq!(notify::notify_run(&p.store, night + 3 * HOUR + 59 * MIN).expect("run"), report(0, 0, 1), "06:59 still quiet");
    assert_eq!(notify::notify_run(&p.store, night + 4 * HOUR + 5 * MIN).expect("run"), report(1, 0, 0), "07:05: sent");
    assert_eq!(smtp.messages().len(), 1);
    assert!(smtp.messages()[0].contains("11112222"));
    assert_eq!(notify::notify_run(&p.store, night + 5 * HOUR).expect("run"), report(0, 0, 0));
}

#[test]
fn failing_smtp_is_recorded_and_retried() {
    let p = park();
    let (sms_port, _sms) = sms_gateway();
    channels(&p, free_port(), sms_port); // nothing listens there
    meter(&p.store, "33334444", "C01-0003", &[("leak", NOON - 3 * HOUR, None)]);
    notify::notify_rule_save(&p.store, &p.manager, &rule("Fuites", &["leak"], 60, &["ops@example.com"], &[]), NOON).expect("save");

    assert_eq!(notify::notify_run(&p.store, NOON).expect("run"), report(0, 1, 0));
    let log = notify::notify_log(&p.store, &p.manager, 10).expect("log");
    assert_eq!(log.len(), 1);
    assert_eq!(log[0].status, "failed");
    assert!(log[0].error.as_deref().is_some_and(|e| !e.is_empty()), "a reason: {:?}", log[0].error);

    let smtp = Smtp::start(p._dir.path());
    channels(&p, smtp.port, sms_port);
    assert_eq!(notify::notify_run(&p.store, NOON + 10 * MIN).expect("run"), report(1, 0, 0), "retried");
    assert_eq!(smtp.messages().len(), 1);
    let log = notify::notify_log(&p.store, &p.manager, 10).expect("log");
    assert_eq!((log.len(), log[0].status.as_str(), log[0].attempts, log[0].error.clone()), (1, "sent", 2, None));
    assert_eq!(notify::notify_run(&p.store, NOON + 20 * MIN).expect("run"), report(0, 0, 0));
}

#[test]
fn preview_counts_twelve_months_without_sending() {
    let p = park();
    let (sms_port, sms) = sms_gateway();
    channels(&p, free_port(), sms_port);
    let d = |days: i64| NOON - days * DAY;
    meter(
        &p.store,
        "55556666",
        "C01-0004",
        &[
            ("leak", d(400), Some(d(390))),               // before the 12 months
            ("leak", d(200), Some(d(200) + 30 * MIN)),    // too short
            ("leak", d(150), Some(d(150) + 3 * HOUR)),    // counted (noon)
            ("leak", d(100) + 11 * HOUR, Some(d(100) + 13 * HOUR + 30 * MIN)), // 23:00-01:30 local
            ("leak", d(10), None),                        // ongoing, counted
            ("burst", d(50), None),                       // other code
        ],
    );
    let r = rule("Fuites", &["leak"], 60, &["ops@example.com"], &["0612345678"]);
    let pv = notify::notify_preview(&p.store, &p.clerk, &r, NOON).expect("preview");
    assert_eq!(pv.count, 3, "{:?}", pv.rows);
    assert_eq!(pv.rows.len(), 3);
    assert_eq!(pv.rows[0].fire_at, d(150) + HOUR);
    let mut quiet = r.clone();
    quiet.quiet_from = Some("22:00".into());
    quiet.quiet_to = Some("07:00".into());
    let pv = notify::notify_preview(&p.store, &p.clerk, &quiet, NOON).expect("preview");
    assert_eq!(pv.count, 2, "the night event ended before 07:00: {:?}", pv.rows);
    assert!(notify::notify_log(&p.store, &p.manager, 10).expect("log").is_empty(), "nothing recorded");
    assert!(sms.lock().expect("sms").is_empty(), "nothing sent");
}
