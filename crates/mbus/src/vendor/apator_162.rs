//! Apator 162 water meters (the AT-WMBUS-16-2 radio module on JS Smart+ meters; manufacturer
//! APA, version 05, device type 06 or 07): an OMS transport layer (CI 7A, security mode 5)
//! whose payload is `2F 2F`, then DIF 0F and Apator's own register block. Older modules
//! (link-layer manufacturer APT) send the same transport layer inside Apator's B6 wrapper
//! (see `apator_b6`), with `0F` or `0D` before the register block.
//!
//! The register block (learned from the public wmbusmeters driver `apator162`, the register
//! sizes its contributors documented in pull request 441 and later commits, and its test
//! telegrams; the AT-WMBUS-16-2 data sheet lists what the module stores: date, operating
//! days, current volume, volume history, flow, events):
//! - 4 bytes: the module's date and time (encoding not published, not read);
//! - 3 bytes: fault flags (read as a number, least significant byte first; the meaning of
//!   the bits is not published, so no info codes are derived from them);
//! - registers, each an id byte followed by a fixed number of data bytes that depends on the
//!   id (table in [`register_len`]), in any order and any selection;
//! - `FF` padding up to the encryption block boundary, then a 2- or 4-byte check value.
//!
//! Registers read: `10` total volume (4 bytes, litres), `43` operating days (2 bytes),
//! `70`-`7F` monthly volume history (one byte, then n+1 four-byte litre values for id 7n,
//! the most recent month first: storage 1, 2, ...). Events (`80`-`8F`), flow (`11`),
//! battery voltage (`41`), detectors (`40`) and the rest are skipped by their sizes. A block
//! with an unknown register id stops there: what was read before it is kept.

use super::apator_util::{is_apator, number};
use super::{Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::record::{Quantity, Record, Unit};
use crate::trace::Trace;

pub(crate) const FAMILY: Family = Family {
    name: "apator_162",
    detect,
    application: None,
    block: Some(block),
    record: None,
};

/// Version and device type of the Apator 162 modules.
pub(crate) fn is_162(raw: &([u8; 2], [u8; 6])) -> bool {
    let [.., version, device] = raw.1;
    version == 0x05 && matches!(device, 0x06 | 0x07) && is_apator(raw.0)
}

fn detect(m: &Meter<'_>) -> bool {
    matches!(m.ci, 0x7A | 0x72) && is_162(&m.raw)
}

fn block(m: &Meter<'_>, block: &[u8], _standard: &[Record], trace: &mut Trace) -> Result<Decoded, DecodeError> {
    read_block(block, m.ci, trace)
}

/// Register id: the volume total, litres.
const REG_TOTAL: u8 = 0x10;
/// Register id: days since the module was first started.
const REG_DAYS: u8 = 0x43;
/// Bytes before the first register: date (4) and fault flags (3).
const HEAD_LEN: usize = 7;

/// Data bytes after a register id, `None` for an id whose size is not known.
pub(crate) fn register_len(id: u8) -> Option<usize> {
    Some(match id {
        0x00 => 4,                                 // date
        0x01 => 3,                                 // fault flags
        0x10 | 0xA1 => 4,                          // volume
        0x11 => 2,                                 // flow
        0x40 => 6,                                 // detectors
        0x41 => 2,                                 // battery voltage
        0x42 => 4,                                 // energy
        0x43 => 2,                                 // operating days
        0x44 => 3,
        0x70..=0x7F => 1 + 4 * (usize::from(id & 0x0F) + 1), // monthly history
        0x80..=0x84 | 0x86 | 0x87 => 10,           // events
        0x85 | 0x88 | 0x8F => 11,
        0x8A => 9,
        0x8B | 0x8C => 6,
        0x8E => 7,
        0xA0 | 0xA4 | 0xF0 => 4,
        0xA2 | 0xA5 | 0xA9 | 0xAF => 1,
        0xA3 => 7,
        0xA6 => 3,
        0xA7 | 0xA8 | 0xAA..=0xAD => 2,
        0xB0 => 5,
        0xB1 | 0xB3 => 8,
        0xB2 | 0xB5 => 16,
        0xB4 => 2,
        0xB6..=0xC7 | 0xD0 | 0xD3 => 3,
        _ => return None,
    })
}

fn u32_le(b: &[u8]) -> Option<u32> {
    match *b {
        [a, b, c, d] => Some(u32::from_le_bytes([a, b, c, d])),
        _ => None,
    }
}

/// Read Apator's register block (the bytes after DIF 0F, or after the frame-type byte of a
/// B6-wrapped payload): the total volume, operating days, monthly history and fault flags.
pub(crate) fn read_block(block: &[u8], ci: u8, trace: &mut Trace) -> Result<Decoded, DecodeError> {
    let Some(&[.., f0, f1, f2]) = block.get(..HEAD_LEN) else {
        return Err(DecodeError::TooShort {
            len: block.len(),
            needed: HEAD_LEN,
            what: "Apator 162 register block (date and fault flags)",
        });
    };
    let mut out = Decoded::default();
    let faults = u32::from_le_bytes([f0, f1, f2, 0]);
    out.records.push(number(Quantity::ErrorFlags, f64::from(faults), Unit::None, 0));
    let mut total: Option<u32> = None;
    let mut history = false;
    let mut seen: Vec<u8> = Vec::new();
    let mut pos = HEAD_LEN;
    let end = loop {
        let Some(&id) = block.get(pos) else {
            break String::from("end of the block");
        };
        if id == 0xFF {
            let tail = block.get(pos..).unwrap_or(&[]);
            let pad = tail.iter().take_while(|&&b| b == 0xFF).count();
            break format!("FF padding at byte {pos}, then a {}-byte check value", tail.len() - pad);
        }
        let data = register_len(id).and_then(|n| block.get(pos + 1..pos + 1 + n));
        let Some(data) = data else {
            let left = block.len() - pos;
            break if left <= 4 {
                format!("a {left}-byte check value at byte {pos}")
            } else if register_len(id).is_none() {
                format!("unknown register {id:02X} at byte {pos}: stopped, the {left} bytes from there are not read")
            } else {
                format!("register {id:02X} at byte {pos} runs past the end: stopped")
            };
        };
        seen.push(id);
        match id {
            REG_TOTAL if total.is_none() => {
                if let Some(litres) = u32_le(data) {
                    total = Some(litres);
                    out.records.push(number(Quantity::Volume, f64::from(litres) / 1000.0, Unit::M3, 0));
                }
            }
            REG_DAYS => {
                if let [lo, hi] = *data {
                    let days = u16::from_le_bytes([lo, hi]);
                    out.records.push(number(Quantity::OperatingTime, f64::from(days) * 86_400.0, Unit::S, 0));
                }
            }
            0x70..=0x7F if !history => {
                history = true;
                for (i, q) in data.get(1..).unwrap_or(&[]).chunks_exact(4).enumerate() {
                    if let Some(litres) = u32_le(q) {
                        let storage = u32::try_from(i + 1).unwrap_or(u32::MAX);
                        out.records.push(number(Quantity::Volume, f64::from(litres) / 1000.0, Unit::M3, storage));
                    }
                }
            }
            _ => {}
        }
        pos += 1 + data.len();
    };
    trace.note("vendor", Some(ci), || {
        let ids: Vec<String> = seen.iter().map(|i| format!("{i:02X}")).collect();
        format!(
            "Apator register block: fault flags {faults:06X}; registers {}; total {}; read up to {end}",
            if ids.is_empty() { "none".into() } else { ids.join(" ") },
            total.map_or("not present".into(), |l| format!("{l} litres")),
        )
    });
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Value;

    fn vol(d: &Decoded, storage: u32) -> Option<f64> {
        d.records
            .iter()
            .find(|r| r.quantity == Quantity::Volume && r.storage == storage)
            .and_then(|r| r.value.as_f64())
    }

    #[test]
    fn registers_in_any_order() {
        // head, events 84, days 43, history 72 (3 values), total 10, A0, padding, check value.
        let mut b = vec![0x07, 0x11, 0x22, 0x94, 0x10, 0x02, 0x00];
        b.extend_from_slice(&[0x84, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
        b.extend_from_slice(&[0x43, 0x61, 0x03]);
        b.extend_from_slice(&[0x72, 0x01, 0xE8, 0x03, 0, 0, 0xD0, 0x07, 0, 0, 0xB8, 0x0B, 0, 0]);
        b.extend_from_slice(&[0x10, 0x39, 0x30, 0x00, 0x00]);
        b.extend_from_slice(&[0xA0, 1, 2, 3, 4, 0xFF, 0xFF, 0xA4, 0x34]);
        let d = read_block(&b, 0x7A, &mut Trace::off()).expect("reads");
        assert_eq!(vol(&d, 0), Some(12.345));
        assert_eq!(vol(&d, 1), Some(1.0));
        assert_eq!(vol(&d, 3), Some(3.0));
        let days = d.records.iter().find(|r| r.quantity == Quantity::OperatingTime).map(|r| r.value.clone());
        assert_eq!(days, Some(Value::Number(865.0 * 86_400.0)));
        let flags = d.records.iter().find(|r| r.quantity == Quantity::ErrorFlags).map(|r| r.value.clone());
        assert_eq!(flags, Some(Value::Number(f64::from(0x0210))));

        // Total first, no padding, a 2-byte check value straight after the last register.
        let b = [0x35, 0x4D, 0xA3, 0x9A, 0, 0, 0, 0x10, 0xCE, 0xCC, 0x0D, 0x00, 0x5E, 0x6D];
        let d = read_block(&b, 0x7A, &mut Trace::off()).expect("reads");
        assert_eq!(vol(&d, 0), Some(904.398));
    }

    #[test]
    fn unknown_register_keeps_what_came_before() {
        let b = [0, 0, 0, 0, 0, 0, 0, 0x10, 0x10, 0x27, 0, 0, 0x5A, 1, 2, 3, 4, 5, 6, 0x10, 9, 9, 9, 9];
        let d = read_block(&b, 0x7A, &mut Trace::off()).expect("reads");
        assert_eq!(vol(&d, 0), Some(10.0));
        assert!(read_block(&[0, 0, 0], 0x7A, &mut Trace::off()).is_err());
    }

    #[test]
    fn sizes_cover_the_history_family() {
        assert_eq!(register_len(0x71), Some(9));
        assert_eq!(register_len(0x7B), Some(49));
        assert_eq!(register_len(0x7C), Some(53));
        assert_eq!(register_len(0x12), None);
    }
}
