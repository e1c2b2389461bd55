//! Values at a billing date and consumption over a period, per meter and register.
//!
//! The value of a register at a date D (00:00 local time) is, in this order: the meter's own
//! target value for D (register `target_date` == D in a telegram at or after D, within a
//! month; `target_volume`/`target_energy` of that telegram), the reading nearest to D
//! within the layout's tolerance, a linear interpolation between the readings around D
//! (when the layout allows it; flagged), or nothing. Each lookup is a primary-key range
//! scan of one meter and register (`ts <= D ... DESC LIMIT 1`, `ts >= D ... LIMIT 1`).

use crate::error::Result;
use crate::model::Register;
use crate::reports::round6;
use crate::store::{self, meters::Exchange};
use chrono::NaiveDate;
use rusqlite::Connection;
use serde::Serialize;

/// A target value is looked for in the telegrams of this long after its date.
const TARGET_WINDOW: i64 = 32 * 86_400;

/// Where a value at a billing date comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Source {
    Target,
    Reading,
    Interpolated,
    Missing,
}

impl Source {
    pub fn id(self) -> &'static str {
        match self {
            Source::Target => "target",
            Source::Reading => "reading",
            Source::Interpolated => "interpolated",
            Source::Missing => "missing",
        }
    }
}

/// A register's value at a billing date.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    pub value: Option<f64>,
    /// When the value was read (the date itself for target and interpolated values).
    pub ts: Option<i64>,
    pub source: Source,
    /// For interpolated values: the readings around the date.
    pub around: Option<((i64, f64), (i64, f64))>,
}

impl Point {
    const MISSING: Point = Point { value: None, ts: None, source: Source::Missing, around: None };
}

/// How values are looked up.
#[derive(Debug, Clone, Copy)]
pub struct Rules {
    pub tolerance_s: i64,
    pub interpolate: bool,
}

/// The value of `register` of a meter at `at` (local midnight starting `date`).
pub fn value_at(
    conn: &Connection,
    meter_id: i64,
    register: Register,
    date: NaiveDate,
    at: i64,
    rules: Rules,
) -> Result<Point> {
    if let Some(target) = target_of(register) {
        let days = (date - NaiveDate::default()).num_days() as f64;
        let date_reg = Register::TargetDate.code();
        if let Some(ts) = store::layouts::first_with_value(conn, meter_id, date_reg, days, at, at + TARGET_WINDOW)? {
            if let Some(v) = store::layouts::value_at_time(conn, meter_id, target.code(), ts)? {
                return Ok(Point { value: Some(v), ts: Some(at), source: Source::Target, around: None });
            }
        }
    }
    let code = register.code();
    let before = store::layouts::at_or_before(conn, meter_id, code, at)?;
    if let Some((ts, v)) = before.filter(|b| b.0 == at) {
        return Ok(Point { value: Some(v), ts: Some(ts), source: Source::Reading, around: None });
    }
    let after = store::layouts::at_or_after(conn, meter_id, code, at)?;
    let near = |p: Option<(i64, f64)>| p.filter(|p| (p.0 - at).abs() <= rules.tolerance_s);
    let nearest = match (near(before), near(after)) {
        (Some(b), Some(a)) => Some(if at - b.0 <= a.0 - at { b } else { a }),
        (b, a) => b.or(a),
    };
    if let Some((ts, v)) = nearest {
        return Ok(Point { value: Some(v), ts: Some(ts), source: Source::Reading, around: None });
    }
    if let (true, Some(b), Some(a)) = (rules.interpolate, before, after) {
        let v = b.1 + (a.1 - b.1) * (at - b.0) as f64 / (a.0 - b.0) as f64;
        return Ok(Point { value: Some(round6(v)), ts: Some(at), source: Source::Interpolated, around: Some((b, a)) });
    }
    Ok(Point::MISSING)
}

/// The register holding a register's target (billing-date) value, if the meters have one.
fn target_of(register: Register) -> Option<Register> {
    match register {
        Register::Volume => Some(Register::TargetVolume),
        Register::Energy => Some(Register::TargetEnergy),
        Register::Hca => Some(Register::TargetHca),
        _ => None,
    }
}

/// A meter exchange in the period, as a billing row shows it.
#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeSeen {
    pub at: i64,
    pub old_serial: String,
    pub old_final: Option<f64>,
    pub new_initial: Option<f64>,
}

/// One register of one installation over a billing period.
#[derive(Debug, Clone, PartialEq)]
pub struct Billed {
    pub register: Register,
    pub start: Point,
    pub end: Point,
    /// Meter serial whose value `start` is (the replaced meter's after an exchange).
    pub start_serial: String,
    pub consumption: Option<f64>,
    /// The latest exchange in the period.
    pub exchange: Option<ExchangeSeen>,
}

/// The period in both forms: local dates and Unix times of their midnights.
#[derive(Debug, Clone, Copy)]
pub struct Bounds {
    pub from: NaiveDate,
    /// The billing date: the day after the period's last day.
    pub end_date: NaiveDate,
    pub start: i64,
    pub end: i64,
}

/// `register` of the installation whose current meter is `meter_id`, over the period;
/// `chain` = the exchanges in the period that led to this meter, oldest first.
pub fn bill(
    conn: &Connection,
    meter_id: i64,
    serial: &str,
    register: Register,
    chain: &[&Exchange],
    bounds: Bounds,
    rules: Rules,
) -> Result<Billed> {
    let first_meter = chain.first().map_or(meter_id, |e| e.old_meter_id);
    let start = value_at(conn, first_meter, register, bounds.from, bounds.start, rules)?;
    let end = value_at(conn, meter_id, register, bounds.end_date, bounds.end, rules)?;
    let start_serial = chain.first().map_or_else(|| serial.to_string(), |e| e.old_serial.clone());
    // Each exchange closes one meter (final) and opens the next (initial).
    let mut segments: Vec<(Option<f64>, Option<f64>)> = Vec::with_capacity(chain.len());
    for e in chain {
        segments.push(if e.register == register.id() {
            (Some(e.final_value), Some(e.initial_value))
        } else {
            (
                store::layouts::at_or_before(conn, e.old_meter_id, register.code(), e.at)?.map(|p| p.1),
                store::layouts::at_or_after(conn, e.new_meter_id, register.code(), e.at)?.map(|p| p.1),
            )
        });
    }
    let consumption = if register.is_cumulative() { consumption(start.value, &segments, end.value) } else { None };
    let exchange = chain.last().map(|e| {
        let (old_final, new_initial) = segments.last().copied().unwrap_or((None, None));
        ExchangeSeen { at: e.at, old_serial: e.old_serial.clone(), old_final, new_initial }
    });
    Ok(Billed { register, start, end, start_serial, consumption, exchange })
}

/// (final - start) + (next final - initial) ... + (end - last initial).
fn consumption(start: Option<f64>, exchanges: &[(Option<f64>, Option<f64>)], end: Option<f64>) -> Option<f64> {
    let mut total = 0.0;
    let mut from = start?;
    for (fin, initial) in exchanges {
        total += (*fin)? - from;
        from = (*initial)?;
    }
    Some(round6(total + end? - from))
}

#[cfg(test)]
mod tests {
    use super::consumption;

    #[test]
    fn consumption_adds_the_segments_of_each_meter() {
        assert_eq!(consumption(Some(10.0), &[], Some(25.5)), Some(15.5));
        // old meter 10 -> 30 (final), new meter 0.5 (initial) -> 4.5
        assert_eq!(consumption(Some(10.0), &[(Some(30.0), Some(0.5))], Some(4.5)), Some(24.0));
        assert_eq!(consumption(Some(10.0), &[(Some(30.0), None)], Some(4.5)), None);
        assert_eq!(consumption(None, &[], Some(4.5)), None);
    }
}
