//! Work the open app does on its own: every minute the scheduler thread runs the due jobs
//! (watched customers-and-meters folders, the network check for silent gateways and
//! meters, alarm notifications, scheduled billing exports, wired M-Bus buses due a read,
//! the nightly retention run)
//! as the system user; and the MQTT sources receive all the time they are open. Started by the adapters that stay open (`releve serve`, the desktop
//! window); `releve park import-folder`, `releve notify run` and `releve jobs run` do the
//! same from cron or Task Scheduler when the app is closed (the exports' runs are claimed
//! per slot in the store, so the app and cron never run one twice).

use crate::{ApiError, Clock, Ctx};
use releve_core::access::{Permission, Session};
use releve_core::Store;
use std::sync::Arc;
use std::time::Duration;

/// What the scheduler thread of an open app runs besides the always-due jobs.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Schedule {
    /// The nightly retention run (02:00-06:00 local). Off when the utility runs `releve
    /// retention run` from cron instead, and in tests whose fixed demo data the real night
    /// must not compact: `RELEVE_NIGHTLY_RETENTION=off`.
    pub nightly_retention: bool,
}

impl Schedule {
    /// From the environment of the adapter starting the jobs: `RELEVE_NIGHTLY_RETENTION`
    /// `off`/`0`/`no` turns the nightly run off; anything else (or nothing) leaves it on.
    pub fn from_env() -> Schedule {
        let off = std::env::var("RELEVE_NIGHTLY_RETENTION").is_ok_and(|v| matches!(v.trim().to_ascii_lowercase().as_str(), "off" | "0" | "no" | "false"));
        Schedule { nightly_retention: !off }
    }
}

impl Default for Schedule {
    fn default() -> Schedule {
        Schedule { nightly_retention: true }
    }
}

/// Run the due jobs once, as of the clock's `now` (everything, the nightly retention too).
pub fn tick(store: &Store, clock: &Clock, computer: &str) -> Result<(), ApiError> {
    tick_scheduled(store, clock, computer, Schedule::default())
}

/// Run the due jobs once, the optional ones as `schedule` says.
pub fn tick_scheduled(store: &Store, clock: &Clock, computer: &str, schedule: Schedule) -> Result<(), ApiError> {
    let system = Session::system(computer);
    let permit = system.permit(Permission::EditMeters)?;
    let imported = releve_core::park_folder::park_import_folder(store, permit, clock());
    // Files concentrators dropped into the folder sources' folders.
    let delivered = releve_core::sources::sources_folder_run(store, clock(), &releve_core::drop_folder::Watch::default());
    // Silent gateways and meters, before the notices that tell of them.
    let checked = releve_core::silence::network_check(store, clock());
    // Notifications and exports run even when a folder import failed.
    let notified = releve_core::notify::notify_run(store, clock());
    let exported = releve_core::jobs::jobs_run(store, &runner(computer), clock());
    // Wired M-Bus buses whose hourly or daily slot has come (a failed meter tried once more).
    let wired = releve_core::mbus_master::buses::read_due(store, &system, clock());
    // Retention: once a local night, between 02:00 and 06:00 (claimed per day in the store).
    let retained = if schedule.nightly_retention { releve_core::retention::retention_nightly(store, &system, clock()) } else { Ok(None) };
    let imported = imported?;
    let delivered = delivered?;
    checked?;
    notified?;
    let report = exported?;
    // A watched folder no longer allowed is said in words (and is in the audit log).
    let refused = imported.refused.iter().map(|f| format!("the watched folder of '{}' was not read: {}", f.profile, f.reason));
    let mut problems: Vec<String> = refused.collect();
    problems.extend(delivered.refused.iter().map(|(source, why)| format!("the folder of source '{source}' was not read: {why}")));
    if report.failed() > 0 {
        problems.push(format!("{} scheduled export run(s) failed; see the export log", report.failed()));
    }
    let folders_refused = !problems.is_empty();
    match wired {
        Ok(r) => problems.extend(r.meters.iter().filter_map(|m| m.error.as_ref().map(|e| format!("M-Bus {}", e.message)))),
        Err(e) => problems.push(format!("M-Bus buses not read: {e}")),
    }
    let retention_failed = retained.is_err();
    if let Err(e) = retained {
        problems.push(format!("the nightly retention run failed: {e}"));
    }
    if problems.is_empty() {
        return Ok(());
    }
    let code = if report.failed() > 0 {
        "export_failed"
    } else if folders_refused {
        "folder_refused"
    } else if retention_failed {
        "retention_failed"
    } else {
        "mbus_read_failed"
    };
    Err(ApiError::new(code, problems.join("; ")))
}

/// Start the C8/06 aFRR gateway's runner: it idles while no gateway is configured and
/// enabled, and follows its settings (a change reconnects).
pub fn start_c806(store: Arc<Store>) {
    let started = std::thread::Builder::new().name("c806".into()).spawn(move || {
        let stop = std::sync::atomic::AtomicBool::new(false);
        releve_core::c806::runner::run(&store, &releve_core::c806::runner::Options::from_env(), &releve_core::c806::runner::system_ms(), &stop);
    });
    if let Err(e) = started {
        eprintln!("releve: cannot start the C8/06 gateway: {e}");
    }
}

/// Start the webhooks' thread: every ~2 seconds (sooner after the store's change signal,
/// but at most once a second) it makes the events that happened since its cursors, attempts
/// the deliveries due, and once an hour forgets the log past its days. Network waits hold
/// no lock of the store.
pub fn start_webhooks(store: Arc<Store>, clock: Clock) {
    let started = std::thread::Builder::new().name("webhooks".into()).spawn(move || {
        let mut purged = 0;
        loop {
            let began = std::time::Instant::now();
            let generation = store.generation();
            if let Err(e) = webhooks_once(&store, clock(), &mut purged) {
                eprintln!("releve: webhooks: {e}");
            }
            store.wait_changes(generation, Duration::from_secs(2));
            if let Some(rest) = Duration::from_secs(1).checked_sub(began.elapsed()) {
                std::thread::sleep(rest);
            }
        }
    });
    if let Err(e) = started {
        eprintln!("releve: cannot start the webhooks: {e}");
    }
}

/// One round of the webhooks' thread (also `releve webhooks run`).
pub fn webhooks_once(store: &Store, now: i64, purged: &mut i64) -> Result<releve_core::webhooks::Report, releve_core::Error> {
    releve_core::webhooks::events::poll(store, now)?;
    let report = releve_core::webhooks::deliver_due(store, now, releve_core::http::client()?)?;
    if now - *purged >= 3600 {
        releve_core::webhooks::deliver::purge(store, now)?;
        *purged = now;
    }
    Ok(report)
}

/// How this process signs the export runs it makes.
pub(crate) fn runner(computer: &str) -> String {
    format!("{computer} (app, pid {})", std::process::id())
}

impl Ctx {
    /// Start the scheduler thread: `tick` every `every`, errors written to standard error
    /// (the imports themselves are in the audit log); and the MQTT sources' supervisor, which
    /// follows the sources table every 3 seconds; the C8/06 gateway's runner; and the
    /// webhooks' thread. `schedule`: the optional jobs (the nightly retention).
    pub fn start_jobs(&self, every: Duration, schedule: Schedule) {
        releve_core::mqtt::Supervisor::start(self.store.clone(), self.clock.clone(), Duration::from_secs(3));
        start_webhooks(self.store.clone(), self.clock.clone());
        start_c806(self.store.clone());
        let store: Arc<Store> = self.store.clone();
        let clock = self.clock.clone();
        let computer = self.computer.clone();
        std::thread::spawn(move || loop {
            if let Err(e) = tick_scheduled(&store, &clock, &computer, schedule) {
                eprintln!("releve: scheduled job failed: {} ({})", e.message, e.code);
            }
            std::thread::sleep(every);
        });
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn a_tick_imports_the_waiting_file_of_a_watched_folder() {
        let dir = tempfile::tempdir().expect("tmp");
        let inbox = dir.path().join("inbox");
        std::fs::create_dir_all(&inbox).expect("inbox");
        let clock: Clock = Arc::new(|| 1_767_225_600);
        let ctx = Ctx::open_with_clock(&dir.path().join("t.db"), clock.clone()).expect("open");
        let token = crate::test_manager(&ctx, "en", 0);
        ctx.call(Some(&token), "folders_allowed_set", json!({"folders": [inbox.to_string_lossy()]})).expect("allow");
        let profile = json!({"name": "billing", "separator": ";", "has_header": true,
            "mapping": {"customer_number": 0, "customer_name": 1, "meter_serial": 2},
            "folder": inbox.to_string_lossy(), "interval_minutes": 5});
        ctx.call(Some(&token), "park_profile_save", profile).expect("profile");
        std::fs::write(inbox.join("park.csv"), "number;name;serial\nC9;Jeanne Martin;44556677\n").expect("csv");
        // Written a minute before the fixed clock: a file modified moments ago would wait.
        let before = std::time::UNIX_EPOCH + std::time::Duration::from_secs(1_767_225_600 - 60);
        std::fs::File::options().write(true).open(inbox.join("park.csv")).expect("open").set_modified(before).expect("mtime");

        tick(ctx.store(), &clock, "test").expect("tick");
        assert!(inbox.join("done").join("park.csv").exists(), "the file moved to done/");
        let page = ctx.call(Some(&token), "meters_list", json!({"search": "44556677"})).expect("list");
        assert_eq!(page["total"], 1, "{page}");
        assert_eq!(page["rows"][0]["customer_name"], "Jeanne Martin");
    }

    #[test]
    fn a_tick_runs_the_due_scheduled_export_once() {
        use std::sync::atomic::{AtomicI64, Ordering};
        let dir = tempfile::tempdir().expect("tmp");
        let out = dir.path().join("out");
        let at = Arc::new(AtomicI64::new(1_767_258_000)); // 2026-01-01 10:00 in Paris
        let now = at.clone();
        let clock: Clock = Arc::new(move || now.load(Ordering::SeqCst));
        let ctx = Ctx::open_with_clock(&dir.path().join("t.db"), clock.clone()).expect("open");
        let token = crate::test_manager(&ctx, "fr", 0);
        std::fs::create_dir_all(&out).expect("out");
        ctx.call(Some(&token), "folders_allowed_set", json!({"folders": [out.to_string_lossy()]})).expect("allow");
        let layout = json!({"layout": {"name": "Liste", "format": "csv",
            "fields": [{"var": "meter_serial"}, {"var": "value_end"}], "trailer": [{"var": "record_count"}]}});
        ctx.call(Some(&token), "export_layout_save", layout).expect("layout");
        let job = json!({"name": "quotidien", "layout": "Liste", "every": "daily", "hour": 6, "minute": 30,
            "period": "previous_day", "destination": "folder", "folder": out.to_string_lossy()});
        ctx.call(Some(&token), "export_job_save", job).expect("job");

        tick(ctx.store(), &clock, "test").expect("nothing due the day it was saved");
        assert_eq!(std::fs::read_dir(&out).expect("out").count(), 0, "no run before the first slot");
        at.store(1_767_331_800 + 60, Ordering::SeqCst); // 2026-01-02 06:31 in Paris
        tick(ctx.store(), &clock, "test").expect("tick");
        tick(ctx.store(), &clock, "test").expect("again");
        let token = crate::test_login(&ctx); // a day later: the first session ended (idle)
        let runs = ctx.call(Some(&token), "export_runs_list", json!({})).expect("runs");
        let runs = runs.as_array().expect("list");
        assert_eq!(runs.len(), 1, "one run for the slot, however many ticks: {runs:?}");
        assert_eq!(runs[0]["status"], "ok", "{:?}", runs[0]);
        assert_eq!((runs[0]["period_from"].as_str(), runs[0]["period_to"].as_str()), (Some("2026-01-01"), Some("2026-01-01")));
        assert!(runs[0]["runner"].as_str().is_some_and(|r| r.starts_with("test (app, pid ")), "{:?}", runs[0]);
        let file = out.join("liste-2026-01-01_2026-01-01.csv");
        let content = std::fs::read_to_string(&file).unwrap_or_else(|e| panic!("{}: {e}", file.display()));
        assert!(content.ends_with("0\r\n"), "an empty park: the trailer counts 0 records: {content:?}");
    }

    #[test]
    fn a_tick_reads_the_mbus_bus_due_once_an_hour_and_reports_the_failed_meter() {
        use releve_sim::mbus::{Behaviour, Config, MeterConfig};
        use std::sync::atomic::{AtomicI64, Ordering};
        // A water meter 00182007 (GWF) with its volume at 1; 2 silent.
        let data = [0x07, 0x20, 0x18, 0x00, 0xE6, 0x1E, 0x35, 0x07, 0x4C, 0, 0, 0, 0x0C, 0x13, 0x45, 0x23, 0x01, 0x00];
        let frame = hex::encode(mbus::master::long_frame(0x08, 1, 0x72, &data).expect("frame"));
        let meters = vec![
            MeterConfig { primary: 1, frames: vec![frame.clone()], ..MeterConfig::default() },
            MeterConfig { primary: 2, id: Some("22222222".into()), frames: vec![frame], behaviour: Behaviour::Silent, ..MeterConfig::default() },
        ];
        let address = releve_sim::mbus::start_tcp(&Config { baud: 38400, echo: false, meters }).expect("simulator");
        let dir = tempfile::tempdir().expect("tmp");
        let at = Arc::new(AtomicI64::new(1_767_258_000));
        let now = at.clone();
        let clock: Clock = Arc::new(move || now.load(Ordering::SeqCst));
        let ctx = Ctx::open_with_clock(&dir.path().join("t.db"), clock.clone()).expect("open");
        let token = crate::test_manager(&ctx, "en", 0);
        let bus = ctx
            .call(Some(&token), "mbus_bus_save", json!({"name": "Sous-sol", "transport": "tcp", "target": address.to_string(), "baud": 38400, "schedule": "hourly"}))
            .expect("bus");
        let found = json!([{"address": "1"}, {"address": "2"}]);
        ctx.call(Some(&token), "mbus_add_found", json!({"bus_id": bus["id"], "found": found})).expect("meters");

        let e = tick(ctx.store(), &clock, "test").expect_err("meter 2 is silent");
        assert_eq!(e.code, "mbus_read_failed");
        assert!(e.message.contains("Sous-sol, address 2: no answer"), "{}", e.message);
        let answers = ctx.call(Some(&token), "mbus_last_answers", json!({"bus_id": bus["id"]})).expect("answers");
        assert_eq!(answers["meters"][0]["frames"].as_array().map(Vec::len), Some(1), "{answers}");
        assert_eq!(answers["meters"][0]["decoded"][0]["id"], "00182007");
        assert_eq!(answers["meters"][1]["error_code"], "no_answer");
        let first = answers["meters"][0]["answer_at"].clone();
        // The same hour: not read again. The next hour: read again.
        at.fetch_add(600, Ordering::SeqCst);
        let _ = tick(ctx.store(), &clock, "test");
        let answers = ctx.call(Some(&token), "mbus_last_answers", json!({"bus_id": bus["id"]})).expect("answers");
        assert_eq!(answers["meters"][0]["answer_at"], first);
        at.fetch_add(3600, Ordering::SeqCst);
        let _ = tick(ctx.store(), &clock, "test");
        let token = crate::test_login(&ctx); // an hour later: the first session ended (idle)
        let answers = ctx.call(Some(&token), "mbus_last_answers", json!({"bus_id": bus["id"]})).expect("answers");
        assert_ne!(answers["meters"][0]["answer_at"], first);
        let page = ctx.call(Some(&token), "meters_list", json!({"search": "00182007"})).expect("list");
        assert_eq!(page["total"], 1, "the meter read went into the park: {page}");
    }

    #[test]
    fn the_retention_run_comes_once_a_local_night_between_two_and_six() {
        use std::sync::atomic::{AtomicI64, Ordering};
        let dir = tempfile::tempdir().expect("tmp");
        let at = Arc::new(AtomicI64::new(1_767_227_400)); // 2026-01-01 01:30 in Paris
        let now = at.clone();
        let clock: Clock = Arc::new(move || now.load(Ordering::SeqCst));
        let ctx = Ctx::open_with_clock(&dir.path().join("t.db"), clock.clone()).expect("open");
        let runs = || -> i64 {
            ctx.store().reader().expect("reader")
                .query_row("SELECT count(*) FROM audit_log WHERE event = 'retention_run' AND user = 'system'", [], |r| r.get(0))
                .expect("count")
        };
        tick(ctx.store(), &clock, "test").expect("tick");
        assert_eq!(runs(), 0, "not before 02:00");
        at.store(1_767_231_000, Ordering::SeqCst); // 02:30
        tick(ctx.store(), &clock, "test").expect("tick");
        tick(ctx.store(), &clock, "test").expect("tick");
        assert_eq!(runs(), 1, "once that night");
        // Another process (a restart) the same night: the night is claimed in the store.
        let again = Ctx::open_with_clock(&dir.path().join("t.db"), clock.clone()).expect("reopen");
        at.store(1_767_234_600, Ordering::SeqCst); // 03:30
        tick(again.store(), &clock, "other").expect("tick");
        assert_eq!(runs(), 1, "once a night across processes");
        // A day the app was closed at night: opened at 09:00, no purge in the day.
        at.store(1_767_340_800, Ordering::SeqCst); // 2026-01-02 09:00
        tick(ctx.store(), &clock, "test").expect("tick");
        assert_eq!(runs(), 1, "not in the day");
        at.store(1_767_402_600, Ordering::SeqCst); // 2026-01-03 02:10
        tick(ctx.store(), &clock, "test").expect("tick");
        assert_eq!(runs(), 2, "the next night");
        // Turned off (RELEVE_NIGHTLY_RETENTION=off: cron runs it instead): not that night.
        at.store(1_767_488_400, Ordering::SeqCst); // 2026-01-04 02:00
        tick_scheduled(ctx.store(), &clock, "test", Schedule { nightly_retention: false }).expect("tick");
        assert_eq!(runs(), 2, "off");
        tick_scheduled(ctx.store(), &clock, "test", Schedule::default()).expect("tick");
        assert_eq!(runs(), 3, "on again the same night: the night was not claimed while off");
    }
}
