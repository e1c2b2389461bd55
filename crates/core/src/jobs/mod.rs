//! Scheduled billing exports: a saved layout written to a folder or e-mailed at set times.
//! A job's folder is inside an allowed folder (`folders`), checked at save and at each run.
//!
//! `jobs_run` is called every minute by the open app and by `releve jobs run` from cron or
//! Task Scheduler when the app is closed. Each slot of each job is run once, whoever runs
//! it first: the runner claims the slot by inserting its row in `export_runs` (unique per
//! job and slot), so two runners at the same time never run the same slot twice. A failed
//! run is tried again (up to [`MAX_ATTEMPTS`], [`RETRY_AFTER`] seconds apart, growing); one
//! that failed for good is reported by e-mail to the job's `report_to` and in the audit log.
//! Every run is logged: period, file, rows, SHA-256, duration, error.

pub mod schedule;

use crate::access::{Permission, Session};
use crate::billing::{self, ExportOutput, Period};
use crate::error::{Error, Result};
use crate::notify::email::{self, Attachment};
use crate::store::export_jobs::{self as table, Job, NewRun, Outcome, Run};
use crate::store::{self, Store};
use chrono::TimeZone;
use schedule::Schedule;
use serde::Serialize;
use std::path::{Path, PathBuf};
use std::time::Instant;

/// How many times a run is tried in all.
pub const MAX_ATTEMPTS: i64 = 3;
/// Seconds to wait after a failed attempt, times the attempts made.
pub const RETRY_AFTER: i64 = 600;
/// A run still 'running' after this many seconds lost its runner and is tried again.
pub const STALE_AFTER: i64 = 3600;
/// At most this many missed slots of one job are caught up (the latest ones).
pub const CATCH_UP: usize = 31;

/// A job as listed: its fields, when it runs next and how its last run went.
#[derive(Debug, Serialize)]
pub struct JobView {
    #[serde(flatten)]
    pub job: Job,
    pub next_run_at: Option<i64>,
    pub last_run: Option<Run>,
}

pub fn export_jobs_list(store: &Store, session: &Session, now: i64) -> Result<Vec<JobView>> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let tz = crate::settings::timezone(&conn)?;
    let mut views = Vec::new();
    for job in table::jobs(&conn)? {
        let id = job.id.unwrap_or_default();
        let next_run_at = match Schedule::of(&job) {
            Ok(s) if job.enabled => s.next_after(tz, now.max(job.since)),
            _ => None,
        };
        let last_run = table::runs(&conn, Some(id), 1)?.into_iter().next();
        views.push(JobView { job, next_run_at, last_run });
    }
    Ok(views)
}

/// Check and save a job (new when `id` is None); returns its id.
pub fn export_job_save(store: &Store, session: &Session, job: &Job, now: i64) -> Result<i64> {
    let permit = session.permit(Permission::ManageExports)?;
    if job.name.trim().is_empty() {
        return Err(Error::bad_input("name", "give the job a name"));
    }
    Schedule::of(job)?;
    match job.destination.as_str() {
        "folder" if job.folder.trim().is_empty() => return Err(Error::bad_input("folder", "choose the folder the file is written to")),
        "folder" => {}
        "email" if job.email_to.is_empty() => return Err(Error::bad_input("email_to", "give at least one e-mail address")),
        "email" => {}
        other => return Err(Error::bad_input("destination", format!("'{other}': choose folder or email"))),
    }
    for address in job.email_to.iter().chain(&job.report_to) {
        if !address.contains('@') {
            return Err(Error::bad_input("email_to", format!("'{address}' is not an e-mail address")));
        }
    }
    // The form's own fields first (the layout), then where it delivers (the disk, the mail server).
    if store::layouts::get(&*store.reader()?, &job.layout)?.is_none() {
        return Err(Error::bad_input("layout", format!("there is no export layout named '{}'", job.layout)));
    }
    check_destination(store, job)?;
    let conn = store.writer();
    let tx = conn.unchecked_transaction()?;
    if table::job_named(&tx, &job.name)?.is_some_and(|other| Some(other) != job.id) {
        return Err(Error::bad_input("name", format!("a scheduled export named '{}' exists already", job.name)));
    }
    let id = table::save_job(&tx, job, now)?;
    store::audit::record_permit(&tx, permit, now, "export_job_save", &format!("job {id} '{}' (layout '{}')", job.name, job.layout))?;
    tx.commit()?;
    Ok(id)
}

/// Where the job delivers, checked now: a folder that is allowed, exists and takes a file; an
/// SMTP server set when it mails (its files, or a failure report to `report_to`).
fn check_destination(store: &Store, job: &Job) -> Result<()> {
    if job.destination == "folder" {
        crate::folders::check_writable(store, &job.folder)?;
    }
    if job.destination == "email" || !job.report_to.is_empty() {
        email::configured(&crate::notify::load_settings(&*store.reader()?)?)?;
    }
    Ok(())
}

/// What a test of a job did: its period, the file, where it went.
#[derive(Debug, Serialize)]
pub struct JobTest {
    pub period_from: String,
    pub period_to: String,
    pub file_name: String,
    pub rows: u64,
    pub bytes: usize,
    /// The file written, or "e-mail to a@b, c@d".
    pub delivered_to: String,
}

/// Test a job as it is on screen (saved or not): the save's checks, then its export for
/// the period its schedule gives today, delivered now to its folder or addresses. Not a run
/// (the run log is the schedule's); audited `export_job_test`. Needs `manage_exports`.
pub fn export_job_test(store: &Store, session: &Session, job: &Job, now: i64) -> Result<JobTest> {
    let permit = session.permit(Permission::ManageExports)?;
    let schedule = Schedule::of(job)?;
    check_destination(store, job)?;
    let tz = crate::settings::timezone(&*store.reader()?)?;
    let (from, to) = schedule.period_for(local_date(tz, now)?);
    let (from, to) = (from.to_string(), to.to_string());
    // Run as the schedule runs it (the job's own identity, `jobs_run`), so a manager of
    // exports tests what the schedule will do; this test is its one audit entry.
    let (out, place) = deliver(store, &Session::system(&session.computer), job, &from, &to, "test", false, now)?;
    let details = format!("job '{}' test ({from} to {to}): {} rows to {place}", job.name, out.rows);
    store::audit::record_permit(&store.writer(), permit, now, "export_job_test", &details)?;
    Ok(JobTest { period_from: from, period_to: to, file_name: out.file_name.clone(), rows: out.rows, bytes: out.bytes.len(), delivered_to: place })
}

pub fn export_job_delete(store: &Store, session: &Session, id: i64, now: i64) -> Result<()> {
    let permit = session.permit(Permission::ManageExports)?;
    let conn = store.writer();
    let tx = conn.unchecked_transaction()?;
    if !table::delete_job(&tx, id)? {
        return Err(Error::not_found(format!("export job {id}")));
    }
    store::audit::record_permit(&tx, permit, now, "export_job_delete", &format!("job {id}"))?;
    tx.commit()?;
    Ok(())
}

pub fn export_runs_list(store: &Store, session: &Session, job_id: Option<i64>, limit: i64) -> Result<Vec<Run>> {
    session.permit(Permission::View)?;
    table::runs(&*store.reader()?, job_id, limit.clamp(1, 10_000))
}

/// Run a job now, whatever its schedule, for the period its schedule gives today.
pub fn export_job_run_now(store: &Store, session: &Session, id: i64, runner: &str, now: i64) -> Result<Run> {
    session.permit(Permission::ManageExports)?;
    let (job, tz) = {
        let conn = store.reader()?;
        let job = table::job(&conn, id)?.ok_or_else(|| Error::not_found(format!("export job {id}")))?;
        (job, crate::settings::timezone(&conn)?)
    };
    let schedule = Schedule::of(&job)?;
    let today = local_date(tz, now)?;
    let claimed = claim(store, &job, &schedule, today, now, "manual", runner, now)?;
    // `now` is unique per manual run unless the same job is started twice in one second.
    let run_id = claimed.ok_or_else(|| Error::bad_input("job", format!("'{}' is already running", job.name)))?;
    execute(store, session, &job, run_id, now)
}

/// What one call of `jobs_run` did.
#[derive(Debug, Default, Serialize)]
pub struct JobsReport {
    /// Runs made by this call (new slots and retries), as they ended.
    pub runs: Vec<Run>,
}

impl JobsReport {
    pub fn failed(&self) -> usize {
        self.runs.iter().filter(|r| r.status != "ok").count()
    }
}

/// Run what is due at `now`: retries first, then every enabled job's slots not run yet.
/// `runner` names this process in the log (computer and process id).
pub fn jobs_run(store: &Store, runner: &str, now: i64) -> Result<JobsReport> {
    let system = Session::system(runner);
    let mut report = JobsReport::default();
    // Bound first: the writer guard must not live through the loop (the loop writes too).
    let abandoned = table::abandon_stale(&store.writer(), MAX_ATTEMPTS, STALE_AFTER, now)?;
    for lost in abandoned {
        let details = format!("job '{}' run {} attempt {} failed: {}", lost.job, lost.id, lost.attempt, lost.error.as_deref().unwrap_or(""));
        store::audit::record(&store.writer(), now, "export_job_failed", &system.login, &system.computer, &details)?;
        if let Some(job) = table::job(&*store.reader()?, lost.job_id)? {
            report_failure(store, &job, &lost);
        }
        report.runs.push(lost);
    }
    let retries = table::retryable(&*store.reader()?, MAX_ATTEMPTS, RETRY_AFTER, STALE_AFTER, now)?;
    for seen in retries {
        if !table::claim_retry(&store.writer(), &seen, runner, now)? {
            continue; // another runner took it
        }
        let Some(job) = table::job(&*store.reader()?, seen.job_id)? else {
            let outcome = Outcome { error_code: Some("job_deleted"), error_params: Some("{}".into()), ..failure(0, "the job was deleted") };
            table::finish(&store.writer(), seen.id, &outcome, now)?;
            continue;
        };
        report.runs.push(execute(store, &system, &job, seen.id, now)?);
    }
    let (jobs, tz) = {
        let conn = store.reader()?;
        (table::jobs(&conn)?, crate::settings::timezone(&conn)?)
    };
    for job in jobs.iter().filter(|j| j.enabled) {
        let id = job.id.unwrap_or_default();
        let Ok(schedule) = Schedule::of(job) else { continue };
        let after = table::last_slot(&*store.reader()?, id)?.unwrap_or(job.since).max(job.since);
        for slot in schedule.slots(tz, after, now, CATCH_UP) {
            let day = local_date(tz, slot)?;
            if let Some(run_id) = claim(store, job, &schedule, day, slot, "schedule", runner, now)? {
                report.runs.push(execute(store, &system, job, run_id, now)?);
            }
        }
    }
    Ok(report)
}

fn local_date(tz: chrono_tz::Tz, t: i64) -> Result<chrono::NaiveDate> {
    tz.timestamp_opt(t, 0)
        .single()
        .map(|l| l.date_naive())
        .ok_or_else(|| Error::bad_input("time", format!("{t} is not a time")))
}

#[allow(clippy::too_many_arguments)]
fn claim(
    store: &Store,
    job: &Job,
    schedule: &Schedule,
    day: chrono::NaiveDate,
    slot: i64,
    trigger: &str,
    runner: &str,
    now: i64,
) -> Result<Option<i64>> {
    let (from, to) = schedule.period_for(day);
    let (from, to) = (from.to_string(), to.to_string());
    let new = NewRun {
        job,
        job_id: job.id.unwrap_or_default(),
        scheduled_for: slot,
        trigger,
        period_from: &from,
        period_to: &to,
        runner,
    };
    table::claim(&store.writer(), &new, now)
}

fn failure(duration_ms: i64, error: &str) -> Outcome<'_> {
    Outcome { ok: false, file: None, rows: None, bytes: None, sha256: None, duration_ms, error: Some(error), error_code: None, error_params: None }
}

/// A run that failed with `e`: its English wording, its code and its params, so that the run
/// log words it in the reader's language.
fn failed_with<'a>(duration_ms: i64, message: &'a str, e: &Error) -> Outcome<'a> {
    let params = serde_json::Value::Object(e.params()).to_string();
    Outcome { error_code: Some(e.code()), error_params: Some(params), ..failure(duration_ms, message) }
}

/// Produce and deliver the claimed run `run_id`, record how it ended, report a final failure.
fn execute(store: &Store, session: &Session, job: &Job, run_id: i64, now: i64) -> Result<Run> {
    let started = Instant::now();
    let run = table::run(&*store.reader()?, run_id)?.ok_or_else(|| Error::not_found(format!("export run {run_id}")))?;
    let produced = produce_and_deliver(store, session, job, &run, now);
    let duration_ms = i64::try_from(started.elapsed().as_millis()).unwrap_or(i64::MAX);
    let conn = store.writer();
    let tx = conn.unchecked_transaction()?;
    let details = match &produced {
        Ok((out, place)) => {
            let outcome = Outcome {
                ok: true,
                file: Some(place),
                rows: i64::try_from(out.rows).ok(),
                bytes: i64::try_from(out.bytes.len()).ok(),
                sha256: Some(&out.sha256),
                duration_ms,
                error: None,
                error_code: None,
                error_params: None,
            };
            table::finish(&tx, run_id, &outcome, now)?;
            format!("job '{}' run {run_id} ({} to {}): {} rows to {place}", job.name, run.period_from, run.period_to, out.rows)
        }
        Err(e) => {
            let message = e.to_string();
            table::finish(&tx, run_id, &failed_with(duration_ms, &message, e), now)?;
            format!("job '{}' run {run_id} attempt {} failed: {e}", job.name, run.attempt)
        }
    };
    let event = if produced.is_ok() { "export_job_run" } else { "export_job_failed" };
    store::audit::record(&tx, now, event, &session.login, &session.computer, &details)?;
    tx.commit()?;
    drop(conn);
    let ended = table::run(&*store.reader()?, run_id)?.ok_or_else(|| Error::not_found(format!("export run {run_id}")))?;
    if ended.status == "failed" && ended.attempt >= MAX_ATTEMPTS {
        report_failure(store, job, &ended);
    }
    Ok(ended)
}

/// Tell the job's `report_to` that a run failed for good. A failure to tell is only logged:
/// the run log and the audit log keep the failure anyway.
fn report_failure(store: &Store, job: &Job, run: &Run) {
    if job.report_to.is_empty() {
        return;
    }
    let settings = match store.reader().and_then(|c| crate::notify::load_settings(&c)) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("releve: cannot report the failed export '{}': {e}", job.name);
            return;
        }
    };
    let subject = format!("Relevé: export '{}' failed", job.name);
    let body = format!(
        "The scheduled export '{}' (layout '{}', period {} to {}) failed {} times.\nLast error: {}\n\nIt will not be tried again by itself: fix the cause and use \"Run now\" in Relevé.\n",
        job.name,
        job.layout,
        run.period_from,
        run.period_to,
        run.attempt,
        run.error.as_deref().unwrap_or("unknown")
    );
    for to in &job.report_to {
        if let Err(e) = email::send(&settings, to, &subject, &body) {
            eprintln!("releve: {e}");
        }
    }
}

fn produce_and_deliver(store: &Store, session: &Session, job: &Job, run: &Run, now: i64) -> Result<(ExportOutput, String)> {
    deliver(store, session, job, &run.period_from, &run.period_to, &run.id.to_string(), true, now)
}

/// Produce the job's file for `period_from`..`period_to` and deliver it; `tag` names the
/// run in a file name that would overwrite a different file (`-run<tag>`) and in temporary
/// names.
#[allow(clippy::too_many_arguments)]
fn deliver(
    store: &Store,
    session: &Session,
    job: &Job,
    period_from: &str,
    period_to: &str,
    tag: &str,
    audited: bool,
    now: i64,
) -> Result<(ExportOutput, String)> {
    let parse = |field: &str, s: &str| {
        chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| Error::bad_input(field.to_string(), s.to_string()))
    };
    let period = Period::new(parse("period_from", period_from)?, parse("period_to", period_to)?)?;
    // Checked again at each run: a folder taken off the allowed list is not written.
    let folder = match job.destination.as_str() {
        "email" => None,
        _ => Some(crate::folders::check(store, &job.folder)?),
    };
    let out = billing::layout_run_audited(store, session, &job.layout, period, now, audited)?;
    let place = match job.destination.as_str() {
        "email" => {
            let settings = crate::notify::load_settings(&*store.reader()?)?;
            let subject = format!("Relevé: {} {period_from} – {period_to}", job.layout);
            let body = format!(
                "Billing export '{}' for {period_from} to {period_to}: {} rows.\nFile: {}\nSHA-256: {}\n",
                job.layout, out.rows, out.file_name, out.sha256
            );
            let attachment = Attachment {
                file_name: out.file_name.clone(),
                content_type: content_type(&out.file_name).to_string(),
                bytes: out.bytes.clone(),
            };
            for to in &job.email_to {
                email::send_with_attachments(&settings, to, &subject, &body, std::slice::from_ref(&attachment))?;
            }
            format!("e-mail to {}", job.email_to.join(", "))
        }
        _ => {
            let folder = folder.unwrap_or_else(|| PathBuf::from(&job.folder));
            write_file(&folder, &out.file_name, &out.bytes, tag)?.display().to_string()
        }
    };
    Ok((out, place))
}

fn content_type(file_name: &str) -> &'static str {
    if file_name.ends_with(".csv") {
        "text/csv"
    } else {
        "text/plain"
    }
}

/// Write `bytes` as `folder/name` whole or not at all (a temporary file renamed), so a
/// billing system polling the folder never reads half a file. An existing different file
/// of the same name is kept: the new one gets the run id in its name.
fn write_file(folder: &Path, name: &str, bytes: &[u8], run_id: &str) -> Result<PathBuf> {
    std::fs::create_dir_all(folder).map_err(|e| Error::io(folder, e))?;
    let mut target = folder.join(name);
    if let Ok(existing) = std::fs::read(&target) {
        if existing == bytes {
            return Ok(target);
        }
        let (stem, ext) = name.rsplit_once('.').unwrap_or((name, ""));
        target = folder.join(format!("{stem}-run{run_id}.{ext}"));
    }
    let tmp = folder.join(format!(".{name}.{run_id}.part"));
    std::fs::write(&tmp, bytes).map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, &target).map_err(|e| Error::io(&target, e))?;
    Ok(target)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_last_attempt_whose_runner_died_is_marked_failed_not_left_running() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(&dir.path().join("j.db")).expect("open");
        let t0 = 1_767_258_000;
        let job = Job::monthly_to_folder("j", "l", "/nonexistent");
        let id = table::save_job(&store.writer(), &job, t0).expect("job");
        let job = Job { id: Some(id), ..job };
        let new = NewRun { job: &job, job_id: id, scheduled_for: t0, trigger: "schedule", period_from: "2026-01-01", period_to: "2026-01-31", runner: "a" };
        let run_id = table::claim(&store.writer(), &new, t0).expect("claim").expect("claimed");
        for attempt in 1..MAX_ATTEMPTS {
            table::finish(&store.writer(), run_id, &failure(1, "boom"), t0).expect("finish");
            let seen = table::run(&store.reader().expect("r"), run_id).expect("run").expect("some");
            assert_eq!(seen.attempt, attempt);
            assert!(table::claim_retry(&store.writer(), &seen, "b", t0).expect("retry"));
        }
        // The runner of the last attempt died: an hour later the run is closed as failed.
        let report = jobs_run(&store, "c", t0 + STALE_AFTER - 1).expect("too early");
        assert!(report.runs.is_empty());
        let report = jobs_run(&store, "c", t0 + STALE_AFTER).expect("run");
        assert_eq!(report.runs.len(), 1);
        let run = &report.runs[0];
        assert_eq!((run.status.as_str(), run.attempt), ("failed", MAX_ATTEMPTS));
        assert!(run.error.as_deref().is_some_and(|e| e.contains("stopped without finishing")), "{run:?}");
        assert!(jobs_run(&store, "c", t0 + 10 * STALE_AFTER).expect("later").runs.is_empty(), "no retry after the last attempt");
    }
}
