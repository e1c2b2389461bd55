//! Shared helpers for the integration tests: loading the shared test vectors and comparing values.
#![allow(dead_code)]

use std::path::PathBuf;

use mbus::{Quantity, Record, Telegram, Value};

/// The shared vectors folder (outside the repository); tests fail loudly when it is missing.
pub fn vectors_dir() -> PathBuf {
    let dir = PathBuf::from(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/"
    ));
    assert!(
        dir.is_dir(),
        "test vectors folder {} is missing: these tests need the shared/ folder next to the repository",
        dir.display()
    );
    dir
}

pub fn read_vector_file(name: &str) -> String {
    let p = vectors_dir().join(name);
    std::fs::read_to_string(&p)
        .unwrap_or_else(|e| panic!("cannot read test vectors {}: {e}", p.display()))
}

pub fn read_jsonl(name: &str) -> Vec<serde_json::Value> {
    read_vector_file(name)
        .lines()
        .filter(|l| !l.trim().is_empty())
        .map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("bad JSON line in {name}: {e}")))
        .collect()
}

pub fn hex(s: &str) -> Option<Vec<u8>> {
    hex::decode(s.trim()).ok()
}

/// Values agree after unit scaling (the expected side is printed with limited precision).
pub fn close(a: f64, b: f64) -> bool {
    let diff = (a - b).abs();
    diff <= 5e-4_f64.max(b.abs() * 1e-6)
}

pub fn num(r: &Record) -> Option<f64> {
    match r.value {
        Value::Number(n) => Some(n),
        Value::Text(_) => None,
    }
}

/// Does the telegram hold a current (storage 0) record of `q` with this value?
pub fn has_value(t: &Telegram, q: Quantity, storage: Option<u32>, expected: f64) -> bool {
    t.records.iter().any(|r| {
        r.quantity == q
            && storage.is_none_or(|s| r.storage == s)
            && num(r).is_some_and(|v| close(v, expected))
    })
}

/// Keys naming the meter's main total, in order of preference, with the quantity they hold.
pub const TOTAL_KEYS: [(&str, Quantity); 9] = [
    ("total_m3", Quantity::Volume),
    ("total_volume_m3", Quantity::Volume),
    ("total_water_m3", Quantity::Volume),
    ("total_energy_consumption_kwh", Quantity::Energy),
    ("total_kwh", Quantity::Energy),
    ("total_energy_kwh", Quantity::Energy),
    ("total_heat_energy_kwh", Quantity::Energy),
    ("total_heating_kwh", Quantity::Energy),
    ("total_heating_m3", Quantity::Volume),
];

/// The main total of an `expected_json` object, if it has one.
pub fn expected_total(expected: &serde_json::Value) -> Option<(&'static str, Quantity, f64)> {
    TOTAL_KEYS.iter().find_map(|(k, q)| {
        expected
            .get(*k)
            .and_then(serde_json::Value::as_f64)
            .map(|v| (*k, *q, v))
    })
}

pub fn key_of(v: &serde_json::Value) -> Option<mbus::AesKey> {
    v.get("key")
        .and_then(serde_json::Value::as_str)
        .and_then(|k| mbus::AesKey::from_hex(k).ok())
}

/// What the no-panic property tests feed the decoder from a valid frame: the frame picked by
/// `which` with bytes overwritten (`edits`: position modulo the length, new byte), and the
/// same frame then cut at `cut` modulo its length + 1.
pub fn mutations(frames: &[Vec<u8>], which: usize, edits: &[(usize, u8)], cut: usize) -> [Vec<u8>; 2] {
    let mut f = frames.get(which % frames.len().max(1)).cloned().unwrap_or_default();
    for (pos, b) in edits {
        let n = f.len().max(1);
        if let Some(slot) = f.get_mut(pos % n) {
            *slot = *b;
        }
    }
    let mut cut_frame = f.clone();
    cut_frame.truncate(cut % (f.len() + 1));
    [f, cut_frame]
}
