//! The boundary: every front (REST server, Tauri shell, browser UI) calls Relevé through
//! `Ctx::call(token, name, args)`. Only this crate knows JSON argument shapes.

use serde::Serialize;
use std::path::Path;

/// The one error every front sees: `{code, message}`.
#[derive(Debug, Clone, Serialize)]
pub struct ApiError {
    pub code: String,
    pub message: String,
}

/// An open Relevé database plus the logged-in sessions and running tasks.
pub struct Ctx {
    _db: std::path::PathBuf,
}

impl Ctx {
    /// Open (creating and migrating if needed) the database at `db`.
    pub fn open(db: &Path) -> Result<Ctx, ApiError> {
        Ok(Ctx { _db: db.to_path_buf() })
    }

    /// Run the command `name` with JSON `args` for the session `token` (None before login).
    pub fn call(
        &self,
        _token: Option<&str>,
        name: &str,
        _args: serde_json::Value,
    ) -> Result<serde_json::Value, ApiError> {
        Err(ApiError { code: "unknown_command".into(), message: format!("unknown command {name}") })
    }
}
