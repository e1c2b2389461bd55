//! Typed errors of the core; each has a stable `code()` for the boundary.

use std::path::PathBuf;

#[derive(Debug, thiserror::Error)]
pub enum Error {
    #[error("not logged in")]
    NotLoggedIn,
    #[error("wrong login or password")]
    WrongPassword,
    #[error("your role ({role}) does not allow this: permission '{permission}' is needed")]
    Forbidden { role: String, permission: &'static str },
    #[error("{what} not found")]
    NotFound { what: String },
    #[error("invalid {field}: {reason}")]
    BadInput { field: String, reason: String },
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
    /// A value an export cannot write as its layout says (too wide, ...): nothing is cut.
    #[error("{record}, field {field} ({var}): \"{value}\" {problem}{}", more_values(*.more))]
    FieldValue { record: String, field: usize, var: &'static str, value: String, problem: String, more: usize },
    #[error("{whom} has no e-mail address: give the recipient's address")]
    NoEmail { whom: String },
    #[error("cannot draw the {what}: {reason}")]
    Render { what: &'static str, reason: String },
}

impl Error {
    /// Stable machine-readable code, for the UI to switch on.
    pub fn code(&self) -> &'static str {
        match self {
            Error::NotLoggedIn => "not_logged_in",
            Error::WrongPassword => "wrong_password",
            Error::Forbidden { .. } => "forbidden",
            Error::NotFound { .. } => "not_found",
            Error::BadInput { .. } => "bad_input",
            Error::BadLine { .. } => "bad_line",
            Error::Io { .. } => "io",
            Error::Migration { .. } => "migration",
            Error::Store(_) => "store",
            Error::Send { .. } => "send",
            Error::Csv(_) => "csv",
            Error::FieldValue { .. } => "bad_input",
            Error::NoEmail { .. } => "no_email",
            Error::Render { .. } => "render",
        }
    }

    pub fn bad_input(field: impl Into<String>, reason: impl Into<String>) -> Error {
        Error::BadInput { field: field.into(), reason: reason.into() }
    }

    pub fn not_found(what: impl Into<String>) -> Error {
        Error::NotFound { what: what.into() }
    }

    pub fn io(path: impl Into<PathBuf>, source: std::io::Error) -> Error {
        Error::Io { path: path.into(), source }
    }
}

fn more_values(more: usize) -> String {
    match more {
        0 => String::new(),
        1 => " (and 1 more value that cannot be written; see the preview)".into(),
        n => format!(" (and {n} more values that cannot be written; see the preview)"),
    }
}

pub type Result<T, E = Error> = std::result::Result<T, E>;
