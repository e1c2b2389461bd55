//! Layer behaviours added for field use: AFL fragments, trailing bytes after the L-counted frame,
//! broken trailing records (wireless: kept records; wired: error), special DIFs with the
//! extension bit, wired frame types, and FormatCache persistence through `entries`.

use mbus::encode::{self, FrameSpec};
use mbus::{
    decode, decode_with_formats, explain, parse_wired_frame, AesKey, DeviceType, FormatCache,
    Quantity, SecurityStatus, WiredFrame,
};

const SPEC: FrameSpec = FrameSpec {
    manufacturer: "ABC",
    id: "12345678",
    version: 1,
    device_type: DeviceType::Water,
    access_number: 7,
    status: 0,
};

fn volume(t: &mbus::Telegram) -> Option<f64> {
    t.records
        .iter()
        .find(|r| r.quantity == Quantity::Volume)
        .and_then(|r| r.value.as_f64())
}

#[test]
fn afl_fragment_is_reported() {
    let key = AesKey::from_bytes([1; 16]);
    let mut f = encode::wmbus_frame_mode7(&SPEC, &[0x04, 0x13, 1, 0, 0, 0], &key, 1);
    // FCL bit 14: more fragments follow.
    f[13] |= 0x40;
    assert_eq!(
        decode(&f, Some(&key)).map_err(|e| e.code()),
        Err("fragmented")
    );
}

#[test]
fn trailing_bytes_after_the_frame_are_ignored() {
    let mut f = encode::wmbus_frame(&SPEC, &[0x04, 0x13, 0x39, 0x30, 0, 0], None);
    f.extend_from_slice(&[0xAA, 0xBB, 0xCC]);
    let t = decode(&f, None).expect("decodes");
    assert_eq!(volume(&t), Some(12.345));
    let e = explain(&f, None, None);
    assert!(
        e.steps.iter().any(|s| s.detail.contains("3 bytes after")),
        "{:?}",
        e.steps
    );
}

#[test]
fn broken_trailing_record_wireless_keeps_records_wired_fails() {
    // Volume record, then a DIF 04 without its VIF.
    let payload = [0x04, 0x13, 0x39, 0x30, 0, 0, 0x04];
    let f = encode::wmbus_frame(&SPEC, &payload, None);
    let t = decode(&f, None).expect("wireless keeps the complete records");
    assert_eq!(volume(&t), Some(12.345));
    // The same records in a wired long frame are an error.
    let mut body = vec![
        0x08, 0x01, 0x72, 0x78, 0x56, 0x34, 0x12, 0x21, 0x04, 0x01, 0x07, 7, 0, 0, 0,
    ];
    body.extend_from_slice(&payload);
    let mut w = vec![0x68, body.len() as u8, body.len() as u8, 0x68];
    w.extend_from_slice(&body);
    w.push(body.iter().fold(0u8, |a, b| a.wrapping_add(*b)));
    w.push(0x16);
    assert!(matches!(
        parse_wired_frame(&w),
        Ok(WiredFrame::Long { ci: 0x72, .. })
    ));
    assert_eq!(decode(&w, None).map_err(|e| e.code()), Err("bad_record"));
}

#[test]
fn special_dif_with_extension_bit_is_padding() {
    let f = encode::wmbus_frame(&SPEC, &[0x04, 0x13, 0x39, 0x30, 0, 0, 0xFF, 0xFF], None);
    let t = decode(&f, None).expect("decodes");
    assert_eq!((volume(&t), t.records.len()), (Some(12.345), 1));
}

#[test]
fn format_cache_round_trips_through_entries() {
    // A Kamstrup-style full frame (CI 78 behind ELL-I) and its compact frame (CI 79).
    let full = hex::decode(
        "24442D2C998734761B168C2091782F2F02FF2000000413B41800004413B4180000615B7F616713",
    )
    .expect("hex");
    let mut learned = FormatCache::new();
    let sig = learned.learn(&full, None).expect("learns");
    let restored = FormatCache::from_entries(learned.entries());
    assert_eq!(restored.get(sig), learned.get(sig));
    let layout = learned.get(sig).expect("layout").to_vec();
    let mut compact = hex::decode("442D2C998734761B168C2091").expect("hex");
    compact.push(0x79);
    compact.extend_from_slice(&sig.to_le_bytes());
    compact.extend_from_slice(&[0, 0]);
    compact.extend_from_slice(&hex::decode("0000B4180000B41800007F13").expect("hex"));
    compact.insert(0, compact.len() as u8);
    let t = decode_with_formats(&compact, None, &restored).expect("compact decodes");
    assert_eq!(volume(&t), Some(6.324));
    assert!(!layout.is_empty());
}

#[test]
fn wrong_key_never_gives_values() {
    let key = AesKey::from_bytes([9; 16]);
    let wrong = AesKey::from_bytes([8; 16]);
    for f in [
        encode::wmbus_frame(&SPEC, &[0x04, 0x13, 1, 0, 0, 0], Some(&key)),
        encode::wmbus_frame_mode7(&SPEC, &[0x04, 0x13, 1, 0, 0, 0], &key, 77),
    ] {
        let t = decode(&f, Some(&wrong)).expect("not an error");
        assert_eq!(
            (t.security.status, t.records.len()),
            (SecurityStatus::WrongKey, 0)
        );
        assert_eq!(
            decode(&f, Some(&key)).map(|t| t.security.status),
            Ok(SecurityStatus::Ok)
        );
    }
}
