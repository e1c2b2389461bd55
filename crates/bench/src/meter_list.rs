//! `releve-bench list`: the meter list at `--meters` meters (100,000 by default) with the
//! filters of issue 15, next to the unfiltered list in the same run: "not heard since N
//! days", customers by surname, "select all N results" (the filter's ids in the store), and
//! the re-read route's order (nearest neighbour + 2-opt) of 2,000 and 10,000 meters.
//!
//! The park is the search bench's (French names, streets, towns), given on first use a last
//! telegram within 60 days, a GPS position for 9 meters in 10 and one index each.

use releve_core::access::Session;
use releve_core::meters::{meters_list, ListQuery};
use releve_core::model::Register;
use releve_core::route::{self, Point};
use releve_core::store::{self, Store};
use std::path::Path;
use std::time::{Duration, Instant};

type Res = Result<(), Box<dyn std::error::Error>>;

const NOW: i64 = 1_795_435_200;
const DAY: i64 = 86_400;

fn median(mut v: Vec<Duration>) -> Duration {
    v.sort();
    v[v.len() / 2]
}

pub fn run(db: &Path, meters: u32, runs: u32) -> Res {
    let store = Store::open(db)?;
    if store::meters::count(&*store.reader()?)? == 0 {
        let t = Instant::now();
        crate::search::build_park(&store, meters)?;
        let conn = store.writer();
        conn.execute_batch("BEGIN")?;
        conn.execute(
            "UPDATE meters SET last_seen = ?1 - abs(random() % (60 * 86400)),
                 lat = CASE WHEN id % 10 = 0 THEN NULL ELSE 45.40 + abs(random() % 100000) / 1e6 END,
                 lon = CASE WHEN id % 10 = 0 THEN NULL ELSE 4.30 + abs(random() % 200000) / 1e6 END",
            [NOW],
        )?;
        for dt in ["water", "heat", "electricity"] {
            conn.execute(
                "INSERT OR IGNORE INTO readings(meter_id, register, ts, value) SELECT id, ?1, last_seen, id * 1.5 FROM meters WHERE device_type = ?2",
                rusqlite::params![Register::default_for(dt).code(), dt],
            )?;
        }
        conn.execute_batch("COMMIT")?;
        println!("park of {meters} meters built in {:.1} s", t.elapsed().as_secs_f64());
    }
    let session = Session::system("bench");
    let total = store::meters::count(&*store.reader()?)?;
    println!("{total} meters; median of {runs} runs, a 50-row page with the count");
    let not_heard = |days: i64| Some(NOW - days * DAY);
    let cases: Vec<(&str, ListQuery)> = vec![
        ("unfiltered, by serial (baseline)", ListQuery { limit: 50, ..Default::default() }),
        ("unfiltered, by customer surname", ListQuery { limit: 50, sort: Some("customer".into()), ..Default::default() }),
        ("unfiltered, by last seen", ListQuery { limit: 50, sort: Some("last_seen".into()), desc: true, ..Default::default() }),
        ("not heard for 30 days, by serial", ListQuery { limit: 50, not_heard_since: not_heard(30), ..Default::default() }),
        ("not heard for 30 days, by surname", ListQuery { limit: 50, sort: Some("customer".into()), not_heard_since: not_heard(30), ..Default::default() }),
        ("not heard for 30 days, by last seen", ListQuery { limit: 50, sort: Some("last_seen".into()), not_heard_since: not_heard(30), ..Default::default() }),
        ("not heard for 30 days, page at 20,000", ListQuery { limit: 50, offset: 20_000, not_heard_since: not_heard(30), ..Default::default() }),
        ("not heard for 58 days (rare)", ListQuery { limit: 50, not_heard_since: not_heard(58), ..Default::default() }),
        ("not heard for 30 days + search 'saint'", ListQuery { limit: 50, search: Some("saint".into()), not_heard_since: not_heard(30), ..Default::default() }),
    ];
    for (name, q) in &cases {
        let mut v = Vec::new();
        let mut found = 0;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            found = meters_list(&store, &session, q)?.total;
            v.push(t.elapsed());
        }
        println!("meter list, {name:<40} {found:>7} found  {:>7.1} ms", median(v).as_secs_f64() * 1e3);
    }
    for (name, q) in [
        ("every meter", ListQuery::default()),
        ("not heard for 30 days", ListQuery { not_heard_since: not_heard(30), ..Default::default() }),
    ] {
        let mut v = Vec::new();
        let mut n = 0;
        for _ in 0..runs.max(1) {
            let t = Instant::now();
            n = store::meters::filter_ids(&*store.reader()?, &q)?.len();
            v.push(t.elapsed());
        }
        println!("select all results, {name:<30} {n:>7} ids    {:>7.1} ms", median(v).as_secs_f64() * 1e3);
    }
    let ids = store::meters::filter_ids(&*store.reader()?, &ListQuery::default())?;
    let t = Instant::now();
    let selected = store::meters::selected(&*store.reader()?, &ids)?;
    println!("selection rows of {} meters (for the files): {:.0} ms", selected.len(), t.elapsed().as_secs_f64() * 1e3);
    let points: Vec<Point> = selected.iter().filter_map(|m| Some(Point { lat: m.lat?, lon: m.lon? })).collect();
    for n in [2_000usize, 10_000] {
        if points.len() < n {
            continue;
        }
        // Every k-th placed meter over the whole park (about 15 km x 16 km).
        let pts: Vec<Point> = points.iter().step_by((points.len() / n).max(1)).take(n).copied().collect();
        let start = pts.iter().copied().min_by(|a, b| a.lon.total_cmp(&b.lon)).unwrap_or(pts[0]);
        let t = Instant::now();
        let nn = route::order(&pts, start, Duration::ZERO);
        let t_nn = t.elapsed();
        let t = Instant::now();
        let full = route::order(&pts, start, releve_core::selection::ROUTE_BUDGET);
        let t_full = t.elapsed();
        println!(
            "route of {n} meters: nearest neighbour {:.1} ms ({:.1} km); with 2-opt {:.0} ms ({:.1} km; budget {} s)",
            t_nn.as_secs_f64() * 1e3,
            route::length(&pts, start, &nn) / 1e3,
            t_full.as_secs_f64() * 1e3,
            route::length(&pts, start, &full) / 1e3,
            releve_core::selection::ROUTE_BUDGET.as_secs()
        );
    }
    Ok(())
}
