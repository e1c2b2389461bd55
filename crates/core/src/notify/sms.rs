//! SMS through an HTTP gateway: a plain GET of the URL template with `{to}` and `{text}`
//! replaced by their URL-encoded values, through the core's one HTTP client (`crate::http`).

use crate::error::{Error, Result};
use std::time::Duration;

/// Percent-encode everything but the unreserved characters of RFC 3986.
pub fn url_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len() * 3);
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || b"-_.~".contains(&b) {
            out.push(char::from(b));
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The URL the gateway is called with.
pub fn url_for(template: &str, to: &str, text: &str) -> String {
    template.replace("{to}", &url_encode(to)).replace("{text}", &url_encode(text))
}

/// Send one SMS; any non-2xx answer is a failure.
pub fn send(template: &str, to: &str, text: &str) -> Result<()> {
    let fail = |reason: String| Error::Send { channel: "sms", recipient: to.to_string(), reason };
    if template.trim().is_empty() {
        return Err(Error::Refused(crate::problem::Problem::NotConfigured { setting: "sms" }));
    }
    let url = url_for(template.trim(), to, text);
    let answer = crate::http::client()?.get(&url).timeout(Duration::from_secs(15)).send();
    match answer {
        Ok(r) if r.status().is_success() => Ok(()),
        Ok(r) => {
            let status = r.status();
            Err(fail(format!("gateway answered HTTP {} {}", status.as_u16(), status.canonical_reason().unwrap_or(""))))
        }
        Err(e) => Err(fail(crate::http::reason(&e))),
    }
}
