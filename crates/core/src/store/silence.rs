//! Silent meters: those of the fixed network (`on_network`: a gateway heard them) in service
//! whose last frame is older than their class's period get
//! the info code `silent` (an event and the bit on `meters.info_codes`); the import ends it
//! when the meter is heard again, like any other code.

use super::info_codes::Event;
use crate::error::Result;
use crate::model::info_code_bit;
use rusqlite::{params, Connection, OptionalExtension};

// The partial index `meters_unsilent` (migration 0016) is used only by statements that
// repeat its condition word for word; its 256 is the bit of `silent`.

/// `next_device_type`: one seek in `meters_unsilent`.
pub(super) const NEXT_DEVICE_TYPE: &str = "SELECT device_type FROM meters
     WHERE device_type > ?1 AND info_codes & 256 = 0 AND last_seen IS NOT NULL AND status <> 'removed' AND on_network <> 0
     ORDER BY device_type LIMIT 1";

/// `not_heard_since`: a range of `meters_unsilent`.
pub(super) const NOT_HEARD_SINCE: &str = "SELECT id, last_seen FROM meters
     WHERE device_type = ?1 AND last_seen <= ?2 AND info_codes & 256 = 0 AND last_seen IS NOT NULL AND status <> 'removed' AND on_network <> 0
     LIMIT ?3";

/// The smallest device type after `after` among meters that may fall silent: one seek in
/// `meters_unsilent` (walking the types costs one seek each, not a scan).
pub fn next_device_type(conn: &Connection, after: &str) -> Result<Option<String>> {
    debug_assert_eq!(info_code_bit("silent"), 256);
    Ok(conn.prepare_cached(NEXT_DEVICE_TYPE)?.query_row([after], |r| r.get(0)).optional()?)
}

/// At most `limit` meters of `device_type` last heard at or before `cutoff`, not silent yet:
/// (id, last_seen).
pub fn not_heard_since(conn: &Connection, device_type: &str, cutoff: i64, limit: i64) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached(NOT_HEARD_SINCE)?;
    let rows = stmt.query_map(params![device_type, cutoff, limit], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Open the `silent` event of a meter, as of `started_at`, unless it was heard since it was
/// found (its `last_seen` moved) or is silent already: true when opened.
pub fn fall_silent(conn: &Connection, meter_id: i64, last_seen: i64, started_at: i64) -> Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE meters SET info_codes = info_codes | ?3 WHERE id = ?1 AND last_seen = ?2 AND info_codes & ?3 = 0")?
        .execute(params![meter_id, last_seen, info_code_bit("silent")])?;
    if changed == 0 {
        return Ok(false);
    }
    let e = Event { code: "silent".into(), started_at, last_seen_at: started_at, ended_at: None };
    super::info_codes::upsert(conn, meter_id, &e)?;
    Ok(true)
}

/// An ongoing silence with what decides whether it still holds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Silent {
    pub meter_id: i64,
    pub started_at: i64,
    pub device_type: String,
    pub last_seen: Option<i64>,
}

/// Every ongoing `silent` event (when the periods change).
pub fn ongoing(conn: &Connection) -> Result<Vec<Silent>> {
    let mut stmt = conn.prepare(
        "SELECT e.meter_id, e.started_at, m.device_type, m.last_seen FROM info_code_events e JOIN meters m ON m.id = e.meter_id
         WHERE e.ended_at IS NULL AND e.code = 'silent'",
    )?;
    let rows = stmt.query_map([], |r| Ok(Silent { meter_id: r.get(0)?, started_at: r.get(1)?, device_type: r.get(2)?, last_seen: r.get(3)? }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// End a meter's silence at `at` (its period grew past its last frame).
pub fn end(conn: &Connection, meter_id: i64, started_at: i64, at: i64) -> Result<()> {
    conn.execute(
        "UPDATE info_code_events SET ended_at = ?3, last_seen_at = max(last_seen_at, ?3)
         WHERE meter_id = ?1 AND code = 'silent' AND started_at = ?2 AND ended_at IS NULL",
        params![meter_id, started_at, at],
    )?;
    conn.execute("UPDATE meters SET info_codes = info_codes & ~?2 WHERE id = ?1", params![meter_id, info_code_bit("silent")])?;
    Ok(())
}
