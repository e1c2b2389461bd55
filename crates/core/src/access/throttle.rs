//! Failed logins slowed down and then locked, per login and per client address: after
//! `login_max_failures` failures of one login (or `login_max_failures_address` from one
//! address) within `login_window_minutes`, that login (address) is refused for
//! `login_lock_minutes`, whatever the password, until the lock ends or a manager unlocks it.
//! Failures and locks live in the database, so `releve serve`, the desktop window and the CLI
//! count the same ones. Sessions end after `session_idle_minutes` without a command.

use super::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::{self, Store};
use rusqlite::Connection;
use serde::{Deserialize, Serialize};

/// The login and session settings, within their bounds.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct LoginSettings {
    /// Failures of one login within the window that lock it.
    pub max_failures: i64,
    /// Failures from one client address within the window that lock it (several logins).
    pub max_failures_address: i64,
    pub window_minutes: i64,
    pub lock_minutes: i64,
    /// A session unused this long ends.
    pub session_idle_minutes: i64,
}

/// (setting key, default, min, max) of each field, in the struct's order.
const FIELDS: [(&str, i64, i64, i64); 5] = [
    ("login_max_failures", 5, 3, 50),
    ("login_max_failures_address", 20, 5, 500),
    ("login_window_minutes", 15, 1, 1440),
    ("login_lock_minutes", 15, 1, 1440),
    ("session_idle_minutes", 30, 5, 1440),
];

impl LoginSettings {
    /// The settings as stored; a missing or unreadable one is its default, one outside its
    /// bounds is brought within them.
    pub fn read(conn: &Connection) -> Result<LoginSettings> {
        let mut v = [0i64; 5];
        for (i, (key, default, min, max)) in FIELDS.iter().enumerate() {
            let stored = store::settings::get(conn, key)?.and_then(|s| s.trim().parse::<i64>().ok());
            v[i] = stored.unwrap_or(*default).clamp(*min, *max);
        }
        Ok(LoginSettings {
            max_failures: v[0],
            max_failures_address: v[1],
            window_minutes: v[2],
            lock_minutes: v[3],
            session_idle_minutes: v[4],
        })
    }

    fn values(&self) -> [i64; 5] {
        [self.max_failures, self.max_failures_address, self.window_minutes, self.lock_minutes, self.session_idle_minutes]
    }
}

/// The login and session settings (manager: `Settings`).
pub fn login_settings(store: &Store, session: &Session) -> Result<LoginSettings> {
    session.permit(Permission::Settings)?;
    LoginSettings::read(&*store.reader()?)
}

/// Change the login and session settings; each outside its bounds is refused, naming it.
pub fn login_settings_set(store: &Store, session: &Session, new: &LoginSettings, now: i64) -> Result<LoginSettings> {
    let permit = session.permit(Permission::Settings)?;
    for ((key, _, min, max), value) in FIELDS.iter().zip(new.values()) {
        if !(*min..=*max).contains(&value) {
            return Err(Error::bad_input(*key, format!("{value} is not between {min} and {max}")));
        }
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    for ((key, ..), value) in FIELDS.iter().zip(new.values()) {
        store::settings::set(&tx, key, &value.to_string())?;
    }
    let details = FIELDS.iter().zip(new.values()).map(|((k, ..), v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ");
    store::audit::record_permit(&tx, permit, now, "login_settings_changed", &details)?;
    tx.commit()?;
    Ok(*new)
}

/// Count a failed login of `login` from `address` (inside the caller's transaction); lock the
/// login and/or the address when it reaches the limit, with an audit entry.
pub(crate) fn failed(conn: &Connection, limits: &LoginSettings, login: &str, address: &str, computer: &str, now: i64) -> Result<()> {
    let since = now - limits.window_minutes * 60;
    store::logins::forget_before(conn, since)?;
    store::logins::record_failure(conn, now, login, address)?;
    let until = now + limits.lock_minutes * 60;
    for (kind, key, max) in [("login", login, limits.max_failures), ("address", address, limits.max_failures_address)] {
        let failures = store::logins::failures_since(conn, kind, key, since)?;
        if failures >= max {
            store::logins::lock(conn, kind, key, until, failures, now)?;
            store::audit::record(conn, now, "login_locked", login, computer, &format!("{kind} {key}: {failures} failures, locked until {until}"))?;
        }
    }
    Ok(())
}

/// The logins and addresses locked now (manager: `ManageUsers`).
pub fn login_locks(store: &Store, session: &Session, now: i64) -> Result<Vec<store::logins::Lock>> {
    session.permit(Permission::ManageUsers)?;
    store::logins::active(&*store.reader()?, now)
}

/// End the lock on a login or address (`kind` `login` or `address`) and forget its failures.
pub fn login_unlock(store: &Store, session: &Session, kind: &str, key: &str, now: i64) -> Result<()> {
    let permit = session.permit(Permission::ManageUsers)?;
    if !store::logins::KINDS.contains(&kind) {
        return Err(Error::bad_input("kind", format!("'{kind}' is not one of login, address")));
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if !store::logins::unlock(&tx, kind, key)? {
        return Err(Error::not_found(format!("lock on {kind} '{key}'")));
    }
    store::logins::forget(&tx, kind, key)?;
    store::audit::record_permit(&tx, permit, now, "login_unlocked", &format!("{kind} {key}"))?;
    tx.commit()?;
    Ok(())
}

/// How long a session may stay unused, in seconds (`session_idle_minutes`).
pub fn session_idle_seconds(store: &Store) -> Result<i64> {
    let (key, default, min, max) = FIELDS[4];
    let stored = store::settings::get(&*store.reader()?, key)?.and_then(|s| s.trim().parse::<i64>().ok());
    Ok(stored.unwrap_or(default).clamp(min, max) * 60)
}
