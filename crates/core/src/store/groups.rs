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

/// Every group with its number of meters in service (removed members are not counted).
pub fn list(conn: &Connection) -> Result<Vec<Group>> {
    let mut stmt = conn.prepare(
        "SELECT g.id, g.name, (SELECT count(*) FROM meter_group_members m JOIN meters x ON x.id = m.meter_id
                               WHERE m.group_id = g.id AND x.status <> 'removed')
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

/// The id of the group named `name`, if any.
pub fn by_name(conn: &Connection, name: &str) -> Result<Option<i64>> {
    use rusqlite::OptionalExtension;
    Ok(conn.query_row("SELECT id FROM meter_groups WHERE name = ?1", [name], |r| r.get(0)).optional()?)
}

/// The name of group `id`, if it exists.
pub fn name_of(conn: &Connection, id: i64) -> Result<Option<String>> {
    use rusqlite::OptionalExtension;
    Ok(conn.query_row("SELECT name FROM meter_groups WHERE id = ?1", [id], |r| r.get(0)).optional()?)
}

pub fn rename(conn: &Connection, id: i64, name: &str) -> Result<()> {
    conn.execute("UPDATE meter_groups SET name = ?2 WHERE id = ?1", params![id, name])?;
    Ok(())
}

/// Delete a group and its memberships (the meters stay).
pub fn delete(conn: &Connection, id: i64) -> Result<()> {
    conn.execute("DELETE FROM meter_group_members WHERE group_id = ?1", [id])?;
    conn.execute("DELETE FROM meter_groups WHERE id = ?1", [id])?;
    Ok(())
}

/// Add the meters that exist; returns how many were not yet members.
pub fn add_members(conn: &Connection, group_id: i64, meter_ids: &[i64]) -> Result<u64> {
    let mut stmt = conn.prepare_cached(
        "INSERT OR IGNORE INTO meter_group_members(group_id, meter_id)
         SELECT ?1, id FROM meters WHERE id = ?2",
    )?;
    let mut added = 0u64;
    for id in meter_ids {
        added += stmt.execute(params![group_id, id])? as u64;
    }
    Ok(added)
}

/// Remove meters from a group; returns how many were members.
pub fn remove_members(conn: &Connection, group_id: i64, meter_ids: &[i64]) -> Result<u64> {
    let mut stmt = conn.prepare_cached("DELETE FROM meter_group_members WHERE group_id = ?1 AND meter_id = ?2")?;
    let mut removed = 0u64;
    for id in meter_ids {
        removed += stmt.execute(params![group_id, id])? as u64;
    }
    Ok(removed)
}

/// Put meter `to` in every group meter `from` is in; returns how many were added.
pub fn copy_memberships(conn: &Connection, from: i64, to: i64) -> Result<u64> {
    let n = conn.execute(
        "INSERT OR IGNORE INTO meter_group_members(group_id, meter_id)
         SELECT group_id, ?2 FROM meter_group_members WHERE meter_id = ?1",
        params![from, to],
    )?;
    Ok(n as u64)
}

/// Ids of the meters of group `id`, in id order.
pub fn member_ids(conn: &Connection, group_id: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT meter_id FROM meter_group_members WHERE group_id = ?1 ORDER BY meter_id")?;
    let rows = stmt.query_map([group_id], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
