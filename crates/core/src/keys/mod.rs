//! AES keys of the meters: key files (`serial;key` CSV, Kamstrup KEM/KEM2), a key entered on
//! the meter page, the export for the manager, the key status of the park. A key is named
//! by its meter's serial and manufacturer (a file without manufacturers gives keys for the
//! serial, whatever the manufacturer); it is sealed at rest ([`vault`]) and never returned
//! once stored, except by the manager's export.

mod csv_file;
pub mod kem;
pub mod status;
pub mod vault;

use crate::access::{require, Permission, Permit, Session};
use crate::error::{Error, Result};
use crate::import::Rejected;
use crate::store::{self, Store};
use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;

pub use status::{keys_status, KeyStatus, KeysStatus};

/// Every AES key in clear, in the memory of the process that opened them (see
/// `Store::keys`): by serial, then manufacturer (`""`: any).
#[derive(Debug, Default)]
pub struct Keys {
    by_serial: HashMap<String, Vec<(String, [u8; 16])>>,
}

impl Keys {
    pub fn insert(&mut self, serial: String, manufacturer: String, key: [u8; 16]) {
        let entries = self.by_serial.entry(serial).or_default();
        match entries.iter_mut().find(|(m, _)| *m == manufacturer) {
            Some(e) => e.1 = key,
            None => entries.push((manufacturer, key)),
        }
    }

    /// The key of meter `serial` of `manufacturer`: its own, else its serial's.
    pub fn get(&self, serial: &str, manufacturer: &str) -> Option<&[u8; 16]> {
        let entries = self.by_serial.get(serial)?;
        entries.iter().find(|(m, _)| m == manufacturer).or_else(|| entries.iter().find(|(m, _)| m.is_empty())).map(|(_, k)| k)
    }

    pub fn len(&self) -> usize {
        self.by_serial.values().map(Vec::len).sum()
    }

    pub fn is_empty(&self) -> bool {
        self.by_serial.is_empty()
    }
}

/// The decoder's key for stored key bytes. Keys are stored as 16 bytes; an 8-byte key (16 hex
/// digits: the DES key of a meter sending in security mode 2 or 3, or a Diehl IZAR key) is
/// stored as its 8 bytes followed by 8 zero bytes, and comes back as a DES key. A real AES
/// key ends in 8 zero bytes once in 2^64 keys.
pub fn cipher_key(bytes: &[u8; 16]) -> mbus::AesKey {
    match (<[u8; 8]>::try_from(&bytes[..8]), bytes[8..].iter().all(|b| *b == 0)) {
        (Ok(des), true) => mbus::AesKey::from_des_bytes(des),
        _ => mbus::AesKey::from_bytes(*bytes),
    }
}

/// A key as a file gives it.
#[derive(Debug, Clone)]
pub struct KeyEntry {
    /// The line (CSV) or the meter's rank in the file (KEM).
    pub line: u64,
    pub serial: String,
    /// Three letters (`KAM`), or `""` when the file names none.
    pub manufacturer: String,
    pub key: [u8; 16],
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct KeyReport {
    /// `csv`, `kem` or `kem2`.
    pub format: &'static str,
    pub imported: u64,
    pub replaced: u64,
    pub rejected: Vec<Rejected>,
    /// Meters of the keys that had stored telegrams waiting (no key, wrong key), decoded again.
    pub meters: u64,
    /// Stored telegrams decoded with the new keys, and the readings they gave.
    pub redecoded: u64,
    pub readings: u64,
    /// Stored telegrams of those meters that still give no values (another key is needed,
    /// or their layout is unknown).
    pub still_failing: u64,
    /// Heard devices (not in the park) a key of the file names: taken into the park.
    pub adopted: u64,
}

/// Import a key file: a KEM (XML) or KEM2 (ZIP) file opened with `password`, else a
/// `serial;key` CSV. In one transaction; a KEM whose password is wrong stores nothing.
pub fn import_key_file(store: &Store, permit: Permit<'_>, name: &str, bytes: &[u8], password: Option<&str>, now: i64) -> Result<KeyReport> {
    require(permit, Permission::ManageKeys)?;
    let mut rejected = Vec::new();
    let (format, entries) = if kem::is_kem(bytes) {
        let format = if bytes.starts_with(b"PK") { "kem2" } else { "kem" };
        (format, kem::read(name, bytes, password, &mut rejected)?)
    } else {
        let text = crate::import::text::utf8(name, bytes)?;
        ("csv", csv_file::read(name, &String::from_utf8_lossy(&text), &mut rejected))
    };
    let mut report = KeyReport { format, rejected, ..KeyReport::default() };
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store_entries(&tx, store.vault(), &entries, name, now, &mut report)?;
    let details = format!(
        "{name} ({format}): {} keys, {} replaced, {} rejected; {} meters decoded again: {} stored telegrams, {} readings, {} still failing; {} heard devices taken into the park",
        report.imported,
        report.replaced,
        report.rejected.len(),
        report.meters,
        report.redecoded,
        report.readings,
        report.still_failing,
        report.adopted
    );
    store::audit::record_permit(&tx, permit, now, "keys_import", &details)?;
    tx.commit()?;
    Ok(report)
}

/// Import a `serial;key` CSV given as text.
pub fn import_keys(store: &Store, permit: Permit<'_>, name: &str, content: &str, now: i64) -> Result<KeyReport> {
    import_key_file(store, permit, name, content.as_bytes(), None, now)
}

/// Seal and store keys inside the caller's transaction; adopt the heard devices they name
/// and decode again the stored telegrams of their meters that waited for a key.
fn store_entries(tx: &Connection, vault: &vault::Vault, entries: &[KeyEntry], source: &str, now: i64, report: &mut KeyReport) -> Result<()> {
    for e in entries {
        let sealed = vault.seal(&e.serial, &e.manufacturer, &e.key)?;
        if let Some(old) = store::keys::upsert(tx, &e.serial, &e.manufacturer, &sealed, now, source)? {
            if vault.open(&e.serial, &e.manufacturer, &old).map_or(true, |k| k != e.key) {
                report.replaced += 1;
            }
        }
        report.imported += 1;
        // A device heard before its key came is one of ours: into the park.
        for device in store::heard::of_serial(tx, &e.serial)? {
            if !e.manufacturer.is_empty() && device.manufacturer != e.manufacturer {
                continue;
            }
            let adopted = crate::heard::adopt(tx, vault, &device, now)?;
            report.adopted += 1;
            report.meters += u64::from(adopted.decoded > 0);
            report.redecoded += adopted.decoded;
            report.readings += adopted.readings;
        }
        let mut keys = Keys::default();
        keys.insert(e.serial.clone(), e.manufacturer.clone(), e.key);
        let r = crate::import::redecode_serial(tx, &e.serial, &keys, now)?;
        report.meters += r.meters;
        report.redecoded += r.telegrams;
        report.readings += r.readings;
        report.still_failing += r.still_failing;
    }
    Ok(())
}

/// What entering a key on the meter page did (never the key).
#[derive(Debug, Clone, Serialize)]
pub struct MeterKeySet {
    pub meter_id: i64,
    pub replaced: bool,
    pub redecoded: u64,
    pub readings: u64,
    pub still_failing: u64,
    pub key_status: KeyStatus,
}

/// Enter or replace the AES key of one meter (after an exchange, a key sent apart), for its
/// serial and manufacturer. Audited without the key; the key is never given back.
pub fn meter_key_set(store: &Store, session: &Session, meter_id: i64, key_hex: &str, now: i64) -> Result<MeterKeySet> {
    let permit = session.permit(Permission::ManageKeys)?;
    let key = mbus::AesKey::from_hex(key_hex.trim()).map_err(|e| Error::bad_input("key", e.to_string()))?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let meter = store::meters::get(&tx, meter_id)?.ok_or_else(|| Error::not_found(format!("meter {meter_id}")))?;
    let entry = KeyEntry { line: 1, serial: meter.serial.clone(), manufacturer: meter.manufacturer.clone(), key: *key.as_bytes() };
    // The key that served the meter until now (its own, or its serial's from a file).
    let before = match store::keys::get(&tx, &meter.serial, &meter.manufacturer)? {
        Some(k) => Some(store.vault().open(&k.serial, &k.manufacturer, &k.sealed)?),
        None => None,
    };
    let mut report = KeyReport::default();
    store_entries(&tx, store.vault(), std::slice::from_ref(&entry), "entered on the meter page", now, &mut report)?;
    let replaced = before.is_some_and(|k| k != entry.key);
    let key_status = KeyStatus::from_code(store::meters::key_status(&tx, meter_id)?);
    let details = format!(
        "meter {} ({}): key {}; {} stored telegrams decoded again, {} readings, {} still failing",
        meter.serial,
        meter.manufacturer,
        if replaced { "replaced" } else { "entered" },
        report.redecoded,
        report.readings,
        report.still_failing
    );
    store::audit::record_permit(&tx, permit, now, "meter_key_set", &details)?;
    tx.commit()?;
    Ok(MeterKeySet {
        meter_id,
        replaced,
        redecoded: report.redecoded,
        readings: report.readings,
        still_failing: report.still_failing,
        key_status,
    })
}

/// Every key as a `serial;key;manufacturer` CSV (the manager only: `export_keys`), audited.
/// The only way a stored key leaves Relevé; the import reads the file back.
pub fn keys_export(store: &Store, session: &Session, now: i64) -> Result<String> {
    let permit = session.permit(Permission::ExportKeys)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let mut out = String::from("serial;key;manufacturer\n");
    let mut count = 0;
    for k in store::keys::all(&tx)? {
        let key = store.vault().open(&k.serial, &k.manufacturer, &k.sealed)?;
        out.push_str(&format!("{};{};{}\n", k.serial, hex::encode_upper(key), k.manufacturer));
        count += 1;
    }
    store::audit::record_permit(&tx, permit, now, "keys_export", &format!("{count} AES keys exported"))?;
    tx.commit()?;
    Ok(out)
}

/// Serials are 8 digits in telegrams; key files sometimes drop leading zeros.
pub fn normalise_serial(serial: &str) -> String {
    if serial.len() < 8 && serial.chars().all(|c| c.is_ascii_digit()) {
        format!("{serial:0>8}")
    } else {
        serial.to_string()
    }
}

/// A manufacturer as telegrams name it (three letters, upper case), if `m` is one.
pub fn normalise_manufacturer(m: &str) -> Option<String> {
    let m = m.trim();
    (m.len() == 3 && m.chars().all(|c| c.is_ascii_alphabetic())).then(|| m.to_ascii_uppercase())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_eight_byte_key_comes_back_as_a_des_key() {
        let des = mbus::AesKey::from_hex("0102030405060708").expect("des");
        assert_eq!(cipher_key(des.as_bytes()).kind(), mbus::KeyKind::Des);
        assert_eq!(cipher_key(des.as_bytes()).des_bytes(), Some([1, 2, 3, 4, 5, 6, 7, 8]));
        let aes = mbus::AesKey::from_hex("000102030405060708090A0B0C0D0E0F").expect("aes");
        assert_eq!(cipher_key(aes.as_bytes()).kind(), mbus::KeyKind::Aes128);
    }
}
