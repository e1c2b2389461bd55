//! Apator E-ITN heat-cost allocators (E-ITN 30: manufacturer APA or APT, either with bit 15 set,
//! version 04, device type 08): Apator's own application layer after CI A0, or the same inside
//! Apator's B6 wrapper (see `apator_b6`).
//!
//! Layout of the 15 bytes after CI A0 (learned from the public wmbusmeters driver
//! `apatoreitn`, its test telegrams and wmbusmeters issue 1144; all words least significant
//! byte first):
//! - bytes 0-1: the billing (season start) date as day (bits 0-4) and month (bits 5-8); the
//!   year bits are not used, as the date recurs every year;
//! - byte 2: not known;
//! - bytes 3-4: allocation units of the previous billing period;
//! - bytes 5-6: date the electronic seal was broken, 0 when intact;
//! - bytes 7-8: allocation units of the current period;
//! - bytes 9-10: the allocator's current date;
//! - bytes 11-12 and 13-14: average room temperature of the previous and of the current
//!   season, in 1/256 degrees (not turned into records: an average has no record function).
//!
//! Dates are day (bits 0-4), month (bits 5-8) and year since 2000 (bits 9-15).
//! Records: current units (storage 0) with the current date, previous-period units
//! (storage 1) with the billing date (the last billing day and month on or before the
//! current date). A set seal-break date gives the `Tamper` info code.

use super::apator_util::{days_from_civil, days_in_month, is_apator, iso_date, number, text, valid_date};
use super::{Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::info::InfoCode;
use crate::key::AesKey;
use crate::record::{Quantity, Unit};
use crate::trace::Trace;

/// CI of the allocator's own application layer.
pub(crate) const CI_EITN: u8 = 0xA0;
/// Bytes the layout needs after the CI field.
const BODY_LEN: usize = 15;

pub(crate) const FAMILY: Family = Family {
    name: "apator_eitn",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

/// Version and device type of the E-ITN allocators read here.
pub(crate) fn is_eitn(raw: &([u8; 2], [u8; 6])) -> bool {
    let [.., version, device] = raw.1;
    version == 0x04 && device == 0x08 && is_apator(raw.0)
}

fn detect(m: &Meter<'_>) -> bool {
    m.ci == CI_EITN && is_eitn(&m.raw)
}

fn application(
    m: &Meter<'_>,
    after_ci: &[u8],
    _key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    read_body(after_ci, m.ci, trace)
}

/// A date word: day bits 0-4, month bits 5-8, year since 2000 bits 9-15; `None` when the
/// day or month is out of range.
fn date(word: u16) -> Option<(i64, u32, u32)> {
    let day = u32::from(word & 0x1F);
    let month = u32::from((word >> 5) & 0x0F);
    let year = 2000 + i64::from(word >> 9);
    valid_date(year, month, day).then_some((year, month, day))
}

/// The last (month, day) on or before `today`; a day past the month's end (February 29 in
/// a common year) falls back to the month's last day.
fn last_billing_date(today: (i64, u32, u32), month: u32, day: u32) -> Option<(i64, u32, u32)> {
    let on = |year: i64| {
        let d = day.min(days_in_month(year, month));
        valid_date(year, month, d).then_some((year, month, d))
    };
    let this_year = on(today.0)?;
    let key = |(y, m, d): (i64, u32, u32)| days_from_civil(y, m, d);
    if key(this_year) <= key(today) {
        Some(this_year)
    } else {
        on(today.0 - 1)
    }
}

/// Read the 15-byte allocator layout (the bytes after CI A0).
pub(crate) fn read_body(body: &[u8], ci: u8, trace: &mut Trace) -> Result<Decoded, DecodeError> {
    let Some(b) = body.get(..BODY_LEN) else {
        return Err(DecodeError::TooShort {
            len: body.len() + 1,
            needed: BODY_LEN + 1,
            what: "Apator E-ITN allocator data",
        });
    };
    let word = |i: usize| match b.get(i..i + 2) {
        Some(&[lo, hi]) => u16::from_le_bytes([lo, hi]),
        _ => 0,
    };
    let season = word(0);
    let (season_day, season_month) = (u32::from(season & 0x1F), u32::from((season >> 5) & 0x0F));
    let previous = word(3);
    let seal = word(5);
    let current = word(7);
    let today = date(word(9));
    let temp = |w: u16| f64::from(w) / 256.0;
    let mut out = Decoded::default();
    out.records.push(number(Quantity::HcaUnits, f64::from(current), Unit::Hca, 0));
    if let Some(d) = today {
        out.records.push(text(Quantity::Date, iso_date(d), 0));
    }
    out.records.push(number(Quantity::HcaUnits, f64::from(previous), Unit::Hca, 1));
    let billing = today.and_then(|t| last_billing_date(t, season_month, season_day));
    if let Some(d) = billing {
        out.records.push(text(Quantity::Date, iso_date(d), 1));
    }
    if seal != 0 {
        out.info_codes.push(InfoCode::Tamper);
    }
    trace.note("vendor", Some(ci), || {
        format!(
            "Apator E-ITN: current {current} units on {}, previous period {previous} units (billing day {season_day:02}-{season_month:02}, last on {}); seal {}; average room temperature {:.2} C (previous season {:.2} C){}",
            today.map_or("an invalid date".into(), iso_date),
            billing.map_or("unknown".into(), iso_date),
            if seal == 0 { "intact".into() } else { format!("broken on {}", date(seal).map_or(format!("{seal:04X}"), iso_date)) },
            temp(word(13)),
            temp(word(11)),
            if body.len() > BODY_LEN { format!("; {} more bytes not read", body.len() - BODY_LEN) } else { String::new() },
        )
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Value;

    fn body(season: u16, prev: u16, seal: u16, cur: u16, today: u16) -> Vec<u8> {
        let mut b = Vec::new();
        b.extend_from_slice(&season.to_le_bytes());
        b.push(0);
        for w in [prev, seal, cur, today, 0x1300, 0x1580] {
            b.extend_from_slice(&w.to_le_bytes());
        }
        b
    }

    fn dw(y: u16, m: u16, d: u16) -> u16 {
        ((y - 2000) << 9) | (m << 5) | d
    }

    fn find(d: &Decoded, q: Quantity, storage: u32) -> Option<Value> {
        d.records.iter().find(|r| r.quantity == q && r.storage == storage).map(|r| r.value.clone())
    }

    #[test]
    fn units_dates_and_seal() {
        let b = body(dw(2000, 6, 1), 1234, dw(2021, 3, 4), 56, dw(2023, 2, 10));
        let d = read_body(&b, 0xA0, &mut Trace::off()).expect("reads");
        assert_eq!(find(&d, Quantity::HcaUnits, 0), Some(Value::Number(56.0)));
        assert_eq!(find(&d, Quantity::HcaUnits, 1), Some(Value::Number(1234.0)));
        assert_eq!(find(&d, Quantity::Date, 0), Some(Value::Text("2023-02-10".into())));
        // June 1st has not come yet in 2023: the last billing date is in 2022.
        assert_eq!(find(&d, Quantity::Date, 1), Some(Value::Text("2022-06-01".into())));
        assert_eq!(d.info_codes, vec![InfoCode::Tamper]);

        let b = body(dw(2000, 1, 1), 0, 0, 0, dw(2024, 1, 1));
        let d = read_body(&b, 0xA0, &mut Trace::off()).expect("reads");
        assert_eq!(find(&d, Quantity::Date, 1), Some(Value::Text("2024-01-01".into())));
        assert!(d.info_codes.is_empty());
    }

    #[test]
    fn invalid_dates_and_short_bodies() {
        let b = body(0, 1, 0, 2, 0);
        let d = read_body(&b, 0xA0, &mut Trace::off()).expect("reads");
        assert_eq!(find(&d, Quantity::Date, 0), None);
        assert_eq!(find(&d, Quantity::Date, 1), None);
        assert!(read_body(&b[..14], 0xA0, &mut Trace::off()).is_err());
    }
}
