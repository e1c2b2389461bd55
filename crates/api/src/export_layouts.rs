//! The billing-export layout commands (`export_variables`, `export_layouts_list`,
//! `export_layout_*`): argument shapes and one call into `releve_core::billing` each, with
//! the same name. See COMMANDS.md, "Billing export layouts".

use crate::commands::{date, ok, parse};
use crate::ApiError;
use crate::bounds::{range, Bounded};
use base64::Engine;
use releve_core::access::Session;
use releve_core::billing::{self, Layout, Period};
use releve_core::Store;
use serde::Deserialize;
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

impl Bounded for NameArgs {}

#[derive(Deserialize)]
struct SaveArgs {
    layout: Value,
    /// The name the layout was opened under, when the editor renamed it.
    previous_name: Option<String>,
}

impl Bounded for SaveArgs {}

#[derive(Deserialize)]
struct CopyArgs {
    name: String,
    new_name: String,
}

impl Bounded for CopyArgs {}

#[derive(Deserialize)]
struct RunArgs {
    /// The saved layout (run as saved, or, with `layout`, whose last file is compared and kept).
    name: Option<String>,
    /// The layout as on screen: run as given, nothing saved.
    layout: Option<Value>,
    from: String,
    to: String,
}

impl RunArgs {
    /// The layout given, or else the saved layout's name.
    fn source(self) -> Result<(Option<Layout>, Option<String>, Period), ApiError> {
        let p = period(&self.from, &self.to)?;
        match (self.layout, self.name) {
            (Some(l), name) => Ok((Some(layout(l)?), name, p)),
            (None, Some(name)) => Ok((None, Some(name), p)),
            (None, None) => Err(ApiError::new("bad_request", "give a layout or the name of a saved one")),
        }
    }
}

impl Bounded for RunArgs {}

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

impl Bounded for PreviewArgs {
    fn check(&self) -> Result<(), ApiError> {
        self.limit.map_or(Ok(()), |l| range("limit", l, 1, MAX_PREVIEW_LINES))
    }
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
                let l = layout(a.layout)?;
                match a.previous_name.as_deref() {
                    Some(previous) => ok(billing::layout_save_renaming(store, session, previous, &l, now)?),
                    None => {
                        let (id, created) = billing::layout_save(store, session, &l, now)?;
                        ok(json!({"id": id, "created": created, "jobs_moved": []}))
                    }
                }
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
                ok(match a.source()? {
                    (Some(l), name, p) => billing::layout_dry_run_given(store, session, name.as_deref(), &l, p, now)?,
                    (None, name, p) => billing::layout_dry_run(store, session, name.as_deref().unwrap_or(""), p, now)?,
                })
            }
            "export_layout_run" => {
                let a: RunArgs = parse(args)?;
                let out = match a.source()? {
                    (Some(l), name, p) => billing::layout_run_given(store, session, name.as_deref(), &l, p, now)?,
                    (None, name, p) => billing::layout_run(store, session, name.as_deref().unwrap_or(""), p, now)?,
                };
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

#[cfg(test)]
mod tests {
    use crate::{Clock, Ctx};
    use serde_json::json;
    use std::sync::Arc;

    /// 2026-02-03 in Paris.
    const NOW: i64 = 1_770_105_600;

    fn manager(ctx: &Ctx) -> String {
        crate::test_manager(ctx, "fr", NOW)
    }

    #[test]
    fn value_errors_and_a_layout_in_use_reach_the_fronts_as_structured_details() {
        let dir = tempfile::tempdir().expect("tmp");
        let clock: Clock = Arc::new(|| NOW);
        let ctx = Ctx::open_with_clock(&dir.path().join("t.db"), clock).expect("open");
        let t = manager(&ctx);
        let call = |name: &str, args: serde_json::Value| ctx.call(Some(&t), name, args);
        // A header text wider than its field: refused whatever the meters.
        let layout = json!({"name": "Étroit", "format": "fixed",
            "fields": [{"var": "meter_serial", "width": 8}],
            "header": [{"var": "text", "text": "RELEVE-EAU", "width": 6}]});
        let saved = call("export_layout_save", json!({"layout": layout})).expect("save");
        assert_eq!((saved["created"].as_bool(), saved["jobs_moved"].as_array().map(Vec::len)), (Some(true), Some(0)));
        let period = json!({"name": "Étroit", "from": "2026-01-01", "to": "2026-01-31"});
        let preview = call("export_layout_preview", period.clone()).expect("preview");
        let expected = json!([{"record": "header", "field": 1, "var": "text", "value": "RELEVE-EAU",
            "problem": "too_wide", "width": 6,
            "message": "header, field 1 (text): \"RELEVE-EAU\" does not fit in 6 characters"}]);
        assert_eq!(preview["errors"], expected);
        assert_eq!(call("export_layout_dry_run", period.clone()).expect("dry run")["errors"], expected);
        let refused = call("export_layout_run", period).expect_err("refused");
        assert_eq!((refused.code.as_str(), refused.http_status()), ("bad_input", 400));
        assert_eq!(refused.message, "header, field 1 (text): \"RELEVE-EAU\" does not fit in 6 characters");
        assert_eq!(serde_json::Value::Object(refused.params), json!({"errors": expected, "count": 1}));

        // A job uses it: deleting is a conflict naming the job; renaming takes the job along.
        let job = json!({"name": "Mensuel", "layout": "Étroit", "every": "monthly", "day": 1, "hour": 6,
            "period": "previous_month", "destination": "folder", "folder": dir.path().join("out")});
        // Its folder is refused until allowed, as a 400 with the code and folder for the UI.
        let out = dir.path().join("out").to_string_lossy().into_owned();
        let e = call("export_job_save", job.clone()).expect_err("not allowed");
        assert_eq!((e.code.as_str(), e.http_status()), ("bad_input", 400));
        assert_eq!(serde_json::Value::Object(e.params), json!({"code": "folder_not_allowed", "folder": out}));
        let db_dir = dir.path().to_string_lossy();
        let e = call("folders_allowed_set", json!({"folders": [db_dir]})).expect_err("holds the database");
        assert_eq!(serde_json::Value::Object(e.params), json!({"code": "folder_is_store", "folder": db_dir}));
        call("folders_allowed_set", json!({"folders": [out]})).expect("allow");
        let e = call("export_job_save", job.clone()).expect_err("missing");
        assert_eq!(serde_json::Value::Object(e.params), json!({"code": "folder_missing", "folder": out}));
        std::fs::create_dir_all(dir.path().join("out")).expect("out");
        let id = call("export_job_save", job).expect("job")["id"].clone();
        let e = call("export_layout_delete", json!({"name": "Étroit"})).expect_err("in use");
        assert_eq!((e.code.as_str(), e.http_status()), ("in_use", 409));
        assert_eq!(serde_json::Value::Object(e.params), json!({"layout": "Étroit", "jobs": [{"id": id, "name": "Mensuel"}]}));
        let renamed = json!({"name": "Large", "format": "fixed", "fields": [{"var": "meter_serial", "width": 8}]});
        let r = call("export_layout_save", json!({"layout": renamed, "previous_name": "Étroit"})).expect("rename");
        assert_eq!((r["created"].as_bool(), r["jobs_moved"].clone()), (Some(false), json!(["Mensuel"])));
        let jobs = call("export_jobs_list", json!({})).expect("jobs");
        assert_eq!(jobs[0]["layout"], "Large");
        let names: Vec<String> = call("export_layouts_list", json!({}))
            .expect("list")
            .as_array()
            .expect("list")
            .iter()
            .filter_map(|l| l["name"].as_str().map(str::to_string))
            .collect();
        assert_eq!(names, ["Large"]);
    }
}
