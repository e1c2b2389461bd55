//! Tables `meter_groups` and `meter_group_members`.

use crate::error::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

#[derive(Debug, Clone, Serialize)]
pub struct Group {
    pub id: i64,
    pub name: String,
    pub meter_count: i64,
}

pub fn create(conn: &Connection, name: &str, now: i64) -> Result<i64> {
    conn.execute("INSERT INTO meter_groups(name, created_at) VALUES (?1, ?2)", params![name, now])?;
    Ok(conn.last_insert_rowid())
}

pub fn add_member(conn: &Connection, group_id: i64, meter_id: i64) -> Result<()> {
    conn.prepare_cached("INSERT OR IGNORE INTO meter_group_members(group_id, meter_id) VALUES (?1, ?2)")?
        .execute(params![group_id, meter_id])?;
    Ok(())
}

pub fn list(conn: &Connection) -> Result<Vec<Group>> {
    let mut stmt = conn.prepare(
        "SELECT g.id, g.name, (SELECT count(*) FROM meter_group_members m WHERE m.group_id = g.id)
         FROM meter_groups g ORDER BY g.name",
    )?;
    let rows = stmt.query_map([], |r| Ok(Group { id: r.get(0)?, name: r.get(1)?, meter_count: r.get(2)? }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// (id, name) of the groups a meter belongs to.
pub fn of_meter(conn: &Connection, meter_id: i64) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare(
        "SELECT g.id, g.name FROM meter_group_members m JOIN meter_groups g ON g.id = m.group_id
         WHERE m.meter_id = ?1 ORDER BY g.name",
    )?;
    let rows = stmt.query_map([meter_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
