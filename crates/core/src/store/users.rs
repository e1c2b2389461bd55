//! Table `users` and the permission matrix `role_permissions`.

use crate::access::Role;
use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};

pub struct User {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub role: String,
    pub password_hash: String,
    pub locale: String,
    pub active: bool,
    pub must_change_password: bool,
    pub last_login: Option<i64>,
}

pub struct NewUser<'a> {
    /// A fixed password salt, for reproducible demo databases only; None: random.
    pub salt: Option<[u8; 16]>,
    pub login: &'a str,
    pub name: &'a str,
    pub role: Role,
    pub password: &'a str,
    pub locale: &'a str,
}

pub fn by_login(conn: &Connection, login: &str) -> Result<Option<User>> {
    by(conn, "login = ?1", login)
}

pub fn by_id(conn: &Connection, id: i64) -> Result<Option<User>> {
    by(conn, "id = ?1", id)
}

fn by(conn: &Connection, condition: &str, key: impl rusqlite::ToSql) -> Result<Option<User>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {COLUMNS} FROM users WHERE {condition}"))?
        .query_row(
            [key],
            user_row,
        )
        .optional()?)
}

const COLUMNS: &str = "id, login, name, role, password_hash, locale, active, must_change_password, last_login";

fn user_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<User> {
    Ok(User {
        id: r.get(0)?,
        login: r.get(1)?,
        name: r.get(2)?,
        role: r.get(3)?,
        password_hash: r.get(4)?,
        locale: r.get(5)?,
        active: r.get(6)?,
        must_change_password: r.get(7)?,
        last_login: r.get(8)?,
    })
}

/// Every user, by login.
pub fn all(conn: &Connection) -> Result<Vec<User>> {
    let mut stmt = conn.prepare(&format!("SELECT {COLUMNS} FROM users ORDER BY login"))?;
    let rows = stmt.query_map([], user_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many active users have `role`.
pub fn active_with_role(conn: &Connection, role: &str) -> Result<i64> {
    Ok(conn.query_row("SELECT COUNT(*) FROM users WHERE active = 1 AND role = ?1", [role], |r| r.get(0))?)
}

/// A new password hash; `must_change`: the user must choose a new password at the next login.
pub fn set_password(conn: &Connection, user_id: i64, password_hash: &str, must_change: bool) -> Result<()> {
    conn.execute(
        "UPDATE users SET password_hash = ?1, must_change_password = ?2 WHERE id = ?3",
        params![password_hash, must_change, user_id],
    )?;
    Ok(())
}

/// A stronger hash of the same password (the upgrade at login): the flag stays.
pub fn upgrade_hash(conn: &Connection, user_id: i64, password_hash: &str) -> Result<()> {
    conn.execute("UPDATE users SET password_hash = ?1 WHERE id = ?2", params![password_hash, user_id])?;
    Ok(())
}

pub fn set_last_login(conn: &Connection, user_id: i64, at: i64) -> Result<()> {
    conn.execute("UPDATE users SET last_login = ?1 WHERE id = ?2", params![at, user_id])?;
    Ok(())
}

pub fn set_active(conn: &Connection, user_id: i64, active: bool) -> Result<()> {
    conn.execute("UPDATE users SET active = ?1 WHERE id = ?2", params![active, user_id])?;
    Ok(())
}

pub fn set_role(conn: &Connection, user_id: i64, role: &str) -> Result<()> {
    conn.execute("UPDATE users SET role = ?1 WHERE id = ?2", params![role, user_id])?;
    Ok(())
}

/// Replace the permissions of `role` in the matrix.
pub fn set_permissions(conn: &Connection, role: &str, permissions: &[&str]) -> Result<()> {
    conn.execute("DELETE FROM role_permissions WHERE role = ?1", [role])?;
    let mut stmt = conn.prepare_cached("INSERT INTO role_permissions(role, permission) VALUES (?1, ?2)")?;
    for p in permissions {
        stmt.execute([role, p])?;
    }
    Ok(())
}

/// A new user; `must_change`: the password is a temporary one, to be changed at first login.
pub fn insert(conn: &Connection, new: &NewUser<'_>, password_hash: &str, must_change: bool, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO users(login, name, role, password_hash, locale, created_at, must_change_password) VALUES (?1,?2,?3,?4,?5,?6,?7)",
        params![new.login, new.name, new.role.as_str(), password_hash, new.locale, now, must_change],
    )?;
    Ok(conn.last_insert_rowid())
}

pub fn set_locale(conn: &Connection, user_id: i64, locale: &str) -> Result<()> {
    conn.execute("UPDATE users SET locale = ?1 WHERE id = ?2", params![locale, user_id])?;
    Ok(())
}

pub fn permissions_of(conn: &Connection, role: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached("SELECT permission FROM role_permissions WHERE role = ?1")?;
    let rows = stmt.query_map([role], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<Vec<String>>>()?)
}
