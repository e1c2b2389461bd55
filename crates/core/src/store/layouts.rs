//! Tables `export_layouts`, `export_layout_last_files` and `export_layout_last_lines`, and
//! the reads of a billing export: its meters (one streaming query), all exchanges, the info
//! codes of a period, and index lookups around a date (primary-key range scans of one
//! meter and register).

use super::{MeterLabel, LABEL_COLUMNS};
use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};

/// A saved layout: its JSON definition as stored.
#[derive(Debug, Clone, PartialEq)]
pub struct SavedLayout {
    pub id: i64,
    pub name: String,
    pub definition: String,
    pub updated_at: i64,
}

/// Every layout, by name.
pub fn list(conn: &Connection) -> Result<Vec<SavedLayout>> {
    let mut stmt = conn.prepare_cached("SELECT id, name, definition, updated_at FROM export_layouts ORDER BY name")?;
    let rows = stmt.query_map([], saved_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get(conn: &Connection, name: &str) -> Result<Option<SavedLayout>> {
    Ok(conn
        .prepare_cached("SELECT id, name, definition, updated_at FROM export_layouts WHERE name = ?1")?
        .query_row([name], saved_row)
        .optional()?)
}

fn saved_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SavedLayout> {
    Ok(SavedLayout { id: r.get(0)?, name: r.get(1)?, definition: r.get(2)?, updated_at: r.get(3)? })
}

/// Insert or replace the layout called `name`; returns (id, created).
pub fn upsert(conn: &Connection, name: &str, definition: &str, now: i64) -> Result<(i64, bool)> {
    if let Some(old) = get(conn, name)? {
        conn.prepare_cached("UPDATE export_layouts SET definition = ?2, updated_at = ?3 WHERE id = ?1")?
            .execute(params![old.id, definition, now])?;
        return Ok((old.id, false));
    }
    conn.prepare_cached("INSERT INTO export_layouts(name, definition, updated_at) VALUES (?1, ?2, ?3)")?
        .execute(params![name, definition, now])?;
    Ok((conn.last_insert_rowid(), true))
}

/// Give the layout `id` a new name and definition (its last file stays with it).
pub fn rename(conn: &Connection, id: i64, name: &str, definition: &str, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE export_layouts SET name = ?2, definition = ?3, updated_at = ?4 WHERE id = ?1")?
        .execute(params![id, name, definition, now])?;
    Ok(())
}

/// Delete a layout with its last file; true if it existed.
pub fn delete(conn: &Connection, name: &str) -> Result<bool> {
    let Some(old) = get(conn, name)? else { return Ok(false) };
    conn.execute("DELETE FROM export_layout_last_lines WHERE layout_id = ?1", [old.id])?;
    conn.execute("DELETE FROM export_layout_last_files WHERE layout_id = ?1", [old.id])?;
    conn.execute("DELETE FROM export_layouts WHERE id = ?1", [old.id])?;
    Ok(true)
}

/// The last file a layout produced.
#[derive(Debug, Clone, PartialEq)]
pub struct LastFile {
    pub at: i64,
    pub period_from: String,
    pub period_to: String,
    pub file_name: String,
    pub rows: i64,
    pub sha256: String,
}

pub fn last_file(conn: &Connection, layout_id: i64) -> Result<Option<LastFile>> {
    Ok(conn
        .prepare_cached(
            "SELECT at, period_from, period_to, file_name, rows, sha256 FROM export_layout_last_files WHERE layout_id = ?1",
        )?
        .query_row([layout_id], |r| {
            Ok(LastFile {
                at: r.get(0)?,
                period_from: r.get(1)?,
                period_to: r.get(2)?,
                file_name: r.get(3)?,
                rows: r.get(4)?,
                sha256: r.get(5)?,
            })
        })
        .optional()?)
}

/// Stream the last file's lines of a layout, in meter order, to `each(meter, line)`.
pub fn last_lines(conn: &Connection, layout_id: i64, each: &mut dyn FnMut(String, String)) -> Result<()> {
    let mut stmt =
        conn.prepare_cached("SELECT meter, line FROM export_layout_last_lines WHERE layout_id = ?1 ORDER BY meter")?;
    let mut rows = stmt.query([layout_id])?;
    while let Some(r) = rows.next()? {
        each(r.get(0)?, r.get(1)?);
    }
    Ok(())
}

/// Replace the last file of a layout (call inside the run's transaction).
pub fn replace_last_file<'a>(
    conn: &Connection,
    layout_id: i64,
    file: &LastFile,
    lines: impl Iterator<Item = (&'a str, &'a str)>,
) -> Result<()> {
    conn.execute("DELETE FROM export_layout_last_lines WHERE layout_id = ?1", [layout_id])?;
    conn.prepare_cached(
        "INSERT OR REPLACE INTO export_layout_last_files(layout_id, at, period_from, period_to, file_name, rows, sha256)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?
    .execute(params![layout_id, file.at, file.period_from, file.period_to, file.file_name, file.rows, file.sha256])?;
    let mut insert = conn.prepare_cached(
        "INSERT OR REPLACE INTO export_layout_last_lines(layout_id, meter, line) VALUES (?1, ?2, ?3)",
    )?;
    for (meter, line) in lines {
        insert.execute(params![layout_id, meter, line])?;
    }
    Ok(())
}

/// A meter of a billing export with its installation and customer.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct BillingMeter {
    pub id: i64,
    pub label: MeterLabel,
    pub manufacturer: String,
    pub device_type: String,
    pub status: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub installed_at: Option<i64>,
    pub removed_at: Option<i64>,
    /// Bit mask of the active info codes.
    pub info_codes: i64,
    pub customer_email: Option<String>,
    pub customer_phone: Option<String>,
}

/// Stream the meters that are not `unassigned` (of group `group_id` if given), by serial,
/// to `each`. The callback may run other queries on `conn`.
pub fn billing_meters(
    conn: &Connection,
    group_id: Option<i64>,
    each: &mut dyn FnMut(&BillingMeter) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT m.id, m.manufacturer, m.device_type, m.status, m.lat, m.lon, m.installed_at, m.removed_at,
                m.info_codes, c.email, c.phone, {LABEL_COLUMNS}
         FROM meters m LEFT JOIN customers c ON c.id = m.customer_id
         WHERE m.status <> 'unassigned'
           AND (?1 IS NULL OR m.id IN (SELECT meter_id FROM meter_group_members WHERE group_id = ?1))
         ORDER BY m.serial, m.id"
    ))?;
    let mut rows = stmt.query(params![group_id])?;
    let mut m = BillingMeter::default();
    while let Some(r) = rows.next()? {
        m.id = r.get(0)?;
        m.manufacturer = r.get(1)?;
        m.device_type = r.get(2)?;
        m.status = r.get(3)?;
        m.lat = r.get(4)?;
        m.lon = r.get(5)?;
        m.installed_at = r.get(6)?;
        m.removed_at = r.get(7)?;
        m.info_codes = r.get(8)?;
        m.customer_email = r.get(9)?;
        m.customer_phone = r.get(10)?;
        m.label.read_row(r, 11)?;
        each(&m)?;
    }
    Ok(())
}

/// (meter, code) of every info-code event that overlaps [from, to), by meter and start.
pub fn codes_in_period(conn: &Connection, from: i64, to: i64, each: &mut dyn FnMut(i64, String)) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT meter_id, code FROM info_code_events
         WHERE started_at < ?2 AND coalesce(ended_at, last_seen_at) >= ?1 ORDER BY meter_id, started_at",
    )?;
    let mut rows = stmt.query(params![from, to])?;
    while let Some(r) = rows.next()? {
        each(r.get(0)?, r.get(1)?);
    }
    Ok(())
}

// The index lookups write `meter_id = ?1 + 0`: see "Per-meter lookups: `column = ?N + 0`" in store/mod.rs.

/// The last (ts, value) of a register with ts <= `at`.
pub fn at_or_before(conn: &Connection, meter_id: i64, register: i64, at: i64) -> Result<Option<(i64, f64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT ts, value FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts <= ?3
             ORDER BY ts DESC LIMIT 1",
        )?
        .query_row(params![meter_id, register, at], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The first (ts, value) of a register with ts >= `at`.
pub fn at_or_after(conn: &Connection, meter_id: i64, register: i64, at: i64) -> Result<Option<(i64, f64)>> {
    Ok(conn
        .prepare_cached(
            "SELECT ts, value FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts >= ?3 ORDER BY ts LIMIT 1",
        )?
        .query_row(params![meter_id, register, at], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// The first time in [from, until) at which register `date_register` holds `value` (a
/// target date): one range scan that stops at the first match.
pub fn first_with_value(
    conn: &Connection,
    meter_id: i64,
    date_register: i64,
    value: f64,
    from: i64,
    until: i64,
) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT ts FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts >= ?3 AND ts < ?4 AND value = ?5 + 0
             ORDER BY ts LIMIT 1",
        )?
        .query_row(params![meter_id, date_register, from, until, value], |r| r.get(0))
        .optional()?)
}

/// The value of a register at exactly `ts`.
pub fn value_at_time(conn: &Connection, meter_id: i64, register: i64, ts: i64) -> Result<Option<f64>> {
    Ok(conn
        .prepare_cached("SELECT value FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts = ?3")?
        .query_row(params![meter_id, register, ts], |r| r.get(0))
        .optional()?)
}
