//! Extended link layer (EN 13757-4 CI 8C-8F), which may sit between the link layer and the
//! transport layer (or the authentication and fragmentation layer, see `afl`).

use crate::cursor::Cursor;
use crate::error::DecodeError;

/// An extended-link-layer header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Ell {
    pub cc: u8,
    pub access_number: u8,
    /// Session number field (CI 8D, 8F): carries the encryption mode.
    pub sn: Option<[u8; 4]>,
    /// Address (CI 8E, 8F): manufacturer and address as sent.
    pub address: Option<([u8; 2], [u8; 6])>,
}

impl Ell {
    /// ELL encryption field: session-number bits 29-31 (0 none, 1 AES-128-CTR).
    pub(crate) fn encryption(&self) -> u8 {
        self.sn
            .map(|sn| (u32::from_le_bytes(sn) >> 29) as u8 & 0x07)
            .unwrap_or(0)
    }
}

/// Whether `ci` opens an extended link layer.
pub(crate) fn is_ell(ci: u8) -> bool {
    (0x8C..=0x8F).contains(&ci)
}

/// Read the ELL header for `ci` from the bytes after the CI field.
pub(crate) fn parse(ci: u8, after_ci: &[u8]) -> Result<(Ell, &[u8]), DecodeError> {
    let mut cur = Cursor::new(after_ci);
    let needed = match ci {
        0x8C => 2,
        0x8D => 6,
        0x8E => 10,
        _ => 14,
    };
    let short = DecodeError::TooShort {
        len: after_ci.len() + 1,
        needed: needed + 1,
        what: "extended link-layer header",
    };
    let [cc, access_number] = cur.array::<2>().ok_or(short.clone())?;
    let address = if ci == 0x8E || ci == 0x8F {
        let m = cur.array::<2>().ok_or(short.clone())?;
        let a = cur.array::<6>().ok_or(short.clone())?;
        Some((m, a))
    } else {
        None
    };
    let sn = if ci == 0x8D || ci == 0x8F {
        Some(cur.array::<4>().ok_or(short)?)
    } else {
        None
    };
    Ok((
        Ell {
            cc,
            access_number,
            sn,
            address,
        },
        cur.rest(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ell_headers() {
        let (e, rest) = parse(0x8D, &[0x20, 0x91, 0xD3, 0x7C, 0xAC, 0x21, 0xE1]).expect("ell");
        assert_eq!(
            (e.cc, e.access_number, e.encryption(), rest.len()),
            (0x20, 0x91, 1, 1)
        );
        let (e, rest) = parse(0x8C, &[0x20, 0x91, 0x7A]).expect("ell");
        assert_eq!((e.sn, e.encryption(), rest), (None, 0, &[0x7A][..]));
        assert_eq!(
            parse(0x8F, &[1, 2, 3]).map_err(|e| e.code()),
            Err("too_short")
        );
    }
}
