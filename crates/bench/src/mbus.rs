//! `releve-bench mbus`: the wired M-Bus master against the simulator (`releve_sim::mbus`, over
//! TCP with the line's timing simulated): a primary scan of addresses 0-250 and a secondary
//! search of a bus of 20 meters, at 2,400 and 9,600 baud, each next to the theoretical
//! minimum for the same exchanges: every byte on the line at 11 bits / baud, plus a whole
//! answer window (330 bit times + 50 ms) for each request nobody answered and 11 bit times
//! before each answer.

use releve_core::mbus_master::{scan, Bus, LineConfig};
use releve_core::port::{self, LineSettings, Target};
use releve_sim::mbus::{Config, MeterConfig};
use std::time::{Duration, Instant};

type Res = Result<(), Box<dyn std::error::Error>>;

/// A plain variable-data answer (CI 72) with one volume record, for `id`.
fn frame(primary: u8) -> String {
    let mut data = vec![0x78, 0x56, 0x34, 0x12, 0xE6, 0x1E, 0x35, 0x07, 0x01, 0x00, 0x00, 0x00];
    data.extend_from_slice(&[0x0C, 0x13, 0x45, 0x23, 0x01, 0x00]);
    hex::encode(::mbus::master::long_frame(0x08, primary, 0x72, &data).unwrap_or_default())
}

fn bus(baud: u32, primaries: &[u8], ids: &[String]) -> Config {
    let meters = primaries
        .iter()
        .zip(ids)
        .map(|(p, id)| MeterConfig { primary: *p, id: Some(id.clone()), frames: vec![frame(*p)], ..MeterConfig::default() })
        .collect();
    Config { baud, echo: false, meters }
}

/// The least time the same exchanges take on a perfect line.
fn minimum(line: &Bus<'_>) -> Duration {
    let c = line.config;
    let bits = |b: u64| Duration::from_secs_f64(b as f64 / f64::from(c.baud));
    bits(line.bytes_on_line * 11) + c.answer_window() * (line.unanswered as u32) + bits(11) * (line.answered as u32)
}

pub fn run() -> Res {
    println!("| work | baud | found | requests (answered / not) | bytes | measured | theoretical minimum | ratio |");
    println!("|---|---|---|---|---|---|---|---|");
    for baud in [2400u32, 9600] {
        // Primary scan: 5 meters on the bus, every address 0..=250 asked once.
        let primaries = [1u8, 17, 60, 123, 250];
        let ids: Vec<String> = (0..primaries.len()).map(|k| format!("{:08}", 10_000_000 + k * 1_111)).collect();
        let address = releve_sim::mbus::start_tcp(&bus(baud, &primaries, &ids)).map_err(|e| e.to_string())?;
        let mut p = port::open(&Target::Tcp(address.to_string()), LineSettings::mbus(baud), Duration::from_secs(5))?;
        let mut line = Bus::new(p.as_mut(), LineConfig { retries: 0, ..LineConfig::new(baud) }, "bench");
        let started = Instant::now();
        let found = scan::primary(&mut line, 0, 250, &mut |_, _| {})?;
        report("primary scan 0-250", baud, found.len(), &line, started.elapsed());

        // Secondary search: 20 meters with scattered ids (some sharing leading digits).
        let ids: Vec<String> = (0..20u64).map(|k| format!("{:08}", (k * 48_271 + 12_345_678) % 100_000_000)).collect();
        let primaries: Vec<u8> = (1..=20).collect();
        let address = releve_sim::mbus::start_tcp(&bus(baud, &primaries, &ids)).map_err(|e| e.to_string())?;
        let mut p = port::open(&Target::Tcp(address.to_string()), LineSettings::mbus(baud), Duration::from_secs(5))?;
        let mut line = Bus::new(p.as_mut(), LineConfig { retries: 0, ..LineConfig::new(baud) }, "bench");
        let started = Instant::now();
        let found = scan::secondary(&mut line, &mut |_, _| {})?;
        report("secondary search, 20 meters", baud, found.iter().filter(|f| f.problem.is_none()).count(), &line, started.elapsed());
    }
    Ok(())
}

fn report(work: &str, baud: u32, found: usize, line: &Bus<'_>, took: Duration) {
    let min = minimum(line);
    println!(
        "| {work} | {baud} | {found} | {} ({} / {}) | {} | {:.1} s | {:.1} s | {:.2} |",
        line.answered + line.unanswered,
        line.answered,
        line.unanswered,
        line.bytes_on_line,
        took.as_secs_f64(),
        min.as_secs_f64(),
        took.as_secs_f64() / min.as_secs_f64().max(1e-9)
    );
}
