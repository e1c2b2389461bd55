//! Round trip: frames built by `encode::wmbus_frame` (plaintext, mode 5, with format A CRCs)
//! decode back to the same address and records.

use mbus::encode::{self, FrameSpec};
use mbus::{
    decode, peek_address, AesKey, DeviceType, Function, InfoCode, Quantity, Record, SecurityMode,
    SecurityStatus, Unit, Value,
};

const SPEC: FrameSpec<'static> = FrameSpec {
    manufacturer: "KAM",
    id: "76348799",
    version: 0x1B,
    device_type: DeviceType::Water,
    access_number: 0x42,
    status: 0x04,
};

fn payload() -> Vec<u8> {
    let mut p = Vec::new();
    p.extend(encode::record(&[0x04], &[0x13], &6408u32.to_le_bytes())); // 6.408 m3
    p.extend(encode::record(&[0x44], &[0x13], &6000u32.to_le_bytes())); // storage 1: 6.000 m3
    p.extend(encode::record(
        &[0x04],
        &[0x6D],
        &encode::datetime_f(2022, 12, 31, 23, 59),
    ));
    p.extend(encode::kamstrup_info_record(&[
        InfoCode::Leak,
        InfoCode::Dry,
    ]));
    p
}

fn rec(quantity: Quantity, value: Value, unit: Unit, storage: u32) -> Record {
    Record {
        quantity,
        value,
        unit,
        storage,
        tariff: 0,
        subunit: 0,
        function: Function::Instantaneous,
    }
}

fn expected_records() -> Vec<Record> {
    vec![
        rec(Quantity::Volume, Value::Number(6.408), Unit::M3, 0),
        rec(Quantity::Volume, Value::Number(6.0), Unit::M3, 1),
        rec(
            Quantity::DateTime,
            Value::Text("2022-12-31T23:59".into()),
            Unit::None,
            0,
        ),
        rec(Quantity::Other, Value::Number(5.0), Unit::None, 0),
    ]
}

fn check(frame: &[u8], key: Option<&AesKey>, mode: SecurityMode, status: SecurityStatus) {
    let t = decode(frame, key).unwrap_or_else(|e| panic!("{e} for {}", hex::encode_upper(frame)));
    assert_eq!(t.address.manufacturer, "KAM");
    assert_eq!(t.address.id, "76348799");
    assert_eq!(t.address.version, 0x1B);
    assert_eq!(t.address.device_type, DeviceType::Water);
    assert_eq!((t.access_number, t.status), (0x42, 0x04));
    assert_eq!((t.security.mode, t.security.status), (mode, status));
    assert_eq!(t.records, expected_records());
    assert_eq!(
        t.info_codes,
        vec![InfoCode::Dry, InfoCode::Leak, InfoCode::LowBattery]
    );
    assert_eq!(peek_address(frame).ok(), Some(t.address.clone()));
}

#[test]
fn plaintext_round_trip() {
    let f = encode::wmbus_frame(&SPEC, &payload(), None);
    assert_eq!(usize::from(f[0]) + 1, f.len());
    check(&f, None, SecurityMode::None, SecurityStatus::Ok);
    check(
        &encode::with_format_a_crcs(&f),
        None,
        SecurityMode::None,
        SecurityStatus::Ok,
    );
}

#[test]
fn mode7_round_trip() {
    let key = AesKey::from_hex("000102030405060708090A0B0C0D0E0F").expect("key");
    let f = encode::wmbus_frame_mode7(&SPEC, &payload(), &key, 0x0000_390C);
    assert_eq!(&f[10..15], &[0x90, 0x0F, 0x00, 0x2C, 0x25]);
    check(&f, Some(&key), SecurityMode::Mode7, SecurityStatus::Ok);
    check(
        &encode::with_format_a_crcs(&f),
        Some(&key),
        SecurityMode::Mode7,
        SecurityStatus::Ok,
    );
    let t = decode(&f, None).expect("no key is not an error");
    assert_eq!(
        (t.security.status, t.records.len()),
        (SecurityStatus::NoKey, 0)
    );
    let wrong = AesKey::from_bytes([0x55; 16]);
    let t = decode(&f, Some(&wrong)).expect("wrong key is not an error");
    assert_eq!(
        (t.security.status, t.records.len()),
        (SecurityStatus::WrongKey, 0)
    );
    // A changed MAC byte makes the message unauthentic: reported as WrongKey, never values.
    let mut tampered = f.clone();
    tampered[20] ^= 0x01;
    let t = decode(&tampered, Some(&key)).expect("not an error");
    assert_eq!(
        (t.security.status, t.records.len()),
        (SecurityStatus::WrongKey, 0)
    );
    // A changed counter derives other keys.
    let mut recount = f.clone();
    recount[15] ^= 0x01;
    let t = decode(&recount, Some(&key)).expect("not an error");
    assert_eq!(t.security.status, SecurityStatus::WrongKey);
    let e = mbus::explain(&f, Some(&key), None);
    assert!(e.steps.iter().any(|s| s.layer == "afl"));
    assert!(
        e.steps.iter().any(|s| s.detail.contains("MAC verified")),
        "{:?}",
        e.steps
    );
}

#[test]
fn mode5_round_trip() {
    let key = AesKey::from_hex("000102030405060708090A0B0C0D0E0F").expect("key");
    let f = encode::wmbus_frame(&SPEC, &payload(), Some(&key));
    // 2F2F + 24 bytes of records -> 2 blocks; configuration 0x0520 little endian.
    assert_eq!(&f[13..15], &[0x20, 0x05]);
    assert_eq!(f.len(), 15 + 32);
    check(&f, Some(&key), SecurityMode::Mode5, SecurityStatus::Ok);
    check(
        &encode::with_format_a_crcs(&f),
        Some(&key),
        SecurityMode::Mode5,
        SecurityStatus::Ok,
    );
    let t = decode(&f, None).expect("no key is not an error");
    assert_eq!(
        (t.security.status, t.records.len()),
        (SecurityStatus::NoKey, 0)
    );
    let wrong = AesKey::from_bytes([0x55; 16]);
    let t = decode(&f, Some(&wrong)).expect("wrong key is not an error");
    assert_eq!(
        (t.security.status, t.records.len()),
        (SecurityStatus::WrongKey, 0)
    );
}

#[test]
fn plaintext_despite_security_flag() {
    // Header says mode 5 with 2 blocks, payload is plaintext starting with 2F2F.
    let mut p = vec![0x2F, 0x2F];
    p.extend(payload());
    while p.len() % 16 != 0 {
        p.push(0x2F);
    }
    let mut f = encode::wmbus_frame(&SPEC, &p, None);
    f[13] = 0x20;
    f[14] = 0x05;
    check(&f, None, SecurityMode::Mode5, SecurityStatus::Plaintext);
}

#[test]
fn json_shape() {
    let f = encode::wmbus_frame(&SPEC, &payload(), None);
    let t = decode(&f, None).expect("decodes");
    let j: serde_json::Value = serde_json::from_str(&t.to_json()).expect("json");
    assert_eq!(j["manufacturer"], "KAM");
    assert_eq!(j["id"], "76348799");
    assert_eq!(j["device_type"], "water");
    assert_eq!(j["security"]["mode"], "none");
    assert_eq!(j["security"]["status"], "ok");
    assert_eq!(j["records"][0]["quantity"], "volume");
    assert_eq!(j["records"][0]["unit"], "m3");
    assert_eq!(j["records"][0]["value"], 6.408);
    assert_eq!(j["records"][0]["function"], "instantaneous");
    assert_eq!(j["records"][2]["value"], "2022-12-31T23:59");
    assert_eq!(j["info_codes"][2], "low_battery");
}

#[test]
fn bad_crc_and_errors_have_codes_and_messages() {
    let f = encode::with_format_a_crcs(&encode::wmbus_frame(&SPEC, &payload(), None));
    let mut bad = f.clone();
    bad[20] ^= 0xFF;
    let e = decode(&bad, None).expect_err("bad CRC");
    assert_eq!(e.code(), "bad_crc");
    assert!(
        e.to_string().starts_with("checksum error in block 2"),
        "{e}"
    );
    let e = decode(&f[..12], None).expect_err("short");
    assert_eq!(e.code(), "length_mismatch");
    let e = decode(
        &[0x0E, 0x44, 0, 0, 1, 2, 3, 4, 5, 6, 0x7A, 0, 0, 0, 0],
        None,
    )
    .expect_err("manufacturer 0000");
    assert_eq!(e, mbus::DecodeError::UnknownManufacturer { code: 0 });
    let e = decode(&[5, 0x44, 0x2D, 0x2C, 1, 2], None).expect_err("short");
    assert_eq!(
        e.to_string(),
        "telegram too short: 6 bytes, the link-layer header needs 11"
    );
}
