//! Techem's own application layers (vendor `techem_*` families) against every value of the
//! wmbusmeters vectors of their drivers, not only the main one the conformance test checks:
//! previous-period values, billing and current dates, allocator temperatures.

mod common;

use common::{close, hex, num, read_jsonl};
use mbus::{decode, Quantity, Telegram, Value};

fn number(t: &Telegram, q: Quantity, storage: u32) -> Option<f64> {
    t.records
        .iter()
        .find(|r| r.quantity == q && r.storage == storage)
        .and_then(num)
}

fn date(t: &Telegram, storage: u32) -> Option<String> {
    t.records
        .iter()
        .find(|r| r.quantity == Quantity::Date && r.storage == storage)
        .and_then(|r| match &r.value {
            Value::Text(s) => Some(s.clone()),
            Value::Number(_) => None,
        })
}

/// A date as wmbusmeters prints it ("2019-12-31" or "2019-12-31T02:00:00Z"): the day part.
fn day(v: &serde_json::Value) -> Option<String> {
    v.as_str().map(|s| s.chars().take(10).collect())
}

#[test]
fn techem_vectors_match_every_value() {
    let drivers = [
        "compact5",
        "vario451",
        "mkradio3",
        "mkradio3a",
        "mkradio4",
        "fhkvdataiii",
    ];
    let mut checked = 0;
    for (i, row) in read_jsonl("wmbusmeters_vectors.jsonl").iter().enumerate() {
        let driver = row["driver"].as_str().unwrap_or("");
        if !drivers.contains(&driver) {
            continue;
        }
        let e = &row["expected_json"];
        let frame = row["telegram"].as_str().and_then(hex).expect("hex");
        let t = decode(&frame, None).unwrap_or_else(|err| panic!("#{i} {driver}: {err}"));
        let f = |k: &str| e[k].as_f64();
        let want = |what: &str, got: Option<f64>, expected: Option<f64>| {
            if let Some(x) = expected {
                assert!(
                    got.is_some_and(|g| close(g, x)),
                    "#{i} {driver} {what}: got {got:?}, expected {x}"
                );
            }
        };
        let want_date = |what: &str, storage: u32, key: &str| {
            if let Some(x) = day(&e[key]) {
                assert_eq!(date(&t, storage), Some(x), "#{i} {driver} {what}");
            }
        };
        match driver {
            "compact5" | "vario451" => {
                want("total", number(&t, Quantity::Energy, 0), f("total_kwh"));
                want(
                    "previous",
                    number(&t, Quantity::Energy, 1),
                    f("previous_kwh"),
                );
                let since = number(&t, Quantity::Energy, 0)
                    .zip(number(&t, Quantity::Energy, 1))
                    .map(|(a, b)| a - b);
                want("current", since, f("current_kwh"));
            }
            "mkradio3" | "mkradio4" => {
                want("total", number(&t, Quantity::Volume, 0), f("total_m3"));
                want("target", number(&t, Quantity::Volume, 1), f("target_m3"));
                want_date("current date", 0, "current_date");
                want_date("billing date", 1, "prev_date");
            }
            "mkradio3a" => {
                // wmbusmeters' target_m3 is the current month's consumption.
                want("total", number(&t, Quantity::Volume, 0), f("total_m3"));
                let month = number(&t, Quantity::Volume, 0)
                    .zip(number(&t, Quantity::Volume, 1))
                    .map(|(a, b)| a - b);
                want("this month", month, f("target_m3"));
                want_date("date", 0, "target_date");
            }
            _ => {
                want(
                    "current",
                    number(&t, Quantity::HcaUnits, 0),
                    f("current_hca"),
                );
                want(
                    "previous",
                    number(&t, Quantity::HcaUnits, 1),
                    f("previous_hca"),
                );
                want(
                    "room",
                    number(&t, Quantity::ExternalTemperature, 0),
                    f("temp_room_c"),
                );
                want(
                    "radiator",
                    number(&t, Quantity::FlowTemperature, 0),
                    f("temp_radiator_c"),
                );
                want_date("current date", 0, "current_date");
                want_date("billing date", 1, "previous_date");
            }
        }
        checked += 1;
    }
    assert!(
        checked >= 12,
        "expected the Techem vectors, found {checked}"
    );
}
