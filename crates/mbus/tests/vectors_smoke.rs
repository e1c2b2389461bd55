//! Conformance: the hand-picked smoke vectors decode to the expected values after unit scaling.

mod common;

use common::{close, hex, num, read_vector_file};
use mbus::{
    decode, decode_with_formats, AesKey, FormatCache, Function, InfoCode, Quantity, SecurityMode,
    SecurityStatus, Telegram,
};

/// (expected_json key, quantity, storage, function) - how each expected value appears as a record.
type Expect = (&'static str, Quantity, u32, Option<Function>);

fn find(t: &Telegram, (key, q, storage, function): &Expect, expected: f64) -> bool {
    let _ = key;
    t.records.iter().any(|r| {
        r.quantity == *q
            && r.storage == *storage
            && function.is_none_or(|f| r.function == f)
            && num(r).is_some_and(|v| close(v, expected))
    })
}

fn vectors() -> Vec<serde_json::Value> {
    let text = read_vector_file("smoke_vectors.json");
    serde_json::from_str::<Vec<serde_json::Value>>(&text)
        .expect("smoke_vectors.json is a JSON array")
}

fn check(index: usize, mode: SecurityMode, status: SecurityStatus, expects: &[Expect]) -> Telegram {
    let v = &vectors()[index];
    let frame = hex(v["telegram"].as_str().expect("telegram")).expect("hex");
    let key = v["key"].as_str().map(|k| AesKey::from_hex(k).expect("key"));
    let t = decode(&frame, key.as_ref()).unwrap_or_else(|e| panic!("{}: {e}", v["name"]));
    assert_eq!(
        (t.security.mode, t.security.status),
        (mode, status),
        "{}",
        v["name"]
    );
    for e in expects {
        let want = v["expected"][e.0]
            .as_f64()
            .unwrap_or_else(|| panic!("{}: no {}", v["name"], e.0));
        assert!(
            find(&t, e, want),
            "{}: {} = {want} not found in {}",
            v["name"],
            e.0,
            t.to_json()
        );
    }
    t
}

#[test]
fn kamstrup_multical21_ell_ctr() {
    use Quantity::*;
    let t = check(
        0,
        SecurityMode::EllCtr,
        SecurityStatus::Ok,
        &[
            ("total_m3", Volume, 0, Some(Function::Instantaneous)),
            ("target_m3", Volume, 1, None),
            (
                "flow_temperature_c",
                FlowTemperature,
                1,
                Some(Function::Minimum),
            ),
            (
                "min_external_temperature_last_month_c",
                ExternalTemperature,
                1,
                Some(Function::Minimum),
            ),
        ],
    );
    assert_eq!(
        (t.address.manufacturer.as_str(), t.address.id.as_str()),
        ("KAM", "76348799")
    );
    assert_eq!(t.info_codes, vec![InfoCode::Dry], "status DRY");
}

/// CI 79 compact frame: its layout comes from the preceding full frame.
#[test]
fn kamstrup_multical403_compact_frame() {
    use Quantity::*;
    let v = &vectors()[1];
    let frame = hex(v["telegram"].as_str().expect("telegram")).expect("hex");
    // Its layout is also built in, so plain `decode` reads it too.
    assert_eq!(decode(&frame, None).map(|t| t.records.len()).ok(), Some(19));
    let full = hex(v["preceding_telegrams"][0].as_str().expect("full frame")).expect("hex");
    let mut formats = FormatCache::new();
    assert!(formats.learn(&full, None).is_some());
    let t = decode_with_formats(&frame, None, &formats).expect("compact frame decodes");
    assert_eq!(
        (t.security.mode, t.security.status),
        (SecurityMode::EllCtr, SecurityStatus::Plaintext)
    );
    let expects: [Expect; 5] = [
        ("total_energy_consumption_kwh", Energy, 0, None),
        ("total_volume_m3", Volume, 0, None),
        ("volume_flow_m3h", VolumeFlow, 0, None),
        ("t1_temperature_c", FlowTemperature, 0, None),
        ("t2_temperature_c", ReturnTemperature, 0, None),
    ];
    for e in &expects {
        let want = v["expected"][e.0].as_f64().expect("expected value");
        assert!(
            find(&t, e, want),
            "{} = {want} not found in {}",
            e.0,
            t.to_json()
        );
    }
    let t = decode(&full, None).expect("full frame decodes");
    assert_eq!(t.security.status, SecurityStatus::Plaintext);
    // The full frame was sent a little earlier: same meter, slightly smaller totals.
    assert!(
        t.records.iter().any(|r| r.quantity == Quantity::Volume
            && r.storage == 0
            && num(r).is_some_and(|x| x > 364.0)),
        "{}",
        t.to_json()
    );
}

#[test]
fn kamstrup_multical303_mode5() {
    use Quantity::*;
    check(
        2,
        SecurityMode::Mode5,
        SecurityStatus::Ok,
        &[
            ("total_energy_kwh", Energy, 0, None),
            ("total_volume_m3", Volume, 0, None),
            ("forward_c", FlowTemperature, 0, None),
            ("return_c", ReturnTemperature, 0, None),
        ],
    );
}

#[test]
fn dwz_waterstar_mode5() {
    check(
        3,
        SecurityMode::Mode5,
        SecurityStatus::Ok,
        &[
            ("total_m3", Quantity::Volume, 0, None),
            ("total_backwards_m3", Quantity::VolumeBackward, 0, None),
        ],
    );
}

#[test]
fn kamstrup_multical403_wired() {
    use Quantity::*;
    let t = check(
        4,
        SecurityMode::None,
        SecurityStatus::Ok,
        &[
            ("total_energy_consumption_kwh", Energy, 0, None),
            ("total_volume_m3", Volume, 0, None),
            ("volume_flow_m3h", VolumeFlow, 0, None),
            ("t1_temperature_c", FlowTemperature, 0, None),
            ("t2_temperature_c", ReturnTemperature, 0, None),
        ],
    );
    assert_eq!(
        (t.address.id.as_str(), t.address.manufacturer.as_str()),
        ("77447744", "KAM")
    );
}

#[test]
fn edc_float_scaling() {
    use Quantity::*;
    check(
        5,
        SecurityMode::None,
        SecurityStatus::Ok,
        &[
            ("volume_flow_m3h_record8", VolumeFlow, 0, None),
            ("power_w_record14", Power, 0, None),
            ("flow_temperature_c_record4", FlowTemperature, 0, None),
        ],
    );
}
