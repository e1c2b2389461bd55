//! Tables `reading_feed` and `info_code_feed`: what was stored, in storing order, for the
//! open API's feeds (keyset pages by `seq`), and the meters an API key may reach.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};

/// The meters a caller may reach: all, those of some groups, those of one customer.
#[derive(Debug, Clone, Default)]
pub struct Reach {
    /// Group ids as a JSON array (`[3,5]`), or None for every group.
    pub groups_json: Option<String>,
    pub customer: Option<i64>,
}

impl Reach {
    pub fn of(groups: &[i64], customer: Option<i64>) -> Reach {
        let groups_json = (!groups.is_empty()).then(|| serde_json::to_string(groups).unwrap_or_else(|_| "[]".into()));
        Reach { groups_json, customer }
    }
}

/// The SQL condition on meter `m` of a [`Reach`] given as parameters `?g` (groups JSON) and
/// `?c` (customer).
pub(crate) fn reach_sql(meter: &str, g: usize, c: usize) -> String {
    format!(
        "(?{g} IS NULL OR {meter}.id IN (SELECT meter_id FROM meter_group_members WHERE group_id IN (SELECT value FROM json_each(?{g}))))
         AND (?{c} IS NULL OR {meter}.customer_id = ?{c})"
    )
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedReading {
    pub seq: i64,
    pub meter_id: i64,
    pub serial: String,
    pub manufacturer: String,
    pub register: i64,
    pub ts: i64,
    pub value: f64,
    pub stored_at: i64,
}

/// A page of a feed: the rows of `sql` (selecting `seq` first and `reachable` last, taking
/// `?1` after, `?2` scan, `?3`/`?4` the reach) that the caller reaches and `item` keeps, at
/// most `limit`; and the cursor to ask next (the last row looked at, so that a page of rows
/// the caller may not see still moves the cursor on).
fn page<T>(
    conn: &Connection,
    sql: &str,
    after: i64,
    limit: usize,
    scan: usize,
    reach: &Reach,
    item: impl Fn(&rusqlite::Row<'_>) -> rusqlite::Result<Option<T>>,
) -> Result<(Vec<T>, i64)> {
    let mut stmt = conn.prepare_cached(sql)?;
    let reachable = stmt.column_count() - 1;
    let mut rows = stmt.query(params![after, scan as i64, reach.groups_json, reach.customer])?;
    let mut out = Vec::new();
    let mut next = after;
    while let Some(r) = rows.next()? {
        let seq: i64 = r.get(0)?;
        if r.get::<_, bool>(reachable)? {
            if let Some(it) = item(r)? {
                if out.len() == limit {
                    break;
                }
                out.push(it);
            }
        }
        next = seq;
    }
    Ok((out, next))
}

/// Readings stored after cursor `after`, in storing order: at most `limit` of those `reach`
/// allows, looking at no more than `scan` feed rows (see [`page`]).
pub fn readings_after(conn: &Connection, after: i64, limit: usize, scan: usize, reach: &Reach) -> Result<(Vec<FeedReading>, i64)> {
    let sql = format!(
        "SELECT f.seq, f.meter_id, m.serial, m.manufacturer, f.register, f.ts, r.value, f.at,
                ({}) AS reachable
         FROM reading_feed f
         JOIN meters m ON m.id = f.meter_id
         LEFT JOIN readings r ON r.meter_id = f.meter_id AND r.register = f.register AND r.ts = f.ts
         WHERE f.seq > ?1 ORDER BY f.seq LIMIT ?2",
        reach_sql("m", 3, 4)
    );
    page(conn, &sql, after, limit, scan, reach, |r| {
        // A reading removed since (retention) is no longer served.
        let Some(value) = r.get::<_, Option<f64>>(6)? else { return Ok(None) };
        Ok(Some(FeedReading {
            seq: r.get(0)?,
            meter_id: r.get(1)?,
            serial: r.get(2)?,
            manufacturer: r.get(3)?,
            register: r.get(4)?,
            ts: r.get(5)?,
            value,
            stored_at: r.get(7)?,
        }))
    })
}

/// The oldest and newest `seq` of a feed table (`reading_feed` or `info_code_feed`), None
/// when empty: two seeks at the ends of the table (`min` and `max` in one SELECT would scan it).
pub fn bounds(conn: &Connection, info_codes: bool) -> Result<Option<(i64, i64)>> {
    let table = if info_codes { "info_code_feed" } else { "reading_feed" };
    let end = |order: &str| -> Result<Option<i64>> {
        Ok(conn.prepare_cached(&format!("SELECT seq FROM {table} ORDER BY seq {order} LIMIT 1"))?.query_row([], |r| r.get(0)).optional()?)
    };
    Ok(match (end("ASC")?, end("DESC")?) {
        (Some(a), Some(b)) => Some((a, b)),
        _ => None,
    })
}

/// The last `seq` ever given by a feed (kept by AUTOINCREMENT even when its rows are purged).
pub fn last_given(conn: &Connection, info_codes: bool) -> Result<i64> {
    let table = if info_codes { "info_code_feed" } else { "reading_feed" };
    Ok(conn
        .query_row("SELECT seq FROM sqlite_sequence WHERE name = ?1", [table], |r| r.get::<_, i64>(0))
        .or_else(|e| if e == rusqlite::Error::QueryReturnedNoRows { Ok(0) } else { Err(e) })?)
}

#[derive(Debug, Clone, PartialEq)]
pub struct FeedInfoCode {
    pub seq: i64,
    pub meter_id: i64,
    pub serial: String,
    pub manufacturer: String,
    pub code: String,
    pub started_at: i64,
    pub event: String,
    pub at: i64,
}

/// Info codes started or ended after cursor `after`, like [`readings_after`].
pub fn info_codes_after(conn: &Connection, after: i64, limit: usize, scan: usize, reach: &Reach) -> Result<(Vec<FeedInfoCode>, i64)> {
    let sql = format!(
        "SELECT f.seq, f.meter_id, m.serial, m.manufacturer, f.code, f.started_at, f.event, f.at, ({}) AS reachable
         FROM info_code_feed f JOIN meters m ON m.id = f.meter_id
         WHERE f.seq > ?1 ORDER BY f.seq LIMIT ?2",
        reach_sql("m", 3, 4)
    );
    page(conn, &sql, after, limit, scan, reach, |r| {
        Ok(Some(FeedInfoCode {
            seq: r.get(0)?,
            meter_id: r.get(1)?,
            serial: r.get(2)?,
            manufacturer: r.get(3)?,
            code: r.get(4)?,
            started_at: r.get(5)?,
            event: r.get(6)?,
            at: r.get(7)?,
        }))
    })
}
