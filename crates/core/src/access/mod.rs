//! Access control: roles, the permission matrix, sessions and permits. Every core function
//! that changes data asks the session for a `Permit`, and the permit names the acting user
//! in the audit log.

use crate::error::{Error, Result};
use crate::store::{self, Store};
use serde::Serialize;

pub mod api_keys;
mod commands;
mod matrix;
mod scopes;
pub mod password;
pub mod throttle;
mod users;
pub use commands::{authorize, rule, scope_of, CommandRule, Need, COMMANDS, SCOPED, WHILE_PASSWORD_CHANGE_REQUIRED};
pub use matrix::{permissions_matrix, permissions_matrix_preview, permissions_matrix_set, Matrix, MatrixChange, RoleChange};
pub use password::{hash_password, verify_password, Cost};
pub use scopes::{KeyGrant, Scope};
pub use users::{password_change, user_create, user_reset_password, user_set_active, user_set_role, users_list, UserRow, MIN_PASSWORD_CHARS};

/// What a role may do. Each command needs one (see [`COMMANDS`]); the matrix
/// `role_permissions` says which role has which.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Permission {
    /// See the park, readings (daily and coarser), reports and settings that hold no secret.
    View,
    /// See interval data (hourly and finer): personal data about a household's life.
    ViewIntervals,
    /// Produce files and downloads from the data (CSV exports, billing files, report exports).
    Export,
    /// Create and change billing layouts and scheduled exports, and run a scheduled export.
    ManageExports,
    /// Send mail to consumers (consumer reports by e-mail).
    SendMail,
    /// Bring readings in (files, buses, optical heads).
    Import,
    /// Change the park: meters, groups, exchanges, devices.
    EditMeters,
    /// Import and enter meter keys (never read them back).
    ManageKeys,
    /// Export stored meter keys (the manager only; not grantable).
    ExportKeys,
    /// Create users, reset passwords, change roles, edit the permission matrix (the manager only).
    ManageUsers,
    /// Change settings: sources, buses, folders, notifications, SMTP (the manager only).
    Settings,
    /// Read and export the audit log.
    Audit,
    /// Subject access and move-out (personal data of customers).
    PersonalData,
}

impl Permission {
    pub const ALL: [Permission; 13] = [
        Permission::View,
        Permission::ViewIntervals,
        Permission::Export,
        Permission::ManageExports,
        Permission::SendMail,
        Permission::Import,
        Permission::EditMeters,
        Permission::ManageKeys,
        Permission::ExportKeys,
        Permission::ManageUsers,
        Permission::Settings,
        Permission::Audit,
        Permission::PersonalData,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Permission::View => "view",
            Permission::ViewIntervals => "view_intervals",
            Permission::Export => "export",
            Permission::ManageExports => "manage_exports",
            Permission::SendMail => "send_mail",
            Permission::Import => "import",
            Permission::EditMeters => "edit_meters",
            Permission::ManageKeys => "manage_keys",
            Permission::ExportKeys => "export_keys",
            Permission::ManageUsers => "manage_users",
            Permission::Settings => "settings",
            Permission::Audit => "audit",
            Permission::PersonalData => "personal_data",
        }
    }

    pub fn parse(s: &str) -> Option<Permission> {
        Permission::ALL.into_iter().find(|p| p.as_str() == s)
    }

    /// Whether the manager may grant it to a user or superuser in the matrix. Managing users,
    /// settings and exporting keys stay the manager's own.
    pub fn grantable(self) -> bool {
        !matches!(self, Permission::ExportKeys | Permission::ManageUsers | Permission::Settings)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    User,
    Superuser,
    Manager,
}

impl Role {
    pub fn as_str(self) -> &'static str {
        match self {
            Role::User => "user",
            Role::Superuser => "superuser",
            Role::Manager => "manager",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        [Role::User, Role::Superuser, Role::Manager].into_iter().find(|r| r.as_str() == s)
    }
}

/// A logged-in user working from a computer.
#[derive(Debug, Clone, Serialize)]
pub struct Session {
    pub user_id: i64,
    pub login: String,
    pub name: String,
    pub role: Role,
    pub locale: String,
    pub permissions: Vec<Permission>,
    pub computer: String,
    /// A manager reset the password: only `password_change` (and logout) until it is changed.
    pub must_change_password: bool,
    /// The API key this session is (a billing system or portal), not a user: only the
    /// operations of the open API its scopes allow, on the meters it is limited to.
    pub key: Option<KeyGrant>,
}

/// Proof that the session's user may do one thing. Mutating functions require one.
#[derive(Debug, Clone, Copy)]
pub struct Permit<'a> {
    pub session: &'a Session,
    pub permission: Permission,
}

impl Session {
    /// The session of `user` (as stored) with `role`'s permissions, working from `computer`.
    fn of(user: store::users::User, role: Role, permissions: Vec<Permission>, computer: String) -> Session {
        Session {
            user_id: user.id,
            login: user.login,
            name: user.name,
            role,
            locale: user.locale,
            permissions,
            computer,
            must_change_password: user.must_change_password,
            key: None,
        }
    }

    pub fn permit(&self, permission: Permission) -> Result<Permit<'_>> {
        if self.permissions.contains(&permission) {
            Ok(Permit { session: self, permission })
        } else {
            Err(Error::Forbidden { role: self.role.as_str().to_string(), permission: permission.as_str() })
        }
    }

    /// Whether the session may see interval data (hourly and finer values).
    pub fn sees_intervals(&self) -> bool {
        self.permissions.contains(&Permission::ViewIntervals)
    }

    /// Refuse interval data `what` (`hour`, `readings`) to a session without `view_intervals`.
    pub fn intervals(&self, what: &'static str) -> Result<()> {
        if self.sees_intervals() {
            Ok(())
        } else {
            Err(Error::IntervalsNotAllowed { role: self.role.as_str().to_string(), what })
        }
    }

    /// The session the system itself uses for set-up work (demo build, migrations).
    pub fn system(computer: &str) -> Session {
        Session {
            user_id: 0,
            login: "system".into(),
            name: "System".into(),
            role: Role::Manager,
            locale: "en".into(),
            permissions: Permission::ALL.to_vec(),
            computer: computer.into(),
            must_change_password: false,
            key: None,
        }
    }

    /// The session of API key `grant` called from `computer` (the client's address): the
    /// audit log names it `api:<name>`.
    pub fn of_key(grant: KeyGrant, computer: &str) -> Session {
        Session {
            user_id: 0,
            login: format!("api:{}", grant.name),
            name: grant.name.clone(),
            role: Role::User,
            locale: "en".into(),
            permissions: grant.permissions(),
            computer: computer.into(),
            must_change_password: false,
            key: Some(grant),
        }
    }
}

/// Check a login and password from client `address` (the HTTP peer; `local` for the desktop
/// window and the CLI); on success open a session and write `login` to the audit log.
///
/// A login or address locked after too many failures is refused (`login_locked`) before any
/// password is checked. An unknown login or an inactive account runs the same argon2
/// verification as a known one (against a dummy hash of the current cost), so the time taken
/// does not tell which logins exist. Every failure is counted (`throttle`). A right password
/// whose hash is of an older format or cost is re-hashed at the current cost.
pub fn login(store: &Store, login: &str, password: &str, computer: &str, address: &str, now: i64) -> Result<Session> {
    let (user, cost, limits) = {
        let conn = store.reader()?;
        let limits = throttle::LoginSettings::read(&conn)?;
        if let Some(until) = store::logins::locked_until(&conn, login, address, now)? {
            return Err(Error::LoginLocked { until });
        }
        (store::users::by_login(&conn, login)?, password_cost(&conn)?, limits)
    };
    let verified = match &user {
        Some(user) => password::verify_password(password, &user.password_hash, cost),
        None => password::Verified { ok: password::verify_dummy(password, cost), upgrade: false },
    };
    let user = match user {
        Some(user) if user.active && verified.ok => user,
        other => {
            let why = match other {
                None => "unknown login",
                Some(u) if !u.active => "inactive account",
                Some(_) => "wrong password",
            };
            let mut conn = store.writer();
            let tx = conn.transaction()?;
            store::audit::record(&tx, now, "login_failed", login, computer, why)?;
            throttle::failed(&tx, &limits, login, address, computer, now)?;
            tx.commit()?;
            return Err(Error::WrongPassword);
        }
    };
    let role = Role::parse(&user.role)
        .ok_or_else(|| Error::bad_input("role", format!("unknown role {}", user.role)))?;
    let upgraded = verified.upgrade.then(|| password::hash_password(password, None, cost));
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if let Some(hash) = &upgraded {
        store::users::upgrade_hash(&tx, user.id, hash)?;
    }
    store::logins::forget(&tx, "login", login)?;
    store::users::set_last_login(&tx, user.id, now)?;
    let permissions = permissions_of(&tx, role)?;
    store::audit::record(&tx, now, "login", login, computer, if upgraded.is_some() { "password hash upgraded to argon2id" } else { "" })?;
    tx.commit()?;
    Ok(Session::of(user, role, permissions, computer.to_string()))
}

/// The cost of new password hashes: the setting `password_cost` (`fast` in test databases
/// only), else the standard cost.
pub fn password_cost(conn: &rusqlite::Connection) -> Result<Cost> {
    Ok(Cost::from_setting(store::settings::get(conn, "password_cost")?.as_deref()))
}

/// The session as the database has it now: the user's role, permissions (the matrix may
/// have changed), language and whether a password change is due. A user deactivated or
/// removed since login is `not_logged_in`, on every front at once. Two primary-key lookups,
/// run before each command.
pub fn refresh(store: &Store, session: &Session) -> Result<Session> {
    // An API key's session lives for one request: `api_keys::authenticate` read it just now.
    if session.user_id == 0 || session.key.is_some() {
        return Ok(session.clone());
    }
    let conn = store.reader()?;
    let Some(user) = store::users::by_id(&conn, session.user_id)? else {
        return Err(Error::NotLoggedIn);
    };
    if !user.active || user.login != session.login {
        return Err(Error::NotLoggedIn);
    }
    let role = Role::parse(&user.role).ok_or_else(|| Error::bad_input("role", format!("unknown role {}", user.role)))?;
    let permissions = permissions_of(&conn, role)?;
    Ok(Session::of(user, role, permissions, session.computer.clone()))
}

/// The permissions a role has in the matrix.
pub fn permissions_of(conn: &rusqlite::Connection, role: Role) -> Result<Vec<Permission>> {
    let names = store::users::permissions_of(conn, role.as_str())?;
    // In the order of `Permission::ALL`, as the matrix lists them.
    Ok(Permission::ALL.into_iter().filter(|p| names.iter().any(|n| n == p.as_str())).collect())
}

/// Create a user account (manager only), with no password rule: for the demo and set-up
/// work. The `user_create` command checks the password and makes it a temporary one.
pub fn create_user(
    store: &Store,
    permit: Permit<'_>,
    new: &store::users::NewUser<'_>,
    now: i64,
) -> Result<i64> {
    create_user_as(store, permit, new, false, now)
}

pub(crate) fn create_user_as(
    store: &Store,
    permit: Permit<'_>,
    new: &store::users::NewUser<'_>,
    must_change: bool,
    now: i64,
) -> Result<i64> {
    require(permit, Permission::ManageUsers)?;
    let cost = password_cost(&*store.reader()?)?;
    let hash = hash_password(new.password, new.salt, cost);
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if store::users::by_login(&tx, new.login)?.is_some() {
        return Err(Error::bad_input("login", format!("'{}' is already a user's login", new.login)));
    }
    let id = store::users::insert(&tx, new, &hash, must_change, now)?;
    store::audit::record_permit(&tx, permit, now, "user_created", &format!("{} ({})", new.login, new.role.as_str()))?;
    tx.commit()?;
    Ok(id)
}

/// Change the interface language of the session's user.
pub fn set_locale(store: &Store, session: &Session, locale: &str, now: i64) -> Result<()> {
    if locale != "fr" && locale != "en" {
        return Err(Error::bad_input("locale", format!("'{locale}' is not one of fr, en")));
    }
    let conn = store.writer();
    store::users::set_locale(&conn, session.user_id, locale)?;
    store::audit::record(&conn, now, "locale_changed", &session.login, &session.computer, locale)?;
    Ok(())
}

/// Fail unless the permit is for `permission` (guards against passing the wrong permit).
pub fn require(permit: Permit<'_>, permission: Permission) -> Result<()> {
    if permit.permission == permission {
        Ok(())
    } else {
        permit.session.permit(permission).map(|_| ())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_role_may_only_view_and_export() {
        let mut s = Session::system("pc");
        s.role = Role::User;
        s.permissions = vec![Permission::View, Permission::Export];
        assert!(s.permit(Permission::Export).is_ok());
        let err = s.permit(Permission::Import).expect_err("user may not import");
        assert_eq!(err.code(), "forbidden");
    }
}
