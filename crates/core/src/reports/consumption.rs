//! The consumption report: per consumer (meter and customer), the growth of an index
//! register over a period; limits keep the abnormal ones, a meter type narrows it. Rows are
//! ranked within their kind (meter type, register and unit), and each kind has its own total:
//! a heat meter's kWh and an electricity meter's kWh are never added, m3 and kWh never ranked
//! together.
//!
//! The index at a time is the last reading at or before it; when a meter has none before
//! the start, its first reading in the period stands for the start. Each meter costs two
//! `ORDER BY ts DESC LIMIT 1` lookups on the readings' primary key (meter, register, ts),
//! whatever the length of the period.

use super::{csv_format, fmt_num, page, period, round6};
use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::model::Register;
use crate::store::{self, MeterLabel, Store};
use chrono::NaiveDate;
use rusqlite::Connection;
use serde::Serialize;
use std::io::Write;

#[derive(Debug, Clone)]
pub struct ConsumptionQuery<'a> {
    /// Local dates, `to` included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub group_id: Option<i64>,
    /// Keep consumptions strictly above this.
    pub above: Option<f64>,
    /// Keep consumptions strictly below this; `0` keeps those at or below zero.
    pub below: Option<f64>,
    /// An index register (`volume`, `energy`, ...); default: the meter type's.
    pub register: Option<&'a str>,
    /// Only the meters of this type (`water`, `heat`, `electricity`, ...).
    pub device_type: Option<&'a str>,
    pub offset: i64,
    pub limit: i64,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ConsumptionRow {
    pub meter_id: i64,
    #[serde(flatten)]
    pub label: MeterLabel,
    pub device_type: String,
    pub register: &'static str,
    pub unit: &'static str,
    /// None: no reading of the register up to the end of the period.
    pub consumption: Option<f64>,
    pub start_value: Option<f64>,
    pub start_ts: Option<i64>,
    pub end_value: Option<f64>,
    pub end_ts: Option<i64>,
}

/// The total of one kind of rows: meters of one type, one register, one unit.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct UnitTotal {
    pub device_type: String,
    pub register: &'static str,
    pub unit: &'static str,
    pub consumption: f64,
    /// Kept meters of this kind with a consumption.
    pub meters: i64,
}

#[derive(Debug, Serialize)]
pub struct ConsumptionReport {
    /// The period, Unix seconds: [from, to).
    pub from: i64,
    pub to: i64,
    /// Meters in the report's scope (group or all).
    pub meters: i64,
    /// Meters kept by the limits (all of them without limits).
    pub count: i64,
    /// Kept meters without any reading of their register up to the end.
    pub no_data: i64,
    /// Sum of the kept meters' consumptions per kind (meter type, register, unit), in the
    /// order of the rows.
    pub totals: Vec<UnitTotal>,
    /// One page of the kept meters: by kind (meter type, then register), within a kind the
    /// largest consumption first.
    pub rows: Vec<ConsumptionRow>,
    /// Every kept meter, in the same order (to make a group of them).
    pub meter_ids: Vec<i64>,
}

fn register_of(q: &ConsumptionQuery<'_>) -> Result<Option<Register>> {
    let Some(id) = q.register else { return Ok(None) };
    let r = Register::from_id(id).ok_or_else(|| Error::bad_input("register", format!("unknown register '{id}'")))?;
    if !r.is_cumulative() {
        return Err(Error::bad_input("register", format!("'{id}' is not an index register (volume, energy, a_plus, a_minus, hca)")));
    }
    Ok(Some(r))
}

fn check_limits(q: &ConsumptionQuery<'_>) -> Result<()> {
    for (name, v) in [("above", q.above), ("below", q.below)] {
        if v.is_some_and(|v| !v.is_finite()) {
            return Err(Error::bad_input(name, "the limit is a number"));
        }
    }
    Ok(())
}

/// Whether a consumption passes the limits (no limit: everything, even without data).
pub fn keep(consumption: Option<f64>, above: Option<f64>, below: Option<f64>) -> bool {
    if above.is_none() && below.is_none() {
        return true;
    }
    let Some(c) = consumption else { return false };
    let above_ok = above.is_none_or(|a| c > a);
    let below_ok = below.is_none_or(|b| if b == 0.0 { c <= 0.0 } else { c < b });
    above_ok && below_ok
}

/// A reading: (ts, value).
type Point = Option<(i64, f64)>;

/// Index at `start` (or the first reading after it) and at `end` of one meter.
fn measure(conn: &Connection, meter_id: i64, register: i64, start: i64, end: i64) -> Result<(Point, Point)> {
    let Some(last) = store::reports::index_at(conn, meter_id, register, end)? else {
        return Ok((None, None));
    };
    let first = if last.0 <= start {
        Some(last)
    } else {
        match store::reports::index_at(conn, meter_id, register, start)? {
            Some(f) => Some(f),
            None => store::reports::first_between(conn, meter_id, register, start, end)?,
        }
    };
    Ok((first, Some(last)))
}

/// Every kept row, sorted, and the number of meters in scope.
fn compute(conn: &Connection, q: &ConsumptionQuery<'_>) -> Result<(i64, i64, i64, Vec<ConsumptionRow>)> {
    check_limits(q)?;
    let forced = register_of(q)?;
    if let Some(g) = q.group_id {
        store::groups::name_of(conn, g)?.ok_or_else(|| Error::not_found(format!("group {g}")))?;
    }
    let tz = crate::settings::timezone(conn)?;
    let (start, end) = period(tz, q.from, q.to)?;
    let mut consumers = store::reports::consumers(conn, q.group_id, start)?;
    if let Some(t) = q.device_type.map(str::trim).filter(|t| !t.is_empty()) {
        consumers.retain(|c| c.device_type == t);
    }
    let meters = consumers.len() as i64;
    let mut rows = Vec::new();
    for c in consumers {
        let register = forced.unwrap_or_else(|| Register::default_for(&c.device_type));
        let (first, last) = measure(conn, c.meter_id, register.code(), start, end)?;
        let consumption = match (first, last) {
            (Some(f), Some(l)) => Some(round6(l.1 - f.1)),
            _ => None,
        };
        if !keep(consumption, q.above, q.below) {
            continue;
        }
        rows.push(ConsumptionRow {
            meter_id: c.meter_id,
            label: c.label,
            device_type: c.device_type,
            register: register.id(),
            unit: register.unit(),
            consumption,
            start_value: first.map(|f| f.1),
            start_ts: first.map(|f| f.0),
            end_value: last.map(|l| l.1),
            end_ts: last.map(|l| l.0),
        });
    }
    rows.sort_by(|a, b| {
        let (x, y) = (a.consumption.unwrap_or(f64::NEG_INFINITY), b.consumption.unwrap_or(f64::NEG_INFINITY));
        (a.device_type.as_str(), a.register, a.unit)
            .cmp(&(b.device_type.as_str(), b.register, b.unit))
            .then_with(|| y.total_cmp(&x))
            .then_with(|| a.label.serial.cmp(&b.label.serial))
            .then(a.meter_id.cmp(&b.meter_id))
    });
    Ok((meters, start, end, rows))
}

/// The consumption of every meter (of a group) over a period, filtered by the limits.
pub fn report_consumption(store: &Store, session: &Session, q: &ConsumptionQuery<'_>, _now: i64) -> Result<ConsumptionReport> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let (meters, from, to, rows) = compute(&conn, q)?;
    let mut totals: Vec<UnitTotal> = Vec::new();
    for r in &rows {
        let Some(c) = r.consumption else { continue };
        match totals.iter_mut().find(|t| t.device_type == r.device_type && t.register == r.register && t.unit == r.unit) {
            Some(t) => {
                t.consumption += c;
                t.meters += 1;
            }
            None => totals.push(UnitTotal { device_type: r.device_type.clone(), register: r.register, unit: r.unit, consumption: c, meters: 1 }),
        }
    }
    for t in &mut totals {
        t.consumption = round6(t.consumption);
    }
    let no_data = rows.iter().filter(|r| r.consumption.is_none()).count() as i64;
    let meter_ids = rows.iter().map(|r| r.meter_id).collect();
    let count = rows.len() as i64;
    Ok(ConsumptionReport { from, to, meters, count, no_data, totals, rows: page(rows, q.offset, q.limit), meter_ids })
}

/// The whole report as CSV (separator and decimal mark of the session's locale); returns
/// the number of rows. Needs `export`.
pub fn report_consumption_export(store: &Store, session: &Session, q: &ConsumptionQuery<'_>, out: &mut dyn Write, now: i64) -> Result<u64> {
    let permit = session.permit(Permission::Export)?;
    let conn = store.reader()?;
    let (_, _, _, rows) = compute(&conn, q)?;
    let tz = crate::settings::timezone(&conn)?;
    drop(conn);
    let (sep, mark) = csv_format(session);
    let mut w = csv::WriterBuilder::new().delimiter(sep).from_writer(out);
    w.write_record(MeterLabel::CONTACT_COLUMNS.into_iter().chain([
        "meter_serial", "register", "start_index", "start_time", "end_index", "end_time", "consumption", "unit",
    ]))?;
    use chrono::TimeZone;
    let local = |ts: Option<i64>| {
        ts.and_then(|ts| tz.timestamp_opt(ts, 0).single()).map(|t| t.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default()
    };
    let num = |v: Option<f64>| v.map(|v| fmt_num(v, 3, mark)).unwrap_or_default();
    for r in &rows {
        w.write_record(r.label.contact_values().into_iter().chain([
            r.label.serial.clone(),
            r.register.to_string(),
            num(r.start_value),
            local(r.start_ts),
            num(r.end_value),
            local(r.end_ts),
            num(r.consumption),
            r.unit.to_string(),
        ]))?;
    }
    w.flush().map_err(|e| Error::io("consumption report export", e))?;
    let details = format!("consumption report {}..{}: {} rows", q.from, q.to, rows.len());
    store::audit::record_permit(&store.writer(), permit, now, "export", &details)?;
    Ok(rows.len() as u64)
}

#[cfg(test)]
mod tests {
    use super::keep;

    #[test]
    fn limits_keep_the_abnormal_ones() {
        assert!(keep(None, None, None));
        assert!(!keep(None, Some(1.0), None));
        assert!(keep(Some(5.0), Some(1.0), None));
        assert!(!keep(Some(1.0), Some(1.0), None));
        assert!(keep(Some(0.0), None, Some(0.0)));
        assert!(keep(Some(-0.5), None, Some(0.0)));
        assert!(!keep(Some(0.1), None, Some(0.0)));
        assert!(keep(Some(0.1), None, Some(0.5)));
        assert!(!keep(Some(0.5), None, Some(0.5)));
    }
}
