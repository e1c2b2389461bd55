//! Tables `imports`, `import_rejects` and `reading_conflicts`: one row per imported file
//! (committed a chunk at a time, with its counts so far), its rejected lines and the
//! readings it could not store because another value was already there.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};

/// The file an import reads, so that an interrupted import of it can be told.
pub struct Source<'a> {
    pub name: &'a str,
    pub size: u64,
    pub hash: &'a str,
}

pub fn start(conn: &Connection, user: &str, source: &Source<'_>, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO imports(started_at, user, source, state, file_size, file_hash)
         VALUES (?1, ?2, ?3, 'running', ?4, ?5)",
        params![now, user, source.name, source.size as i64, source.hash],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The counts of an import's committed lines.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Counts {
    pub lines: u64,
    pub telegrams: u64,
    pub stored: u64,
    pub duplicates: u64,
    pub kept_undecoded: u64,
    pub readings: u64,
    pub new_meters: u64,
    pub conflicts: u64,
    pub heard: u64,
    pub rejected: u64,
}

/// Record a committed chunk: the counts so far and the first line not yet committed.
pub fn progress(conn: &Connection, id: i64, c: &Counts, next_line: u64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE imports SET lines = ?2, telegrams = ?3, stored = ?4, duplicates = ?5, kept_undecoded = ?6,
             readings = ?7, new_meters = ?8, conflicts = ?9, heard = ?10, rejected = ?11,
             next_line = ?12
         WHERE id = ?1",
    )?
    .execute(params![
        id,
        c.lines as i64,
        c.telegrams as i64,
        c.stored as i64,
        c.duplicates as i64,
        c.kept_undecoded as i64,
        c.readings as i64,
        c.new_meters as i64,
        c.conflicts as i64,
        c.heard as i64,
        c.rejected as i64,
        next_line as i64
    ])?;
    Ok(())
}

/// The import ended: `done`, or `failed` with the error in words.
pub fn finish(conn: &Connection, id: i64, error: Option<&str>, now: i64) -> Result<()> {
    let state = if error.is_some() { "failed" } else { "done" };
    conn.execute(
        "UPDATE imports SET finished_at = ?2, state = ?3, error = ?4 WHERE id = ?1",
        params![id, now, state, error],
    )?;
    Ok(())
}

pub fn reject(conn: &Connection, import_id: i64, line: u64, code: &str, reason: &str) -> Result<()> {
    conn.prepare_cached("INSERT OR REPLACE INTO import_rejects(import_id, line, code, reason) VALUES (?1,?2,?3,?4)")?
        .execute(params![import_id, line as i64, code, reason])?;
    Ok(())
}

/// A reading not stored because its meter already had another value at that time.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub line: u64,
    pub meter_id: i64,
    pub register: i64,
    pub ts: i64,
    pub kept_value: f64,
    pub kept_telegram: Option<i64>,
    pub other_value: f64,
    pub other_telegram: Option<i64>,
}

pub fn conflict(conn: &Connection, import_id: i64, c: &Conflict) -> Result<()> {
    conn.prepare_cached(
        "INSERT OR REPLACE INTO reading_conflicts(import_id, line, meter_id, register, ts, kept_value, kept_telegram,
             other_value, other_telegram) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)",
    )?
    .execute(params![
        import_id,
        c.line as i64,
        c.meter_id,
        c.register,
        c.ts,
        c.kept_value,
        c.kept_telegram,
        c.other_value,
        c.other_telegram
    ])?;
    Ok(())
}

/// An import of a file that did not end (its process died): its id and the first line it
/// had not committed.
#[derive(Debug, Clone, Copy)]
pub struct Unfinished {
    pub id: i64,
    pub next_line: u64,
}

/// The last import of a file with this content that did not end: a new import of the same
/// file tells how far it had come.
pub fn unfinished_of_hash(conn: &Connection, hash: &str) -> Result<Option<Unfinished>> {
    Ok(conn
        .query_row(
            "SELECT id, next_line FROM imports WHERE state = 'running' AND file_hash = ?1 ORDER BY id DESC LIMIT 1",
            [hash],
            |r| Ok(Unfinished { id: r.get(0)?, next_line: r.get::<_, i64>(1)?.max(0) as u64 }),
        )
        .optional()?)
}

/// Mark an import that will never end (its process died) as interrupted at its next line.
pub fn interrupted(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE imports SET state = 'failed', finished_at = ?2,
             error = 'interrupted at line ' || next_line || ': imported again from the same file' WHERE id = ?1 AND state = 'running'",
        params![id, now],
    )?;
    Ok(())
}
