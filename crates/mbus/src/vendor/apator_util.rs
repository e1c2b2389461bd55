//! What the Apator families share: the manufacturer codes as sent, record builders, and the
//! calendar arithmetic their own date fields need (no family of its own).

use crate::record::{Function, Quantity, Record, Unit, Value};

/// Manufacturer code "APA" (0x0601).
pub(crate) const APA: u16 = 0x0601;
/// Manufacturer code "APT" (0x0614). Apator's older radio modules (and some of its
/// heat-cost allocators) send this code in the link layer.
pub(crate) const APT: u16 = 0x0614;

/// The manufacturer code of the two bytes as sent, without bit 15: Apator's modules set that
/// bit on either code (`14 86` = APT, `01 86` = APA), and the letters are the same.
pub(crate) fn maker(m: [u8; 2]) -> u16 {
    u16::from_le_bytes(m) & 0x7FFF
}

/// Is this one of Apator's two manufacturer codes (with or without bit 15)?
pub(crate) fn is_apator(m: [u8; 2]) -> bool {
    matches!(maker(m), APA | APT)
}

/// A numeric record with the usual tariff 0, subunit 0, instantaneous function.
pub(crate) fn number(quantity: Quantity, value: f64, unit: Unit, storage: u32) -> Record {
    Record {
        quantity,
        value: Value::Number(value),
        unit,
        storage,
        tariff: 0,
        subunit: 0,
        function: Function::Instantaneous,
    }
}

/// A text record (dates as ISO text).
pub(crate) fn text(quantity: Quantity, value: String, storage: u32) -> Record {
    Record {
        quantity,
        value: Value::Text(value),
        unit: Unit::None,
        storage,
        tariff: 0,
        subunit: 0,
        function: Function::Instantaneous,
    }
}

/// Days in a month of the proleptic Gregorian calendar; 0 for a month out of range.
pub(crate) fn days_in_month(year: i64, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

/// A valid calendar date?
pub(crate) fn valid_date(year: i64, month: u32, day: u32) -> bool {
    day >= 1 && day <= days_in_month(year, month)
}

/// Days since 1970-01-01 of a civil date (H. Hinnant's days-from-civil algorithm).
pub(crate) fn days_from_civil(year: i64, month: u32, day: u32) -> i64 {
    let y = if month <= 2 { year - 1 } else { year };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let m = i64::from(month);
    let mp = if m > 2 { m - 3 } else { m + 9 };
    let doy = (153 * mp + 2) / 5 + i64::from(day) - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The civil date of a day count since 1970-01-01 (the inverse of [`days_from_civil`]).
pub(crate) fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// Seconds since 2000-01-01 00:00:00 (local time of the meter) as (date, time of day).
pub(crate) fn from_seconds_since_2000(secs: i64) -> ((i64, u32, u32), (u32, u32, u32)) {
    let epoch = days_from_civil(2000, 1, 1);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    let date = civil_from_days(epoch + days);
    let time = ((rem / 3600) as u32, ((rem / 60) % 60) as u32, (rem % 60) as u32);
    (date, time)
}

/// "YYYY-MM-DD".
pub(crate) fn iso_date((y, m, d): (i64, u32, u32)) -> String {
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn calendar_round_trips() {
        assert_eq!(days_from_civil(1970, 1, 1), 0);
        assert_eq!(days_from_civil(2000, 3, 1) - days_from_civil(2000, 2, 28), 2);
        for d in [-1000, 0, 10_957, 19_782, 30_000] {
            let (y, m, dd) = civil_from_days(d);
            assert_eq!(days_from_civil(y, m, dd), d);
        }
        assert_eq!(
            from_seconds_since_2000(0x2D91_B02C),
            ((2024, 3, 23), (15, 22, 20))
        );
        assert!(valid_date(2024, 2, 29));
        assert!(!valid_date(2023, 2, 29));
        assert!(!valid_date(2023, 13, 1));
    }
}
