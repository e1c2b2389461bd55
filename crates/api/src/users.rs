//! Users administration, login locks and settings, the permission matrix editor and each
//! clerk's own password: argument shapes and one call into `releve_core::access` each.
//! See COMMANDS.md, "Users and permissions".

use crate::bounds::{id, range, Bounded};
use crate::commands::{ok, parse, MAX_LOGIN_CHARS, MAX_PASSWORD_CHARS};
use crate::ApiError;
use releve_core::access::{self, throttle, MatrixChange, Role, Session};
use releve_core::store::users::NewUser;
use releve_core::Store;
use serde::Deserialize;
use serde_json::{json, Value};

/// The command names of this file.
pub(crate) const NAMES: [&str; 13] = [
    "login_locks",
    "login_settings",
    "login_settings_set",
    "login_unlock",
    "password_change",
    "permissions_matrix",
    "permissions_matrix_preview",
    "permissions_matrix_set",
    "user_create",
    "user_reset_password",
    "user_set_active",
    "user_set_role",
    "users_list",
];

#[derive(Deserialize)]
struct NoArgs {}

impl Bounded for NoArgs {}

fn text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    if value.chars().count() > max {
        return Err(ApiError::bad_input(field, format!("at most {max} characters")));
    }
    Ok(())
}

#[derive(Deserialize)]
struct UserCreateArgs {
    login: String,
    name: String,
    role: String,
    /// The temporary password (changed at the first login).
    password: String,
    #[serde(default = "default_locale")]
    locale: String,
}

fn default_locale() -> String {
    "fr".into()
}

impl Bounded for UserCreateArgs {
    fn check(&self) -> Result<(), ApiError> {
        text("login", &self.login, MAX_LOGIN_CHARS)?;
        text("name", &self.name, 200)?;
        text("password", &self.password, MAX_PASSWORD_CHARS)
    }
}

#[derive(Deserialize)]
struct SetActiveArgs {
    id: i64,
    active: bool,
}

impl Bounded for SetActiveArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)
    }
}

#[derive(Deserialize)]
struct ResetArgs {
    id: i64,
    password: String,
}

impl Bounded for ResetArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)?;
        text("password", &self.password, MAX_PASSWORD_CHARS)
    }
}

#[derive(Deserialize)]
struct SetRoleArgs {
    id: i64,
    role: String,
}

impl Bounded for SetRoleArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)
    }
}

#[derive(Deserialize)]
struct PasswordChangeArgs {
    old_password: String,
    new_password: String,
}

impl Bounded for PasswordChangeArgs {
    fn check(&self) -> Result<(), ApiError> {
        text("old_password", &self.old_password, MAX_PASSWORD_CHARS)?;
        text("new_password", &self.new_password, MAX_PASSWORD_CHARS)
    }
}

impl Bounded for MatrixChange {
    fn check(&self) -> Result<(), ApiError> {
        range("user", self.user.len(), 0, 100)?;
        range("superuser", self.superuser.len(), 0, 100)
    }
}

#[derive(Deserialize)]
struct UnlockArgs {
    kind: String,
    key: String,
}

impl Bounded for UnlockArgs {
    fn check(&self) -> Result<(), ApiError> {
        text("key", &self.key, 200)
    }
}

impl Bounded for throttle::LoginSettings {}

fn role(s: &str) -> Result<Role, ApiError> {
    Role::parse(s).ok_or_else(|| ApiError::bad_input("role", format!("'{s}' is not one of user, superuser, manager")))
}

/// Run users command `name`; None if `name` is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "users_list" => {
                let _: NoArgs = parse(args)?;
                ok(access::users_list(store, session, now)?)
            }
            "user_create" => {
                let a: UserCreateArgs = parse(args)?;
                let new = NewUser { salt: None, login: &a.login, name: &a.name, role: role(&a.role)?, password: &a.password, locale: &a.locale };
                ok(json!({ "id": access::user_create(store, session, &new, now)? }))
            }
            "user_set_active" => {
                let a: SetActiveArgs = parse(args)?;
                access::user_set_active(store, session, a.id, a.active, now)?;
                ok(json!({}))
            }
            "user_reset_password" => {
                let a: ResetArgs = parse(args)?;
                access::user_reset_password(store, session, a.id, &a.password, now)?;
                ok(json!({}))
            }
            "user_set_role" => {
                let a: SetRoleArgs = parse(args)?;
                access::user_set_role(store, session, a.id, role(&a.role)?, now)?;
                ok(json!({}))
            }
            "password_change" => {
                let a: PasswordChangeArgs = parse(args)?;
                access::password_change(store, session, &a.old_password, &a.new_password, now)?;
                ok(json!({}))
            }
            "permissions_matrix" => {
                let _: NoArgs = parse(args)?;
                ok(access::permissions_matrix(store, session)?)
            }
            "permissions_matrix_preview" => {
                let a: MatrixChange = parse(args)?;
                ok(access::permissions_matrix_preview(store, session, &a)?)
            }
            "permissions_matrix_set" => {
                let a: MatrixChange = parse(args)?;
                ok(access::permissions_matrix_set(store, session, &a, now)?)
            }
            "login_locks" => {
                let _: NoArgs = parse(args)?;
                ok(throttle::login_locks(store, session, now)?)
            }
            "login_unlock" => {
                let a: UnlockArgs = parse(args)?;
                throttle::login_unlock(store, session, &a.kind, &a.key, now)?;
                ok(json!({}))
            }
            "login_settings" => {
                let _: NoArgs = parse(args)?;
                ok(throttle::login_settings(store, session)?)
            }
            "login_settings_set" => {
                let a: throttle::LoginSettings = parse(args)?;
                ok(throttle::login_settings_set(store, session, &a, now)?)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    NAMES.contains(&name).then(run)
}

