//! B METERS RFM-TX1 radio module on water meters (manufacturer BMT, version 05, device type 07):
//! a short transport header (CI 7A) announcing security mode 16 (EN 13757-7: modes 16-31 are
//! the manufacturer's), over a payload of the maker's own layout. Facts from wmbusmeters'
//! rfmtx1 driver (its test telegram: 188.56 m3, 2020-03-31 10:04).
//!
//! Bytes after the CI field: access number (also the scrambling key byte), status,
//! configuration (2 bytes, mode 16), 2 unknown bytes, the volume (4 bytes, scrambled), 7
//! unknown bytes, then the meter's date and time as 6 BCD bytes: second, minute, hour, day,
//! month, year (from 2000); what follows (3-byte values, probably history) is not documented
//! and not read.
//!
//! Descrambling: byte i (0-3) of the volume is XORed with the access number and with an entry
//! of a 16-row table of constants, the row chosen by the access number's low 4 bits; the
//! result is 8 BCD digits, least significant byte first, in litres. A non-BCD result means
//! the table or layout does not fit: an error rather than a wrong reading.
//!
//! A telegram of this meter that announces another security mode is read as standard records.

use std::borrow::Cow;

use super::{Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::key::AesKey;
use crate::record::{Function, Quantity, Record, Unit, Value};
use crate::records;
use crate::telegram::{Security, SecurityMode, SecurityStatus};
use crate::tpl;
use crate::tplsec;
use crate::trace::Trace;

pub(crate) const FAMILY: Family = Family {
    name: "bmeters_rfmtx1",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

/// Security mode of the scrambled layout.
const MODE_SCRAMBLED: u8 = 16;

/// The scrambling constants, one row per value of the access number's low nibble, one column
/// per volume byte (least significant first).
const TABLE: [[u8; 4]; 16] = [
    [0x7A, 0x10, 0x1A, 0x0A],
    [0x70, 0x13, 0x22, 0x13],
    [0xB9, 0x0B, 0x8E, 0x99],
    [0x79, 0x07, 0x4A, 0x16],
    [0x07, 0x9A, 0xCB, 0x69],
    [0x32, 0xA1, 0x39, 0x0E],
    [0x9C, 0x7E, 0x60, 0x99],
    [0xB4, 0xC4, 0x80, 0xA3],
    [0x0A, 0xCE, 0x19, 0x03],
    [0xF0, 0x05, 0xA5, 0x86],
    [0x16, 0x98, 0x11, 0x5E],
    [0x0C, 0xC9, 0x7D, 0xA2],
    [0x4A, 0x48, 0xE4, 0x1F],
    [0x77, 0x2E, 0x8A, 0xE8],
    [0xBD, 0x78, 0x57, 0x8C],
    [0x39, 0x6F, 0x28, 0x05],
];

fn detect(m: &Meter<'_>) -> bool {
    m.ci == tpl::CI_SHORT
        && m.raw.1[4] == 0x05
        && m.raw.1[5] == 0x07
        && m.address.manufacturer == "BMT"
}

/// Two BCD digits as a number, `None` when a nibble is above 9.
fn bcd(b: u8) -> Option<u32> {
    let (hi, lo) = (b >> 4, b & 0x0F);
    (hi <= 9 && lo <= 9).then(|| u32::from(hi) * 10 + u32::from(lo))
}

/// The volume in litres from the 4 scrambled bytes and the access number.
fn descramble(scrambled: [u8; 4], access: u8) -> Option<u32> {
    let row = TABLE.get(usize::from(access & 0x0F))?;
    let mut litres = 0u32;
    for (&b, &t) in scrambled.iter().zip(row.iter()).rev() {
        litres = litres.checked_mul(100)?.checked_add(bcd(b ^ access ^ t)?)?;
    }
    Some(litres)
}

fn record(quantity: Quantity, value: Value, unit: Unit) -> Record {
    Record {
        quantity,
        value,
        unit,
        storage: 0,
        tariff: 0,
        subunit: 0,
        function: Function::Instantaneous,
    }
}

fn application(
    m: &Meter<'_>,
    after_ci: &[u8],
    key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    let (t, body) = tpl::parse(m.ci, after_ci)?;
    let mode = t.security_mode();
    if mode != MODE_SCRAMBLED {
        trace.note("vendor", Some(m.ci), || format!("security mode {mode}: standard records"));
        return standard(m, &t, body, after_ci, key);
    }
    let short = |needed: usize| DecodeError::TooShort {
        len: after_ci.len() + 1,
        needed: needed + 1,
        what: "RFM-TX1 payload",
    };
    let volume = after_ci.get(6..10).ok_or(short(10))?;
    let when = after_ci.get(17..23).ok_or(short(23))?;
    let scrambled = [volume[0], volume[1], volume[2], volume[3]];
    let litres = descramble(scrambled, t.access_number).ok_or(DecodeError::BadRecord {
        offset: 6,
        reason: "RFM-TX1 volume is not BCD after descrambling",
    })?;
    let digits: Option<Vec<u32>> = when.iter().map(|&b| bcd(b)).collect();
    let datetime = match digits.as_deref() {
        Some(&[s, mi, h, d, mo, y]) if (1..=12).contains(&mo) && (1..=31).contains(&d) && h < 24 && mi < 60 && s < 60 => {
            Some(format!("{:04}-{mo:02}-{d:02}T{h:02}:{mi:02}:{s:02}", 2000 + y))
        }
        _ => None,
    };
    trace.note("vendor", Some(m.ci), || {
        format!(
            "security mode 16 (B METERS scrambling, table row {}): volume {litres} l; meter time {}",
            t.access_number & 0x0F,
            datetime.as_deref().unwrap_or("not a valid BCD date, not read")
        )
    });
    let mut records = vec![record(Quantity::Volume, Value::Number(f64::from(litres) / 1000.0), Unit::M3)];
    if let Some(dt) = datetime {
        records.push(record(Quantity::DateTime, Value::Text(dt), Unit::None));
    }
    Ok(Decoded {
        records,
        status: t.status,
        access_number: t.access_number,
        security: Some(Security { mode: SecurityMode::ManufacturerSpecific, status: SecurityStatus::Ok }),
        ..Decoded::default()
    })
}

/// A telegram of this meter in a standard security mode: the standard records.
fn standard(
    m: &Meter<'_>,
    t: &tpl::Tpl,
    body: &[u8],
    after_ci: &[u8],
    key: Option<&AesKey>,
) -> Result<Decoded, DecodeError> {
    let input = tplsec::Input {
        key,
        tpl: t,
        body,
        tpl_bytes: after_ci,
        afl: None,
        addr: m.raw,
        link_addr: m.link,
        received: None,
    };
    let opened = tplsec::open(&input, t.security_mode())?;
    let payload: Option<Cow<'_, [u8]>> = opened.payload;
    let records = match payload.as_deref() {
        Some(p) => match records::parse_values(p) {
            (recs, None) => recs,
            (recs, Some(_)) if !recs.is_empty() => recs,
            (_, Some(e)) => return Err(e),
        },
        None => Vec::new(),
    };
    Ok(Decoded {
        records,
        status: t.status,
        access_number: t.access_number,
        security: (t.security_mode() != 0).then_some(opened.security),
        ..Decoded::default()
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{decode, explain, InfoCode};

    /// An RFM-TX1 telegram: volume `litres` scrambled with `access`, meter time 2020-03-31
    /// 10:04:59, status `status`, then 6 history-like bytes.
    fn frame(litres: u32, access: u8, status: u8) -> Vec<u8> {
        let row = TABLE[usize::from(access & 0x0F)];
        let mut digits = litres;
        let mut vol = [0u8; 4];
        for (i, b) in vol.iter_mut().enumerate() {
            let two = digits % 100;
            digits /= 100;
            *b = (((two / 10) << 4) | (two % 10)) as u8 ^ access ^ row[i];
        }
        let mut f = vec![0, 0x44, 0xB4, 0x09, 0x71, 0x72, 0x73, 0x74, 0x05, 0x07, 0x7A, access, status, 0x06, 0x10, 0x11, 0x15];
        f.extend(vol);
        f.extend([0x0F, 0x1D, 0x1E, 0x20, 0, 0, 0]);
        f.extend([0x59, 0x04, 0x10, 0x31, 0x03, 0x20]);
        f.extend([0x80, 0x47, 0x00, 0x4A, 0x48, 0x00]);
        f[0] = (f.len() - 1) as u8;
        f
    }

    fn volume(t: &crate::Telegram) -> Option<f64> {
        t.records.iter().find(|r| r.quantity == Quantity::Volume && r.storage == 0).and_then(|r| match r.value {
            Value::Number(n) => Some(n),
            Value::Text(_) => None,
        })
    }

    #[test]
    fn descrambles_every_row() {
        for access in 0..=255u8 {
            for litres in [0, 188_560, 99_999_999, 1_234_567] {
                let t = decode(&frame(litres, access, 0), None).expect("decodes");
                assert_eq!(volume(&t), Some(f64::from(litres) / 1000.0), "access {access}");
                assert_eq!(t.security.mode, SecurityMode::ManufacturerSpecific);
                assert_eq!(t.access_number, access);
            }
        }
        let t = decode(&frame(188_560, 0xA5, 0), None).expect("decodes");
        assert_eq!(
            t.records.get(1).map(|r| (r.quantity, r.value.clone())),
            Some((Quantity::DateTime, Value::Text("2020-03-31T10:04:59".into())))
        );
        assert_eq!(t.address.id, "74737271");
        let steps = explain(&frame(188_560, 0xA5, 0), None, None).steps;
        assert!(steps.iter().any(|s| s.detail.contains("scrambling")), "{steps:?}");
    }

    #[test]
    fn status_bad_bcd_cut_and_standard_modes() {
        let t = decode(&frame(5, 3, 0x04), None).expect("decodes");
        assert_eq!(t.info_codes, vec![InfoCode::LowBattery]);
        // A scrambled byte that gives a non-BCD digit is refused.
        let mut f = frame(188_560, 0xA5, 0);
        f[17] ^= 0x0A;
        assert!(matches!(decode(&f, None), Err(DecodeError::BadRecord { .. })));
        // A bad date leaves the volume.
        let mut f = frame(188_560, 0xA5, 0);
        f[32] = 0x13;
        let t = decode(&f, None).expect("decodes");
        assert_eq!((volume(&t), t.records.len()), (Some(188.56), 1));
        for n in 0..f.len() {
            let mut cut = f[..n].to_vec();
            if let Some(l) = cut.first_mut() {
                *l = n.saturating_sub(1) as u8;
            }
            let _ = decode(&cut, None);
        }
        // The same meter with a plain OMS payload (mode 0).
        let mut f = vec![0, 0x44, 0xB4, 0x09, 0x71, 0x72, 0x73, 0x74, 0x05, 0x07, 0x7A, 1, 0, 0, 0];
        f.extend([0x04, 0x13, 0x10, 0x27, 0, 0]);
        f[0] = (f.len() - 1) as u8;
        let t = decode(&f, None).expect("decodes");
        assert_eq!((volume(&t), t.security.mode), (Some(10.0), SecurityMode::None));
    }
}
