//! `releve-bench audit`: the audit log screen's queries on a log of `--entries` entries (made
//! on first use in `--db`, reused after): a page of 50 newest first with no filter, by event
//! type, by user over a period, a page deep in the log (its cursor), and the lists of event
//! types, users and computers the filters offer; each next to the same question asked with
//! the table's indexes forbidden (`NOT INDEXED`: a full scan, the baseline).

use releve_core::store::audit::{self, Column, Filter};
use releve_core::store::Store;
use rusqlite::Connection;
use std::path::Path;
use std::time::Instant;

type Res = Result<(), Box<dyn std::error::Error>>;

/// 2026-01-01T00:00Z, the first entry; one entry every 30 seconds after it.
const T0: i64 = 1_767_225_600;
const EVENTS: [&str; 12] = [
    "import", "export", "login", "group_created", "meter_exchange", "park_import", "export_layout_run", "export_job_run",
    "keys_import", "map_settings", "login_failed", "consumer_report_sent",
];
const USERS: [&str; 8] = ["manager", "claire", "marc", "lucie", "paul", "service", "nadia", "olivier"];

pub fn run(db: &Path, entries: u32, runs: u32) -> Res {
    let store = Store::open(db)?;
    let have: i64 = store.reader()?.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?;
    if have < i64::from(entries) {
        let started = Instant::now();
        let mut conn = store.writer();
        let tx = conn.transaction()?;
        for i in have..i64::from(entries) {
            // Events: "import" and "export" most, the others rarer (the last ones rarest).
            let e = match i % 100 {
                0..=39 => 0,
                40..=69 => 1,
                70..=84 => 2,
                n => 3 + (n as usize - 85) % 9,
            };
            let user = USERS[(i as usize / 7) % USERS.len()];
            let computer = format!("PC-{:02}", (i / 13) % 20);
            let details = format!("entry {i}: file releves-{i}.txt, {} telegrams", i % 997);
            audit::record(&tx, T0 + i * 30, EVENTS[e], user, &computer, &details)?;
        }
        tx.commit()?;
        println!("made {} entries in {:.1} s", i64::from(entries) - have, started.elapsed().as_secs_f64());
    }
    let conn = store.reader()?;
    let n: i64 = conn.query_row("SELECT count(*) FROM audit_log", [], |r| r.get(0))?;
    let last: i64 = conn.query_row("SELECT max(at) FROM audit_log", [], |r| r.get(0))?;
    let mid = T0 + (last - T0) / 2;
    println!("audit log of {n} entries; median of {runs} runs (ms)");
    println!("{:<52} {:>10} {:>12} {:>8}", "query", "indexed", "full scan", "rows");
    let cases: Vec<(&str, Filter)> = vec![
        ("a page of 50, no filter", Filter::default()),
        ("a page of 50, event = keys_import (1 in 100)", Filter { event: Some("keys_import".into()), ..Filter::default() }),
        ("a page of 50, event = import (4 in 10)", Filter { event: Some("import".into()), ..Filter::default() }),
        (
            "user = lucie, one day in the middle",
            Filter { user: Some("lucie".into()), from: Some(mid), to: Some(mid + 86_400), ..Filter::default() },
        ),
        ("a page of 50, computer = PC-07, half-way back", Filter { computer: Some("PC-07".into()), before: Some((mid, i64::MAX)), ..Filter::default() }),
        (
            "event + user + computer, a month",
            Filter {
                event: Some("group_created".into()),
                user: Some("marc".into()),
                computer: Some("PC-03".into()),
                from: Some(mid - 15 * 86_400),
                to: Some(mid + 15 * 86_400),
                ..Filter::default()
            },
        ),
    ];
    for (label, f) in &cases {
        let (indexed, rows) = median(runs, || Ok(audit::query(&conn, f, 51)?.len()))?;
        let (scan, rows_scan) = median(runs.min(5), || full_scan(&conn, f))?;
        assert_eq!(rows, rows_scan, "{label}: the same rows both ways");
        println!("{label:<52} {indexed:>10.3} {scan:>12.1} {rows:>8}");
    }
    for (label, column, name) in [("event types offered", Column::Event, "event"), ("users offered", Column::User, "user"), ("computers offered", Column::Computer, "computer")] {
        let (indexed, rows) = median(runs, || Ok(audit::distinct(&conn, column)?.len()))?;
        let sql = format!("SELECT DISTINCT {name} FROM audit_log NOT INDEXED");
        let (scan, _) = median(runs.min(5), || Ok(conn.prepare(&sql)?.query_map([], |r| r.get::<_, String>(0))?.count()))?;
        println!("{label:<52} {indexed:>10.3} {scan:>12.1} {rows:>8}");
    }
    Ok(())
}

/// The same question with the indexes forbidden.
fn full_scan(conn: &Connection, f: &Filter) -> Result<usize, Box<dyn std::error::Error>> {
    let mut sql = String::from("SELECT id FROM audit_log NOT INDEXED WHERE 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    for (col, v) in [("event", &f.event), ("user", &f.user), ("computer", &f.computer)] {
        if let Some(v) = v {
            args.push(v.clone().into());
            sql.push_str(&format!(" AND {col} = ?{}", args.len()));
        }
    }
    if let Some(v) = f.from {
        args.push(v.into());
        sql.push_str(&format!(" AND at >= ?{}", args.len()));
    }
    if let Some(v) = f.to {
        args.push(v.into());
        sql.push_str(&format!(" AND at < ?{}", args.len()));
    }
    if let Some((at, id)) = f.before {
        args.push(at.into());
        args.push(id.into());
        sql.push_str(&format!(" AND (at, id) < (?{}, ?{})", args.len() - 1, args.len()));
    }
    sql.push_str(" ORDER BY at DESC, id DESC LIMIT 51");
    Ok(conn.prepare(&sql)?.query_map(rusqlite::params_from_iter(args), |r| r.get::<_, i64>(0))?.count())
}

/// Median milliseconds of `runs` calls, and the last call's answer.
fn median<T>(runs: u32, mut f: impl FnMut() -> Result<T, Box<dyn std::error::Error>>) -> Result<(f64, T), Box<dyn std::error::Error>> {
    let mut times = Vec::new();
    let mut out = None;
    for _ in 0..runs.max(1) {
        let t = Instant::now();
        out = Some(f()?);
        times.push(t.elapsed().as_secs_f64() * 1e3);
    }
    times.sort_by(f64::total_cmp);
    Ok((times[times.len() / 2], out.ok_or("no run")?))
}
