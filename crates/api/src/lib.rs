//! The boundary: every front (REST server, Tauri shell, browser UI) calls Relevé through
//! `Ctx::call(token, name, args)`. Only this crate knows JSON argument shapes; each command
//! is one call into `releve_core` with the same name. See COMMANDS.md.

pub mod api_keys;
mod audit;
mod bounds;
pub mod commands;
mod c806;
mod consumer_report;
#[cfg(test)]
mod error_codes;
mod export_jobs;
mod export_layouts;
mod gateways;
mod import_journal;
pub mod jobs;
mod keys;
mod lorawan;
mod live;
mod meter_screen;
mod mbus;
mod retention;
pub mod streams;
mod notify;
mod objects;
mod optical;
mod personal;
mod reports;
mod tasks;
mod uploads;
mod users;
mod webhooks;
pub mod v1;
mod rate;

pub use uploads::{too_large, UploadWriter, MAX_UPLOAD_BYTES};

use releve_core::access::Session;
use releve_core::Store;
use serde::Serialize;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex};

/// The one error every front sees: `{code, message, params}`. `code` is stable, `params` holds
/// the values a front words it with in the clerk's language (ui/i18n.js `errorText`),
/// `message` is the English wording for logs and the CLI.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ApiError {
    pub code: String,
    pub message: String,
    /// `{}` when the message is all there is.
    pub params: serde_json::Map<String, serde_json::Value>,
}

impl ApiError {
    pub fn new(code: &str, message: impl Into<String>) -> ApiError {
        ApiError { code: code.to_string(), message: message.into(), params: serde_json::Map::new() }
    }

    /// The same error with `params` (an object; anything else is ignored).
    pub fn with_params(mut self, params: serde_json::Value) -> ApiError {
        if let serde_json::Value::Object(m) = params {
            self.params = m;
        }
        self
    }

    /// The HTTP status that fits the error. Only the codes listed as the server's own
    /// failures are 5xx; every other code (validation, the decoder's `bad_crc`,
    /// `too_short`, a missing setting `not_configured`, ..., and any code added later) is the
    /// request's fault: 400.
    pub fn http_status(&self) -> u16 {
        match self.code.as_str() {
            "internal" | "store" | "io" | "migration" | "render" => 500,
            "master_key_missing" | "master_key_open" | "master_key_unreadable" | "sealed_key_unreadable" => 500,
            "send" | "port" | "no_answer" | "collision" | "checksum" | "timeout" | "truncated" => 502,
            "busy" => 503,
            "not_logged_in" | "wrong_password" | "wrong_token" => 401,
            "api_key_name_taken" => 409,
            "forbidden" | "intervals_not_allowed" | "password_change_required" => 403,
            "login_locked" | "rate_limited" => 429,
            "wrong_api_key" => 401,
            "scope_missing" => 403,
            "cursor_expired" => 410,
            "not_ready" | "export_failed" => 409,
            // A streamed export the clerk stopped (or whose client went away).
            "cancelled" => 499,
            "last_manager" | "own_account" => 409,
            "not_found" | "unknown_command" => 404,
            "in_use" | "not_configured" => 409,
            "too_large" => 413,
            _ => 400,
        }
    }

    /// A `bad_input` error naming the field: `{field}: {reason}`.
    pub fn bad_input(field: &str, reason: impl std::fmt::Display) -> ApiError {
        ApiError::new("bad_input", format!("{field}: {reason}")).with_params(serde_json::json!({ "field": field }))
    }
}

impl From<releve_core::Error> for ApiError {
    fn from(e: releve_core::Error) -> ApiError {
        ApiError { params: e.params(), ..ApiError::new(e.code(), e.to_string()) }
    }
}

/// The clock: Unix seconds. Real time in the app, fixed in tests.
pub type Clock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// A logged-in session and when it last ran a command (Ctx clock): unused for longer than
/// `session_idle_minutes`, it ends.
pub(crate) struct OpenSession {
    pub(crate) session: Session,
    pub(crate) last_used: i64,
}

/// The client address of the desktop window and of callers that name none.
pub const LOCAL: &str = "local";

/// How long a failed login waits before it is answered: guessing is slowed down before the
/// login is locked.
pub const FAILED_LOGIN_DELAY: std::time::Duration = std::time::Duration::from_millis(500);

/// An open Relevé database plus the logged-in sessions and running tasks.
pub struct Ctx {
    store: Arc<Store>,
    /// Billing exports started through the open API.
    exports: Arc<v1::Exports>,
    /// Calls per API key and minute.
    rate: rate::Limiter,
    sessions: Mutex<HashMap<String, OpenSession>>,
    tasks: tasks::Tasks,
    uploads: uploads::Uploads,
    computer: String,
    clock: Clock,
    /// [`FAILED_LOGIN_DELAY`]; shorter in tests.
    failed_login_delay: std::time::Duration,
}

impl Ctx {
    /// Open (creating and migrating if needed) the database at `db`.
    pub fn open(db: &Path) -> Result<Ctx, ApiError> {
        Ctx::open_with_clock(db, Arc::new(|| chrono::Utc::now().timestamp()))
    }

    pub fn open_with_clock(db: &Path, clock: Clock) -> Result<Ctx, ApiError> {
        let store = Store::open(db)?;
        Ok(Ctx {
            store: Arc::new(store),
            exports: Arc::new(v1::Exports::default()),
            rate: rate::Limiter::default(),
            sessions: Mutex::new(HashMap::new()),
            tasks: tasks::Tasks::default(),
            uploads: uploads::Uploads::beside(db),
            computer: computer_name(),
            clock,
            failed_login_delay: FAILED_LOGIN_DELAY,
        })
    }

    /// How long a failed login waits before it is answered (tests shorten it).
    pub fn set_failed_login_delay(&mut self, delay: std::time::Duration) {
        self.failed_login_delay = delay;
    }

    pub fn store(&self) -> &Store {
        &self.store
    }

    pub(crate) fn store_arc(&self) -> Arc<Store> {
        self.store.clone()
    }

    pub(crate) fn exports_arc(&self) -> Arc<v1::Exports> {
        self.exports.clone()
    }

    /// Run open-API operation `name` (a `v1_*` command) for the API key `secret` presented by
    /// the client at `address`: the key is checked (known, not revoked, not expired), its rate
    /// (`rate_limited` with `retry_after`), the operation's scope and permission; each call
    /// is written to the audit log under the key's name (`api:<name>`), refused ones too.
    /// `args` is the front's reading of the request: when it could not read it, the key is
    /// still checked first (a stranger learns nothing of the request's faults).
    pub fn call_key(&self, address: &str, secret: Option<&str>, name: &str, args: Result<serde_json::Value, ApiError>) -> Result<v1::Out, ApiError> {
        let now = self.now();
        let session = releve_core::access::api_keys::authenticate(&self.store, secret, address, now)?;
        let result = self.rate.take(&session).and_then(|()| {
            releve_core::access::authorize(&session, name)?;
            v1::call(self, &session, name, args?, now)
        });
        let status = match &result {
            Ok(_) => v1::operation(name).map_or(200, |o| o.status),
            Err(e) => e.http_status(),
        };
        // A refused rate is not written: a client hammering the API must not fill the log.
        if status != 429 {
            let what = v1::operation(name).map_or_else(|| name.to_string(), |o| format!("{} {}", o.method.as_str().to_uppercase(), o.path));
            releve_core::access::api_keys::record_call(&self.store, &session, &what, status, now)?;
        }
        result
    }

    /// Run the command `name` with JSON `args` for the session `token` (None before login),
    /// from this computer (client address `local`: the desktop window).
    pub fn call(&self, token: Option<&str>, name: &str, args: serde_json::Value) -> Result<serde_json::Value, ApiError> {
        commands::call(self, LOCAL, token, name, args)
    }

    /// `call` for a client at `address` (the HTTP front's peer): failed logins are counted
    /// and locked per address too.
    pub fn call_from(&self, address: &str, token: Option<&str>, name: &str, args: serde_json::Value) -> Result<serde_json::Value, ApiError> {
        commands::call(self, address, token, name, args)
    }

    /// The body limit of source `name` when `token` is its token (checked before a push's
    /// body is read).
    pub fn source_limit(&self, name: &str, token: Option<&str>) -> Result<u64, ApiError> {
        Ok(releve_core::sources::check_token(&self.store, name, token, self.now())?.max_body.max(0) as u64)
    }

    /// A concentrator's push to source `name` (`POST /ingest/<name>`): answered once stored.
    pub fn ingest_push(&self, name: &str, token: Option<&str>, body: &[u8]) -> Result<serde_json::Value, ApiError> {
        let report = releve_core::sources::ingest_push(&self.store, name, token, body, self.now())?;
        commands::ok(report)
    }

    fn now(&self) -> i64 {
        (self.clock)()
    }

    /// The login of the session `token`, or `not_logged_in`: for a front that checks the
    /// session before it reads a request (and names the user in its log).
    pub fn session_login(&self, token: Option<&str>) -> Result<String, ApiError> {
        self.session(token).map(|s| s.login)
    }

    /// The session of `token` as the database has it now (role, permissions, active):
    /// a deactivated user's session ends here, and a changed matrix applies at once. A session
    /// unused for longer than `session_idle_minutes` (by the Ctx clock) ends too; a used one
    /// is marked used now.
    fn session(&self, token: Option<&str>) -> Result<Session, ApiError> {
        let now = self.now();
        let idle = releve_core::access::throttle::session_idle_seconds(&self.store)?;
        let known = {
            let mut sessions = self.sessions.lock().map_err(|_| ApiError::new("internal", "session table poisoned"))?;
            match token.and_then(|t| sessions.get_mut(t).map(|open| (t, open))) {
                None => None,
                Some((t, open)) if now - open.last_used > idle => {
                    let t = t.to_string();
                    sessions.remove(&t);
                    return Err(ApiError::new("not_logged_in", "the session ended after a time without use: please log in again"));
                }
                Some((_, open)) => {
                    open.last_used = now;
                    Some(open.session.clone())
                }
            }
        };
        let known = known.ok_or_else(|| ApiError::new("not_logged_in", "please log in"))?;
        match releve_core::access::refresh(&self.store, &known) {
            Ok(fresh) => Ok(fresh),
            Err(releve_core::Error::NotLoggedIn) => {
                if let (Some(t), Ok(mut sessions)) = (token, self.sessions.lock()) {
                    sessions.remove(t);
                }
                Err(ApiError::new("not_logged_in", "please log in"))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Keep a new session under `token`, used now.
    fn open_session(&self, token: String, session: Session) -> Result<(), ApiError> {
        let now = self.now();
        let mut sessions = self.sessions.lock().map_err(|_| ApiError::new("internal", "sessions"))?;
        sessions.insert(token, OpenSession { session, last_used: now });
        Ok(())
    }
}

/// `bytes` random bytes from the operating system, as lowercase hex (tokens, task and upload ids).
pub fn random_hex(bytes: usize) -> String {
    use rand::RngCore;
    let mut b = vec![0u8; bytes];
    rand::rngs::OsRng.fill_bytes(&mut b);
    hex::encode(b)
}

/// The name of this computer, for the audit log.
pub fn computer_name() -> String {
    for var in ["COMPUTERNAME", "HOSTNAME"] {
        if let Ok(v) = std::env::var(var) {
            if !v.is_empty() {
                return v;
            }
        }
    }
    std::fs::read_to_string("/etc/hostname")
        .map(|s| s.trim().to_string())
        .ok()
        .filter(|s| !s.is_empty())
        .unwrap_or_else(|| "unknown".into())
}

/// For the tests of the command modules: a manager "m" (password "pw") logged in; its token.
/// Passwords of the test database are hashed at the fast (test) cost.
#[cfg(test)]
pub(crate) fn test_manager(ctx: &Ctx, locale: &str, now: i64) -> String {
    use releve_core::access::{Permission, Role};
    releve_core::store::settings::set(&ctx.store().writer(), "password_cost", "fast").expect("cost");
    let system = Session::system("test");
    let permit = system.permit(Permission::ManageUsers).expect("system");
    let user = releve_core::store::users::NewUser {
        salt: None,
        login: "m",
        name: "M",
        role: Role::Manager,
        password: "pw",
        locale,
    };
    releve_core::access::create_user(ctx.store(), permit, &user, now).expect("user");
    test_login(ctx)
}

/// The manager "m" of [`test_manager`] logged in again (after the test moved the clock past the
/// idle time of the first session); its token.
#[cfg(test)]
pub(crate) fn test_login(ctx: &Ctx) -> String {
    let login = ctx.call(None, "login", serde_json::json!({"login": "m", "password": "pw"})).expect("login");
    login["token"].as_str().expect("token").to_string()
}
