//! The link-layer address: manufacturer letters, meter id, version and device type.

use serde::Serialize;

use crate::device::DeviceType;
use crate::error::DecodeError;

/// Who sent a telegram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Address {
    /// Three letters, e.g. "KAM".
    pub manufacturer: String,
    /// The meter id as printed on the meter, 8 characters (hex digits when not BCD).
    pub id: String,
    pub version: u8,
    pub device_type: DeviceType,
}

impl Address {
    /// Read the 8-byte address block M(2) A(4 id, version, device type) used by the wireless link layer.
    #[inline]
    pub(crate) fn from_link_bytes(
        m: [u8; 2],
        id: [u8; 4],
        version: u8,
        device_type: u8,
    ) -> Result<Address, DecodeError> {
        Ok(Address {
            manufacturer: manufacturer_letters(u16::from_le_bytes(m))?,
            id: id_string(id),
            version,
            device_type: DeviceType::from_code(device_type),
        })
    }
}

/// Manufacturer code (FLAG association, EN 13757-3 / DLMS UA): three letters, 5 bits each, 'A' = 1.
pub fn manufacturer_letters(code: u16) -> Result<String, DecodeError> {
    let mut s = String::with_capacity(3);
    for shift in [10u16, 5, 0] {
        let v = ((code >> shift) & 0x1F) as u8;
        if !(1..=26).contains(&v) {
            return Err(DecodeError::UnknownManufacturer { code });
        }
        s.push(char::from(b'A' + v - 1));
    }
    Ok(s)
}

/// The inverse of [`manufacturer_letters`]; `None` unless exactly three letters A-Z (any case).
pub fn manufacturer_code(letters: &str) -> Option<u16> {
    let b = letters.as_bytes();
    if b.len() != 3 {
        return None;
    }
    let mut code: u16 = 0;
    for c in b {
        let u = c.to_ascii_uppercase();
        if !u.is_ascii_uppercase() {
            return None;
        }
        code = (code << 5) | u16::from(u - b'A' + 1);
    }
    Some(code)
}

/// The id bytes are sent least significant first; printed most significant first as hex
/// (which for BCD ids is exactly the decimal number on the meter's label).
pub(crate) fn id_string(id: [u8; 4]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789ABCDEF";
    let mut s = String::with_capacity(8);
    for b in [id[3], id[2], id[1], id[0]] {
        s.push(char::from(DIGITS[usize::from(b >> 4)]));
        s.push(char::from(DIGITS[usize::from(b & 0x0F)]));
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: u16, expected: Result<&str, DecodeError>) {
        assert_eq!(
            manufacturer_letters(code).as_deref().map_err(Clone::clone),
            expected
        );
        if let Ok(l) = expected {
            assert_eq!(manufacturer_code(l), Some(code));
        }
    }

    #[test]
    fn manufacturers() {
        check(0x2C2D, Ok("KAM"));
        check(0x12FA, Ok("DWZ"));
        check(0x0000, Err(DecodeError::UnknownManufacturer { code: 0 }));
        check(
            0xFFFF,
            Err(DecodeError::UnknownManufacturer { code: 0xFFFF }),
        );
        assert_eq!(manufacturer_code("kam"), Some(0x2C2D));
        assert_eq!(manufacturer_code("KA"), None);
        assert_eq!(manufacturer_code("K1M"), None);
    }

    #[test]
    fn ids() {
        assert_eq!(id_string([0x99, 0x87, 0x34, 0x76]), "76348799");
        assert_eq!(id_string([0xDE, 0xFF, 0xE4, 0x20]), "20E4FFDE");
    }
}
