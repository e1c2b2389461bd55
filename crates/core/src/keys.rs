//! AES key files: `serial;key` lines (also `,` or tab separated, optional header).

use crate::access::{require, Permission, Permit};
use crate::error::Result;
use crate::import::Rejected;
use crate::store::{self, Store};
use serde::Serialize;

#[derive(Debug, Clone, Default, Serialize)]
pub struct KeyReport {
    pub imported: u64,
    pub replaced: u64,
    pub rejected: Vec<Rejected>,
    /// Stored telegrams that had no key and are now decoded, and the readings they gave.
    pub redecoded: u64,
    /// Heard devices (not in the park) a key of the file names: taken into the park.
    pub adopted: u64,
    pub readings: u64,
}

/// Import a key file into the store, in one transaction.
pub fn import_keys(store: &Store, permit: Permit<'_>, name: &str, content: &str, now: i64) -> Result<KeyReport> {
    require(permit, Permission::ManageKeys)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let mut report = KeyReport::default();
    for (i, line) in content.lines().enumerate() {
        let number = i as u64 + 1;
        let line = line.trim().trim_start_matches('\u{feff}');
        if line.is_empty() || line.starts_with('#') {
            continue;
        }
        let mut fields = line.split([';', ',', '\t']).map(str::trim);
        let (serial, key) = (fields.next().unwrap_or(""), fields.next().unwrap_or(""));
        if number == 1 && !serial.chars().any(|c| c.is_ascii_digit()) {
            continue; // header
        }
        let parsed = mbus::AesKey::from_hex(key);
        let reason = if serial.is_empty() {
            Some("no meter serial".to_string())
        } else {
            parsed.as_ref().err().map(|e| format!("meter {serial}: {e}"))
        };
        match (reason, parsed) {
            (None, Ok(k)) => {
                let serial = normalise_serial(serial);
                if store::keys::upsert(&tx, &serial, k.as_bytes(), now, name)? {
                    report.replaced += 1;
                }
                report.imported += 1;
                // A device heard before its key came is one of ours: into the park.
                for device in store::heard::of_serial(&tx, &serial)? {
                    let adopted = crate::heard::adopt(&tx, &device, now)?;
                    report.adopted += 1;
                    report.redecoded += adopted.decoded;
                    report.readings += adopted.readings;
                }
                let (telegrams, readings) = crate::import::redecode_serial(&tx, &serial, &k)?;
                report.redecoded += telegrams;
                report.readings += readings;
            }
            (reason, _) => report.rejected.push(Rejected {
                line: number,
                code: "bad_key".into(),
                reason: reason.unwrap_or_else(|| "unreadable key".into()),
                params: Default::default(),
            }),
        }
    }
    let details = format!(
        "{name}: {} keys, {} replaced, {} rejected; {} stored telegrams decoded again; {} heard devices taken into the park",
        report.imported,
        report.replaced,
        report.rejected.len(),
        report.redecoded,
        report.adopted
    );
    store::audit::record_permit(&tx, permit, now, "keys_import", &details)?;
    tx.commit()?;
    Ok(report)
}

/// Serials are 8 digits in telegrams; key files sometimes drop leading zeros.
pub fn normalise_serial(serial: &str) -> String {
    if serial.len() < 8 && serial.chars().all(|c| c.is_ascii_digit()) {
        format!("{serial:0>8}")
    } else {
        serial.to_string()
    }
}
