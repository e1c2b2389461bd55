//! Authentication and fragmentation layer (CI 90, EN 13757-7 / OMS Vol. 2): fragment control,
//! message control, key information, message counter, MAC and message length.
//!
//! Field layout after AFL.L: FCL (2 bytes, LE), then when flagged in FCL: MCL (1), KI (2, LE),
//! MCR (4, LE), MAC (length from MCL's authentication type), ML (2, LE).
//! FCL bits: 14 more fragments, 13 MCL present, 12 ML present, 11 MCR present, 10 MAC present,
//! 9 KI present, 7-0 fragment id. MCL bits: 6 ML in message, 5 MCR in message, 4 KI in message,
//! 3-0 authentication type (4: CMAC 4 bytes, 5: 8 bytes, 6: 12 bytes, 7: 16 bytes).

use crate::cursor::Cursor;
use crate::error::DecodeError;

/// CI of the authentication and fragmentation layer (OMS mode 7 telegrams).
pub(crate) const CI_AFL: u8 = 0x90;

const FCL_MORE_FRAGMENTS: u16 = 1 << 14;
const FCL_MCL: u16 = 1 << 13;
const FCL_ML: u16 = 1 << 12;
const FCL_MCR: u16 = 1 << 11;
const FCL_MAC: u16 = 1 << 10;
const FCL_KI: u16 = 1 << 9;

/// A parsed AFL header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Afl<'a> {
    pub fcl: u16,
    pub mcl: Option<u8>,
    pub ki: Option<u16>,
    /// Message counter as sent (little endian).
    pub mcr: Option<[u8; 4]>,
    pub mac: Option<&'a [u8]>,
    pub ml: Option<u16>,
}

impl Afl<'_> {
    /// True when this fragment is not the whole message (more follow, or it is not the first).
    pub(crate) fn fragmented(&self) -> bool {
        self.fcl & FCL_MORE_FRAGMENTS != 0 || self.fragment_id() > 1
    }

    pub(crate) fn fragment_id(&self) -> u8 {
        (self.fcl & 0xFF) as u8
    }

    /// Bytes covered by the MAC before the transport layer: MCL, MCR and ML as sent.
    pub(crate) fn mac_prefix(&self) -> Vec<u8> {
        let mut v = Vec::with_capacity(7);
        v.extend(self.mcl);
        if let Some(m) = self.mcr {
            v.extend_from_slice(&m);
        }
        if let Some(ml) = self.ml {
            v.extend_from_slice(&ml.to_le_bytes());
        }
        v
    }
}

fn mac_len(at: u8) -> Option<usize> {
    match at {
        4 => Some(4),
        5 => Some(8),
        6 | 8 => Some(12),
        7 => Some(16),
        _ => None,
    }
}

/// Parse the AFL from the bytes after its CI; returns it and what follows (the transport layer).
pub(crate) fn parse(after_ci: &[u8]) -> Result<(Afl<'_>, &[u8]), DecodeError> {
    let short = |needed: usize| DecodeError::TooShort {
        len: after_ci.len() + 1,
        needed,
        what: "authentication and fragmentation layer",
    };
    let mut outer = Cursor::new(after_ci);
    let len = usize::from(outer.u8().ok_or(short(2))?);
    let body = outer.take(len).ok_or(short(len + 2))?;
    let mut cur = Cursor::new(body);
    let bad = |reason: &'static str| DecodeError::BadFrame { reason };
    let fcl = cur
        .array::<2>()
        .map(u16::from_le_bytes)
        .ok_or(bad("AFL header shorter than its fragment control field"))?;
    let flag = |f: u16| fcl & f != 0;
    let cut = bad("AFL header shorter than the fields its control fields announce");
    let mcl = if flag(FCL_MCL) {
        Some(cur.u8().ok_or(cut.clone())?)
    } else {
        None
    };
    let ki = if flag(FCL_KI) {
        Some(
            cur.array::<2>()
                .map(u16::from_le_bytes)
                .ok_or(cut.clone())?,
        )
    } else {
        None
    };
    let mcr = if flag(FCL_MCR) {
        Some(cur.array::<4>().ok_or(cut.clone())?)
    } else {
        None
    };
    let mac = if flag(FCL_MAC) {
        let n = mcl
            .and_then(|m| mac_len(m & 0x0F))
            .ok_or(bad("AFL MAC with an unknown authentication type"))?;
        Some(cur.take(n).ok_or(cut.clone())?)
    } else {
        None
    };
    let ml = if flag(FCL_ML) {
        Some(cur.array::<2>().map(u16::from_le_bytes).ok_or(cut)?)
    } else {
        None
    };
    Ok((
        Afl {
            fcl,
            mcl,
            ki,
            mcr,
            mac,
            ml,
        },
        outer.rest(),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oms_mode7_afl() {
        // From a mode 7 telegram: AFL.L 0F, FCL 2C00 (MCL, MCR, MAC), MCL 25 (AT 5), MCR 390C, 8-byte MAC.
        let bytes = hex::decode("0F002C250C390000ED176BBBB1591ADB7A").expect("hex");
        let (a, rest) = parse(&bytes).expect("afl");
        assert_eq!(a.mcl, Some(0x25));
        assert_eq!(a.mcr, Some([0x0C, 0x39, 0, 0]));
        assert_eq!(a.mac.map(<[u8]>::len), Some(8));
        assert_eq!((a.ki, a.ml, a.fragmented()), (None, None, false));
        assert_eq!(a.mac_prefix(), vec![0x25, 0x0C, 0x39, 0, 0]);
        assert_eq!(rest, &[0x7A]);
        assert_eq!(parse(&[2, 0, 0, 0x72]).map(|(_, r)| r), Ok(&[0x72][..]));
        assert_eq!(parse(&[5, 0]).map_err(|e| e.code()), Err("too_short"));
        assert_eq!(parse(&[1, 0]).map_err(|e| e.code()), Err("bad_frame"));
        assert_eq!(
            parse(&[3, 0x00, 0x24, 0x03]).map_err(|e| e.code()),
            Err("bad_frame")
        );
    }
}
