//! Property tests: `decode` and `peek_address` never panic, on arbitrary bytes and on mutations
//! of valid frames (plaintext, mode 5, format A, wired).

mod common;

use mbus::encode::{self, FrameSpec};
use mbus::{decode, peek_address, AesKey, DeviceType};
use proptest::prelude::*;

fn valid_frames() -> Vec<Vec<u8>> {
    let spec = FrameSpec {
        manufacturer: "DWZ",
        id: "12345678",
        version: 2,
        device_type: DeviceType::Water,
        access_number: 7,
        status: 0,
    };
    let key = AesKey::from_bytes([1; 16]);
    let payload = [
        0x04, 0x13, 1, 2, 3, 4, 0x02, 0xFD, 0x48, 0x10, 0x01, 0x0D, 0x7C, 0x01, b'x', 0x02, b'a',
        b'b', 0x0F, 9, 9,
    ];
    let plain = encode::wmbus_frame(&spec, &payload, None);
    let enc = encode::wmbus_frame(&spec, &payload, Some(&key));
    let wired = hex::decode(
        "68464668084A72447744772D2C3404060000000406CE86000004FF073444020004FF08F8CE0100041411680300043B0F02000002593C19025DA41104FF220000000004A5FF21C7D02700D916",
    )
    .unwrap_or_default();
    let ell = hex::decode(
        "2A442D2C998734761B168D2091D37CAC21E1D68CDAFFCD3DC452BD802913FF7B1706CA9E355D6C2701CC24",
    )
    .unwrap_or_default();
    vec![
        encode::with_format_a_crcs(&plain),
        encode::with_format_a_crcs(&enc),
        plain,
        enc,
        wired,
        ell,
    ]
}

fn exercise(bytes: &[u8]) {
    let key = AesKey::from_bytes([1; 16]);
    let _ = peek_address(bytes);
    let _ = decode(bytes, None);
    if let Ok(t) = decode(bytes, Some(&key)) {
        let _ = t.to_json();
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 4000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        exercise(&bytes);
    }

    #[test]
    fn frames_with_valid_header_never_panic(
        ci in prop::sample::select(vec![0x72u8, 0x7A, 0x78, 0x79, 0x8C, 0x8D, 0x8E, 0x8F, 0x90]),
        body in proptest::collection::vec(any::<u8>(), 0..260),
    ) {
        let mut f = vec![0u8, 0x44, 0x2D, 0x2C, 0x99, 0x87, 0x34, 0x76, 0x1B, 0x16, ci];
        f.extend_from_slice(&body);
        f.truncate(256);
        f[0] = (f.len() - 1) as u8;
        exercise(&f);
        exercise(&encode::with_format_a_crcs(&f));
    }

    #[test]
    fn mutated_valid_frames_never_panic(
        which in 0usize..6,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let [edited, cut] = common::mutations(&valid_frames(), which, &edits, cut);
        exercise(&edited);
        exercise(&cut);
    }

    #[test]
    fn record_payloads_never_panic(payload in proptest::collection::vec(any::<u8>(), 0..200)) {
        let spec = FrameSpec { manufacturer: "KAM", id: "00000001", version: 1, device_type: DeviceType::Heat, access_number: 1, status: 0 };
        let f = encode::wmbus_frame(&spec, &payload, None);
        exercise(&f);
    }
}

/// The master's readers on anything a bus may bring back: never a panic, and what they build
/// always parses.
fn exercise_master(bytes: &[u8]) {
    use mbus::master;
    let _ = master::frame_length(bytes);
    let _ = master::identity(bytes);
    let _ = master::more_records_follow(bytes);
    let _ = master::fixed_answer(bytes);
    if let Some(more) = master::with_more_records_follow(bytes) {
        let _ = master::more_records_follow(&more);
    }
    if let Ok(text) = std::str::from_utf8(bytes) {
        let _ = master::SecondaryMask::parse(text);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn master_readers_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..300)) {
        exercise_master(&bytes);
    }

    #[test]
    fn master_readers_on_long_frames_never_panic(
        ci in prop::sample::select(vec![0x72u8, 0x73, 0x76, 0x52, 0x51]),
        a in any::<u8>(),
        data in proptest::collection::vec(any::<u8>(), 0..252),
    ) {
        if let Some(f) = mbus::master::long_frame(0x08, a, ci, &data) {
            exercise_master(&f);
            let _ = decode(&f, None);
        }
    }

    #[test]
    fn masks_round_trip(data in any::<[u8; 8]>(), text in "[0-9F]{8}[0-9A-F]{8}") {
        let m = mbus::master::SecondaryMask::from_select_data(data);
        prop_assert_eq!(mbus::master::SecondaryMask::from_select_data(m.select_data()), m);
        let parsed = mbus::master::SecondaryMask::parse(&text).expect("16 characters");
        prop_assert_eq!(parsed.text(), text);
        prop_assert!(mbus::parse_wired_frame(&mbus::master::select(&parsed)).is_ok());
    }
}
