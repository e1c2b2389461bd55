//! What Techem's own radio layers (manufacturer TCH, CI A0-A2) have in common; the families
//! themselves are `techem_compact5`, `techem_fhkv`, `techem_mkradio` and `techem_vario`.
//!
//! Techem meters of the data III / radio 3 generation send their values in a layer of their own
//! right after the CI field (A0, A1 or A2), not as EN 13757-3 records: a byte or two whose
//! meaning is not published, dates, then values little-endian. FHEM reads the layer whatever the
//! CI; the families accept A0-A2 alike. Sources for the layouts (facts only, no code taken): the
//! FHEM modules `32_TechemWZ.pm` (water meters radio 3, heat meter compact V) and
//! `32_TechemHKV.pm` (allocator data III) by J. Herrmann, and wmbusmeters' drivers `compact5`,
//! `vario451`, `mkradio3`, `mkradio3a`, `mkradio4` and `fhkvdataiii` with their test telegrams.
//!
//! Two date words are used:
//! - the billing date (end of the previous period), 16 bits: day in bits 0-4, month in bits 5-8,
//!   year since 2000 in bits 9-15;
//! - the date of the current values, 16 bits: day in bits 4-8, month in bits 9-12, and no year:
//!   it is the billing date's year when the day comes after the billing day in the calendar,
//!   else the next year (a period lasts at most a year).

use super::Meter;
use crate::error::DecodeError;
use crate::record::{Function, Quantity, Record, Unit, Value};

/// TCH as sent: the manufacturer code 0x5068, little-endian.
pub(crate) const TCH: [u8; 2] = [0x68, 0x50];

/// Is this a Techem meter whose application layer is Techem's own (CI A0, A1 or A2)?
pub(crate) fn own_layer(m: &Meter<'_>) -> bool {
    (0xA0..=0xA2).contains(&m.ci) && m.raw.0 == TCH
}

pub(crate) fn version(m: &Meter<'_>) -> u8 {
    m.raw.1[4]
}

pub(crate) fn device_type(m: &Meter<'_>) -> u8 {
    m.raw.1[5]
}

/// Fails with `TooShort` unless `p` holds at least `needed` bytes.
pub(crate) fn need(p: &[u8], needed: usize, what: &'static str) -> Result<(), DecodeError> {
    if p.len() < needed {
        Err(DecodeError::TooShort {
            len: p.len(),
            needed,
            what,
        })
    } else {
        Ok(())
    }
}

/// Little-endian unsigned value of `n` (1..=4) bytes at `at`.
pub(crate) fn le(p: &[u8], at: usize, n: usize) -> Option<u32> {
    let bytes = p.get(at..at.checked_add(n)?)?;
    Some(
        bytes
            .iter()
            .rev()
            .fold(0u32, |acc, b| (acc << 8) | u32::from(*b)),
    )
}

/// A calendar date.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub(crate) struct Ymd {
    pub year: u16,
    pub month: u8,
    pub day: u8,
}

fn days_in_month(year: u16, month: u8) -> u8 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => {
            29
        }
        2 => 28,
        _ => 0,
    }
}

impl Ymd {
    /// A valid calendar date, or `None`.
    pub(crate) fn new(year: u16, month: u8, day: u8) -> Option<Ymd> {
        (day >= 1 && day <= days_in_month(year, month)).then_some(Ymd { year, month, day })
    }

    pub(crate) fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// The last day of the month before this date's month.
    pub(crate) fn end_of_previous_month(self) -> Ymd {
        let (year, month) = if self.month <= 1 {
            (self.year.saturating_sub(1), 12)
        } else {
            (self.year, self.month - 1)
        };
        Ymd {
            year,
            month,
            day: days_in_month(year, month),
        }
    }
}

/// The billing-date word (see the module documentation); `None` when it is not a date.
pub(crate) fn billing_date(word: u32) -> Option<Ymd> {
    let day = (word & 0x1F) as u8;
    let month = ((word >> 5) & 0x0F) as u8;
    let year = 2000 + ((word >> 9) & 0x7F) as u16;
    Ymd::new(year, month, day)
}

/// The current-date word (day and month only) placed in the year after `billing` (see the
/// module documentation); `None` when it is not a date.
pub(crate) fn current_date(word: u32, billing: Ymd) -> Option<Ymd> {
    let day = ((word >> 4) & 0x1F) as u8;
    let month = ((word >> 9) & 0x0F) as u8;
    let after = (month, day) > (billing.month, billing.day);
    let year = if after {
        billing.year
    } else {
        billing.year.saturating_add(1)
    };
    Ymd::new(year, month, day)
}

/// A number record (tariff 0, subunit 0, instantaneous).
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

/// A `Quantity::Date` record.
pub(crate) fn date(d: Ymd, storage: u32) -> Record {
    Record {
        quantity: Quantity::Date,
        value: Value::Text(d.iso()),
        unit: Unit::None,
        storage,
        tariff: 0,
        subunit: 0,
        function: Function::Instantaneous,
    }
}

/// Text for the trace: the date, or why there is none.
pub(crate) fn date_text(d: Option<Ymd>, word: u32) -> String {
    d.map_or_else(|| format!("not a date ({word:04X})"), Ymd::iso)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn billing_dates() {
        assert_eq!(
            billing_date(0x259F).map(Ymd::iso).as_deref(),
            Some("2018-12-31")
        );
        assert_eq!(
            billing_date(0x339F).map(Ymd::iso).as_deref(),
            Some("2025-12-31")
        );
        // Day 0, month 13, 30 February are not dates.
        assert_eq!(billing_date(0x2580), None);
        assert_eq!(billing_date(0x25A1), None);
        assert_eq!(billing_date((18 << 9) | (2 << 5) | 30), None);
        assert_eq!(
            billing_date((20 << 9) | (2 << 5) | 29)
                .map(Ymd::iso)
                .as_deref(),
            Some("2020-02-29")
        );
    }

    #[test]
    fn current_dates_take_the_year_after_the_billing_date() {
        let b = |y, m, d| Ymd {
            year: y,
            month: m,
            day: d,
        };
        let w = |m: u32, d: u32| (m << 9) | (d << 4);
        // After the billing day in the same year, or in the next year.
        assert_eq!(current_date(w(4, 1), b(2018, 3, 31)), Some(b(2018, 4, 1)));
        assert_eq!(
            current_date(w(4, 27), b(2018, 12, 31)),
            Some(b(2019, 4, 27))
        );
        // The billing day itself is a year later (the period just completed).
        assert_eq!(current_date(w(3, 31), b(2018, 3, 31)), Some(b(2019, 3, 31)));
        assert_eq!(current_date(w(0, 5), b(2018, 3, 31)), None);
        assert_eq!(current_date(w(2, 29), b(2018, 3, 1)), None);
        assert_eq!(current_date(w(2, 29), b(2019, 3, 1)), Some(b(2020, 2, 29)));
    }

    #[test]
    fn little_endian_reads_are_checked() {
        let p = [1, 2, 3];
        assert_eq!(le(&p, 0, 3), Some(0x030201));
        assert_eq!(le(&p, 1, 2), Some(0x0302));
        assert_eq!(le(&p, 2, 2), None);
        assert_eq!(le(&p, usize::MAX, 2), None);
        assert_eq!(
            Ymd {
                year: 2024,
                month: 1,
                day: 9
            }
            .end_of_previous_month(),
            Ymd {
                year: 2023,
                month: 12,
                day: 31
            }
        );
        assert_eq!(
            Ymd {
                year: 2024,
                month: 3,
                day: 9
            }
            .end_of_previous_month(),
            Ymd {
                year: 2024,
                month: 2,
                day: 29
            }
        );
    }
}
