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
    /// Rejected lines dated in the future (also counted in `rejected`).
    pub future: u64,
}

/// Record a committed chunk: the counts so far and the first line not yet committed.
pub fn progress(conn: &Connection, id: i64, c: &Counts, next_line: u64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE imports SET lines = ?2, telegrams = ?3, stored = ?4, duplicates = ?5, kept_undecoded = ?6,
             readings = ?7, new_meters = ?8, conflicts = ?9, heard = ?10, rejected = ?11,
             next_line = ?12, future = ?13
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
        next_line as i64,
        c.future as i64
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

/// A kept rejected line's text is cut at this many characters.
pub const MAX_RAW_CHARS: usize = 1000;

/// Keep the original text of the import's rejected lines still without it: `lines` are the
/// file's lines (numbered from 1) in order; one pass, stopping after the last rejected line.
pub fn keep_raw_lines<'a>(conn: &Connection, import_id: i64, lines: impl Iterator<Item = (u64, &'a [u8])>) -> Result<u64> {
    let wanted: Vec<i64> = {
        let mut q = conn.prepare("SELECT line FROM import_rejects WHERE import_id = ?1 AND raw IS NULL ORDER BY line")?;
        let rows = q.query_map([import_id], |r| r.get(0))?;
        rows.collect::<rusqlite::Result<_>>()?
    };
    let Some(&last) = wanted.last() else { return Ok(0) };
    let mut update = conn.prepare_cached("UPDATE import_rejects SET raw = ?3 WHERE import_id = ?1 AND line = ?2")?;
    let mut next = wanted.iter().peekable();
    let mut kept = 0;
    for (number, bytes) in lines {
        let n = number as i64;
        if n > last {
            break;
        }
        while next.peek().is_some_and(|w| **w < n) {
            next.next();
        }
        if next.peek() == Some(&&n) {
            let text: String = String::from_utf8_lossy(bytes).chars().take(MAX_RAW_CHARS).collect();
            update.execute(params![import_id, n, text])?;
            kept += 1;
        }
    }
    Ok(kept)
}

/// The latest import of a file with this content (its SHA-256 in hex).
pub fn latest_of_hash(conn: &Connection, hash: &str) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT id FROM imports WHERE file_hash = ?1 ORDER BY id DESC LIMIT 1", [hash], |r| r.get(0)).optional()?)
}

/// The journal's filters, in store terms: `from`/`to` Unix seconds (`to` excluded), `user`
/// the exact login, `source` a delivering source's name (`user` is `source:<name>`).
#[derive(Debug, Clone, Default)]
pub struct JournalFilter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub user: Option<String>,
    pub source: Option<String>,
    pub with_rejects: bool,
    /// One import only.
    pub id: Option<i64>,
}

/// One import in the journal.
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct JournalRow {
    pub id: i64,
    /// The file name (or a source's label for a delivery).
    pub name: String,
    /// The delivering source (`user` `source:<name>`); `null` for an import by a person.
    pub source: Option<String>,
    pub user: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub state: String,
    pub error: Option<String>,
    pub lines: u64,
    pub telegrams: u64,
    pub stored: u64,
    pub readings: u64,
    pub duplicates: u64,
    pub rejected: u64,
    pub future: u64,
    pub conflicts: u64,
    /// Rejected lines kept (the first ones; at most 1,000): the CSV holds these.
    pub rejects_kept: u64,
    pub file_size: Option<i64>,
}

fn journal_where(f: &JournalFilter) -> (String, Vec<rusqlite::types::Value>) {
    use rusqlite::types::Value;
    let mut clauses = Vec::new();
    let mut values: Vec<Value> = Vec::new();
    if let Some(from) = f.from {
        values.push(Value::Integer(from));
        clauses.push(format!("started_at >= ?{}", values.len()));
    }
    if let Some(to) = f.to {
        values.push(Value::Integer(to));
        clauses.push(format!("started_at < ?{}", values.len()));
    }
    if let Some(user) = &f.user {
        values.push(Value::Text(user.clone()));
        clauses.push(format!("user = ?{}", values.len()));
    }
    if let Some(source) = &f.source {
        values.push(Value::Text(format!("source:{source}")));
        clauses.push(format!("user = ?{}", values.len()));
    }
    if f.with_rejects {
        clauses.push("rejected > 0".into());
    }
    if let Some(id) = f.id {
        values.push(Value::Integer(id));
        clauses.push(format!("id = ?{}", values.len()));
    }
    let sql = if clauses.is_empty() { String::new() } else { format!("WHERE {}", clauses.join(" AND ")) };
    (sql, values)
}

/// A page of the journal, newest first, and how many imports match in all.
pub fn journal(conn: &Connection, f: &JournalFilter, limit: i64, offset: i64) -> Result<(u64, Vec<JournalRow>)> {
    let (clause, values) = journal_where(f);
    let total: i64 = conn.query_row(&format!("SELECT count(*) FROM imports {clause}"), rusqlite::params_from_iter(values.iter()), |r| r.get(0))?;
    let n = values.len();
    let sql = format!(
        "SELECT id, source, user, started_at, finished_at, state, error, lines, telegrams, stored, readings, duplicates,
             rejected, future, conflicts, file_size,
             (SELECT count(*) FROM import_rejects r WHERE r.import_id = imports.id)
         FROM imports {clause} ORDER BY started_at DESC, id DESC LIMIT ?{} OFFSET ?{}",
        n + 1,
        n + 2
    );
    let mut all = values;
    all.push(rusqlite::types::Value::Integer(limit));
    all.push(rusqlite::types::Value::Integer(offset));
    let mut q = conn.prepare(&sql)?;
    let count = |r: &rusqlite::Row<'_>, i: usize| -> rusqlite::Result<u64> { Ok(r.get::<_, i64>(i)?.max(0) as u64) };
    let rows = q.query_map(rusqlite::params_from_iter(all.iter()), |r| {
        let user: String = r.get(2)?;
        Ok(JournalRow {
            id: r.get(0)?,
            name: r.get(1)?,
            source: user.strip_prefix("source:").map(str::to_string),
            user,
            started_at: r.get(3)?,
            finished_at: r.get(4)?,
            state: r.get(5)?,
            error: r.get(6)?,
            lines: count(r, 7)?,
            telegrams: count(r, 8)?,
            stored: count(r, 9)?,
            readings: count(r, 10)?,
            duplicates: count(r, 11)?,
            rejected: count(r, 12)?,
            future: count(r, 13)?,
            conflicts: count(r, 14)?,
            file_size: r.get(15)?,
            rejects_kept: count(r, 16)?,
        })
    })?;
    Ok((total.max(0) as u64, rows.collect::<rusqlite::Result<_>>()?))
}

/// The logins of people who imported, and the sources that delivered (sorted).
pub fn journal_choices(conn: &Connection) -> Result<(Vec<String>, Vec<String>)> {
    let mut q = conn.prepare("SELECT DISTINCT user FROM imports ORDER BY user")?;
    let all: Vec<String> = q.query_map([], |r| r.get(0))?.collect::<rusqlite::Result<_>>()?;
    let (sources, users): (Vec<String>, Vec<String>) = all.into_iter().partition(|u| u.starts_with("source:"));
    Ok((users, sources.into_iter().map(|s| s["source:".len()..].to_string()).collect()))
}

/// One kept rejected line: its number, reason code and words, its original text (when kept).
#[derive(Debug, Clone, PartialEq)]
pub struct RejectRow {
    pub line: u64,
    pub code: String,
    pub reason: String,
    pub raw: Option<String>,
}

/// An import's row (file name) and its kept rejected lines in line order; `None`: no such import.
pub fn rejects(conn: &Connection, import_id: i64) -> Result<Option<(JournalRow, Vec<RejectRow>)>> {
    let f = JournalFilter { id: Some(import_id), ..JournalFilter::default() };
    let (_, mut rows) = journal(conn, &f, 1, 0)?;
    let Some(row) = rows.pop() else { return Ok(None) };
    let mut q = conn.prepare("SELECT line, code, reason, raw FROM import_rejects WHERE import_id = ?1 ORDER BY line")?;
    let lines = q
        .query_map([import_id], |r| Ok(RejectRow { line: r.get::<_, i64>(0)?.max(0) as u64, code: r.get(1)?, reason: r.get(2)?, raw: r.get(3)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some((row, lines)))
}
