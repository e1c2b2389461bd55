//! The application-layer record loop (EN 13757-3): DIB + VIB + data, turned into typed [`Record`]s.

use crate::cursor::Cursor;
use crate::datetime;
use crate::dif::{self, bcd_value, hex_msb_first, le_i64, le_u64, DifKind, RawData};
use crate::error::DecodeError;
use crate::record::{Function, Quantity, Record, Unit, Value};
use crate::vif::{self, Interp, VifInfo};

/// A record together with the raw bytes some manufacturer-specific lookups need.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct ParsedRecord {
    pub record: Record,
    /// DIF byte as sent.
    pub dif: u8,
    /// The record's DIB and VIB bytes as sent (its "format", for compact frames); only filled
    /// when asked for (learning a layout), empty otherwise.
    pub format: Vec<u8>,
    /// VIF and VIFE bytes as sent.
    pub vif_bytes: Head,
    /// The data field as sent (without LVAR).
    pub data: Head,
    /// Offset in the payload just after the record's data: the data field is the `data.len()`
    /// bytes before it (how a manufacturer family reads a long manufacturer-specific record).
    pub end: usize,
}

/// The first bytes of a field, kept without allocating; `get` is `None` when the field is longer.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub(crate) struct Head {
    bytes: [u8; 8],
    len: usize,
}

impl Head {
    pub(crate) fn of(s: &[u8]) -> Head {
        let mut bytes = [0u8; 8];
        // Byte by byte: at most 8, cheaper than a call to memcpy of a variable length.
        for (b, v) in bytes.iter_mut().zip(s) {
            *b = *v;
        }
        Head {
            bytes,
            len: s.len(),
        }
    }

    /// The whole field, if it fits.
    pub(crate) fn get(&self) -> Option<&[u8]> {
        self.bytes.get(..self.len)
    }

    pub(crate) fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// The field's whole length (also when longer than what is kept).
    #[allow(dead_code)]
    pub(crate) fn len(&self) -> usize {
        self.len
    }
}

/// Parse every record of a decrypted application payload (all or an error).
#[cfg(test)]
pub(crate) fn parse(payload: &[u8]) -> Result<Vec<ParsedRecord>, DecodeError> {
    match parse_lenient(payload, true) {
        (out, None) => Ok(out),
        (_, Some(e)) => Err(e),
    }
}

/// Parse records up to the first unreadable one: the complete records, and the error if any.
/// `want_format`: also keep each record's DIB/VIB bytes (for learning compact-frame layouts).
/// (The pipeline uses [`read`], families [`parse_values`]; this is for tests.)
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn parse_lenient(
    payload: &[u8],
    want_format: bool,
) -> (Vec<ParsedRecord>, Option<DecodeError>) {
    let mut out: Vec<ParsedRecord> = Vec::with_capacity(8);
    let r = parse_each(payload, &mut out, |p, raw| {
        p.dif = raw.dif;
        if want_format {
            p.format = raw.format.to_vec();
        }
        p.vif_bytes = Head::of(raw.vif_bytes);
        p.data = Head::of(raw.data);
        p.end = raw.end;
    });
    (out, r.err())
}

/// [`parse_lenient`] for a family that keeps only the typed records (no raw parts kept).
pub(crate) fn parse_values(payload: &[u8]) -> (Vec<Record>, Option<DecodeError>) {
    let mut out: Vec<Record> = Vec::with_capacity((payload.len() / 5).clamp(4, 64));
    let r = parse_each(payload, &mut out, |_, _| {});
    (out, r.err())
}

/// [`parse_values`], also showing each record's DIF, VIB and data field (as sent) to `seen`.
pub(crate) fn parse_values_seen(
    payload: &[u8],
    mut seen: impl FnMut(u8, &[u8], &[u8]),
) -> (Vec<Record>, Option<DecodeError>) {
    let mut out: Vec<Record> = Vec::with_capacity((payload.len() / 5).clamp(4, 64));
    let r = parse_each(payload, &mut out, |_, raw| {
        seen(raw.dif, raw.vif_bytes, raw.data)
    });
    (out, r.err())
}

/// What the record loop pushes for each record: the typed record alone (the pipeline), or the
/// record with room for its raw parts, which the loop's sink then fills in (families).
trait Item {
    fn of(record: Record) -> Self;
}

impl Item for Record {
    #[inline(always)]
    fn of(record: Record) -> Self {
        record
    }
}

impl Item for ParsedRecord {
    #[inline(always)]
    fn of(record: Record) -> Self {
        ParsedRecord {
            record,
            dif: 0,
            format: Vec::new(),
            vif_bytes: Head::default(),
            data: Head::default(),
            end: 0,
        }
    }
}

/// What the decoding pipeline keeps of a payload's records: the typed records, the Kamstrup
/// info registers seen among them, where a manufacturer block (DIF 0F/1F) starts, and, when
/// learning a compact-frame layout, the records with their raw bytes.
#[derive(Debug, Default)]
pub(crate) struct Read {
    pub records: Vec<Record>,
    pub kam: crate::info::KamRegisters,
    /// Length of the manufacturer data after a DIF 0F/1F that ends the payload (when not empty).
    pub block_len: Option<usize>,
    /// Only when learning: every record with its DIB/VIB bytes.
    pub learned: Vec<ParsedRecord>,
    /// Manufacturer-specific records (VIF 7F/FF), for a family to read: the record's index
    /// among `records`, its VIB, and where its data field lies in the payload (start, end).
    pub mfct: Vec<(usize, Head, usize, usize)>,
}

/// The record loop for the decoding pipeline: like [`parse_lenient`] without building a
/// [`ParsedRecord`] per record (their raw parts are looked at once, as they go by), unless
/// `learn` asks for them.
pub(crate) fn read(payload: &[u8], learn: bool) -> (Read, Option<DecodeError>) {
    let mut out = Read {
        // About one record per 5 bytes in real payloads: one allocation for most telegrams.
        records: Vec::with_capacity((payload.len() / 5).clamp(4, 64)),
        ..Read::default()
    };
    let Read {
        records,
        kam,
        block_len,
        learned,
        mfct,
    } = &mut out;
    let mut index = 0usize;
    let r = parse_each(payload, records, |record: &mut Record, raw| {
        kam.see(raw.dif, raw.vif_bytes, raw.data);
        if matches!(raw.dif, 0x0F | 0x1F) {
            *block_len = Some(raw.data.len());
        }
        if matches!(raw.vif_bytes.first(), Some(0x7F | 0xFF)) && raw.vif_bytes.len() <= 8 {
            let start = raw.end.saturating_sub(raw.data.len());
            mfct.push((index, Head::of(raw.vif_bytes), start, raw.end));
        }
        index += 1;
        if learn {
            learned.push(ParsedRecord {
                record: record.clone(),
                dif: raw.dif,
                format: raw.format.to_vec(),
                vif_bytes: Head::of(raw.vif_bytes),
                data: Head::of(raw.data),
                end: raw.end,
            });
        }
    });
    (out, r.err())
}

/// A record's bytes as sent, handed to the record loop's sink with the typed record.
struct RawParts<'p> {
    dif: u8,
    /// DIB and VIB (the record's "format"); just the DIF for manufacturer data.
    format: &'p [u8],
    vif_bytes: &'p [u8],
    /// The data field (without LVAR); for manufacturer data, everything after the DIF.
    data: &'p [u8],
    /// Offset in the payload just after the data field.
    end: usize,
}

/// Read every record into `records` and show each to `seen` with its raw parts, up to the end
/// or the first unreadable record.
fn parse_each<'p, T: Item>(
    payload: &'p [u8],
    records: &mut Vec<T>,
    mut seen: impl FnMut(&mut T, RawParts<'p>),
) -> Result<(), DecodeError> {
    let mut cur = Cursor::new(payload);
    while !cur.is_empty() {
        let offset = cur.pos();
        let dif_byte = payload.get(offset).copied().unwrap_or(0);
        let bad = |reason: &'static str| DecodeError::BadRecord { offset, reason };
        let info = match dif::read_dib(&mut cur).map_err(bad)? {
            DifKind::Filler | DifKind::Special(_) => continue,
            DifKind::ManufacturerData { .. } => {
                let rest = cur.rest();
                if !rest.is_empty() {
                    records.push(T::of(Record {
                        quantity: Quantity::Other,
                        value: Value::Text(dif::hex_upper(rest.iter())),
                        unit: Unit::None,
                        storage: 0,
                        tariff: 0,
                        subunit: 0,
                        function: Function::Instantaneous,
                    }));
                    if let Some(r) = records.last_mut() {
                        let parts = RawParts {
                            dif: dif_byte,
                            format: payload.get(offset..=offset).unwrap_or(&[]),
                            vif_bytes: &[],
                            data: rest,
                            end: payload.len(),
                        };
                        seen(r, parts);
                    }
                }
                break;
            }
            DifKind::Data(info) => info,
        };
        let vif_start = cur.pos();
        let vib = vif::read_vib(&mut cur).map_err(bad)?;
        let vif_end = cur.pos();
        let raw = dif::read_data(&mut cur, info.coding).map_err(bad)?;
        let data = match &raw {
            RawData::None => continue,
            RawData::Int(b) | RawData::Real32(b) | RawData::Bcd(b) | RawData::Var(_, b) => *b,
        };
        let (value, erroneous) = value_of(&vib, &raw);
        records.push(T::of(Record {
            quantity: vib.quantity,
            value,
            unit: vib.unit,
            storage: info.storage,
            tariff: info.tariff,
            subunit: info.subunit,
            function: if erroneous {
                Function::Error
            } else {
                info.function
            },
        }));
        if let Some(r) = records.last_mut() {
            let parts = RawParts {
                dif: dif_byte,
                format: payload.get(offset..vif_end).unwrap_or(&[]),
                vif_bytes: payload.get(vif_start..vif_end).unwrap_or(&[]),
                data,
                end: cur.pos(),
            };
            seen(r, parts);
        }
    }
    Ok(())
}

/// A number read from the data field, before scaling.
enum Num {
    Signed(i64),
    Real(f64),
    /// Not a number: error BCD, text, long binary. The text to keep.
    Not(String),
}

fn number(raw: &RawData<'_>, unsigned: bool) -> Num {
    match raw {
        RawData::None => Num::Not(String::new()),
        RawData::Int(b) => {
            if unsigned {
                Num::Real(le_u64(b) as f64)
            } else {
                Num::Signed(le_i64(b))
            }
        }
        RawData::Real32(b) => match b {
            [a, b2, c, d] => Num::Real(f64::from(f32::from_le_bytes([*a, *b2, *c, *d]))),
            _ => Num::Not(hex_msb_first(b)),
        },
        RawData::Bcd(b) => match bcd_value(b) {
            Some(v) => Num::Signed(v),
            None => Num::Not(hex_msb_first(b)),
        },
        RawData::Var(lvar, b) => match lvar {
            0x00..=0xBF => Num::Not(text(b)),
            0xC0..=0xCF => bcd_value(b)
                .map(Num::Signed)
                .unwrap_or_else(|| Num::Not(hex_msb_first(b))),
            0xD0..=0xDF => bcd_value(b)
                .map(|v| Num::Signed(-v))
                .unwrap_or_else(|| Num::Not(hex_msb_first(b))),
            _ if b.len() <= 8 && !b.is_empty() => {
                if unsigned {
                    Num::Real(le_u64(b) as f64)
                } else {
                    Num::Signed(le_i64(b))
                }
            }
            _ => Num::Not(hex_msb_first(b)),
        },
    }
}

/// M-Bus sends text last character first.
fn text(b: &[u8]) -> String {
    b.iter()
        .rev()
        .map(|&c| {
            if (0x20..0x7F).contains(&c) {
                char::from(c)
            } else {
                '?'
            }
        })
        .collect::<String>()
        .trim()
        .to_string()
}

/// x times 10^exp. Powers up to 10^22 are exact in f64 and come from a table (the same values
/// `powi` computes, without its loop); larger ones fall back to `powi`.
fn pow10(x: f64, exp: i32) -> f64 {
    const EXACT: [f64; 23] = [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16,
        1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];
    let e = exp.clamp(-300, 300);
    let p = |n: i32| match usize::try_from(n).ok().and_then(|i| EXACT.get(i)) {
        Some(v) => *v,
        None => 10f64.powi(n),
    };
    if e >= 0 {
        x * p(e)
    } else {
        x / p(-e)
    }
}

/// A number scaled by `f`, or the text kept when the data is not a number.
#[inline]
fn scaled(raw: &RawData<'_>, f: impl Fn(f64) -> f64) -> (Value, bool) {
    match number(raw, false) {
        Num::Signed(v) => (Value::Number(f(v as f64)), false),
        Num::Real(v) if v.is_finite() => (Value::Number(f(v)), false),
        Num::Real(v) => (Value::Text(v.to_string()), true),
        Num::Not(t) => {
            let is_text = matches!(raw, RawData::Var(l, _) if *l <= 0xBF);
            (Value::Text(t), !is_text)
        }
    }
}

/// The record's value and whether the data marks an error (invalid BCD, not-a-number).
fn value_of(vib: &VifInfo, raw: &RawData<'_>) -> (Value, bool) {
    match vib.interp {
        Interp::Scaled { exp, mul } => scaled(raw, |x| {
            let v = pow10(x, exp);
            if mul == 1.0 {
                v
            } else {
                v * mul
            }
        }),
        Interp::Fahrenheit { exp, diff } => scaled(raw, |x| {
            let f = pow10(x, exp);
            if diff {
                f * 5.0 / 9.0
            } else {
                (f - 32.0) * 5.0 / 9.0
            }
        }),
        Interp::DateTime => match raw {
            RawData::Int(b) => match datetime::render(b) {
                Some(t) => (Value::Text(t), false),
                None => (Value::Number(le_u64(b) as f64), false),
            },
            _ => raw_value(raw),
        },
        Interp::Raw => raw_value(raw),
    }
}

fn raw_value(raw: &RawData<'_>) -> (Value, bool) {
    match number(raw, true) {
        Num::Signed(v) => (Value::Number(v as f64), false),
        Num::Real(v) if v.is_finite() => (Value::Number(v), false),
        Num::Real(v) => (Value::Text(v.to_string()), false),
        Num::Not(t) => (Value::Text(t), false),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rec(
        quantity: Quantity,
        value: Value,
        unit: Unit,
        storage: u32,
        function: Function,
    ) -> Record {
        Record {
            quantity,
            value,
            unit,
            storage,
            tariff: 0,
            subunit: 0,
            function,
        }
    }

    fn check(input: &str, expected: Result<Vec<Record>, DecodeError>) {
        let bytes = hex::decode(input).expect("test hex");
        let got = parse(&bytes).map(|v| v.into_iter().map(|p| p.record).collect::<Vec<_>>());
        assert_eq!(got, expected, "input {input}");
    }

    fn num(v: f64) -> Value {
        Value::Number(v)
    }

    #[test]
    fn table_powers_are_powi() {
        for n in 0..=30 {
            assert_eq!(pow10(1.0, n).to_bits(), 10f64.powi(n).to_bits(), "10^{n}");
            assert_eq!(
                pow10(7.0, -n).to_bits(),
                (7.0 / 10f64.powi(n)).to_bits(),
                "10^-{n}"
            );
        }
    }

    #[test]
    fn common_records() {
        use Function::*;
        check(
            "2F2F0413F8180000",
            Ok(vec![rec(
                Quantity::Volume,
                num(6.392),
                Unit::M3,
                0,
                Instantaneous,
            )]),
        );
        check(
            "0406CE860000",
            Ok(vec![rec(
                Quantity::Energy,
                num(34510.0),
                Unit::KWh,
                0,
                Instantaneous,
            )]),
        );
        check(
            "0403E8030000",
            Ok(vec![rec(
                Quantity::Energy,
                num(1.0),
                Unit::KWh,
                0,
                Instantaneous,
            )]),
        );
        check(
            "0C1378563412",
            Ok(vec![rec(
                Quantity::Volume,
                num(12345.678),
                Unit::M3,
                0,
                Instantaneous,
            )]),
        );
        check(
            "0A5A2301",
            Ok(vec![rec(
                Quantity::FlowTemperature,
                num(12.3),
                Unit::C,
                0,
                Instantaneous,
            )]),
        );
        check(
            "0A5AEEEE",
            Ok(vec![rec(
                Quantity::FlowTemperature,
                Value::Text("EEEE".into()),
                Unit::C,
                0,
                Error,
            )]),
        );
        check(
            "0A5A23F1",
            Ok(vec![rec(
                Quantity::FlowTemperature,
                num(-12.3),
                Unit::C,
                0,
                Instantaneous,
            )]),
        );
        check(
            "615B7F",
            Ok(vec![rec(
                Quantity::FlowTemperature,
                num(127.0),
                Unit::C,
                1,
                Minimum,
            )]),
        );
        check(
            "426C8128",
            Ok(vec![rec(
                Quantity::Date,
                Value::Text("2020-08-01".into()),
                Unit::None,
                1,
                Instantaneous,
            )]),
        );
        check(
            "02FF207100",
            Ok(vec![rec(
                Quantity::Other,
                num(113.0),
                Unit::None,
                0,
                Instantaneous,
            )]),
        );
        check(
            "05FD48CDCC6C43",
            Ok(vec![rec(
                Quantity::Voltage,
                num(236.8f32 as f64 / 10.0),
                Unit::V,
                0,
                Instantaneous,
            )]),
        );
        check(
            "0D7C03524843054142434445",
            Ok(vec![rec(
                Quantity::Other,
                Value::Text("EDCBA".into()),
                Unit::None,
                0,
                Instantaneous,
            )]),
        );
        check(
            "0F0102",
            Ok(vec![rec(
                Quantity::Other,
                Value::Text("0102".into()),
                Unit::None,
                0,
                Instantaneous,
            )]),
        );
        check(
            "04",
            Err(DecodeError::BadRecord {
                offset: 0,
                reason: "missing VIF",
            }),
        );
        check(
            "2F2F0413F818",
            Err(DecodeError::BadRecord {
                offset: 2,
                reason: "data field cut off by the end of the telegram",
            }),
        );
    }
}
