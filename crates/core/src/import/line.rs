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

/// What a line holds: nothing to import (blank, comment), a frame, or why it cannot be read.
#[derive(Debug, PartialEq)]
pub enum Line {
    Skip,
    Frame(Frame),
    Bad(LineProblem),
}

/// Why a line cannot be read: a reason code (the tag) and its values, worded by the UI
/// (`reject.<reason>`); `Display` is the English. `Other` holds the words of readers that do
/// not give a code yet.
#[derive(Debug, Clone, PartialEq, serde::Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum LineProblem {
    #[error("telegram=| without its closing |")]
    UnclosedTelegram,
    #[error("rtl-wmbus line without a 0x telegram in its last field")]
    NoTelegramField,
    #[error("the receiver marked this telegram as failing its CRC check")]
    ReceiverCrc,
    #[error("unreadable reception time '{value}'")]
    BadTime { value: String },
    #[error("empty telegram")]
    EmptyTelegram,
    #[error("'{character}' at column {column} is not a hexadecimal digit")]
    NotHex { character: String, column: usize },
    #[error("odd number of hexadecimal digits ({digits})")]
    OddHex { digits: usize },
    #[error("{text}")]
    Other { text: String },
}

impl LineProblem {
    /// The values the UI words the problem with: `{reason, ...}`; none for `Other`.
    pub fn params(&self) -> serde_json::Map<String, serde_json::Value> {
        match (self, serde_json::to_value(self)) {
            (LineProblem::Other { .. }, _) => serde_json::Map::new(),
            (_, Ok(serde_json::Value::Object(m))) => m,
            _ => serde_json::Map::new(),
        }
    }
}

impl From<String> for LineProblem {
    fn from(text: String) -> LineProblem {
        LineProblem::Other { text }
    }
}

impl From<&str> for LineProblem {
    fn from(text: &str) -> LineProblem {
        LineProblem::Other { text: text.to_string() }
    }
}

/// Parse one line; `tz` interprets the local reception times of rtl-wmbus lines.
pub fn parse(line: &str, tz: Tz) -> Line {
    let line = line.trim_matches(|c: char| c.is_whitespace() || c == '\u{feff}');
    if line.is_empty() || line.starts_with('#') {
        return Line::Skip;
    }
    if let Some(rest) = line.find("telegram=|").map(|i| &line[i + "telegram=|".len()..]) {
        let Some(end) = rest.find('|') else {
            return Line::Bad(LineProblem::UnclosedTelegram);
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
        return Line::Bad(LineProblem::NoTelegramField);
    };
    if fields.get(1) == Some(&"0") {
        return Line::Bad(LineProblem::ReceiverCrc);
    }
    let received_at = match fields.get(3) {
        Some(ts) if !ts.is_empty() => match parse_local_time(ts, tz) {
            Some(t) => Some(t),
            None => return Line::Bad(LineProblem::BadTime { value: ts.to_string() }),
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
        return Line::Bad(LineProblem::EmptyTelegram);
    }
    if let Some((i, c)) = hex.char_indices().find(|(_, c)| !c.is_ascii_hexdigit()) {
        return Line::Bad(LineProblem::NotHex { character: c.to_string(), column: i + 1 });
    }
    if !hex.len().is_multiple_of(2) {
        return Line::Bad(LineProblem::OddHex { digits: hex.len() });
    }
    match hex::decode(hex) {
        Ok(bytes) => Line::Frame(Frame { bytes, received_at, rssi, heard_by: Vec::new() }),
        Err(e) => Line::Bad(format!("not hexadecimal: {e}").into()),
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
        assert!(matches!(parse("0A0G", tz), Line::Bad(r) if r.to_string().contains("'G' at column 4")));
        assert!(matches!(parse("0A0", tz), Line::Bad(r) if r.to_string().contains("odd")));
        assert!(matches!(parse("T1;0;1;2019-04-03 19:00:42.000;97;148;94;0x0a0b", tz), Line::Bad(r) if r.to_string().contains("CRC")));
        assert!(matches!(parse("T1;1;1;yesterday;97;148;94;0x0a0b", tz), Line::Bad(r) if r.to_string().contains("reception time")));
        // A code and values for the UI to word.
        let Line::Bad(p) = parse("0A0G", tz) else { panic!("bad") };
        assert_eq!(serde_json::Value::Object(p.params()), serde_json::json!({"reason": "not_hex", "character": "G", "column": 4}));
        let Line::Bad(p) = parse("0A0", tz) else { panic!("bad") };
        assert_eq!(serde_json::Value::Object(p.params()), serde_json::json!({"reason": "odd_hex", "digits": 3}));
        assert!(LineProblem::from("free words").params().is_empty());
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
