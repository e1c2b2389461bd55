//! Data information block (EN 13757-3 §6.3): DIF and up to 10 DIFEs, and reading the data field they describe.

use crate::cursor::Cursor;
use crate::record::Function;

/// At most 10 DIFEs follow a DIF (EN 13757-3).
const MAX_DIFE: usize = 10;

/// How the data field is coded (low nibble of the DIF).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Coding {
    NoData,
    /// Binary integer (type B, little endian) of this many bytes.
    Int(usize),
    /// 32-bit IEEE 754 real (type H).
    Real32,
    /// BCD (type A) with this many bytes (2 digits each).
    Bcd(usize),
    /// Length given by the LVAR byte.
    Variable,
    /// Selection for readout: no data.
    Selection,
}

/// What the DIF byte itself says.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum DifKind {
    /// A normal data record follows.
    Data(DataInfo),
    /// 0x0F / 0x1F: manufacturer-specific data to the end of the payload.
    ManufacturerData { more_follows: bool },
    /// 0x2F: idle filler.
    Filler,
    /// 0x7F: global readout request, or a reserved special function (0x3F-0x6F): nothing to read.
    Special(u8),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct DataInfo {
    pub coding: Coding,
    pub function: Function,
    pub storage: u32,
    pub tariff: u32,
    pub subunit: u32,
}

/// The raw data field of a record.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum RawData<'a> {
    None,
    Int(&'a [u8]),
    Real32(&'a [u8]),
    Bcd(&'a [u8]),
    /// Variable length: LVAR byte and the bytes it covers.
    Var(u8, &'a [u8]),
}

/// Read a DIF and its DIFEs. Errors are static reasons for `BadRecord`.
#[inline]
pub(crate) fn read_dib(cur: &mut Cursor<'_>) -> Result<DifKind, &'static str> {
    let dif = cur.u8().ok_or("missing DIF")?;
    match dif {
        0x0F => {
            return Ok(DifKind::ManufacturerData {
                more_follows: false,
            })
        }
        0x1F => return Ok(DifKind::ManufacturerData { more_follows: true }),
        0x2F => return Ok(DifKind::Filler),
        0x3F..=0x7F if dif & 0x0F == 0x0F => return Ok(DifKind::Special(dif)),
        // A special-function DIF with the extension bit set is not defined; meters pad with FF.
        // Read as the special function without it (no data, nothing to decode).
        0x8F..=0xFF if dif & 0x0F == 0x0F => return Ok(DifKind::Special(dif)),
        _ => {}
    }
    let coding = match dif & 0x0F {
        0x0 => Coding::NoData,
        0x1 => Coding::Int(1),
        0x2 => Coding::Int(2),
        0x3 => Coding::Int(3),
        0x4 => Coding::Int(4),
        0x5 => Coding::Real32,
        0x6 => Coding::Int(6),
        0x7 => Coding::Int(8),
        0x8 => Coding::Selection,
        0x9 => Coding::Bcd(1),
        0xA => Coding::Bcd(2),
        0xB => Coding::Bcd(3),
        0xC => Coding::Bcd(4),
        0xD => Coding::Variable,
        0xE => Coding::Bcd(6),
        _ => return Err("special-function DIF with extension bit"),
    };
    let function = match (dif >> 4) & 0x03 {
        0 => Function::Instantaneous,
        1 => Function::Maximum,
        2 => Function::Minimum,
        _ => Function::Error,
    };
    let mut storage: u64 = u64::from((dif >> 6) & 1);
    let mut tariff: u64 = 0;
    let mut subunit: u64 = 0;
    let mut ext = dif & 0x80 != 0;
    let mut n: u32 = 0;
    while ext {
        if n as usize >= MAX_DIFE {
            return Err("more than 10 DIFE bytes");
        }
        let dife = cur.u8().ok_or("DIFE missing at end of data")?;
        // DIFE: bit 7 extension, bit 6 subunit, bits 5-4 tariff, bits 3-0 storage number.
        storage |= u64::from(dife & 0x0F) << (1 + 4 * n);
        tariff |= u64::from((dife >> 4) & 0x03) << (2 * n);
        subunit |= u64::from((dife >> 6) & 0x01) << n;
        ext = dife & 0x80 != 0;
        n += 1;
    }
    let narrow = |v: u64| u32::try_from(v).map_err(|_| "storage number too large");
    Ok(DifKind::Data(DataInfo {
        coding,
        function,
        storage: narrow(storage)?,
        tariff: narrow(tariff)?,
        subunit: narrow(subunit)?,
    }))
}

/// Read the data field described by `coding`.
#[inline]
pub(crate) fn read_data<'a>(
    cur: &mut Cursor<'a>,
    coding: Coding,
) -> Result<RawData<'a>, &'static str> {
    const SHORT: &str = "data field cut off by the end of the telegram";
    Ok(match coding {
        Coding::NoData | Coding::Selection => RawData::None,
        Coding::Int(n) => RawData::Int(cur.take(n).ok_or(SHORT)?),
        Coding::Real32 => RawData::Real32(cur.take(4).ok_or(SHORT)?),
        Coding::Bcd(n) => RawData::Bcd(cur.take(n).ok_or(SHORT)?),
        Coding::Variable => {
            let lvar = cur.u8().ok_or(SHORT)?;
            let len = match lvar {
                0x00..=0xBF => usize::from(lvar),
                0xC0..=0xCF => usize::from(lvar - 0xC0),
                0xD0..=0xDF => usize::from(lvar - 0xD0),
                0xE0..=0xEF => usize::from(lvar - 0xE0),
                0xF0..=0xF4 => 4 * usize::from(lvar - 0xEC),
                0xF5 => 48,
                0xF6 => 64,
                _ => return Err("reserved variable-length code"),
            };
            RawData::Var(lvar, cur.take(len).ok_or(SHORT)?)
        }
    })
}

/// Little-endian unsigned integer of up to 8 bytes.
pub(crate) fn le_u64(bytes: &[u8]) -> u64 {
    bytes
        .iter()
        .rev()
        .take(8)
        .fold(0u64, |acc, b| (acc << 8) | u64::from(*b))
}

/// Little-endian two's complement integer of 1..=8 bytes.
pub(crate) fn le_i64(bytes: &[u8]) -> i64 {
    let n = bytes.len().min(8) as u32;
    if n == 0 {
        return 0;
    }
    let shift = 64 - 8 * n;
    ((le_u64(bytes) << shift) as i64) >> shift
}

/// BCD value (type A, least significant byte first). A top nibble F means negative
/// (EN 13757-3 annex). `None` when any other nibble is not a decimal digit (an error value).
pub(crate) fn bcd_value(bytes: &[u8]) -> Option<i64> {
    let mut value: i64 = 0;
    let mut negative = false;
    for (i, b) in bytes.iter().rev().enumerate() {
        for (j, nibble) in [b >> 4, b & 0x0F].into_iter().enumerate() {
            if i == 0 && j == 0 && nibble == 0x0F {
                negative = true;
                continue;
            }
            if nibble > 9 {
                return None;
            }
            value = value.checked_mul(10)?.checked_add(i64::from(nibble))?;
        }
    }
    Some(if negative { -value } else { value })
}

/// Hex digits most significant byte first, as BCD numbers are printed.
pub(crate) fn hex_msb_first(bytes: &[u8]) -> String {
    hex_upper(bytes.iter().rev())
}

/// Upper-case hex digits of the bytes in the order given (what `hex::encode_upper` prints,
/// written straight into one buffer).
pub(crate) fn hex_upper<'b>(bytes: impl ExactSizeIterator<Item = &'b u8>) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut out = Vec::with_capacity(bytes.len() * 2);
    for &b in bytes {
        out.push(DIGITS[usize::from(b >> 4)]);
        out.push(DIGITS[usize::from(b & 0x0F)]);
    }
    // Only ASCII digits were written, so this cannot fail.
    String::from_utf8(out).unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[u8], expected: Result<(DifKind, usize), &'static str>) {
        let mut c = Cursor::new(input);
        let got = read_dib(&mut c).map(|k| (k, c.pos()));
        assert_eq!(got, expected, "input {input:02X?}");
    }

    fn data(
        coding: Coding,
        function: Function,
        storage: u32,
        tariff: u32,
        subunit: u32,
    ) -> DifKind {
        DifKind::Data(DataInfo {
            coding,
            function,
            storage,
            tariff,
            subunit,
        })
    }

    #[test]
    fn dif_and_dife() {
        check(
            &[0x04],
            Ok((data(Coding::Int(4), Function::Instantaneous, 0, 0, 0), 1)),
        );
        check(
            &[0x44],
            Ok((data(Coding::Int(4), Function::Instantaneous, 1, 0, 0), 1)),
        );
        check(
            &[0x84, 0x10],
            Ok((data(Coding::Int(4), Function::Instantaneous, 0, 1, 0), 2)),
        );
        check(
            &[0xC4, 0x40],
            Ok((data(Coding::Int(4), Function::Instantaneous, 1, 0, 1), 2)),
        );
        check(
            &[0x84, 0x81, 0x01],
            Ok((
                data(Coding::Int(4), Function::Instantaneous, 2 + 32, 0, 0),
                3,
            )),
        );
        check(
            &[0x22],
            Ok((data(Coding::Int(2), Function::Minimum, 0, 0, 0), 1)),
        );
        check(
            &[0x0C],
            Ok((data(Coding::Bcd(4), Function::Instantaneous, 0, 0, 0), 1)),
        );
        check(
            &[0x0F],
            Ok((
                DifKind::ManufacturerData {
                    more_follows: false,
                },
                1,
            )),
        );
        check(&[0x2F], Ok((DifKind::Filler, 1)));
        check(&[0x84], Err("DIFE missing at end of data"));
        check(
            &[
                0x84, 0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0x0F,
            ],
            Err("more than 10 DIFE bytes"),
        );
        check(
            &[0xC4, 0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0x8F, 0x0F],
            Err("storage number too large"),
        );
    }

    #[test]
    fn numbers() {
        assert_eq!(le_i64(&[0xFF, 0xFF]), -1);
        assert_eq!(le_i64(&[0xFF, 0x7F]), 32767);
        assert_eq!(
            le_i64(&[0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x80]),
            i64::MIN
        );
        assert_eq!(le_u64(&[0x34, 0x12]), 0x1234);
        assert_eq!(bcd_value(&[0x78, 0x56, 0x34, 0x12]), Some(12345678));
        assert_eq!(bcd_value(&[0x23, 0xF1]), Some(-123));
        assert_eq!(bcd_value(&[0xEE, 0xEE]), None);
        assert_eq!(bcd_value(&[0x99; 12]), None);
        assert_eq!(hex_msb_first(&[0xEE, 0x0A]), "0AEE");
        let all: Vec<u8> = (0..=255).collect();
        assert_eq!(hex_upper(all.iter()), hex::encode_upper(&all));
        assert_eq!(hex_upper([].iter()), "");
    }
}
