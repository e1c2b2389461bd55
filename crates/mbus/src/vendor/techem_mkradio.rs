//! Techem MK Radio 3, 3a and 4 water meters (device types 62 warm water and 72 cold water, in
//! Techem's own codes): Techem's own application layer after CI A2 (A0 and A1 accepted too).
//!
//! MK Radio 3 (version 74) and MK Radio 4 (versions 70 and 95) share one layout (FHEM
//! `32_TechemWZ.pm`, "Messkapsel-Wasserzähler radio 3"; wmbusmeters `mkradio3` and `mkradio4`
//! read the same byte positions):
//! - byte 0: not published;
//! - bytes 1-2: the billing date that closed the previous period (see `techem`);
//! - bytes 3-4: the meter reading at that date, 16 bits, in 0.1 m3;
//! - bytes 5-6: the date of the current values (day and month, see `techem`);
//! - bytes 7-8: the consumption since the billing date, 16 bits, in 0.1 m3;
//! - more bytes follow (not published).
//!
//! The total is the reading at the billing date plus the consumption since, as the meter shows
//! it (FHEM: "meter: cumulative meter data", "previous_period: meter reading at the end of the
//! last billing period"). Records: volume storage 0 = total, date storage 0 = the current
//! values' date; volume storage 1 = the reading at the billing date with its date (storage 1).
//!
//! MK Radio 3a (version 50) has another layout (wmbusmeters `mkradio3a` and its test telegram):
//! - bytes 0-1: not published;
//! - bytes 2-3: the date of the current values, in the billing-date format (with its year);
//! - bytes 4-6: the meter reading, 24 bits, in 0.1 m3;
//! - byte 7: not published;
//! - from byte 8, twelve groups of three bytes: two consumptions of half a month each (0.1 m3),
//!   newest first, and a byte not published. In the first half of a month (day 1-15) the first
//!   byte is the current month so far; later the first two bytes are the current month's halves.
//!
//! Records: volume storage 0 = the reading, date storage 0 = its date; volume storage 1 = the
//! reading at the end of the previous month (the reading minus the current month's consumption),
//! with that date (storage 1). Other versions are refused with `UnknownVariant`.

use super::techem::{self, billing_date, current_date, date, need, number, Ymd};
use super::{Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::key::AesKey;
use crate::record::{Quantity, Unit};
use crate::trace::Trace;

pub(crate) const FAMILY: Family = Family {
    name: "techem_mkradio",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

const WATER_TYPES: [u8; 2] = [0x62, 0x72];

fn detect(m: &Meter<'_>) -> bool {
    WATER_TYPES.contains(&techem::device_type(m)) && techem::own_layer(m)
}

fn m3(raw: u32) -> f64 {
    f64::from(raw) / 10.0
}

fn application(
    m: &Meter<'_>,
    p: &[u8],
    _key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    match techem::version(m) {
        0x74 => radio3(m, p, "MK Radio 3", trace),
        0x70 | 0x95 => radio3(m, p, "MK Radio 4", trace),
        0x50 => radio3a(m, p, trace),
        version => Err(DecodeError::UnknownVariant {
            family: FAMILY.name,
            version,
            device_type: techem::device_type(m),
        }),
    }
}

fn radio3(
    m: &Meter<'_>,
    p: &[u8],
    model: &'static str,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    need(
        p,
        9,
        "Techem MK Radio layer (billing date, reading, date, consumption)",
    )?;
    let billing_word = techem::le(p, 1, 2).unwrap_or(0);
    let at_billing = techem::le(p, 3, 2).unwrap_or(0);
    let current_word = techem::le(p, 5, 2).unwrap_or(0);
    let since = techem::le(p, 7, 2).unwrap_or(0);
    let total = at_billing.saturating_add(since);
    let billing = billing_date(billing_word);
    let current = billing.and_then(|b| current_date(current_word, b));
    trace.note("vendor", Some(m.ci), || {
        format!(
            "Techem {model} (version {:02X}, device type {:02X}): reading {} m3 at the billing date {}, {} m3 since, on {}: total {} m3",
            techem::version(m),
            techem::device_type(m),
            m3(at_billing),
            techem::date_text(billing, billing_word),
            m3(since),
            techem::date_text(current, current_word),
            m3(total)
        )
    });
    let mut records = vec![number(Quantity::Volume, m3(total), Unit::M3, 0)];
    records.extend(current.map(|d| date(d, 0)));
    records.push(number(Quantity::Volume, m3(at_billing), Unit::M3, 1));
    records.extend(billing.map(|d| date(d, 1)));
    Ok(Decoded {
        records,
        ..Decoded::default()
    })
}

fn radio3a(m: &Meter<'_>, p: &[u8], trace: &mut Trace) -> Result<Decoded, DecodeError> {
    need(
        p,
        10,
        "Techem MK Radio 3a layer (date, reading, current month)",
    )?;
    let word = techem::le(p, 2, 2).unwrap_or(0);
    let total = techem::le(p, 4, 3).unwrap_or(0);
    let today = billing_date(word);
    let first = techem::le(p, 8, 1).unwrap_or(0);
    let second = techem::le(p, 9, 1).unwrap_or(0);
    // Without a date the half-months cannot be told apart: no month-start reading then.
    let month = today.map(|d| if d.day <= 15 { first } else { first + second });
    let month_start = month.and_then(|c| total.checked_sub(c));
    trace.note("vendor", Some(m.ci), || {
        format!(
            "Techem MK Radio 3a (version {:02X}, device type {:02X}): reading {} m3 on {}; this month {}",
            techem::version(m),
            techem::device_type(m),
            m3(total),
            techem::date_text(today, word),
            match (month, month_start) {
                (Some(c), Some(s)) => format!("{} m3, so {} m3 at the end of the previous month", m3(c), m3(s)),
                (Some(c), None) => format!("{} m3, more than the reading: no month-start reading", m3(c)),
                _ => "unknown (no date)".into(),
            }
        )
    });
    let mut records = vec![number(Quantity::Volume, m3(total), Unit::M3, 0)];
    records.extend(today.map(|d| date(d, 0)));
    if let (Some(s), Some(d)) = (month_start, today) {
        records.push(number(Quantity::Volume, m3(s), Unit::M3, 1));
        records.push(date(Ymd::end_of_previous_month(d), 1));
    }
    Ok(Decoded {
        records,
        ..Decoded::default()
    })
}

#[cfg(test)]
mod tests {
    use crate::record::{Quantity, Unit, Value};
    use crate::vendor::techem_compact5::tests::frame;
    use crate::{decode, DecodeError};

    fn values(f: &[u8]) -> Vec<(Quantity, u32, Value)> {
        let t = decode(f, None).expect("decodes");
        assert!(t.records.iter().all(|r| r.unit
            == if r.quantity == Quantity::Volume {
                Unit::M3
            } else {
                Unit::None
            }));
        t.records
            .iter()
            .map(|r| (r.quantity, r.storage, r.value.clone()))
            .collect()
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    #[test]
    fn radio_3_and_4_add_the_reading_at_the_billing_date_and_the_consumption_since() {
        // Billing 2021-09-30 (word 2B3E), 1234.5 m3 then (0x3039); 2022-02-14 (month 2 day 14:
        // word 04E0); 56.7 m3 since (0x0237).
        let p = [
            0x06, 0x3E, 0x2B, 0x39, 0x30, 0xE0, 0x04, 0x37, 0x02, 0, 0, 3, 6, 6,
        ];
        for (version, ty) in [(0x74, 0x62), (0x74, 0x72), (0x95, 0x62), (0x70, 0x72)] {
            assert_eq!(
                values(&frame(version, ty, 0xA2, &p)),
                vec![
                    (Quantity::Volume, 0, Value::Number(1291.2)),
                    (Quantity::Date, 0, text("2022-02-14")),
                    (Quantity::Volume, 1, Value::Number(1234.5)),
                    (Quantity::Date, 1, text("2021-09-30")),
                ]
            );
        }
        // The shortest layer, and one byte less.
        assert_eq!(values(&frame(0x74, 0x62, 0xA2, &p[..9])).len(), 4);
        assert!(matches!(
            decode(&frame(0x74, 0x62, 0xA2, &p[..8]), None),
            Err(DecodeError::TooShort { needed: 9, .. })
        ));
    }

    #[test]
    fn radio_3a_gives_the_reading_and_the_month_start() {
        // 2024-03-20 (word 3074), 12 345.6 m3 (0x01E240); March's halves 4.1 and 2.2 m3.
        let mut p = vec![0x0C, 0x00, 0x74, 0x30, 0x40, 0xE2, 0x01, 0x00, 41, 22, 0];
        p.extend([0u8; 33]);
        assert_eq!(
            values(&frame(0x50, 0x72, 0xA2, &p)),
            vec![
                (Quantity::Volume, 0, Value::Number(12_345.6)),
                (Quantity::Date, 0, text("2024-03-20")),
                (Quantity::Volume, 1, Value::Number(12_339.3)),
                (Quantity::Date, 1, text("2024-02-29")),
            ]
        );
        // In the first half of the month only the first byte is this month's.
        p[2] = 0x6A; // 2024-03-10
        assert_eq!(
            values(&frame(0x50, 0x72, 0xA2, &p))[2],
            (Quantity::Volume, 1, Value::Number(12_341.5))
        );
        // No date: the reading alone.
        p[2] = 0x60;
        assert_eq!(
            values(&frame(0x50, 0x72, 0xA2, &p)),
            vec![(Quantity::Volume, 0, Value::Number(12_345.6))]
        );
    }

    #[test]
    fn other_versions_are_refused() {
        let p = [0u8; 20];
        assert_eq!(
            decode(&frame(0x75, 0x62, 0xA2, &p), None),
            Err(DecodeError::UnknownVariant {
                family: "techem_mkradio",
                version: 0x75,
                device_type: 0x62
            })
        );
    }
}
