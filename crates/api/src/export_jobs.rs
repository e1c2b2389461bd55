//! The scheduled-export commands (`export_job*`, `export_runs_list`): argument shapes and one
//! call into `releve_core::jobs` per command, with the same name. See COMMANDS.md, "Jobs".

use crate::commands::{IdArgs, ok, parse};
use crate::ApiError;
use crate::bounds::{MAX_LIMIT, opt_id, range, Bounded};
use releve_core::access::Session;
use releve_core::jobs;
use releve_core::store::export_jobs::Job;
use releve_core::Store;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct RunsArgs {
    job_id: Option<i64>,
    limit: Option<i64>,
}

impl Bounded for RunsArgs {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("job_id", self.job_id)?;
        self.limit.map_or(Ok(()), |l| range("limit", l, 1, MAX_LIMIT))
    }
}

/// Run job command `name`; None if `name` is not one. `runner` names this process in the run log.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, runner: &str, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "export_jobs_list" => ok(jobs::export_jobs_list(store, session, now)?),
            "export_job_save" => {
                let job: Job = parse(args)?;
                ok(json!({"id": jobs::export_job_save(store, session, &job, now)?}))
            }
            "export_job_delete" => {
                let a: IdArgs = parse(args)?;
                jobs::export_job_delete(store, session, a.id, now)?;
                ok(json!({}))
            }
            "export_job_test" => {
                let job: Job = parse(args)?;
                ok(jobs::export_job_test(store, session, &job, now)?)
            }
            "export_job_run_now" => {
                let a: IdArgs = parse(args)?;
                ok(jobs::export_job_run_now(store, session, a.id, runner, now)?)
            }
            "export_runs_list" => {
                let a: RunsArgs = parse(args)?;
                ok(jobs::export_runs_list(store, session, a.job_id, a.limit.unwrap_or(200))?)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    matches!(name, "export_jobs_list" | "export_job_save" | "export_job_delete" | "export_job_run_now" | "export_job_test" | "export_runs_list").then(run)
}
