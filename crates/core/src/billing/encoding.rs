//! The character set of a billing or quick-export file: UTF-8, UTF-8 with a byte-order mark
//! (what a French Excel needs to open a CSV file as UTF-8), or Windows-1252 (Latin-1 with € œ
//! Œ Š ...) for Excel's "ANSI" and billing systems that count fixed widths in bytes. A
//! character the set cannot write is an error naming its line and field, never a silent `?`.

use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub enum Encoding {
    #[default]
    #[serde(rename = "utf-8")]
    Utf8,
    /// UTF-8 behind the byte-order mark EF BB BF.
    #[serde(rename = "utf-8-bom")]
    Utf8Bom,
    #[serde(rename = "windows-1252", alias = "latin1", alias = "iso-8859-1")]
    Windows1252,
}

/// Windows-1252 bytes 0x80..=0x9F (0 where the code page has no character).
const HIGH: [char; 32] = [
    '€', '\0', '‚', 'ƒ', '„', '…', '†', '‡', 'ˆ', '‰', 'Š', '‹', 'Œ', '\0', 'Ž', '\0', '\0', '‘', '’', '“', '”', '•',
    '–', '—', '˜', '™', 'š', '›', 'œ', '\0', 'ž', 'Ÿ',
];

impl Encoding {
    pub fn id(self) -> &'static str {
        match self {
            Encoding::Utf8 => "utf-8",
            Encoding::Utf8Bom => "utf-8-bom",
            Encoding::Windows1252 => "windows-1252",
        }
    }

    /// The character as one byte of this set (`None` for UTF-8 or a character it lacks).
    fn byte(c: char) -> Option<u8> {
        match c as u32 {
            0..=0x7F | 0xA0..=0xFF => Some(c as u32 as u8),
            _ if c != '\0' => HIGH.iter().position(|h| *h == c).map(|i| 0x80 + i as u8),
            _ => None,
        }
    }

    /// The first character of `text` this set cannot write.
    pub fn unwritable(self, text: &str) -> Option<char> {
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => None,
            Encoding::Windows1252 => text.chars().find(|c| Encoding::byte(*c).is_none()),
        }
    }

    /// What a file in this set starts with (the byte-order mark of `Utf8Bom`).
    pub fn start(self) -> &'static [u8] {
        match self {
            Encoding::Utf8Bom => b"\xEF\xBB\xBF",
            _ => b"",
        }
    }

    /// `text` in this set, without the file's start (characters it lacks, which the checks
    /// refuse before, become `?`).
    pub fn encode(self, text: &str) -> Vec<u8> {
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => text.as_bytes().to_vec(),
            Encoding::Windows1252 => text.chars().map(|c| Encoding::byte(c).unwrap_or(b'?')).collect(),
        }
    }

    /// Bytes of this set as text (a file's start left out).
    pub fn decode(self, bytes: &[u8]) -> String {
        match self {
            Encoding::Utf8 | Encoding::Utf8Bom => {
                String::from_utf8_lossy(bytes.strip_prefix(b"\xEF\xBB\xBF".as_slice()).unwrap_or(bytes)).into_owned()
            }
            Encoding::Windows1252 => bytes
                .iter()
                .map(|b| match b {
                    0x80..=0x9F => HIGH[usize::from(b - 0x80)],
                    _ => char::from(*b),
                })
                .collect(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::Encoding;

    #[test]
    fn windows_1252_writes_french_and_refuses_the_rest() {
        let e = Encoding::Windows1252;
        assert_eq!(e.encode("Cœur é €"), vec![b'C', 0x9C, b'u', b'r', b' ', 0xE9, b' ', 0x80]);
        assert_eq!(e.decode(&e.encode("Cœur é €")), "Cœur é €");
        assert_eq!(e.unwritable("Łódź"), Some('Ł'));
        assert_eq!(e.unwritable("Saint-Étienne"), None);
        assert_eq!(Encoding::Utf8.unwritable("Łódź"), None);
        assert_eq!(Encoding::Utf8Bom.start(), [0xEF, 0xBB, 0xBF]);
        assert_eq!(Encoding::Utf8Bom.decode(b"\xEF\xBB\xBFd\xC3\xA9"), "dé");
        assert_eq!(serde_json::to_string(&Encoding::Utf8Bom).expect("json"), "\"utf-8-bom\"");
        let parsed: Encoding = serde_json::from_str("\"latin1\"").expect("alias");
        assert_eq!(parsed, Encoding::Windows1252);
    }
}
