//! Apator's B6 wrapper: older Apator radio modules (link-layer manufacturer APT or APA) put a
//! header of their own between CI B6 and the application layer they carry.
//!
//! Layout (learned from the test telegrams of the public wmbusmeters drivers `apatoreitn`,
//! `apt_07_05` and `apator162`, the latter's comment on these "old style" telegrams): after
//! CI B6 comes a length byte n, then n header bytes, then the inner CI and its layer. Header
//! bytes 4-5 hold a manufacturer code (`01 06` = APA; E-ITN allocators send `01 86`, APA with
//! the top bit set); the other header bytes are not known. Inner layers read:
//! - CI A0 of an E-ITN heat-cost allocator (version 04, device type 08): see `apator_eitn`;
//! - CI 7A / 72: an OMS transport header, security mode 0 or 5, then a payload that starts
//!   `2F 2F`, a frame-type byte (`0F` or `0D`) and the Apator 162 register block (see
//!   `apator_162`) when the meter is an Apator 162 (version 05, device type 06 or 07); other
//!   payloads are read as standard records.
//!   The mode 5 IV takes its manufacturer from header bytes 4-5 and the rest of the
//!   address from the link layer: checked on a telegram whose plaintext is known from the
//!   same meter's CI 7A telegram (wmbusmeters' apator162 "NewAndOld" pair).

use super::apator_util::is_apator;
use super::{apator_162, apator_eitn, Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::key::AesKey;
use crate::records;
use crate::telegram::SecurityStatus;
use crate::tpl;
use crate::tplsec;
use crate::trace::Trace;

pub(crate) const FAMILY: Family = Family {
    name: "apator_b6",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

const CI_WRAPPER: u8 = 0xB6;

fn detect(m: &Meter<'_>) -> bool {
    m.ci == CI_WRAPPER && is_apator(m.raw.0)
}

fn application(
    m: &Meter<'_>,
    after_ci: &[u8],
    key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    let too_short = DecodeError::TooShort {
        len: after_ci.len() + 1,
        needed: 3,
        what: "Apator B6 wrapper header",
    };
    let (&n, rest) = after_ci.split_first().ok_or(too_short.clone())?;
    let header = rest.get(..usize::from(n)).ok_or(too_short.clone())?;
    let inner = rest.get(usize::from(n)..).unwrap_or(&[]);
    let (&inner_ci, after_inner) = inner.split_first().ok_or(DecodeError::TooShort {
        len: after_ci.len() + 1,
        needed: usize::from(n) + 3,
        what: "CI field inside the Apator B6 wrapper",
    })?;
    let header_m = match header.get(4..6) {
        Some(&[a, b]) => [a, b],
        _ => m.raw.0,
    };
    trace.note("vendor", Some(m.ci), || {
        format!(
            "Apator B6 wrapper: {n}-byte header {}, manufacturer bytes {:02X}{:02X}; inner CI {inner_ci:02X}",
            hex::encode_upper(header),
            header_m[0],
            header_m[1]
        )
    });
    match inner_ci {
        apator_eitn::CI_EITN if apator_eitn::is_eitn(&m.raw) => apator_eitn::read_body(after_inner, inner_ci, trace),
        tpl::CI_SHORT | tpl::CI_LONG => read_tpl(m, header_m, inner, key, trace),
        other => {
            trace.note("vendor", Some(other), || "inner layer of the Apator B6 wrapper not known: stopped".into());
            Err(DecodeError::UnsupportedCi { ci: other })
        }
    }
}

/// The OMS transport layer inside the wrapper (`inner` starts at its CI field).
fn read_tpl(
    m: &Meter<'_>,
    header_m: [u8; 2],
    inner: &[u8],
    key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    let (&ci, after_ci) = inner.split_first().ok_or(DecodeError::UnsupportedCi { ci: 0 })?;
    let (t, body) = tpl::parse(ci, after_ci)?;
    let mode = t.security_mode();
    let input = tplsec::Input {
        key,
        tpl: &t,
        body,
        tpl_bytes: inner,
        afl: None,
        addr: t.long_address.unwrap_or((header_m, m.raw.1)),
        link_addr: m.link,
        received: None,
    };
    let opened = tplsec::open(&input, mode)?;
    trace.note("tpl-security", Some(ci), || {
        format!(
            "transport header inside the wrapper: access number {}, status {:02X}, security mode {mode}: {}",
            t.access_number, t.status, opened.how
        )
    });
    let mut out = Decoded {
        status: t.status,
        access_number: t.access_number,
        security: (mode != 0).then_some(opened.security),
        ..Decoded::default()
    };
    let Some(payload) = opened.payload.as_deref() else {
        return Ok(out);
    };
    if !matches!(opened.security.status, SecurityStatus::Ok | SecurityStatus::Plaintext) {
        return Ok(out);
    }
    let start = payload.iter().take_while(|&&b| b == 0x2F).count();
    let data = payload.get(start..).unwrap_or(&[]);
    let read = match data.split_first() {
        Some((&(0x0F | 0x0D), block)) if apator_162::is_162(&m.raw) => apator_162::read_block(block, ci, trace)?,
        _ => {
            let (recs, err) = records::parse_values(data);
            if let (Some(e), true) = (err, recs.is_empty()) {
                return Err(e);
            }
            Decoded { records: recs, ..Decoded::default() }
        }
    };
    out.records = read.records;
    out.info_codes = read.info_codes;
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::{Quantity, Value};
    use crate::security;
    use crate::telegram::SecurityMode;

    /// A B6-wrapped mode 5 telegram as Apator's older modules send it.
    fn wrapped(key: &AesKey, frame_type: u8) -> Vec<u8> {
        let link_m = [0x14, 0x86];
        let a = [0x37, 0x37, 0x37, 0x37, 0x05, 0x07];
        let header = [0xFF, 0xFF, 0xF5, 0x45, 0x01, 0x06, 0xF4, 0x1B, 0xA5, 0x71];
        let mut plain = vec![0x2F, 0x2F, frame_type, 0x1A, 0x9B, 0x4F, 0x96, 0, 0, 0];
        plain.extend_from_slice(&[0x10, 0x07, 0x3B, 0, 0, 0x43, 0x62, 0x03]);
        plain.resize(30, 0xFF);
        plain.extend_from_slice(&[0x1C, 0xAD]);
        let access = 0x87;
        let enc = security::cbc_encrypt(key, &security::mode5_iv([0x01, 0x06], a, access), &plain);
        let mut f = vec![0, 0x44, link_m[0], link_m[1]];
        f.extend_from_slice(&a);
        f.push(0xB6);
        f.push(header.len() as u8);
        f.extend_from_slice(&header);
        f.extend_from_slice(&[0x7A, access, 0x00, 0x20, 0x05]);
        f.extend_from_slice(&enc);
        f[0] = (f.len() - 1) as u8;
        f
    }

    #[test]
    fn mode5_inside_the_wrapper() {
        let key = AesKey::from_bytes([0; 16]);
        for frame_type in [0x0F, 0x0D] {
            let t = crate::decode(&wrapped(&key, frame_type), Some(&key)).expect("decodes");
            assert_eq!(t.security.mode, SecurityMode::Mode5);
            assert_eq!(t.security.status, SecurityStatus::Ok);
            let total = t.records.iter().find(|r| r.quantity == Quantity::Volume && r.storage == 0);
            assert_eq!(total.map(|r| r.value.clone()), Some(Value::Number(15.111)));
        }
        let t = crate::decode(&wrapped(&key, 0x0F), None).expect("decodes");
        assert_eq!(t.security.status, SecurityStatus::NoKey);
        assert!(t.records.is_empty());
        let other = AesKey::from_bytes([1; 16]);
        let t = crate::decode(&wrapped(&key, 0x0F), Some(&other)).expect("decodes");
        assert_eq!(t.security.status, SecurityStatus::WrongKey);
    }

    #[test]
    fn allocator_inside_the_wrapper_and_unknown_inner_layers() {
        let mut f = vec![0, 0x44, 0x14, 0x86, 0x33, 0x37, 0x37, 0x37, 0x04, 0x08, 0xB6, 0x02, 0xFF, 0xFF, 0xA0];
        f.extend_from_slice(&[0xA1, 0x00, 0x00, 0x59, 0x00, 0x00, 0x00, 0x01, 0x00, 0x32, 0x2D, 0xE4, 0x13, 0xB4, 0x15]);
        f[0] = (f.len() - 1) as u8;
        let t = crate::decode(&f, None).expect("decodes");
        let hca = t.records.iter().find(|r| r.quantity == Quantity::HcaUnits && r.storage == 1);
        assert_eq!(hca.map(|r| r.value.clone()), Some(Value::Number(89.0)));
        assert!(t.info_codes.is_empty());
        f[14] = 0xA5;
        assert!(matches!(crate::decode(&f, None), Err(DecodeError::UnsupportedCi { ci: 0xA5 })));
        let mut short = f[..13].to_vec();
        short[0] = 12;
        short[11] = 0x05;
        assert!(matches!(crate::decode(&short, None), Err(DecodeError::TooShort { .. })));
    }
}
