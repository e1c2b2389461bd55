//! The meter screen's tables: a meter's readings page by page with where each came from,
//! `reading_edits` (readings entered or corrected by hand, migration 0035), a meter's
//! editable fields (address, GPS, customer, status, notes, the mark "to remove") and the
//! customers a clerk picks from.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// One stored reading with what the screen shows of its origin.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingRow {
    pub ts: i64,
    pub value: f64,
    pub telegram_id: Option<i64>,
    /// The import's name (`imports.source`): a file name, `push to X`, `X: mqtt`, `optical ..`, `mbus ..`.
    pub import_source: Option<String>,
    /// The first gateway that heard its telegram, and the gateway's kind (`concentrator`, `lorawan`).
    pub gateway: Option<String>,
    pub gateway_kind: Option<String>,
    /// The latest hand edit of this reading: `manual` or `correction`.
    pub edit: Option<String>,
    /// An exchange's final or initial reading.
    pub exchange: bool,
}

/// `readings_page`: a meter's register backwards from `before` (exclusive), in `[from, to)`;
/// one primary-key range scan, each row's origin looked up by key.
pub(super) const READINGS_PAGE: &str = "SELECT r.ts, r.value, r.telegram_id,
        (SELECT i.source FROM telegrams t JOIN imports i ON i.id = t.import_id
          WHERE t.meter_id = r.meter_id AND t.id = r.telegram_id),
        (SELECT g.name FROM receptions x JOIN gateways g ON g.id = x.gateway_id
          WHERE x.meter_id = r.meter_id AND x.telegram_id = r.telegram_id ORDER BY x.received_at LIMIT 1),
        (SELECT g.kind FROM receptions x JOIN gateways g ON g.id = x.gateway_id
          WHERE x.meter_id = r.meter_id AND x.telegram_id = r.telegram_id ORDER BY x.received_at LIMIT 1),
        (SELECT e.kind FROM reading_edits e
          WHERE e.meter_id = r.meter_id AND e.register = r.register AND e.ts = r.ts ORDER BY e.id DESC LIMIT 1),
        EXISTS (SELECT 1 FROM meter_exchanges x
          WHERE x.at = r.ts AND (x.old_meter_id = r.meter_id OR x.new_meter_id = r.meter_id))
     FROM readings r
     WHERE r.meter_id = ?1 + 0 AND r.register = ?2 + 0 AND r.ts >= ?3 AND r.ts < ?4
     ORDER BY r.ts DESC LIMIT ?5";

/// At most `limit` readings of a meter's register with from <= ts < before, newest first.
pub fn readings_page(conn: &Connection, meter_id: i64, register: i64, from: i64, before: i64, limit: i64) -> Result<Vec<ReadingRow>> {
    let mut stmt = conn.prepare_cached(READINGS_PAGE)?;
    let rows = stmt.query_map(params![meter_id, register, from, before, limit], |r| {
        Ok(ReadingRow {
            ts: r.get(0)?,
            value: r.get(1)?,
            telegram_id: r.get(2)?,
            import_source: r.get(3)?,
            gateway: r.get(4)?,
            gateway_kind: r.get(5)?,
            edit: r.get(6)?,
            exchange: r.get::<_, i64>(7)? != 0,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The registers a meter has readings of (codes, ascending).
pub fn registers_of(conn: &Connection, meter_id: i64) -> Result<Vec<i64>> {
    // A skip-scan over the primary key: one seek per register.
    let mut out = Vec::new();
    let mut next = i64::MIN;
    let mut stmt = conn.prepare_cached("SELECT register FROM readings WHERE meter_id = ?1 + 0 AND register > ?2 ORDER BY register LIMIT 1")?;
    while let Some(r) = stmt.query_row(params![meter_id, next], |r| r.get::<_, i64>(0)).optional()? {
        out.push(r);
        next = r;
    }
    Ok(out)
}

/// The value and telegram stored for a meter's register at `ts`.
pub fn reading_at(conn: &Connection, meter_id: i64, register: i64, ts: i64) -> Result<Option<(f64, Option<i64>)>> {
    Ok(conn
        .prepare_cached("SELECT value, telegram_id FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts = ?3")?
        .query_row(params![meter_id, register, ts], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The first reading strictly after `ts` (ts, value).
pub fn first_after(conn: &Connection, meter_id: i64, register: i64, ts: i64) -> Result<Option<(i64, f64)>> {
    Ok(conn
        .prepare_cached("SELECT ts, value FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts > ?3 ORDER BY ts LIMIT 1")?
        .query_row(params![meter_id, register, ts], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// A reading entered or corrected by hand.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ReadingEdit {
    pub id: i64,
    pub register: i64,
    pub ts: i64,
    pub kind: String,
    pub value: f64,
    pub old_value: Option<f64>,
    pub old_telegram_id: Option<i64>,
    pub reason: String,
    pub user: String,
    pub at: i64,
}

pub struct NewEdit<'a> {
    pub meter_id: i64,
    pub register: i64,
    pub ts: i64,
    pub kind: &'static str,
    pub value: f64,
    pub old_value: Option<f64>,
    pub old_telegram_id: Option<i64>,
    pub reason: &'a str,
    pub user: &'a str,
    pub computer: &'a str,
    pub at: i64,
}

pub fn insert_edit(conn: &Connection, e: &NewEdit<'_>) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO reading_edits(meter_id, register, ts, kind, value, old_value, old_telegram_id, reason, user, computer, at)
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
    )?
    .execute(params![e.meter_id, e.register, e.ts, e.kind, e.value, e.old_value, e.old_telegram_id, e.reason, e.user, e.computer, e.at])?;
    Ok(conn.last_insert_rowid())
}

/// A meter's hand edits, newest first (at most `limit`).
pub fn edits_of(conn: &Connection, meter_id: i64, limit: i64) -> Result<Vec<ReadingEdit>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, register, ts, kind, value, old_value, old_telegram_id, reason, user, at FROM reading_edits
         WHERE meter_id = ?1 + 0 ORDER BY id DESC LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![meter_id, limit], |r| {
        Ok(ReadingEdit {
            id: r.get(0)?,
            register: r.get(1)?,
            ts: r.get(2)?,
            kind: r.get(3)?,
            value: r.get(4)?,
            old_value: r.get(5)?,
            old_telegram_id: r.get(6)?,
            reason: r.get(7)?,
            user: r.get(8)?,
            at: r.get(9)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A meter's notes and its mark "to remove".
pub fn notes(conn: &Connection, meter_id: i64) -> Result<(String, bool)> {
    Ok(conn
        .prepare_cached("SELECT notes, to_remove FROM meters WHERE id = ?1")?
        .query_row([meter_id], |r| Ok((r.get(0)?, r.get::<_, i64>(1)? != 0)))?)
}

/// What a clerk edits of a meter.
#[derive(Debug, Clone, PartialEq)]
pub struct MeterFields {
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub customer_id: Option<i64>,
    /// `active`, `unassigned` (never `removed`: see `set_removed`).
    pub status: String,
    pub to_remove: bool,
    pub notes: String,
}

pub fn set_fields(conn: &Connection, meter_id: i64, f: &MeterFields) -> Result<()> {
    conn.prepare_cached(
        "UPDATE meters SET address = ?2, postal_code = ?3, city = ?4, lat = ?5, lon = ?6, customer_id = ?7,
             status = ?8, to_remove = ?9, notes = ?10 WHERE id = ?1",
    )?
    .execute(params![meter_id, f.address, f.postal_code, f.city, f.lat, f.lon, f.customer_id, f.status, f.to_remove as i64, f.notes])?;
    Ok(())
}

/// A customer as the picker lists it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CustomerChoice {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub city: String,
    /// Moved out: a pseudonym, not to be given a meter again.
    pub moved_out: bool,
}

/// Customers whose number or name contains `text` (case-insensitive), by name; at most `limit`.
pub fn customers_matching(conn: &Connection, text: &str, limit: i64) -> Result<Vec<CustomerChoice>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, number, name, city, moved_out_at IS NOT NULL FROM customers
         WHERE ?1 = '' OR instr(lower(number), lower(?1)) > 0 OR instr(lower(name), lower(?1)) > 0
         ORDER BY name, number LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![text, limit], |r| {
        Ok(CustomerChoice { id: r.get(0)?, number: r.get(1)?, name: r.get(2)?, city: r.get(3)?, moved_out: r.get::<_, i64>(4)? != 0 })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Whether customer `id` moved out (its name is a pseudonym).
pub fn customer_moved_out(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn
        .prepare_cached("SELECT moved_out_at IS NOT NULL FROM customers WHERE id = ?1")?
        .query_row([id], |r| r.get::<_, i64>(0))
        .optional()?
        .unwrap_or(0)
        != 0)
}

/// Overwrite customer `id`'s number, name and contact (the rest as given).
pub fn set_customer(conn: &Connection, id: i64, c: &super::customers::Customer) -> Result<()> {
    conn.prepare_cached("UPDATE customers SET number = ?2, name = ?3, email = ?4, phone = ?5, sort_name = ?6 WHERE id = ?1")?
        .execute(params![id, c.number, c.name, c.email, c.phone, super::search::surname_key(&c.name)])?;
    Ok(())
}
