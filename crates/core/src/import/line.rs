//! Drive-by file lines: bare hex, `telegram=|HEX|` and rtl-wmbus
//! (`T1;1;1;YYYY-MM-DD HH:MM:SS.000;RSSI;...;0xHEX`).

use chrono::{NaiveDateTime, TimeZone};
use chrono_tz::Tz;

#[derive(Debug, Clone, PartialEq)]
pub struct Frame {
    pub bytes: Vec<u8>,
    /// Reception time from the line, Unix seconds.
    pub received_at: Option<i64>,
    pub rssi: Option<i64>,
    /// The gateways that heard it (fixed network): each reception is kept, the telegram
    /// once. Empty for drive-by lines.
    pub heard_by: Vec<Hearing>,
}

/// One gateway's reception of a frame.
#[derive(Debug, Clone, PartialEq)]
pub struct Hearing {
    /// The gateway's name: a concentrator's serial, a LoRaWAN gateway's id (EUI).
    pub gateway: String,
    /// `concentrator` or `lorawan`.
    pub kind: &'static str,
    /// When this gateway heard it (else the frame's reception time).
    pub at: Option<i64>,
    pub rssi: Option<i64>,
    pub snr: Option<f64>,
}

/// What a line holds: nothing to import (blank, comment), a frame, or an error in words.
#[derive(Debug, PartialEq)]
pub enum Line {
    Skip,
    Frame(Frame),
    Bad(String),
}

/// Parse one line; `tz` interprets the local reception times of rtl-wmbus lines.
pub fn parse(line: &str, tz: Tz) -> Line {
    let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if line.is_empty() || line.starts_with('#') {
        return Line::Skip;
    }
    if let Some(rest) = line.find("telegram=|").map(|i| &line[i + "telegram=|".len()..]) {
        let Some(end) = rest.find('|') else {
            return Line::Bad("telegram=| without its closing |".into());
        };
        return hex_frame(&rest[..end].replace(['_', ' '], ""), None, None);
    }
    if line.contains(';') {
        return rtl_wmbus(line, tz);
    }
    hex_frame(line.trim_start_matches("0x").trim_start_matches("0X"), None, None)
}

fn rtl_wmbus(line: &str, tz: Tz) -> Line {
    let fields: Vec<&str> = line.split(';').map(str::trim).collect();
    let Some(hex) = fields.last().and_then(|f| f.strip_prefix("0x").or_else(|| f.strip_prefix("0X"))) else {
        return Line::Bad("rtl-wmbus line without a 0x telegram in its last field".into());
    };
    if fields.get(1) == Some(&"0") {
        return Line::Bad("the receiver marked this telegram as failing its CRC check".into());
    }
    let received_at = match fields.get(3) {
        Some(ts) if !ts.is_empty() => match parse_local_time(ts, tz) {
            Some(t) => Some(t),
            None => return Line::Bad(format!("unreadable reception time '{ts}'")),
        },
        _ => None,
    };
    let rssi = fields.get(4).and_then(|r| rssi(r));
    hex_frame(hex, received_at, rssi)
}

/// Received signal strengths real radios report (dBm, or rtl-wmbus's positive scale) lie
/// well inside ±200; anything else (`inf`, `NaN`, `1e308`, 30 digits) is not kept.
pub const RSSI_RANGE: std::ops::RangeInclusive<f64> = -200.0..=200.0;

/// A signal strength from its text, rounded; `None` when it is not a plausible one.
pub fn rssi(text: &str) -> Option<i64> {
    rssi_value(text.trim().parse::<f64>().ok()?)
}

/// A signal strength, rounded; `None` when it is not a plausible one.
pub fn rssi_value(v: f64) -> Option<i64> {
    (v.is_finite() && RSSI_RANGE.contains(&v)).then(|| v.round() as i64)
}

/// A reception time: local in `tz` ("2026-01-05 10:00:00.000", also with a `T`), or with
/// its offset ("...+01:00", "...Z"), which tells the two 02:30 of an autumn night apart.
pub(crate) fn parse_local_time(s: &str, tz: Tz) -> Option<i64> {
    for format in ["%Y-%m-%d %H:%M:%S%.f%:z", "%Y-%m-%dT%H:%M:%S%.f%:z", "%Y-%m-%d %H:%M:%S%.f%#z", "%Y-%m-%dT%H:%M:%S%.f%#z"] {
        if let Ok(t) = chrono::DateTime::parse_from_str(s, format) {
            return Some(t.timestamp());
        }
    }
    if let Some(utc) = s.strip_suffix('Z') {
        return parse_local_time(utc, chrono_tz::UTC);
    }
    let naive = NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f"))
        .ok()?;
    tz.from_local_datetime(&naive).earliest().map(|t| t.timestamp())
}

pub(crate) fn hex_frame(hex: &str, received_at: Option<i64>, rssi: Option<i64>) -> Line {
    if hex.is_empty() {
        return Line::Bad("empty telegram".into());
    }
    if let Some((i, c)) = hex.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Line::Bad(format!("'{c}' at column {} is not a hexadecimal digit", i + 1));
    }
    if !hex.len().is_multiple_of(2) {
        return Line::Bad(format!("odd number of hexadecimal digits ({})", hex.len()));
    }
    match hex::decode(hex) {
        Ok(bytes) => Line::Frame(Frame { bytes, received_at, rssi, heard_by: Vec::new() }),
        Err(e) => Line::Bad(format!("not hexadecimal: {e}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn frame(line: &str) -> Frame {
        match parse(line, chrono_tz::Europe::Paris) {
            Line::Frame(f) => f,
            other => panic!("expected a frame from {line:?}, got {other:?}"),
        }
    }

    #[test]
    fn bare_hex() {
        assert_eq!(frame("  0A0B0c  ").bytes, vec![0x0a, 0x0b, 0x0c]);
    }

    #[test]
    fn wmbusmeters_style() {
        assert_eq!(frame("telegram=|0A0B_0C|").bytes, vec![0x0a, 0x0b, 0x0c]);
    }

    #[test]
    fn rtl_wmbus_with_time_and_rssi() {
        let f = frame("T1;1;1;2019-04-03 19:00:42.000;97;148;94;0x0a0b");
        assert_eq!(f.bytes, vec![0x0a, 0x0b]);
        // 19:00:42 in Paris (CEST, UTC+2) is 17:00:42 UTC.
        assert_eq!(f.received_at, Some(1_554_310_842));
        assert_eq!(f.rssi, Some(97));
    }

    #[test]
    fn bad_lines_say_why() {
        let tz = chrono_tz::Europe::Paris;
        assert_eq!(parse("", tz), Line::Skip);
        assert_eq!(parse("# comment", tz), Line::Skip);
        assert!(matches!(parse("0A0G", tz), Line::Bad(r) if r.contains("'G' at column 4")));
        assert!(matches!(parse("0A0", tz), Line::Bad(r) if r.contains("odd")));
        assert!(matches!(parse("T1;0;1;2019-04-03 19:00:42.000;97;148;94;0x0a0b", tz), Line::Bad(r) if r.contains("CRC")));
        assert!(matches!(parse("T1;1;1;yesterday;97;148;94;0x0a0b", tz), Line::Bad(r) if r.contains("reception time")));
    }

    #[test]
    fn reception_times_with_an_offset() {
        // The two 02:30 of 25 October 2026 in Paris: 00:30 and 01:30 UTC.
        assert_eq!(frame("T1;1;1;2026-10-25 02:30:00.000+02:00;80;;;0x0a0b").received_at, Some(1_792_888_200));
        assert_eq!(frame("T1;1;1;2026-10-25 02:30:00.000+01:00;80;;;0x0a0b").received_at, Some(1_792_891_800));
        assert_eq!(frame("T1;1;1;2026-10-25T01:30:00Z;80;;;0x0a0b").received_at, Some(1_792_891_800));
        assert_eq!(frame("T1;1;1;2026-10-25 02:30:00.000;80;;;0x0a0b").received_at, Some(1_792_888_200), "no offset: the first");
    }

    #[test]
    fn implausible_signal_strengths_are_not_kept() {
        for bad in ["inf", "-inf", "NaN", "1e308", "123456789012345678901234567890", "-1e10", "201", ""] {
            assert_eq!(frame(&format!("T1;1;1;2019-04-03 19:00:42.000;{bad};148;94;0x0a0b")).rssi, None, "{bad}");
        }
        assert_eq!(frame("T1;1;1;2019-04-03 19:00:42.000;-87.6;148;94;0x0a0b").rssi, Some(-88));
    }
}
