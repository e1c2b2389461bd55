//! Priority meters (`meters.priority`): the meters followed live, found through the partial
//! index `meters_priority` (never a scan of the park).

use super::{MeterLabel, LABEL_COLUMNS};
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// A priority meter as the live screen names it.
#[derive(Debug, Clone, Serialize)]
pub struct PriorityMeter {
    pub id: i64,
    #[serde(flatten)]
    pub label: MeterLabel,
    pub manufacturer: String,
    pub device_type: String,
    pub last_seen: Option<i64>,
}

/// Mark `ids` as priority meters (`on`) or not. Every id must be a meter: the first that is
/// not is `not_found`, and the caller's transaction stores nothing. The meters whose mark
/// changed, ascending.
pub fn set(conn: &Connection, ids: &[i64], on: bool) -> Result<Vec<i64>> {
    let mut changed = Vec::new();
    let mut ids = ids.to_vec();
    ids.sort_unstable();
    ids.dedup();
    for id in ids {
        let now: i64 = conn
            .prepare_cached("SELECT priority FROM meters WHERE id = ?1")?
            .query_row([id], |r| r.get(0))
            .optional()?
            .ok_or_else(|| Error::not_found(format!("meter {id}")))?;
        if (now != 0) != on {
            conn.prepare_cached("UPDATE meters SET priority = ?2 WHERE id = ?1")?.execute(params![id, on as i64])?;
            changed.push(id);
        }
    }
    Ok(changed)
}

const PRIORITY_FROM: &str = "FROM meters m LEFT JOIN customers c ON c.id = m.customer_id WHERE m.priority <> 0";

/// The number of priority meters.
pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.prepare_cached(&format!("SELECT count(*) {PRIORITY_FROM}"))?.query_row([], |r| r.get(0))?)
}

/// A page of the priority meters, by id; with `only`, just those of them (in its order).
pub fn page(conn: &Connection, only: Option<&[i64]>, offset: i64, limit: i64) -> Result<Vec<PriorityMeter>> {
    let select = format!("SELECT m.id, m.manufacturer, m.device_type, m.last_seen, {LABEL_COLUMNS} {PRIORITY_FROM}");
    let row = |r: &rusqlite::Row<'_>| -> rusqlite::Result<PriorityMeter> {
        Ok(PriorityMeter {
            id: r.get(0)?,
            manufacturer: r.get(1)?,
            device_type: r.get(2)?,
            last_seen: r.get(3)?,
            label: MeterLabel::from_row(r, 4)?,
        })
    };
    match only {
        Some(ids) => {
            let mut stmt = conn.prepare_cached(&format!("{select} AND m.id = ?1"))?;
            let mut out = Vec::new();
            for id in ids {
                if let Some(m) = stmt.query_row([id], row).optional()? {
                    out.push(m);
                }
            }
            Ok(out)
        }
        None => {
            let mut stmt = conn.prepare_cached(&format!("{select} ORDER BY m.id LIMIT ?1 OFFSET ?2"))?;
            let rows = stmt.query_map(params![limit, offset], row)?;
            Ok(rows.collect::<rusqlite::Result<_>>()?)
        }
    }
}
