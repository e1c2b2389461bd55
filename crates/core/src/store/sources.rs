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
}

const COLUMNS: &str = "id, name, kind, format, max_body, enabled, created_at, token_hash";

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
    })
}

pub struct NewSource<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub format: &'a str,
    pub token_hash: Option<&'a str>,
    pub max_body: i64,
}

pub fn insert(conn: &Connection, s: &NewSource<'_>, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO sources(name, kind, format, token_hash, max_body, created_at) VALUES (?1,?2,?3,?4,?5,?6)",
        params![s.name, s.kind, s.format, s.token_hash, s.max_body, now],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn by_name(conn: &Connection, name: &str) -> Result<Option<Source>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM sources WHERE name = ?1"), [name], row).optional()?)
}

pub fn list(conn: &Connection) -> Result<Vec<Source>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM sources ORDER BY name"))?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn delete(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM sources WHERE name = ?1", [name])? == 1)
}
