//! Table `telegrams`: every raw telegram as received, stored once.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};

pub struct NewTelegram<'a> {
    pub meter_id: i64,
    pub received_at: i64,
    pub rssi: Option<i64>,
    pub import_id: i64,
    pub status: &'a str,
    pub raw: &'a [u8],
}

pub enum Inserted {
    New(i64),
    Duplicate(i64),
}

/// 63-bit FNV-1a hash of the bytes: the telegram's id unless it collides.
pub fn hash_id(raw: &[u8]) -> i64 {
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in raw {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    (h >> 1) as i64
}

/// Store a telegram unless the same bytes are already stored.
pub fn insert(conn: &Connection, t: &NewTelegram<'_>) -> Result<Inserted> {
    let mut id = hash_id(t.raw);
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO telegrams(id, meter_id, received_at, rssi, import_id, status, raw)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    let mut existing = conn.prepare_cached("SELECT raw FROM telegrams WHERE meter_id = ?1 AND id = ?2")?;
    // Linear probing on the (rare) hash collision of different bytes.
    for _ in 0..16 {
        let n = insert.execute(params![id, t.meter_id, t.received_at, t.rssi, t.import_id, t.status, t.raw])?;
        if n == 1 {
            return Ok(Inserted::New(id));
        }
        let raw: Option<Vec<u8>> = existing.query_row([t.meter_id, id], |r| r.get(0)).optional()?;
        if raw.as_deref() == Some(t.raw) {
            return Ok(Inserted::Duplicate(id));
        }
        id = (id + 1) & i64::MAX;
    }
    Err(crate::Error::bad_input("telegram", "too many hash collisions"))
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM telegrams", [], |r| r.get(0))?)
}

/// A stored telegram that has no values yet (no key, wrong key, undecodable).
pub struct Pending {
    pub id: i64,
    pub meter_id: i64,
    pub received_at: i64,
    pub raw: Vec<u8>,
}

/// The telegrams of the meters with this serial still waiting for a key or a driver.
pub fn pending_of_serial(conn: &Connection, serial: &str) -> Result<Vec<Pending>> {
    let mut stmt = conn.prepare_cached(
        "SELECT t.id, t.meter_id, t.received_at, t.raw FROM meters m
         JOIN telegrams t INDEXED BY telegrams_pending ON t.meter_id = m.id AND t.status <> 'decoded'
         WHERE m.serial = ?1 ORDER BY t.received_at",
    )?;
    let rows = stmt.query_map([serial], |r| {
        Ok(Pending { id: r.get(0)?, meter_id: r.get(1)?, received_at: r.get(2)?, raw: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn set_status(conn: &Connection, meter_id: i64, id: i64, status: &str) -> Result<()> {
    conn.prepare_cached("UPDATE telegrams SET status = ?3 WHERE meter_id = ?1 AND id = ?2")?
        .execute(params![meter_id, id, status])?;
    Ok(())
}
