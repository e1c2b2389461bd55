//! Data-link layer: recognise wireless (EN 13757-4, with or without CRCs, format A or B)
//! and wired (EN 13757-2 long frame) framing, check it, and hand back the link address
//! plus the bytes from the CI field on.

use std::borrow::Cow;

use crate::crc::{crc16_en13757, sum8};
use crate::error::DecodeError;

/// Bytes L, C, M(2), A(6): the wireless link header.
const WIRELESS_HEADER: usize = 10;
/// Wired long frame: 68 L L 68 C A CI ... CS 16.
const WIRED_MIN: usize = 9;

/// The link-layer address of a frame.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LinkAddress {
    /// Wireless: manufacturer (2 bytes as sent) and address (id 4 bytes, version, device type as sent).
    Wireless { m: [u8; 2], a: [u8; 6] },
    /// Wired: only the primary address; the meter's identity is in the transport header.
    Wired { primary: u8 },
}

/// How the frame was delivered (informational).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Framing {
    WirelessNoCrc,
    WirelessFormatA,
    WirelessFormatB,
    WiredLong,
}

/// A checked link-layer frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LinkFrame<'a> {
    pub c: u8,
    pub address: LinkAddress,
    /// From the CI field to the end of the user data (CRCs, checksum and stop byte removed).
    pub apdu: Cow<'a, [u8]>,
    #[allow(dead_code)]
    pub framing: Framing,
}

/// Parse and check the link layer.
pub(crate) fn parse(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    if looks_wired(frame) {
        return parse_wired(frame);
    }
    parse_wireless(frame)
}

fn looks_wired(frame: &[u8]) -> bool {
    matches!(frame, [0x68, l1, l2, 0x68, ..] if l1 == l2)
}

fn parse_wired(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    if frame.len() < WIRED_MIN {
        return Err(DecodeError::TooShort {
            len: frame.len(),
            needed: WIRED_MIN,
            what: "wired frame",
        });
    }
    let l = usize::from(frame.get(1).copied().unwrap_or(0));
    let expected = l.saturating_add(6);
    if frame.len() != expected {
        return Err(DecodeError::LengthMismatch {
            declared: l,
            actual: frame.len().saturating_sub(6),
        });
    }
    let body = frame.get(4..4 + l).ok_or(DecodeError::TooShort {
        len: frame.len(),
        needed: expected,
        what: "wired frame",
    })?;
    let cs = frame.get(4 + l).copied().unwrap_or(0);
    let stop = frame.get(5 + l).copied().unwrap_or(0);
    if stop != 0x16 {
        return Err(DecodeError::BadFrame {
            reason: "wired frame does not end with the stop byte 16",
        });
    }
    let actual = sum8(body);
    if actual != cs {
        return Err(DecodeError::BadChecksum {
            expected: cs,
            actual,
        });
    }
    match body {
        [c, a, rest @ ..] if !rest.is_empty() => Ok(LinkFrame {
            c: *c,
            address: LinkAddress::Wired { primary: *a },
            apdu: Cow::Borrowed(rest),
            framing: Framing::WiredLong,
        }),
        _ => Err(DecodeError::TooShort {
            len: frame.len(),
            needed: WIRED_MIN,
            what: "wired frame",
        }),
    }
}

/// The wireless frame read as having its CRCs already removed (L counts every byte after it).
pub(crate) fn parse_without_crcs(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let l = usize::from(frame.first().copied().unwrap_or(0));
    if looks_wired(frame) || frame.len() < WIRELESS_HEADER + 1 || frame.len().saturating_sub(1) != l
    {
        return Err(DecodeError::LengthMismatch {
            declared: l,
            actual: frame.len().saturating_sub(1),
        });
    }
    wireless_from_plain(Cow::Borrowed(frame), Framing::WirelessNoCrc)
}

fn parse_wireless(frame: &[u8]) -> Result<LinkFrame<'_>, DecodeError> {
    let needed = WIRELESS_HEADER + 1;
    if frame.len() < needed {
        return Err(DecodeError::TooShort {
            len: frame.len(),
            needed,
            what: "link-layer header",
        });
    }
    let l = usize::from(frame.first().copied().unwrap_or(0));
    let after_l = frame.len().saturating_sub(1);
    let (plain, framing) = if after_l == l {
        // Either CRCs already removed (the usual case) or format B (L counts the CRCs).
        match strip_format_b(frame) {
            Some(stripped) => (Cow::Owned(stripped), Framing::WirelessFormatB),
            None => (Cow::Borrowed(frame), Framing::WirelessNoCrc),
        }
    } else if Some(frame.len()) == format_a_len(l) {
        (
            Cow::Owned(strip_format_a(frame, l)?),
            Framing::WirelessFormatA,
        )
    } else if after_l == l.saturating_add(2) && trailing_crc_ok(frame, l) {
        // The last block's CRC left on by the receiver: tolerated and dropped.
        (
            Cow::Borrowed(frame.get(..frame.len().saturating_sub(2)).unwrap_or(&[])),
            Framing::WirelessNoCrc,
        )
    } else {
        return Err(DecodeError::LengthMismatch {
            declared: l,
            actual: after_l,
        });
    };
    wireless_from_plain(plain, framing)
}

fn wireless_from_plain(
    plain: Cow<'_, [u8]>,
    framing: Framing,
) -> Result<LinkFrame<'_>, DecodeError> {
    let too_short = DecodeError::TooShort {
        len: plain.len(),
        needed: WIRELESS_HEADER + 1,
        what: "link-layer header",
    };
    let (c, m, a) = match plain.as_ref() {
        [_l, c, m0, m1, a0, a1, a2, a3, a4, a5, apdu @ ..] if !apdu.is_empty() => {
            (*c, [*m0, *m1], [*a0, *a1, *a2, *a3, *a4, *a5])
        }
        _ => return Err(too_short),
    };
    let apdu = match plain {
        Cow::Borrowed(b) => Cow::Borrowed(b.get(WIRELESS_HEADER..).unwrap_or(&[])),
        Cow::Owned(mut v) => {
            v.drain(..WIRELESS_HEADER.min(v.len()));
            Cow::Owned(v)
        }
    };
    Ok(LinkFrame {
        c,
        address: LinkAddress::Wireless { m, a },
        apdu,
        framing,
    })
}

/// Are the two bytes after the L-counted frame a CRC: of the last format A block, or of the whole frame?
fn trailing_crc_ok(frame: &[u8], l: usize) -> bool {
    let (Some(body), Some([hi, lo])) = (frame.get(..=l), frame.get(l + 1..)) else {
        return false;
    };
    let crc = u16::from_be_bytes([*hi, *lo]);
    let last_block = body
        .get(WIRELESS_HEADER..)
        .and_then(|rest| rest.chunks(16).last());
    crc == crc16_en13757(body) || last_block.is_some_and(|b| crc == crc16_en13757(b))
}

/// Total length of a format A frame whose L field is `l` (CRCs included), if such a frame can exist.
pub(crate) fn format_a_len(l: usize) -> Option<usize> {
    let rest = l.checked_sub(WIRELESS_HEADER - 1)?;
    let blocks = 1 + rest.div_ceil(16);
    l.checked_add(1)?.checked_add(blocks * 2)
}

/// Remove and check format A CRCs: block 1 = 10 bytes + CRC, then 16-byte blocks + CRC (last one shorter).
fn strip_format_a(frame: &[u8], l: usize) -> Result<Vec<u8>, DecodeError> {
    let mut out = Vec::with_capacity(l + 1);
    let mut pos = 0usize;
    let mut block = 0usize;
    let mut remaining = l + 1; // data bytes including L
    while remaining > 0 {
        let size = if block == 0 {
            WIRELESS_HEADER
        } else {
            remaining.min(16)
        };
        let data = frame.get(pos..pos + size).ok_or(DecodeError::TooShort {
            len: frame.len(),
            needed: pos + size,
            what: "format A block",
        })?;
        let crc_bytes = frame
            .get(pos + size..pos + size + 2)
            .ok_or(DecodeError::TooShort {
                len: frame.len(),
                needed: pos + size + 2,
                what: "format A block CRC",
            })?;
        let expected = u16::from_be_bytes([
            crc_bytes.first().copied().unwrap_or(0),
            crc_bytes.get(1).copied().unwrap_or(0),
        ]);
        let actual = crc16_en13757(data);
        if expected != actual {
            return Err(DecodeError::BadCrc {
                block: block + 1,
                expected,
                actual,
            });
        }
        out.extend_from_slice(data);
        pos += size + 2;
        remaining -= size;
        block += 1;
    }
    if let Some(first) = out.first_mut() {
        *first = u8::try_from(l).unwrap_or(u8::MAX);
    }
    Ok(out)
}

/// Format B: L counts everything after itself, CRCs included. One CRC closes the first 126 bytes
/// (blocks 1+2, when the frame is longer than 128 bytes) and one closes the frame.
/// Returns the frame without CRCs (L rewritten) only when every CRC checks out.
fn strip_format_b(frame: &[u8]) -> Option<Vec<u8>> {
    let n = frame.len();
    if n < WIRELESS_HEADER + 3 {
        return None;
    }
    let crc_ok = |data: &[u8], at: usize| -> bool {
        match frame.get(at..at + 2) {
            Some([hi, lo]) => u16::from_be_bytes([*hi, *lo]) == crc16_en13757(data),
            _ => false,
        }
    };
    // The CRCs are checked before anything is allocated: most frames given without CRCs fail here.
    let mut out;
    if n <= 128 {
        let data = frame.get(..n - 2)?;
        if !crc_ok(data, n - 2) {
            return None;
        }
        out = Vec::with_capacity(n);
        out.extend_from_slice(data);
    } else {
        let first = frame.get(..126)?;
        let second = frame.get(128..n - 2)?;
        if second.is_empty() || !crc_ok(first, 126) || !crc_ok(second, n - 2) {
            return None;
        }
        out = Vec::with_capacity(n);
        out.extend_from_slice(first);
        out.extend_from_slice(second);
    }
    let new_l = u8::try_from(out.len().saturating_sub(1)).ok()?;
    if let Some(l) = out.first_mut() {
        *l = new_l;
    }
    Some(out)
}

/// A wireless frame forwarded from its L field with its data-link CRCs removed (as LoRaWAN
/// bridges such as Lobaro's send it), made readable: a format A frame's L already counts only
/// the bytes that remain and is kept; a format B frame's L still counts the CRCs that are gone
/// (2 bytes, 4 when the frame with CRCs is longer than 128 bytes) and is set to the bytes
/// there. `None` when L fits neither (a cut or padded frame), or the frame is shorter than
/// its link header.
pub fn frame_without_crcs(frame: &[u8]) -> Option<Vec<u8>> {
    let l = usize::from(*frame.first()?);
    let after = frame.len() - 1;
    if frame.len() <= WIRELESS_HEADER {
        return None;
    }
    let format_b = (l == after + 2 && l < 128) || (l == after + 4 && l >= 128);
    if l != after && !format_b {
        return None;
    }
    let mut out = frame.to_vec();
    out[0] = u8::try_from(after).ok()?;
    Some(out)
}

/// Insert format A CRCs into a frame given without CRCs (used by the encoder and tests).
pub(crate) fn add_format_a_crcs(frame: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(frame.len() + 40);
    let (first, rest) = frame.split_at(frame.len().min(WIRELESS_HEADER));
    out.extend_from_slice(first);
    out.extend_from_slice(&crc16_en13757(first).to_be_bytes());
    for chunk in rest.chunks(16) {
        out.extend_from_slice(chunk);
        out.extend_from_slice(&crc16_en13757(chunk).to_be_bytes());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(s: &str) -> Vec<u8> {
        hex::decode(s).expect("test hex")
    }

    fn check(input: &[u8], expected: Result<(u8, usize, Framing), DecodeError>) {
        let got = parse(input).map(|f| (f.c, f.apdu.len(), f.framing));
        assert_eq!(got, expected, "input {input:02X?}");
    }

    const DWZ: &str = "3944FA122162092002067A3600202567C94D48D00DC47B11213E23383DB51968A705AAFA60C60E263D50CD259D7C9A03FD0C08000002FD0B0011";

    #[test]
    fn wireless_variants() {
        let f = hex(DWZ);
        check(&f, Ok((0x44, 48, Framing::WirelessNoCrc)));
        let a = add_format_a_crcs(&f);
        check(&a, Ok((0x44, 48, Framing::WirelessFormatA)));
        let mut bad = a.clone();
        bad[12] ^= 1;
        assert_eq!(parse(&bad).map_err(|e| e.code()), Err("bad_crc"));
        let mut trailing = f.clone();
        let last = crc16_en13757(&f[10 + 32..]);
        trailing.extend_from_slice(&last.to_be_bytes());
        check(&trailing, Ok((0x44, 48, Framing::WirelessNoCrc)));
        let mut whole = f.clone();
        whole.extend_from_slice(&crc16_en13757(&f).to_be_bytes());
        check(&whole, Ok((0x44, 48, Framing::WirelessNoCrc)));
        let mut junk = f.clone();
        junk.extend_from_slice(&[1, 2]);
        check(
            &junk,
            Err(DecodeError::LengthMismatch {
                declared: 0x39,
                actual: 0x39 + 2,
            }),
        );
        trailing.push(3);
        check(
            &trailing,
            Err(DecodeError::LengthMismatch {
                declared: 0x39,
                actual: 0x39 + 3,
            }),
        );
        check(
            &f[..5],
            Err(DecodeError::TooShort {
                len: 5,
                needed: 11,
                what: "link-layer header",
            }),
        );
    }

    #[test]
    fn format_b() {
        let f = hex(DWZ);
        let mut b = f.clone();
        b[0] = b[0].wrapping_add(2);
        let crc = crc16_en13757(&b);
        b.extend_from_slice(&crc.to_be_bytes());
        check(&b, Ok((0x44, 48, Framing::WirelessFormatB)));
    }

    #[test]
    fn frames_whose_crcs_a_bridge_removed() {
        let f = hex(DWZ);
        assert_eq!(frame_without_crcs(&f), Some(f.clone()), "format A: L already counts what is there");
        let mut b = f.clone();
        b[0] += 2;
        assert_eq!(frame_without_crcs(&b), Some(f.clone()), "format B: L counted the CRC that is gone");
        let mut long = vec![0u8; 131];
        long[0] = 134; // 135 bytes with the two CRCs of a long format B frame
        assert_eq!(frame_without_crcs(&long).map(|v| v[0]), Some(130));
        b[0] += 1;
        assert_eq!(frame_without_crcs(&b), None, "an L that fits no framing");
        assert_eq!(frame_without_crcs(&f[..5]), None);
        assert_eq!(frame_without_crcs(&[]), None);
        check(&frame_without_crcs(&hex(DWZ)).expect("frame"), Ok((0x44, 48, Framing::WirelessNoCrc)));
    }

    #[test]
    fn wired() {
        let f = hex("68464668084A72447744772D2C3404060000000406CE86000004FF073444020004FF08F8CE0100041411680300043B0F02000002593C19025DA41104FF220000000004A5FF21C7D02700D916");
        check(&f, Ok((0x08, 0x46 - 2, Framing::WiredLong)));
        let mut bad = f.clone();
        let n = bad.len();
        bad[n - 2] ^= 1;
        assert_eq!(parse(&bad).map_err(|e| e.code()), Err("bad_checksum"));
    }
}
