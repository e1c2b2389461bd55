//! `releve-bench stream`: the quick export of the demo through a real `releve serve` (the
//! binary beside this one), 1 and 3 months, streamed (`Accept: text/csv`) next to the old
//! JSON answer (`{filename, rows, content}`) in the same run. A new server per case; its
//! resident memory sampled from /proc/PID/status while the file downloads: idle (VmRSS
//! before the request; the start-up's own peak, VmHWM then, is shown apart and reset through
//! /proc/PID/clear_refs), peak (VmHWM after the download), the peak over idle, and the
//! highest VmRSS sampled every 10 ms.
//!
//! The database is the demo (`releve demo --db DB --meters 2000`: about 640,000 readings a
//! month), made on first use with the `releve` beside this binary.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::{Duration, Instant};

type Res = Result<(), Box<dyn std::error::Error>>;

/// kB of `field` (`VmRSS`, `VmHWM`) in /proc/PID/status.
fn status_kb(pid: u32, field: &str) -> Result<u64, Box<dyn std::error::Error>> {
    let text = std::fs::read_to_string(format!("/proc/{pid}/status"))?;
    let line = text.lines().find(|l| l.starts_with(field)).ok_or_else(|| format!("no {field} in /proc/{pid}/status"))?;
    Ok(line.split_whitespace().nth(1).ok_or("status line")?.parse()?)
}

fn post(port: u16, path: &str, token: Option<&str>, accept: &str, body: &str) -> std::io::Result<BufReader<TcpStream>> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n{auth}Accept: {accept}\r\nContent-Type: application/json\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )?;
    Ok(BufReader::with_capacity(1 << 20, s))
}

/// An answer's status and headers (lowercase names).
type Head = (u16, Vec<(String, String)>);

/// The status and headers of an answer (lowercase names).
fn head(r: &mut BufReader<TcpStream>) -> Result<Head, Box<dyn std::error::Error>> {
    let mut line = String::new();
    r.read_line(&mut line)?;
    let status = line.get(9..12).ok_or("status line")?.parse()?;
    let mut headers = Vec::new();
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let l = line.trim_end();
        if l.is_empty() {
            break;
        }
        if let Some((k, v)) = l.split_once(':') {
            headers.push((k.trim().to_ascii_lowercase(), v.trim().to_string()));
        }
    }
    Ok((status, headers))
}

/// The body of a chunked answer, handed to `each` piece by piece (never held whole).
fn chunked(r: &mut BufReader<TcpStream>, each: &mut dyn FnMut(&[u8])) -> Res {
    let mut line = String::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        line.clear();
        r.read_line(&mut line)?;
        let size = usize::from_str_radix(line.trim().split(';').next().unwrap_or("0"), 16)?;
        if size == 0 {
            return Ok(());
        }
        let mut left = size;
        while left > 0 {
            let want = left.min(buf.len());
            let n = r.read(&mut buf[..want])?;
            if n == 0 {
                return Err("the body ended early".into());
            }
            each(&buf[..n]);
            left -= n;
        }
        line.clear();
        r.read_line(&mut line)?;
    }
}

struct Case {
    label: String,
    rows: u64,
    bytes: u64,
    secs: f64,
    idle_kb: u64,
    /// VmHWM before the request: the start-up's peak (opening, migrations, keys).
    start_hwm_kb: u64,
    peak_kb: u64,
    sampled_max_kb: u64,
}

/// One export through a new `releve serve`: streamed or JSON, of `from`..`to`.
fn case(bin: &Path, db: &Path, streamed: bool, from: &str, to: &str, label: String) -> Result<Case, Box<dyn std::error::Error>> {
    let port = crate::mqtt::free_port()?;
    let server = crate::mqtt::serve(bin, db, port)?;
    let pid = server.0.id();
    let mut r = post(port, "/api/login", None, "application/json", r#"{"login":"manager","password":"manager"}"#)?;
    let (status, _) = head(&mut r)?;
    let mut body = String::new();
    r.read_to_string(&mut body)?;
    // A JSON answer without chunking (Content-Length): its body is the JSON.
    let login: serde_json::Value = serde_json::from_str(body.trim()).map_err(|e| format!("login answered {status}: {e}: {body}"))?;
    let token = login["token"].as_str().ok_or_else(|| format!("login answered {status}: {body}"))?.to_string();
    std::thread::sleep(Duration::from_millis(300));
    let idle_kb = status_kb(pid, "VmRSS")?;
    let start_hwm_kb = status_kb(pid, "VmHWM")?;
    // The peak from here on: "5" resets VmHWM to the present VmRSS (Linux 4.0+).
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5")?;
    // Resident memory sampled every 10 ms meanwhile (VmHWM is the kernel's exact peak).
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let sampler = {
        let stop = stop.clone();
        std::thread::spawn(move || {
            let mut max = 0;
            while !stop.load(std::sync::atomic::Ordering::Relaxed) {
                max = max.max(status_kb(pid, "VmRSS").unwrap_or(0));
                std::thread::sleep(Duration::from_millis(10));
            }
            max
        })
    };
    let args = format!(r#"{{"from":"{from}","to":"{to}","granularity":"readings"}}"#);
    let t = Instant::now();
    let (rows, bytes) = if streamed {
        let mut r = post(port, "/api/export_readings", Some(&token), "text/csv", &args)?;
        let (status, headers) = head(&mut r)?;
        if status != 200 {
            let mut b = String::new();
            r.read_to_string(&mut b)?;
            return Err(format!("the streamed export answered {status}: {b}").into());
        }
        let expected: u64 = headers.iter().find(|(k, _)| k == "x-releve-expected-rows").map_or(Ok(0), |(_, v)| v.parse())?;
        let (mut lines, mut bytes) = (0u64, 0u64);
        chunked(&mut r, &mut |b| {
            bytes += b.len() as u64;
            lines += b.iter().filter(|&&c| c == b'\n').count() as u64;
        })?;
        if lines.saturating_sub(1) != expected {
            return Err(format!("{} rows streamed, {expected} expected", lines.saturating_sub(1)).into());
        }
        (lines.saturating_sub(1), bytes)
    } else {
        let mut r = post(port, "/api/export_readings", Some(&token), "application/json", &args)?;
        let (status, _) = head(&mut r)?;
        let mut b = Vec::new();
        r.read_to_end(&mut b)?;
        if status != 200 {
            return Err(format!("the JSON export answered {status}: {}", String::from_utf8_lossy(&b[..b.len().min(300)])).into());
        }
        let v: serde_json::Value = serde_json::from_slice(&b)?;
        (v["rows"].as_u64().unwrap_or(0), v["content"].as_str().map_or(0, |c| c.len() as u64))
    };
    let secs = t.elapsed().as_secs_f64();
    let peak_kb = status_kb(pid, "VmHWM")?;
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let sampled_max_kb = sampler.join().map_err(|_| "sampler")?;
    drop(server);
    Ok(Case { label, rows, bytes, secs, idle_kb, start_hwm_kb, peak_kb, sampled_max_kb })
}

/// The first and last day of the `n` whole local months ending with the last whole month of
/// the demo's readings.
fn months(db: &Path, n: u32) -> Result<(String, String), Box<dyn std::error::Error>> {
    use chrono::{Datelike, NaiveDate};
    let conn = rusqlite::Connection::open_with_flags(db, rusqlite::OpenFlags::SQLITE_OPEN_READ_ONLY)?;
    // The newest reading (the index on ts is per meter: the newest telegram is as good).
    let last: i64 = conn.query_row("SELECT max(last_seen) FROM meters", [], |r| r.get(0))?;
    let last = chrono::DateTime::from_timestamp(last, 0).ok_or("date")?.date_naive();
    let this_month = NaiveDate::from_ymd_opt(last.year(), last.month(), 1).ok_or("date")?;
    let end = this_month.pred_opt().ok_or("date")?;
    let mut start = NaiveDate::from_ymd_opt(end.year(), end.month(), 1).ok_or("date")?;
    for _ in 1..n {
        let before = start.pred_opt().ok_or("date")?;
        start = NaiveDate::from_ymd_opt(before.year(), before.month(), 1).ok_or("date")?;
    }
    Ok((start.to_string(), end.to_string()))
}

pub fn run(db: &Path, meters: u32, json_months: Vec<u32>, stream_months: Vec<u32>) -> Res {
    let bin = std::env::current_exe()?.with_file_name("releve");
    if !db.exists() {
        let t = Instant::now();
        let ok = std::process::Command::new(&bin)
            .args(["demo", "--db", db.to_str().unwrap_or_default(), "--meters", &meters.to_string()])
            .status()?
            .success();
        if !ok {
            return Err("releve demo failed".into());
        }
        eprintln!("made {} ({meters} meters) in {:.0} s", db.display(), t.elapsed().as_secs_f64());
    }
    let mut cases = Vec::new();
    for (streamed, list) in [(true, &stream_months), (false, &json_months)] {
        for &n in list {
            let (from, to) = months(db, n)?;
            let label = format!("{} {n} month(s) {from}..{to}", if streamed { "streamed" } else { "JSON    " });
            eprintln!("{label} ...");
            cases.push(case(&bin, db, streamed, &from, &to, label)?);
        }
    }
    println!(
        "{:<44} {:>9} {:>7} {:>7} {:>9} {:>11} {:>9} {:>9} {:>10}",
        "export over HTTP", "rows", "MB", "s", "idle MB", "start-up MB", "peak MB", "peak-idle", "max VmRSS"
    );
    for c in cases {
        let mb = |kb: u64| kb as f64 / 1024.0;
        println!(
            "{:<44} {:>9} {:>7.1} {:>7.2} {:>9.1} {:>11.1} {:>9.1} {:>9.1} {:>10.1}",
            c.label,
            c.rows,
            c.bytes as f64 / 1e6,
            c.secs,
            mb(c.idle_kb),
            mb(c.start_hwm_kb),
            mb(c.peak_kb),
            mb(c.peak_kb.saturating_sub(c.idle_kb)),
            mb(c.sampled_max_kb)
        );
    }
    Ok(())
}
