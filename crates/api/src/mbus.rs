//! The wired M-Bus commands (`mbus_buses_list`, `mbus_bus_save`, `mbus_bus_delete`,
//! `mbus_scan_start`, `mbus_read_now`, `mbus_add_found`, `mbus_remove_meter`,
//! `mbus_last_answers`): argument shapes and one call into `releve_core::mbus_master::buses`
//! each; a scan runs as a background task followed with `import_status`. See COMMANDS.md,
//! "Wired M-Bus".

use crate::bounds::{id, range, Bounded};
use crate::commands::{ok, parse};
use crate::{ApiError, Ctx};
use releve_core::access::{Permission, Session};
use releve_core::mbus_master::buses::{self, BusInput, FoundInput, MAX_LATENCY_MS};
use serde::Deserialize;
use serde_json::{json, Value};

/// The command names of this file.
pub(crate) const NAMES: [&str; 9] = [
    "mbus_add_found",
    "mbus_bus_delete",
    "mbus_bus_save",
    "mbus_buses_list",
    "mbus_last_answers",
    "mbus_read_now",
    "mbus_read_start",
    "mbus_remove_meter",
    "mbus_scan_start",
];

#[derive(Deserialize)]
struct NoArgs {}

impl Bounded for NoArgs {}

impl Bounded for BusInput {
    fn check(&self) -> Result<(), ApiError> {
        if self.id != 0 {
            id("id", self.id)?;
        }
        range("baud", self.baud, 300, 38_400)?;
        range("latency_ms", self.latency_ms, 0, MAX_LATENCY_MS)
    }
}

#[derive(Deserialize)]
struct BusArgs {
    bus_id: i64,
}

impl Bounded for BusArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("bus_id", self.bus_id)
    }
}

#[derive(Deserialize)]
struct ScanArgs {
    bus_id: i64,
    #[serde(default)]
    secondary: bool,
}

impl Bounded for ScanArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("bus_id", self.bus_id)
    }
}

#[derive(Deserialize)]
struct ReadArgs {
    bus_id: i64,
    /// Only this meter (`5` or 16 characters); every meter of the bus when absent.
    address: Option<String>,
}

impl Bounded for ReadArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("bus_id", self.bus_id)
    }
}

#[derive(Deserialize)]
struct AddFoundArgs {
    bus_id: i64,
    found: Vec<FoundInput>,
}

impl Bounded for AddFoundArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("bus_id", self.bus_id)?;
        range("found", self.found.len(), 1, 500)?;
        self.found.iter().try_for_each(|f| {
            f.version.map_or(Ok(()), |v| range("version", v, 0, 255))?;
            f.medium.map_or(Ok(()), |v| range("medium", v, 0, 255))
        })
    }
}

#[derive(Deserialize)]
struct RemoveArgs {
    bus_id: i64,
    address: String,
}

impl Bounded for RemoveArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("bus_id", self.bus_id)
    }
}

/// Run M-Bus command `name`; None if `name` is not one.
pub(crate) fn call(ctx: &Ctx, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let store = ctx.store();
    let run = || -> Result<Value, ApiError> {
        match name {
            "mbus_buses_list" => {
                let _: NoArgs = parse(args)?;
                ok(buses::list(store, session)?)
            }
            "mbus_bus_save" => {
                let b: BusInput = parse(args)?;
                ok(buses::save(store, session, &b, now)?)
            }
            "mbus_bus_delete" => {
                let a: crate::commands::IdArgs = parse(args)?;
                buses::delete(store, session, a.id, now)?;
                ok(json!({}))
            }
            "mbus_scan_start" => {
                let a: ScanArgs = parse(args)?;
                scan_start(ctx, session, a)
            }
            "mbus_read_now" => {
                let a: ReadArgs = parse(args)?;
                ok(buses::read_bus(store, session, a.bus_id, a.address.as_deref(), now)?)
            }
            "mbus_read_start" => {
                let a: ReadArgs = parse(args)?;
                read_start(ctx, session, a)
            }
            "mbus_add_found" => {
                let a: AddFoundArgs = parse(args)?;
                ok(json!({ "ids": buses::add_found(store, session, a.bus_id, &a.found, now)? }))
            }
            "mbus_remove_meter" => {
                let a: RemoveArgs = parse(args)?;
                buses::remove_meter(store, session, a.bus_id, &a.address, now)?;
                ok(json!({}))
            }
            "mbus_last_answers" => {
                let a: BusArgs = parse(args)?;
                last_answers(ctx, session, a.bus_id)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    NAMES.contains(&name).then(run)
}

/// Start reading a bus (or one of its meters) in the background: a task whose
/// `processed_lines` / `total_lines` are the meters read, and whose `report` is the read's
/// report (as `mbus_read_now` gives it) when done.
fn read_start(ctx: &Ctx, session: &Session, a: ReadArgs) -> Result<Value, ApiError> {
    session.permit(Permission::Import)?;
    let (task_id, task) = ctx.tasks.start(session.user_id, 1);
    let store = ctx.store.clone();
    let now = ctx.now();
    let session = session.clone();
    std::thread::spawn(move || {
        let result = buses::read_bus_with(&store, &session, a.bus_id, a.address.as_deref(), now, &mut |done, total| {
            let mut t = task.lock().unwrap_or_else(|p| p.into_inner());
            t.processed_lines = u64::try_from(done).unwrap_or(u64::MAX);
            t.total_lines = u64::try_from(total.max(1)).unwrap_or(u64::MAX);
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
                t.error = Some(ApiError::from(e));
            }
        }
    });
    ok(json!({ "task": task_id }))
}

/// Start a scan in the background: a task whose `processed_lines` / `total_lines` are the
/// steps done, and whose `report.found` grows as slaves are found.
fn scan_start(ctx: &Ctx, session: &Session, a: ScanArgs) -> Result<Value, ApiError> {
    session.permit(Permission::Import)?;
    let total = if a.secondary { 1000 } else { 251 };
    let (task_id, task) = ctx.tasks.start(session.user_id, total);
    let store = ctx.store.clone();
    let now = ctx.now();
    let session = session.clone();
    std::thread::spawn(move || {
        let mut found: Vec<Value> = Vec::new();
        let result = buses::scan_bus(&store, &session, a.bus_id, a.secondary, now, &mut |p, f| {
            if let Some(f) = f {
                found.push(serde_json::to_value(f).unwrap_or(Value::Null));
            }
            let mut t = task.lock().unwrap_or_else(|p| p.into_inner());
            t.processed_lines = p.done;
            t.total_lines = p.total;
            t.report = Some(json!({ "found": found }));
        });
        let mut t = task.lock().unwrap_or_else(|p| p.into_inner());
        match result {
            Ok(all) => {
                t.state = "done";
                t.processed_lines = t.total_lines;
                t.report = Some(json!({ "found": all }));
            }
            Err(e) => {
                t.state = "failed";
                t.error = Some(ApiError::from(e));
            }
        }
    });
    ok(json!({ "task": task_id }))
}

/// Each meter of a bus with its last answer: the raw frames and their decoded records.
fn last_answers(ctx: &Ctx, session: &Session, bus_id: i64) -> Result<Value, ApiError> {
    let all = buses::list(ctx.store(), session)?;
    let bus = all.into_iter().find(|b| b.bus.id == bus_id).ok_or_else(|| ApiError::new("not_found", format!("bus {bus_id} not found")))?;
    let meters: Vec<Value> = bus
        .meters
        .iter()
        .map(|m| {
            let decoded: Vec<Value> = m
                .frames
                .iter()
                .map(|f| match hex::decode(f).map_err(|e| e.to_string()).and_then(|b| mbus::decode(&b, None).map_err(|e| e.to_string())) {
                    Ok(t) => serde_json::from_str(&t.to_json()).unwrap_or(Value::Null),
                    Err(e) => json!({ "error": e }),
                })
                .collect();
            json!({
                "address": m.address, "meter_id": m.meter_id, "serial": m.serial, "answer_at": m.answer_at,
                "frames": m.frames, "decoded": decoded, "error_code": m.error_code, "error": m.error,
            })
        })
        .collect();
    ok(json!({ "bus": bus.bus, "meters": meters }))
}
