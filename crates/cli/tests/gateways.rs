//! Supervision of the fixed network as a utility runs it: a concentrator pushes over HTTP
//! to `releve serve` (curl), names its gateway; the gateway then goes silent and
//! `releve network check` / `releve notify run` (cron) raise exactly one alarm and send
//! exactly one e-mail to a REAL SMTP server (aiosmtpd) however often they run; the alarm
//! clears when the gateway delivers again. `releve gateways list` shows it all.

#[path = "support/releve.rs"]
mod releve;
#[path = "../../core/tests/support/smtp.rs"]
mod smtp;

use releve::{demo_db, run_ok as releve, serve};
use releve_api::Ctx;
use serde_json::{json, Value};
use smtp::Smtp;
use std::path::Path;
use std::process::Command;
use std::sync::Arc;

/// curl's POST of `body` to `url` with `token`: the HTTP status.
fn push(url: &str, token: &str, body: &str, dir: &Path) -> u16 {
    let file = dir.join("push.jsonl");
    std::fs::write(&file, body).expect("write");
    let o = Command::new("curl")
        .args(["-s", "-o", "/dev/null", "-w", "%{http_code}", "-X", "POST"])
        .args(["-H", &format!("Authorization: Bearer {token}")])
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(url)
        .output()
        .expect("curl");
    String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or(0)
}

fn frame(serial: &str, access: u8, at: i64, gateway: &str) -> String {
    let mut payload = vec![0x04, 0x13];
    payload.extend_from_slice(&(1000 + u32::from(access)).to_le_bytes());
    let spec = mbus::encode::FrameSpec {
        manufacturer: "KAM",
        id: serial,
        version: 0x1b,
        device_type: mbus::DeviceType::Water,
        access_number: access,
        status: 0,
    };
    let t = hex::encode(mbus::encode::wmbus_frame(&spec, &payload, None));
    format!("{{\"telegram\":\"{t}\",\"time\":{at},\"rssi\":-87,\"gateway\":\"{gateway}\"}}\n")
}

fn gateways(db: &str) -> Vec<Value> {
    releve(&["gateways", "list", "--db", db]).lines().map(|l| serde_json::from_str(l).expect(l)).collect()
}

fn int(db: &Path, sql: &str) -> i64 {
    rusqlite::Connection::open(db).expect("open").query_row(sql, [], |r| r.get(0)).expect(sql)
}

#[test]
fn a_silent_gateway_gives_one_alarm_and_one_email_and_clears_when_it_delivers_again() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");
    let smtp = Smtp::start(dir.path());
    let t0 = chrono::Utc::now().timestamp();
    // The manager's set-up through the API: the SMTP server and a rule on silent gateways.
    {
        let ctx = Ctx::open_with_clock(&db, Arc::new(move || t0)).expect("open");
        let login = ctx.call(None, "login", json!({"login": "manager", "password": "manager"})).expect("login");
        let token = login["token"].as_str().expect("token");
        let smtp_settings = json!({"smtp_host": "127.0.0.1", "smtp_port": smtp.port, "smtp_from": "releve@regie.example", "smtp_tls": "none"});
        ctx.call(Some(token), "notify_settings", smtp_settings).expect("smtp");
        let rule = json!({"name": "Réseau", "codes": ["gateway_silent"], "min_duration_minutes": 0,
                          "email_to": ["reseau@regie.example"], "sms_to": [], "enabled": true});
        let saved = ctx.call(Some(token), "notify_rule_save", rule).expect("rule");
        assert_eq!(saved["codes"], json!(["gateway_silent"]));
    }
    let out = releve(&["sources", "add", "--db", db_s, "--name", "conc", "--format", "jsonl"]);
    let token = out.lines().find_map(|l| l.strip_prefix("Authorization: Bearer ")).expect("token").trim().to_string();
    let server = serve(db_s);
    let url = format!("http://127.0.0.1:{}/ingest/conc", server.port);
    let body = frame("71000001", 1, t0 - 60, "GW-NORD") + &frame("71000002", 1, t0 - 30, "GW-SUD");
    assert_eq!(push(&url, &token, &body, dir.path()), 200);
    let listed = gateways(db_s);
    assert_eq!(listed.len(), 2, "{listed:?}");
    let nord = listed.iter().find(|g| g["name"] == "GW-NORD").expect("GW-NORD");
    assert_eq!((nord["frames_today"].as_i64(), nord["meters_heard"].as_i64(), nord["meters_alone"].as_i64()), (Some(1), Some(1), Some(1)), "{nord}");
    assert_eq!(nord["silent_since"], Value::Null);

    // GW-SUD is a gateway of the far end of the network: the manager gives it 24 hours.
    {
        let ctx = Ctx::open_with_clock(&db, Arc::new(move || t0)).expect("open");
        let login = ctx.call(None, "login", json!({"login": "manager", "password": "manager"})).expect("login");
        let sud = listed.iter().find(|g| g["name"] == "GW-SUD").expect("GW-SUD");
        let edit = json!({"id": sud["id"], "label": "Relais sud", "lat": 45.47, "lon": 4.50, "silent_hours": 24});
        let g = ctx.call(login["token"].as_str(), "gateway_set", edit).expect("gateway_set");
        assert_eq!((g["label"].as_str(), g["silent_hours"].as_i64()), (Some("Relais sud"), Some(24)));
    }
    // Both go quiet. Cron checks every few minutes from 5 h on: GW-NORD falls silent once.
    let at = |secs: i64| (t0 + secs).to_string();
    assert!(releve(&["network", "check", "--db", db_s, "--now", &at(5 * 3600)]).contains("0 gateway(s)"));
    let mut raised = 0;
    for minutes in [6 * 60, 6 * 60 + 5, 6 * 60 + 10, 7 * 60] {
        let out = releve(&["network", "check", "--db", db_s, "--now", &at(minutes * 60)]);
        raised += out.lines().next().and_then(|l| l.split(' ').next()).and_then(|n| n.parse::<i64>().ok()).expect(&out);
    }
    assert_eq!(raised, 1, "GW-NORD once; GW-SUD has 24 hours");
    assert_eq!(int(&db, "SELECT count(*) FROM gateway_events WHERE ended_at IS NULL"), 1);

    // Notices: one e-mail for GW-NORD's silence, however often cron runs.
    for minutes in [7 * 60 + 1, 7 * 60 + 2, 8 * 60] {
        releve(&["notify", "run", "--db", db_s, "--now", &at(minutes * 60)]);
    }
    let mails = smtp.messages();
    assert_eq!(mails.len(), 1, "{mails:#?}");
    assert!(mails[0].contains("reseau@regie.example") && mails[0].contains("GW-NORD"), "{}", mails[0]);
    assert!(mails[0].contains("Subject: Alarme passerelle muette : GW-NORD"), "{}", mails[0]);
    assert_eq!(int(&db, "SELECT count(*) FROM notices WHERE code = 'gateway_silent' AND status = 'sent'"), 1);
    let nord = gateways(db_s).into_iter().find(|g| g["name"] == "GW-NORD").expect("GW-NORD");
    assert_eq!(nord["silent_since"].as_i64(), Some(t0 - 60 + 6 * 3600), "{nord}");
    // The log of notices names the gateway.
    {
        let ctx = Ctx::open_with_clock(&db, Arc::new(move || t0)).expect("open");
        let login = ctx.call(None, "login", json!({"login": "manager", "password": "manager"})).expect("login");
        let log = ctx.call(login["token"].as_str(), "notify_log", json!({})).expect("log");
        assert_eq!(log[0]["serial"], "GW-NORD", "{log}");
    }

    // GW-NORD delivers again: the alarm clears, and no e-mail for a silence that ended.
    assert_eq!(push(&url, &token, &frame("71000001", 2, t0, "GW-NORD"), dir.path()), 200);
    let nord = gateways(db_s).into_iter().find(|g| g["name"] == "GW-NORD").expect("GW-NORD");
    assert_eq!(nord["silent_since"], Value::Null, "{nord}");
    assert_eq!(int(&db, "SELECT count(*) FROM gateway_events WHERE ended_at IS NULL"), 0);
    releve(&["notify", "run", "--db", db_s, "--now", &at(3600)]);
    assert_eq!(smtp.messages().len(), 1);
    assert_eq!(int(&db, "SELECT count(*) FROM audit_log WHERE event = 'gateway_set'"), 1);
    drop(server);
}
