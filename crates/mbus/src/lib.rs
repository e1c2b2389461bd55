//! Relevé's pure M-Bus / wireless M-Bus telegram decoder: bytes in, typed telegram out.
//!
//! No IO, no global state, and no panics on any input. [`decode`] reads wireless frames
//! (EN 13757-4, with or without data-link CRCs) and wired long frames (EN 13757-2), the transport
//! layer (CI 72, 7A, 78, with ELL 8C-8F and AFL 90 in front), OMS security mode 5 and Kamstrup's
//! ELL AES-CTR, and the data records (EN 13757-3) with values in canonical units.
//!
//! Security outcomes of [`decode`]: an encrypted payload without a key gives `Ok` with
//! [`SecurityStatus::NoKey`] and no records; a key that does not decrypt to a valid payload gives
//! [`SecurityStatus::WrongKey`] and no records; a header announcing encryption over a payload that
//! is already plaintext gives [`SecurityStatus::Plaintext`] with the records.
//!
//! Compact frames (CI 79) carry only data; their record layout comes from a full frame of the same
//! meter. [`decode`] knows the common Kamstrup layouts; [`decode_with_formats`] also uses layouts
//! learned with [`FormatCache::learn`] from earlier full frames (e.g. of the same drive-by file).
//!
//! Info codes: the transport status byte gives LowBattery (bit 2), PermanentError (bit 3) and
//! TemporaryError (bit 4); Kamstrup (KAM) record `02 FF 20` gives Dry, Reverse, Leak, Burst (bits 0-3).
//! Kamstrup `04 FF 23` is not mapped (no reliable public bit table), and no Kamstrup record is
//! mapped to Tamper.

mod address;
mod compact;
mod crc;
mod cursor;
mod datetime;
mod decode;
mod device;
mod dif;
mod ell;
pub mod encode;
mod error;
mod info;
mod key;
mod link;
mod record;
mod records;
mod security;
mod telegram;
mod tpl;
mod vif;

pub use address::{manufacturer_code, manufacturer_letters, Address};
pub use compact::FormatCache;
pub use crc::crc16_en13757;
pub use decode::{decode, decode_with_formats, peek_address};
pub use device::DeviceType;
pub use error::{DecodeError, KeyError};
pub use info::{
    from_kamstrup_info, from_status, InfoCode, KAM_INFO_BURST, KAM_INFO_DRY, KAM_INFO_LEAK,
    KAM_INFO_REVERSE, STATUS_LOW_BATTERY, STATUS_PERMANENT_ERROR, STATUS_TEMPORARY_ERROR,
};
pub use key::AesKey;
pub use record::{Function, Quantity, Record, Unit, Value};
pub use telegram::{Security, SecurityMode, SecurityStatus, Telegram};
