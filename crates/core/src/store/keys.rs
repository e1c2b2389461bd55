//! Table `meter_keys`: AES-128 keys by meter serial.

use crate::error::Result;
use rusqlite::{params, Connection};
use std::collections::HashMap;

/// Insert or replace the key of `serial`. Returns true if a different key was replaced.
pub fn upsert(conn: &Connection, serial: &str, key: &[u8; 16], now: i64, source: &str) -> Result<bool> {
    let old: Option<Vec<u8>> = {
        use rusqlite::OptionalExtension;
        conn.prepare_cached("SELECT key FROM meter_keys WHERE serial = ?1")?
            .query_row([serial], |r| r.get(0))
            .optional()?
    };
    conn.prepare_cached(
        "INSERT INTO meter_keys(serial, key, imported_at, source) VALUES (?1, ?2, ?3, ?4)
         ON CONFLICT(serial) DO UPDATE SET key = excluded.key, imported_at = excluded.imported_at, source = excluded.source",
    )?
    .execute(params![serial, &key[..], now, source])?;
    Ok(old.is_some_and(|o| o.as_slice() != key))
}

/// Every key, by serial (loaded once per import: a million keys is 40 MB).
pub fn all(conn: &Connection) -> Result<HashMap<String, [u8; 16]>> {
    let mut stmt = conn.prepare("SELECT serial, key FROM meter_keys")?;
    let mut rows = stmt.query([])?;
    let mut out = HashMap::new();
    while let Some(r) = rows.next()? {
        let serial: String = r.get(0)?;
        let blob: Vec<u8> = r.get(1)?;
        if let Ok(key) = <[u8; 16]>::try_from(blob.as_slice()) {
            out.insert(serial, key);
        }
    }
    Ok(out)
}

pub fn exists(conn: &Connection, serial: &str) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS(SELECT 1 FROM meter_keys WHERE serial = ?1)", [serial], |r| r.get(0))?)
}

/// The key of a serial, if any.
pub fn get(conn: &Connection, serial: &str) -> Result<Option<[u8; 16]>> {
    use rusqlite::OptionalExtension;
    let blob: Option<Vec<u8>> =
        conn.query_row("SELECT key FROM meter_keys WHERE serial = ?1", [serial], |r| r.get(0)).optional()?;
    Ok(blob.and_then(|b| <[u8; 16]>::try_from(b.as_slice()).ok()))
}

/// A number that changes whenever any key is added, changed or removed (by any process):
/// what the store's key cache is checked against.
pub fn generation(conn: &Connection) -> Result<i64> {
    let g: Option<String> =
        conn.prepare_cached("SELECT value FROM settings WHERE key = 'keys_generation'")?.query_row([], |r| r.get(0)).ok();
    Ok(g.and_then(|g| g.parse().ok()).unwrap_or(0))
}
