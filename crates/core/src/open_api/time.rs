//! Times of the open API: ISO 8601 with the utility's offset out; dates (local) or
//! date-times with an offset in.

use crate::error::{Error, Result};
use crate::problem::Reason;
use chrono::{DateTime, FixedOffset, NaiveDate, TimeZone};
use chrono_tz::Tz;

/// `ts` (Unix seconds) as ISO 8601 in `tz` with its offset (`2026-12-06T17:00:00+01:00`).
pub fn iso(tz: Tz, ts: i64) -> String {
    match tz.timestamp_opt(ts, 0).single() {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        None => ts.to_string(),
    }
}

/// A period asked: `[from, to)` in Unix seconds, and the local dates it covers (`to_date`
/// included) for daily and monthly values.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Period {
    pub from: i64,
    pub to: i64,
    pub from_date: NaiveDate,
    pub to_date: NaiveDate,
}

/// The longest period one request covers.
pub const MAX_PERIOD_DAYS: i64 = 3_700;

/// `from` and `to`, each a local date (`2026-01-31`: `to` includes that whole day) or a
/// date-time with an offset (`2026-01-31T06:00:00+01:00`, `...Z`). One missing end is the
/// other one 31 days away; both missing is refused (a billing system says what it wants).
pub fn parse_period(tz: Tz, from: Option<&str>, to: Option<&str>) -> Result<Period> {
    let (from, to) = match (from, to) {
        (None, None) => return Err(Error::invalid("from", Reason::Required)),
        (Some(f), Some(t)) => (bound(tz, "from", f, false)?, bound(tz, "to", t, true)?),
        (Some(f), None) => {
            let f = bound(tz, "from", f, false)?;
            (f, f + 31 * 86_400)
        }
        (None, Some(t)) => {
            let t = bound(tz, "to", t, true)?;
            (t - 31 * 86_400, t)
        }
    };
    if to <= from {
        return Err(Error::invalid("to", Reason::EndsBeforeStart { from: iso(tz, from), to: iso(tz, to) }));
    }
    if to - from > MAX_PERIOD_DAYS * 86_400 {
        return Err(Error::invalid("to", Reason::OutOfRange { value: ((to - from) / 86_400) as f64, min: 1.0, max: MAX_PERIOD_DAYS as f64 }));
    }
    let local = |t: i64| tz.timestamp_opt(t, 0).single().map(|d| d.date_naive());
    let from_date = local(from).ok_or_else(|| Error::invalid("from", Reason::Unreadable { detail: from.to_string() }))?;
    // The last instant inside the period names the last day.
    let to_date = local(to - 1).ok_or_else(|| Error::invalid("to", Reason::Unreadable { detail: to.to_string() }))?;
    Ok(Period { from, to, from_date, to_date })
}

/// One end of a period: a local date (its midnight; for the end, the next midnight) or a
/// date-time with an offset.
fn bound(tz: Tz, field: &str, s: &str, end: bool) -> Result<i64> {
    let s = s.trim();
    if let Ok(d) = NaiveDate::parse_from_str(s, "%Y-%m-%d") {
        if !(1970..=9999).contains(&chrono::Datelike::year(&d)) {
            return Err(Error::invalid(field, Reason::NotADate { value: s.into() }));
        }
        let d = if end { d.succ_opt().ok_or_else(|| Error::invalid(field, Reason::NotADate { value: s.into() }))? } else { d };
        return crate::settings::local_midnight(tz, d).map_err(|_| Error::invalid(field, Reason::NotADate { value: s.into() }));
    }
    parse_instant(tz, field, s).map(|t| t.timestamp())
}

/// A date-time with an offset (RFC 3339), within years 1970..9999.
pub fn parse_instant(tz: Tz, field: &str, s: &str) -> Result<DateTime<FixedOffset>> {
    let _ = tz;
    let t = DateTime::parse_from_rfc3339(s.trim()).map_err(|_| Error::invalid(field, Reason::NotADate { value: s.chars().take(64).collect() }))?;
    if !(0..=253_402_300_799).contains(&t.timestamp()) {
        return Err(Error::invalid(field, Reason::NotADate { value: s.chars().take(64).collect() }));
    }
    Ok(t)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_are_local_days_and_times_carry_their_offset() {
        let tz: Tz = "Europe/Paris".parse().expect("tz");
        let p = parse_period(tz, Some("2026-01-01"), Some("2026-01-31")).expect("period");
        assert_eq!(iso(tz, p.from), "2026-01-01T00:00:00+01:00");
        assert_eq!(iso(tz, p.to), "2026-02-01T00:00:00+01:00");
        assert_eq!(p.to_date, NaiveDate::from_ymd_opt(2026, 1, 31).expect("date"));
        let p = parse_period(tz, Some("2026-07-01T00:00:00Z"), Some("2026-07-02T00:00:00+02:00")).expect("period");
        assert_eq!(p.to - p.from, 22 * 3600);
        assert_eq!(iso(tz, p.from), "2026-07-01T02:00:00+02:00");
        assert!(parse_period(tz, Some("2026-02-30"), None).is_err());
        assert!(parse_period(tz, Some("2026-03-01"), Some("2026-02-01")).is_err());
        assert!(parse_period(tz, None, None).is_err());
        assert!(parse_period(tz, Some("yesterday"), None).is_err());
    }
}
