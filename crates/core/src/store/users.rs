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
        .prepare_cached(&format!("SELECT id, login, name, role, password_hash, locale, active FROM users WHERE {condition}"))?
        .query_row(
            [key],
            |r| {
                Ok(User {
                    id: r.get(0)?,
                    login: r.get(1)?,
                    name: r.get(2)?,
                    role: r.get(3)?,
                    password_hash: r.get(4)?,
                    locale: r.get(5)?,
                    active: r.get(6)?,
                })
            },
        )
        .optional()?)
}

pub fn insert(conn: &Connection, new: &NewUser<'_>, password_hash: &str, now: i64) -> Result<i64> {
    conn.execute(
        "INSERT INTO users(login, name, role, password_hash, locale, created_at) VALUES (?1,?2,?3,?4,?5,?6)",
        params![new.login, new.name, new.role.as_str(), password_hash, new.locale, now],
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
