//! Decoding throughput for typical water telegrams: plaintext, OMS mode 5 and Kamstrup ELL AES-CTR.
//! Plain timing loops (no external harness); prints telegrams per second on one core.

use std::hint::black_box;
use std::time::{Duration, Instant};

use mbus::{decode, AesKey};

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_default()
}

/// Nanoseconds this thread has run on a CPU (Linux), to report per-core rates that do not depend
/// on other processes sharing the machine; `None` elsewhere.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

fn run(name: &str, frame: &[u8], key: Option<&AesKey>) {
    // Check once that the telegram decodes to records.
    let ok = decode(frame, key).map(|t| t.records.len()).unwrap_or(0);
    assert!(ok > 0, "{name}: the bench telegram must decode");
    let mut n: u64 = 0;
    let cpu0 = cpu_ns();
    let start = Instant::now();
    let budget = Duration::from_millis(1500);
    while start.elapsed() < budget {
        for _ in 0..1000 {
            let t = decode(black_box(frame), black_box(key));
            black_box(&t);
        }
        n += 1000;
    }
    let secs = start.elapsed().as_secs_f64();
    let cpu = cpu_ns()
        .zip(cpu0)
        .map(|(b, a)| b.saturating_sub(a) as f64 / 1e9)
        .filter(|c| *c > 0.0)
        .unwrap_or(secs);
    println!(
        "{name:<44} {:>10.0} telegrams/s/core on CPU time ({:.2} us each; {:.0}/s wall clock; {} records)",
        n as f64 / cpu,
        cpu * 1e6 / n as f64,
        n as f64 / secs,
        ok
    );
}

fn main() {
    // DWZ WaterStar M (OMS mode 5), from the public wmbusmeters test suite, with its key.
    let mode5 = hex("3944FA122162092002067A3600202567C94D48D00DC47B11213E23383DB51968A705AAFA60C60E263D50CD259D7C9A03FD0C08000002FD0B0011");
    let k5 = AesKey::from_hex("BEDB81B52C29B5C143388CBB0D15A051").ok();
    // Kamstrup MULTICAL 21 (ELL-II AES-128-CTR).
    let ell = hex(
        "2A442D2C998734761B168D2091D37CAC21E1D68CDAFFCD3DC452BD802913FF7B1706CA9E355D6C2701CC24",
    );
    let kell = AesKey::from_hex("28F64A24988064A079AA2C807D6102AE").ok();
    // The same MULTICAL 21 payload in plaintext (CI 78 behind an unencrypted ELL-I).
    let plain =
        hex("24442D2C998734761B168C2091782F2F02FF2000000413B41800004413B4180000615B7F616713");
    run("plaintext water (Kamstrup, ELL-I, CI 78)", &plain, None);
    run("OMS mode 5 water (DWZ, CI 7A)", &mode5, k5.as_ref());
    run(
        "ELL AES-CTR water (Kamstrup MULTICAL 21)",
        &ell,
        kell.as_ref(),
    );
}
