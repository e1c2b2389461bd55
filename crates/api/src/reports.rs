//! The report commands (`report_*`): argument shapes and one call into
//! `releve_core::reports` per command, with the same name. See COMMANDS.md, "Reports".

use crate::commands::date;
use crate::commands::{ok, parse};
use crate::ApiError;
use crate::bounds::{id, opt_amount, opt_id, page, range, Bounded};
use releve_core::access::Session;
use releve_core::reports;
use releve_core::Store;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

#[derive(Deserialize)]
struct ConsumptionArgs {
    from: String,
    to: String,
    group_id: Option<i64>,
    above: Option<f64>,
    below: Option<f64>,
    register: Option<String>,
    /// Only the meters of this type.
    device_type: Option<String>,
    #[serde(default)]
    offset: i64,
    limit: Option<i64>,
}

impl Bounded for ConsumptionArgs {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("group_id", self.group_id)?;
        opt_amount("above", self.above)?;
        opt_amount("below", self.below)?;
        page(self.offset, self.limit)
    }
}

#[derive(Deserialize, Serialize, Clone)]
struct PerformanceArgs {
    from: String,
    to: String,
    group_id: Option<i64>,
    expected_per_day: f64,
    #[serde(default)]
    offset: i64,
    limit: Option<i64>,
}

impl Bounded for PerformanceArgs {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("group_id", self.group_id)?;
        range("expected_per_day", self.expected_per_day, 0.0, 1e6)?;
        page(self.offset, self.limit)
    }
}

#[derive(Deserialize)]
struct SaveArgs {
    params: PerformanceArgs,
    #[serde(default)]
    comment: String,
}

impl Bounded for SaveArgs {
    fn check(&self) -> Result<(), ApiError> {
        self.params.check()
    }
}

#[derive(Deserialize)]
struct CommentArgs {
    id: i64,
    comment: String,
}

impl Bounded for CommentArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)
    }
}

fn consumption_query(a: &ConsumptionArgs) -> Result<reports::ConsumptionQuery<'_>, ApiError> {
    Ok(reports::ConsumptionQuery {
        from: date("from", &a.from)?,
        to: date("to", &a.to)?,
        group_id: a.group_id,
        above: a.above,
        below: a.below,
        register: a.register.as_deref().filter(|r| !r.is_empty()),
        device_type: a.device_type.as_deref().filter(|t| !t.is_empty()),
        offset: a.offset,
        limit: a.limit.unwrap_or(200),
    })
}

fn performance_query(a: &PerformanceArgs) -> Result<reports::PerformanceQuery, ApiError> {
    Ok(reports::PerformanceQuery {
        from: date("from", &a.from)?,
        to: date("to", &a.to)?,
        group_id: a.group_id,
        expected_per_day: a.expected_per_day,
        offset: a.offset,
        limit: a.limit.unwrap_or(200),
    })
}

fn csv(out: Vec<u8>, filename: String, rows: u64) -> Result<Value, ApiError> {
    let content = String::from_utf8(out).map_err(|e| ApiError::new("internal", e.to_string()))?;
    ok(json!({"filename": filename, "rows": rows, "content": content}))
}

/// Run report command `name`; None if `name` is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "report_consumption" => {
                let a: ConsumptionArgs = parse(args)?;
                ok(reports::report_consumption(store, session, &consumption_query(&a)?, now)?)
            }
            "report_consumption_export" => {
                let a: ConsumptionArgs = parse(args)?;
                let mut out = Vec::new();
                let rows = reports::report_consumption_export(store, session, &consumption_query(&a)?, &mut out, now)?;
                csv(out, format!("consumption-{}-{}.csv", a.from, a.to), rows)
            }
            "report_performance" => {
                let a: PerformanceArgs = parse(args)?;
                ok(reports::report_performance(store, session, &performance_query(&a)?, now)?)
            }
            "report_performance_export" => {
                let a: PerformanceArgs = parse(args)?;
                let mut out = Vec::new();
                let rows = reports::report_performance_export(store, session, &performance_query(&a)?, &mut out, now)?;
                csv(out, format!("reading-performance-{}-{}.csv", a.from, a.to), rows)
            }
            "report_performance_save" => {
                let a: SaveArgs = parse(args)?;
                ok(reports::report_performance_save(store, session, &performance_query(&a.params)?, &a.comment, now)?)
            }
            "report_performance_list" => ok(reports::report_performance_list(store, session)?),
            "report_performance_comment" => {
                let a: CommentArgs = parse(args)?;
                ok(reports::report_performance_comment(store, session, a.id, &a.comment, now)?)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    name.starts_with("report_").then(run)
}
