//! Fuzz `peek_address`: no input may panic.
#![no_main]

use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = mbus::peek_address(data);
});
