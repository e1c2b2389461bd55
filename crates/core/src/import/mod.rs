//! Importing readings: a drive-by file (one telegram a line) goes through the decoder into
//! the store. Bad lines are reported with their reason, never fatal; the raw telegram is
//! kept; the same telegram twice is stored once; two values for one meter, register and
//! time are a conflict the report lists, never a silent drop.
//!
//! The file is decoded by one thread while this one writes batches of [`BATCH`] lines, each
//! sorted by key and committed in slices of whole meters of about [`CHUNK_TARGET`] of
//! writing each: every page of the store is written by one slice, so a batch costs what one
//! transaction would, and logins, edits and other imports (of this process or another)
//! never wait behind the import for more than a slice. The `imports` row holds the counts
//! of what is committed and the first line not yet committed (`next_line`), so an import
//! whose process died says where it stopped, and importing the same file again completes
//! it (what was stored is recognised, nothing is stored twice).

pub mod line;
pub mod readout;
pub mod text;

use crate::access::{require, Permission, Permit};
use crate::driver;
use crate::error::Result;
use crate::model::{info_code_bit, Register};
use crate::store::imports::{Conflict, Counts};
use crate::store::info_codes::Event;
use crate::store::meters::NewMeter;
use crate::store::readings::Offered;
use crate::store::telegrams::{Inserted, NewTelegram};
use crate::store::{self, Store};
use chrono_tz::Tz;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;
use std::time::{Duration, Instant};

/// At most this many rejected lines (and as many conflicts) are listed per file (the counts
/// stay exact).
pub const MAX_LISTED_REJECTS: usize = 1000;

/// How long one chunk of an import may hold the write lock, about.
pub const CHUNK_TARGET: Duration = Duration::from_millis(100);

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rejected {
    pub line: u64,
    pub code: String,
    pub reason: String,
    /// A bad line's reason code and values (`{reason: "not_hex", character, column}`), for
    /// the UI to word; absent when `reason` is all there is.
    #[serde(skip_serializing_if = "serde_json::Map::is_empty")]
    pub params: serde_json::Map<String, serde_json::Value>,
}

/// A reading not stored: its meter already had another value for that register and time.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ReadingConflict {
    pub line: u64,
    pub serial: String,
    pub register: &'static str,
    pub ts: i64,
    pub kept_value: f64,
    pub other_value: f64,
    /// The telegrams (ids as hexadecimal text) that carried the kept and the other value.
    pub kept_telegram: Option<String>,
    pub other_telegram: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    pub name: String,
    pub import_id: i64,
    pub lines: u64,
    pub telegrams: u64,
    /// Telegrams stored, with values or kept without (see `kept_undecoded`).
    pub stored: u64,
    pub duplicates: u64,
    /// Telegrams kept without values (no key, wrong key, not decodable yet).
    pub kept_undecoded: u64,
    /// Readings really stored.
    pub readings: u64,
    /// Readings not stored because another value was already there for the same meter,
    /// register and time (the first ones listed in `conflict_list`).
    pub conflicts: u64,
    pub conflict_list: Vec<ReadingConflict>,
    pub new_meters: u64,
    /// Telegrams of devices not in the park that do not decode: kept in the heard-devices
    /// list (`heard_devices` of them heard for the first time), not in the park.
    pub heard: u64,
    pub heard_devices: u64,
    pub rejected_count: u64,
    pub rejected: Vec<Rejected>,
    /// Lines dated in the future (reception time after now + `import_max_future_minutes`):
    /// refused like every implausible time, so they never drive `last_seen`, and counted
    /// apart with their line numbers (the first ones) for the clerk to see the clock problem.
    pub future: u64,
    pub future_lines: Vec<u64>,
    /// An earlier import of the same content stopped (its process died) at this line; this
    /// one completed it.
    pub completes_interrupted_at: Option<u64>,
}

impl FileReport {
    fn reject(&mut self, line: u64, code: &str, reason: String, params: serde_json::Map<String, serde_json::Value>) {
        if code == "implausible_time" && params.get("future") == Some(&serde_json::Value::Bool(true)) {
            self.future += 1;
            if self.future_lines.len() < MAX_LISTED_REJECTS {
                self.future_lines.push(line);
            }
        }
        self.rejected_count += 1;
        if self.rejected.len() < MAX_LISTED_REJECTS {
            self.rejected.push(Rejected { line, code: code.to_string(), reason, params });
        }
    }

    fn counts(&self) -> Counts {
        Counts {
            lines: self.lines,
            telegrams: self.telegrams,
            stored: self.stored,
            duplicates: self.duplicates,
            kept_undecoded: self.kept_undecoded,
            readings: self.readings,
            new_meters: self.new_meters,
            conflicts: self.conflicts,
            heard: self.heard,
            rejected: self.rejected_count,
            future: self.future,
        }
    }
}

/// Progress of a long import: lines done out of lines in all.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

/// The times a reception time may take: not before `earliest`, not after `latest`.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub earliest: i64,
    pub latest: i64,
}

impl Window {
    /// The plausible window at `now`, from the import settings.
    pub fn at(conn: &Connection, now: i64) -> Result<Window> {
        let s = TimeSettings::read(conn)?;
        let earliest = chrono::NaiveDate::from_ymd_opt(s.earliest_year as i32, 1, 1)
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .map_or(946_684_800, |t| t.and_utc().timestamp());
        Ok(Window { earliest, latest: now.saturating_add(s.max_future_minutes * 60) })
    }

    pub fn contains(self, ts: i64) -> bool {
        (self.earliest..=self.latest).contains(&ts)
    }
}

/// Which reception times an import takes: not before 1 January of `earliest_year` (UTC), not
/// more than `max_future_minutes` after the import's time. A manager's setting.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, serde::Deserialize)]
pub struct TimeSettings {
    pub earliest_year: i64,
    pub max_future_minutes: i64,
}

const EARLIEST_YEAR_KEY: &str = "import_earliest_year";
const MAX_FUTURE_KEY: &str = "import_max_future_minutes";

impl TimeSettings {
    pub const DEFAULT: TimeSettings = TimeSettings { earliest_year: 2000, max_future_minutes: 10 };
    pub const YEARS: std::ops::RangeInclusive<i64> = 1970..=2100;
    pub const MINUTES: std::ops::RangeInclusive<i64> = 0..=7 * 24 * 60;

    fn read(conn: &Connection) -> Result<TimeSettings> {
        let setting = |key: &str, default: i64, range: std::ops::RangeInclusive<i64>| -> Result<i64> {
            let v = store::settings::get(conn, key)?.and_then(|v| v.trim().parse().ok()).unwrap_or(default);
            Ok(v.clamp(*range.start(), *range.end()))
        };
        Ok(TimeSettings {
            earliest_year: setting(EARLIEST_YEAR_KEY, Self::DEFAULT.earliest_year, Self::YEARS)?,
            max_future_minutes: setting(MAX_FUTURE_KEY, Self::DEFAULT.max_future_minutes, Self::MINUTES)?,
        })
    }
}

/// The import's plausible reception times.
pub fn import_time_settings(store: &Store, session: &crate::access::Session) -> Result<TimeSettings> {
    session.permit(Permission::View)?;
    TimeSettings::read(&*store.reader()?)
}

/// Change the import's plausible reception times for everyone (needs `settings`, audited).
pub fn import_time_settings_set(store: &Store, session: &crate::access::Session, new: &TimeSettings, now: i64) -> Result<TimeSettings> {
    let permit = session.permit(Permission::Settings)?;
    if !TimeSettings::YEARS.contains(&new.earliest_year) {
        return Err(crate::Error::bad_input("earliest_year", "a year from 1970 to 2100"));
    }
    if !TimeSettings::MINUTES.contains(&new.max_future_minutes) {
        return Err(crate::Error::bad_input("max_future_minutes", "from 0 to 10080 minutes (a week)"));
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::settings::set(&tx, EARLIEST_YEAR_KEY, &new.earliest_year.to_string())?;
    store::settings::set(&tx, MAX_FUTURE_KEY, &new.max_future_minutes.to_string())?;
    let details = format!("earliest_year={} max_future_minutes={}", new.earliest_year, new.max_future_minutes);
    store::audit::record_permit(&tx, permit, now, "import_time_settings", &details)?;
    tx.commit()?;
    Ok(*new)
}

/// A meter's clock may differ this much from the line's reception time before the reading
/// takes the reception time instead (a meter whose clock was reset).
const CLOCK_TOLERANCE: i64 = 24 * 3600;

/// The time of a telegram's readings: the meter's own date-time (local, in `tz`) when it
/// sends one that is plausible (and, when the line has a reception time, within a day of
/// it), else the reception time (the line's, else the import's `now`). A local time the
/// autumn clock change makes twice is the one nearer the reception.
pub fn reading_time(received_at: Option<i64>, now: i64, meter_time: Option<chrono::NaiveDateTime>, tz: Tz, window: Window) -> i64 {
    use chrono::TimeZone;
    let reception = received_at.unwrap_or(now);
    let meter = meter_time.and_then(|naive| match tz.from_local_datetime(&naive) {
        chrono::LocalResult::Single(t) => Some(t.timestamp()),
        chrono::LocalResult::Ambiguous(a, b) => {
            let (a, b) = (a.timestamp(), b.timestamp());
            Some(if (a - reception).abs() <= (b - reception).abs() { a } else { b })
        }
        chrono::LocalResult::None => None,
    });
    match meter {
        Some(m) if window.contains(m) && received_at.is_none_or(|r| (m - r).abs() <= CLOCK_TOLERANCE) => m,
        _ => reception,
    }
}

/// Import one drive-by file's content. `now` is the reception time of lines without one.
pub fn import_drive_by(
    store: &Store,
    permit: Permit<'_>,
    name: &str,
    content: &[u8],
    now: i64,
    progress: Progress<'_>,
) -> Result<FileReport> {
    require(permit, Permission::Import)?;
    let content = text::utf8(name, content)?;
    let content: &[u8] = &content;
    let settings = Settings::read(store, now)?;
    // An optical readout capture (IEC 62056-21): one frame per readout.
    if readout::is_capture(content) {
        let (total, lines) = readout::capture_lines(content);
        return import_lines(store, permit, name, content, total, lines.into_iter(), settings, progress);
    }
    let tz = settings.tz;
    let lines = text::lines(content).map(move |(number, raw)| (number, line::parse(&String::from_utf8_lossy(raw), tz)));
    let result = import_lines(store, permit, name, content, text::count(content), lines, settings, progress);
    // The rejected lines' own text, for the journal's CSV (also of an import that failed
    // part way: its row is the latest of this content).
    let import_id = match &result {
        Ok(report) => Some(report.import_id),
        Err(_) => {
            use sha2::Digest;
            let hash = hex::encode(sha2::Sha256::digest(content));
            store::imports::latest_of_hash(&*store.reader()?, &hash)?
        }
    };
    if let Some(id) = import_id {
        let mut conn = store.writer();
        let tx = conn.transaction()?;
        store::imports::keep_raw_lines(&tx, id, text::lines(content))?;
        tx.commit()?;
    }
    result
}

/// What an import reads of the store's settings before it starts (and its decoding thread
/// needs: the time zone of local times, the import's time, the plausible window).
#[derive(Debug, Clone, Copy)]
pub struct Settings {
    tz: Tz,
    now: i64,
    window: Window,
    /// The source delivering (fixed network): its receptions are kept, per gateway, and
    /// its deliveries are not audited one by one (making the source was).
    source: Option<i64>,
}

impl Settings {
    /// The utility's time zone and the plausible window of reception times at `now`.
    pub fn read(store: &Store, now: i64) -> Result<Settings> {
        let conn = store.reader()?;
        Ok(Settings { tz: crate::settings::timezone(&conn)?, now, window: Window::at(&conn, now)?, source: None })
    }

    /// The same, for a delivery of source `id`.
    pub fn from_source(self, id: i64) -> Settings {
        Settings { source: Some(id), ..self }
    }

    pub fn tz(&self) -> Tz {
        self.tz
    }

    /// The import's time: the reception time of what says none.
    pub fn now(&self) -> i64 {
        self.now
    }
}

/// Import `total` parsed lines (numbered from 1) of a file or a pushed body whose bytes are
/// `fingerprint` (an import of the same bytes that was interrupted is completed by this one).
#[allow(clippy::too_many_arguments)]
pub fn import_lines<I>(
    store: &Store,
    permit: Permit<'_>,
    name: &str,
    fingerprint: &[u8],
    total: u64,
    lines: I,
    settings: Settings,
    progress: Progress<'_>,
) -> Result<FileReport>
where
    I: Iterator<Item = (u64, line::Line)> + Send,
{
    require(permit, Permission::Import)?;
    let keys = store.keys()?;
    let formats = mbus::FormatCache::from_entries(store::formats::all(&*store.reader()?)?);
    let known_formats = formats.len();
    let mut started: Option<Run<'_>> = None;
    let outcome = std::thread::scope(|scope| -> Result<mbus::FormatCache> {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Decoded>>(BATCH / DECODE_CHUNK + 2);
        let mut decoder = Decoder::new(&keys, formats);
        // One thread decodes (pure work) while this one writes to the store.
        let worker = scope.spawn(move || {
            let mut chunk = Vec::with_capacity(DECODE_CHUNK);
            for (number, parsed) in lines {
                chunk.push(decoder.decode(number, parsed, &settings));
                if chunk.len() == DECODE_CHUNK {
                    let full = std::mem::replace(&mut chunk, Vec::with_capacity(DECODE_CHUNK));
                    if send.send(full).is_err() {
                        break; // the writer stopped on an error
                    }
                }
            }
            let _ = send.send(chunk);
            decoder.formats
        });
        // While the first lines decode: the content's fingerprint and the import's row.
        let hash = {
            use sha2::Digest;
            hex::encode(sha2::Sha256::digest(fingerprint))
        };
        let run = started.insert(Run::start(store, permit, name, fingerprint.len() as u64, &hash, settings)?);
        for chunk in receive {
            let last = chunk.last().map(|d| d.line);
            for decoded in chunk {
                run.take(decoded)?;
            }
            if run.pending.len() >= BATCH {
                run.flush(last.map_or(0, |l| l + 1))?;
            }
            if let Some(line) = last {
                progress(line, total);
            }
        }
        worker.join().map_err(|_| crate::Error::bad_input("import", "the decoding thread failed"))
    });
    let Some(mut run) = started else {
        return Err(outcome.err().unwrap_or_else(|| crate::Error::bad_input("import", "the import did not start")));
    };
    let result = outcome.and_then(|formats| {
        run.report.lines = total;
        run.flush(total + 1)?;
        if formats.len() > known_formats {
            let mut conn = store.writer();
            let tx = conn.transaction()?;
            for (signature, layout) in formats.entries() {
                store::formats::insert(&tx, signature, &layout, settings.now)?;
            }
            tx.commit()?;
        }
        Ok(())
    });
    match result {
        Ok(()) => {
            let report = run.finish(None)?;
            progress(total, total);
            Ok(report)
        }
        Err(e) => {
            // What was committed stays (and is counted in the import's row); the error says
            // where the import stopped.
            let _ = run.finish(Some(&e.to_string()));
            Err(e)
        }
    }
}

const DECODE_CHUNK: usize = 1024;

/// A line after decoding, before the store.
struct Decoded {
    line: u64,
    outcome: Outcome,
}

enum Outcome {
    Skip,
    Bad { code: &'static str, reason: String, params: serde_json::Map<String, serde_json::Value> },
    Telegram(Box<DecodedTelegram>),
}

struct DecodedTelegram {
    frame: line::Frame,
    address: mbus::Address,
    /// When the readings were taken (see [`reading_time`]).
    ts: i64,
    values: Values,
}

/// What a telegram gives once decoded: its store status, or why it gave no values.
pub(crate) struct Values {
    pub status: &'static str,
    pub problem: Option<(&'static str, String)>,
    pub readings: Vec<(Register, f64)>,
    pub codes: Vec<&'static str>,
    /// The meter's own current date-time record (local time).
    pub meter_time: Option<chrono::NaiveDateTime>,
}

/// Decodes telegrams with the known keys and compact-frame layouts, learning the layout of
/// each Kamstrup meter's first full frame. Pure: no store.
pub(crate) struct Decoder<'k> {
    keys: &'k crate::keys::Keys,
    pub formats: mbus::FormatCache,
    learned: std::collections::HashSet<String>,
    /// AFL fragments of the same import (file, batch) waiting for the rest of their message;
    /// bounded by the decoder's limits (messages held, bytes a message).
    fragments: mbus::Reassembler,
}

impl<'k> Decoder<'k> {
    pub fn new(keys: &'k crate::keys::Keys, formats: mbus::FormatCache) -> Decoder<'k> {
        Decoder { keys, formats, learned: std::collections::HashSet::new(), fragments: mbus::Reassembler::new() }
    }

    /// Decode a telegram and map it to registers and info codes.
    pub fn values(&mut self, raw: &[u8], address: &mbus::Address) -> Values {
        let key = self.keys.get(&address.id, &address.manufacturer).map(crate::keys::cipher_key);
        let mut decoded = mbus::decode_with_formats(raw, key.as_ref(), &self.formats);
        // A fragment of a longer message (AFL): kept like any telegram; the fragment that
        // completes the message carries the message's values.
        if let Err(mbus::DecodeError::Fragmented { .. }) = decoded {
            decoded = match self.fragments.push(raw) {
                Ok(mbus::Pushed::Complete(message)) => message.decode(key.as_ref(), Some(&self.formats)),
                Ok(mbus::Pushed::Pending { fragment, .. } | mbus::Pushed::Duplicate { fragment }) => {
                    Err(mbus::DecodeError::Fragmented { fragment })
                }
                Ok(mbus::Pushed::Whole) => decoded,
                Err(e) => Err(e),
            };
        }
        let (status, problem) = match &decoded {
            Err(e) => ("undecodable", Some((e.code(), e.to_string()))),
            Ok(t) => match t.security.status {
                mbus::SecurityStatus::WrongKey => (
                    "wrong-key",
                    Some(("wrong_key", format!("wrong AES key for meter {} ({}): the telegram is kept, no values read", address.id, address.manufacturer))),
                ),
                mbus::SecurityStatus::NoKey => (
                    "no-key",
                    Some(("no_key", format!("no AES key for meter {} ({}): the telegram is kept and will be decoded when its key is imported", address.id, address.manufacturer))),
                ),
                mbus::SecurityStatus::Ok | mbus::SecurityStatus::Plaintext => ("decoded", None),
            },
        };
        let (readings, codes, meter_time) = match &decoded {
            Ok(t) if problem.is_none() => {
                (driver::readings(t), t.info_codes.iter().map(driver::info_code_id).collect(), meter_time(t))
            }
            _ => (Vec::new(), Vec::new(), None),
        };
        // Kamstrup meters send a full frame now and then and compact frames in between.
        if problem.is_none() && matches!(address.manufacturer.as_str(), "KAM" | "KAW") && !self.learned.contains(&address.id) {
            self.learned.insert(address.id.clone());
            self.formats.learn(raw, key.as_ref());
        }
        Values { status, problem, readings, codes, meter_time }
    }

    /// Decode one parsed line.
    fn decode(&mut self, number: u64, parsed: line::Line, context: &Settings) -> Decoded {
        let outcome = match parsed {
            line::Line::Skip => Outcome::Skip,
            line::Line::Bad(problem) => Outcome::Bad { code: "bad_line", reason: problem.to_string(), params: problem.params() },
            line::Line::Frame(frame) if readout::is_readout(&frame.bytes) => {
                implausible_time(frame.received_at, context).unwrap_or_else(|| match readout::decode(frame, context) {
                    Ok(t) => Outcome::Telegram(Box::new(t)),
                    Err((code, reason)) => Outcome::Bad { code, reason, params: serde_json::Map::new() },
                })
            }
            line::Line::Frame(frame) => match mbus::peek_address(&frame.bytes) {
                Err(e) => Outcome::Bad { code: e.code(), reason: e.to_string(), params: serde_json::Map::new() },
                Ok(address) => implausible_time(frame.received_at, context).unwrap_or_else(|| {
                    let values = self.values(&frame.bytes, &address);
                    let ts = reading_time(frame.received_at, context.now, values.meter_time, context.tz, context.window);
                    Outcome::Telegram(Box::new(DecodedTelegram { frame, address, ts, values }))
                }),
            },
        };
        Decoded { line: number, outcome }
    }
}

/// A line whose reception time lies outside the plausible window: refused, for wireless
/// frames and optical readouts alike.
fn implausible_time(received_at: Option<i64>, context: &Settings) -> Option<Outcome> {
    let at = received_at.filter(|at| !context.window.contains(*at))?;
    let mut params = serde_json::Map::new();
    params.insert("at".into(), at.into());
    params.insert("future".into(), (at > context.window.latest).into());
    params.insert("latest".into(), context.window.latest.into());
    Some(Outcome::Bad { code: "implausible_time", reason: implausible(at, context.window, context.tz), params })
}

/// Why a reception time is refused, in words.
fn implausible(at: i64, window: Window, tz: Tz) -> String {
    let local = |t: i64| {
        chrono::DateTime::from_timestamp(t, 0)
            .map_or_else(|| t.to_string(), |d| d.with_timezone(&tz).format("%Y-%m-%d %H:%M:%S").to_string())
    };
    if at < window.earliest {
        format!("reception time {} is before {}: not a plausible time (setting import_earliest_year)", local(at), local(window.earliest))
    } else {
        format!(
            "reception time {} is after {}: in the future (setting import_max_future_minutes)",
            local(at),
            local(window.latest)
        )
    }
}

/// The meter's current date-time record (storage 0), a local time.
pub(crate) fn meter_time(t: &mbus::Telegram) -> Option<chrono::NaiveDateTime> {
    let record = t.records.iter().find(|r| {
        r.quantity == mbus::Quantity::DateTime && r.storage == 0 && r.function == mbus::Function::Instantaneous
    })?;
    let mbus::Value::Text(text) = &record.value else { return None };
    chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M:%S")
        .or_else(|_| chrono::NaiveDateTime::parse_from_str(text, "%Y-%m-%dT%H:%M"))
        .ok()
}

/// What decoding a meter's stored telegrams again gave.
#[derive(Debug, Default)]
pub(crate) struct Redecoded {
    /// Meters that had telegrams waiting.
    pub meters: u64,
    pub telegrams: u64,
    pub readings: u64,
    /// Telegrams still without values.
    pub still_failing: u64,
}

/// Decode again, with `keys`, the stored telegrams of the meters of `serial` that had no
/// values (after a key arrived), inside the caller's transaction; the meters' key status
/// follows their newest telegram.
pub(crate) fn redecode_serial(conn: &Connection, serial: &str, keys: &crate::keys::Keys, now: i64) -> Result<Redecoded> {
    let mut out = Redecoded::default();
    let tz = crate::settings::timezone(conn)?;
    let window = Window { earliest: i64::MIN, latest: i64::MAX };
    let pending = store::telegrams::pending_of_serial(conn, serial)?;
    if pending.is_empty() {
        return Ok(out);
    }
    let mut decoder = Decoder::new(keys, mbus::FormatCache::from_entries(store::formats::all(conn)?));
    let mut newest: HashMap<i64, (i64, i64)> = HashMap::new();
    for t in pending {
        let Ok(address) = mbus::peek_address(&t.raw) else { continue };
        let v = decoder.values(&t.raw, &address);
        let status = crate::keys::KeyStatus::of_problem(v.problem.as_ref().map(|p| p.0)).code();
        let e = newest.entry(t.meter_id).or_insert((t.received_at, status));
        if t.received_at >= e.0 {
            *e = (t.received_at, status);
        }
        if v.problem.is_some() {
            out.still_failing += 1;
            continue;
        }
        store::telegrams::set_status(conn, t.meter_id, t.id, v.status)?;
        out.telegrams += 1;
        let ts = reading_time(Some(t.received_at), t.received_at, v.meter_time, tz, window);
        for (register, value) in v.readings {
            let r = store::readings::Reading { meter_id: t.meter_id, register: register.code(), ts, value, telegram_id: Some(t.id) };
            out.readings += u64::from(store::readings::insert(conn, &r, now)?);
        }
    }
    out.meters = newest.len() as u64;
    for (meter_id, (at, status)) in newest {
        store::meters::set_key_status(conn, meter_id, status, at)?;
    }
    Ok(out)
}

/// One import in progress: decoded lines wait in `pending` until a chunk is written, in its
/// own short transaction.
struct Run<'s> {
    store: &'s Store,
    permit: Permit<'s>,
    now: i64,
    import_id: i64,
    /// Meter ids by serial, then manufacturer, filled as meters are met (a meter created by
    /// another writer meanwhile is found in the store).
    meters: HashMap<String, Vec<(String, i64)>>,
    pending: Vec<Pending>,
    /// Lines a chunk holds, adjusted so a chunk's transaction lasts about [`CHUNK_TARGET`].
    chunk_size: usize,
    report: FileReport,
    /// Rejects and conflicts listed since the last chunk, written with it.
    new_rejects: usize,
    new_conflicts: Vec<Conflict>,
    /// The latest plausible time: a meter's `last_seen` after it (stored before times were
    /// checked) is ignored, so it can no longer pin the meter's info codes.
    latest: i64,
    /// The first line not yet committed: every line before it is in the store.
    next_line: u64,
    /// The delivering source, if any (see [`Settings`]).
    source: Option<i64>,
    /// The utility's time zone (a gateway's frames are counted per local day).
    tz: Tz,
    /// Meters given new readings by the transaction under way (signalled once it commits).
    changed: Vec<i64>,
}

/// Lines decoded before their telegrams and readings go to the store, sorted: rows sorted
/// by key insert several times faster than rows in arrival order.
const BATCH: usize = 100_000;

/// A decoded line waiting for its chunk to be written.
struct Pending {
    line: u64,
    serial: String,
    manufacturer: String,
    version: i64,
    device_type: String,
    received_at: i64,
    ts: i64,
    rssi: Option<i64>,
    heard_by: Vec<line::Hearing>,
    raw: Vec<u8>,
    values: Values,
}

/// What the import tracks of a meter while a chunk is written.
struct MeterState {
    last_seen: Option<i64>,
    mask: i64,
    /// A removed meter still heard: its telegrams open no info code (it left every count).
    removed: bool,
    open: Vec<Event>,
    closed: Vec<Event>,
}

const MIN_CHUNK: usize = 256;
const MAX_CHUNK: usize = 65_536;

impl<'s> Run<'s> {
    fn start(store: &'s Store, permit: Permit<'s>, name: &str, size: u64, hash: &str, settings: Settings) -> Result<Run<'s>> {
        let now = settings.now;
        let (import_id, earlier) = {
            let mut conn = store.writer();
            let tx = conn.transaction()?;
            let earlier = store::imports::unfinished_of_hash(&tx, hash)?;
            if let Some(e) = &earlier {
                store::imports::interrupted(&tx, e.id, now)?;
            }
            let source = store::imports::Source { name, size, hash };
            let id = store::imports::start(&tx, &permit.session.login, &source, now)?;
            tx.commit()?;
            (id, earlier)
        };
        let report = FileReport {
            name: name.to_string(),
            import_id,
            completes_interrupted_at: earlier.map(|e| e.next_line),
            ..FileReport::default()
        };
        Ok(Run {
            store,
            permit,
            now,
            import_id,
            meters: HashMap::new(),
            pending: Vec::new(),
            chunk_size: 4096,
            report,
            new_rejects: 0,
            new_conflicts: Vec::new(),
            latest: settings.window.latest,
            next_line: 1,
            source: settings.source,
            tz: settings.tz,
            changed: Vec::new(),
        })
    }

    fn reject(&mut self, line: u64, code: &str, reason: String, params: serde_json::Map<String, serde_json::Value>) {
        let listed = self.report.rejected.len();
        self.report.reject(line, code, reason, params);
        self.new_rejects += self.report.rejected.len() - listed;
    }

    fn take(&mut self, decoded: Decoded) -> Result<()> {
        let number = decoded.line;
        let t = match decoded.outcome {
            Outcome::Skip => return Ok(()),
            Outcome::Bad { code, reason, params } => {
                if code != "bad_line" {
                    self.report.telegrams += 1;
                }
                self.reject(number, code, reason, params);
                return Ok(());
            }
            Outcome::Telegram(t) => *t,
        };
        self.report.telegrams += 1;
        self.pending.push(Pending {
            line: number,
            serial: t.address.id,
            manufacturer: t.address.manufacturer,
            version: i64::from(t.address.version),
            device_type: driver::device_type_name(&t.address.device_type),
            received_at: t.frame.received_at.unwrap_or(self.now),
            ts: t.ts,
            rssi: t.frame.rssi,
            heard_by: t.frame.heard_by,
            raw: t.frame.bytes,
            values: t.values,
        });
        Ok(())
    }

    /// The meter of a telegram: known, found in the store, or created as unassigned when
    /// its telegram decodes. `None`: a device not in the park whose telegram gives no values.
    fn meter_of(&mut self, conn: &Connection, p: &Pending) -> Result<Option<i64>> {
        let known = self.meters.get(&p.serial).and_then(|v| v.iter().find(|(m, _)| *m == p.manufacturer));
        if let Some((_, id)) = known {
            return Ok(Some(*id));
        }
        let id = match store::meters::id_of_serial_manufacturer(conn, &p.serial, &p.manufacturer)? {
            Some(id) => id,
            None if p.values.problem.is_some() => return Ok(None),
            None => {
                let meter = NewMeter {
                    serial: p.serial.clone(),
                    manufacturer: p.manufacturer.clone(),
                    version: p.version,
                    device_type: p.device_type.clone(),
                    status: "unassigned".into(),
                    ..NewMeter::default()
                };
                self.report.new_meters += 1;
                store::meters::insert(conn, &meter, self.now)?
            }
        };
        self.meters.entry(p.serial.clone()).or_default().push((p.manufacturer.clone(), id));
        Ok(Some(id))
    }

    /// Write the pending lines (a batch of up to [`BATCH`] lines) in short transactions:
    /// first their meters (and the devices not in the park), a slice of lines at a time;
    /// then their telegrams and readings sorted by key, cut into slices of whole meters, so
    /// each page of the store is written by one slice only and the batch costs the store
    /// what one transaction would, while no slice holds the write lock much longer than
    /// [`CHUNK_TARGET`]. The last slice records the batch's rejects and `next_line`.
    fn flush(&mut self, next_line: u64) -> Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        let mut meter_ids: Vec<Option<i64>> = Vec::with_capacity(pending.len());
        for part in pending.chunks(self.chunk_size.max(MIN_CHUNK) * 4) {
            self.transaction(|run, tx| {
                for p in part {
                    let id = run.meter_of(tx, p)?;
                    if id.is_none() {
                        run.hear(tx, p)?;
                    }
                    meter_ids.push(id);
                }
                Ok(())
            })?;
        }
        let mut order: Vec<(i64, i64, usize)> = pending
            .iter()
            .zip(&meter_ids)
            .enumerate()
            .filter_map(|(i, (p, m))| m.map(|m| (m, store::telegrams::hash_id(&p.raw), i)))
            .collect();
        order.sort_unstable();
        let mut start = 0;
        loop {
            // A slice: about chunk_size telegrams, to the end of its last meter.
            let mut end = (start + self.chunk_size).min(order.len());
            while end < order.len() && end > 0 && order[end].0 == order[end - 1].0 {
                end += 1;
            }
            let last_slice = end == order.len();
            let slice = &order[start..end];
            let started = Instant::now();
            self.transaction(|run, tx| {
                run.write_slice(tx, slice, &mut pending)?;
                if last_slice {
                    for r in &run.report.rejected[run.report.rejected.len() - run.new_rejects..] {
                        store::imports::reject(tx, run.import_id, r.line, &r.code, &r.reason)?;
                    }
                    run.new_rejects = 0;
                    run.next_line = next_line;
                }
                for c in run.new_conflicts.drain(..) {
                    store::imports::conflict(tx, run.import_id, &c)?;
                }
                store::imports::progress(tx, run.import_id, &run.report.counts(), run.next_line)?;
                Ok(())
            })?;
            // Aim the next slice at CHUNK_TARGET.
            let took = started.elapsed().as_secs_f64().max(1e-4);
            if slice.len() >= self.chunk_size / 2 {
                let scaled = (self.chunk_size as f64 * CHUNK_TARGET.as_secs_f64() / took) as usize;
                self.chunk_size = scaled.clamp(self.chunk_size / 2, self.chunk_size * 2).clamp(MIN_CHUNK, MAX_CHUNK);
            }
            if last_slice {
                return Ok(());
            }
            start = end;
        }
    }

    /// Run `f` in a write transaction of its own, then leave a gap for other writers (another
    /// process waiting for the write lock polls every few milliseconds).
    fn transaction(&mut self, f: impl FnOnce(&mut Self, &Connection) -> Result<()>) -> Result<()> {
        {
            let store = self.store;
            let mut conn = store.writer();
            let tx = conn.transaction()?;
            f(self, &tx)?;
            tx.commit()?;
        }
        self.store.changed(&std::mem::take(&mut self.changed));
        self.store.checkpoint_if_large()?;
        std::thread::sleep(Duration::from_millis(2));
        Ok(())
    }

    /// A slice's telegrams (sorted by meter and id; the same bytes stored once), their
    /// readings sorted by key, and the info codes and `last_seen` of its meters.
    fn write_slice(&mut self, conn: &Connection, slice: &[(i64, i64, usize)], pending: &mut [Pending]) -> Result<()> {
        let mut new: Vec<(usize, i64, i64)> = Vec::with_capacity(slice.len());
        let gateways = self.gateways_of(conn, slice, pending)?;
        let mut gateway_days: HashMap<(i64, i64), i64> = HashMap::new();
        for &(meter_id, _, i) in slice {
            let p = &pending[i];
            let t = NewTelegram {
                meter_id,
                received_at: p.received_at,
                rssi: p.rssi,
                import_id: self.import_id,
                status: p.values.status,
                raw: &p.raw,
            };
            let telegram_id = match store::telegrams::insert(conn, &t)? {
                Inserted::New(id) => {
                    new.push((i, meter_id, id));
                    id
                }
                Inserted::Duplicate(id) => {
                    self.report.duplicates += 1;
                    id
                }
            };
            for h in &p.heard_by {
                let r = store::gateways::Reception {
                    meter_id,
                    telegram_id,
                    gateway_id: gateways[&h.gateway],
                    received_at: h.at.unwrap_or(p.received_at),
                    rssi: h.rssi,
                    snr: h.snr,
                    source_id: self.source,
                };
                if store::gateways::receive(conn, &r)? {
                    *gateway_days.entry((r.gateway_id, crate::gateways::local_day(self.tz, r.received_at))).or_default() += 1;
                }
            }
        }
        store::gateways::count_days(conn, &gateway_days)?;
        // In line order: counts, rejects, what each meter said.
        new.sort_unstable();
        let mut observed: HashMap<i64, Vec<(i64, Vec<&'static str>)>> = HashMap::new();
        let mut readings = Vec::with_capacity(new.len() * 2);
        // Each meter's newest telegram of the slice: its key status.
        let mut key_status: HashMap<i64, (i64, i64)> = HashMap::new();
        for &(i, meter_id, telegram_id) in &new {
            let p = &mut pending[i];
            self.report.stored += 1;
            let status = crate::keys::KeyStatus::of_problem(p.values.problem.as_ref().map(|p| p.0)).code();
            let e = key_status.entry(meter_id).or_insert((p.received_at, status));
            if p.received_at >= e.0 {
                *e = (p.received_at, status);
            }
            if let Some((code, reason)) = p.values.problem.take() {
                self.report.kept_undecoded += 1;
                let line = p.line;
                self.reject(line, code, reason, serde_json::Map::new());
                continue;
            }
            for (register, value) in &p.values.readings {
                let r = store::readings::Reading { meter_id, register: register.code(), ts: p.ts, value: *value, telegram_id: Some(telegram_id) };
                readings.push((r, i, *register));
            }
            observed.entry(meter_id).or_default().push((p.ts, std::mem::take(&mut p.values.codes)));
        }
        // Sorted by key, stably: of two values for one key the earlier line's is kept.
        readings.sort_by_key(|(r, _, _)| (r.meter_id, r.register, r.ts));
        for (r, i, register) in &readings {
            match store::readings::offer(conn, r, self.now)? {
                Offered::New => {
                    self.report.readings += 1;
                    if self.changed.last() != Some(&r.meter_id) {
                        self.changed.push(r.meter_id);
                    }
                }
                Offered::Same => {}
                Offered::Conflict { kept_value, kept_telegram } => {
                    self.report.conflicts += 1;
                    if self.report.conflict_list.len() < MAX_LISTED_REJECTS {
                        let (line, serial) = (pending[*i].line, pending[*i].serial.clone());
                        let c = Conflict {
                            line,
                            meter_id: r.meter_id,
                            register: r.register,
                            ts: r.ts,
                            kept_value,
                            kept_telegram,
                            other_value: r.value,
                            other_telegram: r.telegram_id,
                        };
                        self.report.conflict_list.push(ReadingConflict {
                            line,
                            serial,
                            register: register.id(),
                            ts: r.ts,
                            kept_value,
                            other_value: r.value,
                            kept_telegram: kept_telegram.map(|t| format!("{t:016x}")),
                            other_telegram: r.telegram_id.map(|t| format!("{t:016x}")),
                        });
                        self.new_conflicts.push(c);
                    }
                }
            }
        }
        let mut key_status: Vec<_> = key_status.into_iter().collect();
        key_status.sort_unstable();
        for (meter_id, (at, status)) in key_status {
            store::meters::set_key_status(conn, meter_id, status, at)?;
        }
        // Each meter read afresh (another writer may have changed it since), then what its
        // telegrams said, in line order.
        let mut meters: Vec<_> = observed.into_iter().collect();
        meters.sort_unstable_by_key(|(id, _)| *id);
        for (meter_id, observed) in meters {
            let mut state = MeterState::load(conn, meter_id, self.latest)?;
            for (ts, codes) in &observed {
                state.observe(*ts, codes);
            }
            for e in state.open.iter().chain(&state.closed) {
                store::info_codes::upsert(conn, meter_id, e)?;
            }
            store::meters::set_seen(conn, meter_id, state.last_seen, state.mask)?;
        }
        Ok(())
    }

    /// The gateways that heard the slice's telegrams, by name: each met once, its last contact
    /// the latest of its receptions.
    fn gateways_of(&self, conn: &Connection, slice: &[(i64, i64, usize)], pending: &[Pending]) -> Result<HashMap<String, i64>> {
        let mut latest: HashMap<&str, (&'static str, i64)> = HashMap::new();
        for &(_, _, i) in slice {
            let p = &pending[i];
            for h in &p.heard_by {
                let at = h.at.unwrap_or(p.received_at);
                let e = latest.entry(&h.gateway).or_insert((h.kind, at));
                e.1 = e.1.max(at);
            }
        }
        let mut ids = HashMap::with_capacity(latest.len());
        for (name, (kind, at)) in latest {
            ids.insert(name.to_string(), store::gateways::contact(conn, name, kind, at, self.source)?);
        }
        Ok(ids)
    }

    /// Keep the telegram of a device not in the park in the heard-devices list.
    fn hear(&mut self, conn: &Connection, p: &Pending) -> Result<()> {
        let heard = store::heard::Heard {
            serial: &p.serial,
            manufacturer: &p.manufacturer,
            version: p.version,
            device_type: &p.device_type,
            received_at: p.received_at,
            rssi: p.rssi,
            encrypted: matches!(p.values.status, "no-key" | "wrong-key"),
            status: p.values.status,
            import_id: self.import_id,
            raw: &p.raw,
        };
        self.report.heard += 1;
        if store::heard::hear(conn, &heard)? {
            self.report.heard_devices += 1;
        }
        Ok(())
    }

    /// Record the end of the import (and its error, if it stopped) with an audit entry.
    fn finish(mut self, error: Option<&str>) -> Result<FileReport> {
        self.report.rejected.sort_by_key(|r| r.line);
        self.report.conflict_list.sort_by_key(|c| c.line);
        let r = &self.report;
        let mut conn = self.store.writer();
        let tx = conn.transaction()?;
        store::imports::finish(&tx, self.import_id, error, self.now)?;
        let mut details = format!(
            "{}: {} lines, {} stored, {} duplicates, {} rejected, {} readings, {} conflicts, {} new meters, {} heard from devices not in the park",
            r.name, r.lines, r.stored, r.duplicates, r.rejected_count, r.readings, r.conflicts, r.new_meters, r.heard
        );
        if let Some(e) = error {
            details.push_str(&format!("; stopped: {e}"));
        }
        // A source's deliveries are kept in `imports`, not audited one by one.
        if self.source.is_none() || error.is_some() {
            store::audit::record_permit(&tx, self.permit, self.now, "import", &details)?;
        }
        tx.commit()?;
        Ok(self.report)
    }
}

impl MeterState {
    fn load(conn: &Connection, id: i64, latest: i64) -> Result<MeterState> {
        let (last_seen, mask, removed) = store::meters::seen(conn, id)?;
        let last_seen = last_seen.filter(|seen| *seen <= latest);
        let open = if mask == 0 { Vec::new() } else { store::info_codes::open_of(conn, id)? };
        Ok(MeterState { last_seen, mask, removed, open, closed: Vec::new() })
    }

    /// Follow the meter's info codes with a telegram of time `ts`: an ongoing code extends
    /// its event, a new one opens an event, a code no longer sent closes it. Telegrams
    /// older than the last one seen do not change events.
    fn observe(&mut self, ts: i64, codes: &[&str]) {
        if self.last_seen.is_some_and(|seen| ts < seen) {
            return;
        }
        self.last_seen = Some(ts);
        if self.removed {
            return;
        }
        let mut still_open = Vec::with_capacity(self.open.len());
        for mut e in self.open.drain(..) {
            if codes.contains(&e.code.as_str()) {
                e.last_seen_at = ts;
                still_open.push(e);
            } else {
                e.ended_at = Some(ts);
                self.closed.push(e);
            }
        }
        for code in codes {
            if !still_open.iter().any(|e| e.code == *code) {
                still_open.push(Event { code: (*code).to_string(), started_at: ts, last_seen_at: ts, ended_at: None });
            }
        }
        self.mask = still_open.iter().fold(0, |m, e| m | info_code_bit(&e.code));
        self.open = still_open;
    }
}

#[cfg(test)]
mod tests {
    use super::{reading_time, Window};
    use chrono::NaiveDate;

    fn local(y: i32, mo: u32, d: u32, h: u32, mi: u32) -> chrono::NaiveDateTime {
        NaiveDate::from_ymd_opt(y, mo, d).and_then(|d| d.and_hms_opt(h, mi, 0)).expect("time")
    }

    #[test]
    fn the_meters_clock_when_it_is_believable() {
        let paris = chrono_tz::Europe::Paris;
        let window = Window { earliest: 946_684_800, latest: 1_800_000_000 };
        let now = 1_767_571_200; // 2026-01-05 00:00 UTC
        // 2026-01-03 10:10 in Paris is 09:10 UTC.
        let meter = Some(local(2026, 1, 3, 10, 10));
        assert_eq!(reading_time(None, now, meter, paris, window), 1_767_431_400, "no reception time: the meter's clock");
        assert_eq!(reading_time(Some(1_767_431_460), now, meter, paris, window), 1_767_431_400, "a minute apart: the meter's");
        assert_eq!(reading_time(Some(1_767_000_000), now, meter, paris, window), 1_767_000_000, "days apart: the reception");
        let reset = Some(local(2000, 1, 1, 0, 0));
        assert_eq!(reading_time(Some(1_767_431_460), now, reset, paris, window), 1_767_431_460, "a reset clock");
        assert_eq!(reading_time(None, now, Some(local(1990, 1, 1, 0, 0)), paris, window), now, "before the window");
        assert_eq!(reading_time(None, now, None, paris, window), now);
        // 2026-10-25 02:30 happens twice in Paris (00:30 and 01:30 UTC): the one nearer the reception.
        let twice = Some(local(2026, 10, 25, 2, 30));
        let first = 1_792_888_200; // 00:30 UTC
        assert_eq!(reading_time(Some(first + 60), now + 10_000_000, twice, paris, Window { latest: i64::MAX, ..window }), first);
        assert_eq!(reading_time(Some(first + 3600 + 60), now, twice, paris, Window { latest: i64::MAX, ..window }), first + 3600);
        // 2026-03-29 02:30 does not exist in Paris: the reception time.
        assert_eq!(reading_time(Some(1_774_747_800), now, Some(local(2026, 3, 29, 2, 30)), paris, Window { latest: i64::MAX, ..window }), 1_774_747_800);
    }
}
