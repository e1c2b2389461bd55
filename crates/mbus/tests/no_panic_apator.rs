//! Property tests for the Apator families: `decode` and `explain` never panic on mutations of
//! valid Apator telegrams (built here from the formats, not copied from any vector), nor on
//! arbitrary bytes after each Apator CI.

mod common;

use aes::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use mbus::{decode, explain, AesKey};
use proptest::prelude::*;

const KEY: [u8; 16] = [1; 16];

fn cbc(m: [u8; 2], a: [u8; 6], access: u8, plain: &[u8]) -> Vec<u8> {
    let mut iv = [access; 16];
    iv[..2].copy_from_slice(&m);
    iv[2..8].copy_from_slice(&a);
    let mut buf = plain.to_vec();
    let n = buf.len();
    let enc = cbc::Encryptor::<aes::Aes128>::new((&KEY).into(), (&iv).into());
    let _ = enc.encrypt_padded_mut::<NoPadding>(&mut buf, n);
    buf
}

fn frame(m: [u8; 2], a: [u8; 6], rest: &[u8]) -> Vec<u8> {
    let mut f = vec![0, 0x44, m[0], m[1]];
    f.extend_from_slice(&a);
    f.extend_from_slice(rest);
    f[0] = (f.len() - 1) as u8;
    f
}

/// Apator 162 register block: date, faults, days, history 72, total, events 84, A0, padding.
fn register_block() -> Vec<u8> {
    let mut b = vec![0x0A, 0x73, 0x43, 0x93, 0x10, 0x02, 0x00, 0x43, 0x5B, 0x01];
    b.extend_from_slice(&[0x72, 0x01, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0, 0]);
    b.extend_from_slice(&[0x10, 0x03, 0x0F, 0x00, 0x00]);
    b.extend_from_slice(&[0x84, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 0xA0, 1, 2, 3, 4]);
    b
}

fn valid_frames() -> Vec<Vec<u8>> {
    let apa = [0x01, 0x06];
    let apt = [0x14, 0x86];
    let mut v = Vec::new();
    // Apator 08 and 172: counter after CI A0.
    v.push(frame(apt, [6, 0x9C, 0x14, 0, 0x0F, 0x0F], &[0xA0, 0x42, 0xF2, 0x14, 0, 0, 0x40, 3, 0]));
    v.push(frame(apt, [7, 0xA8, 0x14, 0, 0x04, 0x11], &[0xA0, 0x1D, 0x54, 0, 0, 8, 0x40]));
    // Apator 162: CI 7A, no encryption, 2F2F, DIF 0F, register block, padding, check value.
    let mut p = vec![0x7A, 0x13, 0x00, 0x00, 0x00, 0x2F, 0x2F, 0x0F];
    p.extend_from_slice(&register_block());
    p.extend_from_slice(&[0xFF, 0xFF, 0x19, 0x77]);
    v.push(frame(apa, [0x20, 0x20, 0x20, 0x21, 0x05, 0x07], &p));
    // The same block in mode 5 inside the B6 wrapper.
    let a = [0x37, 0x37, 0x37, 0x37, 0x05, 0x07];
    let mut plain = vec![0x2F, 0x2F, 0x0D];
    plain.extend_from_slice(&register_block());
    plain.resize(48, 0xFF);
    let mut w = vec![0xB6, 0x0A, 0xFF, 0xFF, 0xF5, 0x45, 0x01, 0x06, 0xF4, 0x1B, 0xA5, 0x71];
    w.extend_from_slice(&[0x7A, 0x87, 0x00, 0x30, 0x05]);
    w.extend_from_slice(&cbc(apa, a, 0x87, &plain));
    v.push(frame(apt, a, &w));
    // E-ITN, CI A0 and inside B6.
    let eitn = [0xA0, 0xA1, 0, 0, 0x59, 0, 0x1C, 0x27, 1, 0, 0x32, 0x2D, 0xE4, 0x13, 0xB4, 0x15];
    v.push(frame([0x01, 0x86], [0x31, 0x37, 0x37, 0x37, 0x04, 0x08], &eitn));
    let mut w = vec![0xB6, 0x04, 0xFF, 0xFF, 0xF1, 0x46];
    w.extend_from_slice(&eitn);
    v.push(frame(apt, [0x33, 0x37, 0x37, 0x37, 0x04, 0x08], &w));
    // NA-1: access number, frame status, one encrypted block starting 2F.
    let a = [0x81, 0x35, 0x91, 0x04, 0x14, 0x07];
    let block = [0x2F, 0, 0x4E, 0x54, 0, 0x2C, 0xB0, 0x91, 0x2D, 0x21, 0x09, 0xA5, 0x2B, 0, 0, 0x80];
    let mut n = vec![0xA1, 0xB0, 0x01];
    n.extend_from_slice(&cbc(apa, a, 0xB0, &block));
    v.push(frame(apa, a, &n));
    v
}

fn exercise(bytes: &[u8]) {
    let key = AesKey::from_bytes(KEY);
    let _ = decode(bytes, None);
    if let Ok(t) = decode(bytes, Some(&key)) {
        let _ = t.to_json();
    }
    let _ = explain(bytes, Some(&key), None);
}

#[test]
fn the_valid_frames_decode() {
    let key = AesKey::from_bytes(KEY);
    for f in valid_frames() {
        let t = decode(&f, Some(&key)).unwrap_or_else(|e| panic!("{}: {e}", hex::encode_upper(&f)));
        assert!(!t.records.is_empty(), "{}", hex::encode_upper(&f));
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 3000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_apator_frames_never_panic(
        which in 0usize..7,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
    ) {
        let [edited, mut f] = common::mutations(&valid_frames(), which, &edits, cut);
        exercise(&edited);
        exercise(&f);
        // The cut frame with its L field adjusted, so that the Apator layer sees it.
        let len = f.len();
        if let Some(l) = f.first_mut() {
            *l = len.saturating_sub(1).min(255) as u8;
        }
        exercise(&f);
    }

    #[test]
    fn anything_after_an_apator_ci_never_panics(
        which in 0usize..7,
        ci in prop::sample::select(vec![0xA0u8, 0xA1, 0xB6, 0x7A]),
        body in proptest::collection::vec(any::<u8>(), 0..120),
    ) {
        let heads: [([u8; 2], [u8; 6]); 7] = [
            ([0x14, 0x86], [1, 2, 3, 4, 0x0F, 0x0F]),
            ([0x14, 0x86], [1, 2, 3, 4, 0x03, 0x03]),
            ([0x14, 0x86], [1, 2, 3, 4, 0x04, 0x11]),
            ([0x01, 0x06], [1, 2, 3, 4, 0x05, 0x07]),
            ([0x01, 0x86], [1, 2, 3, 4, 0x04, 0x08]),
            ([0x01, 0x06], [1, 2, 3, 4, 0x14, 0x07]),
            ([0x14, 0x86], [1, 2, 3, 4, 0x05, 0x07]),
        ];
        let (m, a) = heads[which % heads.len()];
        let mut rest = vec![ci];
        rest.extend_from_slice(&body);
        exercise(&frame(m, a, &rest));
    }
}
