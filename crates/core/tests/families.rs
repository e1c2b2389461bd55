//! The manufacturer families end to end: real telegrams of IZAR, Apator, Techem, Qundis, BFW,
//! Diehl, Engelmann and DES-encrypted meters (the shared wmbusmeters vectors, read at test
//! time) imported as a drive-by file with their keys, then exported: each meter's main value
//! lands in its register (volume m3, energy kWh, allocator units), none is "not decoded".

use std::collections::HashMap;

use releve_core::access::Permission;
use releve_core::export::{export_readings, ExportSpec};
use releve_core::import::import_drive_by;
use users::Fixture;

#[path = "support/users.rs"]
mod users;

const NOW: i64 = 1_767_571_200; // 2026-01-05T00:00:00Z

fn vectors() -> Vec<serde_json::Value> {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/wmbusmeters_vectors.jsonl");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path}: {e} (the shared/ folder must sit beside the repository)"));
    text.lines().filter(|l| !l.trim().is_empty()).map(|l| serde_json::from_str(l).expect("json")).collect()
}

/// The main value a vector's decoder printed: (register, value).
fn main_value(expected: &serde_json::Value) -> Option<(&'static str, f64)> {
    let keys = [
        ("total_m3", "volume"),
        ("total_kwh", "energy"),
        ("total_energy_consumption_kwh", "energy"),
        ("current_consumption_hca", "hca"),
        ("current_hca", "hca"),
        ("consumption_hca", "hca"),
    ];
    keys.iter().find_map(|(k, reg)| expected.get(*k).and_then(serde_json::Value::as_f64).map(|v| (*reg, v)))
}

#[test]
fn every_family_imports_to_its_register() {
    let families = [
        "izar", "izarv2", "apator08", "apator162", "apator172", "apatoreitn", "apatorna1", "compact5", "mkradio3", "mkradio4",
        "vario451", "fhkvdataiii", "qwater", "qheatv2", "qcaloric", "bfw240radio", "zenner0b", "sharky", "hydrus",
        "engelmann-faw", "rfmtx1", "actislink",
    ];
    let f: Fixture = users::fixture(NOW);
    let mut keys = String::from("serial;key\n");
    let mut lines = String::new();
    // serial -> (family, register, value); one vector per family, the last that has a main value
    // and no preceding frames, and whose serial is not taken by another family's vector.
    let mut wanted: HashMap<String, (String, &'static str, f64)> = HashMap::new();
    for row in vectors() {
        let driver = row["driver"].as_str().unwrap_or("");
        if !families.contains(&driver) || wanted.values().any(|(d, _, _)| d == driver) {
            continue;
        }
        if row["preceding_telegrams"].as_array().is_some_and(|p| !p.is_empty()) {
            continue;
        }
        let (Some((register, value)), Some(frame)) =
            (main_value(&row["expected_json"]), row["telegram"].as_str().and_then(|h| hex::decode(h).ok()))
        else {
            continue;
        };
        let Ok(address) = mbus::peek_address(&frame) else { continue };
        if wanted.contains_key(&address.id) {
            continue;
        }
        if let Some(k) = row["key"].as_str().or(row["implicit_default_key"].as_str()).filter(|k| mbus::AesKey::from_hex(k).is_ok()) {
            keys.push_str(&format!("{};{k}\n", address.id));
        }
        lines.push_str(&format!("T1;1;1;2026-01-01 10:00:00.000;-70;;;0x{}\n", hex::encode_upper(&frame)));
        wanted.insert(address.id.clone(), (driver.to_string(), register, value));
    }
    let got_families: Vec<&str> = families.iter().copied().filter(|d| wanted.values().any(|(w, _, _)| w == d)).collect();
    assert!(got_families.len() >= 18, "vectors found for {got_families:?}");
    let permit = f.manager.permit(Permission::ManageKeys).expect("manager");
    let k = releve_core::keys::import_keys(&f.store, permit, "keys.csv", &keys, NOW).expect("keys");
    assert!(k.rejected.is_empty(), "keys refused: {:?}", k.rejected);
    let permit = f.manager.permit(Permission::Import).expect("manager imports");
    let r = import_drive_by(&f.store, permit, "families.txt", lines.as_bytes(), NOW, &mut |_, _| {}).expect("import");
    assert_eq!(r.rejected_count, 0, "{r:?}");

    let spec = ExportSpec { separator: b',', decimal: '.', ..ExportSpec::new("2026-01-01".parse().expect("d"), "2026-01-01".parse().expect("d")) };
    let mut out = Vec::new();
    export_readings(&f.store, &f.manager, &spec, &mut out, NOW).expect("export");
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_string).collect();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let mut exported: HashMap<(String, String), f64> = HashMap::new();
    for rec in reader.records() {
        let rec = rec.expect("row");
        // target_date rows hold a date, not a number.
        let Ok(v) = rec[col("value")].parse::<f64>() else { continue };
        exported.insert((rec[col("meter_serial")].to_string(), rec[col("register")].to_string()), v);
    }
    let mut missing = Vec::new();
    for (serial, (driver, register, value)) in &wanted {
        match exported.get(&(serial.clone(), register.to_string())) {
            Some(v) if (v - value).abs() <= 5e-4_f64.max(value.abs() * 1e-6) => {}
            other => missing.push(format!("{driver} meter {serial}: {register} = {value} expected, exported {other:?}")),
        }
    }
    assert!(missing.is_empty(), "{missing:#?}");
    println!("{} families imported to their registers: {got_families:?}", got_families.len());
}

/// An AFL message cut in three fragments (EN 13757-7 fragmentation: FCL more-fragments bit,
/// fragment ids 1..3, the message length in the first), sent in one file in reverse order.
fn afl_fragments(litres: u32) -> Vec<Vec<u8>> {
    let spec = mbus::encode::FrameSpec {
        manufacturer: "ELS",
        id: "00000042",
        version: 1,
        device_type: mbus::DeviceType::Water,
        access_number: 1,
        status: 0,
    };
    let mut payload = vec![0x04, 0x13];
    payload.extend(litres.to_le_bytes());
    for i in 0..5u8 {
        payload.extend([0x0D, 0x7C, 0x01, b'a' + i, 6, 1, 2, 3, 4, 5, i]);
    }
    let whole = mbus::encode::wmbus_frame(&spec, &payload, None);
    let tpl = &whole[10..];
    let cuts = [0, 25, 50, tpl.len()];
    (0..3)
        .map(|i| {
            let mut f = whole[..10].to_vec();
            let more: u16 = if i < 2 { 1 << 14 } else { 0 };
            let fcl = more | (i as u16 + 1) | if i == 0 { 1 << 12 } else { 0 };
            f.push(0x90);
            f.push(if i == 0 { 4 } else { 2 });
            f.extend(fcl.to_le_bytes());
            if i == 0 {
                f.extend((tpl.len() as u16).to_le_bytes());
            }
            f.extend(&tpl[cuts[i]..cuts[i + 1]]);
            f[0] = (f.len() - 1) as u8;
            f
        })
        .collect()
}

#[test]
fn afl_fragments_of_one_file_give_the_message_s_reading() {
    let f: Fixture = users::fixture(NOW);
    let lines: String = afl_fragments(123_456)
        .iter()
        .rev()
        .enumerate()
        .map(|(i, frame)| format!("T1;1;1;2026-01-01 10:00:0{i}.000;-70;;;0x{}\n", hex::encode_upper(frame)))
        .collect();
    let permit = f.manager.permit(Permission::Import).expect("manager imports");
    let r = import_drive_by(&f.store, permit, "afl.txt", lines.as_bytes(), NOW, &mut |_, _| {}).expect("import");
    // The fragments before the last wait in the heard list like any telegram read without
    // values from a device not in the park; the last one makes the meter with its reading.
    assert_eq!((r.telegrams, r.stored + r.heard, r.readings, r.new_meters), (3, 3, 1, 1), "{r:?}");
    let spec = ExportSpec { separator: b',', decimal: '.', ..ExportSpec::new("2026-01-01".parse().expect("d"), "2026-01-01".parse().expect("d")) };
    let mut out = Vec::new();
    export_readings(&f.store, &f.manager, &spec, &mut out, NOW).expect("export");
    let text = String::from_utf8(out).expect("utf8");
    assert!(text.lines().any(|l| l.contains("00000042") && l.contains(",123.456,")), "{text}");
}
