//! The utility's letterhead on the consumer reports (setting `report.letterhead`): its name,
//! postal address, contact line, legal text and logo (PNG or JPEG, at most `MAX_LOGO_BYTES`
//! and `MAX_LOGO_PIXELS` a side). Read by anyone who may make a report; saved with the
//! permission `settings` (audited `letterhead`).

use super::pdf::Picture;
use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::problem::Reason;
use crate::store::{self, Store};
use base64::Engine;
use serde::{Deserialize, Serialize};

const SETTINGS_KEY: &str = "report.letterhead";
/// The logo file's largest size, bytes.
pub const MAX_LOGO_BYTES: usize = 512 * 1024;
/// The logo's largest side, pixels.
pub const MAX_LOGO_PIXELS: u32 = 4000;
/// Longest texts, characters: name, address, contact, legal.
pub const MAX_NAME: usize = 120;
pub const MAX_ADDRESS: usize = 300;
pub const MAX_CONTACT: usize = 200;
pub const MAX_LEGAL: usize = 600;

/// The letterhead, as saved and shown in the settings.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Letterhead {
    /// "Régie des eaux de Saint-Chamond".
    #[serde(default)]
    pub name: String,
    /// The postal address, one line per line.
    #[serde(default)]
    pub address: String,
    /// "04 77 31 00 00 — releve@example.org".
    #[serde(default)]
    pub contact: String,
    /// Small print at the foot of each page (legal form, registration, ...).
    #[serde(default)]
    pub legal: String,
    /// The logo file, base64 (PNG or JPEG); empty: none.
    #[serde(default)]
    pub logo_base64: String,
}

impl Letterhead {
    pub fn is_empty(&self) -> bool {
        self.name.is_empty() && self.address.is_empty() && self.contact.is_empty() && self.logo_base64.is_empty()
    }

    /// The address's non-empty lines.
    pub fn address_lines(&self) -> Vec<&str> {
        self.address.lines().map(str::trim).filter(|l| !l.is_empty()).collect()
    }

    /// The logo, decoded; None without one.
    pub fn logo(&self) -> Option<Picture> {
        let bytes = base64::engine::general_purpose::STANDARD.decode(self.logo_base64.trim()).ok()?;
        Picture::new(bytes)
    }

    /// The logo's MIME type (for the HTML report), from its signature.
    pub fn logo_type(&self) -> &'static str {
        if self.logo_base64.trim_start().starts_with("/9j/") {
            "image/jpeg"
        } else {
            "image/png"
        }
    }
}

/// The letterhead (empty when never saved). Needs `view`.
pub fn letterhead(store: &Store, session: &Session) -> Result<Letterhead> {
    session.permit(Permission::View)?;
    load(&*store.reader()?)
}

pub(crate) fn load(conn: &rusqlite::Connection) -> Result<Letterhead> {
    match store::settings::get(conn, SETTINGS_KEY)? {
        None => Ok(Letterhead::default()),
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| Error::bad_input("letterhead", format!("stored letterhead unreadable: {e}"))),
    }
}

/// Save the letterhead, texts trimmed and bounded, the logo checked (PNG or JPEG that
/// decodes, at most `MAX_LOGO_BYTES` and `MAX_LOGO_PIXELS` a side). Needs `settings`;
/// audited `letterhead` (without the logo's bytes).
pub fn letterhead_set(store: &Store, session: &Session, l: &Letterhead, now: i64) -> Result<Letterhead> {
    let permit = session.permit(Permission::Settings)?;
    let text = |field: &str, v: &str, max: usize| -> Result<String> {
        let v = v.trim().replace("\r\n", "\n");
        if v.chars().count() > max {
            return Err(Error::invalid(field, Reason::TooLong { max }));
        }
        Ok(v)
    };
    let logo_base64: String = l.logo_base64.chars().filter(|c| !c.is_whitespace()).collect();
    if !logo_base64.is_empty() {
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(&logo_base64)
            .map_err(|e| Error::invalid("logo", Reason::Unreadable { detail: format!("not base64: {e}") }))?;
        if bytes.len() > MAX_LOGO_BYTES {
            return Err(Error::invalid(
                "logo",
                Reason::OutOfRange { value: (bytes.len() / 1024) as f64, min: 0.0, max: (MAX_LOGO_BYTES / 1024) as f64 },
            ));
        }
        let picture = Picture::new(bytes).ok_or_else(|| {
            Error::invalid("logo", Reason::Unreadable { detail: "not a PNG or JPEG image".into() })
        })?;
        let side = picture.width.max(picture.height);
        if side > MAX_LOGO_PIXELS {
            return Err(Error::invalid(
                "logo_pixels",
                Reason::OutOfRange { value: f64::from(side), min: 1.0, max: f64::from(MAX_LOGO_PIXELS) },
            ));
        }
    }
    let saved = Letterhead {
        name: text("name", &l.name, MAX_NAME)?,
        address: text("address", &l.address, MAX_ADDRESS)?,
        contact: text("contact", &l.contact, MAX_CONTACT)?,
        legal: text("legal", &l.legal, MAX_LEGAL)?,
        logo_base64,
    };
    let json = serde_json::to_string(&saved).map_err(|e| Error::bad_input("letterhead", e.to_string()))?;
    let audit = format!(
        "{} ({}; logo {})",
        saved.name,
        saved.address_lines().join(", "),
        if saved.logo_base64.is_empty() { "none".to_string() } else { format!("{} base64 characters", saved.logo_base64.len()) }
    );
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::settings::set(&tx, SETTINGS_KEY, &json)?;
    store::audit::record_permit(&tx, permit, now, "letterhead", &audit)?;
    tx.commit()?;
    Ok(saved)
}
