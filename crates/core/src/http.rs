//! The one HTTP client of the core (reqwest, blocking, rustls with the `ring` provider and
//! the system's roots, as the MQTT sources): used by the SMS gateway and the webhooks.
//! Built once per process; every request sets its own overall timeout.

use crate::error::{Error, Result};
use std::sync::OnceLock;
use std::time::Duration;

/// How long a connection may take to open, whatever the request.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);

/// `Relevé/<version>`, sent with every request.
pub fn user_agent() -> String {
    format!("Relevé/{}", env!("CARGO_PKG_VERSION"))
}

/// The shared client (built at the first use; redirects are not followed: a webhook or a
/// gateway answers where it was told to be).
pub fn client() -> Result<&'static reqwest::blocking::Client> {
    static CLIENT: OnceLock<reqwest::blocking::Client> = OnceLock::new();
    if let Some(c) = CLIENT.get() {
        return Ok(c);
    }
    let built = build()?;
    Ok(CLIENT.get_or_init(|| built))
}

fn build() -> Result<reqwest::blocking::Client> {
    let tls = crate::mqtt::client_tls(crate::mqtt::roots(None)?, None)?;
    reqwest::blocking::Client::builder()
        .tls_backend_preconfigured(tls)
        .user_agent(user_agent())
        .connect_timeout(CONNECT_TIMEOUT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .map_err(|e| Error::Send { channel: "http", recipient: String::new(), reason: format!("cannot build the HTTP client: {e}") })
}

/// Why a request failed, in words: the error and its causes (reqwest's own message is
/// only the outermost, "error sending request").
pub fn reason(e: &reqwest::Error) -> String {
    let mut words = if e.is_timeout() { "timed out".to_string() } else { e.to_string() };
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        words.push_str(": ");
        words.push_str(&s.to_string());
        source = s.source();
    }
    words
}
