//! Retention's SQL: a meter's series in the compaction window, the times its readings
//! around are kept (info codes, exchanges), and the deletes of one meter at a time (runs
//! of readings by primary-key range, old telegrams, ended info codes, conflicts); the
//! file's pages and the vacuums that give them back. The policy is `crate::retention`.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};

/// A meter's next register after `?2` (a skip scan of the primary key).
pub(super) const NEXT_REGISTER: &str =
    "SELECT register FROM readings WHERE meter_id = ?1 + 0 AND register > ?2 ORDER BY register LIMIT 1";
/// The audit event of a run that failed (a run that ends well is `retention_run`).
pub const FAILED_EVENT: &str = "retention_failed";

/// The next `limit` meter ids after `after`, ascending.
pub fn meters_after(conn: &Connection, after: i64, limit: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached("SELECT id FROM meters WHERE id > ?1 ORDER BY id LIMIT ?2")?;
    let rows = stmt.query_map(params![after, limit], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn meter_count(conn: &Connection) -> Result<u64> {
    Ok(conn.query_row("SELECT count(*) FROM meters", [], |r| r.get::<_, i64>(0))?.max(0) as u64)
}

/// The registers a meter has readings of.
pub fn registers(conn: &Connection, meter_id: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(NEXT_REGISTER)?;
    let mut out = Vec::new();
    let mut after = i64::MIN;
    while let Some(r) = stmt.query_row(params![meter_id, after], |r| r.get::<_, i64>(0)).optional()? {
        out.push(r);
        after = r;
    }
    Ok(out)
}

/// The times of a meter whose readings around are kept: its info codes' starts and ends,
/// its exchanges (as the old or the new meter). Ascending, maybe repeated.
pub fn anchors(conn: &Connection, meter_id: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare_cached(
        "SELECT started_at FROM info_code_events WHERE meter_id = ?1
         UNION ALL SELECT ended_at FROM info_code_events WHERE meter_id = ?1 AND ended_at IS NOT NULL
         UNION ALL SELECT at FROM meter_exchanges WHERE old_meter_id = ?1 OR new_meter_id = ?1",
    )?;
    let mut out: Vec<i64> = stmt.query_map([meter_id], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    out.sort_unstable();
    Ok(out)
}

/// Readings of a meter's register older than `before`: counted, or deleted with `delete`.
pub fn readings_before(conn: &Connection, meter_id: i64, register: i64, before: i64, delete: bool) -> Result<u64> {
    let sql = if delete {
        "DELETE FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts < ?3"
    } else {
        "SELECT count(*) FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts < ?3"
    };
    counted(conn, sql, params![meter_id, register, before], delete)
}

/// Delete a meter's register's readings with times `from..=to`.
pub fn delete_run(conn: &Connection, meter_id: i64, register: i64, from: i64, to: i64) -> Result<u64> {
    let n = conn
        .prepare_cached("DELETE FROM readings WHERE meter_id = ?1 AND register = ?2 AND ts >= ?3 AND ts <= ?4")?
        .execute(params![meter_id, register, from, to])?;
    Ok(n as u64)
}

/// A meter's telegrams received before `before`: (count, bytes of their raw frames);
/// deleted with `delete`. Readings keep their `telegram_id`, which then points nowhere.
pub fn telegrams_before(conn: &Connection, meter_id: i64, before: i64, delete: bool) -> Result<(u64, u64)> {
    let (n, bytes): (i64, i64) = conn
        .prepare_cached(
            "SELECT count(*), coalesce(sum(length(raw)), 0) FROM telegrams WHERE meter_id = ?1 AND received_at < ?2",
        )?
        .query_row(params![meter_id, before], |r| Ok((r.get(0)?, r.get(1)?)))?;
    if delete && n > 0 {
        conn.prepare_cached("DELETE FROM telegrams WHERE meter_id = ?1 AND received_at < ?2")?
            .execute(params![meter_id, before])?;
    }
    Ok((n.max(0) as u64, bytes.max(0) as u64))
}

/// A meter's info code events ended before `before`.
pub fn info_codes_ended_before(conn: &Connection, meter_id: i64, before: i64, delete: bool) -> Result<u64> {
    let sql = if delete {
        "DELETE FROM info_code_events WHERE meter_id = ?1 AND ended_at IS NOT NULL AND ended_at < ?2"
    } else {
        "SELECT count(*) FROM info_code_events WHERE meter_id = ?1 AND ended_at IS NOT NULL AND ended_at < ?2"
    };
    counted(conn, sql, params![meter_id, before], delete)
}

/// A meter's reading conflicts about readings older than `before`.
pub fn conflicts_before(conn: &Connection, meter_id: i64, before: i64, delete: bool) -> Result<u64> {
    let sql = if delete {
        "DELETE FROM reading_conflicts WHERE meter_id = ?1 AND ts < ?2"
    } else {
        "SELECT count(*) FROM reading_conflicts WHERE meter_id = ?1 AND ts < ?2"
    };
    counted(conn, sql, params![meter_id, before], delete)
}

fn counted(conn: &Connection, sql: &str, p: impl rusqlite::Params, delete: bool) -> Result<u64> {
    let mut stmt = conn.prepare_cached(sql)?;
    let n = if delete { stmt.execute(p)? as i64 } else { stmt.query_row(p, |r| r.get::<_, i64>(0))? };
    Ok(n.max(0) as u64)
}

/// The file's pages: (page count, free pages, page size in bytes).
pub fn pages(conn: &Connection) -> Result<(u64, u64, u64)> {
    let get = |p: &str| -> Result<u64> { Ok(conn.query_row(&format!("PRAGMA {p}"), [], |r| r.get::<_, i64>(0))?.max(0) as u64) };
    Ok((get("page_count")?, get("freelist_count")?, get("page_size")?))
}

/// Whether the file gives free pages back on `incremental_vacuum` (auto_vacuum = 2).
pub fn incremental(conn: &Connection) -> Result<bool> {
    Ok(conn.query_row("PRAGMA auto_vacuum", [], |r| r.get::<_, i64>(0))? == 2)
}

/// Give back up to `pages` free pages at the file's end; the free pages left.
pub fn incremental_vacuum(conn: &Connection, pages: u64) -> Result<u64> {
    conn.execute_batch(&format!("PRAGMA incremental_vacuum({pages});"))?;
    Ok(conn.query_row("PRAGMA freelist_count", [], |r| r.get::<_, i64>(0))?.max(0) as u64)
}

/// Rewrite the whole file in incremental auto-vacuum mode (a file made without it: once).
pub fn full_vacuum(conn: &Connection) -> Result<()> {
    conn.execute_batch("PRAGMA auto_vacuum = INCREMENTAL; VACUUM;")?;
    Ok(())
}

/// Claim the nightly run of local date `day` (`YYYY-MM-DD`): true once per day, whichever
/// process asks first.
pub fn claim_night(conn: &Connection, day: &str) -> Result<bool> {
    let n = conn.execute(
        "INSERT INTO settings(key, value) VALUES ('retention_last_night', ?1)
         ON CONFLICT(key) DO UPDATE SET value = excluded.value WHERE value < excluded.value",
        [day],
    )?;
    Ok(n == 1)
}

/// The open API's feed tables (migration 0029), emptied oldest first.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Feed {
    Readings,
    InfoCodes,
}

impl Feed {
    fn table(self) -> &'static str {
        match self {
            Feed::Readings => "reading_feed",
            Feed::InfoCodes => "info_code_feed",
        }
    }
}

/// The feed's rows before its first row whose `at` is not before `before` (a prefix by
/// `seq`, so a client's cursor never skips a row still served): (the first `seq` kept, how
/// many rows come before it).
pub fn feed_prefix(conn: &Connection, feed: Feed, before: i64) -> Result<(i64, u64)> {
    let t = feed.table();
    let first_kept: Option<i64> = conn
        .query_row(&format!("SELECT seq FROM {t} WHERE at >= ?1 ORDER BY seq LIMIT 1"), [before], |r| r.get(0))
        .optional()?;
    let boundary = match first_kept {
        Some(s) => s,
        None => conn.query_row(&format!("SELECT coalesce(max(seq), 0) + 1 FROM {t}"), [], |r| r.get(0))?,
    };
    let n: i64 = conn.query_row(&format!("SELECT count(*) FROM {t} WHERE seq < ?1"), [boundary], |r| r.get(0))?;
    Ok((boundary, n.max(0) as u64))
}

/// Delete up to `limit` of the feed's oldest rows with `seq` below `boundary`; how many.
pub fn feed_delete(conn: &Connection, feed: Feed, boundary: i64, limit: i64) -> Result<u64> {
    let t = feed.table();
    let n = conn.execute(
        &format!("DELETE FROM {t} WHERE seq < ?1 AND seq < (SELECT coalesce(min(seq), 0) FROM {t}) + ?2"),
        params![boundary, limit],
    )?;
    Ok(n as u64)
}
