//! Kamstrup KEM key files. A KEM file is XML (W3C XML Encryption): its `CipherValue` holds,
//! in base64, an AES-128-CBC encryption of an XML list of meters — the IV in the first 16
//! bytes, then the blocks, the last one padded as XML Encryption says (the last byte counts
//! the padding bytes). The AES key is the password the utility received with the file: its
//! UTF-8 bytes padded with zero bytes to 16 (cut at 16). The list is `MetersInOrder` of
//! `Meter` (`SerialNo`, `DEK`, ...) or, in newer files, `Devices` of `Device`
//! (`SerialNumber`, `ManufacturerId`, the key's `Value`). A KEM2 is the same file in a ZIP
//! archive (an entry named `*.kem` or `*.kem2`).

use super::{normalise_manufacturer, normalise_serial, KeyEntry};
use crate::error::{Error, Result};
use crate::import::Rejected;
use base64::Engine;

/// Whether `bytes` look like a KEM file (XML with a `CipherValue`) or a ZIP archive (KEM2).
pub fn is_kem(bytes: &[u8]) -> bool {
    is_zip(bytes) || {
        let head = &bytes[..bytes.len().min(1 << 16)];
        head.windows(11).any(|w| w == b"CipherValue")
    }
}

fn is_zip(bytes: &[u8]) -> bool {
    bytes.starts_with(b"PK\x03\x04")
}

fn problem(file: &str, problem: &'static str, reason: String) -> Error {
    Error::Keys { problem, file: file.to_string(), reason: format!("{file}: {reason}") }
}

/// The meters' keys of a KEM or KEM2 file, opened with `password`. A wrong password is
/// refused (`kem_wrong_password`); meters whose serial or key cannot be read are listed in
/// `rejected` (numbered in the file's order).
pub fn read(file: &str, bytes: &[u8], password: Option<&str>, rejected: &mut Vec<Rejected>) -> Result<Vec<KeyEntry>> {
    let password = password.filter(|p| !p.is_empty()).ok_or_else(|| {
        problem(file, "kem_password_needed", "a KEM key file is encrypted: give the password the utility received with it".into())
    })?;
    let xml = if is_zip(bytes) { unzip(file, bytes)? } else { bytes.to_vec() };
    let xml = String::from_utf8_lossy(&xml);
    let cipher_value = element_texts(&xml, "CipherValue").into_iter().next().ok_or_else(|| {
        problem(file, "kem_unreadable", "no encrypted part (CipherValue) in this KEM file".into())
    })?;
    let compact: String = cipher_value.chars().filter(|c| !c.is_whitespace()).collect();
    let data = base64::engine::general_purpose::STANDARD
        .decode(compact.as_bytes())
        .map_err(|e| problem(file, "kem_unreadable", format!("the encrypted part is not base64 ({e})")))?;
    let clear = decrypt(&data, password).ok_or_else(|| {
        problem(file, "kem_wrong_password", "the password does not open this KEM file: nothing was imported".into())
    })?;
    Ok(meters(file, &clear, rejected))
}

/// The first `*.kem` or `*.kem2` entry of a ZIP archive (KEM2).
fn unzip(file: &str, bytes: &[u8]) -> Result<Vec<u8>> {
    use std::io::Read;
    let unreadable = |reason: String| problem(file, "kem_unreadable", reason);
    let mut archive = zip::ZipArchive::new(std::io::Cursor::new(bytes)).map_err(|e| unreadable(format!("not a readable ZIP archive ({e})")))?;
    let name = archive
        .file_names()
        .find(|n| {
            let n = n.to_ascii_lowercase();
            n.ends_with(".kem") || n.ends_with(".kem2")
        })
        .map(str::to_string)
        .ok_or_else(|| unreadable("the ZIP archive holds no .kem or .kem2 file".into()))?;
    let mut entry = archive.by_name(&name).map_err(|e| unreadable(format!("{name}: {e}")))?;
    let mut out = Vec::new();
    // A key file is small: more than 64 MiB unpacked is not one.
    (&mut entry).take(64 << 20).read_to_end(&mut out).map_err(|e| unreadable(format!("{name}: {e}")))?;
    Ok(out)
}

/// The AES key of a KEM password: its bytes, padded with zeros (or cut) to 16.
pub fn password_key(password: &str) -> [u8; 16] {
    let mut key = [0u8; 16];
    for (k, b) in key.iter_mut().zip(password.as_bytes()) {
        *k = *b;
    }
    key
}

/// The clear XML, or `None` when the password does not open it (the result is no text
/// beginning with `<`, or its padding is impossible).
fn decrypt(data: &[u8], password: &str) -> Option<String> {
    use aes::cipher::{block_padding::NoPadding, BlockDecryptMut, KeyIvInit};
    if data.len() < 32 || !data.len().is_multiple_of(16) {
        return None;
    }
    let (iv, body) = data.split_at(16);
    let key = password_key(password);
    let mut buf = body.to_vec();
    let clear = cbc::Decryptor::<aes::Aes128>::new(&key.into(), iv.into()).decrypt_padded_mut::<NoPadding>(&mut buf).ok()?;
    let pad = usize::from(*clear.last()?);
    if pad == 0 || pad > 16 || pad > clear.len() {
        return None;
    }
    let text = std::str::from_utf8(&clear[..clear.len() - pad]).ok()?;
    let text = text.trim_start_matches('\u{feff}').trim_start();
    text.starts_with('<').then(|| text.to_string())
}

/// The meters of the clear list.
fn meters(file: &str, xml: &str, rejected: &mut Vec<Rejected>) -> Vec<KeyEntry> {
    let mut out = Vec::new();
    let blocks = {
        let meters = element_texts(xml, "Meter");
        if meters.is_empty() { element_texts(xml, "Device") } else { meters }
    };
    for (i, block) in blocks.iter().enumerate() {
        let number = i as u64 + 1;
        let first = |names: &[&str]| names.iter().find_map(|n| element_texts(block, n).into_iter().next()).map(|t| unescape(t.trim()));
        let serial = first(&["SerialNo", "SerialNumber"]).unwrap_or_default();
        let key = first(&["DEK", "Value", "Key"]).unwrap_or_default();
        let manufacturer = first(&["ManufacturerId", "VendorId"]).unwrap_or_default();
        let reject = |rejected: &mut Vec<Rejected>, code: &str, why: String| {
            rejected.push(Rejected { line: number, code: code.into(), params: Default::default(), reason: format!("{file}, meter {number} of the file: {why}") });
        };
        if serial.is_empty() {
            reject(rejected, "key_no_serial", "no serial number".into());
            continue;
        }
        match mbus::AesKey::from_hex(&key) {
            Ok(k) => out.push(KeyEntry {
                line: number,
                serial: normalise_serial(&serial),
                // A vendor given as a number (not a three-letter code) names no manufacturer.
                manufacturer: normalise_manufacturer(&manufacturer).unwrap_or_default(),
                key: *k.as_bytes(),
            }),
            Err(e) => reject(rejected, e.code(), format!("meter {serial}: {e}")),
        }
    }
    out
}

/// The contents of every element whose local name (without namespace prefix) is `name`.
/// Enough for the flat lists of key files: an element does not nest in one of its name.
pub(crate) fn element_texts<'a>(xml: &'a str, name: &str) -> Vec<&'a str> {
    let mut out = Vec::new();
    let mut at = 0;
    while let Some(open) = xml[at..].find('<').map(|i| at + i) {
        let rest = &xml[open + 1..];
        let tag_len = rest.find(|c: char| c.is_whitespace() || c == '>' || c == '/').unwrap_or(rest.len());
        let tag = &rest[..tag_len];
        let local = tag.rsplit(':').next().unwrap_or(tag);
        let Some(end) = rest.find('>') else { break };
        at = open + 1 + end + 1;
        if local != name || tag.starts_with('/') {
            continue;
        }
        if rest[..end].ends_with('/') {
            out.push("");
            continue;
        }
        let closing = format!("</{tag}>");
        if let Some(close) = xml[at..].find(&closing) {
            out.push(&xml[at..at + close]);
            at += close + closing.len();
        }
    }
    out
}

fn unescape(s: &str) -> String {
    s.replace("&lt;", "<").replace("&gt;", ">").replace("&quot;", "\"").replace("&apos;", "'").replace("&amp;", "&")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_by_local_name() {
        let xml = r#"<a><x:CipherData><x:CipherValue>QUJD
RA==</x:CipherValue></x:CipherData><Meter><SerialNo>1</SerialNo><MeterNo>9</MeterNo></Meter><Meter/></a>"#;
        assert_eq!(element_texts(xml, "CipherValue"), vec!["QUJD\nRA=="]);
        assert_eq!(element_texts(xml, "Meter"), vec!["<SerialNo>1</SerialNo><MeterNo>9</MeterNo>", ""]);
        assert_eq!(element_texts(xml, "SerialNo"), vec!["1"]);
    }

    #[test]
    fn the_password_is_the_key() {
        assert_eq!(&password_key("abc")[..4], b"abc\0");
        assert_eq!(password_key("0123456789abcdefXYZ"), *b"0123456789abcdef");
    }
}
