//! The AES-128 key newtype: parsing from hex, never printing its bytes.

use crate::error::KeyError;

/// An AES-128 key. `Debug` hides the bytes.
#[derive(Clone, PartialEq, Eq)]
pub struct AesKey([u8; 16]);

impl AesKey {
    /// Parse 32 hex digits (upper or lower case; spaces, `-` and `:` are ignored).
    pub fn from_hex(s: &str) -> Result<AesKey, KeyError> {
        let digits: Vec<(usize, char)> = s
            .chars()
            .enumerate()
            .filter(|(_, c)| !matches!(c, ' ' | '-' | ':' | '\t'))
            .collect();
        if let Some(&(position, found)) = digits.iter().find(|(_, c)| !c.is_ascii_hexdigit()) {
            return Err(KeyError::NotHex { found, position });
        }
        if digits.len() != 32 {
            return Err(KeyError::WrongLength { got: digits.len() });
        }
        let mut out = [0u8; 16];
        for (i, pair) in digits.chunks(2).enumerate() {
            let hi = pair.first().and_then(|(_, c)| c.to_digit(16)).unwrap_or(0);
            let lo = pair.get(1).and_then(|(_, c)| c.to_digit(16)).unwrap_or(0);
            if let Some(slot) = out.get_mut(i) {
                *slot = ((hi << 4) | lo) as u8;
            }
        }
        Ok(AesKey(out))
    }

    /// Wrap raw key bytes.
    pub fn from_bytes(b: [u8; 16]) -> AesKey {
        AesKey(b)
    }

    /// The raw key bytes.
    pub fn as_bytes(&self) -> &[u8; 16] {
        &self.0
    }
}

impl std::fmt::Debug for AesKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("AesKey(<hidden>)")
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
            "key must be 32 hex digits, got 30"
        );
        let k = AesKey::from_bytes([0xAB; 16]);
        assert!(!format!("{k:?}").contains("AB") && !format!("{k:?}").contains("171"));
    }
}
