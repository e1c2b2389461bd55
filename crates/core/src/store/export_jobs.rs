//! Tables `export_jobs` and `export_runs`: scheduled billing exports and every run of them.
//! A run is claimed by inserting its (job, slot) row: the UNIQUE key lets only one runner
//! (the open app, `releve jobs run` from cron) have it; a retry is claimed by a conditional
//! UPDATE of the failed row, which again only one runner wins.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// A scheduled export as stored (address lists are kept newline-joined in their columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Job {
    #[serde(default)]
    pub id: Option<i64>,
    pub name: String,
    pub layout: String,
    /// "daily", "weekly" or "monthly".
    pub every: String,
    /// 1 = Monday .. 7 = Sunday (weekly jobs).
    #[serde(default = "one")]
    pub weekday: u32,
    /// 1..28 (monthly jobs).
    #[serde(default = "one")]
    pub day: u32,
    pub hour: u32,
    #[serde(default)]
    pub minute: u32,
    /// "previous_day", "previous_week", "previous_month" or "month_to_date".
    pub period: String,
    /// "folder" or "email".
    pub destination: String,
    #[serde(default)]
    pub folder: String,
    #[serde(default)]
    pub email_to: Vec<String>,
    /// Who is told by e-mail when a run failed for good.
    #[serde(default)]
    pub report_to: Vec<String>,
    #[serde(default = "yes")]
    pub enabled: bool,
    /// When the job was last saved: slots before it are not owed (a job saved at 10:00 for
    /// 06:00 runs first tomorrow; a changed hour does not export the same period twice).
    #[serde(default)]
    pub since: i64,
}

impl Job {
    /// The usual billing job: on the 1st of every month at 06:00, the month before, written
    /// to `folder`; enabled.
    pub fn monthly_to_folder(name: &str, layout: &str, folder: &str) -> Job {
        Job {
            id: None,
            name: name.into(),
            layout: layout.into(),
            every: "monthly".into(),
            weekday: 1,
            day: 1,
            hour: 6,
            minute: 0,
            period: "previous_month".into(),
            destination: "folder".into(),
            folder: folder.into(),
            email_to: Vec::new(),
            report_to: Vec::new(),
            enabled: true,
            since: 0,
        }
    }
}

fn one() -> u32 {
    1
}

fn yes() -> bool {
    true
}

fn split(s: String) -> Vec<String> {
    s.split('\n').filter(|x| !x.is_empty()).map(str::to_string).collect()
}

const JOB_COLS: &str =
    "id, name, layout, every, weekday, day, hour, minute, period, destination, folder, email_to, report_to, enabled, updated_at";

fn job_of(r: &Row<'_>) -> rusqlite::Result<Job> {
    Ok(Job {
        id: r.get(0)?,
        name: r.get(1)?,
        layout: r.get(2)?,
        every: r.get(3)?,
        weekday: r.get(4)?,
        day: r.get(5)?,
        hour: r.get(6)?,
        minute: r.get(7)?,
        period: r.get(8)?,
        destination: r.get(9)?,
        folder: r.get(10)?,
        email_to: split(r.get(11)?),
        report_to: split(r.get(12)?),
        enabled: r.get(13)?,
        since: r.get(14)?,
    })
}

pub fn jobs(conn: &Connection) -> Result<Vec<Job>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {JOB_COLS} FROM export_jobs ORDER BY name, id"))?;
    let rows = stmt.query_map([], job_of)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn job(conn: &Connection, id: i64) -> Result<Option<Job>> {
    Ok(conn.prepare_cached(&format!("SELECT {JOB_COLS} FROM export_jobs WHERE id = ?1"))?.query_row([id], job_of).optional()?)
}

/// The id of the job named `name`, if there is one.
pub fn job_named(conn: &Connection, name: &str) -> Result<Option<i64>> {
    Ok(conn.prepare_cached("SELECT id FROM export_jobs WHERE name = ?1")?.query_row([name], |r| r.get(0)).optional()?)
}

/// Insert (id None, created now) or update a job; returns its id.
pub fn save_job(conn: &Connection, j: &Job, now: i64) -> Result<i64> {
    let email = j.email_to.join("\n");
    let report = j.report_to.join("\n");
    match j.id {
        Some(id) => {
            conn.execute(
                "UPDATE export_jobs SET name=?2, layout=?3, every=?4, weekday=?5, day=?6, hour=?7, minute=?8, period=?9,
                 destination=?10, folder=?11, email_to=?12, report_to=?13, enabled=?14, updated_at=?15 WHERE id=?1",
                params![id, j.name, j.layout, j.every, j.weekday, j.day, j.hour, j.minute, j.period, j.destination, j.folder, email, report, j.enabled, now],
            )?;
            Ok(id)
        }
        None => {
            conn.execute(
                "INSERT INTO export_jobs(name, layout, every, weekday, day, hour, minute, period, destination, folder,
                 email_to, report_to, enabled, created_at, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?14)",
                params![j.name, j.layout, j.every, j.weekday, j.day, j.hour, j.minute, j.period, j.destination, j.folder, email, report, j.enabled, now],
            )?;
            Ok(conn.last_insert_rowid())
        }
    }
}

/// The jobs (id, name) that export the layout called `layout`, by name.
pub fn jobs_of_layout(conn: &Connection, layout: &str) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached("SELECT id, name FROM export_jobs WHERE layout = ?1 ORDER BY name, id")?;
    let rows = stmt.query_map([layout], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Point the jobs of layout `from` at layout `to` (a renamed layout); returns how many.
/// `updated_at` stays: a rename does not change when the jobs run, nor which slots are owed.
pub fn rename_layout(conn: &Connection, from: &str, to: &str) -> Result<usize> {
    Ok(conn.prepare_cached("UPDATE export_jobs SET layout = ?2 WHERE layout = ?1")?.execute(params![from, to])?)
}

/// Delete a job (its runs stay in the log). True if it existed.
pub fn delete_job(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM export_jobs WHERE id = ?1", [id])? == 1)
}

/// One run of a job.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Run {
    pub id: i64,
    pub job_id: i64,
    pub job: String,
    pub layout: String,
    pub scheduled_for: i64,
    pub trigger: String,
    pub period_from: String,
    pub period_to: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    pub status: String,
    pub attempt: i64,
    pub runner: String,
    pub file: Option<String>,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
    pub sha256: Option<String>,
    pub duration_ms: Option<i64>,
    /// Why a run failed: the English wording, and the code and values the UI words it with
    /// (`not_configured` `{setting: "smtp"}`, `run_abandoned`, `folder_not_allowed`, ...).
    pub error: Option<String>,
    pub error_code: Option<String>,
    pub error_params: Option<serde_json::Value>,
}

const RUN_COLS: &str = "id, job_id, job, layout, scheduled_for, trigger, period_from, period_to, started_at, finished_at, status,
    attempt, runner, file, rows, bytes, sha256, duration_ms, error, error_code, error_params";

fn run_of(r: &Row<'_>) -> rusqlite::Result<Run> {
    Ok(Run {
        id: r.get(0)?,
        job_id: r.get(1)?,
        job: r.get(2)?,
        layout: r.get(3)?,
        scheduled_for: r.get(4)?,
        trigger: r.get(5)?,
        period_from: r.get(6)?,
        period_to: r.get(7)?,
        started_at: r.get(8)?,
        finished_at: r.get(9)?,
        status: r.get(10)?,
        attempt: r.get(11)?,
        runner: r.get(12)?,
        file: r.get(13)?,
        rows: r.get(14)?,
        bytes: r.get(15)?,
        sha256: r.get(16)?,
        duration_ms: r.get(17)?,
        error: r.get(18)?,
        error_code: r.get(19)?,
        error_params: r.get::<_, Option<String>>(20)?.and_then(|p| serde_json::from_str(&p).ok()),
    })
}

/// The newest runs first, of one job or all.
pub fn runs(conn: &Connection, job_id: Option<i64>, limit: i64) -> Result<Vec<Run>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RUN_COLS} FROM export_runs WHERE ?1 IS NULL OR job_id = ?1 ORDER BY started_at DESC, id DESC LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![job_id, limit], run_of)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn run(conn: &Connection, id: i64) -> Result<Option<Run>> {
    Ok(conn.prepare_cached(&format!("SELECT {RUN_COLS} FROM export_runs WHERE id = ?1"))?.query_row([id], run_of).optional()?)
}

/// Runs that finished at or after `since` (finished time order, then id), at most `limit`:
/// the webhooks' `export.done` events (index `export_runs_by_finish`, migration 0032).
pub fn finished_since(conn: &Connection, since: i64, limit: i64) -> Result<Vec<Run>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RUN_COLS} FROM export_runs WHERE finished_at >= ?1 AND status <> 'running' ORDER BY finished_at, id LIMIT ?2"
    ))?;
    let rows = stmt.query_map(params![since, limit], run_of)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The latest slot of a job that has a run (any status), if any.
pub fn last_slot(conn: &Connection, job_id: i64) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT max(scheduled_for) FROM export_runs WHERE job_id = ?1 AND trigger = 'schedule'")?
        .query_row([job_id], |r| r.get(0))?)
}

/// What a new run is about.
pub struct NewRun<'a> {
    pub job: &'a Job,
    pub job_id: i64,
    pub scheduled_for: i64,
    pub trigger: &'a str,
    pub period_from: &'a str,
    pub period_to: &'a str,
    pub runner: &'a str,
}

/// Claim the slot: insert the run as 'running' unless this (job, slot) already has a run.
/// Returns the run id when this runner got it.
pub fn claim(conn: &Connection, n: &NewRun<'_>, now: i64) -> Result<Option<i64>> {
    let inserted = conn.prepare_cached(
        "INSERT OR IGNORE INTO export_runs(job_id, job, layout, scheduled_for, trigger, period_from, period_to, started_at,
         status, attempt, runner) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,'running',1,?9)",
    )?
    .execute(params![n.job_id, n.job.name, n.job.layout, n.scheduled_for, n.trigger, n.period_from, n.period_to, now, n.runner])?;
    Ok((inserted == 1).then(|| conn.last_insert_rowid()))
}

/// Runs that may be tried again: failed with attempts left and the back-off passed, or
/// 'running' for longer than `stale_after` seconds (their runner died).
pub fn retryable(conn: &Connection, max_attempts: i64, backoff: i64, stale_after: i64, now: i64) -> Result<Vec<Run>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {RUN_COLS} FROM export_runs
         WHERE attempt < ?1 AND ((status = 'failed' AND finished_at + ?2 * attempt <= ?4)
                                 OR (status = 'running' AND started_at + ?3 <= ?4))
         ORDER BY scheduled_for"
    ))?;
    let rows = stmt.query_map(params![max_attempts, backoff, stale_after, now], run_of)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Mark as failed the runs still 'running' after `stale_after` seconds that have no attempt
/// left (their runner died on the last one), so the log does not show them running forever.
/// Returns them as they now are.
pub fn abandon_stale(conn: &Connection, max_attempts: i64, stale_after: i64, now: i64) -> Result<Vec<Run>> {
    let ids: Vec<i64> = conn
        .prepare_cached(
            "UPDATE export_runs SET status = 'failed', finished_at = ?3,
                 error = 'the run stopped without finishing (Relevé was closed or stopped during the export)',
                 error_code = 'run_abandoned', error_params = '{}'
             WHERE status = 'running' AND attempt >= ?1 AND started_at + ?2 <= ?3 RETURNING id",
        )?
        .query_map(params![max_attempts, stale_after, now], |r| r.get(0))?
        .collect::<rusqlite::Result<_>>()?;
    let mut runs = Vec::with_capacity(ids.len());
    for id in ids {
        runs.extend(run(conn, id)?);
    }
    Ok(runs)
}

/// Take a retry: only if the run is still as `seen` (status and attempt); true if this
/// runner got it.
pub fn claim_retry(conn: &Connection, seen: &Run, runner: &str, now: i64) -> Result<bool> {
    let n = conn.prepare_cached(
        "UPDATE export_runs SET status = 'running', attempt = attempt + 1, started_at = ?4, finished_at = NULL, runner = ?5
         WHERE id = ?1 AND status = ?2 AND attempt = ?3",
    )?
    .execute(params![seen.id, seen.status, seen.attempt, now, runner])?;
    Ok(n == 1)
}

/// How a run ended.
pub struct Outcome<'a> {
    pub ok: bool,
    pub file: Option<&'a str>,
    pub rows: Option<i64>,
    pub bytes: Option<i64>,
    pub sha256: Option<&'a str>,
    pub duration_ms: i64,
    pub error: Option<&'a str>,
    /// The error's code and params (JSON), for the run log to word it.
    pub error_code: Option<&'a str>,
    pub error_params: Option<String>,
}

pub fn finish(conn: &Connection, id: i64, o: &Outcome<'_>, now: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE export_runs SET status = ?2, finished_at = ?3, file = ?4, rows = ?5, bytes = ?6, sha256 = ?7,
         duration_ms = ?8, error = ?9, error_code = ?10, error_params = ?11 WHERE id = ?1",
    )?
    .execute(params![
        id,
        if o.ok { "ok" } else { "failed" },
        now,
        o.file,
        o.rows,
        o.bytes,
        o.sha256,
        o.duration_ms,
        o.error,
        o.error_code,
        o.error_params
    ])?;
    Ok(())
}
