//! `releve-bench lookups`: what one per-meter primary-key lookup costs through rusqlite's
//! statement cache when its equalities are written on a bare parameter (`meter_id = ?1`)
//! and when they are written `meter_id = ?1 + 0` (the store's convention, see
//! `releve_core::store`), with the statement's re-prepare counter
//! (`SQLITE_STMTSTATUS_REPREPARE`) after the runs. Then the two per-meter lookups the
//! per-reading export used to make (info codes, exchanges) against one pass over the period.
//!
//! Read-only: works on any Relevé database (`--db`), using meters 1..=`--meters`.

use releve_core::model::Register;
use releve_core::store::Store;
use rusqlite::{params, Connection, StatementStatus};
use std::path::Path;
use std::time::Instant;

type Res = Result<(), Box<dyn std::error::Error>>;

/// One lookup shape: a label and its SQL over (meter, register, ts).
const CASES: [(&str, &str); 7] = [
    (
        "= ?1, ORDER BY ts DESC LIMIT 1 (last_before as it was)",
        "SELECT ts, value FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts < ?3 ORDER BY ts DESC LIMIT 1",
    ),
    (
        "= ?1 + 0, ORDER BY ts DESC LIMIT 1 (last_before now)",
        "SELECT ts, value FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts < ?3 ORDER BY ts DESC LIMIT 1",
    ),
    (
        "= ?1, no ORDER BY (max(ts))",
        "SELECT max(ts), 0.0 FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts < ?3",
    ),
    (
        "= ?1, no ORDER BY (LIMIT 1)",
        "SELECT ts, value FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts < ?3 LIMIT 1",
    ),
    (
        "= ?1, ORDER BY ts (series as it was)",
        "SELECT ts, value FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts >= 0 AND ts < ?3 ORDER BY ts",
    ),
    (
        "= ?1 + 0, ORDER BY ts (series now)",
        "SELECT ts, value FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts >= 0 AND ts < ?3 ORDER BY ts",
    ),
    (
        "= ?1 only, no ORDER BY",
        "SELECT ts, value FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts = ?3",
    ),
];

pub fn run(db: &Path, meters: u32) -> Res {
    let store = Store::open_read_only(db)?;
    let conn = store.reader()?;
    let register = Register::Volume.code();
    let n = i64::from(meters);
    println!("{:<58} {:>10} {:>10} {:>10}", "lookup, prepare_cached, one per meter", "lookups", "µs each", "reprepares");
    // Warm the page cache once so every case reads the same pages from memory.
    time_case(&conn, CASES[1].1, n, register, false)?;
    for (label, sql) in CASES {
        let (secs, reprepares) = time_case(&conn, sql, n, register, false)?;
        println!("{label:<58} {n:>10} {:>10.2} {reprepares:>10}", secs * 1e6 / n as f64);
    }
    // The same bare statement held by the caller: bindings are never cleared, so it stays.
    let (secs, reprepares) = time_case(&conn, CASES[0].1, n, register, true)?;
    println!("{:<58} {n:>10} {:>10.2} {reprepares:>10}", "= ?1, ORDER BY, one Statement kept (no cache)", secs * 1e6 / n as f64);
    // The query-planner stability guarantee stops the planner looking at bound values.
    // (A statement keeps its marks when re-prepared: start from an empty cache.)
    conn.flush_prepared_statement_cache();
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, true)?;
    let (secs, reprepares) = time_case(&conn, CASES[0].1, n, register, false)?;
    conn.set_db_config(rusqlite::config::DbConfig::SQLITE_DBCONFIG_ENABLE_QPSG, false)?;
    conn.flush_prepared_statement_cache();
    println!("{:<58} {n:>10} {:>10.2} {reprepares:>10}", "= ?1, ORDER BY, with SQLITE_DBCONFIG_ENABLE_QPSG", secs * 1e6 / n as f64);

    // The per-reading export's two per-meter reads: as they were (info codes cached on a
    // bare parameter, exchanges prepared each time), one query per meter now (cached,
    // `+ 0`), one pass over the period.
    let (from, to) = (0, i64::MAX);
    let t = Instant::now();
    let mut found = 0usize;
    for m in 1..=n {
        let mut stmt = conn.prepare_cached(
            "SELECT code, started_at, last_seen_at, ended_at FROM info_code_events
             WHERE meter_id = ?1 AND started_at < ?3 AND coalesce(ended_at, last_seen_at) >= ?2
             ORDER BY started_at",
        )?;
        found += stmt.query_map(params![m, from, to], |_| Ok(()))?.count();
        let mut stmt = conn.prepare(
            "SELECT e.at, e.old_meter_id, e.new_meter_id, o.serial, n.serial, e.register, e.final_value,
                    e.initial_value FROM meter_exchanges e JOIN meters o ON o.id = e.old_meter_id
                    JOIN meters n ON n.id = e.new_meter_id
             WHERE e.old_meter_id = ?1 OR e.new_meter_id = ?1 ORDER BY e.at",
        )?;
        found += stmt.query_map([m], |_| Ok(()))?.count();
    }
    let as_it_was = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut found_now = 0usize;
    for m in 1..=n {
        found_now += releve_core::store::info_codes::overlapping(&conn, m, from, to)?.len();
        found_now += releve_core::store::meters::exchanges_of(&conn, m)?.len();
    }
    let per_meter = t.elapsed().as_secs_f64();
    let t = Instant::now();
    let mut bulk = 0usize;
    releve_core::store::info_codes::overlapping_all(&conn, from, to, None, &mut |_, _| {
        bulk += 1;
        Ok(())
    })?;
    let meter_ids: std::collections::HashSet<i64> = (1..=n).collect();
    bulk += releve_core::store::meters::exchanges_in(&conn, from, to)?
        .iter()
        .map(|e| usize::from(meter_ids.contains(&e.old_meter_id)) + usize::from(meter_ids.contains(&e.new_meter_id)))
        .sum::<usize>();
    let one_pass = t.elapsed().as_secs_f64();
    println!(
        "info codes + exchanges of {n} meters: per meter as it was {as_it_was:.3} s ({found} rows); per meter now (cached, + 0) {per_meter:.3} s ({found_now} rows); one pass {one_pass:.3} s ({bulk} rows)"
    );
    Ok(())
}

/// Run `sql` once per meter 1..=n: (seconds, re-prepares counted by SQLite).
fn time_case(conn: &Connection, sql: &str, n: i64, register: i64, keep: bool) -> Result<(f64, i32), rusqlite::Error> {
    let mut seen = 0i64;
    let mut kept = if keep { Some(conn.prepare(sql)?) } else { None };
    let t = Instant::now();
    for m in 1..=n {
        let mut cached;
        let stmt = match kept.as_mut() {
            Some(s) => s,
            None => {
                cached = conn.prepare_cached(sql)?;
                &mut cached
            }
        };
        let mut rows = stmt.query(params![m, register, i64::MAX])?;
        while let Some(r) = rows.next()? {
            seen += r.get::<_, Option<i64>>(0)?.unwrap_or(0) & 1;
        }
    }
    let secs = t.elapsed().as_secs_f64();
    std::hint::black_box(seen);
    let reprepares = match kept.as_ref() {
        Some(s) => s.get_status(StatementStatus::RePrepare),
        None => conn.prepare_cached(sql)?.get_status(StatementStatus::RePrepare),
    };
    // Start the next measurement of the same SQL from zero.
    conn.prepare_cached(sql)?.reset_status(StatementStatus::RePrepare);
    Ok((secs, reprepares))
}
