//! The meter key newtype: parsing from hex, never printing its bytes.
//!
//! Most meters use AES-128 keys (16 bytes, 32 hex digits). Legacy meters encrypting with
//! security modes 2 and 3 (EN 13757-3:2004 / EN 13757-7 DES-CBC, deprecated) use a single-DES
//! key of 8 bytes (16 hex digits, parity bits included). Both travel as [`AesKey`] so that every
//! entry point keeps taking one key type; [`AesKey::kind`] tells them apart, an AES mode given a
//! DES key (or the reverse) reads as a wrong key, never as a silently padded one.

use crate::error::KeyError;

/// What kind of cipher key an [`AesKey`] holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum KeyKind {
    /// AES-128, 16 bytes: OMS security modes 5 and 7, ELL AES-CTR.
    Aes128,
    /// Single DES, 8 bytes: the deprecated security modes 2 and 3.
    Des,
}

/// A meter key: AES-128 (16 bytes), or DES (8 bytes) for the legacy security modes 2 and 3.
/// `Debug` hides the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey {
    bytes: [u8; 16],
    kind: KeyKind,
}

impl AesKey {
    /// Parse 32 hex digits as an AES-128 key, or 16 hex digits as a DES key (upper or lower
    /// case; spaces, `-` and `:` are ignored).
    pub fn from_hex(s: &str) -> Result<AesKey, KeyError> {
        let digits: Vec<(usize, char)> = s
            .chars()
            .enumerate()
            .filter(|(_, c)| !matches!(c, ' ' | '-' | ':' | '\t'))
            .collect();
        if let Some(&(position, found)) = digits.iter().find(|(_, c)| !c.is_ascii_hexdigit()) {
            return Err(KeyError::NotHex { found, position });
        }
        let kind = match digits.len() {
            32 => KeyKind::Aes128,
            16 => KeyKind::Des,
            got => return Err(KeyError::WrongLength { got }),
        };
        let mut out = [0u8; 16];
        for (i, pair) in digits.chunks(2).enumerate() {
            let hi = pair.first().and_then(|(_, c)| c.to_digit(16)).unwrap_or(0);
            let lo = pair.get(1).and_then(|(_, c)| c.to_digit(16)).unwrap_or(0);
            if let Some(slot) = out.get_mut(i) {
                *slot = ((hi << 4) | lo) as u8;
            }
        }
        Ok(AesKey { bytes: out, kind })
    }

    /// Wrap raw AES-128 key bytes.
    pub fn from_bytes(b: [u8; 16]) -> AesKey {
        AesKey { bytes: b, kind: KeyKind::Aes128 }
    }

    /// Wrap raw DES key bytes (security modes 2 and 3).
    pub fn from_des_bytes(b: [u8; 8]) -> AesKey {
        let mut bytes = [0u8; 16];
        bytes[..8].copy_from_slice(&b);
        AesKey { bytes, kind: KeyKind::Des }
    }

    /// Which cipher this key is for.
    pub fn kind(&self) -> KeyKind {
        self.kind
    }

    /// The raw key bytes of an AES-128 key. For a DES key: its 8 bytes then 8 zero bytes
    /// (an AES cipher keyed with them decrypts nothing a DES meter sent: a wrong key).
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.bytes
    }

    /// The 8 key bytes of a DES key; `None` for an AES-128 key.
    pub fn des_bytes(&self) -> Option<[u8; 8]> {
        match self.kind {
            KeyKind::Des => {
                let mut k = [0u8; 8];
                k.copy_from_slice(&self.bytes[..8]);
                Some(k)
            }
            KeyKind::Aes128 => None,
        }
    }
}

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.kind {
            KeyKind::Aes128 => f.write_str("AesKey(<hidden>)"),
            KeyKind::Des => f.write_str("AesKey(DES, <hidden>)"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &str, expected: Result<[u8; 16], KeyError>) {
        assert_eq!(
            AesKey::from_hex(input).map(|k| *k.as_bytes()),
            expected,
            "input {input:?}"
        );
    }

    #[test]
    fn parses_hex() {
        check(
            "000102030405060708090A0B0C0D0E0F",
            Ok([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
        );
        check(
            "000102030405060708090a0b0c0d0e0f",
            Ok([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
        );
        check(
            "00 01 02 03 04 05 06 07 08 09 0A 0B 0C 0D 0E 0F",
            Ok([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15]),
        );
        check(
            "000102030405060708090A0B0C0D0E",
            Err(KeyError::WrongLength { got: 30 }),
        );
        check("01020304050607", Err(KeyError::WrongLength { got: 14 }));
        check(
            "0001020304050607080G0A0B0C0D0E0F",
            Err(KeyError::NotHex {
                found: 'G',
                position: 19,
            }),
        );
        check(
            "ü",
            Err(KeyError::NotHex {
                found: 'ü',
                position: 0,
            }),
        );
    }

    #[test]
    fn messages_and_debug() {
        assert_eq!(
            AesKey::from_hex("000102030405060708090A0B0C0D0E")
                .expect_err("short key")
                .to_string(),
            "key must be 32 hex digits (AES-128) or 16 (DES), got 30"
        );
        let d = AesKey::from_hex("01 02 03 04 05 06 07 08").expect("DES key");
        assert_eq!(d.kind(), KeyKind::Des);
        assert_eq!(d.des_bytes(), Some([1, 2, 3, 4, 5, 6, 7, 8]));
        assert_eq!(d, AesKey::from_des_bytes([1, 2, 3, 4, 5, 6, 7, 8]));
        assert_ne!(d, AesKey::from_bytes([1, 2, 3, 4, 5, 6, 7, 8, 0, 0, 0, 0, 0, 0, 0, 0]));
        assert!(!format!("{d:?}").contains('1'));
        assert_eq!(AesKey::from_bytes([0; 16]).des_bytes(), None);
        let k = AesKey::from_bytes([0xAB; 16]);
        assert!(!format!("{k:?}").contains("AB") && !format!("{k:?}").contains("171"));
    }
}
