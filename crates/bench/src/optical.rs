//! `releve-bench optical`: IEC 62056-21 readouts.
//! - Reading the simulated meter (`releve_sim::optical`, paced at the line's speed) through
//!   the optical engine over a socat pty pair, mode C switching 300 -> 9600 baud, next to the
//!   wire-time minimum (every character's 10 bits at the speed in use, plus the meter's 200 ms
//!   before it switches) and next to the same readout left at 300 baud (mode A).
//! - Parsing and mapping readouts (`mbus::iec62056` + `optical::obis`) next to a baseline that
//!   only looks at every byte once (the BCC and the line ends), and importing a capture file of
//!   readouts into a store next to the drive-by import of as many hex telegrams.

use super::{Res, NOW};
use releve_core::access::{Permission, Session};
use releve_core::optical::{self, obis, Options};
use releve_core::port::{self, LineSettings, Target};
use releve_core::store::Store;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Socat(Child);

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub fn run(readouts: u32, parse: u32) -> Res {
    line(readouts)?;
    parser(parse)?;
    Ok(())
}

/// The least a mode C exchange takes: the sign-on, the identification and the
/// acknowledgement at 300 baud, the data message at the data speed, and the meter's two
/// reaction times of 200 ms (before the identification, before it switches).
fn wire_minimum(sign_on: usize, ident: usize, ack: usize, data: usize, baud: u32) -> Duration {
    let slow = LineSettings::iec62056(300).wire_time(sign_on + ident + ack);
    slow + Duration::from_millis(400) + LineSettings::iec62056(baud).wire_time(data)
}

fn line(readouts: u32) -> Res {
    let dir = tempfile::tempdir()?;
    let (reader, meter) = (dir.path().join("reader"), dir.path().join("meter"));
    let _socat = Socat(
        Command::new("socat")
            .args([format!("pty,raw,echo=0,link={}", reader.display()), format!("pty,raw,echo=0,link={}", meter.display())])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()?,
    );
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(reader.exists() && meter.exists()) {
        if Instant::now() > deadline {
            return Err("socat made no pty pair".into());
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let m = meter.to_string_lossy().into_owned();
    releve_sim::optical::spawn(releve_sim::optical::args(&["--pty", &m, "--clock", "2026-11-19 14:30:05"]).map_err(|e| e.to_string())?).map_err(|e| e.to_string())?;
    let target = Target::Serial(reader.to_string_lossy().into_owned());
    let options = Options::new(target.clone());
    let mut times = Vec::new();
    let mut size = (0, 0);
    for _ in 0..readouts {
        let mut p = port::open(&target, LineSettings::iec62056(300), Duration::from_secs(2))?;
        let c = optical::take_readout(p.as_mut(), &options)?;
        let ident = c.bytes.iter().position(|b| *b == b'\n').map_or(0, |i| i + 1);
        size = (ident, c.bytes.len() - ident);
        times.push(c.took);
        drop(p);
        std::thread::sleep(Duration::from_millis(100));
    }
    times.sort();
    let sign_on = "/?!\r\n".len();
    let minimum = wire_minimum(sign_on, size.0, 6, size.1, 9600);
    let at_300 = LineSettings::iec62056(300).wire_time(sign_on + size.0 + size.1) + Duration::from_millis(200);
    let ms = |d: Duration| d.as_secs_f64() * 1000.0;
    println!(
        "optical readout over a socat pty, mode C 300 -> 9600 baud ({} + {} bytes), {} readouts: median {:.0} ms, max {:.0} ms; wire-time minimum {:.0} ms (with the meter's two 200 ms reaction times); the same readout left at 300 baud (mode A): {:.0} ms at least",
        size.0,
        size.1,
        times.len(),
        ms(times[times.len() / 2]),
        ms(*times.last().unwrap_or(&Duration::ZERO)),
        ms(minimum),
        ms(at_300)
    );
    Ok(())
}

/// A realistic readout of meter `i` (the simulator's shape).
fn readout(i: u32) -> Vec<u8> {
    let a_plus = 10_000.0 + f64::from(i) * 0.5;
    let lines = [
        "F.F(00000000)".to_string(),
        format!("0.0.0({:08})", 30_000_000 + i),
        format!("C.1.0({:08})", 30_000_000 + i),
        "0.9.1(143005)".to_string(),
        format!("0.9.2(2611{:02})", 1 + i % 28),
        format!("1.8.0({a_plus:011.3}*kWh)"),
        format!("1.8.1({:011.3}*kWh)", a_plus * 0.5),
        format!("1.8.2({:011.3}*kWh)", a_plus * 0.5),
        "2.8.0(0000042.100*kWh)".to_string(),
        "1.7.0(01.234*kW)".to_string(),
        "2.7.0(00.000*kW)".to_string(),
        "32.7(230*V)52.7(231*V)72.7(229*V)".to_string(),
        "31.7(001.52*A)51.7(000.98*A)71.7(002.03*A)".to_string(),
        "C.7.0(0003)".to_string(),
        "1.8.0*01(0011111.000*kWh)".to_string(),
    ];
    mbus::iec62056::readout_bytes("/LGZ5ZMD3104407.B32", &lines)
}

/// `n` plaintext water telegrams of `n` meters as hex lines (the drive-by format).
fn hex_lines(n: u32) -> Vec<u8> {
    let mut out = Vec::new();
    for i in 0..n {
        let serial = format!("{:08}", 40_000_000 + i);
        let mut payload = vec![0x04, 0x13];
        payload.extend_from_slice(&(i * 7).to_le_bytes());
        let spec = mbus::encode::FrameSpec { manufacturer: "KAM", id: &serial, version: 0x1b, device_type: mbus::DeviceType::Water, access_number: 1, status: 0 };
        out.extend_from_slice(hex::encode(mbus::encode::wmbus_frame(&spec, &payload, None)).as_bytes());
        out.push(b'\n');
    }
    out
}

fn parser(n: u32) -> Res {
    let all: Vec<Vec<u8>> = (0..n).map(readout).collect();
    let bytes: usize = all.iter().map(Vec::len).sum();
    // Baseline: one look at every byte (the BCC and the line ends).
    let t = Instant::now();
    let mut sink = 0usize;
    for r in &all {
        sink += usize::from(mbus::iec62056::bcc(r)) + r.iter().filter(|b| **b == b'\n').count();
    }
    let base = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut readings = 0usize;
    for r in &all {
        let parsed = mbus::iec62056::parse_readout(r).map_err(|e| e.to_string())?;
        readings += obis::map(&parsed).readings.len();
    }
    let full = t.elapsed().as_secs_f64();
    println!(
        "readout parse + OBIS mapping: {n} readouts ({:.1} MB), {:.0} readouts/s, {:.0} MB/s, {readings} readings; baseline one pass over the bytes (BCC, line ends): {:.0} MB/s ({sink})",
        bytes as f64 / 1e6,
        f64::from(n) / full,
        bytes as f64 / 1e6 / full,
        bytes as f64 / 1e6 / base
    );
    // A capture file of readouts through the import, next to as many hex telegrams.
    let mut capture = Vec::with_capacity(bytes + 2 * all.len());
    for r in &all {
        capture.extend_from_slice(r);
        capture.extend_from_slice(b"\r\n");
    }
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("optical.db"))?;
    let session = Session::system("bench");
    let permit = session.permit(Permission::Import)?;
    let t = Instant::now();
    let r = releve_core::import::import_drive_by(&store, permit, "capture.txt", &capture, NOW, &mut |_, _| {})?;
    let secs = t.elapsed().as_secs_f64();
    let hex = hex_lines(n);
    let store2 = Store::open(&dir.path().join("hex.db"))?;
    let t = Instant::now();
    let h = releve_core::import::import_drive_by(&store2, permit, "hex.txt", &hex, NOW, &mut |_, _| {})?;
    let hex_secs = t.elapsed().as_secs_f64();
    println!(
        "capture import: {} readouts stored ({} readings) in {secs:.2} s, {:.0} readouts/s; the drive-by import of {} hex telegrams in the same run: {:.0} telegrams/s",
        r.stored,
        r.readings,
        f64::from(n) / secs,
        h.stored,
        f64::from(n) / hex_secs
    );
    Ok(())
}
