//! Engelmann FAW water meter (manufacturer EFE, device type 07; other EFE water device types
//! are read the same way when their compact layout is the FAW's): compact frames with a long
//! transport header (CI 73).
//!
//! CI 73 is EN 13757-7's "application layer with compact frame, long transport layer" (CI 7B:
//! the same with a short header): the transport header as for CI 72 / 7A, the payload (after
//! OMS mode 5 decryption and its 2F 2F check bytes) is a compact frame: format signature (2
//! bytes, CRC-16/EN 13757 of the layout's DIF/VIF bytes), data CRC (2 bytes, CRC-16/EN 13757
//! of the records as the full frame would send them, DIF/VIF bytes included: checked), then the
//! records' data without their DIF/VIF bytes. The layout the FAW uses
//! is the one wmbusmeters' engelmann_faw driver lists for its compact frames: date at the
//! billing date (storage 1), volume at it, error flags (01 FD 17), 15 monthly volumes (storage
//! 2-16), the meter's date and time and the current volume. A full frame (CI 72) of the meter
//! decodes through the standard path and carries the same records.
//!
//! Error flags (record 01 FD 17, bits as documented in the same driver): 0x01 volume detection
//! coils defect and 0x04 CRC (memory) error -> PermanentError; 0x08 removal and 0x10 magnetic
//! manipulation -> Tamper; 0x20 leakage -> Leak; 0x80 reverse flow -> Reverse. 0x02 (reset) and
//! 0x40 (blocked) have no info code.

use super::{Decoded, Family, Meter};
use crate::compact;
use crate::crc::crc16_en13757;
use crate::error::DecodeError;
use crate::info::InfoCode;
use crate::key::AesKey;
use crate::records;
use crate::security::VERIFY;
use crate::tpl;
use crate::tplsec;
use crate::trace::Trace;

/// Compact frame with a long transport header.
const CI_COMPACT_LONG: u8 = 0x73;
/// Compact frame with a short transport header.
const CI_COMPACT_SHORT: u8 = 0x7B;

/// The FAW's compact-frame layout (DIF/VIF bytes of its records, in order).
const LAYOUTS: [&str; 1] = [
    "426C441301FD17840113C40113840213C40213840313C40313840413C40413840513C40513840613C40613840713C40713840813046D0413",
];

pub(crate) const FAMILY: Family = Family {
    name: "engelmann_faw",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

/// Engelmann water meters (water 07, warm water 06, hot water 15, cold water 16) sending
/// compact frames; a layout other than the FAW's is refused with `UnknownFormat`.
fn detect(m: &Meter<'_>) -> bool {
    matches!(m.ci, CI_COMPACT_LONG | CI_COMPACT_SHORT)
        && matches!(m.raw.1[5], 0x06 | 0x07 | 0x15 | 0x16)
        && m.address.manufacturer == "EFE"
}

/// Two hex digits' value (the layouts above are checked when compiling).
const fn nibble(c: u8) -> u8 {
    match c {
        b'0'..=b'9' => c - b'0',
        b'A'..=b'F' => c - b'A' + 10,
        _ => panic!("not an upper-case hex digit"),
    }
}

/// A layout's bytes from its hex text, at compile time (no decoding per telegram).
const fn unhex<const N: usize>(h: &str) -> [u8; N] {
    let b = h.as_bytes();
    assert!(b.len() == 2 * N, "layout length");
    let mut out = [0u8; N];
    let mut i = 0;
    while i < N {
        out[i] = (nibble(b[2 * i]) << 4) | nibble(b[2 * i + 1]);
        i += 1;
    }
    out
}

const LAYOUT_0: [u8; LAYOUTS[0].len() / 2] = unhex(LAYOUTS[0]);

/// The built-in layout with this signature.
fn layout(sig: u16) -> Option<&'static [u8]> {
    [&LAYOUT_0[..]].into_iter().find(|l| compact::signature(l) == sig)
}

/// Info codes of the error flags byte.
fn error_flags(bits: u8) -> Vec<InfoCode> {
    let mut codes = Vec::new();
    if bits & (0x01 | 0x04) != 0 {
        codes.push(InfoCode::PermanentError);
    }
    if bits & (0x08 | 0x10) != 0 {
        codes.push(InfoCode::Tamper);
    }
    if bits & 0x20 != 0 {
        codes.push(InfoCode::Leak);
    }
    if bits & 0x80 != 0 {
        codes.push(InfoCode::Reverse);
    }
    codes
}

fn application(
    m: &Meter<'_>,
    after_ci: &[u8],
    key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    let header_ci = if m.ci == CI_COMPACT_LONG { tpl::CI_LONG } else { tpl::CI_SHORT };
    let (t, body) = tpl::parse(header_ci, after_ci)?;
    let addr = t.long_address.unwrap_or(m.raw);
    let mode = t.security_mode();
    trace.note("tpl", Some(m.ci), || {
        format!(
            "compact frame with a {} transport header: access number {}, status {:02X}, configuration {:04X} (security mode {mode})",
            if m.ci == CI_COMPACT_LONG { "long" } else { "short" },
            t.access_number,
            t.status,
            t.config
        )
    });
    if mode == 7 {
        // Mode 7 needs the AFL, which this family is not handed.
        return Err(DecodeError::UnsupportedSecurity { mode });
    }
    let input = tplsec::Input {
        key,
        tpl: &t,
        body,
        tpl_bytes: after_ci,
        afl: None,
        addr,
        link_addr: m.link,
        received: None,
    };
    let opened = tplsec::open(&input, mode)?;
    if mode != 0 {
        trace.note("tpl-security", Some(m.ci), || opened.how.to_string());
    }
    let address = match t.long_address {
        Some((lm, [i0, i1, i2, i3, ver, dev])) => {
            Some(crate::address::Address::from_link_bytes(lm, [i0, i1, i2, i3], ver, dev)?)
        }
        None => None,
    };
    let mut d = Decoded {
        address,
        status: t.status,
        access_number: t.access_number,
        security: (mode != 0).then_some(opened.security),
        ..Decoded::default()
    };
    let Some(payload) = opened.payload else {
        return Ok(d);
    };
    let p: &[u8] = if mode != 0 {
        payload.strip_prefix(&VERIFY[..]).unwrap_or(&payload)
    } else {
        &payload
    };
    let (sig, data) = compact::split(p)?;
    let crc = p.get(2..4).map(|c| u16::from_le_bytes([c[0], c[1]]));
    let format = layout(sig).ok_or(DecodeError::UnknownFormat { signature: sig }).inspect_err(|_| {
        trace.note("compact", Some(m.ci), || format!("format signature {sig:04X} is not the FAW's layout: stopped"))
    })?;
    // The data CRC covers the records as a full frame sends them (DIF/VIF bytes and data, as
    // the vector shows), not the 2F fill after them.
    let (expanded, records_len) = compact::expand_parts(format, data)?;
    let data_ok = expanded.get(..records_len).map(crc16_en13757) == crc;
    trace.note("compact", Some(m.ci), || {
        format!(
            "format signature {sig:04X}, built-in Engelmann FAW layout; data CRC {}",
            if data_ok { "checked" } else { "does not match" }
        )
    });
    if !data_ok {
        return Err(DecodeError::BadRecord { offset: 2, reason: "compact frame data CRC does not match its data" });
    }
    // After the layout's records: 2F fill up to the encrypted block (any other bytes are
    // noted and left unread).
    let tail = expanded.get(records_len..).unwrap_or(&[]);
    if tail.iter().skip(1).any(|&b| b != 0x2F) {
        trace.note("compact", Some(m.ci), || format!("{} bytes after the layout's records not read", tail.len().saturating_sub(1)));
    }
    // The error flags byte (01 FD 17) of each such record, in order.
    let mut flags: Vec<u8> = Vec::new();
    let (parsed, err) = records::parse_values_seen(expanded.get(..records_len).unwrap_or(&[]), |dif, vib, data| {
        if let (0x01, [0xFD, 0x17], [bits]) = (dif, vib, data) {
            flags.push(*bits);
        }
    });
    if let Some(e) = err {
        if parsed.is_empty() {
            return Err(e);
        }
        trace.note("records", None, || format!("reading stopped at a broken record, the {} before it are kept: {e}", parsed.len()));
    }
    for bits in flags {
        trace.note("vendor", Some(m.ci), || format!("error flags {bits:02X}"));
        d.info_codes.extend(error_flags(bits));
    }
    d.records = parsed;
    Ok(d)
}

#[cfg(test)]
mod tests {
    use crate::record::{Quantity, Value};
    use crate::security::{cbc_encrypt, mode5_iv};
    use crate::telegram::{SecurityMode, SecurityStatus};
    use crate::{decode, explain, AesKey, DecodeError, InfoCode};

    const KEY: [u8; 16] = [0x5C; 16];

    /// The data of the FAW layout: billing date 2025-12-31, volumes in litres, flags, the
    /// meter's date and time 2026-05-04 11:58, current volume.
    fn data(flags: u8, current_l: u32) -> Vec<u8> {
        let mut d = crate::encode::date_g(2025, 12, 31).to_vec();
        d.extend(228_854u32.to_le_bytes());
        d.push(flags);
        for month in 0..15u32 {
            d.extend((250_000 - month * 5_000).to_le_bytes());
        }
        d.extend(crate::encode::datetime_f(2026, 5, 4, 11, 58));
        d.extend(current_l.to_le_bytes());
        d
    }

    /// A CI 73 (or 7B) frame: link address EFE 22502855 v02 t07, long header 22862420 v00 t07.
    fn frame(ci: u8, flags: u8, key: Option<&AesKey>, sig_delta: u16, crc_delta: u16) -> Vec<u8> {
        let layout = hex::decode(super::LAYOUTS[0]).expect("hex");
        let d = data(flags, 253_409);
        let full = crate::compact::expand(&layout, &d).expect("expands");
        let sig = crate::compact::signature(&layout).wrapping_add(sig_delta);
        let crc = crate::crc::crc16_en13757(&full).wrapping_add(crc_delta);
        let mut payload = sig.to_le_bytes().to_vec();
        payload.extend(crc.to_le_bytes());
        payload.extend(&d);
        let m = [0xC5, 0x14];
        let long_a = [0x20, 0x24, 0x86, 0x22, 0x00, 0x07];
        let mut f = vec![0, 0x44, m[0], m[1], 0x55, 0x28, 0x50, 0x22, 0x02, 0x07, ci];
        if ci == 0x73 {
            f.extend_from_slice(&long_a[..4]);
            f.extend_from_slice(&m);
            f.extend_from_slice(&long_a[4..]);
        }
        let access = 0x70;
        f.extend([access, 0x00]);
        match key {
            None => {
                f.extend([0, 0]);
                f.extend(payload);
            }
            Some(k) => {
                let mut plain = vec![0x2F, 0x2F];
                plain.extend(payload);
                while plain.len() % 16 != 0 {
                    plain.push(0x2F);
                }
                let a = if ci == 0x73 { long_a } else { [0x55, 0x28, 0x50, 0x22, 0x02, 0x07] };
                let config = 0x0500u16 | ((plain.len() / 16) as u16) << 4;
                f.extend(config.to_le_bytes());
                f.extend(cbc_encrypt(k, &mode5_iv(m, a, access), &plain));
            }
        }
        f[0] = (f.len() - 1) as u8;
        f
    }

    fn value(t: &crate::Telegram, q: Quantity, storage: u32) -> Option<Value> {
        t.records.iter().find(|r| r.quantity == q && r.storage == storage).map(|r| r.value.clone())
    }

    #[test]
    fn built_in_layout_is_the_hex_text() {
        assert_eq!(super::LAYOUT_0.to_vec(), hex::decode(super::LAYOUTS[0]).expect("hex"));
    }

    #[test]
    fn plaintext_and_mode5_compact_frames() {
        let key = AesKey::from_bytes(KEY);
        for (ci, k) in [(0x73, None), (0x73, Some(&key)), (0x7B, Some(&key)), (0x7B, None)] {
            let t = decode(&frame(ci, 0, k, 0, 0), k).expect("decodes");
            assert_eq!(t.address.id, if ci == 0x73 { "22862420" } else { "22502855" });
            assert_eq!(t.security.status, SecurityStatus::Ok);
            assert_eq!(t.security.mode, if k.is_some() { SecurityMode::Mode5 } else { SecurityMode::None });
            assert_eq!(value(&t, Quantity::Volume, 0), Some(Value::Number(253.409)));
            assert_eq!(value(&t, Quantity::Volume, 1), Some(Value::Number(228.854)));
            assert_eq!(value(&t, Quantity::Volume, 16), Some(Value::Number(180.0)));
            assert_eq!(value(&t, Quantity::Date, 1), Some(Value::Text("2025-12-31".into())));
            assert_eq!(value(&t, Quantity::DateTime, 0), Some(Value::Text("2026-05-04T11:58".into())));
            assert!(t.info_codes.is_empty());
            assert_eq!(t.access_number, 0x70);
        }
    }

    #[test]
    fn error_flags_to_info_codes() {
        let t = decode(&frame(0x73, 0x01 | 0x10 | 0x20 | 0x80 | 0x02 | 0x40, None, 0, 0), None).expect("decodes");
        assert_eq!(
            t.info_codes,
            vec![InfoCode::Reverse, InfoCode::Leak, InfoCode::Tamper, InfoCode::PermanentError]
        );
        let t = decode(&frame(0x73, 0x04 | 0x08, None, 0, 0), None).expect("decodes");
        assert_eq!(t.info_codes, vec![InfoCode::Tamper, InfoCode::PermanentError]);
    }

    #[test]
    fn keys_layouts_and_checks() {
        let key = AesKey::from_bytes(KEY);
        let enc = frame(0x73, 0, Some(&key), 0, 0);
        let none = decode(&enc, None).expect("header decodes");
        assert_eq!((none.security.status, none.records.len()), (SecurityStatus::NoKey, 0));
        let wrong = decode(&enc, Some(&AesKey::from_bytes([1; 16]))).expect("header decodes");
        assert_eq!((wrong.security.status, wrong.records.len()), (SecurityStatus::WrongKey, 0));
        let unknown = decode(&frame(0x73, 0, None, 1, 0), None).map(|_| ());
        assert!(matches!(unknown, Err(DecodeError::UnknownFormat { .. })), "{unknown:?}");
        let bad_crc = decode(&frame(0x73, 0, Some(&key), 0, 1), Some(&key)).map(|_| ());
        assert!(matches!(bad_crc, Err(DecodeError::BadRecord { .. })), "{bad_crc:?}");
        let steps = explain(&enc, Some(&key), None).steps;
        assert!(steps.iter().any(|s| s.detail.contains("Engelmann FAW layout")), "{steps:?}");
        // Cut anywhere: an error or a telegram, never a panic.
        for n in 0..enc.len() {
            let mut cut = enc[..n].to_vec();
            if let Some(l) = cut.first_mut() {
                *l = n.saturating_sub(1) as u8;
            }
            let _ = decode(&cut, Some(&key));
        }
    }
}
