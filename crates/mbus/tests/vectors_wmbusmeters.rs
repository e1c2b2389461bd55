//! Conformance: how many wmbusmeters driver-test telegrams with a total volume/energy decode to that
//! total. A floor guards against regressions; the failures are printed for the next round of work.

mod common;

use common::{expected_total, has_value, hex, read_jsonl};
use mbus::{decode_with_formats, AesKey, FormatCache, SecurityStatus};

/// The number of matching vectors reached so far; raise it when the decoder improves.
const FLOOR: usize = 167;

#[test]
fn wmbusmeters_totals() {
    let rows = read_jsonl("wmbusmeters_vectors.jsonl");
    assert!(
        rows.len() > 300,
        "expected the wmbusmeters vectors, found {}",
        rows.len()
    );
    let mut considered = 0usize;
    let mut matched = 0usize;
    let mut failures: Vec<String> = Vec::new();
    let mut skipped_security = 0usize;
    for (i, row) in rows.iter().enumerate() {
        let Some((k, q, v)) = expected_total(&row["expected_json"]) else {
            continue;
        };
        // Wired frames have no "security" classification: treated as none.
        let security = row["classification"]["security"].as_str().unwrap_or("none");
        let encrypted = row["classification"]["encrypted_as_given"]
            .as_bool()
            .unwrap_or(false);
        if encrypted && !matches!(security, "TPL_mode5" | "ELL_AES_CTR") {
            skipped_security += 1;
            continue;
        }
        considered += 1;
        let name = format!(
            "#{i} {}/{}",
            row["driver"].as_str().unwrap_or("?"),
            row["name"].as_str().unwrap_or("?")
        );
        let Some(frame) = row["telegram"].as_str().and_then(hex) else {
            failures.push(format!("{name}: telegram is not hex"));
            continue;
        };
        let key = row["key"].as_str().and_then(|k| AesKey::from_hex(k).ok());
        // Compact frames need the layout of the full frames sent before them.
        let mut formats = FormatCache::new();
        for p in row["preceding_telegrams"].as_array().into_iter().flatten() {
            if let Some(full) = p.as_str().and_then(hex) {
                formats.learn(&full, key.as_ref());
            }
        }
        match decode_with_formats(&frame, key.as_ref(), &formats) {
            Ok(t) if has_value(&t, q, Some(0), v) => matched += 1,
            Ok(t)
                if matches!(
                    t.security.status,
                    SecurityStatus::NoKey | SecurityStatus::WrongKey
                ) =>
            {
                failures.push(format!("{name}: {:?}", t.security.status))
            }
            Ok(t) => failures.push(format!(
                "{name}: {k}={v} not found ({} records)",
                t.records.len()
            )),
            Err(e) => failures.push(format!("{name}: {} ({e})", e.code())),
        }
    }
    println!(
        "wmbusmeters: {matched} of {considered} vectors with a total match \
         ({skipped_security} skipped: encrypted with an unsupported mode)"
    );
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        matched >= FLOOR,
        "regression: {matched} matched, floor is {FLOOR}"
    );
}
