//! Table `info_code_events`: when each info code of a meter started, was last seen, ended.

use crate::error::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub code: String,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub ended_at: Option<i64>,
}

/// The meter's ongoing events.
pub fn open_of(conn: &Connection, meter_id: i64) -> Result<Vec<Event>> {
    events(conn, meter_id, "AND ended_at IS NULL", i64::MIN, i64::MAX)
}

/// Events of a meter that overlap [from, to).
pub fn overlapping(conn: &Connection, meter_id: i64, from: i64, to: i64) -> Result<Vec<Event>> {
    events(conn, meter_id, "", from, to)
}

fn events(conn: &Connection, meter_id: i64, extra: &str, from: i64, to: i64) -> Result<Vec<Event>> {
    let sql = format!(
        "SELECT code, started_at, last_seen_at, ended_at FROM info_code_events
         WHERE meter_id = ?1 AND started_at < ?3 AND coalesce(ended_at, last_seen_at) >= ?2 {extra}
         ORDER BY started_at"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![meter_id, from, to], |r| {
        Ok(Event { code: r.get(0)?, started_at: r.get(1)?, last_seen_at: r.get(2)?, ended_at: r.get(3)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Insert or update an event (keyed by meter, code and start).
pub fn upsert(conn: &Connection, meter_id: i64, e: &Event) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO info_code_events(meter_id, code, started_at, last_seen_at, ended_at) VALUES (?1,?2,?3,?4,?5)
         ON CONFLICT(meter_id, code, started_at) DO UPDATE SET last_seen_at = excluded.last_seen_at, ended_at = excluded.ended_at",
    )?
    .execute(params![meter_id, e.code, e.started_at, e.last_seen_at, e.ended_at])?;
    Ok(())
}
