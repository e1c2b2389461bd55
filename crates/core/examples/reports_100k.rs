//! Timing of the consumption report (a year) and the reading-performance report (30 days,
//! one reading a day expected) over every meter of an existing database, opened read-only:
//! `cargo run --release -p releve-core --example reports_100k -- /work/big.db`.
//! Each report runs twice: the first run reads from disk, the second from the page cache.

use chrono::{Duration, NaiveDate, TimeZone};
use releve_core::access::Session;
use releve_core::meters::{self, ListQuery};
use releve_core::reports::{self, ConsumptionQuery, PerformanceQuery};
use releve_core::Store;
use std::time::Instant;

fn main() -> Result<(), releve_core::Error> {
    let args: Vec<String> = std::env::args().collect();
    let path = std::path::PathBuf::from(args.get(1).map_or("/work/big.db", String::as_str));
    let store = Store::open_read_only(&path)?;
    let session = Session::system("bench");
    let latest = meters::meters_list(&store, &session, &ListQuery { sort: Some("last_seen".into()), desc: true, limit: 1, ..Default::default() })?;
    let now = latest.rows.first().and_then(|r| r.last_seen).unwrap_or(1_767_225_600);
    let today: NaiveDate = chrono_tz::Europe::Paris.timestamp_opt(now, 0).single().map_or(NaiveDate::MIN, |t| t.date_naive());
    let yesterday = today - Duration::days(1);
    println!("{}: {} meters, data up to {today}", path.display(), latest.total);
    for run in 1..=2 {
        let q = ConsumptionQuery {
            from: yesterday - Duration::days(364),
            to: yesterday,
            group_id: None,
            above: None,
            below: None,
            register: None,
            offset: 0,
            limit: 200,
        };
        let t = Instant::now();
        let r = reports::report_consumption(&store, &session, &q, now)?;
        let ms = t.elapsed().as_millis();
        let totals: Vec<String> = r.totals.iter().map(|t| format!("{:.0} {} ({} meters)", t.consumption, t.unit, t.meters)).collect();
        println!("run {run}: consumption {}..{}: {} meters, no data {}, {} -> {ms} ms", q.from, q.to, r.meters, r.no_data, totals.join(", "));
        let q = ConsumptionQuery { above: Some(150.0), ..q };
        let t = Instant::now();
        let r = reports::report_consumption(&store, &session, &q, now)?;
        println!("run {run}: consumption above 150: {} meters -> {} ms", r.count, t.elapsed().as_millis());
        let q = PerformanceQuery { from: yesterday - Duration::days(29), to: yesterday, group_id: None, expected_per_day: 1.0, offset: 0, limit: 200 };
        let t = Instant::now();
        let r = reports::report_performance(&store, &session, &q, now)?;
        println!(
            "run {run}: performance {}..{} (1/day): {} meters, average {} %, {} with missing readings -> {} ms",
            r.from, r.to, r.meters, r.average, r.missing, t.elapsed().as_millis()
        );
    }
    Ok(())
}
