//! The reports: consumption per consumer over a period (with limits to find abnormal ones),
//! and reading performance (received vs expected readings per meter) with saved, commented
//! summaries; the yearly count of connected objects (`objects`). Both export to CSV in the session's locale (fr: `;` and `,`; en: `,` and `.`).

pub mod consumption;
pub mod objects;
pub mod performance;

pub use consumption::{report_consumption, report_consumption_export, ConsumptionQuery, ConsumptionReport, ConsumptionRow};
pub use performance::{
    report_performance, report_performance_comment, report_performance_export, report_performance_list,
    report_performance_save, PerformanceQuery, PerformanceReport, PerformanceRow,
};

use crate::access::Session;
use crate::error::{Error, Result};
use chrono::{Duration, NaiveDate};
use chrono_tz::Tz;

/// At most this many rows in one page of a report.
pub const MAX_PAGE: i64 = 5_000;

/// At most this many days in one report.
pub const MAX_DAYS: i64 = 3_700;

/// [start, end) in Unix seconds of the local dates `from..=to`.
pub(crate) fn period(tz: Tz, from: NaiveDate, to: NaiveDate) -> Result<(i64, i64)> {
    if to < from {
        return Err(Error::bad_input("period", format!("the end {to} is before the start {from}")));
    }
    if (to - from).num_days() >= MAX_DAYS {
        return Err(Error::bad_input("period", format!("at most {MAX_DAYS} days")));
    }
    Ok((crate::settings::local_midnight(tz, from)?, crate::settings::local_midnight(tz, to + Duration::days(1))?))
}

/// CSV separator and decimal mark of the session's locale.
pub(crate) fn csv_format(session: &Session) -> (u8, char) {
    if session.locale == "en" {
        (b',', '.')
    } else {
        (b';', ',')
    }
}

/// A number with at most `decimals` decimals (trailing zeros dropped) and the given mark.
pub(crate) fn fmt_num(v: f64, decimals: usize, mark: char) -> String {
    let s = format!("{v:.decimals$}");
    let s = if s.contains('.') { s.trim_end_matches('0').trim_end_matches('.').to_string() } else { s };
    let s = if s == "-0" { "0".to_string() } else { s };
    if mark == '.' {
        s
    } else {
        s.replace('.', &mark.to_string())
    }
}

/// Differences of decimal values carry binary noise: keep 6 decimals.
pub(crate) fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

pub(crate) fn page<T>(rows: Vec<T>, offset: i64, limit: i64) -> Vec<T> {
    let offset = offset.max(0) as usize;
    let limit = limit.clamp(1, MAX_PAGE) as usize;
    rows.into_iter().skip(offset).take(limit).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_follow_the_decimal_mark() {
        assert_eq!(fmt_num(12.5, 3, ','), "12,5");
        assert_eq!(fmt_num(12.0, 3, '.'), "12");
        assert_eq!(fmt_num(-0.0001, 3, '.'), "0");
        assert_eq!(fmt_num(0.1234, 3, '.'), "0.123");
    }
}
