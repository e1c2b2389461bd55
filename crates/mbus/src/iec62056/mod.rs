//! IEC 62056-21 (optical port) readouts and their OBIS data sets: bytes in, a typed readout
//! out. Pure: no IO, no panics on any input.
//!
//! A readout is an identification line `/XXXZ<ident>` CR LF (`XXX` the manufacturer's three
//! letters, `Z` the baud-rate character) followed by the data: in a mode A/B/C data message
//! `STX <data lines> ! CR LF ETX BCC`, the BCC being the XOR of every byte after STX up to and
//! including ETX; in a DSMR P1 telegram (mode D push, the same data lines) an empty line, the
//! data lines and `!` with an optional CRC-16 in hexadecimal. A handheld's capture may also
//! hold the data lines and `!` without STX/ETX.
//!
//! A data line holds one or more data sets `address(value*unit)(value*unit)...`; an address is
//! an OBIS code `A-B:C.D.E*F` whose `A-B:` and `*F` parts may be missing, and whose C group
//! may be one of the letters C, F, L, P (OBIS 96 to 99, as in `C.1.0` or `F.F`).

use serde::Serialize;
use thiserror::Error;

mod capture;

pub use capture::{is_capture, split_capture, Piece};

/// Start of text: opens a data message.
pub const STX: u8 = 0x02;
/// End of text: closes a data message, followed by the BCC.
pub const ETX: u8 = 0x03;
/// Acknowledge: opens the option-select message.
pub const ACK: u8 = 0x06;
/// Negative acknowledge: asks for the data message again.
pub const NAK: u8 = 0x15;

/// Why a readout cannot be read; `line` counts from 1 at the identification line.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum ReadoutError {
    /// No identification line `/XXXZ...` at the start.
    #[error("line {line}: not an identification line /XXXZ...: {reason}")]
    BadIdentification { line: usize, reason: &'static str },
    /// The baud-rate character of the identification names no known speed.
    #[error("line 1: the identification's baud-rate character '{}' names no known speed", char::from(*character).escape_default())]
    UnknownBaud { character: u8 },
    /// The data message stops before its end.
    #[error("line {line}: the readout stops before its end ({missing} missing)")]
    Truncated { line: usize, missing: &'static str },
    /// The BCC after ETX does not match the data.
    #[error("wrong BCC: the readout says {expected:02X}, the data gives {actual:02X}")]
    WrongBcc { expected: u8, actual: u8 },
    /// The CRC after `!` (DSMR) does not match the data.
    #[error("line {line}: wrong CRC: the readout says {expected:04X}, the data gives {actual:04X}")]
    WrongCrc { line: usize, expected: u16, actual: u16 },
    /// A data set that cannot be read.
    #[error("line {line}: unreadable data set '{text}': {reason}")]
    BadDataSet { line: usize, text: String, reason: &'static str },
}

impl ReadoutError {
    /// Stable machine-readable code (snake_case).
    pub fn code(&self) -> &'static str {
        match self {
            ReadoutError::BadIdentification { .. } => "bad_identification",
            ReadoutError::UnknownBaud { .. } => "unknown_baud_character",
            ReadoutError::Truncated { .. } => "truncated",
            ReadoutError::WrongBcc { .. } => "wrong_bcc",
            ReadoutError::WrongCrc { .. } => "wrong_crc",
            ReadoutError::BadDataSet { .. } => "bad_data_set",
        }
    }

    /// The readout's line the error is on (1: the identification).
    pub fn line(&self) -> usize {
        match self {
            ReadoutError::BadIdentification { line, .. }
            | ReadoutError::Truncated { line, .. }
            | ReadoutError::WrongCrc { line, .. }
            | ReadoutError::BadDataSet { line, .. } => *line,
            ReadoutError::UnknownBaud { .. } => 1,
            // The BCC closes the data message: its error is on the last line.
            ReadoutError::WrongBcc { .. } => 0,
        }
    }
}

/// The protocol mode an identification's baud-rate character tells.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Mode {
    /// No baud-rate switch: 300 baud throughout, no acknowledgement.
    A,
    /// The meter switches to the announced speed by itself, no acknowledgement.
    B,
    /// The reader acknowledges (and may pick readout or programming), then both switch.
    C,
}

/// The mode and speed of a baud-rate character: `0`-`6` mode C (300 to 19,200 baud),
/// `A`-`G` mode B (300 to 19,200), any other printable character but `/`, `!`, `7`-`9`,
/// `H`, `I` (reserved) mode A at 300 baud.
pub fn baud_of(character: u8) -> Result<(Mode, u32), ReadoutError> {
    const SPEEDS: [u32; 7] = [300, 600, 1200, 2400, 4800, 9600, 19200];
    let speed = |i: u8| SPEEDS.get(usize::from(i)).copied();
    match character {
        b'0'..=b'6' => speed(character - b'0').map(|b| (Mode::C, b)),
        b'A'..=b'G' => speed(character - b'A').map(|b| (Mode::B, b)),
        b'7'..=b'9' | b'H' | b'I' | b'/' | b'!' => None,
        0x21..=0x7E => Some((Mode::A, 300)),
        _ => None,
    }
    .ok_or(ReadoutError::UnknownBaud { character })
}

/// The baud-rate character of mode C for `baud` (`5` for 9600), if it is one.
pub fn mode_c_character(baud: u32) -> Option<u8> {
    [300u32, 600, 1200, 2400, 4800, 9600, 19200].iter().position(|b| *b == baud).and_then(|i| u8::try_from(i).ok()).map(|i| b'0' + i)
}

/// The identification message `/XXXZ<ident>`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Identification {
    /// The three letters as sent (`ISk`); a lower-case third letter means the meter answers
    /// within 20 ms instead of 200 ms.
    pub flag: String,
    /// Upper case: the manufacturer's id (`ISK`).
    pub manufacturer: String,
    /// The baud-rate character.
    pub baud_character: char,
    pub mode: Mode,
    /// The speed the data message comes at (mode B, C), or 300 (mode A).
    pub baud: u32,
    /// The meter's type identification (with an enhanced `\W` part, if sent).
    pub ident: String,
}

/// Read an identification line (without or with its CR LF).
pub fn parse_identification(line: &[u8]) -> Result<Identification, ReadoutError> {
    let bad = |reason| ReadoutError::BadIdentification { line: 1, reason };
    let line = trim_end(line);
    let rest = line.strip_prefix(b"/").ok_or(bad("it does not start with '/'"))?;
    if rest.len() < 4 {
        return Err(bad("shorter than /XXXZ"));
    }
    let (flag, rest) = rest.split_at(3);
    if !flag.iter().all(u8::is_ascii_alphabetic) {
        return Err(bad("the manufacturer is not three letters"));
    }
    let (&z, ident) = rest.split_first().ok_or(bad("no baud-rate character"))?;
    let (mode, baud) = baud_of(z)?;
    if ident.len() > 96 || !ident.iter().all(|b| (0x20..=0x7E).contains(b)) {
        return Err(bad("the identification holds characters that are not printable"));
    }
    let flag = String::from_utf8_lossy(flag).into_owned();
    Ok(Identification {
        manufacturer: flag.to_ascii_uppercase(),
        flag,
        baud_character: char::from(z),
        mode,
        baud,
        ident: String::from_utf8_lossy(ident).trim().to_string(),
    })
}

/// Block check character: the XOR of `bytes`.
pub fn bcc(bytes: &[u8]) -> u8 {
    bytes.iter().fold(0, |a, b| a ^ b)
}

/// The data message a meter sends (for the simulator, benches and tests): STX, each data line
/// ended by CR LF, `!` CR LF, ETX and the BCC of everything after STX.
pub fn data_message<S: AsRef<str>>(lines: &[S]) -> Vec<u8> {
    let mut out = vec![STX];
    for line in lines {
        out.extend_from_slice(line.as_ref().as_bytes());
        out.extend_from_slice(b"\r\n");
    }
    out.extend_from_slice(b"!\r\n");
    out.push(ETX);
    let check = bcc(&out[1..]);
    out.push(check);
    out
}

/// A whole readout as captured: the identification line (`/LGZ5...`) then the data message.
pub fn readout_bytes<S: AsRef<str>>(identification: &str, lines: &[S]) -> Vec<u8> {
    let mut out = format!("{identification}\r\n").into_bytes();
    out.extend(data_message(lines));
    out
}

/// CRC-16/ARC (polynomial 0xA001 reflected, initial 0), the DSMR P1 telegram check.
pub fn crc16_arc(bytes: &[u8]) -> u16 {
    let mut crc = 0u16;
    for b in bytes {
        crc ^= u16::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xA001 } else { crc >> 1 };
        }
    }
    crc
}

/// How a readout's integrity was checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Check {
    /// A data message with its BCC, which matched.
    Bcc,
    /// A DSMR telegram with its CRC-16, which matched.
    Crc,
    /// Data lines and `!` without a check (a capture written as text, an old DSMR telegram).
    None,
}

/// An OBIS code. Letters of the C group are 96 (C), 97 (F), 98 (L), 99 (P); so are letters
/// in D and E. `None` for a group the address does not give.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Obis {
    pub a: Option<u8>,
    pub b: Option<u8>,
    pub c: u8,
    pub d: u8,
    pub e: Option<u8>,
    /// The billing-period (historical value) group; `None` or 255 for the current value.
    pub f: Option<u8>,
}

impl Obis {
    /// Read an address (`1-0:1.8.0*255`, `1.8.1`, `C.1.0`, `F.F`); `None` if it is no OBIS code.
    pub fn parse(text: &str) -> Option<Obis> {
        let (ab, rest) = match text.split_once(':') {
            Some((ab, rest)) => (Some(ab), rest),
            None => (None, text),
        };
        let (a, b) = match ab {
            None => (None, None),
            Some(ab) => {
                let (a, b) = ab.split_once('-')?;
                (Some(group(a)?), Some(group(b)?))
            }
        };
        let (cde, f) = match rest.split_once(['*', '&']) {
            Some((cde, f)) => (cde, Some(group(f)?)),
            None => (rest, None),
        };
        let mut parts = cde.split('.');
        let c = group(parts.next()?)?;
        let d = group(parts.next()?)?;
        let e = match parts.next() {
            Some(e) => Some(group(e)?),
            None => None,
        };
        if parts.next().is_some() {
            return None;
        }
        Some(Obis { a, b, c, d, e, f })
    }

    /// Whether this is the current value (no billing period named).
    pub fn is_current(&self) -> bool {
        self.f.is_none_or(|f| f == 255)
    }

    /// The groups C.D.E (E as 0 when not given).
    pub fn cde(&self) -> (u8, u8, u8) {
        (self.c, self.d, self.e.unwrap_or(0))
    }
}

impl std::fmt::Display for Obis {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if let (Some(a), Some(b)) = (self.a, self.b) {
            write!(f, "{a}-{b}:")?;
        }
        write!(f, "{}.{}", self.c, self.d)?;
        if let Some(e) = self.e {
            write!(f, ".{e}")?;
        }
        if let Some(g) = self.f {
            write!(f, "*{g}")?;
        }
        Ok(())
    }
}

/// A group of an OBIS code: a number 0-255, or one of the letters C, F, L, P (96-99).
fn group(text: &str) -> Option<u8> {
    match text {
        "C" => Some(96),
        "F" => Some(97),
        "L" => Some(98),
        "P" => Some(99),
        _ if !text.is_empty() && text.len() <= 3 && text.bytes().all(|b| b.is_ascii_digit()) => text.parse().ok(),
        _ => None,
    }
}

/// One `(value*unit)` group of a data set.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Value {
    /// The value as sent (`0012345.678`, `260215200523W`, empty).
    pub text: String,
    /// The unit as sent (`kWh`), if any.
    pub unit: Option<String>,
}

impl Value {
    /// The value as a number, if it is one (`.` or `,` as the decimal mark).
    pub fn number(&self) -> Option<f64> {
        let t = self.text.trim();
        let digits = t.strip_prefix(['+', '-']).unwrap_or(t);
        if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit() || b == b'.' || b == b',') || !digits.bytes().any(|b| b.is_ascii_digit()) {
            return None;
        }
        t.replace(',', ".").parse::<f64>().ok().filter(|v| v.is_finite())
    }
}

/// A data set: its address and one or more values.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct DataSet {
    /// The readout's line it is on (1: the identification).
    pub line: usize,
    /// The address as sent (may be empty: a line of values only).
    pub address: String,
    /// The address read as an OBIS code, if it is one.
    pub obis: Option<Obis>,
    pub values: Vec<Value>,
}

/// A whole readout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Readout {
    pub identification: Identification,
    pub data_sets: Vec<DataSet>,
    pub check: Check,
}

/// The longest data line read (a data set is at most a few hundred characters).
const MAX_LINE: usize = 4096;

/// Read a readout: the identification line, then a data message (`STX ... ! CR LF ETX BCC`,
/// the BCC checked), or data lines ended by `!` (with a DSMR CRC checked when present).
/// Bytes after the readout's end are ignored.
pub fn parse_readout(bytes: &[u8]) -> Result<Readout, ReadoutError> {
    let first_end = bytes.iter().position(|b| *b == b'\n').ok_or(ReadoutError::Truncated { line: 1, missing: "the end of the identification line" })?;
    let identification = parse_identification(bytes.get(..first_end).unwrap_or_default())?;
    let rest = bytes.get(first_end + 1..).unwrap_or_default();
    // A data message opens with STX (blank lines before it are allowed).
    let lead = rest.iter().take_while(|b| matches!(b, b'\r' | b'\n')).count();
    let lead_lines = rest.iter().take(lead).filter(|b| **b == b'\n').count();
    match rest.get(lead) {
        Some(&STX) => {
            let body = rest.get(lead + 1..).unwrap_or_default();
            let data_line = 2 + lead_lines;
            let Some(etx) = body.iter().position(|b| *b == ETX) else {
                let lines = body.iter().filter(|b| **b == b'\n').count();
                return Err(ReadoutError::Truncated { line: data_line + lines, missing: "ETX and the BCC" });
            };
            let block = body.get(..etx).unwrap_or_default();
            let lines = block.iter().filter(|b| **b == b'\n').count();
            let Some(&sent) = body.get(etx + 1) else {
                return Err(ReadoutError::Truncated { line: data_line + lines, missing: "the BCC" });
            };
            let actual = bcc(body.get(..=etx).unwrap_or_default());
            if sent & 0x7F != actual & 0x7F {
                return Err(ReadoutError::WrongBcc { expected: sent, actual });
            }
            let (data_sets, _) = data_lines(block, data_line)?;
            Ok(Readout { identification, data_sets, check: Check::Bcc })
        }
        _ => {
            let (data_sets, end) = data_lines(rest, 2)?;
            // A CRC after `!` covers everything from `/` to `!`.
            let check = match end {
                Some(End { at, crc: Some(sent), line }) => {
                    let covered = bytes.get(..first_end + 1 + at + 1).unwrap_or_default();
                    let actual = crc16_arc(covered);
                    if sent != actual {
                        return Err(ReadoutError::WrongCrc { line, expected: sent, actual });
                    }
                    Check::Crc
                }
                Some(_) => Check::None,
                None => {
                    let lines = rest.iter().filter(|b| **b == b'\n').count();
                    return Err(ReadoutError::Truncated { line: 2 + lines, missing: "the end mark '!'" });
                }
            };
            Ok(Readout { identification, data_sets, check })
        }
    }
}

/// Where the data lines ended: the offset of `!`, the CRC after it (if any), its line.
struct End {
    at: usize,
    crc: Option<u16>,
    line: usize,
}

/// Read data lines from `block` (its first line is readout line `first`) up to a line
/// starting with `!`. In a data message the `!` may be missing (some meters end at ETX).
fn data_lines(block: &[u8], first: usize) -> Result<(Vec<DataSet>, Option<End>), ReadoutError> {
    let mut sets = Vec::new();
    let mut offset = 0usize;
    for (number, raw) in (first..).zip(block.split(|b| *b == b'\n')) {
        let line = trim_end(raw);
        let trimmed_start = line.iter().take_while(|b| **b == b' ').count();
        let line = line.get(trimmed_start..).unwrap_or_default();
        if let Some(after) = line.strip_prefix(b"!") {
            let crc = crc_of(after).map_err(|reason| ReadoutError::BadDataSet { line: number, text: text_of(line), reason })?;
            return Ok((sets, Some(End { at: offset + trimmed_start, crc, line: number })));
        }
        if line.len() > MAX_LINE {
            return Err(ReadoutError::BadDataSet { line: number, text: text_of(line.get(..40).unwrap_or_default()), reason: "the line is too long" });
        }
        data_sets(line, number, &mut sets)?;
        offset += raw.len() + 1;
    }
    // No `!`: a data message may end at ETX; elsewhere the caller says the end is missing.
    Ok((sets, None))
}

/// The CRC written after `!` (DSMR: four hex digits; some meters write fewer).
fn crc_of(after: &[u8]) -> Result<Option<u16>, &'static str> {
    let text = trim_end(after);
    let text: Vec<u8> = text.iter().copied().filter(|b| *b != b' ').collect();
    if text.is_empty() {
        return Ok(None);
    }
    if text.len() > 4 || !text.iter().all(u8::is_ascii_hexdigit) {
        return Err("the end mark '!' is followed by something that is not a CRC");
    }
    let s = String::from_utf8_lossy(&text);
    u16::from_str_radix(&s, 16).map(Some).map_err(|_| "unreadable CRC")
}

/// Read the data sets of one line into `out`.
fn data_sets(line: &[u8], number: usize, out: &mut Vec<DataSet>) -> Result<(), ReadoutError> {
    let bad = |text: &[u8], reason| ReadoutError::BadDataSet { line: number, text: text_of(text), reason };
    let mut rest = line;
    while !rest.is_empty() {
        let open = rest.iter().position(|b| *b == b'(').ok_or_else(|| bad(rest, "an address without a value in brackets"))?;
        let address = rest.get(..open).unwrap_or_default();
        if address.iter().any(|b| !(0x21..=0x7E).contains(b) || matches!(b, b')' | b'/' | b'!')) {
            return Err(bad(rest, "the address holds a character that is not allowed"));
        }
        let mut values = Vec::new();
        let mut at = open;
        while rest.get(at) == Some(&b'(') {
            let inner = rest.get(at + 1..).unwrap_or_default();
            let close = inner.iter().position(|b| matches!(b, b')' | b'(')).filter(|i| inner.get(*i) == Some(&b')')).ok_or_else(|| bad(rest, "a value without its closing bracket"))?;
            let v = inner.get(..close).unwrap_or_default();
            if v.iter().any(|b| !(0x20..=0x7E).contains(b)) {
                return Err(bad(rest, "a value holds a character that is not printable"));
            }
            let (text, unit) = match v.iter().position(|b| *b == b'*') {
                Some(star) => (v.get(..star).unwrap_or_default(), Some(text_of(v.get(star + 1..).unwrap_or_default()))),
                None => (v, None),
            };
            values.push(Value { text: text_of(text), unit: unit.filter(|u| !u.is_empty()) });
            at += close + 2;
        }
        let address = text_of(address);
        out.push(DataSet { line: number, obis: Obis::parse(&address), address, values });
        rest = rest.get(at..).unwrap_or_default();
        let spaces = rest.iter().take_while(|b| matches!(b, b' ' | b'\t')).count();
        rest = rest.get(spaces..).unwrap_or_default();
    }
    Ok(())
}

fn trim_end(line: &[u8]) -> &[u8] {
    let n = line.iter().rev().take_while(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t')).count();
    line.get(..line.len() - n).unwrap_or_default()
}

fn text_of(bytes: &[u8]) -> String {
    String::from_utf8_lossy(bytes).trim().to_string()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A data message as a meter sends it: STX, the lines, `!` CR LF ETX and the BCC.
    fn message(ident: &str, lines: &[&str]) -> Vec<u8> {
        readout_bytes(ident, lines)
    }

    #[test]
    fn bcc_vectors_of_the_standard() {
        // SOH W2 STX C003(910324092239) ETX: BCC over everything after SOH is 0x1B.
        let v = [0x01u8, 0x57, 0x32, 0x02, 0x43, 0x30, 0x30, 0x33, 0x28, 0x39, 0x31, 0x30, 0x33, 0x32, 0x34, 0x30, 0x39, 0x32, 0x32, 0x33, 0x39, 0x29, 0x03];
        assert_eq!(bcc(&v[1..]), 0x1B);
        assert_eq!(bcc(b"P0\x02(1234567)\x03"), b'P');
    }

    #[test]
    fn baud_characters() {
        assert_eq!(baud_of(b'0'), Ok((Mode::C, 300)));
        assert_eq!(baud_of(b'5'), Ok((Mode::C, 9600)));
        assert_eq!(baud_of(b'6'), Ok((Mode::C, 19200)));
        assert_eq!(baud_of(b'A'), Ok((Mode::B, 300)));
        assert_eq!(baud_of(b'E'), Ok((Mode::B, 4800)));
        assert_eq!(baud_of(b'-'), Ok((Mode::A, 300)));
        for bad in [b'7', b'9', b'H', b'I', b'/', 0x01, 0xC5] {
            assert_eq!(baud_of(bad), Err(ReadoutError::UnknownBaud { character: bad }), "{bad}");
        }
        assert_eq!(mode_c_character(9600), Some(b'5'));
        assert_eq!(mode_c_character(38400), None);
        let e = parse_identification(b"/LGZ9ZMD3104407.B32\r\n").expect_err("9");
        assert_eq!(e.code(), "unknown_baud_character");
        assert!(e.to_string().contains("'9'"), "{e}");
    }

    #[test]
    fn identification_lines() {
        let id = parse_identification(b"/ISk5\\2MT382-1000\r\n").expect("iskra");
        assert_eq!((id.flag.as_str(), id.manufacturer.as_str(), id.mode, id.baud), ("ISk", "ISK", Mode::C, 9600));
        assert_eq!(id.ident, "\\2MT382-1000");
        let id = parse_identification(b"/NWA-WARMTELINK").expect("mode A");
        assert_eq!((id.mode, id.baud, id.ident.as_str()), (Mode::A, 300, "WARMTELINK"));
        assert!(parse_identification(b"LGZ5").is_err());
        assert!(parse_identification(b"/L1Z5abc").is_err());
        assert!(parse_identification(b"/LGZ").is_err());
    }

    #[test]
    fn obis_codes() {
        let o = Obis::parse("1-0:1.8.0*255").expect("full");
        assert_eq!((o.a, o.b, o.cde(), o.is_current()), (Some(1), Some(0), (1, 8, 0), true));
        assert_eq!(Obis::parse("1.8.1").expect("short").cde(), (1, 8, 1));
        assert_eq!(Obis::parse("C.1.0").expect("letter").cde(), (96, 1, 0));
        assert_eq!(Obis::parse("F.F").expect("F.F").cde(), (97, 97, 0));
        assert!(!Obis::parse("1.8.0*01").expect("history").is_current());
        assert_eq!(Obis::parse("0-0:96.1.1").expect("dsmr").to_string(), "0-0:96.1.1");
        for bad in ["", "1", "1.8.0.0.1", "X.1.0", "1-0:", "1..0", "1.8.1000", "a-b:1.8.0"] {
            assert_eq!(Obis::parse(bad), None, "{bad}");
        }
    }

    #[test]
    fn a_landis_gyr_style_mode_c_readout() {
        let r = message(
            "/LGZ5ZMD3104407.B32",
            &["F.F(00000000)", "0.0.0(12345678)", "C.1.0(87654321)", "1.8.0(0012345.678*kWh)", "1.8.1(0008000.001*kWh)1.8.2(0004345.677*kWh)", "2.8.0(0000042.100*kWh)", "1.7.0(01.234*kW)", "0.9.1(143005)", "0.9.2(260215)", "C.7.0(0003)(0012)"],
        );
        let readout = parse_readout(&r).expect("readout");
        assert_eq!(readout.check, Check::Bcc);
        assert_eq!(readout.identification.manufacturer, "LGZ");
        assert_eq!(readout.data_sets.len(), 11);
        let tariff2 = &readout.data_sets[5];
        assert_eq!((tariff2.address.as_str(), tariff2.line, tariff2.values[0].number()), ("1.8.2", 6, Some(4345.677)));
        assert_eq!(tariff2.values[0].unit.as_deref(), Some("kWh"));
        let c7 = &readout.data_sets[10];
        assert_eq!(c7.values.len(), 2, "two value groups");
        assert_eq!(c7.values[1].number(), Some(12.0));
    }

    #[test]
    fn with_medium_and_channel_and_a_dsmr_telegram() {
        let r = message("/ISk5\\2MT382-1000", &["1-0:1.8.0(000123.456*kWh)", "1-0:2.8.0(000001.000*kWh)", "1-0:1.7.0(0.250*kW)"]);
        let readout = parse_readout(&r).expect("iskra");
        assert_eq!(readout.data_sets[0].obis.expect("obis").cde(), (1, 8, 0));
        // The heat telegram of ndokter/dsmr_parser, CRC 0x0B9F written unpadded.
        let dsmr = b"/NWA-WARMTELINK\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(260215200523W)\r\n0-0:96.1.1(ADC3100000158491)\r\n0-0:96.13.1()\r\n0-0:96.13.0()\r\n0-1:24.1.0(004)\r\n0-1:96.1.0(621848012D2C0B0C)\r\n0-1:24.2.1(260215200523W)(240.860*GJ)\r\n!B9F\r\n";
        let readout = parse_readout(dsmr).expect("dsmr");
        assert_eq!(readout.check, Check::Crc);
        assert_eq!(readout.data_sets.len(), 8);
        assert_eq!(readout.data_sets[7].values[1].unit.as_deref(), Some("GJ"));
        let mut broken = dsmr.to_vec();
        broken[40] ^= 1;
        assert_eq!(parse_readout(&broken).map_err(|e| e.code()), Err("wrong_crc"));
    }

    #[test]
    fn several_data_sets_on_a_line_without_a_check() {
        let r = b"/KAM0KAMSTRUP382\r\n6.8(0006047*kWh)6.26(00428.35*m3)9.21(99999999)\r\n!\r\n";
        let readout = parse_readout(r).expect("readout");
        assert_eq!(readout.check, Check::None);
        let addresses: Vec<_> = readout.data_sets.iter().map(|d| d.address.as_str()).collect();
        assert_eq!(addresses, ["6.8", "6.26", "9.21"]);
        assert_eq!(readout.data_sets[1].values[0].unit.as_deref(), Some("m3"));
    }

    #[test]
    fn bad_readouts_say_what_and_where() {
        let good = message("/LGZ5ZMD", &["1.8.0(0012345.678*kWh)", "2.8.0(0000042.100*kWh)"]);
        let mut wrong = good.clone();
        let last = wrong.len() - 1;
        wrong[last] ^= 0x11;
        let e = parse_readout(&wrong).expect_err("bcc");
        assert_eq!(e.code(), "wrong_bcc");
        assert!(e.to_string().contains("wrong BCC"), "{e}");
        let e = parse_readout(&good[..good.len() - 1]).expect_err("cut before the bcc");
        assert_eq!(e.code(), "truncated");
        let e = parse_readout(&good[..30]).expect_err("cut");
        assert_eq!(e.code(), "truncated");
        let broken = message("/LGZ5ZMD", &["1.8.0(0012345.678*kWh)", "2.8.0(0000042.100*kWh"]);
        let e = parse_readout(&broken).expect_err("data set");
        assert_eq!((e.code(), e.line()), ("bad_data_set", 3));
        assert!(e.to_string().contains("line 3") && e.to_string().contains("2.8.0"), "{e}");
        let e = parse_readout(b"/LGZ5ZMD\r\n1.8.0(1*kWh)\r\n").expect_err("no end");
        assert_eq!(e.code(), "truncated");
    }

    #[test]
    fn a_capture_with_requests_and_three_readouts() {
        let mut file = b"# handheld capture\r\n/?!\r\n".to_vec();
        file.extend(message("/LGZ5ZMD", &["0.0.0(1)", "1.8.0(1*kWh)"]));
        file.extend_from_slice(b"\r\n\x06050\r\n");
        file.extend(message("/LGZ5ZMD", &["0.0.0(2)", "1.8.0(2*kWh)"]));
        file.extend_from_slice(b"\r\n/ISK5MT\r\n1.8.0(3*kWh)\r\n!\r\njunk\r\n");
        assert!(is_capture(&file));
        assert!(!is_capture(b"# x\n0A0B0C\n"));
        let pieces = split_capture(&file);
        let readouts: Vec<_> = pieces
            .iter()
            .filter_map(|p| match p {
                Piece::Readout { start, end, line } => Some((parse_readout(&file[*start..*end]).expect("readout"), *line)),
                Piece::Stray { .. } => None,
            })
            .collect();
        assert_eq!(readouts.len(), 3);
        assert_eq!(readouts.iter().map(|(_, l)| *l).collect::<Vec<_>>(), [3, 9, 14]);
        assert_eq!(readouts[1].0.data_sets[0].values[0].text, "2");
        assert_eq!(pieces.last(), Some(&Piece::Stray { line: 17 }));
    }
}
