//! Fuzz the wired frame parser and the wired long-frame path of `decode`: no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mbus::parse_wired_frame(data);
    // Also as a well-formed long frame around arbitrary user data (valid L, checksum, stop byte),
    // so the fuzzer reaches the wired transport and record layers.
    if data.len() <= 252 {
        let mut f = vec![0x68, data.len() as u8, data.len() as u8, 0x68];
        f.extend_from_slice(data);
        f.push(data.iter().fold(0u8, |a, b| a.wrapping_add(*b)));
        f.push(0x16);
        let _ = mbus::parse_wired_frame(&f);
        let _ = mbus::decode(&f, None);
    }
});
