//! Property tests: Techem's own application layers (CI A0-A2, vendor `techem_*` families) never
//! make `decode`, `explain` or `peek_address` panic, on mutations of valid frames of every
//! known version and on arbitrary layers behind a Techem address.

mod common;

use mbus::{decode, encode, explain, peek_address, AesKey};
use proptest::prelude::*;

/// A Techem frame without data-link CRCs: L C M(TCH) id version type CI payload.
fn frame(version: u8, device_type: u8, ci: u8, payload: &[u8]) -> Vec<u8> {
    let mut f = vec![
        0,
        0x44,
        0x68,
        0x50,
        0x21,
        0x43,
        0x65,
        0x87,
        version,
        device_type,
        ci,
    ];
    f.extend_from_slice(payload);
    f.truncate(256);
    f[0] = (f.len() - 1) as u8;
    f
}

/// Valid frames of each family, built from the layouts (see `vendor/techem_*.rs`).
fn valid_frames() -> Vec<Vec<u8>> {
    // Heat: billing date 2023-12-31, reading 123456, 2345 since.
    let heat = [
        0x10, 0x9F, 0x2F, 0x40, 0xE2, 0x01, 0x60, 0x29, 0x09, 0x00, 0x00, 0x80, 1, 2, 3, 4,
    ];
    // Water radio 3/4: billing 2021-09-30, 1234.5 m3, 2022-02-14, 56.7 m3 since.
    let water = [
        0x06, 0x3E, 0x2B, 0x39, 0x30, 0xE0, 0x04, 0x37, 0x02, 0, 0, 3, 6, 6,
    ];
    // Water radio 3a: 2024-03-20, 12 345.6 m3, then twelve half-month groups.
    let mut water3a = vec![0x0C, 0x00, 0x74, 0x30, 0x40, 0xE2, 0x01, 0x00];
    for i in 0..12u8 {
        water3a.extend([i, i + 1, 0]);
    }
    // Allocator version 69: billing 2022-12-31, 987 units, 2023-03-15, 54 units, temperatures.
    let hca69 = [
        0x11, 0x9F, 0x2D, 0xDB, 0x03, 0xF0, 0x06, 0x36, 0x00, 0x66, 0x08, 0xA7, 0x0F, 0, 0, 0,
    ];
    let mut hca94 = hca69.to_vec();
    hca94.insert(9, 0x11);
    let plain = vec![
        frame(0x45, 0x43, 0xA1, &heat),
        frame(0x39, 0x43, 0xA2, &heat),
        frame(0x27, 0xC3, 0xA2, &heat),
        frame(0x74, 0x62, 0xA2, &water),
        frame(0x95, 0x72, 0xA2, &water),
        frame(0x50, 0x72, 0xA2, &water3a),
        frame(0x69, 0x80, 0xA0, &hca69),
        frame(0x94, 0x80, 0xA2, &hca94),
        frame(0x61, 0x80, 0xA0, &hca69[..9]),
    ];
    let mut all: Vec<Vec<u8>> = plain
        .iter()
        .map(|f| encode::with_format_a_crcs(f))
        .collect();
    all.extend(plain);
    all
}

fn exercise(bytes: &[u8]) {
    let key = AesKey::from_bytes([1; 16]);
    let _ = peek_address(bytes);
    let _ = explain(bytes, None, None);
    if let Ok(t) = decode(bytes, Some(&key)) {
        let _ = t.to_json();
    }
}

#[test]
fn the_valid_frames_decode() {
    for f in valid_frames() {
        let t = decode(&f, None).unwrap_or_else(|e| panic!("{f:02X?}: {e}"));
        assert!(!t.records.is_empty(), "{f:02X?}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_techem_frames_never_panic(
        which in 0usize..18,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let [edited, cut] = common::mutations(&valid_frames(), which, &edits, cut);
        exercise(&edited);
        exercise(&cut);
    }

    #[test]
    fn arbitrary_techem_layers_never_panic(
        version in prop::sample::select(vec![0x22u8, 0x27, 0x39, 0x45, 0x50, 0x61, 0x64, 0x69, 0x70, 0x74, 0x94, 0x95, 0x00, 0xFF]),
        device_type in prop::sample::select(vec![0x04u8, 0x43, 0x45, 0xC3, 0x62, 0x72, 0x80, 0xF0]),
        ci in 0xA0u8..=0xA2,
        payload in proptest::collection::vec(any::<u8>(), 0..60),
    ) {
        let f = frame(version, device_type, ci, &payload);
        exercise(&f);
        exercise(&encode::with_format_a_crcs(&f));
    }
}
