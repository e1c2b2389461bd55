//! Conformance: wired frames from the libmbus test suite. "ok" frames decode and give as many
//! records as libmbus lists; no frame of any kind makes the decoder panic.

mod common;

use common::{hex, read_jsonl};
use mbus::decode;

/// Matching "ok" frames reached so far; raise it when the decoder improves.
const FLOOR: usize = 70;

#[test]
fn libmbus_frames() {
    let rows = read_jsonl("libmbus_vectors.jsonl");
    assert!(
        rows.len() > 100,
        "expected the libmbus vectors, found {}",
        rows.len()
    );
    let (mut ok_total, mut decoded, mut same_count) = (0usize, 0usize, 0usize);
    let mut failures = Vec::new();
    for row in &rows {
        let name = row["name"].as_str().unwrap_or("?");
        let Some(frame) = row["frame_hex"].as_str().and_then(hex) else {
            continue;
        };
        let result = decode(&frame, None);
        if row["kind"].as_str() != Some("ok") {
            continue;
        }
        ok_total += 1;
        // libmbus also lists an empty "more records follow" (DIF 1F) marker as a record; this decoder does not.
        let xml = row["expected_xml"].as_str().unwrap_or("");
        let expected = xml.matches("<DataRecord id=").count()
            - xml
                .matches("<Function>More records follow</Function>")
                .count();
        match result {
            Ok(t) => {
                decoded += 1;
                if t.records.len() == expected {
                    same_count += 1;
                } else {
                    failures.push(format!(
                        "{name}: {} records, libmbus lists {expected}",
                        t.records.len()
                    ));
                }
            }
            Err(e) => failures.push(format!("{name}: {} ({e})", e.code())),
        }
    }
    println!("libmbus: {decoded} of {ok_total} ok frames decode, {same_count} with libmbus' record count");
    for f in &failures {
        println!("FAIL {f}");
    }
    assert!(
        same_count >= FLOOR,
        "regression: {same_count} below floor {FLOOR}"
    );
}
