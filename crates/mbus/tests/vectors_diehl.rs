//! Diehl family against the wmbusmeters vectors, field by field: every IZAR (izar, izarv2)
//! vector's total, billing-date volume and date, the id as printed, and the scrambled or
//! already-unscrambled Hydrus and Sharky "real data" telegrams.

mod common;

use common::{close, hex, num, read_jsonl};
use mbus::{decode, peek_address, Quantity, SecurityMode, SecurityStatus, Telegram, Value};

fn value(t: &Telegram, q: Quantity, storage: u32) -> Option<f64> {
    t.records
        .iter()
        .find(|r| r.quantity == q && r.storage == storage && r.tariff == 0)
        .and_then(num)
}

fn text(t: &Telegram, q: Quantity, storage: u32) -> Option<String> {
    t.records
        .iter()
        .find(|r| r.quantity == q && r.storage == storage)
        .and_then(|r| match &r.value {
            Value::Text(s) => Some(s.clone()),
            Value::Number(_) => None,
        })
}

fn f(v: &serde_json::Value, k: &str) -> Option<f64> {
    v.get(k).and_then(serde_json::Value::as_f64)
}

fn s<'a>(v: &'a serde_json::Value, k: &str) -> Option<&'a str> {
    v.get(k).and_then(serde_json::Value::as_str)
}

#[test]
fn diehl_vectors_field_by_field() {
    let mut n = 0;
    for (i, row) in read_jsonl("wmbusmeters_vectors.jsonl").iter().enumerate() {
        let driver = row["driver"].as_str().unwrap_or("");
        let scrambled = matches!(
            row["security"].as_str(),
            Some("TPL_mode21" | "TPL_mode24" | "TPL_mode29")
        ) || row["classification"]["security"]
            .as_str()
            .is_some_and(|x| matches!(x, "TPL_mode21" | "TPL_mode24" | "TPL_mode29"));
        if !driver.starts_with("izar") && !scrambled {
            continue;
        }
        n += 1;
        let e = &row["expected_json"];
        let frame = row["telegram"].as_str().and_then(hex).expect("hex");
        let t = decode(&frame, None).unwrap_or_else(|err| panic!("#{i}: {err}"));
        let ctx = format!("#{i} {driver}/{}: {t:?}", row["name"]);
        assert_eq!(t.security.mode, SecurityMode::DiehlLfsr, "{ctx}");
        assert!(
            matches!(
                t.security.status,
                SecurityStatus::Ok | SecurityStatus::Plaintext
            ),
            "{ctx}"
        );
        let id = s(e, "id").expect("id").to_uppercase();
        assert_eq!(t.address.id, id, "{ctx}");
        assert_eq!(
            peek_address(&frame).ok().as_ref(),
            Some(&t.address),
            "{ctx}"
        );
        for k in ["total_m3", "total_volume_m3"] {
            if let Some(v) = f(e, k) {
                assert!(
                    value(&t, Quantity::Volume, 0).is_some_and(|x| close(x, v)),
                    "{k} {ctx}"
                );
            }
        }
        if let Some(v) = f(e, "total_energy_consumption_kwh") {
            assert!(
                value(&t, Quantity::Energy, 0).is_some_and(|x| close(x, v)),
                "{ctx}"
            );
        }
        for k in ["last_month_total_m3", "target_m3", "total_at_date_m3"] {
            if let Some(v) = f(e, k) {
                assert!(
                    value(&t, Quantity::Volume, 1).is_some_and(|x| close(x, v)),
                    "{k} {ctx}"
                );
            }
        }
        for k in ["last_month_measure_date", "target_date", "at_date"] {
            if let Some(d) = s(e, k) {
                assert_eq!(text(&t, Quantity::Date, 1).as_deref(), Some(d), "{k} {ctx}");
            }
        }
        if let Some(y) = f(e, "remaining_battery_life_y").or(f(e, "battery_y")) {
            let got = value(&t, Quantity::RemainingBatteryLife, 0).map(|s| s / (365.25 * 86400.0));
            assert!(got.is_some_and(|g| close(g, y)), "battery {ctx}");
        }
        if let (Some(p), Some(sn)) = (s(e, "prefix"), s(e, "serial_number")) {
            assert_eq!(
                text(&t, Quantity::FabricationNumber, 0),
                Some(format!("{p}{sn}")),
                "{ctx}"
            );
        }
    }
    assert!(
        n >= 11,
        "expected the IZAR, Hydrus RS and Sharky vectors, found {n}"
    );
}
