//! Tables `login_failures` and `login_locks`: failed logins per login and per client address,
//! and what is locked until when (see `access::throttle`).

use crate::error::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

/// `login` or `address`: what a failure counts against and what a lock holds.
pub const KINDS: [&str; 2] = ["login", "address"];

pub fn record_failure(conn: &Connection, at: i64, login: &str, address: &str) -> Result<()> {
    conn.prepare_cached("INSERT INTO login_failures(at, login, address) VALUES (?1, ?2, ?3)")?
        .execute(params![at, login, address])?;
    Ok(())
}

/// Failures against `key` (a login, or an address per `kind`) at or after `since`.
pub fn failures_since(conn: &Connection, kind: &str, key: &str, since: i64) -> Result<i64> {
    let sql = if kind == "login" {
        "SELECT COUNT(*) FROM login_failures WHERE login = ?1 AND at >= ?2"
    } else {
        "SELECT COUNT(*) FROM login_failures WHERE address = ?1 AND at >= ?2"
    };
    Ok(conn.prepare_cached(sql)?.query_row(params![key, since], |r| r.get(0))?)
}

/// Forget failures older than `before` (outside every window).
pub fn forget_before(conn: &Connection, before: i64) -> Result<()> {
    conn.prepare_cached("DELETE FROM login_failures WHERE at < ?1")?.execute([before])?;
    Ok(())
}

/// Forget the failures against `key` (a successful login, an unlock).
pub fn forget(conn: &Connection, kind: &str, key: &str) -> Result<()> {
    let sql = if kind == "login" {
        "DELETE FROM login_failures WHERE login = ?1"
    } else {
        "DELETE FROM login_failures WHERE address = ?1"
    };
    conn.prepare_cached(sql)?.execute([key])?;
    Ok(())
}

pub fn lock(conn: &Connection, kind: &str, key: &str, until: i64, failures: i64, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO login_locks(kind, key, until, failures, locked_at) VALUES (?1, ?2, ?3, ?4, ?5)
         ON CONFLICT(kind, key) DO UPDATE SET until = excluded.until, failures = excluded.failures, locked_at = excluded.locked_at",
    )?
    .execute(params![kind, key, until, failures, now])?;
    Ok(())
}

/// The latest end of a lock on `login` or `address` still running at `now`.
pub fn locked_until(conn: &Connection, login: &str, address: &str, now: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(
            "SELECT MAX(until) FROM login_locks
             WHERE until > ?3 AND ((kind = 'login' AND key = ?1) OR (kind = 'address' AND key = ?2))",
        )?
        .query_row(params![login, address, now], |r| r.get(0))?)
}

/// Remove the lock on `key`; whether there was one.
pub fn unlock(conn: &Connection, kind: &str, key: &str) -> Result<bool> {
    Ok(conn.prepare_cached("DELETE FROM login_locks WHERE kind = ?1 AND key = ?2")?.execute([kind, key])? > 0)
}

#[derive(Debug, Clone, Serialize)]
pub struct Lock {
    pub kind: String,
    pub key: String,
    pub until: i64,
    pub failures: i64,
    pub locked_at: i64,
}

/// The locks still running at `now`, newest first.
pub fn active(conn: &Connection, now: i64) -> Result<Vec<Lock>> {
    let mut stmt = conn.prepare(
        "SELECT kind, key, until, failures, locked_at FROM login_locks WHERE until > ?1 ORDER BY locked_at DESC, kind, key",
    )?;
    let rows = stmt.query_map([now], |r| {
        Ok(Lock { kind: r.get(0)?, key: r.get(1)?, until: r.get(2)?, failures: r.get(3)?, locked_at: r.get(4)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
