//! Tables `imports` and `import_rejects`: one row per imported file and its rejected lines.

use crate::error::Result;
use rusqlite::{params, Connection};

pub fn start(conn: &Connection, user: &str, source: &str, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO imports(started_at, user, source) VALUES (?1, ?2, ?3)",
        params![now, user, source],
    )?;
    Ok(conn.last_insert_rowid())
}

pub struct Counts {
    pub lines: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub rejected: u64,
}

pub fn finish(conn: &Connection, id: i64, c: &Counts, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE imports SET finished_at = ?2, lines = ?3, stored = ?4, duplicates = ?5, rejected = ?6 WHERE id = ?1",
        params![id, now, c.lines as i64, c.stored as i64, c.duplicates as i64, c.rejected as i64],
    )?;
    Ok(())
}

pub fn reject(conn: &Connection, import_id: i64, line: u64, code: &str, reason: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO import_rejects(import_id, line, code, reason) VALUES (?1,?2,?3,?4)")?
        .execute(params![import_id, line as i64, code, reason])?;
    Ok(())
}
