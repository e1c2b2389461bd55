//! The Apator families against the wmbusmeters vectors, beyond the main value: previous-period
//! allocator units and dates (E-ITN), historical readings and the meter's clock (NA-1), and
//! the monthly history and operating days of the Apator 162 register block.

mod common;

use common::{close, hex, read_jsonl};
use mbus::{decode, explain, AesKey, InfoCode, Quantity, Telegram, Value};

fn rows(driver: &str) -> Vec<serde_json::Value> {
    read_jsonl("wmbusmeters_vectors.jsonl")
        .into_iter()
        .filter(|r| r["driver"].as_str() == Some(driver))
        .collect()
}

fn decoded(row: &serde_json::Value) -> Telegram {
    let key = row["key"].as_str().and_then(|k| AesKey::from_hex(k).ok());
    let frame = row["telegram"].as_str().and_then(hex).expect("hex");
    decode(&frame, key.as_ref()).expect("decodes")
}

fn value(t: &Telegram, q: Quantity, storage: u32) -> Option<Value> {
    t.records.iter().find(|r| r.quantity == q && r.storage == storage).map(|r| r.value.clone())
}

fn number(t: &Telegram, q: Quantity, storage: u32) -> Option<f64> {
    value(t, q, storage).and_then(|v| v.as_f64())
}

fn text(t: &Telegram, q: Quantity, storage: u32) -> Option<String> {
    match value(t, q, storage) {
        Some(Value::Text(s)) => Some(s),
        _ => None,
    }
}

#[test]
fn eitn_units_dates_and_seal() {
    let rows = rows("apatoreitn");
    assert!(!rows.is_empty());
    for row in rows {
        let e = &row["expected_json"];
        let t = decoded(&row);
        assert_eq!(number(&t, Quantity::HcaUnits, 0), e["current_hca"].as_f64(), "{row}");
        assert_eq!(number(&t, Quantity::HcaUnits, 1), e["previous_hca"].as_f64(), "{row}");
        assert_eq!(text(&t, Quantity::Date, 0).as_deref(), e["current_date"].as_str(), "{row}");
        // The billing day and month recur yearly: the last one before the current date.
        assert_eq!(text(&t, Quantity::Date, 1).as_deref(), Some("2022-05-01"), "{row}");
        let sealed = e["status"].as_str() == Some("OK");
        assert_eq!(t.info_codes.contains(&InfoCode::Tamper), !sealed, "{row}");
    }
}

#[test]
fn na1_history_and_clock() {
    let rows = rows("apatorna1");
    assert_eq!(rows.len(), 8);
    for row in rows {
        let e = &row["expected_json"];
        let t = decoded(&row);
        let hist = number(&t, Quantity::Volume, 1).expect("historic volume");
        assert!(close(hist, e["historic_m3"].as_f64().unwrap_or(f64::NAN)), "{hist} {row}");
        let clock = text(&t, Quantity::DateTime, 0).expect("meter time");
        let expected_clock = e["meter_datetime"].as_str().unwrap_or("").replace(' ', "T");
        assert!(clock.starts_with(&expected_clock), "{clock} {row}");
        let day = e["historic_datetime"].as_str().and_then(|s| s.get(..10));
        assert_eq!(text(&t, Quantity::Date, 1).as_deref(), day, "{row}");
        let alarm = e["current_status"].as_str() != Some("OK");
        assert_eq!(!t.info_codes.is_empty(), alarm, "{row}");
    }
}

#[test]
fn apator162_history_and_days() {
    let rows = rows("apator162");
    assert!(rows.len() >= 13);
    // Wasser: history register 7B (12 values, the newest 2878 litres); 347 operating days.
    let wasser = rows.iter().find(|r| r["name"] == "Wasser").expect("Wasser");
    let t = decoded(wasser);
    assert_eq!(number(&t, Quantity::Volume, 1), Some(2.878));
    assert_eq!(number(&t, Quantity::Volume, 12), Some(0.0));
    assert_eq!(number(&t, Quantity::Volume, 13), None);
    assert_eq!(number(&t, Quantity::OperatingTime, 0), Some(347.0 * 86_400.0));
    for row in &rows {
        let t = decoded(row);
        // Every history value is at most the total, and older months at most newer ones.
        let total = number(&t, Quantity::Volume, 0).expect("total");
        let mut last = total;
        for s in 1.. {
            let Some(v) = number(&t, Quantity::Volume, s) else { break };
            assert!(v <= last, "{row}");
            last = v;
        }
        let frame = row["telegram"].as_str().and_then(hex).expect("hex");
        let x = explain(&frame, None, None);
        assert!(x.steps.iter().any(|s| s.detail.contains("Apator register block")), "{row}");
    }
}

#[test]
fn apt_07_05_opens_with_the_zero_key_only() {
    let rows = rows("apt_07_05");
    assert_eq!(rows.len(), 1);
    let frame = rows[0]["telegram"].as_str().and_then(hex).expect("hex");
    let t = decode(&frame, None).expect("decodes");
    assert_eq!(t.security.status, mbus::SecurityStatus::NoKey);
    assert!(t.records.is_empty());
    // Not the vector's key (it has none): shows what the payload holds.
    let zero = AesKey::from_bytes([0; 16]);
    let t = decode(&frame, Some(&zero)).expect("decodes");
    assert_eq!(t.security.status, mbus::SecurityStatus::Ok);
    assert_eq!(number(&t, Quantity::Volume, 0), Some(15.111));
}
