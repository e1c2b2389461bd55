//! Retention: what the store keeps and for how long, and the run that compacts it.
//!
//! Every number is a setting (read by [`Retention::read`], shared with the register of
//! processing): every reading is kept for `readings_full_months`; after that, one per local
//! day per register (see [`plan`] for what else is always kept); everything older than
//! `readings_years` goes (readings, ended info codes, reading conflicts); raw telegrams go
//! after `telegrams_months` (a reading then keeps a `telegram_id` that points nowhere: the
//! raw-frame screens say the frame is no longer kept).
//!
//! [`retention_preview`] counts what the next run removes, by the same code as the run
//! without deleting. [`retention_run`] works a chunk of meters per transaction (sized to
//! hold the writer about a tenth of a second), so a crash leaves every chunk either as it
//! was or compacted and screens keep answering; then gives the free pages back to the file
//! system (`PRAGMA incremental_vacuum`). A file made without incremental auto-vacuum (none
//! made by `Store::open`, which sets it before the first table) is rewritten once by a full
//! `VACUUM` at its first run.

pub mod plan;

use crate::access::{Permission, Permit, Session};
use crate::error::{Error, Result};
use crate::model::Register;
use crate::personal::register::Retention;
use crate::problem::Reason;
use crate::store::retention::Feed;
use crate::store::{self, Store};
use chrono::{Datelike, NaiveDate};
use chrono_tz::Tz;
use rusqlite::Connection;
use serde::{Deserialize, Serialize};
use std::ops::ControlFlow;
use std::time::Instant;

/// Estimated bytes a removed row gives back (cell, record, share of its page), measured
/// with `releve-bench retention` on the demo's layout; a telegram adds its raw bytes.
pub const READING_BYTES: u64 = 40;
pub const TELEGRAM_BYTES: u64 = 40;
pub const EVENT_BYTES: u64 = 60;
pub const CONFLICT_BYTES: u64 = 80;
pub const FEED_BYTES: u64 = 25;

/// The nightly run's window, local hours `[from, to)`.
pub const NIGHT_FROM: u32 = 2;
pub const NIGHT_TO: u32 = 6;

/// The limits of `retention` times as local midnights (Unix seconds).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Cutoffs {
    /// Older than this: deleted (readings, ended info codes, conflicts).
    pub purge_before: i64,
    /// From this on: every reading kept.
    pub full_from: i64,
    /// Telegrams received before this are dropped.
    pub telegrams_before: i64,
    /// Feed rows stored (`at`) before this are dropped (`now` - `feed_days`, to the second).
    pub feed_before: i64,
}

impl Cutoffs {
    /// The limits on the local date of `now`: that date minus each period, at local midnight.
    pub fn at(tz: Tz, now: i64, r: &Retention) -> Result<Cutoffs> {
        let today = chrono::DateTime::from_timestamp(now, 0)
            .ok_or_else(|| Error::bad_input("now", format!("{now} is not a time")))?
            .with_timezone(&tz)
            .date_naive();
        let back = |months: i64| -> Result<i64> {
            let m = u32::try_from(months).map_err(|_| Error::bad_input("retention", format!("{months} months")))?;
            let d = today.checked_sub_months(chrono::Months::new(m)).unwrap_or(NaiveDate::MIN);
            crate::settings::local_midnight(tz, d)
        };
        Ok(Cutoffs {
            purge_before: back(r.readings_years.saturating_mul(12))?,
            full_from: back(r.readings_full_months)?,
            telegrams_before: back(r.telegrams_months)?,
            feed_before: now.saturating_sub(r.feed_days.saturating_mul(86_400)),
        })
    }
}

/// The local days and month starts of `[from, to)` (both local midnights).
pub fn calendar(tz: Tz, from: i64, to: i64) -> Result<plan::Calendar> {
    let date = |t: i64| chrono::DateTime::from_timestamp(t, 0).map(|d| d.with_timezone(&tz).date_naive());
    let (Some(mut d), Some(end)) = (date(from), date(to)) else {
        return Ok(plan::Calendar::default());
    };
    let mut cal = plan::Calendar::default();
    while d <= end {
        let m = crate::settings::local_midnight(tz, d)?;
        cal.days.push(m);
        if d.day() == 1 && d < end {
            cal.months.push(m);
        }
        d = d.succ_opt().unwrap_or(NaiveDate::MAX);
        if d == NaiveDate::MAX {
            break;
        }
    }
    Ok(cal)
}

/// What a run removes (or removed).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize)]
pub struct Counts {
    /// Readings older than the full period, not the day's last nor otherwise kept.
    pub readings_compacted: u64,
    /// Readings older than `readings_years`.
    pub readings_purged: u64,
    pub telegrams: u64,
    pub info_code_events: u64,
    pub reading_conflicts: u64,
    /// Rows of the open API's feeds older than `feed_days` (a prefix by cursor).
    pub reading_feed: u64,
    pub info_code_feed: u64,
    /// Meters with at least one row removed.
    pub meters: u64,
    /// Estimated bytes the rows take (see [`READING_BYTES`]).
    pub bytes_estimate: u64,
}

impl Counts {
    fn add(&mut self, o: &Counts) {
        self.readings_compacted += o.readings_compacted;
        self.readings_purged += o.readings_purged;
        self.telegrams += o.telegrams;
        self.info_code_events += o.info_code_events;
        self.reading_conflicts += o.reading_conflicts;
        self.reading_feed += o.reading_feed;
        self.info_code_feed += o.info_code_feed;
        self.meters += o.meters;
        self.bytes_estimate += o.bytes_estimate;
    }

    pub fn rows(&self) -> u64 {
        self.readings_compacted
            + self.readings_purged
            + self.telegrams
            + self.info_code_events
            + self.reading_conflicts
            + self.reading_feed
            + self.info_code_feed
    }
}

/// What the next run would remove, before anything is removed.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub settings: Retention,
    pub cutoffs: Cutoffs,
    pub counts: Counts,
    /// The oldest reading that stays (None: no reading older than the full period).
    pub oldest_kept: Option<i64>,
    /// The file's size now (pages x page size) and whether it gives pages back as it is.
    pub file_bytes: u64,
    pub incremental_vacuum: bool,
}

/// A run's outcome (also the details of its audit entry).
#[derive(Debug, Clone, Serialize)]
pub struct RunReport {
    pub cutoffs: Cutoffs,
    pub counts: Counts,
    pub chunks: u64,
    /// Stopped between two chunks: the chunks done are compacted, the others untouched.
    pub interrupted: bool,
    /// The file had no incremental auto-vacuum and was rewritten once (`VACUUM`).
    pub full_vacuum: bool,
    pub file_bytes_before: u64,
    pub file_bytes_after: u64,
}

/// How far a run is: meters done out of all.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct Progress {
    pub meters_done: u64,
    pub meters_total: u64,
}

/// The retention settings.
pub fn retention_settings(store: &Store, session: &Session) -> Result<Retention> {
    session.permit(Permission::Settings)?;
    Retention::read(&*store.reader()?)
}

/// The three numbers retention runs by, as a manager sets them.
#[derive(Debug, Clone, Copy, Deserialize, Serialize, PartialEq)]
pub struct RetentionNumbers {
    pub readings_full_months: i64,
    pub readings_years: i64,
    pub telegrams_months: i64,
    /// The open API's feeds (default 60 when not given).
    #[serde(default = "default_feed_days")]
    pub feed_days: i64,
}

fn default_feed_days() -> i64 {
    60
}

/// Change the retention periods (one audit entry). Every reading is kept at least a month,
/// at most 10 years in full; kept 1 to 100 years, and at least as long as in full;
/// telegrams 1 month to 100 years; the feeds 1 to 3,650 days.
pub fn retention_settings_set(store: &Store, session: &Session, n: &RetentionNumbers, now: i64) -> Result<Retention> {
    let permit = session.permit(Permission::Settings)?;
    let range = |field: &str, v: i64, min: i64, max: i64| -> Result<()> {
        if v < min || v > max {
            return Err(Error::invalid(field, Reason::OutOfRange { value: v as f64, min: min as f64, max: max as f64 }));
        }
        Ok(())
    };
    range("readings_full_months", n.readings_full_months, 1, 120)?;
    range("readings_years", n.readings_years, (n.readings_full_months + 11) / 12, 100)?;
    range("telegrams_months", n.telegrams_months, 1, 1200)?;
    range("feed_days", n.feed_days, 1, 3650)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    for (key, v) in [
        ("retention_readings_full_months", n.readings_full_months),
        ("retention_readings_years", n.readings_years),
        ("retention_telegrams_months", n.telegrams_months),
        ("retention_feed_days", n.feed_days),
    ] {
        store::settings::set(&tx, key, &v.to_string())?;
    }
    let details = format!(
        "readings in full {} months, kept {} years, telegrams {} months, feeds {} days",
        n.readings_full_months, n.readings_years, n.telegrams_months, n.feed_days
    );
    store::audit::record_permit(&tx, permit, now, "retention_settings_set", &details)?;
    let r = Retention::read(&tx)?;
    tx.commit()?;
    Ok(r)
}

/// What the next run at `now` removes (read only: nothing changes).
pub fn retention_preview(store: &Store, session: &Session, now: i64) -> Result<Preview> {
    session.permit(Permission::Settings)?;
    let conn = store.reader()?;
    let (settings, cutoffs, cal) = policy(&conn, now)?;
    let mut counts = Counts::default();
    let mut oldest = None;
    let mut after = i64::MIN;
    loop {
        let meters = store::retention::meters_after(&conn, after, 1000)?;
        let Some(&last) = meters.last() else { break };
        for &m in &meters {
            counts.add(&meter(&conn, m, &cutoffs, &cal, false, &mut oldest)?);
        }
        after = last;
    }
    for (feed, n) in [(Feed::Readings, &mut counts.reading_feed), (Feed::InfoCodes, &mut counts.info_code_feed)] {
        *n = store::retention::feed_prefix(&conn, feed, cutoffs.feed_before)?.1;
    }
    counts.bytes_estimate += (counts.reading_feed + counts.info_code_feed) * FEED_BYTES;
    let (pages, _, size) = store::retention::pages(&conn)?;
    let incremental_vacuum = store::retention::incremental(&conn)?;
    Ok(Preview { settings, cutoffs, counts, oldest_kept: oldest, file_bytes: pages * size, incremental_vacuum })
}

/// Compact the store as of `now`, a chunk of meters per transaction, then give the free
/// pages back. `progress` is told after each chunk and may stop the run there
/// (`ControlFlow::Break`): the chunks done stay compacted. One audit entry.
pub fn retention_run(
    store: &Store,
    permit: Permit<'_>,
    now: i64,
    progress: &mut dyn FnMut(Progress) -> ControlFlow<()>,
) -> Result<RunReport> {
    if permit.permission != Permission::Settings {
        return Err(Error::Forbidden { role: permit.session.role.as_str().to_string(), permission: Permission::Settings.as_str() });
    }
    let (cutoffs, cal, total, before) = {
        let conn = store.reader()?;
        let (_, cutoffs, cal) = policy(&conn, now)?;
        let (pages, _, size) = store::retention::pages(&conn)?;
        (cutoffs, cal, store::retention::meter_count(&conn)?, pages * size)
    };
    let mut counts = Counts::default();
    let (mut done, mut chunks, mut interrupted) = (0u64, 0u64, false);
    let mut after = i64::MIN;
    // Meters per chunk: doubled while a chunk takes under 50 ms, halved over 200 ms.
    let mut size: i64 = 8;
    let mut work = || -> Result<()> {
        loop {
            let started = Instant::now();
            let mut oldest = None;
            let n = {
                let mut conn = store.writer();
                let tx = conn.transaction()?;
                let meters = store::retention::meters_after(&tx, after, size)?;
                let Some(&last) = meters.last() else { break };
                for &m in &meters {
                    counts.add(&meter(&tx, m, &cutoffs, &cal, true, &mut oldest)?);
                }
                tx.commit()?;
                after = last;
                meters.len() as u64
            };
            chunks += 1;
            done += n;
            let took = started.elapsed().as_millis();
            if took < 50 {
                size = (size * 2).min(4_096);
            } else if took > 200 {
                size = (size / 2).max(1);
            }
            store.checkpoint_if_large()?;
            if progress(Progress { meters_done: done, meters_total: total.max(done) }).is_break() {
                interrupted = true;
                break;
            }
        }
        if !interrupted {
            feeds(store, &cutoffs, &mut counts)?;
        }
        Ok(())
    };
    if let Err(e) = work() {
        // The chunks committed before the failure stay compacted: say so in the audit log,
        // under its own event (the start page counts failed runs of the last 24 hours).
        let details = format!(
            "failed after {chunks} chunks ({done} meters): {e}; removed so far {}",
            serde_json::to_string(&counts).unwrap_or_default()
        );
        store::audit::record_permit(&store.writer(), permit, now, store::retention::FAILED_EVENT, &details)?;
        return Err(e);
    }
    let full_vacuum = give_back(store)?;
    let after_bytes = {
        let (pages, _, size) = store::retention::pages(&*store.reader()?)?;
        pages * size
    };
    let report = RunReport {
        cutoffs,
        counts,
        chunks,
        interrupted,
        full_vacuum,
        file_bytes_before: before,
        file_bytes_after: after_bytes,
    };
    let details = serde_json::to_string(&report).unwrap_or_default();
    store::audit::record_permit(&store.writer(), permit, now, "retention_run", &details)?;
    Ok(report)
}

/// The nightly run: once per local night, between 02:00 and 06:00 local time, whichever
/// process comes first (the claim is in the store). `None` when not due. Outside that window
/// nothing runs (an app opened in the day does not start a purge; a machine off at night
/// runs `releve retention run` from cron or Task Scheduler).
pub fn retention_nightly(store: &Store, system: &Session, now: i64) -> Result<Option<RunReport>> {
    let permit = system.permit(Permission::Settings)?;
    let tz = crate::settings::timezone(&*store.reader()?)?;
    let local = chrono::DateTime::from_timestamp(now, 0)
        .ok_or_else(|| Error::bad_input("now", format!("{now} is not a time")))?
        .with_timezone(&tz);
    if !(NIGHT_FROM..NIGHT_TO).contains(&chrono::Timelike::hour(&local)) {
        return Ok(None);
    }
    let day = local.date_naive().to_string();
    if !store::retention::claim_night(&store.writer(), &day)? {
        return Ok(None);
    }
    retention_run(store, permit, now, &mut |_| ControlFlow::Continue(())).map(Some)
}

/// Empty the feeds' rows older than `feed_days`, oldest first, 100,000 rows per transaction.
fn feeds(store: &Store, c: &Cutoffs, counts: &mut Counts) -> Result<()> {
    for feed in [Feed::Readings, Feed::InfoCodes] {
        let (boundary, _) = store::retention::feed_prefix(&*store.reader()?, feed, c.feed_before)?;
        loop {
            let n = store::retention::feed_delete(&store.writer(), feed, boundary, 100_000)?;
            match feed {
                Feed::Readings => counts.reading_feed += n,
                Feed::InfoCodes => counts.info_code_feed += n,
            }
            counts.bytes_estimate += n * FEED_BYTES;
            store.checkpoint_if_large()?;
            if n == 0 {
                break;
            }
        }
    }
    Ok(())
}

/// Free pages back to the file system: `incremental_vacuum` a few thousand pages per writer
/// hold; a file without incremental auto-vacuum is rewritten once. True when it was.
fn give_back(store: &Store) -> Result<bool> {
    let incremental = store::retention::incremental(&*store.reader()?)?;
    if !incremental {
        store::retention::full_vacuum(&store.writer())?;
        store.checkpoint()?;
        return Ok(true);
    }
    loop {
        let left = store::retention::incremental_vacuum(&store.writer(), 4096)?;
        store.checkpoint_if_large()?;
        if left == 0 {
            break;
        }
    }
    store.checkpoint()?;
    Ok(false)
}

fn policy(conn: &Connection, now: i64) -> Result<(Retention, Cutoffs, plan::Calendar)> {
    let settings = Retention::read(conn)?;
    let tz = crate::settings::timezone(conn)?;
    let cutoffs = Cutoffs::at(tz, now, &settings)?;
    let cal = calendar(tz, cutoffs.purge_before, cutoffs.full_from)?;
    Ok((settings, cutoffs, cal))
}

/// One meter: count (or with `delete`, remove) what retention takes of it.
fn meter(conn: &Connection, m: i64, c: &Cutoffs, cal: &plan::Calendar, delete: bool, oldest: &mut Option<i64>) -> Result<Counts> {
    let mut n = Counts::default();
    let registers = store::retention::registers(conn, m)?;
    if !registers.is_empty() {
        let mut anchors = store::retention::anchors(conn, m)?;
        let target = Register::TargetDate.code();
        if registers.contains(&target) {
            let s = store::readings::series(conn, m, target, c.purge_before, c.full_from)?;
            anchors.extend(plan::target_changes(&s));
            anchors.sort_unstable();
        }
        for &r in &registers {
            n.readings_purged += store::retention::readings_before(conn, m, r, c.purge_before, delete)?;
            let s = store::readings::series(conn, m, r, c.purge_before, c.full_from)?;
            let ts: Vec<i64> = s.iter().map(|p| p.0).collect();
            if let Some(&first) = ts.first() {
                *oldest = Some(oldest.map_or(first, |o: i64| o.min(first)));
            }
            let keep = plan::keep(&ts, cal, &anchors);
            for run in plan::runs(&ts, &keep) {
                n.readings_compacted += if delete {
                    store::retention::delete_run(conn, m, r, run.from, run.to)?
                } else {
                    run.count
                };
            }
        }
    }
    let (telegrams, raw) = store::retention::telegrams_before(conn, m, c.telegrams_before, delete)?;
    n.telegrams = telegrams;
    n.info_code_events = store::retention::info_codes_ended_before(conn, m, c.purge_before, delete)?;
    n.reading_conflicts = store::retention::conflicts_before(conn, m, c.purge_before, delete)?;
    n.bytes_estimate = (n.readings_compacted + n.readings_purged) * READING_BYTES
        + n.telegrams * TELEGRAM_BYTES
        + raw
        + n.info_code_events * EVENT_BYTES
        + n.reading_conflicts * CONFLICT_BYTES;
    n.meters = u64::from(n.rows() > 0);
    Ok(n)
}
