//! Typed errors of the core; each has a stable `code()` for the boundary.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not logged in")]
    NotLoggedIn,
    #[error("wrong login or password")]
    WrongPassword,
    /// Too many failed logins for this login or from this address: refused until `until`
    /// (Unix seconds), whatever the password.
    #[error("too many failed logins: locked until {until} (Unix time)")]
    LoginLocked { until: i64 },
    /// The user's password was reset by a manager: every command but `password_change`
    /// (and logout) is refused until they choose a new one.
    #[error("you must change your password before anything else")]
    PasswordChangeRequired,
    /// A new password that breaks a rule: `rule` is the code (`password_too_short` with `min`,
    /// `password_unchanged`, `password_is_login`, `password_wrong_old`).
    #[error("{}", password_rule(rule, *min))]
    Password { rule: &'static str, min: usize },
    /// A users change that would lock the managers out: `rule` is the code (`last_manager`:
    /// the last active manager cannot be deactivated or lose the role; `own_account`: a manager
    /// cannot deactivate themself), naming the login.
    #[error("{}", user_guard(rule, login))]
    UserGuard { rule: &'static str, login: String },
    #[error("your role ({role}) does not allow this: permission '{permission}' is needed")]
    Forbidden { role: String, permission: &'static str },
    /// Interval data (hourly and finer: personal data) asked by a session without the
    /// permission `view_intervals`; `what` names the request (`hour`, `readings`).
    #[error("your role ({role}) sees daily totals only: '{what}' needs the permission 'view_intervals'")]
    IntervalsNotAllowed { role: String, what: &'static str },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("unknown command '{name}'")]
    UnknownCommand { name: String },
    #[error("invalid {field}: {reason}")]
    BadInput { field: String, reason: String },
    /// A refused value with a reason code (`bad_input`, params `{field, reason, ...}`).
    #[error("invalid {field}: {reason}")]
    Invalid { field: String, reason: crate::problem::Reason },
    /// A refusal with its own code and typed values (`final_below_last`, `group_name_taken`,
    /// `not_configured`, ...), worded by the UI.
    #[error("{0}")]
    Refused(crate::problem::Problem),
    #[error("{path}, line {line}: {reason}")]
    BadLine { path: String, line: u64, reason: String },
    #[error("cannot read or write {path}: {source}")]
    Io {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
    #[error("database migration {name} failed: {source}")]
    Migration {
        name: String,
        #[source]
        source: rusqlite::Error,
    },
    #[error("database error: {0}")]
    Store(#[from] rusqlite::Error),
    #[error("cannot send by {channel} to {recipient}: {reason}")]
    Send { channel: &'static str, recipient: String, reason: String },
    #[error("CSV error: {0}")]
    Csv(#[from] csv::Error),
    /// Values an export cannot write as its layout says (too wide, ...): nothing is cut.
    /// `errors` holds the first ones (at most [`MAX_FIELD_ERRORS`], never none) of `count`.
    #[error("{}", field_values(errors, *count))]
    FieldValues { errors: Vec<crate::billing::FieldError>, count: usize },
    /// An export layout that scheduled exports (id, name) still use cannot be deleted.
    #[error("{}", layout_in_use(layout, jobs))]
    LayoutInUse { layout: String, jobs: Vec<(i64, String)> },
    #[error("{whom} has no e-mail address: give the recipient's address")]
    NoEmail { whom: String },
    /// A file whose text encoding cannot be read; `problem` says which way (`utf16_no_bom`,
    /// `utf16_odd_length`, `utf16_invalid`), for the UI to word.
    #[error("{file}: {reason}")]
    Encoding { file: String, problem: &'static str, reason: String },
    /// A push to a source with a token that is not the source's (or to no such source).
    #[error("wrong token for source {source_name}")]
    WrongToken { source_name: String },
    /// A pushed body with lines that cannot be read: nothing of it is stored. `lines` holds the
    /// first ones (line, reason) of `count`.
    #[error("{source_name}: {count} lines cannot be read, the first at line {}: nothing stored", lines.first().map_or(0, |l| l.0))]
    BadLines { source_name: String, lines: Vec<(u64, crate::import::line::LineProblem)>, count: usize },
    #[error("the body is larger than {limit} bytes")]
    TooLarge { limit: u64 },
    #[error("cannot draw the {what}: {reason}")]
    Render { what: &'static str, reason: String },
    /// A folder that may not be read or written (see `folders`): `rule.code()` says why.
    #[error("{}", folder_refused(*rule, folder))]
    Folder { rule: crate::folders::FolderRule, folder: String },
    /// A serial port or TCP link to field devices that cannot be opened, read or written.
    #[error("{port}: {reason}")]
    Port { port: String, reason: String },
    /// An optical readout (IEC 62056-21) that failed: `problem` is the code (`optical_no_answer`,
    /// `optical_wrong_bcc`, `optical_unknown_baud`, `optical_truncated`, ...).
    #[error("optical readout on {port}: {reason}")]
    Optical { port: String, problem: &'static str, reason: String },
    /// An M-Bus slave that did not answer as it should: `problem` is `no_answer`, `collision`,
    /// `checksum`, `timeout` or `truncated` (the code, for the UI to word), naming the bus and
    /// the address (primary `5` or secondary `12345678...`).
    #[error("{bus}, address {address}: {}{}", crate::mbus_master::Problem::words(*problem), if detail.is_empty() { String::new() } else { format!(" ({detail})") })]
    Mbus { problem: crate::mbus_master::Problem, bus: String, address: String, detail: String },
    /// A key file that cannot be read (`kem_wrong_password`, `kem_unreadable`, ...) or the
    /// master key of the keys at rest (`master_key_missing`, `master_key_open`, ...):
    /// `problem` is the code, `file` the file named.
    #[error("{reason}")]
    Keys { problem: &'static str, file: String, reason: String },
}

impl Error {
    /// Stable machine-readable code, for the UI to switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotLoggedIn => "not_logged_in",
            Error::WrongPassword => "wrong_password",
            Error::LoginLocked { .. } => "login_locked",
            Error::PasswordChangeRequired => "password_change_required",
            Error::Password { rule, .. } => rule,
            Error::UserGuard { rule, .. } => rule,
            Error::Forbidden { .. } => "forbidden",
            Error::IntervalsNotAllowed { .. } => "intervals_not_allowed",
            Error::NotFound { .. } => "not_found",
            Error::UnknownCommand { .. } => "unknown_command",
            Error::BadInput { .. } | Error::Invalid { .. } => "bad_input",
            Error::Refused(p) => p.code(),
            Error::BadLine { .. } => "bad_line",
            Error::Io { .. } => "io",
            Error::Migration { .. } => "migration",
            // Another program held the write lock for longer than the store waits
            // (`store::BUSY_WAIT`): a clerk is told to try again, not "database is locked".
            Error::Store(rusqlite::Error::SqliteFailure(e, _))
                if matches!(e.code, rusqlite::ErrorCode::DatabaseBusy | rusqlite::ErrorCode::DatabaseLocked) =>
            {
                "busy"
            }
            Error::Store(_) => "store",
            Error::Send { .. } => "send",
            Error::Csv(_) => "csv",
            Error::FieldValues { .. } => "bad_input",
            Error::LayoutInUse { .. } => "in_use",
            Error::NoEmail { .. } => "no_email",
            Error::Render { .. } => "render",
            Error::Encoding { .. } => "encoding",
            Error::WrongToken { .. } => "wrong_token",
            Error::BadLines { .. } => "bad_lines",
            Error::TooLarge { .. } => "too_large",
            // A 400 like any refused input; the boundary adds `{code: rule.code(), folder}`.
            Error::Folder { .. } => "bad_input",
            Error::Port { .. } => "port",
            Error::Optical { problem, .. } => problem,
            Error::Mbus { problem, .. } => problem.code(),
            Error::Keys { problem, .. } => problem,
        }
    }

    pub fn bad_input(field: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::BadInput { field: field.into(), reason: reason.into() }
    }

    pub fn invalid(field: impl Into<String>, reason: crate::problem::Reason) -> Error {
        Error::Invalid { field: field.into(), reason }
    }

    /// The values a front words the error with (`{}` when the message is all there is).
    pub fn params(&self) -> serde_json::Map<String, serde_json::Value> {
        use serde_json::json;
        let v = match self {
            Error::Refused(p) => return p.params(),
            Error::Invalid { field, reason } => return reason.params(field),
            Error::BadInput { field, .. } => json!({"field": field}),
            Error::NotFound { what } => json!({"what": what}),
            Error::Forbidden { role, permission } => json!({"role": role, "permission": permission}),
            Error::NoEmail { whom } => json!({"whom": whom}),
            Error::Send { channel, recipient, .. } => json!({"channel": channel, "recipient": recipient}),
            // A refused billing export: every value that cannot be written (the first ones), as
            // the preview lists them, so that a front words them itself.
            Error::FieldValues { errors, count } => json!({"errors": errors, "count": count}),
            Error::LayoutInUse { layout, jobs } => json!({
                "layout": layout,
                "jobs": jobs.iter().map(|(id, name)| json!({"id": id, "name": name})).collect::<Vec<_>>(),
            }),
            Error::BadLines { source_name, lines, count } => json!({
                "source": source_name,
                "count": count,
                // `reason` the English, `params` the reason code and values when the reader gives them.
                "lines": lines.iter().map(|(line, problem)| {
                    let mut l = json!({"line": line, "reason": problem.to_string()});
                    let params = problem.params();
                    if !params.is_empty() {
                        l["params"] = serde_json::Value::Object(params);
                    }
                    l
                }).collect::<Vec<_>>(),
            }),
            Error::TooLarge { limit } => json!({"limit": limit}),
            // A refused folder (a 400 `bad_input`): the rule (`folder_not_allowed`,
            // `folder_is_store`, ...) and the folder, for the UI to word, whatever the command.
            Error::Folder { rule, folder } => json!({"code": rule.code(), "folder": folder}),
            Error::Port { port, reason } => json!({"port": port, "reason": reason}),
            Error::Optical { port, reason, .. } => json!({"port": port, "reason": reason}),
            Error::Mbus { bus, address, detail, .. } => json!({"bus": bus, "address": address, "detail": detail}),
            Error::Encoding { file, problem, .. } => json!({"code": format!("encoding_{problem}"), "file": file}),
            Error::Keys { file, .. } => json!({"file": file}),
            Error::LoginLocked { until } => json!({"until": until}),
            Error::Password { min, .. } => json!({"min": min}),
            Error::UserGuard { login, .. } => json!({"login": login}),
            _ => json!({}),
        };
        match v {
            serde_json::Value::Object(m) => m,
            _ => serde_json::Map::new(),
        }
    }

    pub fn not_found(what: impl Into<String>) -> Error {
        Error::NotFound { what: what.into() }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }
}

fn password_rule(rule: &str, min: usize) -> String {
    match rule {
        "password_too_short" => format!("the new password is too short: at least {min} characters"),
        "password_unchanged" => "the new password must differ from the current one".into(),
        "password_is_login" => "the new password must not be the login".into(),
        "password_wrong_old" => "the current password is not right".into(),
        other => other.to_string(),
    }
}

fn user_guard(rule: &str, login: &str) -> String {
    match rule {
        "last_manager" => format!("{login} is the last active manager: make another user manager first"),
        "own_account" => format!("{login} is your own account: another manager must deactivate it"),
        other => format!("{other}: {login}"),
    }
}

/// At most this many value errors travel with a refused export (`Error::FieldValues`).
pub const MAX_FIELD_ERRORS: usize = 100;

/// The first value error, and how many more.
fn field_values(errors: &[crate::billing::FieldError], count: usize) -> String {
    let first = errors.first().map_or_else(|| "a value cannot be written".to_string(), ToString::to_string);
    match count.saturating_sub(1) {
        0 => first,
        1 => format!("{first} (and 1 more value that cannot be written; see the preview)"),
        n => format!("{first} (and {n} more values that cannot be written; see the preview)"),
    }
}

fn layout_in_use(layout: &str, jobs: &[(i64, String)]) -> String {
    let names: Vec<String> = jobs.iter().map(|(_, name)| format!("'{name}'")).collect();
    let (jobs, them) = if names.len() == 1 { ("export", "it") } else { ("exports", "them") };
    format!(
        "the export layout '{layout}' is used by the scheduled {jobs} {}: delete {them} or choose another layout for {them} first",
        names.join(", ")
    )
}

fn folder_refused(rule: crate::folders::FolderRule, folder: &str) -> String {
    use crate::folders::FolderRule;
    match rule {
        FolderRule::NotAbsolute => format!("the folder '{folder}' is not a full path (it starts with a drive or /)"),
        FolderRule::NotAllowed => {
            format!("the folder '{folder}' is not inside an allowed folder: a manager adds it under Settings, Allowed folders")
        }
        FolderRule::IsStore => format!(
            "the folder '{folder}' holds the database (it is the database's folder, a parent of it or the database file): choose another folder"
        ),
        FolderRule::NotAFolder => format!("'{folder}' is a file, not a folder"),
        FolderRule::Missing => format!("the folder '{folder}' does not exist: create it or choose another folder"),
        FolderRule::NotWritable => format!("a file cannot be written in the folder '{folder}': check its permissions"),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;

#[cfg(test)]
mod tests {
    use super::Error;

    /// A write that waited too long for another program's lock is `busy` (a clerk is asked to
    /// try again), any other database failure `store`.
    #[test]
    fn a_locked_database_is_busy_not_a_store_failure() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("b.db");
        let holder = rusqlite::Connection::open(&path).expect("open");
        holder.execute_batch("PRAGMA journal_mode = WAL; CREATE TABLE t(x); BEGIN IMMEDIATE; INSERT INTO t VALUES (1);").expect("hold");
        let other = rusqlite::Connection::open(&path).expect("open");
        other.busy_timeout(std::time::Duration::from_millis(10)).expect("timeout");
        let e = Error::from(other.execute("INSERT INTO t VALUES (2)", []).expect_err("locked"));
        assert_eq!(e.code(), "busy", "{e}");
        let e = Error::from(other.execute("INSERT INTO nowhere VALUES (2)", []).expect_err("no table"));
        assert_eq!(e.code(), "store");
    }
}
