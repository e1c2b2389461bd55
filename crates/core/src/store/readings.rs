//! Table `readings`: one value per meter, register and time.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};

#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Reading {
    pub meter_id: i64,
    pub register: i64,
    pub ts: i64,
    pub value: f64,
    pub telegram_id: Option<i64>,
}

/// Insert unless a value for the same meter, register and time exists. True if inserted.
pub fn insert(conn: &Connection, r: &Reading) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO readings(meter_id, register, ts, value, telegram_id) VALUES (?1,?2,?3,?4,?5)",
        )?
        .execute(params![r.meter_id, r.register, r.ts, r.value, r.telegram_id])?;
    Ok(n == 1)
}

/// Insert or replace the value of a meter's register at `r.ts` (a hand-entered reading).
pub fn put(conn: &Connection, r: &Reading) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO readings(meter_id, register, ts, value, telegram_id) VALUES (?1,?2,?3,?4,?5)",
    )?
    .execute(params![r.meter_id, r.register, r.ts, r.value, r.telegram_id])?;
    Ok(())
}

/// (ts, value) of a meter's register with from <= ts < to, in time order.
pub fn series(conn: &Connection, meter_id: i64, register: i64, from: i64, to: i64) -> Result<Vec<(i64, f64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ts, value FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts >= ?3 AND ts < ?4 ORDER BY ts",
    )?;
    let rows = stmt.query_map(params![meter_id, register, from, to], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The last (ts, value) strictly before `ts`.
pub fn last_before(conn: &Connection, meter_id: i64, register: i64, ts: i64) -> Result<Option<(i64, f64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT ts, value FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts < ?3 ORDER BY ts DESC LIMIT 1",
        )?
        .query_row(params![meter_id, register, ts], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The latest (ts, value) of a register, if any.
pub fn latest(conn: &Connection, meter_id: i64, register: i64) -> Result<Option<(i64, f64)>> {
    last_before(conn, meter_id, register, i64::MAX)
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM readings", [], |r| r.get(0))?)
}

/// A reading joined with its meter and customer, as exports need it.
pub struct ExportRow {
    pub meter_id: i64,
    pub register: i64,
    pub ts: i64,
    pub value: f64,
    pub serial: String,
    pub manufacturer: String,
    pub device_type: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub customer_number: Option<String>,
    pub customer_name: Option<String>,
}

/// Stream the readings with from <= ts < to (optionally of one group) in (meter, register,
/// ts) order to `each`.
pub fn for_export(
    conn: &Connection,
    from: i64,
    to: i64,
    group_id: Option<i64>,
    each: &mut dyn FnMut(&ExportRow) -> crate::error::Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare(
        "SELECT r.meter_id, r.register, r.ts, r.value, m.serial, m.manufacturer, m.device_type, m.address,
                m.postal_code, m.city, c.number, c.name
         FROM meters m
         LEFT JOIN customers c ON c.id = m.customer_id
         JOIN readings r ON r.meter_id = m.id
         WHERE (?3 IS NULL OR m.id IN (SELECT meter_id FROM meter_group_members WHERE group_id = ?3))
           AND r.ts >= ?1 AND r.ts < ?2
         ORDER BY m.id, r.register, r.ts",
    )?;
    let mut rows = stmt.query(params![from, to, group_id])?;
    while let Some(r) = rows.next()? {
        let row = ExportRow {
            meter_id: r.get(0)?,
            register: r.get(1)?,
            ts: r.get(2)?,
            value: r.get(3)?,
            serial: r.get(4)?,
            manufacturer: r.get(5)?,
            device_type: r.get(6)?,
            address: r.get(7)?,
            postal_code: r.get(8)?,
            city: r.get(9)?,
            customer_number: r.get(10)?,
            customer_name: r.get(11)?,
        };
        each(&row)?;
    }
    Ok(())
}
