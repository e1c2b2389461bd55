//! The fixed network's receptions: a telegram heard by several gateways is stored once with
//! one reception per gateway; a retried delivery adds nothing; gateways are met as they
//! deliver.

#[path = "support/users.rs"]
mod users;

use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::DeviceType;
use releve_core::sources::{ingest_push, source_add, NewSource};

const NOW: i64 = 1_767_571_200; // 2026-01-05T00:00:00Z

fn telegram(serial: &str, access: u8, litres: u32) -> String {
    sealed(serial, access, litres, None)
}

/// The same, encrypted (OMS mode 5) with `key`.
fn sealed(serial: &str, access: u8, litres: u32, key: Option<[u8; 16]>) -> String {
    let mut payload = vec![0x04, 0x13];
    payload.extend_from_slice(&litres.to_le_bytes());
    let spec = FrameSpec { manufacturer: "KAM", id: serial, version: 0x1b, device_type: DeviceType::Water, access_number: access, status: 0 };
    hex::encode(wmbus_frame(&spec, &payload, key.map(mbus::AesKey::from_bytes).as_ref()))
}

fn count(f: &users::Fixture, sql: &str) -> i64 {
    f.store.reader().expect("reader").query_row(sql, [], |r| r.get(0)).expect(sql)
}

#[test]
fn one_telegram_heard_by_two_gateways_is_stored_once_with_two_receptions() {
    let f = users::fixture(NOW);
    let new = NewSource { name: "conc".into(), kind: "http".into(), format: "jsonl".into(), max_body: None, folder: None, ..Default::default() };
    let token = source_add(&f.store, &f.manager, &new, NOW).expect("source").token.expect("token");
    let t = telegram("50000001", 1, 1234);
    let body = format!(
        "{{\"telegram\":\"{t}\",\"time\":{},\"rssi\":-80,\"gateway\":\"GW-A\"}}\n{{\"telegram\":\"{t}\",\"time\":{},\"rssi\":-70,\"gateway\":\"GW-B\"}}\n{{\"telegram\":\"{}\",\"time\":{}}}\n",
        NOW - 60,
        NOW - 59,
        telegram("50000002", 1, 99),
        NOW - 30
    );
    let r = ingest_push(&f.store, "conc", Some(&token), body.as_bytes(), NOW).expect("push");
    assert_eq!((r.telegrams, r.stored, r.duplicates, r.readings), (3, 2, 1, 2), "{r:?}");
    assert_eq!(count(&f, "SELECT count(*) FROM receptions"), 3, "two gateways for the first telegram, the source's own for the second");
    assert_eq!(count(&f, "SELECT count(*) FROM gateways"), 3);
    assert_eq!(count(&f, "SELECT count(*) FROM gateways WHERE name = 'conc' AND kind = 'concentrator'"), 1, "a frame naming no gateway: the source's");
    assert_eq!(count(&f, "SELECT rssi FROM receptions r JOIN gateways g ON g.id = r.gateway_id WHERE g.name = 'GW-B'"), -70);
    assert_eq!(count(&f, "SELECT last_contact FROM gateways WHERE name = 'GW-A'"), NOW - 60);
    // The concentrator retries the same push: nothing new.
    let again = ingest_push(&f.store, "conc", Some(&token), body.as_bytes(), NOW + 5).expect("retry");
    assert_eq!((again.stored, again.duplicates, again.readings), (0, 3, 0), "{again:?}");
    assert_eq!(count(&f, "SELECT count(*) FROM receptions"), 3);
    assert_eq!(count(&f, "SELECT sum(receptions) FROM gateway_meters"), 3);
    assert_eq!(count(&f, "SELECT count(*) FROM telegrams"), 2);
    // Deliveries are not audited one by one (making the source was).
    assert_eq!(count(&f, "SELECT count(*) FROM audit_log WHERE event = 'import'"), 0);
    assert_eq!(count(&f, "SELECT count(*) FROM audit_log WHERE event = 'source_add'"), 1);
}

/// Keys are kept in memory between deliveries, and a key imported meanwhile (here, or by
/// another process: the generation lives in the file) is used by the next delivery.
#[test]
fn a_key_imported_between_two_deliveries_is_used_by_the_second() {
    let f = users::fixture(NOW);
    let new = NewSource { name: "conc".into(), kind: "http".into(), format: "lines".into(), max_body: None, folder: None, ..Default::default() };
    let token = source_add(&f.store, &f.manager, &new, NOW).expect("source").token.expect("token");
    let key = [0x42u8; 16];
    let first = ingest_push(&f.store, "conc", Some(&token), sealed("50000003", 1, 10, Some(key)).as_bytes(), NOW).expect("push");
    assert_eq!((first.stored, first.heard, first.readings), (0, 1, 0), "no key yet: heard, not in the park");
    let second = ingest_push(&f.store, "conc", Some(&token), telegram("50000004", 1, 10).as_bytes(), NOW).expect("push");
    assert_eq!(second.readings, 1, "a plaintext one, with the keys cached");
    let permit = f.manager.permit(releve_core::access::Permission::ManageKeys).expect("keys");
    let csv = format!("serial;key\n50000003;{}\n", hex::encode_upper(key));
    releve_core::keys::import_keys(&f.store, permit, "keys.csv", &csv, NOW).expect("key import");
    // Another process's connection changes the generation the same way (a trigger): a
    // second store on the same file imports a key the first never saw.
    let other = releve_core::store::Store::open(&f.dir.path().join("t.db")).expect("second opening");
    let csv = format!("serial;key\n50000005;{}\n", hex::encode_upper(key));
    releve_core::keys::import_keys(&other, permit, "keys2.csv", &csv, NOW).expect("key import in the other");
    let third = ingest_push(&f.store, "conc", Some(&token), sealed("50000003", 2, 20, Some(key)).as_bytes(), NOW + 1).expect("push");
    assert_eq!((third.kept_undecoded, third.readings), (0, 1), "the key imported after the first push is used: {third:?}");
    let fourth = ingest_push(&f.store, "conc", Some(&token), sealed("50000005", 2, 20, Some(key)).as_bytes(), NOW + 1).expect("push");
    assert_eq!((fourth.kept_undecoded, fourth.readings), (0, 1), "the other process's key too: {fourth:?}");
}
