//! Legacy DES security modes 2 and 3 (EN 13757-3:2004, deprecated by EN 13757-7): frames built
//! with `encode::wmbus_frame_des`, and the public mode 2 telegram of wmbusmeters' actislink test.

use mbus::encode::{self, FrameSpec};
use mbus::{
    decode, decode_received_on, explain, AesKey, DecodeError, DeviceType, KeyKind, Quantity,
    SecurityMode, SecurityStatus, Value,
};

const KEY: [u8; 8] = [0x13, 0x34, 0x57, 0x79, 0x9B, 0xBC, 0xDF, 0xF1];

fn spec() -> FrameSpec<'static> {
    FrameSpec {
        manufacturer: "ALK",
        id: "12345678",
        version: 4,
        device_type: DeviceType::Water,
        access_number: 9,
        status: 0,
    }
}

/// Volume 123.456 m3 (04 13, litres) and a 20-byte string record, so two 16-byte units.
fn payload() -> Vec<u8> {
    let mut p = encode::record(&[0x04], &[0x13], &123_456u32.to_le_bytes());
    p.extend(encode::record(&[0x0D], &[0x7C, 0x01, b'x'], &[4, b'a', b'b', b'c', b'd']));
    p
}

fn volume(t: &mbus::Telegram) -> Option<f64> {
    t.records.iter().find(|r| r.quantity == Quantity::Volume).and_then(|r| match r.value {
        Value::Number(n) => Some(n),
        Value::Text(_) => None,
    })
}

#[test]
fn mode2_round_trip_and_outcomes() {
    let frame = encode::wmbus_frame_des(&spec(), &payload(), KEY, None);
    let key = AesKey::from_des_bytes(KEY);
    let t = decode(&frame, Some(&key)).expect("decodes");
    assert_eq!((t.security.mode, t.security.status), (SecurityMode::Mode2, SecurityStatus::Ok));
    assert_eq!(volume(&t), Some(123.456));
    assert_eq!(t.records.len(), 2);
    let none = decode(&frame, None).expect("header decodes");
    assert_eq!((none.security.status, none.records.len()), (SecurityStatus::NoKey, 0));
    let wrong = decode(&frame, Some(&AesKey::from_des_bytes([1; 8]))).expect("header decodes");
    assert_eq!((wrong.security.status, wrong.records.len()), (SecurityStatus::WrongKey, 0));
    // An AES key on a DES meter is a wrong key, never a padded DES key.
    let mut aes = [0u8; 16];
    aes[..8].copy_from_slice(&KEY);
    let aes = decode(&frame, Some(&AesKey::from_bytes(aes))).expect("header decodes");
    assert_eq!(aes.security.status, SecurityStatus::WrongKey);
    // And a DES key on an AES mode 5 meter likewise.
    let m5 = encode::wmbus_frame(&spec(), &payload(), Some(&AesKey::from_bytes([7; 16])));
    let t = decode(&m5, Some(&key)).expect("header decodes");
    assert_eq!((t.security.mode, t.security.status), (SecurityMode::Mode5, SecurityStatus::WrongKey));
    let steps = explain(&frame, Some(&key), None).steps;
    assert!(steps.iter().any(|s| s.detail.contains("DES-CBC") && s.detail.contains("mode 2")), "{steps:?}");
}

#[test]
fn mode3_needs_the_date_of_sending() {
    let day = (2025, 10, 17);
    let frame = encode::wmbus_frame_des(&spec(), &payload(), KEY, Some(day));
    let key = AesKey::from_des_bytes(KEY);
    let t = decode_received_on(&frame, Some(&key), None, day).expect("decodes");
    assert_eq!((t.security.mode, t.security.status), (SecurityMode::Mode3, SecurityStatus::Ok));
    assert_eq!(volume(&t), Some(123.456));
    // Without the date: the key is checked (the 2F2F bytes do not depend on the date) and the
    // error says the date is needed.
    assert_eq!(decode(&frame, Some(&key)).map(|_| ()), Err(DecodeError::DateNeeded { mode: 3 }));
    let wrong = decode(&frame, Some(&AesKey::from_des_bytes([2; 8]))).expect("header decodes");
    assert_eq!(wrong.security.status, SecurityStatus::WrongKey);
    assert_eq!(decode(&frame, None).map(|t| t.security.status), Ok(SecurityStatus::NoKey));
    // Another day garbles payload bytes 6-7 only (the volume's top bytes): the check passes,
    // the value differs.
    let other = decode_received_on(&frame, Some(&key), None, (2025, 10, 16)).expect("decodes");
    assert_ne!(volume(&other), Some(123.456));
}

#[test]
fn des_key_from_hex() {
    let k = AesKey::from_hex("0102030405060708").expect("16 hex digits");
    assert_eq!(k.kind(), KeyKind::Des);
    assert_eq!(AesKey::from_hex("000102030405060708090A0B0C0D0E0F").map(|k| k.kind()), Ok(KeyKind::Aes128));
}

#[test]
fn actislink_mode2_vector() {
    // wmbusmeters' actislink driver test (GURKA): mode 2, key 0102030405060708, 1 m3.
    let frame = hex::decode("1E468B050100000004077A01001002BBD1EAFD0222F871CB70DA16C78AE098").expect("hex");
    let key = AesKey::from_hex("0102030405060708").expect("key");
    let t = decode(&frame, Some(&key)).expect("decodes");
    assert_eq!((t.security.mode, t.security.status), (SecurityMode::Mode2, SecurityStatus::Ok));
    assert_eq!(volume(&t), Some(1.0));
}
