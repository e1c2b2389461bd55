//! Tables `heard_devices` and `heard_telegrams`: devices heard whose telegrams do not decode
//! and that are not in the park, with their raw telegrams, until a clerk adopts them.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// A telegram of a device not in the park.
pub struct Heard<'a> {
    pub serial: &'a str,
    pub manufacturer: &'a str,
    pub version: i64,
    pub device_type: &'a str,
    pub received_at: i64,
    pub rssi: Option<i64>,
    pub encrypted: bool,
    pub status: &'a str,
    pub import_id: i64,
    pub raw: &'a [u8],
}

/// Keep a heard telegram (once: the same bytes twice are one) and count it on its device.
/// True when the device was not heard before.
pub fn hear(conn: &Connection, h: &Heard<'_>) -> Result<bool> {
    let existing: Option<i64> = conn
        .prepare_cached("SELECT id FROM heard_devices WHERE serial = ?1 AND manufacturer = ?2")?
        .query_row(params![h.serial, h.manufacturer], |r| r.get(0))
        .optional()?;
    let (device, new) = match existing {
        Some(id) => (id, false),
        None => {
            conn.prepare_cached(
                "INSERT INTO heard_devices(serial, manufacturer, version, device_type, first_heard, last_heard,
                     encrypted, last_status) VALUES (?1,?2,?3,?4,?5,?5,?6,?7)",
            )?
            .execute(params![h.serial, h.manufacturer, h.version, h.device_type, h.received_at, h.encrypted, h.status])?;
            (conn.last_insert_rowid(), true)
        }
    };
    let inserted = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO heard_telegrams(device_id, id, received_at, rssi, import_id, raw) VALUES (?1,?2,?3,?4,?5,?6)",
        )?
        .execute(params![device, super::telegrams::hash_id(h.raw), h.received_at, h.rssi, h.import_id, h.raw])?;
    if inserted == 1 {
        conn.prepare_cached(
            "UPDATE heard_devices SET times_heard = times_heard + 1,
                 first_heard = min(first_heard, ?2),
                 last_rssi = CASE WHEN ?2 >= last_heard THEN coalesce(?3, last_rssi) ELSE last_rssi END,
                 encrypted = CASE WHEN ?2 >= last_heard THEN ?4 ELSE encrypted END,
                 last_status = CASE WHEN ?2 >= last_heard THEN ?5 ELSE last_status END,
                 last_heard = max(last_heard, ?2)
             WHERE id = ?1",
        )?
        .execute(params![device, h.received_at, h.rssi, h.encrypted, h.status])?;
    }
    Ok(new)
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct HeardDevice {
    pub id: i64,
    pub serial: String,
    pub manufacturer: String,
    pub version: i64,
    pub device_type: String,
    pub first_heard: i64,
    pub last_heard: i64,
    pub times_heard: i64,
    pub last_rssi: Option<i64>,
    pub encrypted: bool,
    /// Why its telegrams gave no values: `no-key`, `wrong-key` or `undecodable`.
    pub last_status: String,
}

const COLUMNS: &str =
    "id, serial, manufacturer, version, device_type, first_heard, last_heard, times_heard, last_rssi, encrypted, last_status";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<HeardDevice> {
    Ok(HeardDevice {
        id: r.get(0)?,
        serial: r.get(1)?,
        manufacturer: r.get(2)?,
        version: r.get(3)?,
        device_type: r.get(4)?,
        first_heard: r.get(5)?,
        last_heard: r.get(6)?,
        times_heard: r.get(7)?,
        last_rssi: r.get(8)?,
        encrypted: r.get(9)?,
        last_status: r.get(10)?,
    })
}

/// The heard devices, most often heard first, then the last heard; and how many in all.
pub fn list(conn: &Connection, offset: i64, limit: i64) -> Result<(Vec<HeardDevice>, i64)> {
    let total = conn.query_row("SELECT count(*) FROM heard_devices", [], |r| r.get(0))?;
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {COLUMNS} FROM heard_devices ORDER BY times_heard DESC, last_heard DESC, id LIMIT ?1 OFFSET ?2"
    ))?;
    let rows = stmt.query_map(params![limit, offset], row)?;
    Ok((rows.collect::<rusqlite::Result<_>>()?, total))
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<HeardDevice>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM heard_devices WHERE id = ?1"), [id], row).optional()?)
}

/// The heard device with this serial (any manufacturer), if any.
pub fn of_serial(conn: &Connection, serial: &str) -> Result<Vec<HeardDevice>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {COLUMNS} FROM heard_devices WHERE serial = ?1"))?;
    let rows = stmt.query_map([serial], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A kept telegram of a heard device.
pub struct HeardTelegram {
    pub received_at: i64,
    pub rssi: Option<i64>,
    pub import_id: Option<i64>,
    pub raw: Vec<u8>,
}

/// The device's telegrams in reception order.
pub fn telegrams(conn: &Connection, device: i64) -> Result<Vec<HeardTelegram>> {
    let mut stmt = conn.prepare_cached(
        "SELECT received_at, rssi, import_id, raw FROM heard_telegrams WHERE device_id = ?1 ORDER BY received_at",
    )?;
    let rows = stmt.query_map([device], |r| {
        Ok(HeardTelegram { received_at: r.get(0)?, rssi: r.get(1)?, import_id: r.get(2)?, raw: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Forget a heard device and its telegrams (adopted into the park, or dismissed).
pub fn delete(conn: &Connection, id: i64) -> Result<bool> {
    conn.execute("DELETE FROM heard_telegrams WHERE device_id = ?1", [id])?;
    Ok(conn.execute("DELETE FROM heard_devices WHERE id = ?1", [id])? == 1)
}
