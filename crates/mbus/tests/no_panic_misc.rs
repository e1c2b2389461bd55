//! Property tests for the legacy DES modes 2 and 3: mutated and cut valid frames never make
//! `decode`, `decode_received_on` or `explain` panic, with DES, AES or no key.

use mbus::encode::{self, FrameSpec};
use mbus::{decode, decode_received_on, explain, AesKey, DeviceType};
use proptest::prelude::*;

const DES: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

fn valid_frames() -> Vec<Vec<u8>> {
    let spec = FrameSpec {
        manufacturer: "ALK",
        id: "00000001",
        version: 4,
        device_type: DeviceType::Water,
        access_number: 1,
        status: 0,
    };
    let payload = [0x04, 0x13, 1, 2, 3, 4, 0x02, 0xFD, 0x17, 0, 0, 0x0D, 0x7C, 1, b'x', 2, b'a', b'b'];
    let m2 = encode::wmbus_frame_des(&spec, &payload, DES, None);
    let m3 = encode::wmbus_frame_des(&spec, &payload, DES, Some((2026, 1, 31)));
    vec![encode::with_format_a_crcs(&m2), m2, m3]
}

fn exercise(bytes: &[u8]) {
    let des = AesKey::from_des_bytes(DES);
    let aes = AesKey::from_bytes([1; 16]);
    for key in [None, Some(&des), Some(&aes)] {
        if let Ok(t) = decode(bytes, key) {
            let _ = t.to_json();
        }
        let _ = decode_received_on(bytes, key, None, (2026, 1, 31));
        let _ = decode_received_on(bytes, key, None, (0, 0, 0));
        let _ = explain(bytes, key, None);
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_des_frames_never_panic(
        which in 0usize..3,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let frames = valid_frames();
        let mut f = frames[which % frames.len()].clone();
        for (pos, b) in edits {
            let n = f.len().max(1);
            if let Some(slot) = f.get_mut(pos % n) {
                *slot = b;
            }
        }
        exercise(&f);
        let n = f.len() + 1;
        f.truncate(cut % n);
        exercise(&f);
    }
}
