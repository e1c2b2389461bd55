//! Table `meter_keys`: AES-128 keys by serial and manufacturer (`''`: any), sealed (see
//! `keys::vault`); the clear keys of before migration 0026, read once to be sealed.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};

/// A stored key, still sealed.
pub struct SealedKey {
    pub serial: String,
    pub manufacturer: String,
    pub sealed: Vec<u8>,
}

/// Insert or replace the key of `serial` and `manufacturer`. Returns the sealed key it
/// replaced, if any.
pub fn upsert(conn: &Connection, serial: &str, manufacturer: &str, sealed: &[u8], now: i64, source: &str) -> Result<Option<Vec<u8>>> {
    let old: Option<Vec<u8>> = conn
        .prepare_cached("SELECT sealed FROM meter_keys WHERE serial = ?1 AND manufacturer = ?2")?
        .query_row([serial, manufacturer], |r| r.get(0))
        .optional()?;
    conn.prepare_cached(
        "INSERT INTO meter_keys(serial, manufacturer, sealed, imported_at, source) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(serial, manufacturer) DO UPDATE SET sealed = excluded.sealed, imported_at = excluded.imported_at, source = excluded.source",
    )?
    .execute(params![serial, manufacturer, sealed, now, source])?;
    Ok(old)
}

/// Every key, sealed (read once per process while no key changes: a million keys is 60 MB).
pub fn all(conn: &Connection) -> Result<Vec<SealedKey>> {
    let mut stmt = conn.prepare("SELECT serial, manufacturer, sealed FROM meter_keys")?;
    let rows = stmt.query_map([], |r| Ok(SealedKey { serial: r.get(0)?, manufacturer: r.get(1)?, sealed: r.get(2)? }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The key that decodes meter `serial` of `manufacturer`: its own, else the serial's key
/// for any manufacturer.
pub fn get(conn: &Connection, serial: &str, manufacturer: &str) -> Result<Option<SealedKey>> {
    Ok(conn
        .prepare_cached(
            "SELECT serial, manufacturer, sealed FROM meter_keys WHERE serial = ?1 AND manufacturer IN (?2, '')
             ORDER BY manufacturer DESC LIMIT 1",
        )?
        .query_row([serial, manufacturer], |r| Ok(SealedKey { serial: r.get(0)?, manufacturer: r.get(1)?, sealed: r.get(2)? }))
        .optional()?)
}

/// Whether meter `serial` of `manufacturer` has a key (its own or its serial's).
pub fn exists(conn: &Connection, serial: &str, manufacturer: &str) -> Result<bool> {
    Ok(conn.query_row(
        "SELECT EXISTS(SELECT 1 FROM meter_keys WHERE serial = ?1 AND manufacturer IN (?2, ''))",
        [serial, manufacturer],
        |r| r.get(0),
    )?)
}

/// How many keys are stored.
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM meter_keys", [], |r| r.get(0))?)
}

/// A number that changes whenever any key is added, changed or removed (by any process):
/// what the store's key cache is checked against.
pub fn generation(conn: &Connection) -> Result<i64> {
    let g: Option<String> =
        conn.prepare_cached("SELECT value FROM settings WHERE key = 'keys_generation'")?.query_row([], |r| r.get(0)).ok();
    Ok(g.and_then(|g| g.parse().ok()).unwrap_or(0))
}

/// A key of before migration 0026: serial, key in clear.
pub(super) type ClearKey = (String, Vec<u8>);

/// The clear keys left by migration 0026, if the table is still there.
pub(super) fn clear_keys(conn: &Connection) -> Result<Option<Vec<ClearKey>>> {
    let there: bool =
        conn.query_row("SELECT EXISTS(SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'meter_keys_clear')", [], |r| r.get(0))?;
    if !there {
        return Ok(None);
    }
    let mut stmt = conn.prepare("SELECT serial, key FROM meter_keys_clear")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(Some(rows.collect::<rusqlite::Result<_>>()?))
}

/// Drop the clear keys' table, its pages overwritten with zeros.
pub(super) fn drop_clear(conn: &Connection) -> Result<()> {
    conn.execute_batch("PRAGMA secure_delete = ON; DELETE FROM meter_keys_clear; DROP TABLE meter_keys_clear;")?;
    Ok(())
}
