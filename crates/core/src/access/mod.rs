//! Access control: roles, the permission matrix, sessions and permits. Every core function
//! that changes data asks the session for a `Permit`, and the permit names the acting user
//! in the audit log.

use crate::error::{Error, Result};
use crate::store::{self, Store};
use serde::Serialize;

mod commands;
pub use commands::{authorize, rule, CommandRule, Need, COMMANDS};

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
}

/// Proof that the session's user may do one thing. Mutating functions require one.
#[derive(Debug, Clone, Copy)]
pub struct Permit<'a> {
    pub session: &'a Session,
    pub permission: Permission,
}

impl Session {
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
        }
    }
}

/// Check a login and password; on success open a session and write `login` to the audit log.
pub fn login(store: &Store, login: &str, password: &str, computer: &str, now: i64) -> Result<Session> {
    let conn = store.writer();
    let Some(user) = store::users::by_login(&conn, login)? else {
        store::audit::record(&conn, now, "login_failed", login, computer, "unknown login")?;
        return Err(Error::WrongPassword);
    };
    if !user.active || !verify_password(password, &user.password_hash) {
        store::audit::record(&conn, now, "login_failed", login, computer, "wrong password or inactive")?;
        return Err(Error::WrongPassword);
    }
    let role = Role::parse(&user.role)
        .ok_or_else(|| Error::bad_input("role", format!("unknown role {}", user.role)))?;
    let permissions = permissions_of(&conn, role)?;
    store::audit::record(&conn, now, "login", login, computer, "")?;
    Ok(Session {
        user_id: user.id,
        login: user.login,
        name: user.name,
        role,
        locale: user.locale,
        permissions,
        computer: computer.to_string(),
    })
}

/// The session as the database has it now: the user's role, permissions (the matrix may
/// have changed) and language. A user deactivated or removed since login is `not_logged_in`,
/// on every front at once. Two primary-key lookups, run before each command.
pub fn refresh(store: &Store, session: &Session) -> Result<Session> {
    if session.user_id == 0 {
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
    Ok(Session {
        user_id: user.id,
        login: user.login,
        name: user.name,
        role,
        locale: user.locale,
        permissions: permissions_of(&conn, role)?,
        computer: session.computer.clone(),
    })
}

/// The permissions a role has in the matrix.
pub fn permissions_of(conn: &rusqlite::Connection, role: Role) -> Result<Vec<Permission>> {
    Ok(store::users::permissions_of(conn, role.as_str())?.iter().filter_map(|p| Permission::parse(p)).collect())
}

/// Create a user account (manager only).
pub fn create_user(
    store: &Store,
    permit: Permit<'_>,
    new: &store::users::NewUser<'_>,
    now: i64,
) -> Result<i64> {
    require(permit, Permission::ManageUsers)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let hash = hash_password(new.password, new.salt);
    let id = store::users::insert(&tx, new, &hash, now)?;
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

const ITERATIONS: u32 = 60_000;

/// `pbkdf2-sha256$iterations$salt$hash`, hex encoded; a random salt unless one is given
/// (only the demo gives one, so that the same seed builds the same database).
pub fn hash_password(password: &str, salt: Option<[u8; 16]>) -> String {
    use rand::{Rng, SeedableRng};
    let salt = salt.unwrap_or_else(|| rand_chacha::ChaCha20Rng::from_entropy().gen());
    let hash = derive(password, &salt, ITERATIONS);
    format!("pbkdf2-sha256${ITERATIONS}${}${}", hex::encode(salt), hex::encode(hash))
}

pub fn verify_password(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2-sha256"), Some(iter), Some(salt), Some(hash)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Ok(iter), Ok(salt), Ok(hash)) = (iter.parse::<u32>(), hex::decode(salt), hex::decode(hash)) else {
        return false;
    };
    let derived = derive(password, &salt, iter);
    derived.len() == hash.len() && derived.iter().zip(&hash).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn derive(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn password_hash_verifies_only_the_right_password() {
        let h = hash_password("s3cret", None);
        assert!(verify_password("s3cret", &h));
        assert!(!verify_password("s3creT", &h));
        assert!(!verify_password("s3cret", "garbage"));
    }

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
