//! `releve-bench gdpr`: a customer's subject access (`customer_subject_access`: every reading
//! of their meters streamed as CSV into a deflated ZIP, plus the other files and the PDF
//! summary) next to the baseline of the same run, a bare scan of the same readings (rows
//! read, nothing written). The customer has `--meters` meters read every hour for
//! `--years` years, among other customers' meters; the peak resident memory (VmHWM) before
//! and after the archive shows that it does not grow with the readings.

use releve_core::access::Session;
use releve_core::model::Register;
use releve_core::store::{self, Store};
use std::path::Path;
use std::time::Instant;

type Res = Result<(), Box<dyn std::error::Error>>;

const HOUR: i64 = 3_600;
/// 2024-01-01T00:00Z: the readings start here.
const START: i64 = 1_704_067_200;

/// The process's peak resident memory in MiB (Linux), or 0.
fn peak_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| s.lines().find(|l| l.starts_with("VmHWM:")).and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok()))
        .map_or(0.0, |kb| kb / 1024.0)
}

/// One customer with `meters` meters and two neighbours with one meter each, every meter
/// read hourly for `years` years. The customer's id.
fn build(db: &Path, meters: u32, years: u32) -> Result<i64, Box<dyn std::error::Error>> {
    let store = Store::open(db)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let mut customer = 0;
    let end = START + i64::from(years) * 365 * 24 * HOUR;
    for (c, count) in [(0, meters), (1, 1), (2, 1)] {
        let record = store::customers::Customer {
            number: format!("C{c}"),
            name: format!("Client {c}"),
            address: "1 rue de la Paix".into(),
            postal_code: "75001".into(),
            city: "Paris".into(),
            email: Some(format!("c{c}@example.org")),
            phone: None,
        };
        let id = store::customers::insert(&tx, &record)?;
        if c == 0 {
            customer = id;
        }
        for m in 0..count {
            let new = store::meters::NewMeter {
                serial: format!("{:08}", c * 1000 + m),
                manufacturer: "KAM".into(),
                device_type: "water".into(),
                status: "active".into(),
                customer_id: Some(id),
                ..Default::default()
            };
            let meter_id = store::meters::insert(&tx, &new, START)?;
            let mut ts = START;
            let mut value = 100.0;
            while ts < end {
                let r = store::readings::Reading { meter_id, register: Register::Volume.code(), ts, value, telegram_id: None };
                store::readings::insert(&tx, &r, 0)?;
                value += 0.012;
                ts += HOUR;
            }
        }
    }
    tx.commit()?;
    Ok(customer)
}

pub fn run(db: &Path, meters: u32, years: u32) -> Res {
    if db.exists() {
        return Err(format!("{} exists: give a new file (the bench builds its own park)", db.display()).into());
    }
    let t = Instant::now();
    let customer = build(db, meters, years)?;
    println!("park: customer with {meters} meters x {years} years of hourly readings (+2 neighbours) built in {:.1} s", t.elapsed().as_secs_f64());
    let store = Store::open(db)?;
    let session = Session::system("bench");

    // Baseline: the same readings scanned bare (the customer's meters are ids 1..=meters).
    let scan = || -> Result<(u64, f64), Box<dyn std::error::Error>> {
        let conn = store.reader()?;
        let t = Instant::now();
        let mut stmt = conn.prepare("SELECT register, ts, value FROM readings WHERE meter_id = ?1 ORDER BY register, ts")?;
        let mut n = 0u64;
        let mut sum = 0.0;
        for m in 1..=i64::from(meters) {
            let mut rows = stmt.query([m])?;
            while let Some(r) = rows.next()? {
                let (_, _, v): (i64, i64, f64) = (r.get(0)?, r.get(1)?, r.get(2)?);
                sum += v;
                n += 1;
            }
        }
        std::hint::black_box(sum);
        Ok((n, t.elapsed().as_secs_f64()))
    };
    scan()?; // warm the page cache for both
    let (rows, scan_s) = scan()?;
    let before = peak_mib();
    let mut sink = Counting(0);
    let t = Instant::now();
    let summary = releve_core::personal::customer_subject_access(&store, &session, customer, &mut sink, START)?;
    let access_s = t.elapsed().as_secs_f64();
    let after = peak_mib();
    assert_eq!(summary.readings, rows, "the archive holds every reading scanned");
    println!("{:<52} {:>12} {:>10} {:>14}", "", "readings", "seconds", "readings/s");
    println!("{:<52} {:>12} {:>10.3} {:>14.0}", "baseline: bare scan of the readings", rows, scan_s, rows as f64 / scan_s);
    println!("{:<52} {:>12} {:>10.3} {:>14.0}", "customer_subject_access (ZIP: CSV + PDF)", summary.readings, access_s, rows as f64 / access_s);
    println!(
        "archive {:.1} MiB ({} files); peak resident memory {before:.1} MiB before, {after:.1} MiB after; {:.1}x the bare scan",
        sink.0 as f64 / (1024.0 * 1024.0),
        summary.files.len(),
        access_s / scan_s
    );
    Ok(())
}

/// Counts the archive's bytes without keeping them (the command's output would be a file).
struct Counting(u64);

impl std::io::Write for Counting {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len() as u64;
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
