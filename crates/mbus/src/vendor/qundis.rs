//! Qundis (QDS, and the same modules sold under LSE) walk-by data set: the record `0D FF 5F`
//! that Q water 5.5, Q heat 5.5 and Q caloric 5.5 devices send in their walk-by telegrams
//! (usually CI 78, no transport header), next to a few standard records (date and time, error
//! flags, enhanced id).
//!
//! Layout of the data set (53 bytes; no public Qundis specification exists, the layout is the
//! one worked out in the wmbusmeters issues #1497, #1916 and #2025 and its Q walk-by driver, and
//! checked against every walk-by vector with its values from the same meters' standard frames):
//!
//! | bytes | content |
//! |---|---|
//! | 0 | 00 in every telegram seen (not checked) |
//! | 1 | 82: data set type 2 |
//! | 2 | access counter of the data set |
//! | 3 | 00 in most telegrams, 10 in a Q heat 5.5 US (wmbusmeters issue #1033): not checked |
//! | 4 | 00 plaintext, 35 encrypted (bytes 5-52 are then AES-128-CBC) |
//! | 5, 6 | device status (meaning not published: not decoded) |
//! | 7 | 07 |
//! | 8 | kind of meter: B0 heat cost allocator, C0 heat, C1 water |
//! | 9 | VIF of the three values below (13 litres, 06 kWh, 0D 0.1 MJ, 6E HCA units...) |
//! | 10-11 | date of a serious error (type G; FFFF none) |
//! | 12-15 | current value, 8 BCD digits |
//! | 16-17, 18-21 | last year-end (billing) date and the value then: storage 1 |
//! | 22-23, 24-27 | last month-end date and the value then: storage 17 |
//! | 28-51 | twelve 16-bit monthly consumptions (not decoded: no canonical quantity) |
//! | 52 | filler |
//!
//! Storage numbers 1 and 17 are those the same meters use in their standard (CI 7A/72) frames
//! (`4C13`/`426C` and `CC0813`/`C2086C`), so both kinds of telegram give the same records.
//!
//! Encrypted data sets (2026 Q water / Q heat 5.5 modules, byte 4 = 35): AES-128-CBC with the
//! meter key over the 48 bytes after the 5-byte head, IV = link-layer manufacturer and address
//! (8 bytes as sent) followed by the data set's access counter (byte 2) eight times: OMS mode 5's
//! IV with the data set's own counter, as CI 78 frames carry no transport header (wmbusmeters
//! pull requests #2074 and #2080, checked there with owners' keys). A decryption is accepted
//! when bytes 7-9 read as above. Without a key the telegram is `NoKey`, with a key that does not
//! give that head `WrongKey`, with no records either way.
//!
//! Info codes: a valid error date means the meter latched a serious malfunction and froze its
//! consumption registers (Qundis' installation guides: the error date is only shown then):
//! `PermanentError`.

use crate::cursor::Cursor;
use crate::error::DecodeError;
use crate::info::InfoCode;
use crate::key::AesKey;
use crate::record::{Quantity, Record};
use crate::records;
use crate::security;
use crate::telegram::{Security, SecurityMode, SecurityStatus};
use crate::trace::Trace;
use crate::vendor::{Decoded, Family, Meter};
use crate::vif;

/// Manufacturer code of QDS (Qundis) as a 16-bit number.
const QDS: u16 = 0x4493;
/// Manufacturer code of LSE (the same modules under another label).
const LSE: u16 = 0x3265;

/// The walk-by data set's VIF and VIFE.
const WALK_BY_VIB: [u8; 2] = [0xFF, 0x5F];
/// Data set type in byte 1.
const TYPE_2: u8 = 0x82;
/// Byte 4: how bytes 5.. are sent.
const PLAIN: u8 = 0x00;
const ENCRYPTED: u8 = 0x35;
/// The head before the encrypted part.
const HEAD: usize = 5;
/// Bytes read: up to the end of the month-end value.
const READ: usize = 28;

pub(crate) const FAMILY: Family = Family {
    name: "qundis_walk_by",
    detect,
    application: None,
    block: None,
    record: Some(read_record),
};

fn detect(m: &Meter<'_>) -> bool {
    matches!(m.ci, 0x72 | 0x78 | 0x7A) && matches!(u16::from_le_bytes(m.raw.0), QDS | LSE)
}

fn bad(offset: usize, reason: &'static str) -> DecodeError {
    DecodeError::BadRecord { offset, reason }
}

/// Kind of meter in byte 8 and the quantity its VIF must give.
fn kind(b: u8) -> Option<(&'static str, Quantity)> {
    match b {
        0xB0 => Some(("heat cost allocator", Quantity::HcaUnits)),
        0xC0 => Some(("heat meter", Quantity::Energy)),
        0xC1 => Some(("water meter", Quantity::Volume)),
        _ => None,
    }
}

/// Does the plaintext data set have the known head (bytes 7-9)? The meter kind and VIF if so.
fn head(d: &[u8]) -> Option<(&'static str, u8)> {
    let (&seven, &k, &vif_byte) = (d.get(7)?, d.get(8)?, d.get(9)?);
    let (name, q) = kind(k)?;
    if seven != 0x07 || vif_byte & 0x80 != 0 {
        return None;
    }
    let info = vif::read_vib(&mut Cursor::new(&[vif_byte])).ok()?;
    (info.quantity == q).then_some((name, vif_byte))
}

/// A type G date that names a day (FFFF and other unset dates do not).
fn valid_date(b: [u8; 2]) -> bool {
    let day = b[0] & 0x1F;
    let month = b[1] & 0x0F;
    b != [0xFF, 0xFF] && (1..=12).contains(&month) && day >= 1
}

fn two(d: &[u8], at: usize) -> [u8; 2] {
    match d.get(at..at + 2) {
        Some(&[a, b]) => [a, b],
        _ => [0xFF, 0xFF],
    }
}

fn read_record(
    m: &Meter<'_>,
    vib: &[u8],
    data: &[u8],
    key: Option<&AesKey>,
    _standard: &[Record],
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    if vib != WALK_BY_VIB {
        return Err(bad(0, "not a Qundis walk-by data set (VIF FF 5F)"));
    }
    if data.get(1).is_some_and(|&b| b != TYPE_2) {
        return Err(bad(1, "not a walk-by data set of type 2 (byte 1 is not 82)"));
    }
    let (&acc, &mark) = match data {
        [_, _, c, _, e, ..] if data.len() >= READ => (c, e),
        _ => return Err(DecodeError::TooShort { len: data.len(), needed: READ, what: "Qundis walk-by data set" }),
    };
    let mut security = None;
    let plain: Vec<u8> = match mark {
        PLAIN => data.to_vec(),
        ENCRYPTED => {
            let sm = SecurityMode::Mode5;
            let closed = |status| Decoded { security: Some(Security { mode: sm, status }), ..Decoded::default() };
            let Some(k) = key else {
                trace.note("vendor", Some(m.ci), || {
                    format!("Qundis walk-by data set (access counter {acc}) is AES-128-CBC encrypted and no key was given: stopped")
                });
                return Ok(closed(SecurityStatus::NoKey));
            };
            let (mfct, addr) = m.link.unwrap_or(m.raw);
            let iv = security::mode5_iv(mfct, addr, acc);
            let body = data.get(HEAD..).unwrap_or(&[]);
            let whole = body.len() - body.len() % 16;
            let mut out = data.get(..HEAD).unwrap_or(&[]).to_vec();
            out.extend(security::cbc_decrypt(k, &iv, body.get(..whole).unwrap_or(&[])));
            out.extend_from_slice(body.get(whole..).unwrap_or(&[]));
            if head(&out).is_none() {
                trace.note("vendor", Some(m.ci), || {
                    "Qundis walk-by data set: after AES-128-CBC decryption its head (07, meter kind, VIF) is not valid: wrong key, stopped".into()
                });
                return Ok(closed(SecurityStatus::WrongKey));
            }
            security = Some(Security { mode: sm, status: SecurityStatus::Ok });
            out
        }
        _ => return Err(bad(4, "unknown walk-by data set mode (byte 4 is neither 00 nor 35)")),
    };
    let (name, vif_byte) = head(&plain).ok_or(bad(7, "unknown meter kind or VIF in the walk-by data set (bytes 7-9)"))?;
    let value = |at: usize| plain.get(at..at + 4).unwrap_or(&[0xFF; 4]);
    let error_date = two(&plain, 10);
    let year_date = two(&plain, 16);
    let month_date = two(&plain, 22);
    // The values as the standard records this meter sends in its other frames, read by the
    // standard record parser so that units, scaling and dates are the same.
    let mut std: Vec<u8> = Vec::with_capacity(40);
    std.extend([0x0C, vif_byte]);
    std.extend_from_slice(value(12));
    std.extend([0x4C, vif_byte]);
    std.extend_from_slice(value(18));
    if valid_date(year_date) {
        std.extend([0x42, 0x6C]);
        std.extend(year_date);
    }
    std.extend([0xCC, 0x08, vif_byte]);
    std.extend_from_slice(value(24));
    if valid_date(month_date) {
        std.extend([0xC2, 0x08, 0x6C]);
        std.extend(month_date);
    }
    let error = valid_date(error_date);
    if error {
        std.extend([0x32, 0x6C]);
        std.extend(error_date);
    }
    let (parsed, err) = records::parse_values(&std);
    if let Some(e) = err {
        return Err(e);
    }
    trace.note("vendor", Some(m.ci), || {
        format!(
            "Qundis walk-by data set of a {name}{}: access counter {acc}, VIF {vif_byte:02X}: current value, value at the year end (storage 1{}), at the month end (storage 17{}){}",
            if security.is_some() { " (decrypted: AES-128-CBC, IV from the link address and the data set's counter)" } else { "" },
            if valid_date(year_date) { ", with its date" } else { ", no date set" },
            if valid_date(month_date) { ", with its date" } else { ", no date set" },
            if error { "; an error date is set: permanent error" } else { "" },
        )
    });
    Ok(Decoded {
        records: parsed,
        info_codes: if error { vec![InfoCode::PermanentError] } else { Vec::new() },
        security,
        ..Decoded::default()
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::encode::date_g;
    use crate::key::AesKey;
    use crate::record::{Function, Quantity, Value};
    use crate::telegram::SecurityStatus;
    use crate::{decode, InfoCode, Telegram};

    /// A plaintext walk-by data set: kind, VIF, error date, current, year-end and month-end
    /// values (8 BCD digits as a number) with their dates.
    pub(crate) fn data_set(kind: u8, vif: u8, error: [u8; 2], values: [u32; 3], dates: [[u8; 2]; 2]) -> Vec<u8> {
        let bcd = |v: u32| {
            let mut out = [0u8; 4];
            let mut v = v;
            for b in &mut out {
                *b = (((v / 10 % 10) << 4) | (v % 10)) as u8;
                v /= 100;
            }
            out
        };
        let mut d = vec![0x00, 0x82, 0x2A, 0x00, 0x00, 0x60, 0x01, 0x07, kind, vif];
        d.extend(error);
        d.extend(bcd(values[0]));
        d.extend(dates[0]);
        d.extend(bcd(values[1]));
        d.extend(dates[1]);
        d.extend(bcd(values[2]));
        for i in 0..12u16 {
            d.extend((i * 3).to_le_bytes());
        }
        d.push(0x00);
        d
    }

    /// A CI 78 walk-by frame of meter 12345678 (version `ver`, device type `dev`) around `set`.
    pub(crate) fn frame(ver: u8, dev: u8, set: &[u8]) -> Vec<u8> {
        let mut f = vec![0x00, 0x44, 0x93, 0x44, 0x78, 0x56, 0x34, 0x12, ver, dev, 0x78, 0x0D, 0xFF, 0x5F];
        f.push(set.len() as u8);
        f.extend_from_slice(set);
        f.extend([0x2F, 0x04, 0x6D, 0x37, 0x0C, 0xC4, 0x22]);
        f[0] = (f.len() - 1) as u8;
        f
    }

    fn find(t: &Telegram, q: Quantity, storage: u32) -> Option<Value> {
        t.records.iter().find(|r| r.quantity == q && r.storage == storage).map(|r| r.value.clone())
    }

    #[test]
    fn water_data_set_gives_current_year_end_and_month_end_values() {
        let set = data_set(0xC1, 0x13, [0xFF, 0xFF], [2048, 1791, 2020], [date_g(2021, 12, 31), date_g(2022, 1, 31)]);
        let t = decode(&frame(0x18, 0x06, &set), None).expect("decodes");
        assert_eq!(find(&t, Quantity::Volume, 0), Some(Value::Number(2.048)));
        assert_eq!(find(&t, Quantity::Volume, 1), Some(Value::Number(1.791)));
        assert_eq!(find(&t, Quantity::Date, 1), Some(Value::Text("2021-12-31".into())));
        assert_eq!(find(&t, Quantity::Volume, 17), Some(Value::Number(2.02)));
        assert_eq!(find(&t, Quantity::Date, 17), Some(Value::Text("2022-01-31".into())));
        assert!(t.records.iter().all(|r| r.function != Function::Error));
        assert!(t.info_codes.is_empty());
        assert_eq!(t.security.status, SecurityStatus::Ok);
    }

    #[test]
    fn heat_data_set_in_tenths_of_megajoules_and_unset_dates() {
        // VIF 0D: 10^5 J. 30831 x 0.1 MJ = 856.41667 kWh.
        let set = data_set(0xC0, 0x0D, [0xFF, 0xFF], [30831, 0, 30831], [[0xFF, 0xFF], date_g(2025, 4, 30)]);
        let t = decode(&frame(0x47, 0x37, &set), None).expect("decodes");
        let Some(Value::Number(kwh)) = find(&t, Quantity::Energy, 0) else { panic!("{t:?}") };
        assert!((kwh - 856.416_667).abs() < 1e-3);
        assert_eq!(find(&t, Quantity::Date, 1), None, "FFFF is no date");
        assert_eq!(find(&t, Quantity::Date, 17), Some(Value::Text("2025-04-30".into())));
    }

    #[test]
    fn allocator_data_set_and_error_date() {
        let set = data_set(0xB0, 0x6E, date_g(2021, 3, 4), [97, 270, 97], [date_g(2020, 12, 31), date_g(2021, 6, 30)]);
        let t = decode(&frame(0x34, 0x08, &set), None).expect("decodes");
        assert_eq!(find(&t, Quantity::HcaUnits, 0), Some(Value::Number(97.0)));
        assert_eq!(find(&t, Quantity::HcaUnits, 1), Some(Value::Number(270.0)));
        let err = t.records.iter().find(|r| r.function == Function::Error).expect("error date");
        assert_eq!(err.value, Value::Text("2021-03-04".into()));
        assert_eq!(t.info_codes, vec![InfoCode::PermanentError]);
    }

    #[test]
    fn unknown_heads_add_nothing() {
        for (at, byte) in [(1, 0x83), (4, 0x12), (7, 0x08), (8, 0xC5), (9, 0x06)] {
            // 0x06 (kWh) under kind C1 (water) does not fit.
            let mut set = data_set(0xC1, 0x13, [0xFF, 0xFF], [1, 2, 3], [[0xFF, 0xFF], [0xFF, 0xFF]]);
            set[at] = byte;
            let t = decode(&frame(0x18, 0x06, &set), None).expect("decodes");
            assert!(t.records.iter().all(|r| r.quantity != Quantity::Volume), "byte {at}: {t:?}");
        }
        let short = data_set(0xC1, 0x13, [0xFF, 0xFF], [1, 2, 3], [[0xFF, 0xFF], [0xFF, 0xFF]]);
        let t = decode(&frame(0x18, 0x06, &short[..20]), None).expect("decodes");
        assert!(t.records.iter().all(|r| r.quantity != Quantity::Volume));
    }

    /// The data set encrypted as the 2026 modules send it.
    fn encrypted(set: &[u8], key: &AesKey) -> Vec<u8> {
        let (m, a) = ([0x93, 0x44], [0x78, 0x56, 0x34, 0x12, 0x1A, 0x07]);
        let iv = crate::security::mode5_iv(m, a, set[2]);
        let mut out = set[..5].to_vec();
        out[4] = 0x35;
        out.extend(crate::security::cbc_encrypt(key, &iv, &set[5..53]));
        out
    }

    #[test]
    fn encrypted_data_set_opens_with_the_key_only() {
        let key = AesKey::from_bytes([7; 16]);
        let set = data_set(0xC1, 0x13, [0xFF, 0xFF], [26546, 20552, 24086], [date_g(2025, 12, 31), date_g(2026, 1, 31)]);
        let f = frame(0x1A, 0x07, &encrypted(&set, &key));
        let t = decode(&f, Some(&key)).expect("decodes");
        assert_eq!(t.security.status, SecurityStatus::Ok);
        assert_eq!(t.security.mode, crate::SecurityMode::Mode5);
        assert_eq!(find(&t, Quantity::Volume, 0), Some(Value::Number(26.546)));
        let none = decode(&f, None).expect("decodes");
        assert_eq!(none.security.status, SecurityStatus::NoKey);
        assert!(none.records.is_empty());
        let wrong = decode(&f, Some(&AesKey::from_bytes([8; 16]))).expect("decodes");
        assert_eq!(wrong.security.status, SecurityStatus::WrongKey);
        assert!(wrong.records.is_empty());
    }

    #[test]
    fn explain_says_what_was_read() {
        let set = data_set(0xC1, 0x13, [0xFF, 0xFF], [1, 2, 3], [[0xFF, 0xFF], [0xFF, 0xFF]]);
        let e = crate::explain(&frame(0x18, 0x06, &set), None, None);
        assert!(e.steps.iter().any(|s| s.layer == "vendor" && s.detail.contains("walk-by data set of a water meter")), "{:?}", e.steps);
    }
}
