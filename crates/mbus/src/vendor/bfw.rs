//! BFW 240 radio heat cost allocators (manufacturer BFW, version 02, device type 08): a short
//! (7A) or long (72) transport header, then, after the 2F2F that OMS payloads start with, BFW's
//! own fixed layout instead of data records. Facts from wmbusmeters' bfw240radio driver (its
//! byte map and field formulas), checked on its six telegrams:
//!
//! | bytes after 2F2F | content |
//! |---|---|
//! | 0-1 | not published (the first changes from telegram to telegram) |
//! | 2-3 | units at the end of the previous billing period, 16 bits, most significant byte first |
//! | 4-5 | units in the current billing period so far, likewise |
//! | 6-7 | not published |
//! | 8-34 | 18 month-end readings of 12 bits, two in every 3 bytes, oldest pair first |
//! | 35-37 | the device's date: day, month, year (two digits), BCD |
//!
//! A pair `a b c` holds the older month in `a` with the high nibble of `b` above it, and the
//! newer month in `c` with the low nibble of `b` above it. The month-end readings count within
//! the billing period (they restart after it), so "one month ago" is the reading at the end of
//! the month before the device's date.
//!
//! Records: current units (storage 0), previous period (storage 1; the telegram does not say
//! the billing date, so no date record goes with it), the device's date (`Date`, storage 0)
//! and the month-end reading `k` months ago as storage `k + 1` with its date (the month's last
//! day) when the device's date is valid. Security: a header announcing mode 5 is opened like
//! any OMS telegram; no key or a wrong key give `NoKey`/`WrongKey` without records.

use std::borrow::Cow;

use crate::error::DecodeError;
use crate::key::AesKey;
use crate::record::{Function, Quantity, Record, Unit, Value};
use crate::security::VERIFY;
use crate::telegram::{Security, SecurityMode, SecurityStatus};
use crate::tpl;
use crate::tplsec;
use crate::trace::Trace;
use crate::vendor::{Decoded, Family, Meter};

/// Manufacturer code of BFW as a 16-bit number.
const BFW: u16 = 0x08D7;
/// Bytes of the layout after 2F2F.
const LEN: usize = 38;
/// Month-end readings sent.
const MONTHS: usize = 18;

pub(crate) const FAMILY: Family = Family {
    name: "bfw_240_radio",
    detect,
    application: Some(read_application),
    block: None,
    record: None,
};

fn detect(m: &Meter<'_>) -> bool {
    let [.., version, device] = m.raw.1;
    matches!(m.ci, tpl::CI_SHORT | tpl::CI_LONG)
        && version == 0x02
        && device == 0x08
        && u16::from_le_bytes(m.raw.0) == BFW
}

fn record(quantity: Quantity, value: Value, unit: Unit, storage: u32) -> Record {
    Record { quantity, value, unit, storage, tariff: 0, subunit: 0, function: Function::Instantaneous }
}

fn bcd(b: u8) -> Option<u8> {
    let (hi, lo) = (b >> 4, b & 0x0F);
    (hi < 10 && lo < 10).then_some(hi * 10 + lo)
}

/// The device's date from day, month, year BCD, if it names a day.
fn device_date(b: [u8; 3]) -> Option<(u16, u8, u8)> {
    let (day, month, year) = (bcd(b[0])?, bcd(b[1])?, bcd(b[2])?);
    ((1..=12).contains(&month) && (1..=days_in(2000 + u16::from(year), month)).contains(&day))
        .then_some((2000 + u16::from(year), month, day))
}

fn days_in(year: u16, month: u8) -> u8 {
    match month {
        2 if year.is_multiple_of(4) && (!year.is_multiple_of(100) || year.is_multiple_of(400)) => 29,
        2 => 28,
        4 | 6 | 9 | 11 => 30,
        _ => 31,
    }
}

/// The last day of the month `back` months before (year, month), as text.
fn month_end(year: u16, month: u8, back: usize) -> String {
    let index = i64::from(year) * 12 + i64::from(month) - 1 - back as i64;
    let (y, m) = (index.div_euclid(12), index.rem_euclid(12) + 1);
    let (y16, m8) = (u16::try_from(y).unwrap_or(0), u8::try_from(m).unwrap_or(1));
    match u32::try_from(y) {
        Ok(y) => crate::datetime::ymd(y, u32::from(m8), u32::from(days_in(y16, m8))),
        Err(_) => format!("{y:04}-{m:02}-{:02}", days_in(y16, m8)),
    }
}

/// The 18 month-end readings, index 0 = one month ago.
fn history(bytes: &[u8]) -> [u16; MONTHS] {
    let mut out = [0u16; MONTHS];
    // Pairs oldest first: the last triplet holds months 2 (older) and 1 (newer).
    for (pair, t) in bytes.chunks_exact(3).take(MONTHS / 2).enumerate() {
        if let [a, b, c] = *t {
            let newer = (u16::from(b & 0x0F) << 8) | u16::from(c);
            let older = (u16::from(b >> 4) << 8) | u16::from(a);
            let newer_at = MONTHS - 2 * pair - 2; // months back - 1
            if let Some(slot) = out.get_mut(newer_at) {
                *slot = newer;
            }
            if let Some(slot) = out.get_mut(newer_at + 1) {
                *slot = older;
            }
        }
    }
    out
}

fn read_application(
    m: &Meter<'_>,
    after_ci: &[u8],
    key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    let (t, body) = tpl::parse(m.ci, after_ci)?;
    let mode = t.security_mode();
    let mut tpl_bytes = Vec::with_capacity(after_ci.len() + 1);
    tpl_bytes.push(m.ci);
    tpl_bytes.extend_from_slice(after_ci);
    let (security, payload): (Option<Security>, Cow<'_, [u8]>) = if mode == 0 {
        (None, Cow::Borrowed(body))
    } else {
        let input = tplsec::Input {
            key,
            tpl: &t,
            body,
            tpl_bytes: &tpl_bytes,
            afl: None,
            addr: t.long_address.unwrap_or(m.raw),
            link_addr: m.link,
            received: None,
        };
        let opened = tplsec::open(&input, mode)?;
        trace.note("tpl-security", Some(m.ci), || opened.how.to_string());
        match opened.payload {
            Some(p) => (Some(opened.security), Cow::Owned(p.into_owned())),
            None => {
                return Ok(Decoded {
                    security: Some(opened.security),
                    status: t.status,
                    access_number: t.access_number,
                    ..Decoded::default()
                })
            }
        }
    };
    if let Some(Security { status: SecurityStatus::WrongKey | SecurityStatus::NoKey, .. }) = security {
        return Ok(Decoded { security, status: t.status, access_number: t.access_number, ..Decoded::default() });
    }
    let data = payload
        .strip_prefix(&VERIFY[..])
        .ok_or(DecodeError::BadRecord { offset: 0, reason: "BFW 240 radio payload does not start with 2F2F" })?;
    let fixed: &[u8; LEN] = data
        .get(..LEN)
        .and_then(|d| d.try_into().ok())
        .ok_or(DecodeError::TooShort { len: data.len(), needed: LEN, what: "BFW 240 radio payload after 2F2F" })?;
    let prev = u16::from_be_bytes([fixed[2], fixed[3]]);
    let current = u16::from_be_bytes([fixed[4], fixed[5]]);
    let months = history(&fixed[8..35]);
    let date = device_date([fixed[35], fixed[36], fixed[37]]);
    let hca = |v: u16, storage: u32| record(Quantity::HcaUnits, Value::Number(f64::from(v)), Unit::Hca, storage);
    // Current, previous, the device date, then a reading and its date per month.
    let mut records = Vec::with_capacity(3 + 2 * MONTHS);
    records.extend([hca(current, 0), hca(prev, 1)]);
    if let Some((y, mo, d)) = date {
        let text = crate::datetime::ymd(u32::from(y), u32::from(mo), u32::from(d));
        records.push(record(Quantity::Date, Value::Text(text), Unit::None, 0));
    }
    for (i, v) in months.iter().enumerate() {
        let storage = u32::try_from(i + 2).unwrap_or(u32::MAX);
        records.push(hca(*v, storage));
        if let Some((y, mo, _)) = date {
            records.push(record(Quantity::Date, Value::Text(month_end(y, mo, i + 1)), Unit::None, storage));
        }
    }
    trace.note("vendor", Some(m.ci), || {
        format!(
            "BFW 240 radio layout after 2F2F: current {current} units, previous period {prev} units, 18 month-end readings, device date {}{}",
            date.map_or("not valid (no dates given to the readings)".to_string(), |(y, mo, d)| format!("{y:04}-{mo:02}-{d:02}")),
            if data.len() > LEN { format!("; {} bytes after the layout ignored", data.len() - LEN) } else { String::new() },
        )
    });
    Ok(Decoded {
        records,
        info_codes: Vec::new(),
        status: t.status,
        access_number: t.access_number,
        security: security.filter(|s| s.mode != SecurityMode::None),
        address: None,
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::decode;

    /// A BFW 240 radio frame: prev, current, month-end readings (index 0 = one month ago) and
    /// the device's date as BCD day, month, year.
    pub(crate) fn frame(prev: u16, current: u16, months: [u16; MONTHS], date: [u8; 3]) -> Vec<u8> {
        let mut f = vec![0x00, 0x44, 0xD7, 0x08, 0x88, 0x77, 0x70, 0x00, 0x02, 0x08, 0x7A, 0xDB, 0xC0, 0x00, 0x00];
        f.extend([0x2F, 0x2F, 0x9E, 0x1F]);
        f.extend(prev.to_be_bytes());
        f.extend(current.to_be_bytes());
        f.extend([0x15, 0x2A]);
        for pair in (0..MONTHS / 2).rev() {
            let (newer, older) = (months[2 * pair], months[2 * pair + 1]);
            f.push((older & 0xFF) as u8);
            f.push(((((older >> 8) & 0x0F) << 4) | ((newer >> 8) & 0x0F)) as u8);
            f.push((newer & 0xFF) as u8);
        }
        f.extend(date);
        f[0] = (f.len() - 1) as u8;
        f
    }

    fn value(t: &crate::Telegram, q: Quantity, storage: u32) -> Option<Value> {
        t.records.iter().find(|r| r.quantity == q && r.storage == storage).map(|r| r.value.clone())
    }

    #[test]
    fn current_previous_history_and_dates() {
        let mut months = [0u16; MONTHS];
        months[0] = 541;
        months[1] = 961;
        months[2] = 522;
        months[17] = 4095;
        let t = decode(&frame(961, 904, months, [0x28, 0x02, 0x21]), None).expect("decodes");
        assert_eq!(value(&t, Quantity::HcaUnits, 0), Some(Value::Number(904.0)));
        assert_eq!(value(&t, Quantity::HcaUnits, 1), Some(Value::Number(961.0)));
        assert_eq!(value(&t, Quantity::Date, 0), Some(Value::Text("2021-02-28".into())));
        assert_eq!(value(&t, Quantity::HcaUnits, 2), Some(Value::Number(541.0)));
        assert_eq!(value(&t, Quantity::Date, 2), Some(Value::Text("2021-01-31".into())));
        assert_eq!(value(&t, Quantity::HcaUnits, 3), Some(Value::Number(961.0)));
        assert_eq!(value(&t, Quantity::Date, 3), Some(Value::Text("2020-12-31".into())));
        assert_eq!(value(&t, Quantity::HcaUnits, 4), Some(Value::Number(522.0)));
        assert_eq!(value(&t, Quantity::HcaUnits, 19), Some(Value::Number(4095.0)));
        assert_eq!(value(&t, Quantity::Date, 19), Some(Value::Text("2019-08-31".into())));
        assert_eq!(t.access_number, 0xDB);
    }

    #[test]
    fn a_bad_date_leaves_the_readings() {
        let t = decode(&frame(1, 2, [3; MONTHS], [0x32, 0x13, 0x21]), None).expect("decodes");
        assert_eq!(value(&t, Quantity::HcaUnits, 0), Some(Value::Number(2.0)));
        assert!(t.records.iter().all(|r| r.quantity != Quantity::Date));
    }

    #[test]
    fn short_or_unverified_payloads_are_refused() {
        let f = frame(1, 2, [3; MONTHS], [0x01, 0x03, 0x21]);
        let mut cut = f[..f.len() - 1].to_vec();
        cut[0] -= 1;
        assert!(matches!(decode(&cut, None), Err(DecodeError::TooShort { .. })));
        let mut no_verify = f.clone();
        no_verify[15] = 0x00;
        assert!(matches!(decode(&no_verify, None), Err(DecodeError::BadRecord { .. })));
    }

    #[test]
    fn mode_5_needs_the_key() {
        let key = AesKey::from_bytes([3; 16]);
        let plain = frame(10, 20, [0; MONTHS], [0x01, 0x03, 0x21]);
        // Re-encrypt the payload after the header as OMS mode 5 (38 + 2 bytes -> 3 blocks).
        let mut body = plain[15..].to_vec();
        while !body.len().is_multiple_of(16) {
            body.push(0x2F);
        }
        let iv = crate::security::mode5_iv([0xD7, 0x08], [0x88, 0x77, 0x70, 0x00, 0x02, 0x08], 0xDB);
        let mut f = plain[..15].to_vec();
        f[13] = 0x30;
        f[14] = 0x05;
        f.extend(crate::security::cbc_encrypt(&key, &iv, &body));
        f[0] = (f.len() - 1) as u8;
        let t = decode(&f, Some(&key)).expect("decodes");
        assert_eq!(t.security.status, SecurityStatus::Ok);
        assert_eq!(value(&t, Quantity::HcaUnits, 0), Some(Value::Number(20.0)));
        let none = decode(&f, None).expect("decodes");
        assert_eq!(none.security.status, SecurityStatus::NoKey);
        assert!(none.records.is_empty());
        let wrong = decode(&f, Some(&AesKey::from_bytes([4; 16]))).expect("decodes");
        assert_eq!(wrong.security.status, SecurityStatus::WrongKey);
        assert!(wrong.records.is_empty());
    }

    #[test]
    fn month_ends_cross_years() {
        assert_eq!(month_end(2021, 3, 1), "2021-02-28");
        assert_eq!(month_end(2024, 3, 1), "2024-02-29");
        assert_eq!(month_end(2021, 1, 13), "2019-12-31");
        assert_eq!(month_end(2000, 1, 18), "1998-07-31");
    }
}
