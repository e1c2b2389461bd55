//! Billing exports started through the open API: a saved layout run in the background,
//! polled, downloaded. Runs live in memory (the newest [`KEPT`]) for the server's life; only
//! the caller who started one (the same key or user) sees it.

use crate::{ApiError, Ctx};
use releve_core::access::{Permission, Session};
use releve_core::billing;
use schemars::JsonSchema;
use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::sync::{Arc, Mutex};

/// How many runs are kept.
pub const KEPT: usize = 32;
/// Runs at once.
const RUNNING_MAX: usize = 2;

#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExportRequest {
    /// A saved billing layout's name.
    #[schemars(example = &"Facturation eau (CSV)")]
    pub layout: String,
    /// First day of the billing period (local date).
    #[schemars(extend("format" = "date"), example = &"2026-10-01")]
    pub from: String,
    /// Last day (included).
    #[schemars(extend("format" = "date"), example = &"2026-10-31")]
    pub to: String,
}

/// A billing export run.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExportRun {
    pub id: String,
    pub layout: String,
    #[schemars(extend("format" = "date"))]
    pub from: String,
    #[schemars(extend("format" = "date"))]
    pub to: String,
    /// `running`, `done` or `failed`.
    pub state: String,
    pub file_name: Option<String>,
    /// Data records in the file.
    pub rows: Option<u64>,
    pub bytes: Option<u64>,
    pub sha256: Option<String>,
    /// Why it failed: `{code, message, params}` as every error.
    pub error: Option<serde_json::Value>,
}

/// A finished export's file.
pub struct ExportFile {
    pub file_name: String,
    pub media_type: &'static str,
    pub bytes: Arc<Vec<u8>>,
}

struct Entry {
    /// Who started it: `key:<id>` or `user:<id>`.
    owner: String,
    run: ExportRun,
    file: Option<ExportFile>,
}

#[derive(Default)]
pub struct Exports {
    runs: Mutex<VecDeque<Entry>>,
}

fn owner(session: &Session) -> String {
    match &session.key {
        Some(k) => format!("key:{}", k.id),
        None => format!("user:{}", session.user_id),
    }
}

fn not_found(id: &str) -> ApiError {
    ApiError::new("not_found", format!("export {id} not found")).with_params(serde_json::json!({"what": format!("export {id}")}))
}

impl Exports {
    /// Start a run of layout `req.layout` (checked first: the layout exists, the period reads).
    pub(crate) fn start(&self, ctx: &Ctx, session: &Session, req: ExportRequest) -> Result<ExportRun, ApiError> {
        session.permit(Permission::Export)?;
        if session.key.as_ref().is_some_and(|k| k.restricted()) {
            return Err(ApiError::new("forbidden", "a key limited to groups or a customer cannot run a billing export")
                .with_params(serde_json::json!({"role": "api_key", "permission": "exports:run"})));
        }
        if req.layout.chars().count() > 200 {
            return Err(ApiError::bad_input("layout", "at most 200 characters"));
        }
        let period = billing::Period::new(crate::commands::date("from", &req.from)?, crate::commands::date("to", &req.to)?)?;
        billing::layout_ready(ctx.store(), session, &req.layout)?;
        let id = format!("export-{}", crate::random_hex(12));
        let run = ExportRun {
            id: id.clone(),
            layout: req.layout.clone(),
            from: req.from.clone(),
            to: req.to.clone(),
            state: "running".into(),
            file_name: None,
            rows: None,
            bytes: None,
            sha256: None,
            error: None,
        };
        {
            let mut runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
            if runs.iter().filter(|e| e.run.state == "running").count() >= RUNNING_MAX {
                return Err(ApiError::new("busy", "two billing exports are running already: try again in a moment"));
            }
            runs.push_back(Entry { owner: owner(session), run: run.clone(), file: None });
            while runs.len() > KEPT {
                match runs.iter().position(|e| e.run.state != "running") {
                    Some(i) => {
                        runs.remove(i);
                    }
                    None => break,
                }
            }
        }
        let store = ctx.store_arc();
        let session = session.clone();
        let now = ctx.now();
        let exports = ctx.exports_arc();
        std::thread::spawn(move || {
            let result = billing::layout_run(&store, &session, &req.layout, period, now);
            let mut runs = exports.runs.lock().unwrap_or_else(|p| p.into_inner());
            let Some(e) = runs.iter_mut().find(|e| e.run.id == id) else { return };
            match result {
                Ok(out) => {
                    e.run.state = "done".into();
                    e.run.rows = Some(out.rows);
                    e.run.bytes = Some(out.bytes.len() as u64);
                    e.run.sha256 = Some(out.sha256.clone());
                    e.run.file_name = Some(out.file_name.clone());
                    let media_type = if out.file_name.ends_with(".csv") { "text/csv" } else { "text/plain" };
                    e.file = Some(ExportFile { file_name: out.file_name, media_type, bytes: Arc::new(out.bytes) });
                }
                Err(err) => {
                    let err = ApiError::from(err);
                    e.run.state = "failed".into();
                    e.run.error = serde_json::to_value(&err).ok();
                }
            }
        });
        Ok(run)
    }

    pub(crate) fn get(&self, session: &Session, id: &str) -> Result<ExportRun, ApiError> {
        session.permit(Permission::Export)?;
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let who = owner(session);
        runs.iter().find(|e| e.run.id == id && e.owner == who).map(|e| e.run.clone()).ok_or_else(|| not_found(id))
    }

    pub(crate) fn file(&self, session: &Session, id: &str) -> Result<ExportFile, ApiError> {
        session.permit(Permission::Export)?;
        let runs = self.runs.lock().unwrap_or_else(|p| p.into_inner());
        let who = owner(session);
        let e = runs.iter().find(|e| e.run.id == id && e.owner == who).ok_or_else(|| not_found(id))?;
        match &e.file {
            Some(f) => Ok(ExportFile { file_name: f.file_name.clone(), media_type: f.media_type, bytes: f.bytes.clone() }),
            None if e.run.state == "failed" => Err(ApiError::new("export_failed", "the export failed: see its error")
                .with_params(serde_json::json!({"id": id}))),
            None => Err(ApiError::new("not_ready", "the export is still running").with_params(serde_json::json!({"id": id}))),
        }
    }
}
