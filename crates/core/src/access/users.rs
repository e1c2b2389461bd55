//! Users administration (the manager: `ManageUsers`) and each clerk's own password.
//! Managers are never locked out: a manager cannot deactivate themself, and the last active
//! manager can be neither deactivated nor given another role.

use super::{create_user_as, password, password_cost, Permission, Role, Session};
use crate::error::{Error, Result};
use crate::store::{self, Store};
use serde::Serialize;

/// The shortest password a clerk may choose (and a manager may give as a temporary one).
pub const MIN_PASSWORD_CHARS: usize = 10;

/// A row of the users screen.
#[derive(Debug, Clone, Serialize)]
pub struct UserRow {
    pub id: i64,
    pub login: String,
    pub name: String,
    pub role: String,
    pub active: bool,
    pub last_login: Option<i64>,
    pub must_change_password: bool,
    /// The end of a running lock on this login, if any.
    pub locked_until: Option<i64>,
}

/// Every user, by login, with their last login and running lock.
pub fn users_list(store: &Store, session: &Session, now: i64) -> Result<Vec<UserRow>> {
    session.permit(Permission::ManageUsers)?;
    let conn = store.reader()?;
    let locks = store::logins::active(&conn, now)?;
    Ok(store::users::all(&conn)?
        .into_iter()
        .map(|u| UserRow {
            locked_until: locks.iter().filter(|l| l.kind == "login" && l.key == u.login).map(|l| l.until).max(),
            id: u.id,
            login: u.login,
            name: u.name,
            role: u.role,
            active: u.active,
            last_login: u.last_login,
            must_change_password: u.must_change_password,
        })
        .collect())
}

/// Create a user with a temporary password (changed at their first login).
pub fn user_create(store: &Store, session: &Session, new: &store::users::NewUser<'_>, now: i64) -> Result<i64> {
    let permit = session.permit(Permission::ManageUsers)?;
    let login = new.login.trim();
    if login.is_empty() || login.chars().count() > 100 || login.chars().any(char::is_whitespace) {
        return Err(Error::bad_input("login", format!("'{}' must be 1 to 100 characters without spaces", new.login)));
    }
    if new.name.trim().is_empty() {
        return Err(Error::bad_input("name", "the user's name is empty"));
    }
    if new.locale != "fr" && new.locale != "en" {
        return Err(Error::bad_input("locale", format!("'{}' is not one of fr, en", new.locale)));
    }
    check_new_password(login, new.password)?;
    let new = store::users::NewUser { login, name: new.name.trim(), ..*new };
    create_user_as(store, permit, &new, true, now)
}

fn user(conn: &rusqlite::Connection, id: i64) -> Result<store::users::User> {
    store::users::by_id(conn, id)?.ok_or_else(|| Error::not_found(format!("user {id}")))
}

/// Deactivate (their sessions end at their next command, on every front) or reactivate a user.
pub fn user_set_active(store: &Store, session: &Session, id: i64, active: bool, now: i64) -> Result<()> {
    let permit = session.permit(Permission::ManageUsers)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let u = user(&tx, id)?;
    if !active {
        if u.id == session.user_id {
            return Err(Error::UserGuard { rule: "own_account", login: u.login });
        }
        if u.active && u.role == "manager" && store::users::active_with_role(&tx, "manager")? <= 1 {
            return Err(Error::UserGuard { rule: "last_manager", login: u.login });
        }
    }
    store::users::set_active(&tx, id, active)?;
    let event = if active { "user_reactivated" } else { "user_deactivated" };
    store::audit::record_permit(&tx, permit, now, event, &u.login)?;
    tx.commit()?;
    Ok(())
}

/// Give a user a temporary password: they must change it at their next login.
pub fn user_reset_password(store: &Store, session: &Session, id: i64, temporary: &str, now: i64) -> Result<()> {
    let permit = session.permit(Permission::ManageUsers)?;
    let (u, cost) = {
        let conn = store.reader()?;
        (user(&conn, id)?, password_cost(&conn)?)
    };
    check_new_password(&u.login, temporary)?;
    let hash = password::hash_password(temporary, None, cost);
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::users::set_password(&tx, id, &hash, true)?;
    store::audit::record_permit(&tx, permit, now, "user_password_reset", &u.login)?;
    tx.commit()?;
    Ok(())
}

/// Change a user's role; the last active manager keeps theirs.
pub fn user_set_role(store: &Store, session: &Session, id: i64, role: Role, now: i64) -> Result<()> {
    let permit = session.permit(Permission::ManageUsers)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let u = user(&tx, id)?;
    if u.role == "manager" && role != Role::Manager && u.active && store::users::active_with_role(&tx, "manager")? <= 1 {
        return Err(Error::UserGuard { rule: "last_manager", login: u.login });
    }
    store::users::set_role(&tx, id, role.as_str())?;
    store::audit::record_permit(&tx, permit, now, "user_role_changed", &format!("{}: {} -> {}", u.login, u.role, role.as_str()))?;
    tx.commit()?;
    Ok(())
}

/// The session's user changes their own password: the current one is asked; the new one has
/// at least [`MIN_PASSWORD_CHARS`] characters, is not the login and not the current one.
pub fn password_change(store: &Store, session: &Session, old: &str, new: &str, now: i64) -> Result<()> {
    let (u, cost) = {
        let conn = store.reader()?;
        (store::users::by_id(&conn, session.user_id)?.ok_or(Error::NotLoggedIn)?, password_cost(&conn)?)
    };
    if !password::verify_password(old, &u.password_hash, cost).ok {
        return Err(Error::Password { rule: "password_wrong_old", min: MIN_PASSWORD_CHARS });
    }
    if old == new {
        return Err(Error::Password { rule: "password_unchanged", min: MIN_PASSWORD_CHARS });
    }
    check_new_password(&u.login, new)?;
    let hash = password::hash_password(new, None, cost);
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::users::set_password(&tx, u.id, &hash, false)?;
    store::audit::record(&tx, now, "password_changed", &session.login, &session.computer, "")?;
    tx.commit()?;
    Ok(())
}

fn check_new_password(login: &str, password: &str) -> Result<()> {
    if password.chars().count() < MIN_PASSWORD_CHARS {
        return Err(Error::Password { rule: "password_too_short", min: MIN_PASSWORD_CHARS });
    }
    if password.trim().eq_ignore_ascii_case(login.trim()) {
        return Err(Error::Password { rule: "password_is_login", min: MIN_PASSWORD_CHARS });
    }
    Ok(())
}
