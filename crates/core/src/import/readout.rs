//! IEC 62056-21 readouts on the import path: a capture file (what a handheld saved: one or
//! several readouts) becomes frames, one per readout, the readout's bytes as the raw telegram;
//! a readout that cannot be read is a bad line naming its line, the others are imported. The
//! decoder recognises a readout frame (it starts with an identification `/XXXZ`) and maps it
//! to an electricity meter's registers (`optical::obis`).

use super::line::{Frame, Line};
use super::{reading_time, DecodedTelegram, Settings, Values};
use crate::optical::obis;
use mbus::iec62056::{self, Piece, ReadoutError};

/// Whether `content` is a readout capture rather than a file of telegram lines.
pub fn is_capture(content: &[u8]) -> bool {
    iec62056::is_capture(content)
}

/// The readouts of a capture, numbered by the file line each starts on; a readout that
/// cannot be read is a bad line at the line of its error. Returns (lines in the file, lines).
pub fn capture_lines(content: &[u8]) -> (u64, Vec<(u64, Line)>) {
    let total = super::text::count(content);
    let mut out = Vec::new();
    for piece in iec62056::split_capture(content) {
        match piece {
            Piece::Stray { line } => out.push((line as u64, Line::Bad("not part of a readout (a readout starts with its identification /XXXZ...)".into()))),
            Piece::Readout { start, end, line } => {
                let bytes = content.get(start..end).unwrap_or_default();
                match iec62056::parse_readout(bytes) {
                    Ok(_) => out.push((line as u64, Line::Frame(Frame { bytes: bytes.to_vec(), received_at: None, rssi: None, heard_by: Vec::new() }))),
                    Err(e) => {
                        let at = if e.line() == 0 { line } else { line + e.line() - 1 };
                        out.push((at as u64, Line::Bad(reason(&e, line).into())));
                    }
                }
            }
        }
    }
    (total, out)
}

/// A readout error in words, with the readout's first line (its own line numbers dropped:
/// the report gives the file's).
pub fn reason(e: &ReadoutError, first_line: usize) -> String {
    let text = e.to_string();
    let text = match text.split_once(": ") {
        Some((head, rest)) if head.starts_with("line ") => rest.to_string(),
        _ => text,
    };
    format!("readout starting at line {first_line}: {text}")
}

/// Whether a frame's bytes are a readout (an identification line first).
pub(super) fn is_readout(bytes: &[u8]) -> bool {
    bytes.first() == Some(&b'/')
        && bytes.iter().position(|b| *b == b'\n').is_some_and(|end| iec62056::parse_identification(bytes.get(..end).unwrap_or_default()).is_ok())
}

/// A readout frame decoded for the store: an electricity meter named by the identification's
/// manufacturer and the serial in its data, its registers at the meter's clock when plausible.
pub(super) fn decode(frame: Frame, context: &Settings) -> Result<DecodedTelegram, (&'static str, String)> {
    let readout = iec62056::parse_readout(&frame.bytes).map_err(|e| (e.code(), reason(&e, 1)))?;
    let mapped = obis::map(&readout);
    let Some(serial) = mapped.serial.clone() else {
        return Err(("no_serial", format!("the readout of the {} meter ({}) names no serial (0.0.0, 96.1.0 or C.1.0)", mapped.manufacturer, mapped.ident)));
    };
    let address = mbus::Address { manufacturer: mapped.manufacturer.clone(), id: serial, version: 0, device_type: mbus::DeviceType::Electricity };
    let ts = reading_time(frame.received_at, context.now(), mapped.meter_time, context.tz(), context.window);
    let values = Values { status: "decoded", problem: None, readings: mapped.readings, codes: Vec::new(), meter_time: mapped.meter_time };
    Ok(DecodedTelegram { frame, address, ts, values })
}
