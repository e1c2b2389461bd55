//! A LoRaWAN network server posting to `releve serve` as a utility runs it: the registry
//! imported with `releve lorawan devices import`, an HTTP source of format `chirpstack` made
//! with `releve sources add`, ChirpStack's HTTP integration played with curl (one event per
//! POST, `?event=...`): a Kamstrup meter heard by two gateways, an unknown DevEUI, a Lobaro
//! bridge's telegram in two parts; the store checked after each.

#[path = "support/releve.rs"]
mod releve;

use base64::Engine;
use releve::{demo_db, serve, BIN};
use std::path::Path;
use std::process::Command;

fn releve(args: &[&str]) -> (bool, String) {
    let o = Command::new(BIN).args(args).env("RELEVE_PASSWORD", "manager").output().expect("releve");
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

fn ok(args: &[&str]) -> String {
    let (success, out) = releve(args);
    assert!(success, "releve {args:?}: {out}");
    out
}

/// curl's POST of `body` to `url` with `token`: (HTTP status, JSON answer).
fn post(url: &str, token: &str, body: &str, dir: &Path) -> (u16, serde_json::Value) {
    post_as(url, Some(token), body, dir)
}

fn post_as(url: &str, token: Option<&str>, body: &str, dir: &Path) -> (u16, serde_json::Value) {
    let file = dir.join("event.json");
    std::fs::write(&file, body).expect("write");
    let answer = dir.join("answer.json");
    let o = Command::new("curl")
        .args(["-s", "-o", answer.to_str().expect("utf8"), "-w", "%{http_code}", "-X", "POST"])
        .args(["-H", &format!("Authorization: Bearer {}", token.unwrap_or("")), "-H", "Content-Type: application/json"])
        .arg("--data-binary")
        .arg(format!("@{}", file.display()))
        .arg(url)
        .output()
        .expect("curl");
    let status = String::from_utf8_lossy(&o.stdout).trim().parse().unwrap_or(0);
    let json = std::fs::read_to_string(&answer).ok().and_then(|t| serde_json::from_str(&t).ok()).unwrap_or(serde_json::Value::Null);
    (status, json)
}

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).expect("time").format("%Y-%m-%dT%H:%M:%S.775023242+00:00").to_string()
}

/// A ChirpStack v4 `up` event as its HTTP integration posts it.
fn up(dev_eui: &str, f_cnt: u32, f_port: u8, data: &[u8], at: i64, gateways: &[(&str, i64, f64)]) -> String {
    let rx: Vec<String> = gateways
        .iter()
        .map(|(g, rssi, snr)| format!(r#"{{"gatewayId":"{g}","uplinkId":4217106255,"rssi":{rssi},"snr":{snr},"gwTime":"{}","nsTime":"{}","context":"E3OWOQ=="}}"#, rfc3339(at), rfc3339(at)))
        .collect();
    format!(
        r#"{{"deduplicationId":"3ac7e3c4-4401-4b8d-9386-a5c902f9202d","time":"{}","deviceInfo":{{"tenantId":"52f14cd4-c6f1-4fbd-8f87-4025e1d49242","tenantName":"ChirpStack","applicationName":"Compteurs","deviceProfileName":"p","deviceName":"d","devEui":"{}","tags":{{}}}},"devAddr":"00189440","adr":true,"dr":5,"fCnt":{f_cnt},"fPort":{f_port},"confirmed":false,"data":"{}","rxInfo":[{}],"txInfo":{{"frequency":867100000,"modulation":{{"lora":{{"bandwidth":125000,"spreadingFactor":7,"codeRate":"CR_4_5"}}}}}}}}"#,
        rfc3339(at),
        dev_eui.to_lowercase(),
        base64::engine::general_purpose::STANDARD.encode(data),
        rx.join(",")
    )
}

fn query(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row(sql, [], |r| r.get(0)).unwrap_or_else(|e| panic!("{sql}: {e}"))
}

#[test]
fn a_network_server_posts_uplinks_of_registered_and_unknown_devices() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");

    // The registry: a bad file stores nothing and names the line and field.
    let bad = dir.path().join("bad.csv");
    std::fs::write(&bad, "dev_eui;serial;brand;model;payload;address;city;commissioned\n70B3D5E75E00A1B2;61234567;Kamstrup;flowIQ 2200;wmbus-app;1 rue A;Saint-Chamond;2026-02-30\n").expect("write");
    let demo_objects = query(&db, "SELECT count(*) FROM lorawan_devices");
    let (success, out) = releve(&["lorawan", "devices", "import", "--db", db_s, bad.to_str().expect("utf8")]);
    assert!(!success, "{out}");
    assert!(out.contains("bad.csv, line 2: commissioned:"), "{out}");
    assert_eq!(query(&db, "SELECT count(*) FROM lorawan_devices"), demo_objects, "nothing of a bad file stored");
    let csv = dir.path().join("objets.csv");
    let rows = "\u{feff}dev_eui;serial;brand;model;payload;address;city;commissioned\r\n\
                70b3d5e75e00a1b2;61234567;Kamstrup;flowIQ 2200;wmbus-app;12 rue Gambetta;Saint-Chamond;2026-02-01\r\n\
                70B3D5E75E00B0B0;;Lobaro;wMBus Bridge;wmbus-lobaro;Place de la Liberté;Saint-Chamond;2026-02-02\r\n";
    std::fs::write(&csv, rows).expect("write");
    assert!(ok(&["lorawan", "devices", "import", "--db", db_s, csv.to_str().expect("utf8")]).contains("2 devices, 2 added, 0 updated"));
    // Imported again with a new address: updated.
    std::fs::write(&csv, rows.replace("12 rue Gambetta", "14 rue Gambetta")).expect("write");
    assert!(ok(&["lorawan", "devices", "import", "--db", db_s, csv.to_str().expect("utf8")]).contains("0 added, 2 updated"));
    let listed = ok(&["lorawan", "devices", "list", "--db", db_s]);
    assert!(listed.contains("70B3D5E75E00A1B2;61234567;Kamstrup;flowIQ 2200;wmbus-app;14 rue Gambetta;Saint-Chamond;2026-02-01;KAM;;0"), "{listed}");
    assert_eq!(listed.lines().count() as i64, 3 + demo_objects, "a header and a line a device: {listed}");

    let out = ok(&["sources", "add", "--db", db_s, "--name", "chirpstack", "--format", "chirpstack"]);
    let token = out.lines().find_map(|l| l.strip_prefix("Authorization: Bearer ")).expect("token").trim().to_string();
    let server = serve(db_s);
    let url = |event: &str| format!("http://127.0.0.1:{}/ingest/chirpstack?event={event}", server.port);
    let now = chrono::Utc::now().timestamp();

    // The Kamstrup meter (CI 78, volume 2,499.965 m3) heard by two gateways; ChirpStack posts
    // it twice (no answer the first time): one telegram, two receptions.
    let kamstrup = up("70B3D5E75E00A1B2", 42, 1, &[0x78, 0x04, 0x13, 0x7D, 0x25, 0x26, 0x00], now - 60, &[("0016c001f153a14c", -98, 6.5), ("0016c001f153a15d", -112, -4.0)]);
    let (status, r) = post(&url("up"), &token, &kamstrup, dir.path());
    assert_eq!((status, r["stored"].as_u64(), r["readings"].as_u64()), (200, Some(1), Some(1)), "{r}");
    let (status, r) = post(&url("up"), &token, &kamstrup, dir.path());
    assert_eq!((status, r["stored"].as_u64(), r["duplicates"].as_u64()), (200, Some(0), Some(1)), "{r}");
    let meter = "(SELECT id FROM meters WHERE serial = '61234567' AND manufacturer = 'KAM')";
    assert_eq!(query(&db, &format!("SELECT count(*) FROM telegrams WHERE meter_id = {meter}")), 1, "the telegram once");
    assert_eq!(query(&db, &format!("SELECT count(*) FROM receptions WHERE meter_id = {meter}")), 2, "two receptions");
    assert_eq!(query(&db, "SELECT count(*) FROM gateways WHERE kind = 'lorawan' AND name IN ('0016C001F153A14C', '0016C001F153A15D')"), 2);
    assert_eq!(query(&db, &format!("SELECT CAST(value * 1000 AS INTEGER) FROM readings WHERE meter_id = {meter}")), 2_499_965);
    assert_eq!(query(&db, "SELECT uplinks * 100 + last_f_cnt FROM lorawan_devices WHERE dev_eui = '70B3D5E75E00A1B2'"), 142);

    // A DevEUI not in the registry: kept, listed, nothing dropped.
    let (status, r) = post(&url("up"), &token, &up("A84041000181B365", 7, 2, &[0xCA, 0xFE], now - 50, &[("0016c001f153a14c", -80, 9.0)]), dir.path());
    assert_eq!((status, r["telegrams"].as_u64()), (200, Some(0)), "{r}");
    assert_eq!(query(&db, "SELECT count(*) FROM lorawan_uplinks WHERE dev_eui = 'A84041000181B365' AND outcome = 'unknown-device' AND hex(payload) = 'CAFE'"), 1);

    // Another event on the same URL (ChirpStack posts every event type there): skipped.
    let status_event = format!(r#"{{"deduplicationId":"x","time":"{}","deviceInfo":{{"devEui":"70b3d5e75e00a1b2"}},"margin":7,"externalPowerSource":false,"batteryLevel":87.5}}"#, rfc3339(now));
    let (status, r) = post(&url("status"), &token, &status_event, dir.path());
    assert_eq!((status, r["telegrams"].as_u64(), r["rejected_count"].as_u64()), (200, Some(0), Some(0)), "{r}");

    // The Lobaro bridge forwards a DME water meter's telegram in two parts (ports 12, 22).
    let spec = mbus::encode::FrameSpec { manufacturer: "DME", id: "20000001", version: 0x50, device_type: mbus::DeviceType::Water, access_number: 9, status: 0 };
    let telegram = mbus::encode::wmbus_frame(&spec, &[0x04, 0x13, 0xD2, 0x04, 0x00, 0x00], None);
    let (first, second) = telegram.split_at(12);
    let (status, r) = post(&url("up"), &token, &up("70B3D5E75E00B0B0", 300, 12, first, now - 40, &[("0016c001f153a14c", -90, 3.0)]), dir.path());
    assert_eq!((status, r["telegrams"].as_u64()), (200, Some(0)), "part 1 waits: {r}");
    assert_eq!(query(&db, "SELECT count(*) FROM lorawan_fragments"), 1);
    let (status, r) = post(&url("up"), &token, &up("70B3D5E75E00B0B0", 301, 22, second, now - 39, &[("0016c001f153a14c", -91, 2.5)]), dir.path());
    assert_eq!((status, r["stored"].as_u64(), r["readings"].as_u64()), (200, Some(1), Some(1)), "{r}");
    assert_eq!(query(&db, "SELECT CAST(value * 1000 AS INTEGER) FROM readings r JOIN meters m ON m.id = r.meter_id WHERE m.serial = '20000001'"), 1234);
    assert_eq!(query(&db, "SELECT count(*) FROM receptions r JOIN meters m ON m.id = r.meter_id WHERE m.serial = '20000001'"), 1);

    // A malformed event: refused with its reason, nothing stored.
    let (status, r) = post(&url("up"), &token, r#"{"deviceInfo":{"devEui":"70b3d5e75e00b0b0"},"fPort":12,"data":"not base64!"}"#, dir.path());
    assert_eq!(status, 400, "{r}");
    assert_eq!(r["error"]["code"], "bad_lines");
    assert!(r["error"]["params"]["lines"][0]["reason"].as_str().is_some_and(|s| s.contains("not base64")), "{r}");

    let listed = ok(&["lorawan", "devices", "list", "--db", db_s]);
    assert!(listed.lines().any(|l| l.starts_with("70B3D5E75E00B0B0;") && l.ends_with(";2")), "{listed}");

    // The browser's way: the file uploaded, then imported by its upload id; the screens' lists.
    let api = |name: &str| format!("http://127.0.0.1:{}/api/{name}", server.port);
    let (status, login) = post_as(&api("login"), None, r#"{"login":"manager","password":"manager"}"#, dir.path());
    assert_eq!(status, 200, "{login}");
    let session = login["token"].as_str().expect("token").to_string();
    let more = "dev_eui;serial;brand;model;payload;address;city;commissioned\nA84041000181B365;;Adeunis;Temp;raw;Mairie;Saint-Chamond;2026-06-01\n";
    let (status, upload) = post_as(&format!("{}?name=objets-2.csv", api("upload")), Some(&session), more, dir.path());
    assert_eq!(status, 200, "{upload}");
    let args = serde_json::json!({"name": "objets-2.csv", "upload": upload["upload"]}).to_string();
    let (status, r) = post_as(&api("lorawan_devices_import"), Some(&session), &args, dir.path());
    assert_eq!((status, r["created"].as_u64()), (200, Some(1)), "{r}");
    let (status, r) = post_as(&api("lorawan_devices"), Some(&session), r#"{"search":"Mairie","limit":10}"#, dir.path());
    assert_eq!((status, r["total"].as_i64(), r["devices"][0]["dev_eui"].as_str()), (200, Some(1), Some("A84041000181B365")), "{r}");
    let (status, r) = post_as(&api("lorawan_uplinks"), Some(&session), r#"{"outcome":"unknown-device"}"#, dir.path());
    assert_eq!((status, r["total"].as_i64(), r["uplinks"][0]["payload"].as_str()), (200, Some(1), Some("CAFE")), "{r}");
}
