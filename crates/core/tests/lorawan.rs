//! LoRaWAN network servers delivering to a source of format `chirpstack` or `tts`: a native
//! M-Bus meter heard by two gateways stored once with two receptions; an unknown DevEUI kept
//! and listed; a Lobaro bridge's telegrams put back together across uplinks, a restart and
//! retries, a gap dropping its telegram with the fCnt missing; the registry kept up to date.

#[path = "support/users.rs"]
mod users;

use base64::Engine;
use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::DeviceType;
use releve_core::lorawan::{lorawan_device_set, lorawan_uplinks, DeviceInput};
use releve_core::sources::{ingest_push, source_add, NewSource};
use releve_core::store::lorawan::UplinkQuery;
use releve_core::Store;

const NOW: i64 = 1_795_082_400; // 2026-11-19T10:00:00Z
const KAMSTRUP: &str = "70B3D5E75E00A1B2";
const BRIDGE: &str = "70B3D5E75E00B0B0";

fn rfc3339(t: i64) -> String {
    chrono::DateTime::from_timestamp(t, 0).expect("time").format("%Y-%m-%dT%H:%M:%S.123456789+00:00").to_string()
}

/// A ChirpStack v4 `up` event; fields at their default value left out as older servers do.
fn chirpstack(dev_eui: &str, f_cnt: u32, f_port: u8, data: &[u8], at: i64, gateways: &[(&str, i64, f64)]) -> String {
    let rx: Vec<String> = gateways
        .iter()
        .map(|(g, rssi, snr)| format!(r#"{{"gatewayId":"{g}","uplinkId":1,"rssi":{rssi},"snr":{snr},"nsTime":"{}"}}"#, rfc3339(at)))
        .collect();
    let mut fields = vec![
        format!(r#""deduplicationId":"3ac7e3c4-4401-4b8d-9386-a5c902f9202d","time":"{}""#, rfc3339(at)),
        format!(r#""deviceInfo":{{"tenantName":"ChirpStack","applicationName":"eau","deviceName":"d","devEui":"{}"}}"#, dev_eui.to_lowercase()),
        r#""devAddr":"00189440","dr":5"#.to_string(),
        format!(r#""data":"{}""#, base64::engine::general_purpose::STANDARD.encode(data)),
        format!(r#""rxInfo":[{}]"#, rx.join(",")),
        r#""txInfo":{"frequency":868100000,"modulation":{"lora":{"bandwidth":125000,"spreadingFactor":7,"codeRate":"CR_4_5"}}}"#.to_string(),
    ];
    if f_cnt != 0 {
        fields.push(format!(r#""fCnt":{f_cnt}"#));
    }
    if f_port != 0 {
        fields.push(format!(r#""fPort":{f_port}"#));
    }
    format!("{{{}}}", fields.join(","))
}

/// A plaintext wireless M-Bus telegram of water meter `serial` (volume in litres), no CRCs.
fn telegram(serial: &str, access: u8, litres: u32) -> Vec<u8> {
    let mut payload = vec![0x04, 0x13];
    payload.extend_from_slice(&litres.to_le_bytes());
    let spec = FrameSpec { manufacturer: "DME", id: serial, version: 0x50, device_type: DeviceType::Water, access_number: access, status: 0 };
    wmbus_frame(&spec, &payload, None)
}

fn count(store: &Store, sql: &str) -> i64 {
    store.reader().expect("reader").query_row(sql, [], |r| r.get(0)).expect(sql)
}

fn device(dev_eui: &str, serial: &str, brand: &str, model: &str, payload: &str) -> DeviceInput {
    DeviceInput {
        dev_eui: dev_eui.into(),
        serial: serial.into(),
        brand: brand.into(),
        model: model.into(),
        payload: Some(payload.into()),
        address: "3 rue de la République".into(),
        city: "Saint-Chamond".into(),
        commissioned: Some("2026-03-01".into()),
        ..DeviceInput::default()
    }
}

fn source(f: &users::Fixture, name: &str, format: &str) -> String {
    let new = NewSource { name: name.into(), kind: "http".into(), format: format.into(), max_body: None, folder: None, ..Default::default() };
    source_add(&f.store, &f.manager, &new, NOW).expect("source").token.expect("token")
}

#[test]
fn a_native_meter_heard_by_two_gateways_and_an_unknown_device() {
    let f = users::fixture(NOW);
    let token = source(&f, "chirpstack", "chirpstack");
    lorawan_device_set(&f.store, &f.manager, &device(KAMSTRUP, "12345678", "Kamstrup", "flowIQ 2200", "wmbus-app"), NOW).expect("device");
    // A Kamstrup application layer (CI 78, volume 1,234.567 m3), heard by two gateways.
    let app = [0x78, 0x04, 0x13, 0x87, 0xD6, 0x12, 0x00];
    let body = chirpstack(KAMSTRUP, 17, 1, &app, NOW - 60, &[("0016c001f153a14c", -97, 7.5), ("0016c001f153a14d", -110, -3.25)]);
    let r = ingest_push(&f.store, "chirpstack", Some(&token), body.as_bytes(), NOW).expect("push");
    assert_eq!((r.telegrams, r.stored, r.readings, r.new_meters), (1, 1, 1, 1), "{r:?}");
    assert_eq!(count(&f.store, "SELECT count(*) FROM receptions"), 2, "one reception per gateway");
    assert_eq!(count(&f.store, "SELECT count(*) FROM gateways WHERE kind = 'lorawan'"), 2);
    assert_eq!(count(&f.store, "SELECT rssi FROM receptions r JOIN gateways g ON g.id = r.gateway_id WHERE g.name = '0016C001F153A14D'"), -110);
    assert_eq!(count(&f.store, "SELECT count(*) FROM meters WHERE serial = '12345678' AND manufacturer = 'KAM' AND device_type = 'water'"), 1);
    let value: f64 = f.store.reader().expect("r").query_row("SELECT value FROM readings", [], |r| r.get(0)).expect("reading");
    assert!((value - 1234.567).abs() < 1e-9, "{value}");
    assert_eq!(count(&f.store, "SELECT received_at FROM telegrams"), NOW - 60, "the event's time");
    // The network server sends it again: nothing new, the uplink counted once.
    let again = ingest_push(&f.store, "chirpstack", Some(&token), body.as_bytes(), NOW + 1).expect("retry");
    assert_eq!((again.stored, again.duplicates), (0, 1), "{again:?}");
    assert_eq!(count(&f.store, "SELECT count(*) FROM receptions"), 2);
    assert_eq!(count(&f.store, "SELECT uplinks * 1000 + last_f_cnt FROM lorawan_devices"), 1017);
    assert_eq!(count(&f.store, "SELECT last_uplink FROM lorawan_devices"), NOW - 60);

    // A DevEUI not in the registry: kept and listed, never dropped; a retry keeps it once.
    let stranger = chirpstack("A84041000181B365", 3, 2, &[1, 2, 3], NOW - 30, &[("0016c001f153a14c", -80, 9.0)]);
    for _ in 0..2 {
        let r = ingest_push(&f.store, "chirpstack", Some(&token), stranger.as_bytes(), NOW).expect("push");
        assert_eq!(r.telegrams, 0);
    }
    let page = lorawan_uplinks(&f.store, &f.manager, &UplinkQuery { outcome: Some("unknown-device"), limit: 10, ..Default::default() }).expect("list");
    assert_eq!(page.total, 1);
    let u = &page.uplinks[0];
    assert_eq!((u.uplink.dev_eui.as_str(), u.uplink.f_cnt, u.uplink.f_port, u.payload.as_str()), ("A84041000181B365", 3, 2, "010203"));

    // Events that are not uplinks are skipped; a broken one is refused with its reason.
    let join = format!(r#"{{"time":"{}","deviceInfo":{{"devEui":"{KAMSTRUP}"}},"devAddr":"01"}}"#, rfc3339(NOW));
    let r = ingest_push(&f.store, "chirpstack", Some(&token), join.as_bytes(), NOW).expect("join");
    assert_eq!((r.telegrams, r.rejected_count), (0, 0));
    let e = ingest_push(&f.store, "chirpstack", Some(&token), br#"{"deviceInfo":{"devEui":"0101"},"fPort":1}"#, NOW).expect_err("bad");
    assert_eq!(e.code(), "bad_lines");
    assert!(e.to_string().contains("1 lines cannot be read"), "{e}");
}

/// Kamstrup flowIQ 2200 payloads of The Things Network's device repository: the installation
/// frame (CI 72) names the meter (KAW 53885758, cold water, version 3C); the later midnight
/// log (CI 78, no header) goes to the same meter though the registry says only "Kamstrup".
#[test]
fn a_long_header_names_the_meter_later_frames_are_sent_under() {
    let f = users::fixture(NOW);
    let token = source(&f, "cs", "chirpstack");
    lorawan_device_set(&f.store, &f.manager, &device(KAMSTRUP, "53885758", "Kamstrup", "flowIQ 2200", "wmbus-app"), NOW).expect("device");
    let gw = [("0016c001f153a14c", -99, 4.0)];
    let install = hex::decode("7258578853372C3C16D610080004FF16BF587000").expect("hex");
    let r = ingest_push(&f.store, "cs", Some(&token), chirpstack(KAMSTRUP, 1, 1, &install, NOW - 7200, &gw).as_bytes(), NOW).expect("push");
    assert_eq!((r.stored, r.new_meters), (1, 1), "{r:?}");
    assert_eq!(count(&f.store, "SELECT count(*) FROM meters WHERE serial = '53885758' AND manufacturer = 'KAW' AND version = 60 AND device_type = 'cold_water'"), 1);
    let log = hex::decode("78446D0020F32A4413EC00000052FF25100042FF1C0500623B0000523B0000615B80515B80").expect("hex");
    let r = ingest_push(&f.store, "cs", Some(&token), chirpstack(KAMSTRUP, 2, 1, &log, NOW - 3600, &gw).as_bytes(), NOW).expect("push");
    assert_eq!((r.stored, r.new_meters, r.readings), (1, 0, 1), "{r:?}");
    assert_eq!(count(&f.store, "SELECT count(*) FROM meters"), 1, "one meter");
    let value: f64 = f.store.reader().expect("r").query_row("SELECT value FROM readings", [], |r| r.get(0)).expect("reading");
    assert!((value - 0.236).abs() < 1e-9, "the logged volume (storage 1): {value}");
    // A payload that is no M-Bus application layer is kept as dropped, with the reason.
    ingest_push(&f.store, "cs", Some(&token), chirpstack(KAMSTRUP, 3, 1, &[0x01, 0x02], NOW - 60, &gw).as_bytes(), NOW).expect("push");
    let dropped = lorawan_uplinks(&f.store, &f.manager, &UplinkQuery { outcome: Some("dropped"), limit: 10, ..Default::default() }).expect("list");
    assert!(dropped.uplinks[0].uplink.reason.as_deref().is_some_and(|r| r.contains("begins with 01")), "{dropped:?}");
}

/// Lobaro formats 1 and 2 in one uplink, format 1 in three parts.
#[test]
fn lobaro_formats_1_and_2() {
    let f = users::fixture(NOW);
    let token = source(&f, "cs", "chirpstack");
    lorawan_device_set(&f.store, &f.manager, &device(BRIDGE, "", "Lobaro", "wMBus LoRaWAN Bridge", "wmbus-lobaro"), NOW).expect("device");
    let gw = [("0016c001f153a14c", -90, 5.0)];
    let push = |f_cnt: u32, port: u8, data: &[u8]| {
        ingest_push(&f.store, "cs", Some(&token), chirpstack(BRIDGE, f_cnt, port, data, NOW - 50 + i64::from(f_cnt), &gw).as_bytes(), NOW).expect("push")
    };
    let heard = NOW - 900;
    let with_time = |flags: u8, rssi: Option<u8>, t: &[u8]| {
        let mut v = vec![flags];
        v.extend_from_slice(&heard.to_be_bytes()[3..]);
        v.extend(rssi);
        v.extend_from_slice(t);
        v
    };
    let t1 = telegram("30000001", 1, 10);
    assert_eq!(push(1, 101, &with_time(0x03, None, &t1)).stored, 1);
    let t2 = telegram("30000002", 1, 20);
    assert_eq!(push(2, 102, &with_time(0x03, Some(80), &t2)).stored, 1);
    let t3 = telegram("30000003", 1, 30);
    let first = with_time(0x01, None, &t3[..5]);
    assert_eq!(push(3, 101, &first).telegrams, 0);
    let mut middle = vec![0x00];
    middle.extend_from_slice(&t3[5..12]);
    assert_eq!(push(4, 101, &middle).telegrams, 0);
    let mut last = vec![0x02];
    last.extend_from_slice(&t3[12..]);
    assert_eq!(push(5, 101, &last).stored, 1);
    let times = |serial: &str| -> (i64, Option<i64>) {
        f.store
            .reader()
            .expect("r")
            .query_row(&format!("SELECT t.received_at, t.rssi FROM telegrams t JOIN meters m ON m.id = t.meter_id WHERE m.serial = '{serial}'"), [], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("telegram")
    };
    assert_eq!(times("30000001"), (heard, Some(-90)), "format 1: the bridge's time, the gateway's RSSI");
    assert_eq!(times("30000002"), (heard, Some(-80)), "format 2: the bridge's RSSI");
    assert_eq!(times("30000003").0, heard);
    assert_eq!(count(&f.store, "SELECT count(*) FROM readings"), 3);
}

#[test]
fn the_things_stack_delivers_the_same_way() {
    let f = users::fixture(NOW);
    let token = source(&f, "ttn", "tts");
    lorawan_device_set(&f.store, &f.manager, &device(KAMSTRUP, "12345678", "Kamstrup", "flowIQ 2200", "wmbus-app"), NOW).expect("device");
    let body = format!(
        r#"{{"end_device_ids":{{"device_id":"eau-1","application_ids":{{"application_id":"eau"}},"dev_eui":"{KAMSTRUP}"}},
            "received_at":"{}","uplink_message":{{"f_port":1,"f_cnt":5,"frm_payload":"{}",
            "rx_metadata":[{{"gateway_ids":{{"gateway_id":"eui-b827ebfffe000001","eui":"B827EBFFFE000001"}},"rssi":-101,"snr":-2.5}},
                           {{"gateway_ids":{{"gateway_id":"packetbroker"}},"rssi":-117}}]}}}}"#,
        rfc3339(NOW - 120),
        base64::engine::general_purpose::STANDARD.encode([0x78, 0x04, 0x13, 0x10, 0x27, 0x00, 0x00])
    );
    let r = ingest_push(&f.store, "ttn", Some(&token), body.as_bytes(), NOW).expect("push");
    assert_eq!((r.stored, r.readings), (1, 1), "{r:?}");
    assert_eq!(count(&f.store, "SELECT count(*) FROM receptions"), 2);
    assert_eq!(count(&f.store, "SELECT count(*) FROM gateways WHERE name IN ('B827EBFFFE000001', 'packetbroker')"), 2);
}

#[test]
fn a_lobaro_bridge_in_parts_across_a_restart_with_retries_and_a_gap() {
    let f = users::fixture(NOW);
    let token = source(&f, "cs", "chirpstack");
    lorawan_device_set(&f.store, &f.manager, &device(BRIDGE, "", "Lobaro", "wMBus LoRaWAN Bridge", "wmbus-lobaro"), NOW).expect("device");
    let gw = [("0016c001f153a14c", -90, 5.0)];
    let push = |store: &Store, f_cnt: u32, port: u8, data: &[u8], at: i64| {
        ingest_push(store, "cs", Some(&token), chirpstack(BRIDGE, f_cnt, port, data, at, &gw).as_bytes(), NOW).expect("push")
    };
    // Format 0 in two parts (ports 12 and 22), the second arriving first.
    let t = telegram("20000001", 1, 4242);
    let (a, b) = t.split_at(20);
    assert_eq!(push(&f.store, 11, 22, b, NOW - 100).telegrams, 0, "part 2 waits for part 1");
    assert_eq!(count(&f.store, "SELECT count(*) FROM lorawan_fragments"), 1);
    // The app stops and starts again between the parts: nothing is lost.
    let path = f.dir.path().join("t.db");
    let store = Store::open(&path).expect("reopen");
    let r = push(&store, 10, 12, a, NOW - 101);
    assert_eq!((r.stored, r.readings), (1, 1), "whole: {r:?}");
    assert_eq!(count(&store, "SELECT count(*) FROM telegrams t JOIN meters m ON m.id = t.meter_id WHERE m.serial = '20000001'"), 1);
    // A retried part: the same telegram, stored once.
    let r = push(&store, 11, 22, b, NOW - 100);
    assert_eq!((r.stored, r.duplicates), (0, 1), "{r:?}");
    assert_eq!(count(&store, "SELECT uplinks FROM lorawan_devices"), 2, "the retry is not counted");

    // Three parts (13, 23, 33), the middle one lost; then a single telegram (port 11).
    let t2 = telegram("20000002", 2, 77);
    push(&store, 20, 13, &t2[..10], NOW - 90);
    push(&store, 22, 33, &t2[20..], NOW - 88);
    let t3 = telegram("20000003", 3, 99);
    let r = push(&store, 23, 11, &t3, NOW - 80);
    assert_eq!((r.stored, r.readings), (1, 1), "the single telegram: {r:?}");
    let dropped = lorawan_uplinks(&store, &f.manager, &UplinkQuery { outcome: Some("dropped"), limit: 10, ..Default::default() }).expect("list");
    assert_eq!(dropped.total, 1);
    assert_eq!((dropped.uplinks[0].uplink.f_cnt, dropped.uplinks[0].uplink.reason.as_deref()), (20, Some("missing fCnt 21")));
    assert_eq!(count(&store, "SELECT count(*) FROM meters WHERE serial = '20000002'"), 0, "never half a telegram");
    assert_eq!(count(&store, "SELECT count(*) FROM lorawan_fragments"), 0, "the device moved on: nothing waits");

    // Format 2 (port 102): the bridge's reception time and RSSI are the frame's.
    let t4 = telegram("20000004", 4, 1000);
    let heard_at = NOW - 600;
    let mut whole = vec![0x01];
    whole.extend_from_slice(&heard_at.to_be_bytes()[3..]);
    whole.push(63);
    whole.extend_from_slice(&t4[..12]);
    push(&store, 24, 102, &whole, NOW - 70);
    let mut last = vec![0x02];
    last.extend_from_slice(&t4[12..]);
    let r = push(&store, 25, 102, &last, NOW - 69);
    assert_eq!(r.stored, 1, "{r:?}");
    let (at, rssi): (i64, i64) = store
        .reader()
        .expect("r")
        .query_row("SELECT t.received_at, t.rssi FROM telegrams t JOIN meters m ON m.id = t.meter_id WHERE m.serial = '20000004'", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("telegram");
    assert_eq!((at, rssi), (heard_at, -63));

    // The daily status (port 1) is kept and read.
    push(&store, 26, 1, &[1, 2, 3, 0xBC, 0x0B, 0xD7, 0x00], NOW - 60);
    let status = lorawan_uplinks(&store, &f.manager, &UplinkQuery { outcome: Some("status"), limit: 10, ..Default::default() }).expect("list");
    let s = status.uplinks[0].status.clone().expect("read");
    assert_eq!((s.firmware.as_str(), s.battery_mv, s.temperature_c), ("1.2.3", 3004, Some(21.5)));
    assert_eq!(count(&store, "SELECT last_f_cnt FROM lorawan_devices"), 26);
}
