//! Table `sources`: concentrators, gateways and brokers that deliver readings by themselves.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Source {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub format: String,
    /// The largest body a push may carry, bytes.
    pub max_body: i64,
    pub enabled: bool,
    pub created_at: i64,
    #[serde(skip)]
    pub token_hash: Option<String>,
    /// Where a folder source's files arrive.
    pub folder: Option<String>,
    pub last_push_at: Option<i64>,
    pub telegrams_total: i64,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub last_error_at: Option<i64>,
    /// Telegrams delivered in the last 10 minutes, per minute (filled by `list`).
    pub per_minute: f64,
}

const COLUMNS: &str = "id, name, kind, format, max_body, enabled, created_at, token_hash, last_push_at, telegrams_total,
    last_error_code, last_error_message, last_error_at, folder";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Source> {
    Ok(Source {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        format: r.get(3)?,
        max_body: r.get(4)?,
        enabled: r.get(5)?,
        created_at: r.get(6)?,
        token_hash: r.get(7)?,
        last_push_at: r.get(8)?,
        telegrams_total: r.get(9)?,
        last_error_code: r.get(10)?,
        last_error_message: r.get(11)?,
        last_error_at: r.get(12)?,
        folder: r.get(13)?,
        per_minute: 0.0,
    })
}

pub struct NewSource<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub format: &'a str,
    pub token_hash: Option<&'a str>,
    pub folder: Option<&'a str>,
    pub max_body: i64,
}

pub fn insert(conn: &Connection, s: &NewSource<'_>, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO sources(name, kind, format, token_hash, folder, max_body, created_at) VALUES (?1,?2,?3,?4,?5,?6,?7)",
        params![s.name, s.kind, s.format, s.token_hash, s.folder, s.max_body, now],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn by_name(conn: &Connection, name: &str) -> Result<Option<Source>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM sources WHERE name = ?1"), [name], row).optional()?)
}

/// Every source, by name (`per_minute` left at 0).
pub fn all(conn: &Connection) -> Result<Vec<Source>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM sources ORDER BY name"))?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every source, with its rate over the 10 minutes before `now` (from its imports).
pub fn list(conn: &Connection, now: i64) -> Result<Vec<Source>> {
    let mut sources = all(conn)?;
    let mut rate = conn.prepare(
        "SELECT coalesce(sum(telegrams), 0) FROM imports WHERE (source = 'push to ' || ?1 OR substr(source, 1, length(?1) + 2) = ?1 || ': ')
             AND started_at > ?2 AND started_at <= ?3",
    )?;
    for s in &mut sources {
        let telegrams: i64 = rate.query_row(params![s.name, now - 600, now], |r| r.get(0))?;
        s.per_minute = telegrams as f64 / 10.0;
    }
    Ok(sources)
}

/// A delivery of `telegrams` was stored.
pub fn delivered(conn: &Connection, id: i64, telegrams: u64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE sources SET last_push_at = ?2, telegrams_total = telegrams_total + ?3 WHERE id = ?1",
        params![id, now, telegrams as i64],
    )?;
    Ok(())
}

/// A delivery was refused: its code and message.
pub fn refused(conn: &Connection, id: i64, code: &str, message: &str, now: i64) -> Result<()> {
    let message: String = message.chars().take(500).collect();
    conn.execute(
        "UPDATE sources SET last_error_code = ?2, last_error_message = ?3, last_error_at = ?4 WHERE id = ?1",
        params![id, code, message, now],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM sources WHERE name = ?1", [name])? == 1)
}
