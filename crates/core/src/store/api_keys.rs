//! Table `api_keys`: the open API's clients (billing systems, portals). Only a hash of each
//! secret is kept.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// A key as stored (never its secret).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApiKey {
    pub id: i64,
    pub name: String,
    /// The secret's first characters, to recognise it.
    pub prefix: String,
    /// Space-separated scopes.
    pub scopes: String,
    /// Comma-separated group ids (None: every meter).
    pub group_ids: Option<String>,
    pub customer_id: Option<i64>,
    pub expires_at: Option<i64>,
    pub rate_per_minute: i64,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
}

pub struct NewApiKey<'a> {
    pub name: &'a str,
    pub prefix: &'a str,
    pub secret_hash: &'a str,
    pub scopes: &'a str,
    pub group_ids: Option<&'a str>,
    pub customer_id: Option<i64>,
    pub expires_at: Option<i64>,
    pub rate_per_minute: i64,
    pub created_by: &'a str,
}

const COLUMNS: &str = "id, name, prefix, scopes, group_ids, customer_id, expires_at, rate_per_minute, created_at, created_by, revoked_at, last_used_at";

fn row(r: &rusqlite::Row<'_>) -> rusqlite::Result<ApiKey> {
    Ok(ApiKey {
        id: r.get(0)?,
        name: r.get(1)?,
        prefix: r.get(2)?,
        scopes: r.get(3)?,
        group_ids: r.get(4)?,
        customer_id: r.get(5)?,
        expires_at: r.get(6)?,
        rate_per_minute: r.get(7)?,
        created_at: r.get(8)?,
        created_by: r.get(9)?,
        revoked_at: r.get(10)?,
        last_used_at: r.get(11)?,
    })
}

pub fn insert(conn: &Connection, k: &NewApiKey<'_>, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO api_keys(name, prefix, secret_hash, scopes, group_ids, customer_id, expires_at, rate_per_minute, created_at, created_by)
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10)",
        params![k.name, k.prefix, k.secret_hash, k.scopes, k.group_ids, k.customer_id, k.expires_at, k.rate_per_minute, now, k.created_by],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn name_taken(conn: &Connection, name: &str) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS(SELECT 1 FROM api_keys WHERE name = ?1)", [name], |r| r.get(0))?)
}

/// The key whose secret hashes to `hash`.
pub fn by_hash(conn: &Connection, hash: &str) -> Result<Option<ApiKey>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE secret_hash = ?1"))?
        .query_row([hash], row)
        .optional()?)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<ApiKey>> {
    Ok(conn.prepare_cached(&format!("SELECT {COLUMNS} FROM api_keys WHERE id = ?1"))?.query_row([id], row).optional()?)
}

/// Every key, newest first.
pub fn all(conn: &Connection) -> Result<Vec<ApiKey>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM api_keys ORDER BY id DESC"))?;
    let rows = stmt.query_map([], row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Revoke key `id` (once): true if it was active.
pub fn revoke(conn: &Connection, id: i64, now: i64) -> Result<bool> {
    Ok(conn.execute("UPDATE api_keys SET revoked_at = ?2 WHERE id = ?1 AND revoked_at IS NULL", params![id, now])? == 1)
}

/// Mark key `id` used at `now`.
pub fn touch(conn: &Connection, id: i64, now: i64) -> Result<()> {
    conn.prepare_cached("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1")?.execute(params![id, now])?;
    Ok(())
}
