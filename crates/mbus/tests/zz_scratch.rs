mod common;
use common::*;
use mbus::*;
#[test]
fn scratch() {
    for f in ["wmbusmeters_vectors.jsonl", "synthetic_encrypted_vectors.jsonl"] {
        for row in read_jsonl(f) {
            let key = key_of(&row);
            let mut all = vec![];
            for p in row["preceding_telegrams"].as_array().into_iter().flatten() { all.push(p.as_str().unwrap_or("").to_string()); }
            all.push(row["telegram"].as_str().unwrap_or("").to_string());
            for t in all {
                let Some(b) = hex(&t) else { continue };
                let mut fc = FormatCache::new();
                if let Some(sig) = fc.learn(&b, key.as_ref()) {
                    let a = peek_address(&b).map(|a| a.manufacturer.clone()).unwrap_or_default();
                    if a.starts_with("KA") { println!("SIG {sig:04X} {} {}", a, hex::encode_upper(fc.get(sig).unwrap())); }
                }
            }
        }
    }
}
