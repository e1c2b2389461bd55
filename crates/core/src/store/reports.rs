//! The reports' queries: the meters of a report with their customers, index lookups at a
//! time (one primary-key range scan each), reading times in a period, and the table
//! `performance_reports` (saved reading-performance reports with a comment).

use super::{MeterLabel, LABEL_COLUMNS};
use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// A meter of a report with what identifies its consumer.
#[derive(Debug, Clone)]
pub struct Consumer {
    pub meter_id: i64,
    pub label: MeterLabel,
    pub device_type: String,
    pub installed_at: Option<i64>,
    /// When a removed meter was removed (`None`: in service).
    pub removed_at: Option<i64>,
}

/// Every meter (of group `group_id` if given) in service at some time from `from` on, by
/// id: a meter removed before `from` (or removed at an unknown time) is left out.
pub fn consumers(conn: &Connection, group_id: Option<i64>, from: i64) -> Result<Vec<Consumer>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT m.id, m.device_type, m.installed_at, CASE WHEN m.status = 'removed' THEN m.removed_at END, {LABEL_COLUMNS}
         FROM meters m LEFT JOIN customers c ON c.id = m.customer_id
         WHERE (?1 IS NULL OR m.id IN (SELECT meter_id FROM meter_group_members WHERE group_id = ?1))
           AND (m.status <> 'removed' OR coalesce(m.removed_at, ?2) > ?2)
         ORDER BY m.id"
    ))?;
    let rows = stmt.query_map(params![group_id, from], |r| {
        Ok(Consumer {
            meter_id: r.get(0)?,
            label: MeterLabel::from_row(r, 4)?,
            device_type: r.get(1)?,
            installed_at: r.get(2)?,
            removed_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

// The lookups below run once per meter of a report: cached, `?N + 0` (see the module `store`).

/// `index_at`: one primary-key seek, backwards.
pub(super) const INDEX_AT: &str =
    "SELECT ts, value FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts <= ?3 ORDER BY ts DESC LIMIT 1";

/// The last (ts, value) at or before `ts`: the index of the register at that time.
pub fn index_at(conn: &Connection, meter_id: i64, register: i64, ts: i64) -> Result<Option<(i64, f64)>> {
    Ok(conn
        .prepare_cached(INDEX_AT)?
        .query_row(params![meter_id, register, ts], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// `first_between`: one primary-key seek.
pub(super) const FIRST_BETWEEN: &str =
    "SELECT ts, value FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts > ?3 AND ts <= ?4 ORDER BY ts LIMIT 1";

/// The first (ts, value) with `after < ts <= until`.
pub fn first_between(conn: &Connection, meter_id: i64, register: i64, after: i64, until: i64) -> Result<Option<(i64, f64)>> {
    Ok(conn
        .prepare_cached(FIRST_BETWEEN)?
        .query_row(params![meter_id, register, after, until], |r| Ok((r.get(0)?, r.get(1)?)))
        .optional()?)
}

/// `reading_times`: one primary-key range scan.
pub(super) const READING_TIMES: &str =
    "SELECT ts FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts >= ?3 AND ts < ?4 ORDER BY ts";

/// Replace `out` with the reading times of a register with `from <= ts < to`, in order.
pub fn reading_times(conn: &Connection, meter_id: i64, register: i64, from: i64, to: i64, out: &mut Vec<i64>) -> Result<()> {
    out.clear();
    let mut stmt = conn.prepare_cached(READING_TIMES)?;
    let mut rows = stmt.query(params![meter_id, register, from, to])?;
    while let Some(r) = rows.next()? {
        out.push(r.get(0)?);
    }
    Ok(())
}

/// A saved reading-performance report.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct SavedPerformance {
    pub id: i64,
    pub created_at: i64,
    pub user: String,
    pub from: String,
    pub to: String,
    pub group_id: Option<i64>,
    pub group_name: Option<String>,
    pub expected_per_day: f64,
    pub meters: i64,
    pub average: f64,
    pub missing: i64,
    pub comment: String,
    pub commented_at: Option<i64>,
    pub commented_by: Option<String>,
}

/// Insert a saved report (its `id` is ignored); returns the new id.
pub fn insert_performance(conn: &Connection, r: &SavedPerformance) -> Result<i64> {
    conn.execute(
        "INSERT INTO performance_reports(created_at, user, from_date, to_date, group_id, group_name,
             expected_per_day, meters, average, missing, comment, commented_at, commented_by)
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13)",
        params![
            r.created_at, r.user, r.from, r.to, r.group_id, r.group_name, r.expected_per_day, r.meters, r.average,
            r.missing, r.comment, r.commented_at, r.commented_by
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

const SAVED_COLUMNS: &str = "id, created_at, user, from_date, to_date, group_id, group_name, expected_per_day,
     meters, average, missing, comment, commented_at, commented_by";

fn saved_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<SavedPerformance> {
    Ok(SavedPerformance {
        id: r.get(0)?,
        created_at: r.get(1)?,
        user: r.get(2)?,
        from: r.get(3)?,
        to: r.get(4)?,
        group_id: r.get(5)?,
        group_name: r.get(6)?,
        expected_per_day: r.get(7)?,
        meters: r.get(8)?,
        average: r.get(9)?,
        missing: r.get(10)?,
        comment: r.get(11)?,
        commented_at: r.get(12)?,
        commented_by: r.get(13)?,
    })
}

/// Saved reports, newest first.
pub fn list_performance(conn: &Connection) -> Result<Vec<SavedPerformance>> {
    let mut stmt = conn.prepare(&format!("SELECT {SAVED_COLUMNS} FROM performance_reports ORDER BY created_at DESC, id DESC"))?;
    let rows = stmt.query_map([], saved_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn get_performance(conn: &Connection, id: i64) -> Result<Option<SavedPerformance>> {
    Ok(conn
        .query_row(&format!("SELECT {SAVED_COLUMNS} FROM performance_reports WHERE id = ?1"), [id], saved_row)
        .optional()?)
}

/// Replace the comment of saved report `id`; false if there is no such report.
pub fn set_comment(conn: &Connection, id: i64, comment: &str, at: i64, by: &str) -> Result<bool> {
    let n = conn.execute(
        "UPDATE performance_reports SET comment = ?2, commented_at = ?3, commented_by = ?4 WHERE id = ?1",
        params![id, comment, at, by],
    )?;
    Ok(n == 1)
}
