//! Table `park_profiles`: the saved column mappings of the customers-and-meters import.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;
use std::collections::BTreeMap;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Profile {
    pub id: i64,
    pub name: String,
    /// ";", "," or "\t".
    pub separator: String,
    pub has_header: bool,
    /// Field (`customer_number`, `meter_serial`, ...) -> CSV column index, 0-based.
    pub mapping: BTreeMap<String, usize>,
    pub folder: Option<String>,
    pub interval_minutes: Option<i64>,
    pub last_run: Option<i64>,
}

const COLUMNS: &str = "id, name, separator, has_header, mapping, folder, interval_minutes, last_run";

fn from_row(r: &Row<'_>) -> rusqlite::Result<Profile> {
    let mapping: String = r.get(4)?;
    Ok(Profile {
        id: r.get(0)?,
        name: r.get(1)?,
        separator: r.get(2)?,
        has_header: r.get(3)?,
        mapping: serde_json::from_str(&mapping).unwrap_or_default(),
        folder: r.get(5)?,
        interval_minutes: r.get(6)?,
        last_run: r.get(7)?,
    })
}

pub fn list(conn: &Connection) -> Result<Vec<Profile>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM park_profiles ORDER BY name"))?;
    let rows = stmt.query_map([], from_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn by_name(conn: &Connection, name: &str) -> Result<Option<Profile>> {
    Ok(conn
        .query_row(&format!("SELECT {COLUMNS} FROM park_profiles WHERE name = ?1"), [name], from_row)
        .optional()?)
}

/// Insert or replace (by name) a profile; keeps `last_run`. Returns its id.
pub fn save(conn: &Connection, p: &Profile, now: i64) -> Result<i64> {
    let mapping = serde_json::to_string(&p.mapping).unwrap_or_else(|_| "{}".into());
    conn.execute(
        "INSERT INTO park_profiles(name, separator, has_header, mapping, folder, interval_minutes, updated_at)
         VALUES (?1,?2,?3,?4,?5,?6,?7)
         ON CONFLICT(name) DO UPDATE SET separator = ?2, has_header = ?3, mapping = ?4, folder = ?5,
             interval_minutes = ?6, updated_at = ?7",
        params![p.name, p.separator, p.has_header, mapping, p.folder, p.interval_minutes, now],
    )?;
    Ok(conn.query_row("SELECT id FROM park_profiles WHERE name = ?1", [&p.name], |r| r.get(0))?)
}

/// Delete the profile named `name`; false if there was none.
pub fn delete(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM park_profiles WHERE name = ?1", [name])? > 0)
}

pub fn set_last_run(conn: &Connection, id: i64, at: i64) -> Result<()> {
    conn.execute("UPDATE park_profiles SET last_run = ?2 WHERE id = ?1", params![id, at])?;
    Ok(())
}
