//! E-mail through SMTP (lettre): plain, STARTTLS or TLS, optional login.

use super::ChannelSettings;
use crate::error::{Error, Result};
use lettre::message::header::{ContentTransferEncoding, ContentType};
use lettre::message::{Body, Mailbox, MultiPart, SinglePart};
use lettre::transport::smtp::authentication::Credentials;
use lettre::{Message, SmtpTransport, Transport};
use std::time::Duration;

/// A file sent with a message.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Attachment {
    pub file_name: String,
    /// MIME type, e.g. "application/pdf".
    pub content_type: String,
    pub bytes: Vec<u8>,
}

/// `not_configured` `{setting: "smtp"}` when no SMTP server or sender is set: a setting
/// nobody made yet, so nothing can be mailed until a manager makes it.
pub fn configured(s: &ChannelSettings) -> Result<()> {
    if s.smtp_host.trim().is_empty() || s.smtp_from.trim().is_empty() {
        return Err(Error::Refused(crate::problem::Problem::NotConfigured { setting: "smtp" }));
    }
    Ok(())
}

/// Send one plain-text message to `to`.
pub fn send(s: &ChannelSettings, to: &str, subject: &str, body: &str) -> Result<()> {
    send_with_attachments(s, to, subject, body, &[])
}

/// Send one message to `to`: plain text, or with attachments a multipart/mixed message
/// (the text first, then each file, base64).
pub fn send_with_attachments(
    s: &ChannelSettings,
    to: &str,
    subject: &str,
    body: &str,
    attachments: &[Attachment],
) -> Result<()> {
    let fail = |reason: String| Error::Send { channel: "email", recipient: to.to_string(), reason };
    configured(s)?;
    let from: Mailbox = s.smtp_from.trim().parse().map_err(|e| fail(format!("sender '{}': {e}", s.smtp_from)))?;
    let rcpt: Mailbox = to.parse().map_err(|e| fail(format!("address: {e}")))?;
    let builder = Message::builder().from(from).to(rcpt).subject(subject);
    let text = Body::new_with_encoding(body.to_string(), ContentTransferEncoding::QuotedPrintable)
        .map_err(|_| fail("body".into()))?;
    let msg = if attachments.is_empty() {
        builder.header(ContentType::TEXT_PLAIN).body(text)
    } else {
        let mut parts = MultiPart::mixed().singlepart(SinglePart::builder().header(ContentType::TEXT_PLAIN).body(text));
        for a in attachments {
            let kind = ContentType::parse(&a.content_type)
                .map_err(|e| fail(format!("attachment {}: content type '{}': {e}", a.file_name, a.content_type)))?;
            // Always base64: a text file (a CSV with CR LF line ends) must arrive byte for
            // byte, which 7bit or quoted-printable transfer does not promise.
            let bytes = Body::new_with_encoding(a.bytes.clone(), ContentTransferEncoding::Base64)
                .map_err(|_| fail(format!("attachment {}", a.file_name)))?;
            parts = parts.singlepart(lettre::message::Attachment::new(a.file_name.clone()).body(bytes, kind));
        }
        builder.multipart(parts)
    }
    .map_err(|e| fail(e.to_string()))?;
    let host = s.smtp_host.trim();
    let builder = match s.smtp_tls.as_str() {
        "tls" => SmtpTransport::relay(host).map_err(|e| fail(e.to_string()))?,
        "starttls" => SmtpTransport::starttls_relay(host).map_err(|e| fail(e.to_string()))?,
        _ => SmtpTransport::builder_dangerous(host),
    };
    let mut builder = builder.port(s.smtp_port).timeout(Some(Duration::from_secs(15)));
    if let Some(user) = s.smtp_user.as_deref().filter(|u| !u.is_empty()) {
        builder = builder.credentials(Credentials::new(user.to_string(), s.smtp_password.clone().unwrap_or_default()));
    }
    builder.build().send(&msg).map_err(|e| fail(e.to_string()))?;
    Ok(())
}
