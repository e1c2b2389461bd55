//! The poller: reads the store's tables from the cursors in `webhook_cursors` and queues one
//! delivery per event and endpoint taking it. A cursor moves in the same transaction as the
//! deliveries it makes, and only from where this poller read it (another process polling the
//! same database makes the events once between them). A source read for the first time
//! starts at the present: a new database sends nothing of its past.

use crate::error::Result;
use crate::store::{self, Store};
use chrono::TimeZone;
use chrono_tz::Tz;
use serde_json::{json, Value};

/// A second this far past: no run finishes in it any more.
const SETTLED: i64 = 5;

/// A `readings.batch` is made this many seconds after its first reading was stored.
pub const BATCH_WAIT: i64 = 5;

/// Feed rows an event of `readings.batch` covers at most.
pub const MAX_BATCH: i64 = 1_000_000;

/// Meters named in a `readings.batch` event at most (all are counted).
pub const MAX_METERS: i64 = 500;

/// Rows of `info_code_feed` read per poll.
const INFO_CODES_PER_POLL: i64 = 1_000;

/// Runs read per poll.
const RUNS_PER_POLL: i64 = 200;

/// An event about to be queued.
struct Event {
    kind: &'static str,
    reference: String,
    data: Value,
}

/// ISO 8601 with the utility's offset, e.g. `2026-01-02T06:31:00+01:00`.
pub fn iso(at: i64, tz: Tz) -> String {
    match tz.timestamp_opt(at, 0).single() {
        Some(t) => t.to_rfc3339_opts(chrono::SecondsFormat::Secs, false),
        None => at.to_string(),
    }
}

/// The JSON sent: `{id, type, created_at, data}`.
pub fn body(id: &str, kind: &str, now: i64, tz: Tz, data: Value) -> String {
    json!({"id": id, "type": kind, "created_at": iso(now, tz), "data": data}).to_string()
}

/// Make the events that happened since the last poll; how many deliveries were queued.
pub fn poll(store: &Store, now: i64) -> Result<usize> {
    Ok(poll_export_runs(store, now)? + poll_readings(store, now)? + poll_info_codes(store, now)?)
}

/// `readings.batch`: one event for the readings stored since the last one, feed rows
/// `(after, until]` (at most `MAX_BATCH` of them an event); the receiver pulls them from
/// `/api/v1/readings/feed?after=<after>` until it passes `until`.
fn poll_readings(store: &Store, now: i64) -> Result<usize> {
    const SOURCE: &str = "reading_feed";
    let (from, last, tz) = {
        let conn = store.reader()?;
        (store::webhooks::cursor(&conn, SOURCE)?, store::webhooks::readings_last(&conn)?, crate::settings::timezone(&conn)?)
    };
    let Some(after) = from else {
        return queue(store, SOURCE, None, last, &[], now, tz);
    };
    if last <= after {
        return Ok(0);
    }
    // A batch gathers what is stored within BATCH_WAIT of its first reading (a stream
    // delivering every second makes an event every few seconds, not one a second).
    let first = store::webhooks::readings_first_stored(&*store.reader()?, after)?;
    if first.is_some_and(|at| now - at < BATCH_WAIT) && last - after < MAX_BATCH {
        return Ok(0);
    }
    let until = last.min(after + MAX_BATCH);
    let batch = store::webhooks::readings_batch(&*store.reader()?, after, until, MAX_METERS)?;
    let meters: Vec<Value> = batch.some_meters.iter().map(|(id, manufacturer, serial)| json!({"id": id, "manufacturer": manufacturer, "serial": serial})).collect();
    let event = Event {
        kind: "readings.batch",
        reference: format!("readings:{after}-{until}"),
        data: json!({
            "after": after,
            "until": until,
            "readings": batch.readings,
            "meters": batch.meters,
            "first_reading_at": batch.first_ts.map(|t| iso(t, tz)),
            "last_reading_at": batch.last_ts.map(|t| iso(t, tz)),
            "meter_list": meters,
            "meter_list_complete": batch.meters <= MAX_METERS,
            "feed": format!("/api/v1/readings/feed?after={after}"),
        }),
    };
    queue(store, SOURCE, Some(after), until, &[event], now, tz)
}

/// `info_code.started`: one event per info code that started on a meter.
fn poll_info_codes(store: &Store, now: i64) -> Result<usize> {
    const SOURCE: &str = "info_code_feed";
    let (from, tz) = {
        let conn = store.reader()?;
        (store::webhooks::cursor(&conn, SOURCE)?, crate::settings::timezone(&conn)?)
    };
    let Some(after) = from else {
        let last = store::webhooks::info_codes_last(&*store.reader()?)?;
        return queue(store, SOURCE, None, last, &[], now, tz);
    };
    let (started, until) = store::webhooks::info_codes_started(&*store.reader()?, after, INFO_CODES_PER_POLL)?;
    if until == after {
        return Ok(0);
    }
    let events: Vec<Event> = started
        .iter()
        .map(|s| Event {
            kind: "info_code.started",
            reference: format!("info_code:{}", s.seq),
            data: json!({
                "seq": s.seq,
                "meter": {"id": s.meter_id, "manufacturer": s.manufacturer, "serial": s.serial},
                "code": s.code,
                "started_at": iso(s.started_at, tz),
                "feed": format!("/api/v1/info-codes/feed?after={}", s.seq - 1),
            }),
        })
        .collect();
    queue(store, SOURCE, Some(after), until, &events, now, tz)
}

/// `export.done`: every run of a scheduled export (or billing job) that finished, ok or
/// failed, once per attempt. The cursor is a `finished_at` time: runs of the last few seconds
/// are read again at the next poll (another process may still finish one in that second) and
/// made once (a delivery is unique per endpoint and event); the cursor then passes them.
fn poll_export_runs(store: &Store, now: i64) -> Result<usize> {
    const SOURCE: &str = "export_runs";
    let (from, runs, tz) = {
        let conn = store.reader()?;
        let from = store::webhooks::cursor(&conn, SOURCE)?;
        let runs = match from {
            Some(t) => store::export_jobs::finished_since(&conn, t, RUNS_PER_POLL)?,
            None => Vec::new(),
        };
        (from, runs, crate::settings::timezone(&conn)?)
    };
    let until = match from {
        None => now,
        Some(t) => match runs.iter().filter_map(|r| r.finished_at).max() {
            Some(last) if last < now - SETTLED => last + 1,
            Some(last) => last,
            None => t,
        },
    };
    let events: Vec<Event> = runs
        .iter()
        .map(|r| Event {
            kind: "export.done",
            reference: format!("export_run:{}:{}", r.id, r.attempt),
            data: json!({
                "run": r.id,
                "job": r.job,
                "layout": r.layout,
                "status": r.status,
                "trigger": r.trigger,
                "attempt": r.attempt,
                "period_from": r.period_from,
                "period_to": r.period_to,
                "started_at": iso(r.started_at, tz),
                "finished_at": r.finished_at.map(|t| iso(t, tz)),
                "file": r.file.as_deref().map(file_name),
                "rows": r.rows,
                "bytes": r.bytes,
                "sha256": r.sha256,
                "error": r.error.as_deref().map(|e| e.chars().take(2000).collect::<String>()),
            }),
        })
        .collect();
    if from == Some(until) && events.is_empty() {
        return Ok(0);
    }
    queue(store, SOURCE, from, until, &events, now, tz)
}

/// A file's name without its folder (the receiver has no use for the app's disk layout).
fn file_name(path: &str) -> String {
    std::path::Path::new(path).file_name().map_or_else(|| path.to_string(), |n| n.to_string_lossy().into_owned())
}

/// Queue `events` for every active endpoint taking them and move the cursor, in one
/// transaction; nothing when another poller moved the cursor first.
fn queue(store: &Store, source: &str, from: Option<i64>, until: i64, events: &[Event], now: i64, tz: Tz) -> Result<usize> {
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if from != Some(until) && !store::webhooks::move_cursor(&tx, source, from, until)? {
        return Ok(0);
    }
    let targets = store::webhooks::active_targets(&tx)?;
    let mut queued = 0;
    for e in events {
        let wanted: Vec<_> = targets.iter().filter(|t| t.events.iter().any(|k| k == e.kind)).collect();
        if wanted.is_empty() {
            continue;
        }
        let body = body(&e.reference, e.kind, now, tz, e.data.clone());
        for t in wanted {
            let new = store::webhooks::NewDelivery { endpoint_id: t.id, event: e.kind, reference: &e.reference, body: &body, created_at: now };
            queued += usize::from(store::webhooks::enqueue(&tx, &new)?.is_some());
        }
    }
    tx.commit()?;
    Ok(queued)
}
