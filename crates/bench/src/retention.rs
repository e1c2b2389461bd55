//! `releve-bench retention`: the retention run on a demo park aged by `--years` (the run's
//! `now` that much after the demo's): rows removed per second (the compaction phase, then
//! with the vacuum that shrinks the file) next to the baseline of the same run, a bare
//! DELETE of every reading and telegram older than the full period on a copy of the same
//! file (one statement per table, one transaction); file size and bytes per reading before
//! and after; and the latency of two screen queries (the meter list's first page, an hourly
//! meter's 13 months by day) while the run goes, next to idle.

use releve_core::access::{Permission, Session};
use releve_core::meters::{meter_histogram, meters_list, HistogramQuery, ListQuery, Resolution};
use releve_core::retention;
use releve_core::store::Store;
use std::ops::ControlFlow;
use std::path::Path;
use std::time::{Duration, Instant};

type Res = Result<(), Box<dyn std::error::Error>>;

const DAY: i64 = 86_400;

fn pct(v: &[Duration], q: f64) -> f64 {
    let mut v = v.to_vec();
    v.sort();
    v.get(((v.len() as f64 - 1.0) * q).round() as usize).map_or(0.0, |d| d.as_secs_f64() * 1e3)
}

fn line(what: &str, v: &[Duration]) {
    println!("  {what}: p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms ({} runs)", pct(v, 0.5), pct(v, 0.99), pct(v, 1.0), v.len());
}

/// The file with its write-ahead log folded in: bytes.
fn size(store: &Store) -> Result<u64, Box<dyn std::error::Error>> {
    store.checkpoint()?;
    Ok(std::fs::metadata(store.path())?.len())
}

fn count(store: &Store, table: &str) -> Result<i64, Box<dyn std::error::Error>> {
    Ok(store.reader()?.query_row(&format!("SELECT count(*) FROM {table}"), [], |r| r.get(0))?)
}

pub fn run(db: &Path, meters: u32, years: i64) -> Res {
    if !db.exists() {
        let store = Store::open(db)?;
        let t = Instant::now();
        let r = releve_core::demo::build_demo(&store, &releve_core::demo::DemoSpec { meters, seed: 1 }, super::NOW, &mut |_, _, _| {})?;
        store.checkpoint()?;
        println!("demo of {meters} meters built in {:.0} s: {} telegrams, {} readings", t.elapsed().as_secs_f64(), r.telegrams, r.readings);
    }
    let work = db.with_extension("retention.db");
    let base = db.with_extension("baseline.db");
    for copy in [&work, &base] {
        std::fs::copy(db, copy)?;
        let _ = std::fs::remove_file(copy.with_extension("db-wal"));
    }
    let aged = super::NOW + years * 365 * DAY;
    let session = Session::system("bench");

    // Baseline: a bare DELETE of everything older than the full period, on a copy.
    let cutoff = {
        let s = Store::open(&base)?;
        let tz = releve_core::settings::timezone(&*s.reader()?)?;
        let r = releve_core::personal::register::Retention::read(&*s.reader()?)?;
        retention::Cutoffs::at(tz, aged, &r)?
    };
    let (bare_rows, bare_secs) = {
        let s = Store::open(&base)?;
        let t = Instant::now();
        let mut w = s.writer();
        let tx = w.transaction()?;
        let n = tx.execute("DELETE FROM readings WHERE ts < ?1", [cutoff.full_from])?
            + tx.execute("DELETE FROM telegrams WHERE received_at < ?1", [cutoff.telegrams_before])?;
        tx.commit()?;
        (n as u64, t.elapsed().as_secs_f64())
    };
    let _ = std::fs::remove_file(&base);
    let _ = std::fs::remove_file(base.with_extension("db-wal"));

    let store = Store::open(&work)?;
    let (readings0, telegrams0, size0) = (count(&store, "readings")?, count(&store, "telegrams")?, size(&store)?);
    let meter: i64 = store.reader()?.query_row(
        // The last hourly meter: compacted in the run's last chunk, so the screen reads its
        // full 13 months for nearly all the run.
        "SELECT id FROM meters WHERE status = 'active' AND device_type = 'water' AND id % 10 = 1 AND id > 1 ORDER BY id DESC LIMIT 1",
        [],
        |r| r.get(0),
    )?;
    let to = chrono::DateTime::from_timestamp(super::NOW, 0).unwrap_or_default().date_naive();
    let hist = HistogramQuery { meter_id: meter, register: None, resolution: Resolution::Day, from: to - chrono::Duration::days(395), to, now: None, fit_to_readings: false };
    let list = ListQuery { limit: 50, ..Default::default() };
    let sample = |lists: &mut Vec<Duration>, hists: &mut Vec<Duration>| -> Res {
        let t = Instant::now();
        meters_list(&store, &session, &list)?;
        lists.push(t.elapsed());
        let t = Instant::now();
        meter_histogram(&store, &session, &hist)?;
        hists.push(t.elapsed());
        Ok(())
    };
    let (mut idle_list, mut idle_hist) = (Vec::new(), Vec::new());
    for _ in 0..50 {
        sample(&mut idle_list, &mut idle_hist)?;
    }

    let t = Instant::now();
    let preview = retention::retention_preview(&store, &session, aged)?;
    let preview_secs = t.elapsed().as_secs_f64();

    let (mut busy_list, mut busy_hist) = (Vec::new(), Vec::new());
    let (report, compact_secs, total_secs) = std::thread::scope(|s| -> Result<_, Box<dyn std::error::Error + Send + Sync>> {
        let runner = s.spawn(|| {
            let permit = session.permit(Permission::Settings)?;
            let t0 = Instant::now();
            let mut compacted = 0.0;
            let r = retention::retention_run(&store, permit, aged, &mut |p| {
                if p.meters_done >= p.meters_total {
                    compacted = t0.elapsed().as_secs_f64();
                }
                ControlFlow::Continue(())
            })?;
            Ok::<_, releve_core::Error>((r, compacted, t0.elapsed().as_secs_f64()))
        });
        while !runner.is_finished() {
            sample(&mut busy_list, &mut busy_hist).map_err(|e| e.to_string())?;
        }
        Ok(runner.join().map_err(|_| "the run panicked")??)
    }).map_err(|e| e.to_string())?;
    let (readings1, telegrams1, size1) = (count(&store, "readings")?, count(&store, "telegrams")?, size(&store)?);
    let rows = report.counts.rows();
    let feed = report.counts.reading_feed + report.counts.info_code_feed;
    // The rows of the meter chunks (the compaction phase); the feeds are emptied after it.
    let meter_rows = rows - feed;

    println!("retention on {meters} demo meters aged {years} years (run at the demo's now + {years} x 365 days):");
    println!(
        "  before: {readings0} readings, {telegrams0} telegrams, file {:.1} MB ({:.0} bytes a reading, raw telegrams included)",
        size0 as f64 / 1e6,
        size0 as f64 / readings0.max(1) as f64
    );
    println!(
        "  preview: {:.1} s; {} readings compacted, {} telegrams, {} meters, about {:.1} MB",
        preview_secs,
        preview.counts.readings_compacted,
        preview.counts.telegrams,
        preview.counts.meters,
        preview.counts.bytes_estimate as f64 / 1e6
    );
    println!(
        "  run: {rows} rows removed ({} readings compacted, {} purged, {} telegrams, {} feed rows) in {} chunks",
        report.counts.readings_compacted,
        report.counts.readings_purged,
        report.counts.telegrams,
        feed,
        report.chunks
    );
    println!(
        "  compaction (meter chunks): {meter_rows} rows in {:.1} s = {:.0} rows/s; the whole run with the feeds and the incremental vacuum {:.1} s = {:.0} rows/s",
        compact_secs,
        meter_rows as f64 / compact_secs.max(1e-9),
        total_secs,
        rows as f64 / total_secs.max(1e-9)
    );
    println!(
        "  baseline, a bare DELETE of every reading and telegram older than the full period (one transaction): {bare_rows} rows in {bare_secs:.1} s = {:.0} rows/s",
        bare_rows as f64 / bare_secs.max(1e-9)
    );
    println!(
        "  after: {readings1} readings, {telegrams1} telegrams, file {:.1} MB ({:.0} bytes a reading); {:.0} % of the file given back",
        size1 as f64 / 1e6,
        size1 as f64 / readings1.max(1) as f64,
        100.0 * (1.0 - size1 as f64 / size0.max(1) as f64)
    );
    println!("  screens idle:");
    line("meter list, first page", &idle_list);
    line(&format!("histogram of meter {meter}, 13 months by day"), &idle_hist);
    println!("  screens while the run goes:");
    line("meter list, first page", &busy_list);
    line(&format!("histogram of meter {meter}, 13 months by day"), &busy_hist);
    assert_eq!(report.counts, preview.counts, "the preview counted what the run removed");
    let _ = std::fs::remove_file(&work);
    Ok(())
}
