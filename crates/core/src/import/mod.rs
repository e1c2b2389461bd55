//! Importing readings: a drive-by file (one telegram a line) goes through the decoder into
//! the store, in one transaction per file. Bad lines are reported, never fatal; the raw
//! telegram is kept; the same telegram twice is stored once.

pub mod line;

use crate::access::{require, Permission, Permit};
use crate::driver;
use crate::error::Result;
use crate::model::info_code_bit;
use crate::store::info_codes::Event;
use crate::store::meters::{MeterRef, NewMeter};
use crate::store::telegrams::{Inserted, NewTelegram};
use crate::store::{self, Store};
use chrono_tz::Tz;
use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;

/// At most this many rejected lines are listed per file (the counts stay exact).
pub const MAX_LISTED_REJECTS: usize = 1000;

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Rejected {
    pub line: u64,
    pub code: String,
    pub reason: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FileReport {
    pub name: String,
    pub lines: u64,
    pub telegrams: u64,
    pub stored: u64,
    pub duplicates: u64,
    /// Telegrams kept without values (no key, wrong key, not decodable yet).
    pub kept_undecoded: u64,
    pub readings: u64,
    pub new_meters: u64,
    pub rejected_count: u64,
    pub rejected: Vec<Rejected>,
}

impl FileReport {
    fn reject(&mut self, line: u64, code: &str, reason: String) {
        self.rejected_count += 1;
        if self.rejected.len() < MAX_LISTED_REJECTS {
            self.rejected.push(Rejected { line, code: code.to_string(), reason });
        }
    }
}

/// Progress of a long import: lines done out of lines in all.
pub type Progress<'a> = &'a mut dyn FnMut(u64, u64);

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
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let tz = crate::settings::timezone(&tx)?;
    let keys = store::keys::all(&tx)?;
    let formats = mbus::FormatCache::from_entries(store::formats::all(&tx)?);
    let known_formats = formats.len();
    let mut run = Run::new(&tx, permit, name, now)?;
    let total = content.iter().filter(|b| **b == b'\n').count() as u64
        + u64::from(!content.is_empty() && !content.ends_with(b"\n"));
    // One thread decodes (pure work) while this one writes to the store: on two cores the
    // import then runs at the speed of the store alone.
    let formats = std::thread::scope(|scope| -> Result<mbus::FormatCache> {
        let (send, receive) = std::sync::mpsc::sync_channel::<Vec<Decoded>>(BATCH / DECODE_CHUNK + 2);
        let mut decoder = Decoder::new(&keys, formats);
        let worker = scope.spawn(move || {
            let mut chunk = Vec::with_capacity(DECODE_CHUNK);
            for (i, raw_line) in content.split(|b| *b == b'\n').enumerate().take(total as usize) {
                chunk.push(decoder.line(i as u64 + 1, &String::from_utf8_lossy(raw_line), tz));
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
        for chunk in receive {
            let last = chunk.last().map(|d| d.line);
            for decoded in chunk {
                run.take(decoded)?;
            }
            if let Some(line) = last {
                progress(line, total);
            }
        }
        worker.join().map_err(|_| crate::Error::bad_input("import", "the decoding thread failed"))
    })?;
    if formats.len() > known_formats {
        for (signature, layout) in formats.entries() {
            store::formats::insert(&tx, signature, &layout, now)?;
        }
    }
    run.report.lines = total;
    let report = run.finish()?;
    tx.commit()?;
    progress(total, total);
    Ok(report)
}

const DECODE_CHUNK: usize = 4096;

/// A line after decoding, before the store.
struct Decoded {
    line: u64,
    outcome: Outcome,
}

enum Outcome {
    Skip,
    Bad { code: &'static str, reason: String },
    Telegram(Box<DecodedTelegram>),
}

struct DecodedTelegram {
    frame: line::Frame,
    address: mbus::Address,
    status: &'static str,
    problem: Option<(&'static str, String)>,
    readings: Vec<(crate::model::Register, f64)>,
    codes: Vec<&'static str>,
}

/// What a telegram gives once decoded: its store status, or why it gave no values.
pub(crate) struct Values {
    pub status: &'static str,
    pub problem: Option<(&'static str, String)>,
    pub readings: Vec<(crate::model::Register, f64)>,
    pub codes: Vec<&'static str>,
}

/// Decodes telegrams with the known keys and compact-frame layouts, learning the layout of
/// each Kamstrup meter's first full frame. Pure: no store.
pub(crate) struct Decoder<'k> {
    keys: &'k HashMap<String, [u8; 16]>,
    pub formats: mbus::FormatCache,
    learned: std::collections::HashSet<String>,
}

impl<'k> Decoder<'k> {
    pub fn new(keys: &'k HashMap<String, [u8; 16]>, formats: mbus::FormatCache) -> Decoder<'k> {
        Decoder { keys, formats, learned: std::collections::HashSet::new() }
    }

    /// Decode a telegram and map it to registers and info codes.
    pub fn values(&mut self, raw: &[u8], address: &mbus::Address) -> Values {
        let key = self.keys.get(&address.id).map(|k| mbus::AesKey::from_bytes(*k));
        let decoded = mbus::decode_with_formats(raw, key.as_ref(), &self.formats);
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
        let (readings, codes) = match &decoded {
            Ok(t) if problem.is_none() => (driver::readings(t), t.info_codes.iter().map(driver::info_code_id).collect()),
            _ => (Vec::new(), Vec::new()),
        };
        // Kamstrup meters send a full frame now and then and compact frames in between.
        if problem.is_none() && matches!(address.manufacturer.as_str(), "KAM" | "KAW") && !self.learned.contains(&address.id) {
            self.learned.insert(address.id.clone());
            self.formats.learn(raw, key.as_ref());
        }
        Values { status, problem, readings, codes }
    }

    /// Parse and decode one line of a drive-by file.
    fn line(&mut self, number: u64, text: &str, tz: Tz) -> Decoded {
        let outcome = match line::parse(text, tz) {
            line::Line::Skip => Outcome::Skip,
            line::Line::Bad(reason) => Outcome::Bad { code: "bad_line", reason },
            line::Line::Frame(frame) => match mbus::peek_address(&frame.bytes) {
                Err(e) => Outcome::Bad { code: e.code(), reason: e.to_string() },
                Ok(address) => {
                    let Values { status, problem, readings, codes } = self.values(&frame.bytes, &address);
                    Outcome::Telegram(Box::new(DecodedTelegram { frame, address, status, problem, readings, codes }))
                }
            },
        };
        Decoded { line: number, outcome }
    }
}

/// Decode again the stored telegrams of `serial` that had no values (after its key arrived),
/// inside the caller's transaction. Returns (telegrams now decoded, readings added).
pub(crate) fn redecode_serial(conn: &Connection, serial: &str, key: &mbus::AesKey) -> Result<(u64, u64)> {
    let (mut telegrams, mut readings) = (0, 0);
    let keys: HashMap<String, [u8; 16]> = [(serial.to_string(), *key.as_bytes())].into();
    let mut decoder = Decoder::new(&keys, mbus::FormatCache::from_entries(store::formats::all(conn)?));
    for t in store::telegrams::pending_of_serial(conn, serial)? {
        let Ok(address) = mbus::peek_address(&t.raw) else { continue };
        let v = decoder.values(&t.raw, &address);
        if v.problem.is_some() {
            continue;
        }
        store::telegrams::set_status(conn, t.meter_id, t.id, v.status)?;
        telegrams += 1;
        for (register, value) in v.readings {
            let r = store::readings::Reading {
                meter_id: t.meter_id,
                register: register.code(),
                ts: t.received_at,
                value,
                telegram_id: Some(t.id),
            };
            readings += u64::from(store::readings::insert(conn, &r)?);
        }
    }
    Ok((telegrams, readings))
}


/// Lines decoded before their telegrams and readings go to the store, sorted: rows sorted
/// by key insert several times faster than rows in arrival order.
const BATCH: usize = 100_000;

/// One import in progress, inside the caller's transaction.
struct Run<'c> {
    conn: &'c Connection,
    permit: Permit<'c>,
    now: i64,
    import_id: i64,
    /// Meters by serial, then manufacturer (a serial is nearly always unique).
    meters: HashMap<String, Vec<(String, MeterState)>>,
    pending: Vec<Pending>,
    report: FileReport,
}

/// A decoded line waiting for the batch to be written.
struct Pending {
    line: u64,
    meter_id: i64,
    serial: String,
    manufacturer: String,
    received_at: i64,
    rssi: Option<i64>,
    status: &'static str,
    raw: Vec<u8>,
    problem: Option<(&'static str, String)>,
    readings: Vec<(crate::model::Register, f64)>,
    codes: Vec<&'static str>,
}

/// What the import tracks of a meter while it runs; written back at the end.
struct MeterState {
    id: i64,
    last_seen: Option<i64>,
    mask: i64,
    /// Ongoing events, loaded on first use; closed ones wait in `closed`.
    open: Option<Vec<Event>>,
    closed: Vec<Event>,
    dirty: bool,
}

impl<'c> Run<'c> {
    fn new(conn: &'c Connection, permit: Permit<'c>, name: &str, now: i64) -> Result<Run<'c>> {
        let import_id = store::imports::start(conn, &permit.session.login, name, now)?;
        let mut meters: HashMap<String, Vec<(String, MeterState)>> = HashMap::new();
        for m in store::meters::all_refs(conn)? {
            let m: MeterRef = m;
            let state =
                MeterState { id: m.id, last_seen: m.last_seen, mask: m.info_codes, open: None, closed: Vec::new(), dirty: false };
            meters.entry(m.serial).or_default().push((m.manufacturer, state));
        }
        let report = FileReport { name: name.to_string(), ..FileReport::default() };
        Ok(Run { conn, permit, now, import_id, meters, pending: Vec::with_capacity(BATCH), report })
    }

    fn meter(&mut self, serial: &str, manufacturer: &str) -> Option<&mut MeterState> {
        self.meters.get_mut(serial)?.iter_mut().find(|(m, _)| m == manufacturer).map(|(_, s)| s)
    }

    fn take(&mut self, decoded: Decoded) -> Result<()> {
        let number = decoded.line;
        let t = match decoded.outcome {
            Outcome::Skip => return Ok(()),
            Outcome::Bad { code, reason } => {
                if code != "bad_line" {
                    self.report.telegrams += 1;
                }
                self.report.reject(number, code, reason);
                return Ok(());
            }
            Outcome::Telegram(t) => *t,
        };
        self.report.telegrams += 1;
        let meter_id = match self.meter(&t.address.id, &t.address.manufacturer) {
            Some(m) => m.id,
            None => self.new_meter(&t.address)?,
        };
        self.pending.push(Pending {
            line: number,
            meter_id,
            serial: t.address.id,
            manufacturer: t.address.manufacturer,
            received_at: t.frame.received_at.unwrap_or(self.now),
            rssi: t.frame.rssi,
            status: t.status,
            raw: t.frame.bytes,
            problem: t.problem,
            readings: t.readings,
            codes: t.codes,
        });
        if self.pending.len() >= BATCH {
            self.flush()?;
        }
        Ok(())
    }

    /// Unknown meters are created as unassigned, never dropped.
    fn new_meter(&mut self, address: &mbus::Address) -> Result<i64> {
        let id = store::meters::insert(
            self.conn,
            &NewMeter {
                serial: address.id.clone(),
                manufacturer: address.manufacturer.clone(),
                version: i64::from(address.version),
                device_type: driver::device_type_name(&address.device_type),
                status: "unassigned".into(),
                ..NewMeter::default()
            },
            self.now,
        )?;
        self.report.new_meters += 1;
        let state = MeterState { id, last_seen: None, mask: 0, open: Some(Vec::new()), closed: Vec::new(), dirty: true };
        self.meters.entry(address.id.clone()).or_default().push((address.manufacturer.clone(), state));
        Ok(id)
    }

    /// Write the pending telegrams (sorted by id; the same bytes stored once), then, in line
    /// order, count them and follow info codes, then the readings sorted by key.
    fn flush(&mut self) -> Result<()> {
        let mut pending = std::mem::take(&mut self.pending);
        let mut order: Vec<((i64, i64), usize)> =
            pending.iter().enumerate().map(|(i, p)| ((p.meter_id, store::telegrams::hash_id(&p.raw)), i)).collect();
        order.sort_unstable();
        let mut telegram_ids: Vec<Option<i64>> = vec![None; pending.len()];
        for (_, i) in order {
            let p = &pending[i];
            let t = NewTelegram {
                meter_id: p.meter_id,
                received_at: p.received_at,
                rssi: p.rssi,
                import_id: self.import_id,
                status: p.status,
                raw: &p.raw,
            };
            if let Inserted::New(id) = store::telegrams::insert(self.conn, &t)? {
                telegram_ids[i] = Some(id);
            }
        }
        let mut readings = Vec::with_capacity(pending.len() * 2);
        for (p, telegram_id) in pending.iter_mut().zip(telegram_ids) {
            let Some(telegram_id) = telegram_id else {
                self.report.duplicates += 1;
                continue;
            };
            if let Some((code, reason)) = p.problem.take() {
                self.report.kept_undecoded += 1;
                self.report.reject(p.line, code, reason);
                continue;
            }
            self.report.stored += 1;
            for (register, value) in &p.readings {
                readings.push(store::readings::Reading {
                    meter_id: p.meter_id,
                    register: register.code(),
                    ts: p.received_at,
                    value: *value,
                    telegram_id: Some(telegram_id),
                });
            }
            let conn = self.conn;
            if let Some(meter) = self.meter(&p.serial, &p.manufacturer) {
                meter.observe(conn, p.received_at, &p.codes)?;
            }
        }
        readings.sort_unstable_by_key(|r| (r.meter_id, r.register, r.ts));
        for r in &readings {
            if store::readings::insert(self.conn, r)? {
                self.report.readings += 1;
            }
        }
        Ok(())
    }

    fn finish(mut self) -> Result<FileReport> {
        self.flush()?;
        self.report.rejected.sort_by_key(|r| r.line);
        for (_, meter) in self.meters.values_mut().flatten().filter(|(_, m)| m.dirty) {
            for e in meter.open.iter().flatten().chain(&meter.closed) {
                store::info_codes::upsert(self.conn, meter.id, e)?;
            }
            store::meters::set_seen(self.conn, meter.id, meter.last_seen, meter.mask)?;
        }
        for r in &self.report.rejected {
            store::imports::reject(self.conn, self.import_id, r.line, &r.code, &r.reason)?;
        }
        let r = &self.report;
        let counts = store::imports::Counts {
            lines: r.lines,
            stored: r.stored,
            duplicates: r.duplicates,
            rejected: r.rejected_count,
        };
        store::imports::finish(self.conn, self.import_id, &counts, self.now)?;
        let details = format!(
            "{}: {} lines, {} stored, {} duplicates, {} rejected, {} readings, {} new meters",
            r.name, r.lines, r.stored, r.duplicates, r.rejected_count, r.readings, r.new_meters
        );
        store::audit::record_permit(self.conn, self.permit, self.now, "import", &details)?;
        Ok(self.report)
    }
}

impl MeterState {
    /// Follow the meter's info codes with a telegram received at `ts`: an ongoing code
    /// extends its event, a new one opens an event, a code no longer sent closes it.
    /// Telegrams older than the last one seen do not change events.
    fn observe(&mut self, conn: &Connection, ts: i64, codes: &[&str]) -> Result<()> {
        self.dirty = true;
        if self.last_seen.is_some_and(|seen| ts < seen) {
            return Ok(());
        }
        self.last_seen = Some(ts);
        if self.open.is_none() {
            let open = if self.mask == 0 { Vec::new() } else { store::info_codes::open_of(conn, self.id)? };
            self.open = Some(open);
        }
        let open = self.open.get_or_insert_with(Vec::new);
        let mut still_open = Vec::with_capacity(open.len());
        for mut e in open.drain(..) {
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
        *open = still_open;
        Ok(())
    }
}
