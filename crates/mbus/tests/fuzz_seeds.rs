//! `cargo test -p releve-mbus --test fuzz_seeds -- --ignored` writes the fuzz seed corpus
//! (fuzz/corpus/<target>/, gitignored) from the shared test vectors.

mod common;

use std::path::PathBuf;

use common::{hex, read_jsonl, read_vector_file};

fn frames() -> Vec<Vec<u8>> {
    let mut out = Vec::new();
    for file in [
        "wmbusmeters_vectors.jsonl",
        "synthetic_encrypted_vectors.jsonl",
        "libmbus_vectors.jsonl",
    ] {
        for row in read_jsonl(file) {
            for k in ["telegram", "frame_hex"] {
                if let Some(b) = row[k].as_str().and_then(hex) {
                    out.push(b);
                }
            }
            for p in row["preceding_telegrams"].as_array().into_iter().flatten() {
                if let Some(b) = p.as_str().and_then(hex) {
                    out.push(b);
                }
            }
        }
    }
    let smoke: serde_json::Value =
        serde_json::from_str(&read_vector_file("smoke_vectors.json")).expect("smoke json");
    for v in smoke.as_array().into_iter().flatten() {
        if let Some(b) = v["telegram"].as_str().and_then(hex) {
            out.push(b);
        }
    }
    out
}

#[test]
#[ignore = "writes the fuzz corpus; run by hand before fuzzing"]
fn write_fuzz_seed_corpus() {
    let base = PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/fuzz/corpus"));
    let all = frames();
    for target in ["decode", "peek_address", "decode_with_formats", "wired"] {
        let dir = base.join(target);
        std::fs::create_dir_all(&dir).expect("corpus dir");
        for (i, f) in all.iter().enumerate() {
            let bytes = match target {
                // Learn from the frame itself, decode it again.
                "decode_with_formats" => {
                    let mut v = vec![u8::try_from(f.len()).unwrap_or(255)];
                    v.extend_from_slice(f);
                    v.extend_from_slice(f);
                    v
                }
                // The user data of wired long frames (what the target wraps), and the frames.
                "wired" if f.first() == Some(&0x68) && f.len() > 6 => f[4..f.len() - 2].to_vec(),
                _ => f.clone(),
            };
            std::fs::write(dir.join(format!("seed-{i:04}")), bytes).expect("write seed");
        }
    }
    println!("wrote {} seeds per target", all.len());
}
