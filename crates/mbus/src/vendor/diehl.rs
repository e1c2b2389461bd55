//! Diehl Metering (makers' codes DME, EWT, HYD, SAP, SPL: Diehl, Hydrometer, Sappel): the
//! scrambled "PRIOS" telegrams of IZAR water meters and the scrambled "real data" of Diehl's
//! OMS meters (Hydrus, Sharky, IZAR RS...).
//!
//! Sources (facts only, in our own words and code): the behaviour of wmbusmeters'
//! `src/driver_izar.cc`, `drivers/src/izarv2.xmq` and `src/manufacturer_specificities.cc`
//! (GPL: read to learn the format, nothing copied), checked against its test telegrams; the
//! Diehl Metering "IZAR RC 868 i G4" user guide §2.3 for what the alarms mean.
//!
//! # The scrambling (both kinds)
//! A 32-bit linear-feedback shift register. Its start state is the 32-bit key XOR three
//! big-endian words of the frame as sent: manufacturer (2 bytes) and id bytes 0-1; id bytes
//! 2-3, version and device type; the CI and the three bytes after it. For each payload byte the
//! register is clocked 8 times (new bit = bits 1, 2, 11 and 31 XORed, shifted in at bit 0) and
//! the payload byte is XORed with the register's low byte. The 32-bit key is the XOR of the two
//! big-endian halves of an 8-byte key. Two 8-byte keys are common to Diehl meters
//! ([`DEFAULT_KEYS`]); a meter may also have its own.
//!
//! **A per-meter key** is passed in the 16-byte [`AesKey`]: its *first 8 bytes* are the PRIOS
//! key (the last 8 are ignored). Diehl writes the AES key of its OMS meters as the 8-byte key
//! twice (e.g. the default `51728910E66D83F8` twice), so one 16-byte key serves both. A given
//! key is tried first, then the default keys: a meter that uses a default key reads whatever key
//! is stored for it.
//!
//! # PRIOS (CI A0-A7, IZAR)
//! After the CI: 4 header bytes in plain view, then the scrambled part.
//! - header 0: bit 7 general alarm, bits 0-3 send period exponent (period 2^(n+2) s);
//! - header 1: bit 7 leak now, bit 6 leak before, bit 5 meter blocked (no pulse for weeks),
//!   bits 0-4 remaining battery life in half years;
//! - header 2: bit 7 back flow, 6 underflow, 5 overflow, 4 submarine (module under water), 3
//!   sensor (magnetic) fraud now, 2 before, 1 mechanical fraud (module removed) now, 0 before;
//! - header 3: not used here.
//!
//! Scrambled part: a check byte 4B (a key is right when it gives 4B), the total volume in
//! litres (u32 LE), then optionally the volume at the last billing date (u32 LE, litres) and
//! that date (type G, 2 bytes). Longer telegrams carry more (not read). Seen lengths: 5 bytes
//! (check + total), 11 and more.
//!
//! Address: Sappel (SAP) sends a 5-byte serial in the id, version and device type bytes (the
//! device type then is water, version 0); the others send version and device type first, then
//! the id.
//!
//! Info codes: leak now -> Leak, back flow -> Reverse, overflow (flow above the programmed
//! limit for the programmed time) -> Burst, sensor or mechanical fraud now -> Tamper, and
//! LowBattery when the meter's own estimate of its battery life is under a year (our threshold:
//! the meter sends no battery flag). Meter blocked, underflow and submarine have no info code.
//!
//! # Real data (CI 7A with security mode 16-31)
//! EN 13757-7 leaves modes 16-31 to the maker. Diehl sets bit 12 of the configuration field
//! (the mode's top bit) to say the payload after the short header is scrambled as above; the
//! other bits of the configuration's high byte (bits 8-11 and 13-15) hold the 7-bit sum of the
//! plaintext payload (the byte sum, masked with EF): that is the check of the key, and the
//! "modes" 21, 24, 29 seen on Sharky and Hydrus meters are these sum bits, not modes. The
//! plaintext is EN 13757-3 records. A telegram whose payload as sent already passes the sum and
//! reads as records (a receiver that already unscrambled it) is read as `Plaintext`. The
//! address is sent as for PRIOS (version and device type first).

use crate::address::Address;
use crate::error::DecodeError;
use crate::info::InfoCode;
use crate::key::AesKey;
use crate::record::{Function, Quantity, Record, Unit, Value};
use crate::records;
use crate::telegram::{Security, SecurityMode, SecurityStatus};
use crate::tplsec::RawAddress;
use crate::trace::Trace;

use super::{Decoded, Family, Meter};

pub(crate) const FAMILY: Family = Family {
    name: "diehl",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

/// A manufacturer code from its three letters (EN 13757-3: 5 bits a letter, A = 1).
const fn code(l: &[u8; 3]) -> u16 {
    (((l[0] - b'@') as u16) << 10) | (((l[1] - b'@') as u16) << 5) | ((l[2] - b'@') as u16)
}

const SAP: u16 = code(b"SAP");
/// Diehl Metering's manufacturer codes that send these telegrams.
const DIEHL: [u16; 5] = [code(b"DME"), code(b"EWT"), code(b"HYD"), SAP, code(b"SPL")];

/// The two 8-byte keys Diehl meters use unless given their own.
pub(crate) const DEFAULT_KEYS: [[u8; 8]; 2] = [
    [0x39, 0xBC, 0x8A, 0x10, 0xE6, 0x6D, 0x83, 0xF8],
    [0x51, 0x72, 0x89, 0x10, 0xE6, 0x6D, 0x83, 0xF8],
];

/// The PRIOS check byte: the first unscrambled byte.
const PRIOS_CHECK: u8 = 0x4B;
const CI_SHORT: u8 = 0x7A;
/// Configuration bit 12 (bit 4 of its high byte): Diehl's "scrambled real data".
const REAL_DATA_FLAG: u8 = 0x10;
/// The configuration high byte's bits that hold the payload sum.
const SUM_MASK: u8 = 0xEF;

/// The address as sent on the link layer (what the keystream starts from).
fn sent(m: &Meter<'_>) -> RawAddress {
    m.link.unwrap_or(m.raw)
}

fn detect(m: &Meter<'_>) -> bool {
    let kind = match m.ci {
        0xA0..=0xA7 => true,
        CI_SHORT => m.head.get(3).is_some_and(|c| c & REAL_DATA_FLAG != 0),
        _ => false,
    };
    kind && matches!(m.c_field, 0x44 | 0x46) && DIEHL.contains(&u16::from_le_bytes(sent(m).0))
}

/// The 32-bit key of an 8-byte key: its two big-endian halves XORed.
fn key32(k: &[u8; 8]) -> u32 {
    let [a, b, c, d, e, f, g, h] = *k;
    u32::from_be_bytes([a, b, c, d]) ^ u32::from_be_bytes([e, f, g, h])
}

/// The keys to try: the given one (its first 8 bytes), then the defaults.
fn candidates(key: Option<&AesKey>) -> Vec<(u32, &'static str)> {
    let mut v = Vec::with_capacity(3);
    if let Some(k) = key {
        let b = k.as_bytes();
        let mut first = [0u8; 8];
        first.copy_from_slice(b.get(..8).unwrap_or(&[0; 8]));
        v.push((key32(&first), "the given key (its first 8 bytes)"));
    }
    v.push((key32(&DEFAULT_KEYS[0]), "Diehl default key 1"));
    v.push((key32(&DEFAULT_KEYS[1]), "Diehl default key 2"));
    v
}

/// The register after 32 clocks (one clock: new bit = bits 1, 2, 11 and 31 XORed, shifted
/// in at bit 0): all of it is new bits, the first one at bit 31. The reference for [`STEP`].
const fn clock32(mut s: u32) -> u32 {
    let mut i = 0;
    while i < 32 {
        let bit = ((s >> 1) ^ (s >> 2) ^ (s >> 11) ^ (s >> 31)) & 1;
        s = (s << 1) | bit;
        i += 1;
    }
    s
}

/// The register 32 clocks on, a byte of the state at a time: each new bit is an XOR of state
/// bits, so the new state is the XOR of what each of the 4 bytes alone gives (`STEP[j][b]`:
/// from the state `b << 8j`). Four lookups give four keystream bytes, instead of 32 clocks.
const STEP: [[u32; 256]; 4] = {
    let mut t = [[0u32; 256]; 4];
    let mut j = 0;
    while j < 4 {
        let mut v = 0;
        while v < 256 {
            t[j][v] = clock32((v as u32) << (8 * j));
            v += 1;
        }
        j += 1;
    }
    t
};

/// Unscramble (or scramble: it is an XOR) `data` with the keystream of `key` for this header:
/// `addr` as sent, the CI and the three bytes after it. Byte i of the keystream is the
/// register's low byte after 8(i+1) clocks: after 32 clocks, the four bytes of the register
/// from the high one down are the keystream of 4 bytes.
pub(crate) fn descramble(
    key: u32,
    addr: RawAddress,
    ci: u8,
    after: [u8; 3],
    data: &[u8],
) -> Vec<u8> {
    let (m, [a0, a1, a2, a3, ver, dev]) = addr;
    let mut s = key
        ^ u32::from_be_bytes([m[0], m[1], a0, a1])
        ^ u32::from_be_bytes([a2, a3, ver, dev])
        ^ u32::from_be_bytes([ci, after[0], after[1], after[2]]);
    let step = |s: u32| {
        let [b0, b1, b2, b3] = s.to_le_bytes();
        STEP[0][usize::from(b0)]
            ^ STEP[1][usize::from(b1)]
            ^ STEP[2][usize::from(b2)]
            ^ STEP[3][usize::from(b3)]
    };
    let mut out = Vec::with_capacity(data.len());
    let mut chunks = data.chunks_exact(4);
    for chunk in &mut chunks {
        s = step(s);
        let word = u32::from_be_bytes([chunk[0], chunk[1], chunk[2], chunk[3]]);
        out.extend_from_slice(&(word ^ s).to_be_bytes());
    }
    let rest = chunks.remainder();
    if !rest.is_empty() {
        s = step(s);
        let k = s.to_be_bytes();
        out.extend(rest.iter().zip(k.iter()).map(|(b, k)| b ^ k));
    }
    out
}

/// The address with version and device type sent before the id.
fn swapped(addr: RawAddress) -> Result<Address, DecodeError> {
    let (m, [ver, dev, i0, i1, i2, i3]) = addr;
    Address::from_link_bytes(m, [i0, i1, i2, i3], ver, dev)
}

fn record(quantity: Quantity, value: Value, unit: Unit, storage: u32) -> Record {
    Record {
        quantity,
        value,
        unit,
        storage,
        tariff: 0,
        subunit: 0,
        function: Function::Instantaneous,
    }
}

fn short(len: usize, needed: usize, what: &'static str) -> DecodeError {
    DecodeError::TooShort { len, needed, what }
}

fn application(
    m: &Meter<'_>,
    after_ci: &[u8],
    key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    if m.ci == CI_SHORT {
        real_data(m, after_ci, key, trace)
    } else {
        prios(m, after_ci, key, trace)
    }
}

fn closed(key: Option<&AesKey>, address: Address) -> Decoded {
    Decoded {
        security: Some(Security {
            mode: SecurityMode::DiehlLfsr,
            status: if key.is_some() {
                SecurityStatus::WrongKey
            } else {
                SecurityStatus::NoKey
            },
        }),
        address: Some(address),
        ..Decoded::default()
    }
}

/// Remaining battery life sent in half years, as seconds (a year of 365.25 days).
const HALF_YEAR_S: f64 = 0.5 * 365.25 * 86_400.0;

/// A type G date (day, month, year 0-127 from 2000, years above 80 before 2000), if valid.
fn date_g(lo: u8, hi: u8) -> Option<String> {
    let day = lo & 0x1F;
    let month = hi & 0x0F;
    let yy = u16::from((hi & 0xF0) >> 1) | u16::from(lo >> 5);
    let year = if yy > 80 { 1900 + yy } else { 2000 + yy };
    ((1..=12).contains(&month) && (1..=31).contains(&day))
        .then(|| format!("{year:04}-{month:02}-{day:02}"))
}

/// Sappel's label: supplier letter, 2-digit year, meter type and diameter letters, 6-digit
/// serial, from the 5-byte serial spread over the id, version and device type bytes.
fn sappel_label(a: [u8; 6]) -> String {
    let [a0, a1, a2, a3, a4, a5] = a;
    let number =
        (u32::from(a3 & 0x03) << 24) | (u32::from(a2) << 16) | (u32::from(a1) << 8) | u32::from(a0);
    let letter = |v: u8| char::from(b'@' + (v & 0x1F));
    let supplier = letter(((a5 & 0x0F) << 1) | (a4 >> 7));
    let kind = letter((a4 & 0x7C) >> 2);
    let diameter = letter(((a4 & 0x03) << 3) | (a3 >> 5));
    format!(
        "{supplier}{:02}{kind}{diameter}{:06}",
        number / 1_000_000,
        number % 1_000_000
    )
}

fn prios(
    m: &Meter<'_>,
    after_ci: &[u8],
    key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    let (mm, a) = sent(m);
    let sap = u16::from_le_bytes(mm) == SAP;
    let address = if sap {
        let [i0, i1, i2, i3, _, _] = a;
        Address::from_link_bytes(mm, [i0, i1, i2, i3], 0, 0x07)?
    } else {
        swapped((mm, a))?
    };
    let Some(&[h0, h1, h2, _]) = after_ci.get(..4) else {
        return Err(short(after_ci.len() + 1, 5, "IZAR (PRIOS) header"));
    };
    let body = after_ci.get(4..).unwrap_or(&[]);
    if body.len() < 5 {
        return Err(short(
            after_ci.len() + 1,
            10,
            "IZAR (PRIOS) check byte and total volume",
        ));
    }
    let found = candidates(key).into_iter().find_map(|(k, name)| {
        let d = descramble(k, (mm, a), m.ci, [h0, h1, h2], body);
        (d.first() == Some(&PRIOS_CHECK)).then_some((d, name))
    });
    let Some((d, which)) = found else {
        trace.note("vendor", Some(m.ci), || {
            "IZAR (PRIOS): no key gives the check byte 4B: stopped".into()
        });
        return Ok(closed(key, address));
    };
    let u32_at = |i: usize| -> Option<u32> {
        let b = d.get(i..i + 4)?;
        Some(u32::from_le_bytes([
            *b.first()?,
            *b.get(1)?,
            *b.get(2)?,
            *b.get(3)?,
        ]))
    };
    let litres = |v: u32| Value::Number(f64::from(v) / 1000.0);
    let mut recs = Vec::with_capacity(5);
    if let Some(total) = u32_at(1) {
        recs.push(record(Quantity::Volume, litres(total), Unit::M3, 0));
    }
    if let Some(last) = u32_at(5) {
        recs.push(record(Quantity::Volume, litres(last), Unit::M3, 1));
    }
    if let (Some(&lo), Some(&hi)) = (d.get(9), d.get(10)) {
        if let Some(date) = date_g(lo, hi) {
            recs.push(record(Quantity::Date, Value::Text(date), Unit::None, 1));
        }
    }
    let half_years = h1 & 0x1F;
    recs.push(record(
        Quantity::RemainingBatteryLife,
        Value::Number(f64::from(half_years) * HALF_YEAR_S),
        Unit::S,
        0,
    ));
    if sap {
        recs.push(record(
            Quantity::FabricationNumber,
            Value::Text(sappel_label(a)),
            Unit::None,
            0,
        ));
    }
    let mut codes = Vec::new();
    for (on, c) in [
        (h1 & 0x80 != 0, InfoCode::Leak),
        (h2 & 0x80 != 0, InfoCode::Reverse),
        (h2 & 0x20 != 0, InfoCode::Burst),
        (h2 & 0x0A != 0, InfoCode::Tamper),
        (half_years < 2, InfoCode::LowBattery),
    ] {
        if on && !codes.contains(&c) {
            codes.push(c);
        }
    }
    codes.sort();
    trace.note("vendor", Some(m.ci), || {
        format!(
            "IZAR (PRIOS{}): unscrambled {} bytes with {which}; send period {} s, battery {} years, alarm bits {:02X} {:02X} {:02X}{}",
            if sap { ", Sappel address" } else { ", address sent as version, device type, id" },
            d.len(),
            1u32 << ((h0 & 0x0F) + 2),
            f64::from(half_years) / 2.0,
            h0 & 0x80,
            h1 & 0xE0,
            h2,
            if d.len() > 11 { format!("; {} more bytes not read", d.len() - 11) } else { String::new() }
        )
    });
    Ok(Decoded {
        records: recs,
        info_codes: codes,
        status: 0,
        access_number: 0,
        security: Some(Security {
            mode: SecurityMode::DiehlLfsr,
            status: SecurityStatus::Ok,
        }),
        address: Some(address),
    })
}

/// The payload's byte sum in the configuration's bits.
fn sum_ok(p: &[u8], check: u8) -> bool {
    let s = p.iter().fold(0u8, |acc, b| acc.wrapping_add(*b));
    s & SUM_MASK == check & SUM_MASK
}

/// Records of a payload that reads whole (no broken record) and holds at least one.
fn whole_records(p: &[u8]) -> Option<Vec<Record>> {
    match records::parse_values(p) {
        (recs, None) if !recs.is_empty() => Some(recs),
        _ => None,
    }
}

fn real_data(
    m: &Meter<'_>,
    after_ci: &[u8],
    key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    let addr = sent(m);
    let address = swapped(addr)?;
    let Some(&[acc, st, c0, c1]) = after_ci.get(..4) else {
        return Err(short(after_ci.len() + 1, 5, "transport-layer header"));
    };
    let body = after_ci.get(4..).unwrap_or(&[]);
    let mode = c1 & 0x1F;
    let found = candidates(key).into_iter().find_map(|(k, name)| {
        let d = descramble(k, addr, m.ci, [acc, st, c0], body);
        if !sum_ok(&d, c1) {
            return None;
        }
        whole_records(&d).map(|r| (r, name))
    });
    let base = Decoded {
        status: st,
        access_number: acc,
        address: Some(address),
        ..Decoded::default()
    };
    let security = |status| {
        Some(Security {
            mode: SecurityMode::DiehlLfsr,
            status,
        })
    };
    if let Some((recs, which)) = found {
        trace.note("tpl-security", Some(m.ci), || {
            format!("Diehl real data (configuration {c1:02X}{c0:02X}, \"mode {mode}\"): LFSR-scrambled, unscrambled with {which}, payload sum checked")
        });
        return Ok(Decoded {
            records: recs,
            security: security(SecurityStatus::Ok),
            ..base
        });
    }
    if sum_ok(body, c1) {
        if let Some(recs) = whole_records(body) {
            trace.note("tpl-security", Some(m.ci), || {
                format!("Diehl real data (configuration {c1:02X}{c0:02X}): the payload as sent passes the sum and reads as records: already plaintext")
            });
            return Ok(Decoded {
                records: recs,
                security: security(SecurityStatus::Plaintext),
                ..base
            });
        }
    }
    trace.note("tpl-security", Some(m.ci), || {
        format!("Diehl real data (configuration {c1:02X}{c0:02X}): no key gives a payload with the announced sum: stopped")
    });
    let status = if key.is_some() {
        SecurityStatus::WrongKey
    } else {
        SecurityStatus::NoKey
    };
    Ok(Decoded {
        security: security(status),
        ..base
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    use crate::address::manufacturer_code;
    use crate::decode::decode;
    use crate::encode::{date_g as enc_date, record as enc_record};
    use crate::telegram::Telegram;

    const MY_KEY: [u8; 8] = [1, 2, 3, 4, 5, 6, 7, 8];

    /// A wireless frame (no CRCs) with `head` after the CI and `plain` scrambled with `key8`.
    fn frame(
        maker: &str,
        a: [u8; 6],
        ci: u8,
        head: [u8; 4],
        plain: &[u8],
        key8: &[u8; 8],
    ) -> Vec<u8> {
        let m = manufacturer_code(maker).unwrap_or(0).to_le_bytes();
        let [h0, h1, h2, _] = head;
        let body = descramble(key32(key8), (m, a), ci, [h0, h1, h2], plain);
        let mut f = vec![0, 0x44, m[0], m[1]];
        f.extend_from_slice(&a);
        f.push(ci);
        f.extend_from_slice(&head);
        f.extend_from_slice(&body);
        f[0] = (f.len() - 1) as u8;
        f
    }

    fn izar_plain(total_l: u32, last_l: Option<(u32, [u8; 2])>) -> Vec<u8> {
        let mut p = vec![PRIOS_CHECK];
        p.extend_from_slice(&total_l.to_le_bytes());
        if let Some((l, d)) = last_l {
            p.extend_from_slice(&l.to_le_bytes());
            p.extend_from_slice(&d);
        }
        p
    }

    fn vol(t: &Telegram, storage: u32) -> Option<f64> {
        t.records
            .iter()
            .find(|r| r.quantity == Quantity::Volume && r.storage == storage)
            .and_then(|r| r.value.as_f64())
    }

    fn date(t: &Telegram) -> Option<&str> {
        t.records
            .iter()
            .find(|r| r.quantity == Quantity::Date)
            .and_then(|r| match &r.value {
                Value::Text(s) => Some(s.as_str()),
                Value::Number(_) => None,
            })
    }

    fn ok(t: &Telegram) -> bool {
        t.security
            == Security {
                mode: SecurityMode::DiehlLfsr,
                status: SecurityStatus::Ok,
            }
    }

    #[test]
    fn izar_with_billing_default_key_swapped_address() {
        // HYD: version 85, device type 07, then id 18001698.
        let a = [0x85, 0x07, 0x98, 0x16, 0x00, 0x18];
        let plain = izar_plain(835_689, Some((820_329, enc_date(2021, 9, 1))));
        let f = frame(
            "HYD",
            a,
            0xA2,
            [0x41, 0x01, 0x00, 0x13],
            &plain,
            &DEFAULT_KEYS[0],
        );
        let t = decode(&f, None).expect("decodes");
        assert!(ok(&t), "{t:?}");
        assert_eq!(
            (t.address.id.as_str(), t.address.version),
            ("18001698", 0x85)
        );
        assert_eq!(vol(&t, 0), Some(835.689));
        assert_eq!(vol(&t, 1), Some(820.329));
        assert_eq!(date(&t), Some("2021-09-01"));
        // Battery 1 half year: under a year.
        assert_eq!(t.info_codes, vec![InfoCode::LowBattery]);
        assert_eq!(crate::decode::peek_address(&f).ok(), Some(t.address));
    }

    #[test]
    fn izar_short_variant_alarms_and_sappel_label() {
        // SAP, total only; leak now, back flow, overflow, mechanical fraud now; 7.5 years.
        let a = [0xF3, 0x62, 0x89, 0x20, 0xBC, 0x01];
        let f = frame(
            "SAP",
            a,
            0xA0,
            [0x71, 0x8F, 0xA2, 0x13],
            &izar_plain(1_248_146, None),
            &DEFAULT_KEYS[1],
        );
        let t = decode(&f, None).expect("decodes");
        assert!(ok(&t), "{t:?}");
        assert_eq!(t.address.id, "208962F3");
        assert_eq!(t.address.device_type, crate::DeviceType::Water);
        assert_eq!(vol(&t, 0), Some(1248.146));
        assert_eq!(vol(&t, 1), None);
        assert_eq!(
            t.info_codes,
            vec![
                InfoCode::Reverse,
                InfoCode::Leak,
                InfoCode::Burst,
                InfoCode::Tamper
            ]
        );
        let label = t
            .records
            .iter()
            .find(|r| r.quantity == Quantity::FabricationNumber);
        assert_eq!(
            label.map(|r| &r.value),
            Some(&Value::Text("C09OA003763".into()))
        );
    }

    #[test]
    fn izar_longer_telegram_and_own_key() {
        let a = [0x23, 0x66, 0x78, 0x07, 0x29, 0x66];
        let mut plain = izar_plain(16_760, Some((11_840, enc_date(2019, 11, 30))));
        plain.extend_from_slice(&[9; 16]);
        let f = frame("DME", a, 0xA1, [0x01, 0x18, 0x00, 0x13], &plain, &MY_KEY);
        // The 8-byte key goes in the first 8 bytes of the 16-byte key.
        let mut k = [0u8; 16];
        k[..8].copy_from_slice(&MY_KEY);
        let t = decode(&f, Some(&AesKey::from_bytes(k))).expect("decodes");
        assert!(ok(&t), "{t:?}");
        assert_eq!(
            (vol(&t, 0), vol(&t, 1), date(&t)),
            (Some(16.76), Some(11.84), Some("2019-11-30"))
        );
        assert!(t.info_codes.is_empty());
        // Without it: no key; with another: wrong key; no records either way.
        let t = decode(&f, None).expect("decodes");
        assert_eq!(t.security.status, SecurityStatus::NoKey);
        assert!(t.records.is_empty());
        let t = decode(&f, Some(&AesKey::from_bytes([7; 16]))).expect("decodes");
        assert_eq!(t.security.status, SecurityStatus::WrongKey);
        assert!(t.records.is_empty());
        assert_eq!(t.address.id, "66290778");
    }

    #[test]
    fn izar_too_short_and_other_cis() {
        let a = [0x85, 0x07, 0x98, 0x16, 0x00, 0x18];
        let f = frame(
            "HYD",
            a,
            0xA2,
            [0x41, 0x01, 0x00, 0x13],
            &[PRIOS_CHECK, 1, 2],
            &DEFAULT_KEYS[0],
        );
        assert!(matches!(
            decode(&f, None),
            Err(DecodeError::TooShort { .. })
        ));
        // B1-B3 (PRIOS SCR) and non-Diehl makers are not this family's.
        let f = frame(
            "HYD",
            a,
            0xB1,
            [0x41, 0x01, 0x00, 0x13],
            &izar_plain(1, None),
            &DEFAULT_KEYS[0],
        );
        assert!(matches!(
            decode(&f, None),
            Err(DecodeError::UnsupportedCi { ci: 0xB1 })
        ));
        let f = frame(
            "KAM",
            a,
            0xA2,
            [0x41, 0x01, 0x00, 0x13],
            &izar_plain(1, None),
            &DEFAULT_KEYS[0],
        );
        assert!(matches!(
            decode(&f, None),
            Err(DecodeError::UnsupportedCi { ci: 0xA2 })
        ));
    }

    fn real_payload() -> Vec<u8> {
        [
            enc_record(&[0x04], &[0x13], &71_442u32.to_le_bytes()),
            enc_record(&[0x42], &[0x6C], &enc_date(2021, 3, 31)),
            enc_record(&[0x44], &[0x13], &69_700u32.to_le_bytes()),
        ]
        .concat()
    }

    /// Configuration high byte: the flag and the payload sum.
    fn cfg_hi(p: &[u8]) -> u8 {
        (p.iter().fold(0u8, |a, b| a.wrapping_add(*b)) & SUM_MASK) | REAL_DATA_FLAG
    }

    #[test]
    fn real_data_scrambled_plaintext_and_keys() {
        let a = [0x8B, 0x07, 0x79, 0x73, 0x89, 0x60];
        let p = real_payload();
        let head = [0x8F, 0x04, 0x10, cfg_hi(&p)];
        for (key8, given) in [
            (DEFAULT_KEYS[1], None),
            (MY_KEY, Some([MY_KEY, MY_KEY].concat())),
        ] {
            let f = frame("HYD", a, CI_SHORT, head, &p, &key8);
            let key = given.map(|g| {
                let mut k = [0u8; 16];
                k.copy_from_slice(&g);
                AesKey::from_bytes(k)
            });
            let t = decode(&f, key.as_ref()).expect("decodes");
            assert!(ok(&t), "{t:?}");
            assert_eq!(
                (t.address.id.as_str(), t.access_number, t.status),
                ("60897379", 0x8F, 0x04)
            );
            assert_eq!(
                (vol(&t, 0), vol(&t, 1), date(&t)),
                (Some(71.442), Some(69.7), Some("2021-03-31"))
            );
            assert_eq!(t.info_codes, vec![InfoCode::LowBattery]);
        }
        // Already unscrambled by the receiver: the sum still checks.
        let mut f = frame("HYD", a, CI_SHORT, head, &p, &MY_KEY);
        let n = f.len() - p.len();
        f.truncate(n);
        f.extend_from_slice(&p);
        let t = decode(&f, None).expect("decodes");
        assert_eq!(t.security.status, SecurityStatus::Plaintext);
        assert_eq!(vol(&t, 0), Some(71.442));
        // Scrambled with a key we do not have.
        let f = frame("HYD", a, CI_SHORT, head, &p, &MY_KEY);
        let t = decode(&f, None).expect("decodes");
        assert_eq!(
            (t.security.status, t.records.len()),
            (SecurityStatus::NoKey, 0)
        );
        // An ordinary OMS telegram of the same maker (mode 0) is not claimed.
        let mut plain = vec![
            0, 0x44, 0x24, 0x23, 0x79, 0x73, 0x89, 0x60, 0x8B, 0x07, 0x7A, 1, 0, 0, 0,
        ];
        plain.extend_from_slice(&p);
        plain[0] = (plain.len() - 1) as u8;
        let t = decode(&plain, None).expect("decodes");
        assert_eq!(
            (t.security.mode, t.address.id.as_str()),
            (SecurityMode::None, "60897379")
        );
    }

    /// The table-driven keystream is the register clocked bit by bit.
    #[test]
    fn keystream_tables_match_the_clocked_register() {
        let mut x: u32 = 0x9E37_79B9;
        for _ in 0..2000 {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            let mut s = x;
            let mut clocked = Vec::new();
            for _ in 0..13 {
                for _ in 0..8 {
                    let bit = ((s >> 1) ^ (s >> 2) ^ (s >> 11) ^ (s >> 31)) & 1;
                    s = (s << 1) | bit;
                }
                clocked.push(s as u8);
            }
            let addr = ([0, 0], [0; 6]);
            for n in [0, 1, 3, 4, 5, 12, 13] {
                assert_eq!(
                    descramble(x, addr, 0, [0; 3], &[0; 13][..n]),
                    clocked[..n],
                    "state {x:08X}, {n} bytes"
                );
            }
        }
    }

    #[test]
    fn key32_xors_halves() {
        assert_eq!(
            key32(&[0x39, 0xBC, 0x8A, 0x10, 0xE6, 0x6D, 0x83, 0xF8]),
            0x39BC_8A10 ^ 0xE66D_83F8
        );
    }

    #[test]
    fn descramble_is_an_involution() {
        let addr = ([0x30, 0x4C], [1, 2, 3, 4, 5, 6]);
        let data = [0x4B, 1, 2, 3, 4, 5, 6, 7, 8];
        let s = descramble(0x1234_5678, addr, 0xA2, [9, 8, 7], &data);
        assert_ne!(s, data);
        assert_eq!(descramble(0x1234_5678, addr, 0xA2, [9, 8, 7], &s), data);
    }

    #[test]
    fn dates_and_labels() {
        assert_eq!(date_g(0x7E, 0x29).as_deref(), Some("2019-09-30"));
        assert_eq!(date_g(0x00, 0x00), None);
        assert_eq!(date_g(0x21, 0xB1).as_deref(), Some("1989-01-01"));
        assert_eq!(
            sappel_label([0x72, 0x24, 0x24, 0x21, 0xD4, 0x01]),
            "C19UA145842"
        );
    }
}
