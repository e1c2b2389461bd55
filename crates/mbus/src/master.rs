//! What a wired M-Bus master sends and how it reads the answers (EN 13757-2/-3): SND_NKE,
//! REQ_UD2 with FCB/FCV, selection by secondary address (CI 52, `F` wildcards nibble by
//! nibble), application reset (CI 50), baud-rate switch (CI B8..BF); the length of a frame
//! arriving byte by byte, the "more records follow" flag (DIF 1F) of a multi-telegram answer,
//! the secondary address an answer carries and fixed-format (CI 73) answers. Pure: no IO.

use crate::address::manufacturer_letters;
use crate::crc::sum8;
use crate::cursor::Cursor;
use crate::dif::{self, DifKind};
use crate::error::DecodeError;
use crate::vif;
use crate::wired::{parse_wired_frame, WiredFrame};

/// C field: SND_NKE (link reset).
pub const SND_NKE: u8 = 0x40;
/// C field: SND_UD (send user data), here with FCB set as masters send a selection.
pub const SND_UD: u8 = 0x53;
/// C field: REQ_UD2 (request class 2 data).
pub const REQ_UD2: u8 = 0x5B;
/// C field bits of a request: frame count bit and frame count bit valid.
pub const FCB: u8 = 0x20;
pub const FCV: u8 = 0x10;
/// Address of the slave selected by its secondary address.
pub const ADDRESS_SELECTED: u8 = 0xFD;
/// Broadcast that every slave answers (only safe with one slave on the bus).
pub const ADDRESS_BROADCAST_REPLY: u8 = 0xFE;
/// Broadcast that no slave answers.
pub const ADDRESS_BROADCAST: u8 = 0xFF;
/// The highest primary address a slave may have (0..=250).
pub const MAX_PRIMARY: u8 = 250;
/// CI: select a slave by its secondary address (data least significant byte first).
pub const CI_SELECT: u8 = 0x52;
/// CI: application reset.
pub const CI_APPLICATION_RESET: u8 = 0x50;
/// CI: variable-data answer (long header) and fixed-format answer.
pub const CI_VARIABLE: u8 = 0x72;
pub const CI_FIXED: u8 = 0x73;
/// The baud rates CI B8..BF switch to, in order.
pub const BAUD_BY_CI: [u32; 8] = [300, 600, 1200, 2400, 4800, 9600, 19200, 38400];

/// A short frame `10 C A CS 16`.
pub fn short_frame(c: u8, a: u8) -> [u8; 5] {
    [0x10, c, a, c.wrapping_add(a), 0x16]
}

/// A control frame `68 03 03 68 C A CI CS 16`.
pub fn control_frame(c: u8, a: u8, ci: u8) -> [u8; 9] {
    [0x68, 3, 3, 0x68, c, a, ci, sum8(&[c, a, ci]), 0x16]
}

/// A long frame `68 L L 68 C A CI data CS 16`; `None` when the data is too long (L > 255).
pub fn long_frame(c: u8, a: u8, ci: u8, data: &[u8]) -> Option<Vec<u8>> {
    let l = u8::try_from(data.len().checked_add(3)?).ok()?;
    let mut out = Vec::with_capacity(data.len() + 9);
    out.extend_from_slice(&[0x68, l, l, 0x68, c, a, ci]);
    out.extend_from_slice(data);
    out.push(sum8(&out[4..]));
    out.push(0x16);
    Some(out)
}

/// SND_NKE to `a`: resets the slave's link (its FCB and multi-telegram position); a slave
/// there answers E5 (a broadcast to FF gets no answer).
pub fn snd_nke(a: u8) -> [u8; 5] {
    short_frame(SND_NKE, a)
}

/// REQ_UD2 to `a` with FCV set and the given FCB: a slave sends its next telegram when the
/// FCB differs from the last one it saw, the same one again when not (a repeated request).
pub fn req_ud2(a: u8, fcb: bool) -> [u8; 5] {
    short_frame(REQ_UD2 | FCV | if fcb { FCB } else { 0 }, a)
}

/// Application reset (CI 50) to `a`.
pub fn application_reset(a: u8) -> [u8; 9] {
    control_frame(SND_UD, a, CI_APPLICATION_RESET)
}

/// Switch the slave at `a` to `baud` (CI B8..BF); `None` for a rate M-Bus has no CI for.
pub fn set_baud_rate(a: u8, baud: u32) -> Option<[u8; 9]> {
    let i = BAUD_BY_CI.iter().position(|b| *b == baud)?;
    Some(control_frame(SND_UD, a, 0xB8 + u8::try_from(i).ok()?))
}

/// The baud rate a CI byte B8..BF asks for.
pub fn baud_of_ci(ci: u8) -> Option<u32> {
    BAUD_BY_CI.get(usize::from(ci.checked_sub(0xB8)?)).copied()
}

/// A secondary address or a search mask in the 16-character form scans print: the id's 8
/// digits, the manufacturer's two bytes as sent (4 hex digits), the version and the medium (2
/// each). In a mask, `F` is a wildcard, nibble by nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct SecondaryMask {
    nibbles: [u8; 16],
}

/// What a nibble of a secondary address is: an id digit (0-9) or a hexadecimal nibble.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NibbleKind {
    Decimal,
    Hexadecimal,
}

impl SecondaryMask {
    /// Everything wildcard: every slave matches.
    pub const ALL: SecondaryMask = SecondaryMask { nibbles: [0xF; 16] };
    pub const LEN: usize = 16;

    /// Read 16 hexadecimal characters, or 8 id digits (the rest wildcard). `F` is a wildcard;
    /// the id's other places take only digits.
    pub fn parse(text: &str) -> Result<SecondaryMask, DecodeError> {
        let text = text.trim();
        let bad = |reason| DecodeError::BadFrame { reason };
        if text.len() != 8 && text.len() != 16 {
            return Err(bad("a secondary address is 8 id digits or 16 hexadecimal characters"));
        }
        let mut nibbles = [0xF; 16];
        for (i, c) in text.chars().enumerate() {
            let v = c.to_digit(16).ok_or(bad("a secondary address holds only hexadecimal characters"))?;
            let v = u8::try_from(v).map_err(|_| bad("not a hexadecimal character"))?;
            if i < 8 && (10..15).contains(&v) {
                return Err(bad("the id part of a secondary address is 8 decimal digits (F: any)"));
            }
            if let Some(n) = nibbles.get_mut(i) {
                *n = v;
            }
        }
        Ok(SecondaryMask { nibbles })
    }

    /// The 8 data bytes of a selection (CI 52): id BCD least significant byte first, then the
    /// manufacturer bytes, version and medium.
    pub fn select_data(&self) -> [u8; 8] {
        let n = &self.nibbles;
        let byte = |i: usize| (n[i] << 4) | n[i + 1];
        [byte(6), byte(4), byte(2), byte(0), byte(8), byte(10), byte(12), byte(14)]
    }

    /// The mask the 8 data bytes of a selection (or the address block of an answer) stand for.
    pub fn from_select_data(d: [u8; 8]) -> SecondaryMask {
        let mut nibbles = [0u8; 16];
        let order = [3usize, 2, 1, 0, 4, 5, 6, 7];
        for (k, i) in order.iter().enumerate() {
            nibbles[2 * k] = d[*i] >> 4;
            nibbles[2 * k + 1] = d[*i] & 0x0F;
        }
        SecondaryMask { nibbles }
    }

    /// Whether a slave whose address is `address` (no wildcards) answers this mask.
    pub fn matches(&self, address: &SecondaryMask) -> bool {
        self.nibbles.iter().zip(address.nibbles.iter()).all(|(m, a)| *m == 0xF || m == a)
    }

    pub fn nibble(&self, i: usize) -> Option<u8> {
        self.nibbles.get(i).copied()
    }

    /// The same mask with nibble `i` set to `v`.
    pub fn with_nibble(mut self, i: usize, v: u8) -> SecondaryMask {
        if let Some(n) = self.nibbles.get_mut(i) {
            *n = v & 0x0F;
        }
        self
    }

    /// The id's 8 places are decimal, the others hexadecimal.
    pub fn kind(i: usize) -> NibbleKind {
        if i < 8 {
            NibbleKind::Decimal
        } else {
            NibbleKind::Hexadecimal
        }
    }

    /// The values a search tries at place `i` (the wildcard F excluded: it is the mask
    /// itself): 0-9 in the id, 0-E elsewhere.
    pub fn search_values(i: usize) -> std::ops::RangeInclusive<u8> {
        match SecondaryMask::kind(i) {
            NibbleKind::Decimal => 0..=9,
            NibbleKind::Hexadecimal => 0..=0xE,
        }
    }

    /// The id part (8 characters).
    pub fn id(&self) -> String {
        self.text()[..8].to_string()
    }
}

impl std::fmt::Display for SecondaryMask {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.text())
    }
}

impl SecondaryMask {
    /// The 16 characters.
    pub fn text(&self) -> String {
        const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
        self.nibbles.iter().map(|n| char::from(DIGITS[usize::from(*n & 0x0F)])).collect()
    }
}

/// A selection of the slave(s) matching `mask`: `68 0B 0B 68 73 FD 52 <8 bytes> CS 16`.
pub fn select(mask: &SecondaryMask) -> Vec<u8> {
    let data = mask.select_data();
    let mut out = vec![0x68, 0x0B, 0x0B, 0x68, SND_UD | FCB, ADDRESS_SELECTED, CI_SELECT];
    out.extend_from_slice(&data);
    out.push(sum8(&out[4..]));
    out.push(0x16);
    out
}

/// How much of a frame arriving byte by byte is there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameLength {
    /// The first `n` bytes are one whole frame (more may follow them).
    Complete(usize),
    /// Not enough bytes yet; at least this many in all.
    NeedMore(usize),
    /// These bytes cannot start a frame (a bad start byte, two different length bytes).
    Invalid,
}

/// The length of the frame at the start of `buf`, from its start byte and length field.
pub fn frame_length(buf: &[u8]) -> FrameLength {
    match buf {
        [] => FrameLength::NeedMore(1),
        [0xE5, ..] => FrameLength::Complete(1),
        [0x10, ..] => {
            if buf.len() >= 5 {
                FrameLength::Complete(5)
            } else {
                FrameLength::NeedMore(5)
            }
        }
        [0x68] | [0x68, _] | [0x68, _, _] => FrameLength::NeedMore(4),
        [0x68, l1, l2, rest @ ..] => {
            if l1 != l2 || l1 < &3 || rest.first().is_some_and(|b| *b != 0x68) {
                return FrameLength::Invalid;
            }
            let n = usize::from(*l1) + 6;
            if buf.len() >= n {
                FrameLength::Complete(n)
            } else {
                FrameLength::NeedMore(n)
            }
        }
        _ => FrameLength::Invalid,
    }
}

/// The secondary address an answer (RSP_UD, CI 72) carries, and what it says in words.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlaveIdentity {
    pub primary: u8,
    pub address: SecondaryMask,
    /// The id (8 digits as printed on the meter).
    pub id: String,
    /// Three letters, or the code in hexadecimal when it is not a valid one.
    pub manufacturer: String,
    pub version: u8,
    pub medium: u8,
}

/// Read the identity of a slave from its answer (a checked long frame, CI 72 or CI 73).
pub fn identity(frame: &[u8]) -> Result<SlaveIdentity, DecodeError> {
    let WiredFrame::Long { a, ci, data, .. } = parse_wired_frame(frame)? else {
        return Err(DecodeError::BadFrame { reason: "the answer is not a long frame" });
    };
    match (ci, data) {
        (CI_VARIABLE, [i0, i1, i2, i3, m0, m1, version, medium, ..]) => {
            let address = SecondaryMask::from_select_data([*i0, *i1, *i2, *i3, *m0, *m1, *version, *medium]);
            let code = u16::from_le_bytes([*m0, *m1]);
            Ok(SlaveIdentity {
                primary: a,
                id: address.id(),
                manufacturer: manufacturer_letters(code).unwrap_or_else(|_| format!("{code:04X}")),
                version: *version,
                medium: *medium,
                address,
            })
        }
        (CI_FIXED, [i0, i1, i2, i3, _, _, u0, u1, ..]) => {
            let medium = ((u1 >> 6) << 2) | (u0 >> 6);
            let address = SecondaryMask::from_select_data([*i0, *i1, *i2, *i3, 0xFF, 0xFF, 0xFF, medium]);
            Ok(SlaveIdentity { primary: a, id: address.id(), manufacturer: String::new(), version: 0, medium, address })
        }
        (CI_VARIABLE | CI_FIXED, _) => Err(DecodeError::TooShort { len: data.len(), needed: 8, what: "answer header" }),
        (ci, _) => Err(DecodeError::UnsupportedCi { ci }),
    }
}

/// Whether a variable-data answer (CI 72) ends with DIF 1F: the slave has more records, the
/// master asks again with the FCB toggled. A fixed-format answer never has more.
pub fn more_records_follow(frame: &[u8]) -> Result<bool, DecodeError> {
    let WiredFrame::Long { ci, data, .. } = parse_wired_frame(frame)? else {
        return Ok(false);
    };
    if ci != CI_VARIABLE {
        return Ok(false);
    }
    let records = data.get(12..).ok_or(DecodeError::TooShort { len: data.len(), needed: 12, what: "answer header" })?;
    let mut cur = Cursor::new(records);
    while !cur.is_empty() {
        let offset = cur.pos();
        let bad = |reason: &'static str| DecodeError::BadRecord { offset, reason };
        match dif::read_dib(&mut cur).map_err(bad)? {
            DifKind::Filler | DifKind::Special(_) => {}
            DifKind::ManufacturerData { more_follows } => return Ok(more_follows),
            DifKind::Data(info) => {
                vif::read_vib(&mut cur).map_err(bad)?;
                dif::read_data(&mut cur, info.coding).map_err(bad)?;
            }
        }
    }
    Ok(false)
}

/// A fixed-format answer (CI 73): id, access number, status, medium, the units of its two
/// counters (codes of EN 13757-3's fixed-format unit table) and the two counters.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FixedAnswer {
    pub id: String,
    pub access_number: u8,
    pub status: u8,
    pub medium: u8,
    pub units: [u8; 2],
    /// BCD when status bit 7 is clear, binary when set; a BCD counter with a non-digit is `None`.
    pub counters: [Option<u64>; 2],
}

/// Read a fixed-format answer (a checked long frame with CI 73).
pub fn fixed_answer(frame: &[u8]) -> Result<FixedAnswer, DecodeError> {
    let WiredFrame::Long { ci, data, .. } = parse_wired_frame(frame)? else {
        return Err(DecodeError::BadFrame { reason: "the answer is not a long frame" });
    };
    if ci != CI_FIXED {
        return Err(DecodeError::UnsupportedCi { ci });
    }
    fixed_from_data(data)
}

/// The fixed-format fields after the CI byte.
pub(crate) fn fixed_from_data(data: &[u8]) -> Result<FixedAnswer, DecodeError> {
    let [i0, i1, i2, i3, access_number, status, u0, u1, c @ ..] = data else {
        return Err(DecodeError::TooShort { len: data.len(), needed: 16, what: "fixed-format answer" });
    };
    if c.len() < 8 {
        return Err(DecodeError::TooShort { len: data.len(), needed: 16, what: "fixed-format answer" });
    }
    let bcd = status & 0x80 == 0;
    let counter = |b: &[u8]| -> Option<u64> {
        if bcd {
            b.iter().rev().try_fold(0u64, |acc, byte| {
                let (hi, lo) = (byte >> 4, byte & 0x0F);
                (hi < 10 && lo < 10).then(|| acc * 100 + u64::from(hi) * 10 + u64::from(lo))
            })
        } else {
            Some(b.iter().rev().fold(0u64, |acc, byte| (acc << 8) | u64::from(*byte)))
        }
    };
    let id = SecondaryMask::from_select_data([*i0, *i1, *i2, *i3, 0, 0, 0, 0]).id();
    Ok(FixedAnswer {
        id,
        access_number: *access_number,
        status: *status,
        medium: ((u1 >> 6) << 2) | (u0 >> 6),
        units: [u0 & 0x3F, u1 & 0x3F],
        counters: [counter(c.get(..4).unwrap_or(&[])), counter(c.get(4..8).unwrap_or(&[]))],
    })
}

/// A fixed-format answer as a telegram: its id and medium (no manufacturer: `""`), and its
/// two counters as records of quantity `other` (their unit codes are not mapped), storage 0
/// and 1, so that it is stored raw under its meter.
pub(crate) fn fixed_telegram(data: &[u8]) -> Result<crate::Telegram, DecodeError> {
    use crate::record::{Function, Quantity, Record, Unit, Value};
    let f = fixed_from_data(data)?;
    let records = f
        .counters
        .iter()
        .enumerate()
        .filter_map(|(i, c)| {
            let value = (*c)? as f64;
            Some(Record { quantity: Quantity::Other, value: Value::Number(value), unit: Unit::None, storage: u32::try_from(i).unwrap_or(0), tariff: 0, subunit: 0, function: Function::Instantaneous })
        })
        .collect();
    Ok(crate::Telegram {
        address: crate::Address { manufacturer: String::new(), id: f.id, version: 0, device_type: crate::DeviceType::from_code(f.medium) },
        access_number: f.access_number,
        status: f.status,
        security: crate::Security { mode: crate::SecurityMode::None, status: crate::SecurityStatus::Ok },
        records,
        info_codes: Vec::new(),
    })
}

/// A copy of an answer with DIF 1F put after its records (before the checksum): what a slave
/// with more to send returns. `None` for a frame that is not a long one or would grow past
/// 255 bytes of length.
pub fn with_more_records_follow(frame: &[u8]) -> Option<Vec<u8>> {
    let WiredFrame::Long { c, a, ci, data } = parse_wired_frame(frame).ok()? else {
        return None;
    };
    let mut data = data.to_vec();
    data.push(0x1F);
    long_frame(c, a, ci, &data)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hex(b: &[u8]) -> String {
        hex::encode_upper(b)
    }

    #[test]
    fn frames_as_the_standard_and_libmbus_build_them() {
        assert_eq!(hex(&snd_nke(5)), "1040054516");
        assert_eq!(hex(&snd_nke(0xFD)), "1040FD3D16");
        assert_eq!(hex(&snd_nke(0xFF)), "1040FF3F16");
        assert_eq!(hex(&req_ud2(5, true)), "107B058016");
        assert_eq!(hex(&req_ud2(5, false)), "105B056016");
        assert_eq!(hex(&select(&SecondaryMask::ALL)), "680B0B6873FD52FFFFFFFFFFFFFFFFBA16");
        let m = SecondaryMask::parse("1449100110570106").expect("mask");
        assert_eq!(hex(&select(&m)), "680B0B6873FD5201104914105701069E16");
        let m = SecondaryMask::parse("0FFFFFFFFFFFFFFF").expect("mask");
        assert_eq!(hex(&select(&m)), "680B0B6873FD52FFFFFF0FFFFFFFFFCA16");
        assert_eq!(set_baud_rate(5, 9600).map(|f| hex(&f)), Some("680303685305BD1516".into()));
        assert_eq!(set_baud_rate(5, 1234), None);
        assert_eq!(baud_of_ci(0xBD), Some(9600));
        assert_eq!(baud_of_ci(0xC0), None);
        assert_eq!(hex(&application_reset(1)), "68030368530150A416");
        // Every frame built here parses back.
        for f in [snd_nke(7).to_vec(), req_ud2(250, true).to_vec(), select(&m), application_reset(3).to_vec()] {
            assert!(parse_wired_frame(&f).is_ok(), "{}", hex(&f));
        }
    }

    #[test]
    fn masks_match_nibble_by_nibble() {
        let meter = SecondaryMask::parse("1234567824C51404").expect("meter");
        assert_eq!(SecondaryMask::from_select_data(meter.select_data()), meter);
        assert!(SecondaryMask::ALL.matches(&meter));
        assert!(SecondaryMask::parse("1FFFFFFF").expect("m").matches(&meter));
        assert!(!SecondaryMask::parse("2FFFFFFF").expect("m").matches(&meter));
        assert!(SecondaryMask::parse("12345678FFFFFF04").expect("m").matches(&meter));
        assert!(!SecondaryMask::parse("12345678FFFFFF07").expect("m").matches(&meter));
        assert!(SecondaryMask::parse("1234567A").is_err());
        assert!(SecondaryMask::parse("123").is_err());
        assert_eq!(SecondaryMask::ALL.with_nibble(0, 3).text(), "3FFFFFFFFFFFFFFF");
        assert_eq!(SecondaryMask::search_values(0).count(), 10);
        assert_eq!(SecondaryMask::search_values(8).count(), 15);
    }

    #[test]
    fn frame_length_while_bytes_arrive() {
        assert_eq!(frame_length(&[]), FrameLength::NeedMore(1));
        assert_eq!(frame_length(&[0xE5, 0xE5]), FrameLength::Complete(1));
        assert_eq!(frame_length(&[0x10, 1]), FrameLength::NeedMore(5));
        assert_eq!(frame_length(&[0x68, 0x1B]), FrameLength::NeedMore(4));
        assert_eq!(frame_length(&[0x68, 0x1B, 0x1B, 0x68]), FrameLength::NeedMore(0x1B + 6));
        assert_eq!(frame_length(&[0x68, 0x1B, 0x1C, 0x68]), FrameLength::Invalid);
        assert_eq!(frame_length(&[0x00]), FrameLength::Invalid);
    }

    #[test]
    fn identity_more_records_and_fixed_format() {
        // A water meter's answer: id 00182007, GWF, version 35, water; fabrication number
        // and volume records, no DIF 1F.
        let data = [0x07, 0x20, 0x18, 0x00, 0xE6, 0x1E, 0x35, 0x07, 0x4C, 0, 0, 0, 0x0C, 0x78, 0x07, 0x20, 0x18, 0x00, 0x0C, 0x13, 0x45, 0x23, 0x01, 0x00];
        let f = long_frame(0x08, 1, CI_VARIABLE, &data).expect("frame");
        let who = identity(&f).expect("identity");
        assert_eq!((who.primary, who.id.as_str(), who.manufacturer.as_str(), who.version, who.medium), (1, "00182007", "GWF", 0x35, 7));
        assert_eq!(who.address.text(), "00182007E61E3507");
        assert_eq!(more_records_follow(&f), Ok(false));
        let more = with_more_records_follow(&f).expect("more");
        assert_eq!(more_records_follow(&more), Ok(true));
        assert!(crate::decode(&more, None).is_ok());
        // A fixed-format answer: id 87654321, access number 3, BCD counters 42 and 1234, water
        // (medium 0111: its low bits in the first unit byte, its high bits in the second).
        let data = [0x21, 0x43, 0x65, 0x87, 3, 0x00, 0xE9, 0x7E, 0x42, 0, 0, 0, 0x34, 0x12, 0, 0];
        let f = long_frame(0x08, 5, CI_FIXED, &data).expect("frame");
        let fixed = fixed_answer(&f).expect("fixed");
        assert_eq!((fixed.id.as_str(), fixed.access_number, fixed.medium, fixed.counters), ("87654321", 3, 7, [Some(42), Some(1234)]));
        assert_eq!(more_records_follow(&f), Ok(false));
        assert_eq!(identity(&f).map(|i| i.medium), Ok(7));
        let t = crate::decode(&f, None).expect("CI 73 decodes");
        assert_eq!((t.address.id.as_str(), t.records.len()), ("87654321", 2));
        assert_eq!(crate::peek_address(&f).map(|a| a.id), Ok("87654321".to_string()));
    }
}
