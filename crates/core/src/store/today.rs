//! The counts of the start page's "to do today" (`crate::today`), each on an index: meters
//! by last sighting, runs of scheduled exports by end, webhook deliveries by status,
//! imports (one row per file).

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// Meters in service not heard since `before`, never heard ones included (the meter list's
/// `not_heard_days` filter, which the start page links to).
pub fn not_heard(conn: &Connection, before: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM meters WHERE (last_seen IS NULL OR last_seen < ?1) AND status <> 'removed'")?
        .query_row([before], |r| r.get(0))?)
}

/// Runs of scheduled exports that failed (and were not retried with success) since `since`.
pub fn failed_export_runs(conn: &Connection, since: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM export_runs WHERE finished_at >= ?1 AND status = 'failed'")?
        .query_row([since], |r| r.get(0))?)
}

/// Webhook deliveries that failed for good, last tried since `since`.
pub fn failed_webhook_deliveries(conn: &Connection, since: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM webhook_deliveries WHERE status = 'failed' AND last_try >= ?1")?
        .query_row([since], |r| r.get(0))?)
}

/// Imports that failed, started since `since`.
pub fn failed_imports(conn: &Connection, since: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM imports WHERE state = 'failed' AND started_at >= ?1")?
        .query_row([since], |r| r.get(0))?)
}

/// Retention runs that failed since `since` (their audit entries: event `retention_failed`).
pub fn failed_retention_runs(conn: &Connection, since: i64) -> Result<i64> {
    Ok(conn
        .prepare_cached("SELECT count(*) FROM audit_log WHERE event = ?1 AND at >= ?2")?
        .query_row(params![super::retention::FAILED_EVENT, since], |r| r.get(0))?)
}

/// The last import of readings: when, who, from what, how many readings.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastImport {
    pub id: i64,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub user: String,
    pub source: String,
    pub state: String,
    pub readings: i64,
    pub rejected: i64,
}

pub fn last_import(conn: &Connection) -> Result<Option<LastImport>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, started_at, finished_at, user, source, state, readings, rejected FROM imports ORDER BY id DESC LIMIT 1",
        )?
        .query_row(params![], |r| {
            Ok(LastImport {
                id: r.get(0)?,
                started_at: r.get(1)?,
                finished_at: r.get(2)?,
                user: r.get(3)?,
                source: r.get(4)?,
                state: r.get(5)?,
                readings: r.get(6)?,
                rejected: r.get(7)?,
            })
        })
        .optional()?)
}
