//! Fuzz `decode` (without a key and with a fixed key) and `explain`: no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mbus::{decode, explain, AesKey};

fuzz_target!(|data: &[u8]| {
    let key =
        AesKey::from_bytes(*b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E\x0F");
    let _ = decode(data, None);
    let _ = decode(data, Some(&key));
    let _ = explain(data, Some(&key), None);
});
