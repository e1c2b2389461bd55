//! Table `sources`: concentrators, gateways and brokers that deliver readings by themselves.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Source {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub format: String,
    /// The largest body a push may carry, bytes.
    pub max_body: i64,
    pub enabled: bool,
    pub created_at: i64,
    #[serde(skip)]
    pub token_hash: Option<String>,
    /// Where a folder source's files arrive.
    pub folder: Option<String>,
    pub last_push_at: Option<i64>,
    pub telegrams_total: i64,
    pub last_error_code: Option<String>,
    pub last_error_message: Option<String>,
    pub last_error_at: Option<i64>,
    /// Telegrams delivered in the last 10 minutes, per minute (filled by `list`).
    pub per_minute: f64,
    /// An MQTT source's broker (`mqtt://host:port` or `mqtts://host:port`) and topic filter.
    pub url: Option<String>,
    pub topic: Option<String>,
    pub username: Option<String>,
    /// Never shown back.
    #[serde(skip)]
    pub password: Option<String>,
    /// PEM files: the broker's CA, this client's certificate and key.
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
    /// An MQTT source's connection: connecting, running, reconnecting or stopped, since when,
    /// and while reconnecting why (a code for the screen and the broker's or network's words).
    pub state: Option<String>,
    pub state_at: Option<i64>,
    pub state_code: Option<String>,
    pub state_message: Option<String>,
}

const COLUMNS: &str = "id, name, kind, format, max_body, enabled, created_at, token_hash, last_push_at, telegrams_total,
    last_error_code, last_error_message, last_error_at, folder, url, topic, username, password, ca_file, cert_file, key_file,
    state, state_at, state_code, state_message";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Source> {
    Ok(Source {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        format: r.get(3)?,
        max_body: r.get(4)?,
        enabled: r.get(5)?,
        created_at: r.get(6)?,
        token_hash: r.get(7)?,
        last_push_at: r.get(8)?,
        telegrams_total: r.get(9)?,
        last_error_code: r.get(10)?,
        last_error_message: r.get(11)?,
        last_error_at: r.get(12)?,
        folder: r.get(13)?,
        per_minute: 0.0,
        url: r.get(14)?,
        topic: r.get(15)?,
        username: r.get(16)?,
        password: r.get(17)?,
        ca_file: r.get(18)?,
        cert_file: r.get(19)?,
        key_file: r.get(20)?,
        state: r.get(21)?,
        state_at: r.get(22)?,
        state_code: r.get(23)?,
        state_message: r.get(24)?,
    })
}

pub struct NewSource<'a> {
    pub name: &'a str,
    pub kind: &'a str,
    pub format: &'a str,
    pub token_hash: Option<&'a str>,
    pub folder: Option<&'a str>,
    pub max_body: i64,
    pub mqtt: Option<Broker<'a>>,
}

/// An MQTT source's broker and what it subscribes to.
#[derive(Default)]
pub struct Broker<'a> {
    pub url: &'a str,
    pub topic: &'a str,
    pub username: Option<&'a str>,
    pub password: Option<&'a str>,
    pub ca_file: Option<&'a str>,
    pub cert_file: Option<&'a str>,
    pub key_file: Option<&'a str>,
}

pub fn insert(conn: &Connection, s: &NewSource<'_>, now: i64) -> Result<i64> {
    let b = s.mqtt.as_ref();
    conn.execute(
        "INSERT INTO sources(name, kind, format, token_hash, folder, max_body, created_at,
             url, topic, username, password, ca_file, cert_file, key_file) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
        params![
            s.name,
            s.kind,
            s.format,
            s.token_hash,
            s.folder,
            s.max_body,
            now,
            b.map(|b| b.url),
            b.map(|b| b.topic),
            b.and_then(|b| b.username),
            b.and_then(|b| b.password),
            b.and_then(|b| b.ca_file),
            b.and_then(|b| b.cert_file),
            b.and_then(|b| b.key_file),
        ],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn by_name(conn: &Connection, name: &str) -> Result<Option<Source>> {
    Ok(conn.query_row(&format!("SELECT {COLUMNS} FROM sources WHERE name = ?1"), [name], row).optional()?)
}

/// Every source, by name (`per_minute` left at 0).
pub fn all(conn: &Connection) -> Result<Vec<Source>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM sources ORDER BY name"))?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every source, with its rate over the 10 minutes before `now` (from its imports).
pub fn list(conn: &Connection, now: i64) -> Result<Vec<Source>> {
    let mut sources = all(conn)?;
    let mut rate = conn.prepare(
        "SELECT coalesce(sum(telegrams), 0) FROM imports WHERE (source = 'push to ' || ?1 OR substr(source, 1, length(?1) + 2) = ?1 || ': ')
             AND started_at > ?2 AND started_at <= ?3",
    )?;
    for s in &mut sources {
        let telegrams: i64 = rate.query_row(params![s.name, now - 600, now], |r| r.get(0))?;
        s.per_minute = telegrams as f64 / 10.0;
    }
    Ok(sources)
}

/// A delivery of `telegrams` was stored.
pub fn delivered(conn: &Connection, id: i64, telegrams: u64, now: i64) -> Result<()> {
    conn.execute(
        "UPDATE sources SET last_push_at = ?2, telegrams_total = telegrams_total + ?3 WHERE id = ?1",
        params![id, now, telegrams as i64],
    )?;
    Ok(())
}

/// A delivery was refused: its code and message.
pub fn refused(conn: &Connection, id: i64, code: &str, message: &str, now: i64) -> Result<()> {
    let message: String = message.chars().take(500).collect();
    conn.execute(
        "UPDATE sources SET last_error_code = ?2, last_error_message = ?3, last_error_at = ?4 WHERE id = ?1",
        params![id, code, message, now],
    )?;
    Ok(())
}

pub fn delete(conn: &Connection, name: &str) -> Result<bool> {
    conn.execute("DELETE FROM source_log WHERE source_id IN (SELECT id FROM sources WHERE name = ?1)", [name])?;
    Ok(conn.execute("DELETE FROM sources WHERE name = ?1", [name])? == 1)
}

/// An MQTT source's connection is now `state`; `why` (code, message) while reconnecting.
pub fn set_state(conn: &Connection, id: i64, state: &str, why: Option<(&str, &str)>, now: i64) -> Result<()> {
    let message = why.map(|(_, m)| m.chars().take(500).collect::<String>());
    conn.execute(
        "UPDATE sources SET state = ?2, state_at = ?3, state_code = ?4, state_message = ?5 WHERE id = ?1",
        params![id, state, now, why.map(|(c, _)| c), message],
    )?;
    Ok(())
}

/// How many entries of each source's log are kept.
pub const LOG_KEPT: i64 = 1000;

/// One entry of a source's log: something it received and could not take.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct LogEntry {
    pub at: i64,
    pub code: String,
    pub message: String,
    pub detail: String,
}

/// Log what source `id` could not take; only its last [`LOG_KEPT`] entries are kept.
pub fn log(conn: &Connection, id: i64, entry: &LogEntry) -> Result<()> {
    let cut = |s: &str, n: usize| s.chars().take(n).collect::<String>();
    conn.execute(
        "INSERT INTO source_log(source_id, at, code, message, detail) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![id, entry.at, entry.code, cut(&entry.message, 500), cut(&entry.detail, 2000)],
    )?;
    conn.execute(
        "DELETE FROM source_log WHERE source_id = ?1 AND id <= (SELECT id FROM source_log WHERE source_id = ?1 ORDER BY id DESC LIMIT 1 OFFSET ?2)",
        params![id, LOG_KEPT],
    )?;
    Ok(())
}

/// Source `id`'s log, newest first, at most `limit` entries.
pub fn log_list(conn: &Connection, id: i64, limit: i64) -> Result<Vec<LogEntry>> {
    let mut stmt = conn.prepare("SELECT at, code, message, detail FROM source_log WHERE source_id = ?1 ORDER BY id DESC LIMIT ?2")?;
    let rows = stmt.query_map(params![id, limit], |r| Ok(LogEntry { at: r.get(0)?, code: r.get(1)?, message: r.get(2)?, detail: r.get(3)? }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
