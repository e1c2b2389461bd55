//! Property tests for the Qundis walk-by, BFW 240 radio and Zenner B.One families: `decode` and
//! `explain` never panic on mutations of valid frames of these families (built here from their
//! formats) nor on random bodies behind their headers.

use mbus::encode::{self, FrameSpec};
use mbus::{decode, explain, AesKey, DeviceType};
use proptest::prelude::*;

const KEY: [u8; 16] = [1; 16];

/// A Qundis walk-by data set (53 bytes) of the given kind and VIF, plaintext.
fn walk_by(kind: u8, vif: u8) -> Vec<u8> {
    let mut d = vec![0x00, 0x82, 0x11, 0x00, 0x00, 0x60, 0x01, 0x07, kind, vif];
    d.extend([0xFF, 0xFF, 0x48, 0x20, 0x00, 0x00, 0xBF, 0x2C, 0x91, 0x17, 0x00, 0x00, 0xDF, 0x21, 0x20, 0x20, 0x00, 0x00]);
    for i in 0..12u8 {
        d.extend([i, 0x00]);
    }
    d.push(0x00);
    d
}

/// The link header of a Qundis meter and CI 78, then the walk-by record, a filler and a date.
fn qundis_frame(dev: u8, set: &[u8]) -> Vec<u8> {
    let mut f = vec![0x00, 0x44, 0x93, 0x44, 0x48, 0x36, 0x35, 0x12, 0x18, dev, 0x78, 0x0D, 0xFF, 0x5F];
    f.push(set.len() as u8);
    f.extend_from_slice(set);
    f.extend([0x2F, 0x04, 0x6D, 0x37, 0x0C, 0xC4, 0x22]);
    f[0] = (f.len() - 1) as u8;
    f
}

/// The data set as the encrypted modules send it: bytes 5..53 AES-128-CBC under `KEY`, IV from
/// the link address and the data set's counter, i.e. OMS mode 5's IV with the counter as access
/// number. The status bytes 5-6 are set to 2F 2F so that the mode 5 frame builder (which
/// encrypts 2F2F + payload) produces exactly that cipher text from payload = bytes 7..53.
fn encrypted_walk_by(set: &[u8]) -> Vec<u8> {
    let spec = FrameSpec {
        manufacturer: "QDS",
        id: "12353648",
        version: 0x18,
        device_type: DeviceType::from_code(0x06),
        access_number: set[2],
        status: 0,
    };
    let f = encode::wmbus_frame(&spec, &set[7..53], Some(&AesKey::from_bytes(KEY)));
    let mut out = set[..5].to_vec();
    out[4] = 0x35;
    out.extend(f.iter().skip(15).take(48));
    out
}

fn bfw_frame() -> Vec<u8> {
    let mut f = vec![0x00, 0x44, 0xD7, 0x08, 0x88, 0x77, 0x70, 0x00, 0x02, 0x08, 0x7A, 0xDB, 0xC0, 0x00, 0x00];
    f.extend([0x2F, 0x2F, 0x9E, 0x1F, 0x03, 0xC1, 0x03, 0x88, 0x15, 0x2A]);
    for i in 0..9u8 {
        f.extend([i, 0x12, i.wrapping_mul(7)]);
    }
    f.extend([0x28, 0x02, 0x21]);
    f[0] = (f.len() - 1) as u8;
    f
}

fn zenner_frames() -> Vec<Vec<u8>> {
    let spec = FrameSpec {
        manufacturer: "ZRI",
        id: "50087367",
        version: 0x0B,
        device_type: DeviceType::from_code(0x16),
        access_number: 0xD8,
        status: 0,
    };
    let mut p = vec![0x0F];
    p.extend([0x80, 0xBF, 0x1B, 0x00, 0x80, 0xBF, 0x1B, 0x00, 0x00, 0xA6, 0x42, 0x00, 0x00]);
    vec![
        encode::wmbus_frame(&spec, &p, None),
        encode::wmbus_frame(&spec, &p, Some(&AesKey::from_bytes(KEY))),
    ]
}

fn valid_frames() -> Vec<Vec<u8>> {
    let water = walk_by(0xC1, 0x13);
    let mut hidden = water.clone();
    hidden[5] = 0x2F;
    hidden[6] = 0x2F;
    let mut v = vec![
        qundis_frame(0x06, &water),
        qundis_frame(0x37, &walk_by(0xC0, 0x0D)),
        qundis_frame(0x08, &walk_by(0xB0, 0x6E)),
        qundis_frame(0x06, &encrypted_walk_by(&hidden)),
        bfw_frame(),
    ];
    v.extend(zenner_frames());
    let with_crcs: Vec<Vec<u8>> = v.iter().map(|f| encode::with_format_a_crcs(f)).collect();
    v.extend(with_crcs);
    v
}

fn exercise(bytes: &[u8]) {
    let key = AesKey::from_bytes(KEY);
    let _ = decode(bytes, None);
    let _ = explain(bytes, Some(&key), None);
    if let Ok(t) = decode(bytes, Some(&key)) {
        let _ = t.to_json();
    }
}

#[test]
fn the_valid_frames_decode() {
    let key = AesKey::from_bytes(KEY);
    for f in valid_frames() {
        let t = decode(&f, Some(&key)).unwrap_or_else(|e| panic!("{}: {e}", hex::encode_upper(&f)));
        assert_eq!(t.security.status, mbus::SecurityStatus::Ok, "{}", hex::encode_upper(&f));
        assert!(
            t.records.iter().any(|r| r.storage == 0
                && matches!(r.quantity, mbus::Quantity::Volume | mbus::Quantity::Energy | mbus::Quantity::HcaUnits)),
            "{}: {t:?}",
            hex::encode_upper(&f)
        );
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_family_frames_never_panic(
        which in 0usize..64,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let frames = valid_frames();
        let mut f = frames[which % frames.len()].clone();
        for (pos, b) in edits {
            let n = f.len();
            f[pos % n] = b;
        }
        exercise(&f);
        f.truncate(cut % (f.len() + 1));
        exercise(&f);
        let l = f.len().saturating_sub(1) as u8;
        if let Some(first) = f.first_mut() {
            *first = l;
        }
        exercise(&f);
    }

    #[test]
    fn random_bodies_behind_family_headers_never_panic(
        which in 0usize..3,
        body in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let head: &[u8] = match which {
            0 => &[0, 0x44, 0x93, 0x44, 0x48, 0x36, 0x35, 0x12, 0x18, 0x06, 0x78, 0x0D, 0xFF, 0x5F, 0x35, 0x00, 0x82, 0x11, 0x00],
            1 => &[0, 0x44, 0xD7, 0x08, 0x88, 0x77, 0x70, 0x00, 0x02, 0x08, 0x7A, 0xDB, 0xC0, 0x00, 0x00, 0x2F, 0x2F],
            _ => &[0, 0x44, 0x49, 0x6A, 0x67, 0x73, 0x08, 0x50, 0x0B, 0x16, 0x7A, 0xD8, 0x00, 0x00, 0x00, 0x2F, 0x2F, 0x0F],
        };
        let mut f = head.to_vec();
        f.extend(body);
        f[0] = (f.len() - 1) as u8;
        exercise(&f);
        let mut enc = f.clone();
        if enc.len() > 19 {
            enc[18] = 0x35;
        }
        exercise(&enc);
    }
}
