//! Table `audit_log`: who did what, when, from which computer.

use crate::access::Permit;
use crate::error::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

pub fn record(conn: &Connection, at: i64, event: &str, user: &str, computer: &str, details: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log(at, event, user, computer, details) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![at, event, user, computer, details])?;
    Ok(())
}

/// Record a change made under `permit`.
pub fn record_permit(conn: &Connection, permit: Permit<'_>, at: i64, event: &str, details: &str) -> Result<()> {
    record(conn, at, event, &permit.session.login, &permit.session.computer, details)
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub at: i64,
    pub event: String,
    pub user: String,
    pub computer: String,
    pub details: String,
}

pub fn latest(conn: &Connection, limit: i64) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT at, event, user, computer, details FROM audit_log ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Entry { at: r.get(0)?, event: r.get(1)?, user: r.get(2)?, computer: r.get(3)?, details: r.get(4)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
