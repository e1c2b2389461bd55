//! The reading-performance report: for each meter (of a group) over a period, how many of
//! the expected readings came in. With at most one reading expected a day, a meter
//! "receives" the days with at least one reading; with more (hourly meters), it receives
//! readings. Performance = received / expected, at most 100 %. Summaries can be saved with
//! a comment.
//!
//! The unit of work is one primary-key range scan of the meter's default register over the
//! period (about 30 rows a meter for a month of daily readings), counted per local day in
//! Rust. A per-meter-per-day rollup table kept by the import would make this independent of
//! the number of readings; it is not needed at 100,000 meters x 30 days.

use super::{csv_format, fmt_num, page, MAX_DAYS};
use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::model::Register;
use crate::store::reports::SavedPerformance;
use crate::store::{self, Store};
use chrono::{Duration, NaiveDate};
use rusqlite::Connection;
use serde::Serialize;
use std::io::Write;

/// A comment holds at most this many characters.
pub const MAX_COMMENT: usize = 4_000;

#[derive(Debug, Clone)]
pub struct PerformanceQuery {
    /// Local dates, `to` included; days that have not begun at `now` are left out.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_id: Option<i64>,
    /// Readings expected per day: 1 = daily, 24 = hourly.
    pub expected_per_day: f64,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct PerformanceRow {
    pub meter_id: i64,
    pub serial: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    /// Days with a reading (at most one expected a day), else readings.
    pub received: i64,
    pub expected: f64,
    /// Percent, one decimal, at most 100.
    pub performance: f64,
    /// The last local day (YYYY-MM-DD) with fewer readings than expected, if any.
    pub last_missing_day: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct PerformanceReport {
    pub from: String,
    /// The last day counted (the period's end, or today if it ends later).
    pub to: String,
    pub days: i64,
    pub expected_per_day: f64,
    pub group_name: Option<String>,
    /// Meters in the report (group or all).
    pub meters: i64,
    /// Mean performance of the meters, percent, one decimal.
    pub average: f64,
    /// Meters below 100 %.
    pub missing: i64,
    /// One page of the meters, the worst first.
    pub rows: Vec<PerformanceRow>,
}

fn round1(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

struct Computed {
    days: Vec<NaiveDate>,
    group_name: Option<String>,
    average: f64,
    missing: i64,
    rows: Vec<PerformanceRow>,
}

fn compute(conn: &Connection, q: &PerformanceQuery, now: i64) -> Result<Computed> {
    let e = q.expected_per_day;
    if !e.is_finite() || e <= 0.0 || e > 1_440.0 {
        return Err(Error::bad_input("expected_per_day", "readings expected per day: a number above 0, at most 1440"));
    }
    if q.to < q.from {
        return Err(Error::bad_input("period", format!("the end {} is before the start {}", q.to, q.from)));
    }
    if (q.to - q.from).num_days() >= MAX_DAYS {
        return Err(Error::bad_input("period", format!("at most {MAX_DAYS} days")));
    }
    let group_name = match q.group_id {
        Some(g) => Some(store::groups::name_of(conn, g)?.ok_or_else(|| Error::not_found(format!("group {g}")))?),
        None => None,
    };
    let tz = crate::settings::timezone(conn)?;
    // Day i is [bounds[i], bounds[i + 1]); only days begun by `now`.
    let mut days = Vec::new();
    let mut bounds = Vec::new();
    let mut d = q.from;
    while d <= q.to {
        let start = crate::settings::local_midnight(tz, d)?;
        if start > now {
            break;
        }
        days.push(d);
        bounds.push(start);
        d += Duration::days(1);
    }
    if days.is_empty() {
        return Err(Error::bad_input("period", "the period has not begun yet"));
    }
    bounds.push(crate::settings::local_midnight(tz, d)?);
    let needed_a_day = e.max(1.0).ceil() as usize;
    let mut rows = Vec::new();
    let mut times = Vec::new();
    let mut per_day = vec![0usize; days.len()];
    for c in store::reports::consumers(conn, q.group_id, bounds[0])? {
        // Only the days the meter was in service: begun before its removal, ended after
        // its installation (an exchanged meter and its replacement each count their part).
        let first = c.installed_at.map_or(0, |at| bounds[1..].iter().take_while(|&&end| end <= at).count());
        let last = c.removed_at.map_or(days.len(), |at| bounds[..days.len()].iter().take_while(|&&start| start < at).count());
        if first >= last {
            continue;
        }
        let expected = e * (last - first) as f64;
        let register = Register::default_for(&c.device_type).code();
        store::reports::reading_times(conn, c.meter_id, register, bounds[first], bounds[last], &mut times)?;
        per_day.iter_mut().for_each(|n| *n = 0);
        let mut i = first;
        for &ts in &times {
            while ts >= bounds[i + 1] {
                i += 1;
            }
            per_day[i] += 1;
        }
        let in_service = &per_day[first..last];
        let received = if e <= 1.0 { in_service.iter().filter(|&&n| n > 0).count() } else { times.len() } as i64;
        let performance = (received as f64 / expected * 100.0).min(100.0);
        let last_missing_day = if performance < 100.0 {
            in_service.iter().rposition(|&n| n < needed_a_day).map(|i| days[first + i].to_string())
        } else {
            None
        };
        rows.push(PerformanceRow {
            meter_id: c.meter_id,
            serial: c.label.serial,
            address: c.label.address,
            postal_code: c.label.postal_code,
            city: c.label.city,
            received,
            expected: (expected * 100.0).round() / 100.0,
            performance,
            last_missing_day,
        });
    }
    let average = if rows.is_empty() { 0.0 } else { round1(rows.iter().map(|r| r.performance).sum::<f64>() / rows.len() as f64) };
    let missing = rows.iter().filter(|r| r.performance < 100.0).count() as i64;
    for r in &mut rows {
        r.performance = round1(r.performance);
    }
    rows.sort_by(|a, b| a.performance.total_cmp(&b.performance).then_with(|| a.serial.cmp(&b.serial)).then(a.meter_id.cmp(&b.meter_id)));
    Ok(Computed { days, group_name, average, missing, rows })
}

/// Reading performance of every meter (of a group) over a period, the worst first.
pub fn report_performance(store: &Store, session: &Session, q: &PerformanceQuery, now: i64) -> Result<PerformanceReport> {
    session.permit(Permission::View)?;
    let c = compute(&*store.reader()?, q, now)?;
    Ok(PerformanceReport {
        from: q.from.to_string(),
        to: c.days.last().map_or(q.to, |d| *d).to_string(),
        days: c.days.len() as i64,
        expected_per_day: q.expected_per_day,
        group_name: c.group_name,
        meters: c.rows.len() as i64,
        average: c.average,
        missing: c.missing,
        rows: page(c.rows, q.offset, q.limit),
    })
}

/// Compute the report and save its parameters and summary with a comment.
pub fn report_performance_save(store: &Store, session: &Session, q: &PerformanceQuery, comment: &str, now: i64) -> Result<SavedPerformance> {
    let permit = session.permit(Permission::View)?;
    let comment = clean_comment(comment)?;
    let c = compute(&*store.reader()?, q, now)?;
    let mut saved = SavedPerformance {
        id: 0,
        created_at: now,
        user: session.login.clone(),
        from: q.from.to_string(),
        to: q.to.to_string(),
        group_id: q.group_id,
        group_name: c.group_name,
        expected_per_day: q.expected_per_day,
        meters: c.rows.len() as i64,
        average: c.average,
        missing: c.missing,
        commented_at: (!comment.is_empty()).then_some(now),
        commented_by: (!comment.is_empty()).then(|| session.login.clone()),
        comment,
    };
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    saved.id = store::reports::insert_performance(&tx, &saved)?;
    let details = format!("#{}: {}..{}, {} meters, {} %", saved.id, saved.from, saved.to, saved.meters, saved.average);
    store::audit::record_permit(&tx, permit, now, "performance_report_saved", &details)?;
    tx.commit()?;
    Ok(saved)
}

fn clean_comment(comment: &str) -> Result<String> {
    let comment = comment.trim();
    if comment.chars().count() > MAX_COMMENT {
        return Err(Error::bad_input("comment", format!("at most {MAX_COMMENT} characters")));
    }
    Ok(comment.to_string())
}

/// The saved performance reports, newest first.
pub fn report_performance_list(store: &Store, session: &Session) -> Result<Vec<SavedPerformance>> {
    session.permit(Permission::View)?;
    store::reports::list_performance(&*store.reader()?)
}

/// Replace the comment of saved report `id`.
pub fn report_performance_comment(store: &Store, session: &Session, id: i64, comment: &str, now: i64) -> Result<SavedPerformance> {
    let permit = session.permit(Permission::View)?;
    let comment = clean_comment(comment)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if !store::reports::set_comment(&tx, id, &comment, now, &session.login)? {
        return Err(Error::not_found(format!("saved report {id}")));
    }
    store::audit::record_permit(&tx, permit, now, "performance_report_commented", &format!("#{id}"))?;
    let saved = store::reports::get_performance(&tx, id)?.ok_or_else(|| Error::not_found(format!("saved report {id}")))?;
    tx.commit()?;
    Ok(saved)
}

/// Every meter's row as CSV (separator and decimal mark of the session's locale); returns
/// the number of rows. Needs `export`.
pub fn report_performance_export(store: &Store, session: &Session, q: &PerformanceQuery, out: &mut dyn Write, now: i64) -> Result<u64> {
    let permit = session.permit(Permission::Export)?;
    let c = compute(&*store.reader()?, q, now)?;
    let (sep, mark) = csv_format(session);
    let mut w = csv::WriterBuilder::new().delimiter(sep).from_writer(out);
    w.write_record([
        "address", "postal_code", "city", "meter_serial", "received", "expected", "performance_percent", "last_missing_day",
    ])?;
    for r in &c.rows {
        w.write_record([
            r.address.clone(),
            r.postal_code.clone(),
            r.city.clone(),
            r.serial.clone(),
            r.received.to_string(),
            fmt_num(r.expected, 2, mark),
            fmt_num(r.performance, 1, mark),
            r.last_missing_day.clone().unwrap_or_default(),
        ])?;
    }
    w.flush().map_err(|e| Error::io("performance report export", e))?;
    let details = format!("performance report {}..{}: {} rows", q.from, q.to, c.rows.len());
    store::audit::record_permit(&store.writer(), permit, now, "export", &details)?;
    Ok(c.rows.len() as u64)
}
