//! The meter screens: the list, one meter's detail, its consumption histogram.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::model::Register;
use crate::store::{self, Store};
use chrono::{Datelike, Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

pub use crate::exchange::ExchangeMark;
pub use store::meters::{ListQuery, MeterRow};

#[derive(Debug, Serialize)]
pub struct MeterPage {
    /// The matching meters; with `more`, a search's lower bound ("more than 1,000").
    pub total: i64,
    pub more: bool,
    pub rows: Vec<MeterRow>,
}

/// One page of meters matching the query (at most 500 a page).
pub fn meters_list(store: &Store, session: &Session, query: &ListQuery) -> Result<MeterPage> {
    session.permit(Permission::View)?;
    let mut q = query.clone();
    q.limit = q.limit.clamp(1, 500);
    q.offset = q.offset.max(0);
    let conn = store.reader()?;
    let page = store::meters::list(&conn, &q)?;
    Ok(MeterPage { total: page.total, more: page.more, rows: page.rows })
}

pub fn groups_list(store: &Store, session: &Session) -> Result<Vec<store::groups::Group>> {
    session.permit(Permission::View)?;
    store::groups::list(&*store.reader()?)
}

/// A register's last value, in its shown unit (electricity power in kW).
#[derive(Debug, Serialize)]
pub struct RegisterValue {
    pub register: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub last_value: f64,
    pub last_ts: i64,
}

#[derive(Debug, Serialize)]
pub struct GroupRef {
    pub id: i64,
    pub name: String,
}

#[derive(Debug, Serialize)]
pub struct MeterDetail {
    pub meter: store::meters::Meter,
    /// The current customer's id (subject access, move-out).
    pub customer_id: Option<i64>,
    pub customer: Option<store::customers::Customer>,
    /// Who occupied the premises when, after move-outs (pseudonyms for former occupants).
    pub occupants: Vec<crate::personal::Occupant>,
    pub registers: Vec<RegisterValue>,
    pub groups: Vec<GroupRef>,
    pub info_codes: Vec<store::info_codes::Event>,
    pub exchanges: Vec<store::meters::Exchange>,
    pub has_key: bool,
    /// The clerk's notes, and the mark "to remove" (à déposer) of a meter still in service.
    pub notes: String,
    pub to_remove: bool,
    /// Readings entered or corrected by hand, newest first (the chart marks them).
    pub manual: Vec<crate::meter_screen::ManualMark>,
}

pub fn meter_get(store: &Store, session: &Session, id: i64) -> Result<MeterDetail> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let meter = store::meters::get(&conn, id)?.ok_or_else(|| Error::not_found(format!("meter {id}")))?;
    let customer = match meter.customer_id {
        Some(c) => store::customers::get(&conn, c)?,
        None => None,
    };
    let mut registers = Vec::new();
    for r in Register::ALL {
        if let Some((ts, value)) = store::readings::latest(&conn, id, r.code())? {
            let (unit, last_value) = (r.shown_unit(), r.shown(value));
            registers.push(RegisterValue { register: r.id(), label: r.label(), unit, last_value, last_ts: ts });
        }
    }
    let groups = store::groups::of_meter(&conn, id)?.into_iter().map(|(id, name)| GroupRef { id, name }).collect();
    let mut info_codes = store::info_codes::overlapping(&conn, id, i64::MIN, i64::MAX)?;
    info_codes.reverse();
    info_codes.truncate(100);
    let exchanges = store::meters::exchanges_of(&conn, id)?;
    let has_key = store::keys::exists(&conn, &meter.serial, &meter.manufacturer)?;
    let occupants = crate::personal::meter_occupants(&conn, id)?;
    let (notes, to_remove) = store::meter_screen::notes(&conn, id)?;
    let manual = crate::meter_screen::manual_marks(&conn, id)?;
    Ok(MeterDetail { customer_id: meter.customer_id, meter, customer, occupants, registers, groups, info_codes, exchanges, has_key, notes, to_remove, manual })
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Resolution {
    Hour,
    Day,
    Month,
    Year,
}

impl Resolution {
    pub fn parse(s: &str) -> Result<Resolution> {
        match s {
            "hour" => Ok(Resolution::Hour),
            "day" => Ok(Resolution::Day),
            "month" => Ok(Resolution::Month),
            "year" => Ok(Resolution::Year),
            other => Err(Error::bad_input("resolution", format!("'{other}' is not one of hour, day, month, year"))),
        }
    }

    /// Finer than a day: interval data (personal), for `view_intervals` only.
    pub fn is_interval(self) -> bool {
        self == Resolution::Hour
    }

    /// The resolution a screen offers first: hours to those who may see them, else days.
    pub fn default_for(session: &Session) -> Resolution {
        if session.sees_intervals() {
            Resolution::Hour
        } else {
            Resolution::Day
        }
    }

    pub fn as_str(self) -> &'static str {
        match self {
            Resolution::Hour => "hour",
            Resolution::Day => "day",
            Resolution::Month => "month",
            Resolution::Year => "year",
        }
    }
}

pub struct HistogramQuery<'a> {
    pub meter_id: i64,
    pub register: Option<&'a str>,
    pub resolution: Resolution,
    /// Local dates, `to` included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Mark the buckets not over at this time as partial (`None`: no marks).
    pub now: Option<i64>,
    /// Hours asked of a meter read less often than every 3 hours give days instead
    /// (`asked` says hours were asked): an hour bar would hold a whole day's growth.
    pub fit_to_readings: bool,
}

/// Hour buckets of a meter whose readings are further apart than this are refused for day
/// buckets by `fit_to_readings`.
pub const SPARSE_FOR_HOURS: i64 = 3 * 3600;

#[derive(Debug, Serialize, PartialEq, Default)]
pub struct Bucket {
    pub start: i64,
    /// Index registers: the growth of the index in the bucket; instantaneous ones (power,
    /// temperatures): the mean of the values read in it.
    pub value: Option<f64>,
    /// Instantaneous registers only: the largest value read in the bucket.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub max: Option<f64>,
    /// The bucket is not over at `now` (the current month or year): its value covers only
    /// up to this time (its last reading), so it is not comparable with whole buckets.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub partial_until: Option<i64>,
    /// Index registers: the time of the reading the growth is measured from.
    #[serde(skip)]
    pub(crate) since: Option<i64>,
    /// The time of the bucket's last reading.
    #[serde(skip)]
    pub(crate) last: Option<i64>,
}

/// Flag the buckets not over at `now` that hold a value (`partial_until`: their last
/// reading, at most `now`) (pure).
pub fn mark_partial(buckets: &mut [Bucket], bounds: &[i64], now: i64) {
    for (b, w) in buckets.iter_mut().zip(bounds.windows(2)) {
        if w[1] > now && b.value.is_some() {
            b.partial_until = Some(b.last.unwrap_or(now).min(now));
        }
    }
}

/// The typical time between two readings of an index series in these buckets: the median
/// of the spans the buckets' growths cover (`None`: fewer than two readings) (pure).
pub fn reading_interval(buckets: &[Bucket]) -> Option<i64> {
    let mut spans: Vec<i64> = buckets.iter().filter_map(|b| Some(b.last? - b.since?)).filter(|s| *s > 0).collect();
    if spans.is_empty() {
        return None;
    }
    spans.sort_unstable();
    Some(spans[spans.len() / 2])
}

#[derive(Debug, Serialize)]
pub struct Histogram {
    pub register: &'static str,
    pub label: &'static str,
    /// The unit of the values (kW for electricity power, stored in W).
    pub unit: &'static str,
    /// `consumption` (index registers: growth per bucket) or `instantaneous` (power,
    /// temperatures: mean and max of the values per bucket, never summed).
    pub kind: &'static str,
    /// Electricity energy: `import` (A+ and its tariffs) or `export` (A-).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub flow: Option<crate::model::EnergyFlow>,
    pub resolution: &'static str,
    /// The resolution asked, when the readings did not support it (hours of a meter read
    /// once a day): `resolution` is then the one shown.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub asked: Option<&'static str>,
    /// Index registers: the typical time between two readings, in seconds.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reading_interval: Option<i64>,
    pub from: i64,
    pub to: i64,
    pub buckets: Vec<Bucket>,
    pub info_codes: Vec<store::info_codes::Event>,
    /// Meter exchanges of the installation inside the period.
    pub exchanges: Vec<ExchangeMark>,
}

/// At most this many buckets in one histogram (13 months of hours is ~9,500).
const MAX_BUCKETS: usize = 20_000;

/// Consumption per hour, day, month or year over a period, with the info codes active in it.
/// For index registers (volume, energy, A+, A-) a bucket holds the growth of the index since
/// the previous reading before it; for instantaneous ones (P+, P-, temperatures) the mean and
/// the maximum of its readings (a power is never differenced nor summed). `None`: no reading.
///
/// Hourly buckets are interval data: refused (`intervals_not_allowed`) to a session
/// without `view_intervals`, which sees days, months and years.
pub fn meter_histogram(store: &Store, session: &Session, q: &HistogramQuery<'_>) -> Result<Histogram> {
    session.permit(Permission::View)?;
    if q.resolution.is_interval() {
        session.intervals(q.resolution.as_str())?;
    }
    if q.to < q.from {
        return Err(Error::bad_input("period", format!("the end {} is before the start {}", q.to, q.from)));
    }
    let conn = store.reader()?;
    let meter = store::meters::get(&conn, q.meter_id)?
        .ok_or_else(|| Error::not_found(format!("meter {}", q.meter_id)))?;
    let register = match q.register {
        Some(id) => Register::from_id(id).ok_or_else(|| Error::bad_input("register", format!("unknown register '{id}'")))?,
        None => Register::default_for(&meter.device_type),
    };
    let tz = crate::settings::timezone(&conn)?;
    let mut resolution = q.resolution;
    let mut asked = None;
    let mut bounds = bucket_bounds(tz, resolution, q.from, q.to)?;
    let (mut buckets, mut exchanges) = installation_buckets(&conn, q.meter_id, register, &bounds)?;
    let mut interval = if register.is_cumulative() { reading_interval(&buckets) } else { None };
    if q.fit_to_readings && resolution == Resolution::Hour && interval.is_some_and(|i| i > SPARSE_FOR_HOURS) {
        asked = Some(resolution.as_str());
        resolution = Resolution::Day;
        bounds = bucket_bounds(tz, resolution, q.from, q.to)?;
        (buckets, exchanges) = installation_buckets(&conn, q.meter_id, register, &bounds)?;
        interval = reading_interval(&buckets).or(interval);
    }
    if let Some(now) = q.now {
        mark_partial(&mut buckets, &bounds, now);
    }
    let (Some(&start), Some(&end)) = (bounds.first(), bounds.last()) else {
        return Err(Error::bad_input("period", "empty period"));
    };
    let info_codes = store::info_codes::overlapping(&conn, q.meter_id, start, end)?;
    Ok(Histogram {
        register: register.id(),
        label: register.label(),
        unit: register.shown_unit(),
        kind: if register.is_cumulative() { "consumption" } else { "instantaneous" },
        flow: register.energy_flow(),
        resolution: resolution.as_str(),
        asked,
        reading_interval: interval,
        from: start,
        to: end,
        buckets,
        info_codes,
        exchanges,
    })
}

/// Buckets of a meter's installation over `bounds`: its own readings and, before an
/// exchange, those of the meter it replaced (shifted onto its index), with the exchanges
/// that fall inside the period.
pub(crate) fn installation_buckets(
    conn: &rusqlite::Connection,
    meter_id: i64,
    register: Register,
    bounds: &[i64],
) -> Result<(Vec<Bucket>, Vec<ExchangeMark>)> {
    let (Some(&start), Some(&end)) = (bounds.first(), bounds.last()) else {
        return Err(Error::bad_input("period", "empty period"));
    };
    let (segs, marks) = crate::exchange::chain(conn, meter_id, register)?;
    let (series, before) = crate::exchange::installation_series(conn, &segs, register, start, end)?;
    let mut buckets = bucketize(bounds, &series, before, register.is_cumulative());
    if register.is_electric_power() {
        for b in &mut buckets {
            b.value = b.value.map(|v| round6(register.shown(v)));
            b.max = b.max.map(|v| round6(register.shown(v)));
        }
    }
    Ok((buckets, marks.into_iter().filter(|m| m.at >= start && m.at < end).collect()))
}

/// Bucket boundaries (Unix seconds) from the start of `from` to the end of `to`, local time.
pub(crate) fn bucket_bounds(tz: Tz, res: Resolution, from: NaiveDate, to: NaiveDate) -> Result<Vec<i64>> {
    let midnight = |d: NaiveDate| -> Result<i64> {
        let naive = d.and_hms_opt(0, 0, 0).ok_or_else(|| Error::bad_input("date", d.to_string()))?;
        tz.from_local_datetime(&naive)
            .earliest()
            .map(|t| t.timestamp())
            .ok_or_else(|| Error::bad_input("date", format!("{d} has no midnight in {tz}")))
    };
    let end_date = to + Duration::days(1);
    let mut first = match res {
        Resolution::Hour | Resolution::Day => from,
        Resolution::Month => from.with_day(1).unwrap_or(from),
        Resolution::Year => NaiveDate::from_ymd_opt(from.year(), 1, 1).unwrap_or(from),
    };
    let end = midnight(end_date)?;
    let mut out = Vec::new();
    match res {
        Resolution::Hour => {
            let mut t = midnight(first)?;
            while t < end {
                out.push(t);
                t += 3600;
            }
            out.push(end);
        }
        _ => {
            loop {
                let t = midnight(first)?;
                out.push(t);
                if t >= end {
                    break;
                }
                first = match res {
                    Resolution::Day => first + Duration::days(1),
                    Resolution::Month => first.checked_add_months(chrono::Months::new(1)).unwrap_or(end_date),
                    _ => first.checked_add_months(chrono::Months::new(12)).unwrap_or(end_date),
                };
                if out.len() > MAX_BUCKETS {
                    break;
                }
            }
        }
    }
    if out.len() > MAX_BUCKETS + 1 {
        return Err(Error::bad_input(
            "period",
            format!("{} buckets are too many for one chart (at most {MAX_BUCKETS}): choose a shorter period or a coarser resolution", out.len() - 1),
        ));
    }
    Ok(out)
}

/// Values per bucket [bounds[i], bounds[i+1]) from readings sorted by time: with `index`,
/// the growth since the last reading before the bucket; without, the mean and the max of the
/// bucket's readings (instantaneous values).
pub(crate) fn bucketize(bounds: &[i64], series: &[(i64, f64)], before: Option<f64>, index: bool) -> Vec<Bucket> {
    let mut out = Vec::with_capacity(bounds.len().saturating_sub(1));
    let mut reference = before;
    let mut reference_at: Option<i64> = None;
    let mut i = 0;
    for w in bounds.windows(2) {
        let (start, end) = (w[0], w[1]);
        let first = i;
        while i < series.len() && series[i].0 < end {
            i += 1;
        }
        let inside = &series[first..i];
        let (value, max) = match (inside.first(), inside.last()) {
            (Some(f), Some(l)) if index => {
                let base = reference.unwrap_or(f.1);
                let since = if reference.is_some() { reference_at } else { Some(f.0) };
                reference = Some(l.1);
                reference_at = Some(l.0);
                out.push(Bucket { start, value: Some(round6(l.1 - base)), since, last: Some(l.0), ..Bucket::default() });
                continue;
            }
            (Some(_), Some(_)) => (
                Some(round6(inside.iter().map(|r| r.1).sum::<f64>() / inside.len() as f64)),
                Some(round6(inside.iter().map(|r| r.1).fold(f64::MIN, f64::max))),
            ),
            _ => (None, None),
        };
        out.push(Bucket { start, value, max, last: inside.last().map(|r| r.0), ..Bucket::default() });
    }
    out
}

/// Differences of decimal values carry binary noise (6.267000000000053): keep 6 decimals.
pub(crate) fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(series: &[(i64, f64)], before: Option<f64>, expected: &[Option<f64>]) {
        let bounds = [0, 10, 20, 30, 40];
        let got: Vec<Option<f64>> = bucketize(&bounds, series, before, true).into_iter().map(|b| b.value).collect();
        assert_eq!(got, expected);
    }

    #[test]
    fn index_buckets_are_differences_with_gaps_as_none() {
        check(&[(5, 1.0), (15, 3.0), (35, 10.0)], Some(0.5), &[Some(0.5), Some(2.0), None, Some(7.0)]);
        check(&[(5, 1.0), (8, 2.0)], None, &[Some(1.0), None, None, None]);
        check(&[], Some(1.0), &[None, None, None, None]);
    }

    #[test]
    fn instantaneous_buckets_are_mean_and_max_never_differences() {
        // A power of 2000 W then 3000 W then 1000 W: not a growing index.
        let series = [(5, 2000.0), (8, 3000.0), (15, 1000.0), (35, 500.0)];
        let got = bucketize(&[0, 10, 20, 30, 40], &series, None, false);
        let pairs: Vec<(Option<f64>, Option<f64>)> = got.iter().map(|b| (b.value, b.max)).collect();
        assert_eq!(pairs, vec![(Some(2500.0), Some(3000.0)), (Some(1000.0), Some(1000.0)), (None, None), (Some(500.0), Some(500.0))]);
        // The same readings as an index would give differences.
        let idx: Vec<Option<f64>> = bucketize(&[0, 10, 20], &series[..3], None, true).into_iter().map(|b| b.value).collect();
        assert_eq!(idx, vec![Some(1000.0), Some(-2000.0)]);
    }

    #[test]
    fn an_exchange_inside_a_bucket_adds_both_parts() {
        // Old meter: 100 before, 104 at 12, final 105 at 15 (offset: initial 2 - final 105).
        // New meter: initial 2 at 15, 3 at 18, 7 at 25.
        let mut series = crate::exchange::shift(&[(5, 103.0), (12, 104.0)], 2.0 - 105.0);
        series.extend([(15, 2.0), (18, 3.0), (25, 7.0)]);
        check(&series, Some(100.0 - 103.0), &[Some(3.0), Some(3.0), Some(4.0), None]);
    }

    #[test]
    fn month_bounds_follow_local_midnights() {
        let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
        let b = bucket_bounds(chrono_tz::Europe::Paris, Resolution::Month, d(2025, 1, 15), d(2025, 3, 31)).expect("bounds");
        // 2025-01-01T00:00+01:00, 2025-02-01, 2025-03-01, 2025-04-01T00:00+02:00
        assert_eq!(b, vec![1_735_686_000, 1_738_364_400, 1_740_783_600, 1_743_458_400]);
        let h = bucket_bounds(chrono_tz::Europe::Paris, Resolution::Hour, d(2025, 3, 30), d(2025, 3, 30)).expect("bounds");
        assert_eq!(h.len(), 24, "23 hours on the spring DST day, plus the end");
    }
}
