//! The decoded telegram and its security summary.

use serde::Serialize;

use crate::address::Address;
use crate::info::InfoCode;
use crate::record::Record;

/// A decoded telegram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Telegram {
    #[serde(flatten)]
    pub address: Address,
    pub access_number: u8,
    /// The transport-layer status byte (0 when the telegram has no transport header).
    pub status: u8,
    pub security: Security,
    pub records: Vec<Record>,
    pub info_codes: Vec<InfoCode>,
}

impl Telegram {
    /// The telegram as a JSON object.
    pub fn to_json(&self) -> String {
        // Serialising these plain types cannot fail (no maps with non-string keys); fall back to "{}".
        serde_json::to_string(self).unwrap_or_else(|_| String::from("{}"))
    }
}

/// Which encryption the telegram used and whether it could be read.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Security {
    pub mode: SecurityMode,
    pub status: SecurityStatus,
}

/// Encryption mode announced by the telegram.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecurityMode {
    None,
    /// OMS / EN 13757-7 security mode 5: AES-128-CBC with a static IV.
    Mode5,
    /// Extended link layer (CI 8D) AES-128-CTR, as sent by Kamstrup C1/T1 meters.
    EllCtr,
    /// OMS security mode 7: AES-128-CBC with a derived key (not decrypted by this version).
    Mode7,
    /// Diehl's LFSR scrambling: the PRIOS payload of IZAR water meters (CI A0-A7) and the
    /// "real data" of Diehl OMS meters announcing a security mode 16-31 (see `vendor::diehl`).
    DiehlLfsr,
    /// Security mode 2 (EN 13757-3:2004, deprecated by EN 13757-7): DES-CBC with a zero IV and
    /// an 8-byte DES key.
    Mode2,
    /// Security mode 3 (deprecated likewise): DES-CBC with an IV from the meter id, manufacturer
    /// and the date of sending.
    Mode3,
    /// Security modes 16-31 (EN 13757-7: the manufacturer's), undone by the meter's family
    /// (e.g. B METERS RFM-TX1's scrambling).
    ManufacturerSpecific,
}

/// Outcome of the decryption.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum SecurityStatus {
    /// Not encrypted, or decrypted and verified.
    Ok,
    /// Decrypted with the given key, but the result is not valid: the key is wrong.
    WrongKey,
    /// Encrypted and no key was given: no records.
    NoKey,
    /// The header announces encryption but the payload was already plaintext.
    Plaintext,
}
