//! Apator APT-WMBUS-NA-1 universal induction module (manufacturer APA, version 14, device
//! type 07): Apator's own application layer after CI A0 or A1, with its own encryption.
//!
//! Layout (learned from the public wmbusmeters driver `apatorna1`, the telegrams and the
//! analysis in wmbusmeters issue 1215, and the module's operating manual for the status
//! flags): CI A0 and A1 carry the same layout; after the CI field come the access number, a frame status byte (sent in clear),
//! and 16 bytes encrypted with AES-128-CBC under the meter key, with the OMS mode 5 IV
//! (link-layer manufacturer and address as sent, then the access number 8 times). The
//! decrypted block:
//! - byte 0: `2F` (the check that the key is right);
//! - bytes 1-4: packed volume, least significant byte first: bits 0-3 and 8-31 form the
//!   count (bits 8-31 above bits 0-3), bits 4-5 its decimal exponent, in litres;
//! - bytes 5-8: the module's date and time, seconds since 2000-01-01 00:00 local time;
//! - bytes 9-10: age of the last historical (billing) reading in hours: byte 9 plus the
//!   upper six bits of byte 10 times 256;
//! - bytes 10-13: how much less the historical reading was, in the same unit as the count:
//!   bits 0-1 of byte 10, then bytes 11, 12, 13 above them;
//! - byte 14: current alarm flags; byte 15: alarm flags at the historical reading.
//!
//! Frame status (clear byte): 01 summer time, 02 historical indication, 04 maximum speed
//! exceeded, 08 device access error, 10 two-way communication blocked, 20 installation
//! frame, 40 wrong temperature, 80 service event. Alarm flags: 01 battery low, 02 magnetic
//! field, 04 module disconnected from the meter, 08 leak, 10 measurement unchanged,
//! 20 reverse flow, 40 maximum flow, 80 minimum flow. Info codes from the current flags:
//! LowBattery, Tamper (magnetic field, disconnection), Leak, Reverse, Burst (maximum flow).
//! The check is a single byte: a wrong key passes it once in 256 telegrams.

use super::apator_util::{from_seconds_since_2000, iso_date, maker, number, text, APA};
use super::{Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::info::InfoCode;
use crate::key::AesKey;
use crate::record::{Quantity, Unit};
use crate::security;
use crate::telegram::{Security, SecurityMode, SecurityStatus};
use crate::trace::Trace;

pub(crate) const FAMILY: Family = Family {
    name: "apator_na1",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

/// Bytes after the CI field: access number, frame status, one encrypted block.
const LEN: usize = 18;
/// The first decrypted byte.
const CHECK: u8 = 0x2F;

fn detect(m: &Meter<'_>) -> bool {
    let [.., version, device] = m.raw.1;
    matches!(m.ci, 0xA0 | 0xA1) && version == 0x14 && device == 0x07 && maker(m.raw.0) == APA
}

/// Count and decimal exponent of the packed volume.
fn unpack_volume(raw: u32) -> (u64, i32) {
    let count = (u64::from(raw >> 8) << 4) | u64::from(raw & 0x0F);
    (count, ((raw >> 4) & 0x03) as i32)
}

/// Info codes of the alarm flag byte.
fn alarms(flags: u8) -> Vec<InfoCode> {
    let mut v = Vec::new();
    if flags & 0x01 != 0 {
        v.push(InfoCode::LowBattery);
    }
    if flags & 0x06 != 0 {
        v.push(InfoCode::Tamper);
    }
    if flags & 0x08 != 0 {
        v.push(InfoCode::Leak);
    }
    if flags & 0x20 != 0 {
        v.push(InfoCode::Reverse);
    }
    if flags & 0x40 != 0 {
        v.push(InfoCode::Burst);
    }
    v.sort();
    v
}

fn application(
    m: &Meter<'_>,
    after_ci: &[u8],
    key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    let Some(&[access, frame_status, ref enc @ ..]) = after_ci.get(..LEN) else {
        return Err(DecodeError::TooShort {
            len: after_ci.len() + 1,
            needed: LEN + 1,
            what: "Apator NA-1 application layer",
        });
    };
    let closed = |status: SecurityStatus| Decoded {
        access_number: access,
        security: Some(Security { mode: SecurityMode::Mode5, status }),
        ..Decoded::default()
    };
    let Some(key) = key else {
        trace.note("vendor", Some(m.ci), || "Apator NA-1: AES-128-CBC encrypted and no key given: stopped".into());
        return Ok(closed(SecurityStatus::NoKey));
    };
    let (mf, a) = m.raw;
    let plain = security::cbc_decrypt(key, &security::mode5_iv(mf, a, access), enc);
    let Some(&[CHECK, t0, t1, t2, t3, s0, s1, s2, s3, age_lo, meta, d0, d1, d2, now_flags, hist_flags]) =
        plain.get(..16)
    else {
        trace.note("vendor", Some(m.ci), || "Apator NA-1: the decrypted block does not start with 2F: wrong key, stopped".into());
        return Ok(closed(SecurityStatus::WrongKey));
    };
    let (count, exp) = unpack_volume(u32::from_le_bytes([t0, t1, t2, t3]));
    let litres_per_step = 10f64.powi(exp);
    let total_m3 = count as f64 * litres_per_step / 1000.0;
    let secs = u32::from_le_bytes([s0, s1, s2, s3]);
    let (date, (h, mi, s)) = from_seconds_since_2000(i64::from(secs));
    let age_h = (u32::from(meta >> 2) << 8) | u32::from(age_lo);
    let delta = (u64::from(d2) << 18) | (u64::from(d1) << 10) | (u64::from(d0) << 2) | u64::from(meta & 0x03);
    let historic = count.checked_sub(delta).map(|c| c as f64 * litres_per_step / 1000.0);
    let (hist_date, _) = from_seconds_since_2000(i64::from(secs) - i64::from(age_h) * 3600);

    let mut out = Decoded {
        access_number: access,
        security: Some(Security { mode: SecurityMode::Mode5, status: SecurityStatus::Ok }),
        info_codes: alarms(now_flags),
        ..Decoded::default()
    };
    out.records.push(number(Quantity::Volume, total_m3, Unit::M3, 0));
    out.records.push(text(
        Quantity::DateTime,
        format!("{}T{h:02}:{mi:02}:{s:02}", iso_date(date)),
        0,
    ));
    if let Some(v) = historic {
        out.records.push(number(Quantity::Volume, v, Unit::M3, 1));
        out.records.push(text(Quantity::Date, iso_date(hist_date), 1));
    }
    trace.note("vendor", Some(m.ci), || {
        format!(
            "Apator NA-1: AES-128-CBC (mode 5 IV) with the meter key, check byte 2F found; total {total_m3} m3, \
             meter time {}T{h:02}:{mi:02}:{s:02}, historical reading {} m3 {age_h} hours earlier; frame status {frame_status:02X}, \
             alarm flags {now_flags:02X} (at the historical reading {hist_flags:02X})",
            iso_date(date),
            historic.map_or("unreadable".into(), |v| v.to_string()),
        )
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Value;

    fn frame(key: &AesKey, block: [u8; 16], access: u8) -> Vec<u8> {
        let m = [0x01, 0x06];
        let a = [0x81, 0x35, 0x91, 0x04, 0x14, 0x07];
        let enc = security::cbc_encrypt(key, &security::mode5_iv(m, a, access), &block);
        let mut f = vec![0x1C, 0x44, m[0], m[1]];
        f.extend_from_slice(&a);
        f.extend_from_slice(&[0xA1, access, 0x01]);
        f.extend_from_slice(&enc);
        f
    }

    fn block() -> [u8; 16] {
        // 12345 steps of 10 litres (exponent 1): count 0x3039 -> bits 8-31 0x303, bits 0-3 9.
        let total = (0x303u32 << 8) | (1 << 4) | 9;
        let mut b = [0u8; 16];
        b[0] = CHECK;
        b[1..5].copy_from_slice(&total.to_le_bytes());
        b[5..9].copy_from_slice(&0x2D91_B02Cu32.to_le_bytes()); // 2024-03-23 15:22:20
        b[9] = 0x21; // age 2 * 256 + 33 = 545 hours
        b[10] = (2 << 2) | 1;
        b[11] = 0x10; // delta (0x10 << 2) | 1 = 65 steps
        b[14] = 0x29; // battery low, leak, reverse
        b
    }

    #[test]
    fn decrypts_and_reads_the_block() {
        let key = AesKey::from_bytes([7; 16]);
        let f = frame(&key, block(), 0x42);
        let t = crate::decode(&f, Some(&key)).expect("decodes");
        assert_eq!(t.security.status, SecurityStatus::Ok);
        assert_eq!(t.access_number, 0x42);
        let get = |q: Quantity, s: u32| {
            t.records.iter().find(|r| r.quantity == q && r.storage == s).map(|r| r.value.clone())
        };
        assert_eq!(get(Quantity::Volume, 0), Some(Value::Number(123.45)));
        assert_eq!(get(Quantity::Volume, 1), Some(Value::Number(122.8)));
        assert_eq!(get(Quantity::DateTime, 0), Some(Value::Text("2024-03-23T15:22:20".into())));
        assert_eq!(get(Quantity::Date, 1), Some(Value::Text("2024-02-29".into())));
        assert_eq!(t.info_codes, vec![InfoCode::Reverse, InfoCode::Leak, InfoCode::LowBattery]);
    }

    #[test]
    fn no_key_and_wrong_key() {
        let key = AesKey::from_bytes([7; 16]);
        let f = frame(&key, block(), 3);
        let t = crate::decode(&f, None).expect("decodes");
        assert_eq!(t.security.status, SecurityStatus::NoKey);
        assert!(t.records.is_empty());
        let t = crate::decode(&f, Some(&AesKey::from_bytes([8; 16]))).expect("decodes");
        assert_eq!(t.security.status, SecurityStatus::WrongKey);
        assert!(t.records.is_empty());
        let mut cut = f[..20].to_vec();
        cut[0] = 19;
        assert!(matches!(crate::decode(&cut, Some(&key)), Err(DecodeError::TooShort { .. })));
    }
}
