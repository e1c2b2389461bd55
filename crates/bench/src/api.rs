//! `releve-bench api`: the open API on the export bench's park (100,000 meters, 1,100,000
//! readings), through a real `releve serve` (the release binary beside this one):
//! - the readings feed pulled whole over HTTP (JSON pages of 10,000) next to the per-reading
//!   CSV export of the same rows in-process, in the same run;
//! - the latency of one meter's readings (a month per day; a month raw) for random meters.

use releve_core::access::{api_keys, Permission, Session};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;
use std::time::Instant;

type Res = Result<(), Box<dyn std::error::Error>>;

fn get(port: u16, key: &str, path: &str) -> Result<(u16, Vec<u8>), Box<dyn std::error::Error>> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    s.set_nodelay(true)?;
    write!(s, "GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {key}\r\nConnection: close\r\n\r\n")?;
    let mut answer = Vec::new();
    s.read_to_end(&mut answer)?;
    let status = std::str::from_utf8(answer.get(9..12).unwrap_or(b"0"))?.parse()?;
    let body = answer.windows(4).position(|w| w == b"\r\n\r\n").map(|i| answer[i + 4..].to_vec()).unwrap_or_default();
    Ok((status, body))
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

pub fn run(db: &Path, meters: u32, samples: u32) -> Res {
    let store = crate::export::open_or_make(db, meters)?;
    let session = Session::system("bench");
    let (readings, serials) = {
        let conn = store.reader()?;
        let n: i64 = conn.query_row("SELECT count(*) FROM reading_feed", [], |r| r.get(0))?;
        let mut stmt = conn.prepare("SELECT serial FROM meters ORDER BY id")?;
        let serials: Vec<String> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        (n, serials)
    };
    if readings == 0 {
        return Err(format!("{}: no reading in the feed (a database made before the feed existed: remove it)", db.display()).into());
    }

    // Baseline: the per-reading CSV export of every reading, in-process.
    let d = |m, day| chrono::NaiveDate::from_ymd_opt(2026, m, day).ok_or("date");
    let spec = releve_core::export::ExportSpec::new(d(1, 1)?, d(2, 28)?);
    let mut out: Vec<u8> = Vec::with_capacity(200 << 20);
    let t = Instant::now();
    let rows = releve_core::export::export_readings(&store, &session, &spec, &mut out, 1_800_000_000)?;
    let csv_secs = t.elapsed().as_secs_f64();
    drop(out);

    let key = {
        let new = api_keys::NewKey {
            name: format!("bench-{}", std::process::id()),
            scopes: vec!["readings:read".into(), "intervals:read".into(), "meters:read".into()],
            rate_per_minute: Some(api_keys::MAX_RATE_PER_MINUTE),
            ..Default::default()
        };
        api_keys::create(&store, session.permit(Permission::ManageUsers)?, &new, 1_780_000_000)?.secret
    };
    drop(store);
    let bin = std::env::current_exe()?.with_file_name("releve");
    let port = crate::mqtt::free_port()?;
    let server = crate::mqtt::serve(&bin, db, port)?;

    // The feed, whole, as a billing system pulls it.
    let t = Instant::now();
    let mut cursor: Option<i64> = None;
    let (mut got, mut pages, mut bytes) = (0u64, 0u64, 0u64);
    loop {
        let path = match cursor {
            Some(c) => format!("/api/v1/readings/feed?limit=10000&after={c}"),
            None => "/api/v1/readings/feed?limit=10000".into(),
        };
        let (status, body) = get(port, &key, &path)?;
        if status != 200 {
            return Err(format!("feed answered {status}: {}", String::from_utf8_lossy(&body)).into());
        }
        bytes += body.len() as u64;
        let page: serde_json::Value = serde_json::from_slice(&body)?;
        got += page["items"].as_array().map_or(0, |a| a.len() as u64);
        pages += 1;
        cursor = page["next"].as_i64();
        if page["more"] != true {
            break;
        }
    }
    let feed_secs = t.elapsed().as_secs_f64();
    if got != readings as u64 {
        return Err(format!("the feed gave {got} readings of {readings}").into());
    }

    // One meter's readings, random meters.
    let mut rng = 0x9e37_79b9_7f4a_7c15u64;
    let mut next = || {
        rng ^= rng << 13;
        rng ^= rng >> 7;
        rng ^= rng << 17;
        rng
    };
    let mut days = Vec::new();
    let mut raw = Vec::new();
    for _ in 0..samples {
        let serial = &serials[(next() % serials.len() as u64) as usize];
        for (resolution, into) in [("day", &mut days), ("raw", &mut raw)] {
            let t = Instant::now();
            let (status, body) = get(port, &key, &format!("/api/v1/meters/{serial}/readings?from=2026-01-01&to=2026-01-31&resolution={resolution}"))?;
            into.push(t.elapsed().as_secs_f64() * 1e3);
            if status != 200 {
                return Err(format!("readings of {serial} answered {status}: {}", String::from_utf8_lossy(&body)).into());
            }
        }
    }
    drop(server);
    days.sort_by(f64::total_cmp);
    raw.sort_by(f64::total_cmp);
    println!(
        "readings feed over HTTP (JSON, pages of 10,000): {got} readings in {feed_secs:.2} s = {:.0} readings/s ({pages} pages, {:.0} bytes a reading); \
         per-reading CSV export of the same rows in-process: {rows} rows in {csv_secs:.2} s = {:.0} rows/s; ratio {:.2}",
        got as f64 / feed_secs,
        bytes as f64 / got as f64,
        rows as f64 / csv_secs,
        (got as f64 / feed_secs) / (rows as f64 / csv_secs),
    );
    println!(
        "one meter's readings at {} meters over HTTP, {samples} random meters: a month per day p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; \
         a month raw p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms",
        serials.len(),
        percentile(&days, 0.5),
        percentile(&days, 0.99),
        days[days.len() - 1],
        percentile(&raw, 0.5),
        percentile(&raw, 0.99),
        raw[raw.len() - 1],
    );
    Ok(())
}
