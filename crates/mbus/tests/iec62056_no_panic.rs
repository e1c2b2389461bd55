//! IEC 62056-21 readouts: no input makes the parser or the capture splitter panic, and a
//! readout built from arbitrary data sets reads back as built.

use mbus::iec62056::{parse_identification, parse_readout, readout_bytes, split_capture, Check, Piece};
use proptest::prelude::*;

fn message(ident: &str, lines: &[String]) -> Vec<u8> {
    readout_bytes(ident, lines)
}

fn exercise(bytes: &[u8]) {
    let _ = parse_identification(bytes);
    if let Ok(r) = parse_readout(bytes) {
        for d in &r.data_sets {
            for v in &d.values {
                let _ = v.number();
            }
        }
    }
    for p in split_capture(bytes) {
        if let Piece::Readout { start, end, .. } = p {
            let _ = parse_readout(&bytes[start..end]);
        }
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400)) {
        exercise(&bytes);
    }

    #[test]
    fn readout_like_text_never_panics(body in "[/!()*.:0-9A-Z\\-\r\n\x02\x03 ]{0,300}") {
        let mut b = b"/LGZ5X\r\n\x02".to_vec();
        b.extend_from_slice(body.as_bytes());
        exercise(&b);
    }

    #[test]
    fn mutated_readouts_never_panic(edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6), cut in any::<usize>()) {
        let mut r = message("/LGZ5ZMD3104407.B32", &["1.8.0(0012345.678*kWh)".into(), "1-0:2.8.0(1*kWh)0.9.1(120000)".into(), "F.F(00)".into()]);
        for (pos, b) in edits {
            let i = pos % r.len();
            r[i] = b;
        }
        r.truncate(cut % (r.len() + 1));
        exercise(&r);
    }

    #[test]
    fn built_readouts_read_back(sets in proptest::collection::vec((1u8..=99, 0u8..=99, 0u8..=9, 0u32..10_000_000, prop::sample::select(vec!["kWh", "kW", "V", ""])), 1..12)) {
        let lines: Vec<String> = sets.iter().map(|(c, d, e, v, u)| {
            if u.is_empty() { format!("1-0:{c}.{d}.{e}({v})") } else { format!("{c}.{d}.{e}({v}.5*{u})") }
        }).collect();
        let readout = parse_readout(&message("/ISk5MT382", &lines)).expect("readout");
        prop_assert_eq!(readout.check, Check::Bcc);
        prop_assert_eq!(readout.data_sets.len(), sets.len());
        for (d, (c, dd, e, v, u)) in readout.data_sets.iter().zip(&sets) {
            prop_assert_eq!(d.obis.map(|o| o.cde()), Some((*c, *dd, *e)));
            let expected = if u.is_empty() { f64::from(*v) } else { f64::from(*v) + 0.5 };
            prop_assert_eq!(d.values[0].number(), Some(expected));
        }
    }
}
