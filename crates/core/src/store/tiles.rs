//! Base-map tiles: reading an MBTiles file (the utility's own, read only) and the tile cache
//! file beside the database (tiles fetched once from a WMS/WMTS/XYZ address, kept for
//! offline use, least recently used dropped past a size). Neither is the store itself.

use crate::error::Result;
use rusqlite::{params, Connection, OpenFlags, OptionalExtension};
use std::path::Path;

/// An MBTiles file opened read only.
pub fn mbtiles_open(path: &Path) -> Result<Connection> {
    let conn = Connection::open_with_flags(path, OpenFlags::SQLITE_OPEN_READ_ONLY | OpenFlags::SQLITE_OPEN_NO_MUTEX)?;
    Ok(conn)
}

/// A metadata value of an MBTiles file (`format`, `name`, `bounds`, ...).
pub fn mbtiles_metadata(conn: &Connection, name: &str) -> Result<Option<String>> {
    Ok(conn.query_row("SELECT value FROM metadata WHERE name = ?1", [name], |r| r.get(0)).optional()?)
}

/// The tile at zoom `z`, column `x`, row `y` counted from the top (XYZ); MBTiles rows count
/// from the bottom (TMS).
pub fn mbtiles_tile(conn: &Connection, z: u8, x: u32, y: u32) -> Result<Option<Vec<u8>>> {
    let tms_y = (1u64 << z) - 1 - u64::from(y);
    Ok(conn
        .query_row(
            "SELECT tile_data FROM tiles WHERE zoom_level = ?1 AND tile_column = ?2 AND tile_row = ?3",
            params![z, x, tms_y as i64],
            |r| r.get(0),
        )
        .optional()?)
}

/// The tile cache file, created if missing.
pub fn cache_open(path: &Path) -> Result<Connection> {
    let conn = Connection::open(path)?;
    conn.busy_timeout(std::time::Duration::from_secs(5))?;
    conn.execute_batch(
        "PRAGMA journal_mode = WAL;
         CREATE TABLE IF NOT EXISTS tiles (
             source TEXT NOT NULL, z INTEGER NOT NULL, x INTEGER NOT NULL, y INTEGER NOT NULL,
             content_type TEXT NOT NULL, data BLOB NOT NULL, size INTEGER NOT NULL,
             fetched_at INTEGER NOT NULL, used_at INTEGER NOT NULL,
             PRIMARY KEY (source, z, x, y));
         CREATE INDEX IF NOT EXISTS tiles_used ON tiles (used_at);",
    )?;
    Ok(conn)
}

/// A cached tile of `source` (content type, bytes), marked used at `now` (at most once an
/// hour, so reading stays mostly reading).
pub fn cache_get(conn: &Connection, source: &str, z: u8, x: u32, y: u32, now: i64) -> Result<Option<(String, Vec<u8>)>> {
    let row: Option<(String, Vec<u8>, i64)> = conn
        .query_row(
            "SELECT content_type, data, used_at FROM tiles WHERE source = ?1 AND z = ?2 AND x = ?3 AND y = ?4",
            params![source, z, x, y],
            |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)),
        )
        .optional()?;
    let Some((ct, data, used_at)) = row else { return Ok(None) };
    if now - used_at > 3600 {
        conn.execute("UPDATE tiles SET used_at = ?5 WHERE source = ?1 AND z = ?2 AND x = ?3 AND y = ?4", params![source, z, x, y, now])?;
    }
    Ok(Some((ct, data)))
}

/// Keep a fetched tile, then drop the least recently used tiles until the cache holds at
/// most `max_bytes`. Returns the bytes held after.
#[allow(clippy::too_many_arguments)]
pub fn cache_put(conn: &mut Connection, source: &str, z: u8, x: u32, y: u32, content_type: &str, data: &[u8], now: i64, max_bytes: i64) -> Result<i64> {
    let tx = conn.transaction()?;
    tx.execute(
        "INSERT OR REPLACE INTO tiles (source, z, x, y, content_type, data, size, fetched_at, used_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?8)",
        params![source, z, x, y, content_type, data, data.len() as i64, now],
    )?;
    let mut total: i64 = tx.query_row("SELECT COALESCE(SUM(size), 0) FROM tiles", [], |r| r.get(0))?;
    if total > max_bytes {
        let victims: Vec<(i64, i64)> = {
            let mut stmt = tx.prepare("SELECT rowid, size FROM tiles ORDER BY used_at, fetched_at, rowid")?;
            let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
            let mut out = Vec::new();
            for row in rows {
                let (id, size): (i64, i64) = row?;
                if total <= max_bytes {
                    break;
                }
                total -= size;
                out.push((id, size));
            }
            out
        };
        for (id, _) in victims {
            tx.execute("DELETE FROM tiles WHERE rowid = ?1", [id])?;
        }
    }
    tx.commit()?;
    Ok(total)
}

/// Tiles and bytes held by the cache.
pub fn cache_size(conn: &Connection) -> Result<(i64, i64)> {
    Ok(conn.query_row("SELECT COUNT(*), COALESCE(SUM(size), 0) FROM tiles", [], |r| Ok((r.get(0)?, r.get(1)?)))?)
}
