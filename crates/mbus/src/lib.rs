//! Relevé's pure M-Bus / wireless M-Bus telegram decoder: bytes in, typed telegram out.
//!
//! No IO, no global state, and no panics on any input. [`decode`] reads wireless frames
//! (EN 13757-4, with or without data-link CRCs) and wired long frames (EN 13757-2), the transport
//! layer (CI 72, 7A, 78, 79, with ELL 8C-8F and AFL 90 in front), OMS security modes 5 and 7 and Kamstrup's
//! ELL AES-CTR, the legacy DES-CBC modes 2 and 3 (an [`AesKey`] of 16 hex digits is a DES key;
//! mode 3 needs the reception date: [`decode_received_on`]), and the data records (EN 13757-3) with values in canonical units.
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
//! TemporaryError (bit 4); Kamstrup (KAM) record `02 FF 20` gives Dry, Reverse, Leak, Burst (bits 0-3);
//! Kamstrup heat meters' `04 FF 22` gives LowBattery, Dry (V1 air), Reverse, Leak (pulse inputs)
//! and TemporaryError (temperature sensors), see [`from_kamstrup_heat_info`].
//! Kamstrup `04 FF 23` is not mapped (no reliable public bit table), and no Kamstrup record is
//! mapped to Tamper.
//!
//! Mode 7 (CI 90 AFL + TPL): keys derived with AES-CMAC (KDF-A) from the meter key, the AFL
//! message counter and the meter id, AES-CBC with a zero IV, and the AFL MAC checked; a MAC or
//! 2F2F mismatch is WrongKey. A fragment of a fragmented AFL message gives [`DecodeError::Fragmented`]:
//! collect the fragments with [`Reassembler`] and decode the whole [`Message`].
//! Broken trailing records of a *wireless* telegram (cut frames, receiver junk) are dropped and the
//! complete records before them kept; in a wired frame they are an error. [`explain`] reports
//! every layer as read. [`FormatCache::entries`] / [`FormatCache::from_entries`] persist learned
//! compact-frame layouts.

mod address;
mod afl;
mod compact;
mod crc;
mod cursor;
mod datetime;
mod decode;
mod device;
mod dif;
mod ell;
pub mod encode;
pub mod encode_ell;
mod error;
mod explain;
mod fragment;
pub mod iec62056;
mod info;
mod key;
mod link;
mod record;
mod records;
mod security;
mod telegram;
mod tpl;
mod tplsec;
mod trace;
mod vendor;
mod vif;
pub mod master;
mod wired;

pub use address::{manufacturer_code, manufacturer_letters, Address};
pub use compact::{builtin_signatures, FormatCache};
pub use crc::crc16_en13757;
pub use decode::{decode, decode_received_on, decode_with_formats, peek_address};
pub use device::DeviceType;
pub use error::{DecodeError, KeyError};
pub use explain::{explain, ExplainedError, Explanation};
pub use fragment::{Message, Pushed, Reassembler, DEFAULT_MAX_MESSAGES, DEFAULT_MAX_MESSAGE_BYTES};
pub use info::{
    from_kamstrup_heat_info, from_kamstrup_info, from_status, InfoCode, KAM_HEAT_LEAK_INPUTS,
    KAM_HEAT_LOW_BATTERY, KAM_HEAT_SENSOR_ERRORS, KAM_HEAT_V1_AIR, KAM_HEAT_V1_REVERSE,
    KAM_INFO_BURST, KAM_INFO_DRY, KAM_INFO_LEAK, KAM_INFO_REVERSE, STATUS_LOW_BATTERY,
    STATUS_PERMANENT_ERROR, STATUS_TEMPORARY_ERROR,
};
pub use key::{AesKey, KeyKind};
pub use link::frame_without_crcs;
pub use record::{Function, Quantity, Record, Unit, Value};
pub use telegram::{Security, SecurityMode, SecurityStatus, Telegram};
pub use trace::Step;
pub use vendor::family_names;
pub use wired::{parse_wired_frame, WiredFrame};
