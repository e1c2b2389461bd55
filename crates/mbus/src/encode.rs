//! Building telegrams: wireless M-Bus frames (plaintext, OMS security mode 5 or mode 7), format A CRCs,
//! and small helpers for records, dates and Kamstrup info codes. Used by demo data and tests.

use crate::address::manufacturer_code;
use crate::device::DeviceType;
use crate::info::{InfoCode, KAM_INFO_BURST, KAM_INFO_DRY, KAM_INFO_LEAK, KAM_INFO_REVERSE};
use crate::key::AesKey;
use crate::link::add_format_a_crcs;
use crate::security::{
    cbc_encrypt, derive_key, des_cbc_encrypt, mode3_iv, mode5_iv, KDF_ENC, KDF_MAC, VERIFY,
};
use crate::tplsec::compute_mac;

/// What goes into the link and transport headers of a built frame.
#[derive(Debug, Clone, PartialEq)]
pub struct FrameSpec<'a> {
    /// Three letters A-Z; anything else is sent as code 0000 (which decodes as an unknown manufacturer).
    pub manufacturer: &'a str,
    /// 8 BCD digits as printed on the meter (hex digits A-F are also accepted); anything else is sent as 00000000.
    pub id: &'a str,
    pub version: u8,
    pub device_type: DeviceType,
    pub access_number: u8,
    pub status: u8,
}

/// At most 15 blocks can be announced as encrypted in the configuration field.
const MAX_ENCRYPTED: usize = 15 * 16;

pub(crate) fn id_bytes(id: &str) -> [u8; 4] {
    let b = id.as_bytes();
    if b.len() != 8 || !b.iter().all(u8::is_ascii_hexdigit) {
        return [0; 4];
    }
    let mut out = [0u8; 4];
    for (i, slot) in out.iter_mut().enumerate() {
        // Byte 0 is the last two digits.
        let pos = 6 - 2 * i;
        let pair = id.get(pos..pos + 2).unwrap_or("00");
        *slot = u8::from_str_radix(pair, 16).unwrap_or(0);
    }
    out
}

impl FrameSpec<'_> {
    /// The link-layer address as sent: manufacturer code (LE) and the A field (id LE,
    /// version, device type).
    pub(crate) fn link_address(&self) -> ([u8; 2], [u8; 6]) {
        let m = manufacturer_code(self.manufacturer).unwrap_or(0).to_le_bytes();
        let id = id_bytes(self.id);
        (m, [id[0], id[1], id[2], id[3], self.version, self.device_type.code()])
    }
}

/// The start of a wireless frame: L (set by `finish_frame`), C = 44, M, A.
pub(crate) fn link_header(spec: &FrameSpec, capacity: usize) -> Vec<u8> {
    let (m, a) = spec.link_address();
    let mut f = Vec::with_capacity(capacity + 10);
    f.extend_from_slice(&[0, 0x44]);
    f.extend_from_slice(&m);
    f.extend_from_slice(&a);
    f
}

/// Cut the frame at 255 bytes after the L field and set L.
fn finish_frame(mut f: Vec<u8>) -> Vec<u8> {
    f.truncate(256);
    let l = u8::try_from(f.len() - 1).unwrap_or(u8::MAX);
    if let Some(first) = f.first_mut() {
        *first = l;
    }
    f
}

/// 2F2F + payload, padded with 2F to whole 16-byte blocks (at most 15 of them), and how many
/// of its bytes are to be encrypted (a longer payload's tail stays plaintext).
fn verified_plaintext(payload: &[u8]) -> (Vec<u8>, usize) {
    let mut plain = VERIFY.to_vec();
    plain.extend_from_slice(payload);
    let enc_len = plain.len().div_ceil(16).saturating_mul(16).min(MAX_ENCRYPTED);
    while plain.len() < enc_len {
        plain.push(0x2F);
    }
    (plain, enc_len)
}

/// Build a wireless M-Bus frame (L field first, C = 0x44, CI 0x7A short header, no link-layer CRCs).
///
/// `payload` is the already-encoded DIF/VIF/data records. With a key the frame uses OMS security
/// mode 5 (AES-128-CBC, IV = M(2) + A(6) + 8 x access number): the payload is prefixed with 2F2F,
/// padded with 0x2F to whole 16-byte blocks, and the configuration field says mode 5 and the number
/// of encrypted blocks (at most 15; a longer payload's tail stays plaintext after the encrypted blocks).
/// Without a key the payload is sent as is with configuration 0x0000.
/// A wireless frame holds at most 255 bytes after the L field: a longer frame is cut there.
pub fn wmbus_frame(spec: &FrameSpec, payload: &[u8], key: Option<&AesKey>) -> Vec<u8> {
    let (config, body) = match key {
        None => (0u16, payload.to_vec()),
        Some(k) => {
            let (plain, enc_len) = verified_plaintext(payload);
            let (m, a) = spec.link_address();
            let iv = mode5_iv(m, a, spec.access_number);
            let mut body = cbc_encrypt(k, &iv, plain.get(..enc_len).unwrap_or(&[]));
            body.extend_from_slice(plain.get(enc_len..).unwrap_or(&[]));
            (0x0500 | (((enc_len / 16) as u16) << 4), body)
        }
    };
    let mut f = link_header(spec, body.len() + 5);
    f.push(0x7A);
    f.push(spec.access_number);
    f.push(spec.status);
    f.extend_from_slice(&config.to_le_bytes());
    f.extend_from_slice(&body);
    finish_frame(f)
}

/// Build a frame in the legacy DES security mode 2 (`sent_on` `None`: zero IV) or 3 (`sent_on`
/// the day of sending, year, month, day: IV from id, manufacturer and that date): CI 7A short
/// header, the payload prefixed with 2F2F, padded with 2F to whole 16-byte units (at most 15)
/// and DES-CBC encrypted under the 8-byte `key`. Frames above 255 bytes are cut.
pub fn wmbus_frame_des(
    spec: &FrameSpec,
    payload: &[u8],
    key: [u8; 8],
    sent_on: Option<(u16, u8, u8)>,
) -> Vec<u8> {
    let (plain, enc_len) = verified_plaintext(payload);
    let (m, a) = spec.link_address();
    let (mode, iv) = match sent_on {
        None => (2u16, [0u8; 8]),
        Some((y, mo, d)) => (3, mode3_iv([a[0], a[1], a[2], a[3]], m, y, mo, d)),
    };
    let mut body = des_cbc_encrypt(&key, &iv, plain.get(..enc_len).unwrap_or(&[]));
    body.extend_from_slice(plain.get(enc_len..).unwrap_or(&[]));
    let config = (mode << 8) | (((enc_len / 16) as u16) << 4);
    let mut f = link_header(spec, body.len() + 5);
    f.push(0x7A);
    f.push(spec.access_number);
    f.push(spec.status);
    f.extend_from_slice(&config.to_le_bytes());
    f.extend_from_slice(&body);
    finish_frame(f)
}

/// Build an OMS security mode 7 frame: link header, AFL (CI 90: FCL 2C00 = MCL + counter + MAC,
/// MCL 25 = AES-CMAC with 8 bytes, the message counter `counter`, the MAC), then a short transport
/// header (CI 7A) with configuration mode 7 and the extension byte 10 (key derivation KDF-A),
/// and the payload prefixed with 2F2F, padded with 2F and AES-128-CBC encrypted with a zero IV
/// under the key derived from `key`, `counter` and the meter id. Frames above 255 bytes are cut.
pub fn wmbus_frame_mode7(spec: &FrameSpec, payload: &[u8], key: &AesKey, counter: u32) -> Vec<u8> {
    let id = id_bytes(spec.id);
    let mcr = counter.to_le_bytes();
    let (plain, enc_len) = verified_plaintext(payload);
    let kenc = derive_key(key, KDF_ENC, mcr, id);
    let kmac = derive_key(key, KDF_MAC, mcr, id);
    let mut tpl = vec![0x7A, spec.access_number, spec.status];
    let config = 0x0700u16 | (((enc_len / 16) as u16) << 4);
    tpl.extend_from_slice(&config.to_le_bytes());
    tpl.push(0x10);
    tpl.extend_from_slice(&cbc_encrypt(
        &kenc,
        &[0; 16],
        plain.get(..enc_len).unwrap_or(&[]),
    ));
    tpl.extend_from_slice(plain.get(enc_len..).unwrap_or(&[]));
    let mcl = 0x25u8;
    let mut prefix = vec![mcl];
    prefix.extend_from_slice(&mcr);
    let mac = compute_mac(&kmac, &prefix, &tpl, 8);
    let mut f = link_header(spec, tpl.len() + 17);
    f.extend_from_slice(&[0x90, 0x0F, 0x00, 0x2C, mcl]);
    f.extend_from_slice(&mcr);
    f.extend_from_slice(&mac);
    f.extend_from_slice(&tpl);
    finish_frame(f)
}

/// Insert format A data-link CRCs into a frame built without them (EN 13757-4: first block
/// 10 bytes, then blocks of 16, each followed by its CRC-16 high byte first).
pub fn with_format_a_crcs(frame: &[u8]) -> Vec<u8> {
    add_format_a_crcs(frame)
}

/// The Kamstrup `02 FF 20` info register value for these info codes (bits 0-3: DRY, REVERSE,
/// LEAK, BURST; the duration counters in bits 4-15 are left 0). Codes without a bit there
/// (Tamper, LowBattery, PermanentError, TemporaryError) are ignored: Tamper is not carried by
/// any Kamstrup record this crate maps, the others belong in the status byte (see [`status_bits`]).
/// A wired M-Bus long frame around `body` (C, A, CI and the data, as gateways such as
/// Elvaco CMe report it without checksum and stop byte): `68 L L 68 body CS 16`. `None`
/// when the body is empty or longer than a long frame holds (255 bytes).
pub fn wired_long_frame(body: &[u8]) -> Option<Vec<u8>> {
    let len = u8::try_from(body.len()).ok().filter(|l| *l >= 3)?;
    let mut frame = Vec::with_capacity(body.len() + 6);
    frame.extend_from_slice(&[0x68, len, len, 0x68]);
    frame.extend_from_slice(body);
    frame.push(crate::crc::sum8(body));
    frame.push(0x16);
    Some(frame)
}

pub fn kamstrup_info_bits(codes: &[InfoCode]) -> u16 {
    codes.iter().fold(0u16, |acc, c| {
        acc | match c {
            InfoCode::Dry => KAM_INFO_DRY,
            InfoCode::Reverse => KAM_INFO_REVERSE,
            InfoCode::Leak => KAM_INFO_LEAK,
            InfoCode::Burst => KAM_INFO_BURST,
            _ => 0,
        }
    })
}

/// The complete Kamstrup info record `02 FF 20 lo hi` for these info codes.
pub fn kamstrup_info_record(codes: &[InfoCode]) -> [u8; 5] {
    let [lo, hi] = kamstrup_info_bits(codes).to_le_bytes();
    [0x02, 0xFF, 0x20, lo, hi]
}

/// The transport-layer status byte bits for these info codes (LowBattery 0x04, PermanentError 0x08,
/// TemporaryError 0x10); other codes are ignored.
pub fn status_bits(codes: &[InfoCode]) -> u8 {
    codes.iter().fold(0u8, |acc, c| {
        acc | match c {
            InfoCode::LowBattery => crate::info::STATUS_LOW_BATTERY,
            InfoCode::PermanentError => crate::info::STATUS_PERMANENT_ERROR,
            InfoCode::TemporaryError => crate::info::STATUS_TEMPORARY_ERROR,
            _ => 0,
        }
    })
}

/// One record: DIF (+DIFEs), VIF (+VIFEs), data, concatenated.
pub fn record(dib: &[u8], vib: &[u8], data: &[u8]) -> Vec<u8> {
    [dib, vib, data].concat()
}

/// Date type G (2 bytes) for DIF 02 VIF 6C. Year 2000-2127; fields are masked to their bit widths.
pub fn date_g(year: u16, month: u8, day: u8) -> [u8; 2] {
    let y = (year.saturating_sub(2000) & 0x7F) as u8;
    [
        ((y & 0x07) << 5) | (day & 0x1F),
        ((y & 0x78) << 1) | (month & 0x0F),
    ]
}

/// Date and time type F (4 bytes) for DIF 04 VIF 6D. Year 2000-2127; fields are masked to their bit widths.
pub fn datetime_f(year: u16, month: u8, day: u8, hour: u8, minute: u8) -> [u8; 4] {
    let [d, m] = date_g(year, month, day);
    [minute & 0x3F, hour & 0x1F, d, m]
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(codes: &[InfoCode], expected: u16) {
        assert_eq!(kamstrup_info_bits(codes), expected);
        assert_eq!(
            crate::info::from_kamstrup_info(expected),
            codes
                .iter()
                .copied()
                .filter(|c| matches!(
                    c,
                    InfoCode::Dry | InfoCode::Reverse | InfoCode::Leak | InfoCode::Burst
                ))
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn info_bits() {
        check(&[], 0);
        check(&[InfoCode::Dry], 1);
        check(&[InfoCode::Leak, InfoCode::Burst], 0x0C);
        check(&[InfoCode::Reverse, InfoCode::Tamper], 0x02);
        assert_eq!(
            kamstrup_info_record(&[InfoCode::Leak]),
            [0x02, 0xFF, 0x20, 0x04, 0x00]
        );
        assert_eq!(
            status_bits(&[InfoCode::LowBattery, InfoCode::TemporaryError]),
            0x14
        );
    }

    #[test]
    fn ids_and_dates() {
        assert_eq!(id_bytes("76348799"), [0x99, 0x87, 0x34, 0x76]);
        assert_eq!(id_bytes("7634879"), [0; 4]);
        assert_eq!(id_bytes("7634879é"), [0; 4]);
        assert_eq!(date_g(2020, 8, 1), [0x81, 0x28]);
        assert_eq!(datetime_f(2022, 12, 31, 23, 59), [0x3B, 0x17, 0xDF, 0x2C]);
    }
}
