//! Table `compact_formats`: compact-frame layouts learned from full frames.

use crate::error::Result;
use rusqlite::{params, Connection};

pub fn all(conn: &Connection) -> Result<Vec<(u16, Vec<u8>)>> {
    let mut stmt = conn.prepare("SELECT signature, layout FROM compact_formats")?;
    let rows = stmt.query_map([], |r| Ok((r.get::<_, i64>(0)?, r.get::<_, Vec<u8>>(1)?)))?;
    let mut out = Vec::new();
    for row in rows {
        let (sig, layout) = row?;
        if let Ok(sig) = u16::try_from(sig) {
            out.push((sig, layout));
        }
    }
    Ok(out)
}

/// Remember a layout; true if it was new.
pub fn insert(conn: &Connection, signature: u16, layout: &[u8], now: i64) -> Result<bool> {
    let n = conn
        .prepare_cached("INSERT OR IGNORE INTO compact_formats(signature, layout, learned_at) VALUES (?1, ?2, ?3)")?
        .execute(params![i64::from(signature), layout, now])?;
    Ok(n == 1)
}
