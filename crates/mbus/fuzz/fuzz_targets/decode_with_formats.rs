//! Fuzz `FormatCache::learn` and `decode_with_formats`: the input is split at its first byte's
//! value into a "full frame" to learn from and a frame to decode with what was learned.
#![no_main]

use libfuzzer_sys::fuzz_target;
use mbus::{decode_with_formats, AesKey, FormatCache};

fuzz_target!(|data: &[u8]| {
    let key =
        AesKey::from_bytes(*b"\x00\x01\x02\x03\x04\x05\x06\x07\x08\x09\x0A\x0B\x0C\x0D\x0E\x0F");
    let (full, frame) = match data.split_first() {
        Some((n, rest)) => rest.split_at(usize::from(*n).min(rest.len())),
        None => (data, data),
    };
    let mut formats = FormatCache::new();
    formats.learn(full, None);
    formats.learn(full, Some(&key));
    // Arbitrary layouts too: the cache must never make decoding panic.
    formats.insert(full.to_vec());
    let _ = decode_with_formats(frame, None, &formats);
    let _ = decode_with_formats(frame, Some(&key), &formats);
    let restored = FormatCache::from_entries(formats.entries());
    let _ = decode_with_formats(frame, None, &restored);
});
