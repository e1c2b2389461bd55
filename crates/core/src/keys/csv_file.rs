//! `serial;key` key files: fields separated by `;`, `,` or a tab, an optional header line,
//! an optional manufacturer column (three letters). Without a header the key is the field
//! of 32 hexadecimal digits, the manufacturer the field of three letters, the serial the
//! other one. Every refused line names the file and the line.

use super::{normalise_manufacturer, normalise_serial, KeyEntry};
use crate::import::Rejected;

/// Columns named by a header line.
#[derive(Clone, Copy)]
struct Columns {
    serial: usize,
    key: usize,
    manufacturer: Option<usize>,
}

fn header(fields: &[&str]) -> Option<Columns> {
    let find = |names: &[&str]| {
        fields.iter().position(|f| {
            let f = f.to_lowercase();
            names.iter().any(|n| f.contains(n))
        })
    };
    let manufacturer = find(&["manuf", "fabricant", "vendor", "mfct"]);
    let key = find(&["key", "clé", "cle", "aes"])?;
    let serial = fields
        .iter()
        .enumerate()
        .position(|(i, f)| {
            let f = f.to_lowercase();
            i != key && Some(i) != manufacturer && ["serial", "série", "serie", "id", "meter", "compteur", "numéro", "numero", "number"].iter().any(|n| f.contains(n))
        })?;
    Some(Columns { serial, key, manufacturer })
}

fn is_key(f: &str) -> bool {
    f.len() == 32 && f.chars().all(|c| c.is_ascii_hexdigit())
}

pub(super) fn read(file: &str, content: &str, rejected: &mut Vec<Rejected>) -> Vec<KeyEntry> {
    let mut out = Vec::new();
    let mut columns: Option<Columns> = None;
    let mut first = true;
    for (i, line) in content.lines().enumerate() {
        let number = i as u64 + 1;
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split([';', ',', '\t']).map(|f| f.trim().trim_matches('"').trim()).collect();
        let was_first = std::mem::replace(&mut first, false);
        if was_first && !fields.iter().any(|f| is_key(f)) && !fields.iter().any(|f| f.chars().any(|c| c.is_ascii_digit())) {
            columns = header(&fields);
            if columns.is_some() {
                continue;
            }
            reject(rejected, file, number, "key_bad_header", "a header line should name a serial column and a key column".into());
            continue;
        }
        // A line with fewer fields than the header names is read like a file without one.
        let named = columns.filter(|c| fields.len() > c.serial.max(c.key));
        let (serial, key, manufacturer) = match named {
            Some(c) => (
                fields.get(c.serial).copied().unwrap_or(""),
                fields.get(c.key).copied().unwrap_or(""),
                c.manufacturer.and_then(|m| fields.get(m).copied()).unwrap_or(""),
            ),
            None => {
                let key_at = fields.iter().position(|f| is_key(f)).unwrap_or(fields.len().min(1));
                let others: Vec<usize> = (0..fields.len()).filter(|i| *i != key_at).collect();
                let manufacturer_at = match others.as_slice() {
                    [_, second, ..] => Some(others.iter().copied().find(|i| normalise_manufacturer(fields[*i]).is_some()).unwrap_or(*second)),
                    _ => None,
                };
                let serial = others.iter().find(|i| Some(**i) != manufacturer_at).map_or("", |i| fields[*i]);
                (serial, fields.get(key_at).copied().unwrap_or(""), manufacturer_at.map_or("", |m| fields[m]))
            }
        };
        if serial.is_empty() {
            reject(rejected, file, number, "key_no_serial", "no meter serial".into());
            continue;
        }
        if serial.len() > 16 || !serial.chars().all(|c| c.is_ascii_alphanumeric()) {
            reject(rejected, file, number, "key_bad_serial", format!("'{serial}' is not a meter serial"));
            continue;
        }
        let manufacturer = if manufacturer.is_empty() {
            String::new()
        } else {
            match normalise_manufacturer(manufacturer) {
                Some(m) => m,
                None => {
                    reject(rejected, file, number, "key_bad_manufacturer", format!("meter {serial}: '{manufacturer}' is not a manufacturer (three letters, e.g. KAM)"));
                    continue;
                }
            }
        };
        match mbus::AesKey::from_hex(key) {
            Ok(k) => out.push(KeyEntry { line: number, serial: normalise_serial(serial), manufacturer, key: *k.as_bytes() }),
            Err(e) => reject(rejected, file, number, e.code(), format!("meter {serial}: {e}")),
        }
    }
    out
}

fn reject(rejected: &mut Vec<Rejected>, file: &str, line: u64, code: &str, why: String) {
    rejected.push(Rejected { line, code: code.into(), params: Default::default(), reason: format!("{file}, line {line}: {why}") });
}

#[cfg(test)]
mod tests {
    use super::read;

    const K: &str = "000102030405060708090A0B0C0D0E0F";

    #[test]
    fn separators_headers_and_manufacturers() {
        let mut rejected = Vec::new();
        let file = format!(
            "Manufacturer;Serial;AES key\nKAM;12345678;{K}\nkaw,1234,{K}\n\n# comment\n87654321\t{K}\n"
        );
        let got = read("k.csv", &file, &mut rejected);
        assert!(rejected.is_empty(), "{rejected:?}");
        let got: Vec<(u64, &str, &str)> = got.iter().map(|e| (e.line, e.serial.as_str(), e.manufacturer.as_str())).collect();
        assert_eq!(got, vec![(2, "12345678", "KAM"), (3, "00001234", "KAW"), (6, "87654321", "")]);

        let mut rejected = Vec::new();
        let got = read("k.csv", &format!("12345678;{K}\nKAM;87654321;{K}\n;{K}\n11111111;XYZ\n22222222;{K};12\n"), &mut rejected);
        assert_eq!(got.len(), 2, "no header: the key is the 32 digits, the manufacturer the three letters");
        assert_eq!(got[1].manufacturer, "KAM");
        let reasons: Vec<&str> = rejected.iter().map(|r| r.reason.as_str()).collect();
        assert_eq!(reasons.len(), 3, "{reasons:?}");
        assert!(reasons[0].starts_with("k.csv, line 3: no meter serial"), "{reasons:?}");
        assert!(reasons[1].starts_with("k.csv, line 4: meter 11111111: "), "{reasons:?}");
        assert!(reasons[2].starts_with("k.csv, line 5: meter 22222222: '12' is not a manufacturer"), "{reasons:?}");
    }
}
