//! `explain`: decode a telegram and report every layer as it was read (which CI, which key or
//! derived key, which compact-frame layout, where reading stopped and why). Pure, like [`crate::decode`].

use serde::Serialize;

use crate::compact::FormatCache;
use crate::decode::decode_parsed;
use crate::key::AesKey;
use crate::telegram::Telegram;
use crate::trace::{Step, Trace};
use crate::wired::{self, WiredFrame};

/// Why decoding stopped.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ExplainedError {
    /// Stable code, as [`crate::DecodeError::code`].
    pub code: &'static str,
    pub message: String,
}

/// The layer-by-layer account of one decoding.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Explanation {
    /// Bytes given.
    pub length: usize,
    /// Whether a key was given.
    pub key_given: bool,
    /// Every layer read, in order.
    pub steps: Vec<Step>,
    /// The decoded telegram, when decoding succeeded.
    pub telegram: Option<Telegram>,
    /// Why decoding stopped, when it failed.
    pub error: Option<ExplainedError>,
}

/// Decode `frame` like [`crate::decode_with_formats`] and say how each layer was read.
pub fn explain(frame: &[u8], key: Option<&AesKey>, formats: Option<&FormatCache>) -> Explanation {
    let mut trace = Trace::on();
    // Wired frames without user data (E5, short and control frames) carry no telegram.
    if let Ok(w) = wired::parse_wired_frame(frame) {
        let detail = match w {
            WiredFrame::Ack => {
                Some("wired single character E5 (acknowledgement): no data".to_string())
            }
            WiredFrame::Short { c, a } => Some(format!(
                "wired short frame: C {c:02X}, address {a}: a request, no data"
            )),
            WiredFrame::Control { c, a, ci } => Some(format!(
                "wired control frame: C {c:02X}, address {a}, CI {ci:02X}: no data"
            )),
            WiredFrame::Long { .. } => None,
        };
        if let Some(d) = detail {
            trace.note("link", None, || d);
            return Explanation {
                length: frame.len(),
                key_given: key.is_some(),
                steps: trace.into_steps(),
                telegram: None,
                error: None,
            };
        }
    }
    let result = decode_parsed(frame, key, formats, false, &mut trace);
    let (telegram, error) = match result {
        Ok((t, _)) => (Some(t), None),
        Err(e) => {
            trace.note("stopped", None, || e.to_string());
            (
                None,
                Some(ExplainedError {
                    code: e.code(),
                    message: e.to_string(),
                }),
            )
        }
    };
    Explanation {
        length: frame.len(),
        key_given: key.is_some(),
        steps: trace.into_steps(),
        telegram,
        error,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn explains_layers_and_stops() {
        let f = hex::decode("2E44A5119870659930037A06002005F4EF8E85C32DB5AE37B420AA0612B29480A45C988A501C0D450E8A05FA6B00D7").expect("hex");
        let e = explain(&f, None, None);
        let layers: Vec<&str> = e.steps.iter().map(|s| s.layer).collect();
        assert_eq!(layers, ["link", "tpl", "tpl-security", "records"]);
        assert!(e.telegram.is_some() && e.error.is_none());
        let e = explain(&f[..5], None, None);
        assert_eq!(e.error.map(|x| x.code), Some("too_short"));
        let e = explain(&[0xE5], None, None);
        assert!(e.steps[0].detail.contains("E5"));
        let json = serde_json::to_string(&explain(&f, None, None)).unwrap_or_default();
        assert!(json.contains("\"layer\":\"tpl\""), "{json}");
    }
}
