//! Tables `webhook_endpoints`, `webhook_deliveries` and `webhook_cursors` (migration 0032):
//! the registered endpoints, one delivery per endpoint and event with its attempts, and how
//! far the poller has read each source of events.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// An endpoint as listed (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct Endpoint {
    pub id: i64,
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
    pub active: bool,
    pub created_at: i64,
    pub created_by: String,
    /// Deliveries still pending and those failed for good.
    pub pending: i64,
    pub failed: i64,
}

const ENDPOINT_COLS: &str = "e.id, e.name, e.url, e.events, e.active, e.created_at, e.created_by,
    (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'pending'),
    (SELECT count(*) FROM webhook_deliveries d WHERE d.endpoint_id = e.id AND d.status = 'failed')";

fn endpoint_of(r: &Row<'_>) -> rusqlite::Result<Endpoint> {
    let events: String = r.get(3)?;
    Ok(Endpoint {
        id: r.get(0)?,
        name: r.get(1)?,
        url: r.get(2)?,
        events: events.split(',').filter(|e| !e.is_empty()).map(str::to_string).collect(),
        active: r.get(4)?,
        created_at: r.get(5)?,
        created_by: r.get(6)?,
        pending: r.get(7)?,
        failed: r.get(8)?,
    })
}

pub fn endpoints(conn: &Connection) -> Result<Vec<Endpoint>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {ENDPOINT_COLS} FROM webhook_endpoints e ORDER BY e.name"))?;
    let rows = stmt.query_map([], endpoint_of)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn endpoint(conn: &Connection, id: i64) -> Result<Option<Endpoint>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {ENDPOINT_COLS} FROM webhook_endpoints e WHERE e.id = ?1"))?
        .query_row([id], endpoint_of)
        .optional()?)
}

pub fn by_name(conn: &Connection, name: &str) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT id FROM webhook_endpoints WHERE name = ?1", [name], |r| r.get(0)).optional()?)
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM webhook_endpoints", [], |r| r.get(0))?)
}

pub struct NewEndpoint<'a> {
    pub name: &'a str,
    pub url: &'a str,
    pub events: &'a [String],
    pub secret: &'a str,
    pub created_at: i64,
    pub created_by: &'a str,
}

pub fn insert(conn: &Connection, e: &NewEndpoint<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO webhook_endpoints(name, url, events, secret, active, created_at, created_by) VALUES (?1, ?2, ?3, ?4, 1, ?5, ?6)",
        params![e.name, e.url, e.events.join(","), e.secret, e.created_at, e.created_by],
    )?;
    Ok(conn.last_insert_rowid())
}

/// Remove an endpoint and its deliveries; false when there was none.
pub fn remove(conn: &Connection, id: i64) -> Result<bool> {
    conn.execute("DELETE FROM webhook_deliveries WHERE endpoint_id = ?1", [id])?;
    Ok(conn.execute("DELETE FROM webhook_endpoints WHERE id = ?1", [id])? == 1)
}

pub fn set_active(conn: &Connection, id: i64, active: bool) -> Result<bool> {
    Ok(conn.execute("UPDATE webhook_endpoints SET active = ?2 WHERE id = ?1", params![id, active])? == 1)
}

/// An active endpoint's address and key, for the events it takes.
#[derive(Debug, Clone)]
pub struct Target {
    pub id: i64,
    pub url: String,
    pub secret: String,
    pub events: Vec<String>,
}

pub fn active_targets(conn: &Connection) -> Result<Vec<Target>> {
    let mut stmt = conn.prepare_cached("SELECT id, url, secret, events FROM webhook_endpoints WHERE active = 1 ORDER BY id")?;
    let rows = stmt.query_map([], |r| {
        let events: String = r.get(3)?;
        Ok(Target { id: r.get(0)?, url: r.get(1)?, secret: r.get(2)?, events: events.split(',').map(str::to_string).collect() })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn target(conn: &Connection, id: i64) -> Result<Option<Target>> {
    Ok(conn
        .query_row("SELECT id, url, secret, events FROM webhook_endpoints WHERE id = ?1", [id], |r| {
            let events: String = r.get(3)?;
            Ok(Target { id: r.get(0)?, url: r.get(1)?, secret: r.get(2)?, events: events.split(',').map(str::to_string).collect() })
        })
        .optional()?)
}

/// Where the poller stands in `source` (None: never read).
pub fn cursor(conn: &Connection, source: &str) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT last FROM webhook_cursors WHERE source = ?1", [source], |r| r.get(0)).optional()?)
}

/// Move the cursor from `from` to `to`; false when another process moved it first (then
/// the caller's events are not made: they were, by the other).
pub fn move_cursor(conn: &Connection, source: &str, from: Option<i64>, to: i64) -> Result<bool> {
    let n = match from {
        None => conn.execute("INSERT OR IGNORE INTO webhook_cursors(source, last) VALUES (?1, ?2)", params![source, to])?,
        Some(from) => conn.execute("UPDATE webhook_cursors SET last = ?3 WHERE source = ?1 AND last = ?2", params![source, from, to])?,
    };
    Ok(n == 1)
}

/// A delivery to make: one event for one endpoint.
pub struct NewDelivery<'a> {
    pub endpoint_id: i64,
    pub event: &'a str,
    pub reference: &'a str,
    pub body: &'a str,
    pub created_at: i64,
}

/// Queue a delivery due at once; None when this endpoint already has this event.
pub fn enqueue(conn: &Connection, d: &NewDelivery<'_>) -> Result<Option<i64>> {
    let n = conn.prepare_cached(
        "INSERT OR IGNORE INTO webhook_deliveries(endpoint_id, event, ref, body, created_at, status, attempts, next_try)
         VALUES (?1, ?2, ?3, ?4, ?5, 'pending', 0, ?5)",
    )?
    .execute(params![d.endpoint_id, d.event, d.reference, d.body, d.created_at])?;
    Ok((n == 1).then(|| conn.last_insert_rowid()))
}

/// A delivery due: what to send where.
#[derive(Debug, Clone)]
pub struct Due {
    pub id: i64,
    pub endpoint_id: i64,
    pub event: String,
    pub body: String,
    pub attempts: i64,
    pub next_try: i64,
    pub url: String,
    pub secret: String,
}

/// Pending deliveries due at `now` of active endpoints, the oldest due first.
pub fn due(conn: &Connection, now: i64, limit: i64) -> Result<Vec<Due>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.endpoint_id, d.event, d.body, d.attempts, d.next_try, e.url, e.secret
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE d.status = 'pending' AND d.next_try <= ?1 AND e.active = 1
         ORDER BY d.next_try, d.id LIMIT ?2",
    )?;
    let rows = stmt.query_map(params![now, limit], |r| {
        Ok(Due {
            id: r.get(0)?,
            endpoint_id: r.get(1)?,
            event: r.get(2)?,
            body: r.get(3)?,
            attempts: r.get(4)?,
            next_try: r.get(5)?,
            url: r.get(6)?,
            secret: r.get(7)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Claim a due delivery for one attempt until `until` (the attempt's time-out and some):
/// false when another process claimed it first. A claim whose process died ends at `until`.
pub fn claim(conn: &Connection, d: &Due, now: i64, until: i64) -> Result<bool> {
    Ok(conn.prepare_cached(
        "UPDATE webhook_deliveries SET attempts = attempts + 1, last_try = ?3, next_try = ?4
         WHERE id = ?1 AND status = 'pending' AND next_try = ?2",
    )?
    .execute(params![d.id, d.next_try, now, until])?
        == 1)
}

/// What an attempt gave.
pub struct Outcome<'a> {
    /// 'delivered', 'pending' (retried at `next_try`) or 'failed'.
    pub status: &'a str,
    pub next_try: Option<i64>,
    pub http_status: Option<u16>,
    pub response: Option<&'a str>,
    pub error: Option<&'a str>,
}

/// Record an attempt; a delivery no longer pending forgets its body (kept only for retries,
/// so a long log stays small).
pub fn record(conn: &Connection, id: i64, o: &Outcome<'_>) -> Result<()> {
    conn.prepare_cached(
        "UPDATE webhook_deliveries SET status = ?2, next_try = ?3, http_status = ?4, response = ?5, error = ?6,
             body = CASE WHEN ?2 = 'pending' THEN body ELSE '' END
         WHERE id = ?1",
    )?
    .execute(params![id, o.status, o.next_try, o.http_status, o.response, o.error])?;
    Ok(())
}

/// A line of the delivery log.
#[derive(Debug, Clone, Serialize)]
pub struct Delivery {
    pub id: i64,
    pub endpoint_id: i64,
    pub endpoint: String,
    pub event: String,
    pub created_at: i64,
    pub status: String,
    pub attempts: i64,
    pub next_try: Option<i64>,
    pub last_try: Option<i64>,
    pub http_status: Option<i64>,
    pub response: Option<String>,
    pub error: Option<String>,
}

/// The log, newest first, before the delivery `before` (a page's last id), of one endpoint
/// or all.
pub fn deliveries(conn: &Connection, endpoint: Option<i64>, before: Option<i64>, limit: i64) -> Result<Vec<Delivery>> {
    let mut stmt = conn.prepare_cached(
        "SELECT d.id, d.endpoint_id, e.name, d.event, d.created_at, d.status, d.attempts, d.next_try, d.last_try,
                d.http_status, d.response, d.error
         FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
         WHERE (?1 IS NULL OR d.endpoint_id = ?1) AND (?2 IS NULL OR d.id < ?2)
         ORDER BY d.id DESC LIMIT ?3",
    )?;
    let rows = stmt.query_map(params![endpoint, before, limit], |r| {
        Ok(Delivery {
            id: r.get(0)?,
            endpoint_id: r.get(1)?,
            endpoint: r.get(2)?,
            event: r.get(3)?,
            created_at: r.get(4)?,
            status: r.get(5)?,
            attempts: r.get(6)?,
            next_try: r.get(7)?,
            last_try: r.get(8)?,
            http_status: r.get(9)?,
            response: r.get(10)?,
            error: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Forget deliveries made before `before` that are no longer pending; how many.
pub fn purge(conn: &Connection, before: i64) -> Result<usize> {
    Ok(conn.execute("DELETE FROM webhook_deliveries WHERE created_at < ?1 AND status <> 'pending'", [before])?)
}

/// One pending delivery by id, whether its endpoint is active or not (`webhook_test`).
pub fn pending(conn: &Connection, id: i64) -> Result<Option<Due>> {
    Ok(conn
        .query_row(
            "SELECT d.id, d.endpoint_id, d.event, d.body, d.attempts, d.next_try, e.url, e.secret
             FROM webhook_deliveries d JOIN webhook_endpoints e ON e.id = d.endpoint_id
             WHERE d.id = ?1 AND d.status = 'pending'",
            [id],
            |r| {
                Ok(Due {
                    id: r.get(0)?,
                    endpoint_id: r.get(1)?,
                    event: r.get(2)?,
                    body: r.get(3)?,
                    attempts: r.get(4)?,
                    next_try: r.get(5)?,
                    url: r.get(6)?,
                    secret: r.get(7)?,
                })
            },
        )
        .optional()?)
}

/// The newest `seq` of `reading_feed` (0 when empty).
pub fn readings_last(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM reading_feed", [], |r| r.get(0))?)
}

/// When the first reading stored after `after` was stored, if any.
pub fn readings_first_stored(conn: &Connection, after: i64) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT at FROM reading_feed WHERE seq > ?1 ORDER BY seq LIMIT 1", [after], |r| r.get(0)).optional()?)
}

/// What the readings stored in `(after, until]` of the feed are: how many, of how many
/// meters, their reading times' span, and the serials of the first `meters` meters.
#[derive(Debug, Clone, PartialEq)]
pub struct ReadingsBatch {
    pub readings: i64,
    pub meters: i64,
    pub first_ts: Option<i64>,
    pub last_ts: Option<i64>,
    /// (id, manufacturer, serial) of at most `meters` meters, by id.
    pub some_meters: Vec<(i64, String, String)>,
}

pub fn readings_batch(conn: &Connection, after: i64, until: i64, meters: i64) -> Result<ReadingsBatch> {
    let (readings, count, first_ts, last_ts) = conn.query_row(
        "SELECT count(*), count(DISTINCT meter_id), min(ts), max(ts) FROM reading_feed WHERE seq > ?1 AND seq <= ?2",
        params![after, until],
        |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)),
    )?;
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.manufacturer, m.serial FROM meters m
         WHERE m.id IN (SELECT DISTINCT meter_id FROM reading_feed WHERE seq > ?1 AND seq <= ?2)
         ORDER BY m.id LIMIT ?3",
    )?;
    let some = stmt.query_map(params![after, until, meters], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(ReadingsBatch { readings, meters: count, first_ts, last_ts, some_meters: some.collect::<rusqlite::Result<_>>()? })
}

/// The newest `seq` of `info_code_feed` (0 when empty).
pub fn info_codes_last(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT coalesce(max(seq), 0) FROM info_code_feed", [], |r| r.get(0))?)
}

/// An info code that started, from `info_code_feed`.
#[derive(Debug, Clone)]
pub struct Started {
    pub seq: i64,
    pub meter_id: i64,
    pub manufacturer: String,
    pub serial: String,
    pub code: String,
    pub started_at: i64,
}

/// The starts after `after` among the next `scan` rows of the feed; and the last seq looked at.
pub fn info_codes_started(conn: &Connection, after: i64, scan: i64) -> Result<(Vec<Started>, i64)> {
    let mut stmt = conn.prepare_cached(
        "SELECT f.seq, f.event, f.meter_id, m.manufacturer, m.serial, f.code, f.started_at
         FROM info_code_feed f JOIN meters m ON m.id = f.meter_id
         WHERE f.seq > ?1 ORDER BY f.seq LIMIT ?2",
    )?;
    let mut rows = stmt.query(params![after, scan])?;
    let mut out = Vec::new();
    let mut last = after;
    while let Some(r) = rows.next()? {
        last = r.get(0)?;
        if r.get::<_, String>(1)? == "start" {
            out.push(Started {
                seq: last,
                meter_id: r.get(2)?,
                manufacturer: r.get(3)?,
                serial: r.get(4)?,
                code: r.get(5)?,
                started_at: r.get(6)?,
            });
        }
    }
    Ok((out, last))
}
