//! Typed errors of the decoder and of key parsing, each with a stable snake_case code.

use thiserror::Error;

/// Why a telegram could not be decoded.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum DecodeError {
    /// Fewer bytes than the part being read needs.
    #[error("telegram too short: {len} bytes, the {what} needs {needed}")]
    TooShort {
        len: usize,
        needed: usize,
        what: &'static str,
    },
    /// The length field does not agree with the number of bytes received.
    #[error("length field says {declared} bytes follow, but {actual} were received")]
    LengthMismatch { declared: usize, actual: usize },
    /// A wireless M-Bus data-link CRC does not match its block.
    #[error("checksum error in block {block}: the telegram says {expected:04X}, the data gives {actual:04X}")]
    BadCrc {
        block: usize,
        expected: u16,
        actual: u16,
    },
    /// The checksum byte of a wired M-Bus frame does not match.
    #[error(
        "checksum error in wired frame: the frame says {expected:02X}, the data gives {actual:02X}"
    )]
    BadChecksum { expected: u8, actual: u8 },
    /// The frame is not a wired or wireless M-Bus frame.
    #[error("not an M-Bus frame: {reason}")]
    BadFrame { reason: &'static str },
    /// The manufacturer field does not encode three letters A-Z.
    #[error("unknown manufacturer code {code:04X}: it does not spell three letters")]
    UnknownManufacturer { code: u16 },
    /// The control information (CI) field names a layer this decoder does not read.
    #[error("unsupported telegram type (CI field {ci:02X})")]
    UnsupportedCi { ci: u8 },
    /// The telegram uses an encryption mode this decoder cannot decrypt.
    #[error("unsupported encryption mode {mode}")]
    UnsupportedSecurity { mode: u8 },
    /// The header announces more encrypted bytes than the telegram holds.
    #[error("the header announces {declared} encrypted bytes, but only {available} are present")]
    EncryptedLength { declared: usize, available: usize },
    /// A compact frame (CI 79) whose record layout is not known yet.
    #[error("compact telegram with unknown layout {signature:04X}: read one full telegram of this meter first")]
    UnknownFormat { signature: u16 },
    /// An AFL fragment of a longer message: a single telegram cannot be decoded alone; collect
    /// the fragments with [`crate::Reassembler`] and decode the whole message.
    #[error("fragment {fragment} of a fragmented message (AFL): reassemble its fragments first")]
    Fragmented { fragment: u8 },
    /// Security mode 3 (DES) builds its IV from the date the telegram was sent, which the
    /// telegram does not carry: decode it with the reception date
    /// ([`crate::decode_received_on`]). The key was checked and is right.
    #[error("security mode {mode} needs the date the telegram was received to decrypt it")]
    DateNeeded { mode: u8 },
    /// A data record could not be read.
    #[error("unreadable data record at byte {offset} of the payload: {reason}")]
    BadRecord { offset: usize, reason: &'static str },
    /// A manufacturer's own application layer in a version / device type whose layout is not
    /// known (its family reads other versions of the same meter line, but not this one).
    #[error("{family}: no known layout for version {version:02X}, device type {device_type:02X}")]
    UnknownVariant {
        family: &'static str,
        version: u8,
        device_type: u8,
    },
}

impl DecodeError {
    /// Stable machine-readable code (snake_case).
    pub fn code(&self) -> &'static str {
        match self {
            DecodeError::TooShort { .. } => "too_short",
            DecodeError::LengthMismatch { .. } => "length_mismatch",
            DecodeError::BadCrc { .. } => "bad_crc",
            DecodeError::BadChecksum { .. } => "bad_checksum",
            DecodeError::BadFrame { .. } => "bad_frame",
            DecodeError::UnknownManufacturer { .. } => "unknown_manufacturer",
            DecodeError::UnsupportedCi { .. } => "unsupported_ci",
            DecodeError::UnsupportedSecurity { .. } => "unsupported_security",
            DecodeError::EncryptedLength { .. } => "encrypted_length",
            DecodeError::UnknownFormat { .. } => "unknown_format",
            DecodeError::BadRecord { .. } => "bad_record",
            DecodeError::Fragmented { .. } => "fragmented",
            DecodeError::UnknownVariant { .. } => "unknown_variant",
            DecodeError::DateNeeded { .. } => "date_needed",
        }
    }
}

/// Why a text could not be read as an AES-128 key.
#[derive(Debug, Clone, PartialEq, Eq, Error)]
#[non_exhaustive]
pub enum KeyError {
    /// Neither 32 hexadecimal digits (AES-128) nor 16 (DES).
    #[error("key must be 32 hex digits (AES-128) or 16 (DES), got {got}")]
    WrongLength { got: usize },
    /// A character that is not a hexadecimal digit.
    #[error("key may only contain hex digits 0-9 and A-F, found {found:?} at position {position}")]
    NotHex { found: char, position: usize },
}

impl KeyError {
    /// Stable machine-readable code (snake_case).
    pub fn code(&self) -> &'static str {
        match self {
            KeyError::WrongLength { .. } => "key_wrong_length",
            KeyError::NotHex { .. } => "key_not_hex",
        }
    }
}
