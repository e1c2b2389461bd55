//! The retention commands (`retention_settings`, `retention_settings_set`,
//! `retention_preview`, `retention_run`): one call into `releve_core::retention` each; a run
//! goes on as a background task followed with `import_status` (meters done / all). See
//! COMMANDS.md, "Retention".

use crate::bounds::{range, Bounded};
use crate::commands::{ok, parse};
use crate::{ApiError, Ctx};
use releve_core::access::{Permission, Session};
use releve_core::retention::{self, RetentionNumbers};
use serde::Deserialize;
use serde_json::{json, Value};
use std::ops::ControlFlow;

/// The command names of this file.
pub(crate) const NAMES: [&str; 4] = ["retention_preview", "retention_run", "retention_settings", "retention_settings_set"];

#[derive(Deserialize)]
struct NoArgs {}

impl Bounded for NoArgs {}

impl Bounded for RetentionNumbers {
    fn check(&self) -> Result<(), ApiError> {
        range("readings_full_months", self.readings_full_months, 1, 120)?;
        range("readings_years", self.readings_years, 1, 100)?;
        range("telegrams_months", self.telegrams_months, 1, 1200)?;
        range("feed_days", self.feed_days, 1, 3650)
    }
}

pub(crate) fn call(ctx: &Ctx, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let store = ctx.store();
    let run = || -> Result<Value, ApiError> {
        match name {
            "retention_settings" => {
                let _: NoArgs = parse(args)?;
                ok(retention::retention_settings(store, session)?)
            }
            "retention_settings_set" => {
                let a: RetentionNumbers = parse(args)?;
                ok(retention::retention_settings_set(store, session, &a, now)?)
            }
            "retention_preview" => {
                let _: NoArgs = parse(args)?;
                ok(retention::retention_preview(store, session, now)?)
            }
            "retention_run" => {
                let _: NoArgs = parse(args)?;
                run_start(ctx, session, now)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    NAMES.contains(&name).then(run)
}

/// Start a run in the background: a task whose `processed_lines` / `total_lines` are the
/// meters done, and whose `report` is the run's report when done.
fn run_start(ctx: &Ctx, session: &Session, now: i64) -> Result<Value, ApiError> {
    session.permit(Permission::Settings)?;
    let (task_id, task) = ctx.tasks.start(session.user_id, 1);
    let store = ctx.store.clone();
    let session = session.clone();
    std::thread::spawn(move || {
        let result = session.permit(Permission::Settings).map_err(ApiError::from).and_then(|permit| {
            retention::retention_run(&store, permit, now, &mut |p| {
                let mut t = task.lock().unwrap_or_else(|p| p.into_inner());
                t.processed_lines = p.meters_done;
                t.total_lines = p.meters_total.max(1);
                ControlFlow::Continue(())
            })
            .map_err(ApiError::from)
        });
        let mut t = task.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(report) => {
                t.state = "done";
                t.processed_lines = t.total_lines;
                t.report = Some(serde_json::to_value(&report).unwrap_or(Value::Null));
            }
            Err(e) => {
                t.state = "failed";
                t.error = Some(e);
            }
        }
    });
    ok(json!({ "task": task_id }))
}
