//! The billing-export layout commands (`export_variables`, `export_layouts_list`,
//! `export_layout_*`): argument shapes and one call into `releve_core::billing` each, with
//! the same name. See COMMANDS.md, "Billing export layouts".

use crate::commands::date;
use crate::ApiError;
use base64::Engine;
use releve_core::access::Session;
use releve_core::billing::{self, Layout, Period};
use releve_core::Store;
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

/// Preview lines by default, and at most.
const PREVIEW_LINES: usize = 20;
const MAX_PREVIEW_LINES: usize = 1_000;

const NAMES: &[&str] = &[
    "export_variables",
    "export_layouts_list",
    "export_layout_get",
    "export_layout_save",
    "export_layout_copy",
    "export_layout_delete",
    "export_layout_preview",
    "export_layout_dry_run",
    "export_layout_run",
];

#[derive(Deserialize)]
struct NameArgs {
    name: String,
}

#[derive(Deserialize)]
struct SaveArgs {
    layout: Value,
}

#[derive(Deserialize)]
struct CopyArgs {
    name: String,
    new_name: String,
}

#[derive(Deserialize)]
struct RunArgs {
    name: String,
    from: String,
    to: String,
}

#[derive(Deserialize)]
struct PreviewArgs {
    /// An unsaved layout (the editor's), or
    layout: Option<Value>,
    /// a saved one.
    name: Option<String>,
    from: String,
    to: String,
    limit: Option<usize>,
}

fn ok<T: Serialize>(v: T) -> Result<Value, ApiError> {
    serde_json::to_value(v).map_err(|e| ApiError::new("internal", e.to_string()))
}

fn parse<T: DeserializeOwned>(args: Value) -> Result<T, ApiError> {
    let args = if args.is_null() { json!({}) } else { args };
    serde_json::from_value(args).map_err(|e| ApiError::new("bad_request", format!("invalid arguments: {e}")))
}

/// A layout from the editor: its JSON errors say which field is wrong.
fn layout(v: Value) -> Result<Layout, ApiError> {
    serde_json::from_value(v).map_err(|e| ApiError::new("bad_input", format!("layout: {e}")))
}

fn period(from: &str, to: &str) -> Result<Period, ApiError> {
    Ok(Period::new(date("from", from)?, date("to", to)?)?)
}

/// Run layout command `name`; None if `name` is not one.
pub(crate) fn call(
    store: &Store,
    session: &Session,
    name: &str,
    args: Value,
    now: i64,
) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "export_variables" => {
                session.permit(releve_core::access::Permission::View)?;
                ok(billing::variables())
            }
            "export_layouts_list" => ok(billing::layouts_list(store, session)?),
            "export_layout_get" => {
                let a: NameArgs = parse(args)?;
                ok(billing::layout_get(store, session, &a.name)?)
            }
            "export_layout_save" => {
                let a: SaveArgs = parse(args)?;
                let (id, created) = billing::layout_save(store, session, &layout(a.layout)?, now)?;
                ok(json!({"id": id, "created": created}))
            }
            "export_layout_copy" => {
                let a: CopyArgs = parse(args)?;
                ok(billing::layout_copy(store, session, &a.name, &a.new_name, now)?)
            }
            "export_layout_delete" => {
                let a: NameArgs = parse(args)?;
                billing::layout_delete(store, session, &a.name, now)?;
                ok(json!({}))
            }
            "export_layout_preview" => {
                let a: PreviewArgs = parse(args)?;
                let p = period(&a.from, &a.to)?;
                let limit = a.limit.unwrap_or(PREVIEW_LINES).clamp(1, MAX_PREVIEW_LINES);
                match (a.layout, a.name) {
                    (Some(l), _) => ok(billing::layout_preview(store, session, &layout(l)?, p, limit, now)?),
                    (None, Some(n)) => ok(billing::layout_preview_saved(store, session, &n, p, limit, now)?),
                    (None, None) => Err(ApiError::new("bad_request", "give a layout or the name of a saved one")),
                }
            }
            "export_layout_dry_run" => {
                let a: RunArgs = parse(args)?;
                ok(billing::layout_dry_run(store, session, &a.name, period(&a.from, &a.to)?, now)?)
            }
            "export_layout_run" => {
                let a: RunArgs = parse(args)?;
                let out = billing::layout_run(store, session, &a.name, period(&a.from, &a.to)?, now)?;
                ok(json!({
                    "file_name": out.file_name,
                    "content": out.encoding.decode(&out.bytes),
                    "content_base64": base64::engine::general_purpose::STANDARD.encode(&out.bytes),
                    "encoding": out.encoding,
                    "rows": out.rows,
                    "sha256": out.sha256,
                    "warnings": out.warnings,
                }))
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    NAMES.contains(&name).then(run)
}
