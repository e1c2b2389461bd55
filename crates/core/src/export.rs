//! Export of readings to CSV: chosen columns, separator and decimal mark, character set
//! (UTF-8, UTF-8 with BOM, Windows-1252) and, for a French Excel, French column titles and
//! dates; the same output for the export screen and `releve export`. A billing target date
//! (register `target_date`, stored as days since 1970-01-01) is written as a date.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::model::Register;
use crate::store::{self, Store};
use chrono::{Datelike, NaiveDate, TimeZone, Timelike};
use serde::Serialize;
use std::collections::HashMap;
use std::fmt::Write as _;
use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Column {
    CustomerNumber,
    CustomerName,
    MeterSerial,
    Manufacturer,
    DeviceType,
    Address,
    PostalCode,
    City,
    Timestamp,
    Register,
    Value,
    Unit,
    InfoCodes,
    MeterExchange,
}

impl Column {
    pub const ALL: [Column; 14] = [
        Column::CustomerNumber,
        Column::CustomerName,
        Column::MeterSerial,
        Column::Manufacturer,
        Column::DeviceType,
        Column::Address,
        Column::PostalCode,
        Column::City,
        Column::Timestamp,
        Column::Register,
        Column::Value,
        Column::Unit,
        Column::InfoCodes,
        Column::MeterExchange,
    ];

    pub fn id(self) -> &'static str {
        match self {
            Column::CustomerNumber => "customer_number",
            Column::CustomerName => "customer_name",
            Column::MeterSerial => "meter_serial",
            Column::Manufacturer => "manufacturer",
            Column::DeviceType => "device_type",
            Column::Address => "address",
            Column::PostalCode => "postal_code",
            Column::City => "city",
            Column::Timestamp => "timestamp",
            Column::Register => "register",
            Column::Value => "value",
            Column::Unit => "unit",
            Column::InfoCodes => "info_codes",
            Column::MeterExchange => "meter_exchange",
        }
    }

    pub fn parse(id: &str) -> Result<Column> {
        Column::ALL
            .into_iter()
            .find(|c| c.id() == id)
            .ok_or_else(|| Error::bad_input("column", format!("unknown export column '{id}'")))
    }

    /// (English, French) labels.
    pub fn labels(self) -> (&'static str, &'static str) {
        match self {
            Column::CustomerNumber => ("Customer number", "N° client"),
            Column::CustomerName => ("Customer name", "Nom du client"),
            Column::MeterSerial => ("Meter serial", "N° de compteur"),
            Column::Manufacturer => ("Manufacturer", "Fabricant"),
            Column::DeviceType => ("Meter type", "Type de compteur"),
            Column::Address => ("Address", "Adresse"),
            Column::PostalCode => ("Postal code", "Code postal"),
            Column::City => ("City", "Ville"),
            Column::Timestamp => ("Reading time", "Date du relevé"),
            Column::Register => ("Register", "Registre"),
            Column::Value => ("Value", "Valeur"),
            Column::Unit => ("Unit", "Unité"),
            Column::InfoCodes => ("Info codes", "Codes info"),
            Column::MeterExchange => ("Meter exchange", "Échange de compteur"),
        }
    }
}

/// One row per reading (interval data: `view_intervals` only), or per meter, register and
/// local day (the day's last reading, dated by the day).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Granularity {
    Readings,
    Days,
}

impl Granularity {
    pub fn parse(s: &str) -> Result<Granularity> {
        match s {
            "readings" => Ok(Granularity::Readings),
            "days" => Ok(Granularity::Days),
            other => Err(Error::bad_input("granularity", format!("'{other}' is not one of readings, days"))),
        }
    }
}

#[derive(Debug, Clone)]
pub struct ExportSpec {
    /// Local dates, `to` included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub columns: Vec<Column>,
    pub separator: u8,
    pub decimal: char,
    pub group_id: Option<i64>,
    /// None: every reading for a session with `view_intervals`, else one a day.
    pub granularity: Option<Granularity>,
    /// The file's character set; a character it cannot write refuses the export, naming the
    /// line and column (`not_encodable`), never a silent `?`.
    pub encoding: crate::billing::Encoding,
    /// French column titles ("N° de compteur") and dates `31/01/2026 14:05:09` instead of the
    /// column ids and `2026-01-31 14:05:09`.
    pub french: bool,
}

impl ExportSpec {
    pub fn new(from: NaiveDate, to: NaiveDate) -> ExportSpec {
        ExportSpec {
            from,
            to,
            columns: Column::ALL.to_vec(),
            separator: b';',
            decimal: ',',
            group_id: None,
            granularity: None,
            encoding: crate::billing::Encoding::Utf8,
            french: false,
        }
    }

    /// A file name for this export, e.g. `releve-2025-01-01_2025-01-31.csv`.
    pub fn file_name(&self) -> String {
        format!("releve-{}_{}.csv", self.from, self.to)
    }
}

/// Write the readings of the period as CSV to `out`; returns the number of data rows.
/// Values are in the register's shown unit (`Register::shown_unit`: electricity power in
/// kW, energy A+/A- in kWh).
///
/// The readings stream in meter order (`store::readings::for_export`, the meter's columns
/// read once per meter). The info codes and the exchanges of the period, when their columns
/// are chosen, are read once beforehand (one pass each, no query per meter) and followed
/// meter by meter. Each row is assembled in one reused record, without a string per field.
///
/// Every reading is interval data: asked explicitly (`Granularity::Readings`) by a session
/// without `view_intervals` it is refused (`intervals_not_allowed`); by default such a
/// session gets one row per meter, register and local day (its last reading, the timestamp
/// column holding the date).
pub fn export_readings(store: &Store, session: &Session, spec: &ExportSpec, out: &mut dyn Write, now: i64) -> Result<u64> {
    export_readings_watched(store, session, spec, out, now, None)
}

/// Follows a streamed export from another thread: the rows written and the rows expected
/// (known before the first byte is written), and the clerk's cancel.
#[derive(Debug, Default)]
pub struct Progress {
    rows: AtomicU64,
    expected: AtomicU64,
    cancelled: AtomicBool,
}

impl Progress {
    /// Rows written so far (updated every [`PROGRESS_EVERY`] rows and at the end).
    pub fn rows(&self) -> u64 {
        self.rows.load(Ordering::Relaxed)
    }

    /// Rows the export is expected to write (an estimate for one row a day).
    pub fn expected(&self) -> u64 {
        self.expected.load(Ordering::Relaxed)
    }

    /// Ask the export to stop: it ends with `cancelled` at its next [`PROGRESS_EVERY`] rows.
    pub fn cancel(&self) {
        self.cancelled.store(true, Ordering::Relaxed);
    }

    pub fn is_cancelled(&self) -> bool {
        self.cancelled.load(Ordering::Relaxed)
    }
}

/// How often (in rows) a watched export says how far it is and looks for a cancel.
pub const PROGRESS_EVERY: u64 = 1024;

/// [`export_readings`] followed by `progress`: the rows expected are counted first (a
/// second pass over the keys, only when watched), the rows written are published as they go,
/// and a cancel (or a writer that fails once `progress` is cancelled: the client went away)
/// stops it with `cancelled` after an audit entry naming the rows already written. Memory
/// stays bounded: the rows go to `out` as they are made.
pub fn export_readings_watched(
    store: &Store,
    session: &Session,
    spec: &ExportSpec,
    out: &mut dyn Write,
    now: i64,
    progress: Option<&Progress>,
) -> Result<u64> {
    let permit = session.permit(Permission::Export)?;
    let granularity = match spec.granularity {
        Some(Granularity::Readings) => {
            session.intervals("readings")?;
            Granularity::Readings
        }
        Some(g) => g,
        None if session.sees_intervals() => Granularity::Readings,
        None => Granularity::Days,
    };
    if spec.to < spec.from {
        return Err(Error::bad_input("period", format!("the end {} is before the start {}", spec.to, spec.from)));
    }
    if spec.columns.is_empty() {
        return Err(Error::bad_input("columns", "choose at least one column"));
    }
    // One pass over the period: a small page cache, so memory does not grow with the file.
    let conn = store.scan_reader()?;
    let tz = crate::settings::timezone(&conn)?;
    let local_midnight = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|n| tz.from_local_datetime(&n).earliest())
            .map(|t| t.timestamp())
            .ok_or_else(|| Error::bad_input("date", d.to_string()))
    };
    let from = local_midnight(spec.from)?;
    let to = local_midnight(spec.to + chrono::Duration::days(1))?;
    if spec.encoding == crate::billing::Encoding::Windows1252 {
        // A character Windows-1252 cannot hold is refused before the first byte, so a
        // streamed file never stops halfway: the meters' texts are read once (cheap); only
        // when one cannot be written does a dry run (no output) find the line the refusal
        // names, or find that meter has no row in the period.
        let mut unwritable = false;
        store::readings::meters_for_export(&conn, spec.group_id, &mut |m| {
            unwritable |= check_encodable(spec, m, 0).is_err();
            Ok(())
        })?;
        if unwritable {
            write_rows(&conn, tz, spec, granularity, from, to, &mut std::io::sink(), None, &mut 0)?;
        }
    }
    if let Some(p) = progress {
        use chrono::Offset;
        let day_offset = (granularity == Granularity::Days)
            .then(|| tz.timestamp_opt(from, 0).earliest().map_or(0, |t| i64::from(t.offset().fix().local_minus_utc())));
        p.expected.store(store::readings::count_for_export(&conn, from, to, spec.group_id, day_offset)?, Ordering::Relaxed);
    }
    let mut rows = 0u64;
    let written = write_rows(&conn, tz, spec, granularity, from, to, out, progress, &mut rows);
    drop(conn);
    let per = if granularity == Granularity::Days { ", one a day" } else { "" };
    if let Some(p) = progress {
        p.rows.store(rows, Ordering::Relaxed);
        if written.is_err() && p.is_cancelled() {
            let details = format!("readings {} to {}: cancelled after {rows} rows{per}", spec.from, spec.to);
            store::audit::record_permit(&store.writer(), permit, now, "export", &details)?;
            return Err(Error::Cancelled { rows });
        }
    }
    written?;
    let details = format!("readings {} to {}: {rows} rows{per}", spec.from, spec.to);
    store::audit::record_permit(&store.writer(), permit, now, "export", &details)?;
    Ok(rows)
}

/// The CSV of [`export_readings_watched`] into `out`; `rows` counts the data rows written.
#[allow(clippy::too_many_arguments)]
fn write_rows(
    conn: &rusqlite::Connection,
    tz: chrono_tz::Tz,
    spec: &ExportSpec,
    granularity: Granularity,
    from: i64,
    to: i64,
    out: &mut dyn Write,
    progress: Option<&Progress>,
    rows: &mut u64,
) -> Result<()> {
    if progress.is_some_and(Progress::is_cancelled) {
        return Err(Error::Cancelled { rows: 0 });
    }
    out.write_all(spec.encoding.start()).map_err(|e| Error::io("export output", e))?;
    let mut encoded = Encoded { encoding: spec.encoding, out, pending: Vec::new() };
    let mut writer = csv::WriterBuilder::new().delimiter(spec.separator).from_writer(&mut encoded);
    if spec.french {
        writer.write_record(spec.columns.iter().map(|c| c.labels().1))?;
    } else {
        writer.write_record(spec.columns.iter().map(|c| c.id()))?;
    }

    // Info codes of the period, by meter then start; `next_event` is the first of the
    // meters not reached yet.
    let mut events: Vec<(i64, store::info_codes::Event)> = Vec::new();
    if spec.columns.contains(&Column::InfoCodes) {
        store::info_codes::overlapping_all(conn, from, to, spec.group_id, &mut |meter_id, e| {
            events.push((meter_id, e));
            Ok(())
        })?;
    }
    // Exchanges of the period under both their meters (a reading can only be an exchange's
    // final or initial one if the exchange is in the period too).
    let mut exchanges: HashMap<i64, Vec<store::meters::Exchange>> = HashMap::new();
    if spec.columns.contains(&Column::MeterExchange) {
        for e in store::meters::exchanges_in(conn, from, to)? {
            exchanges.entry(e.old_meter_id).or_default().push(e.clone());
            if e.new_meter_id != e.old_meter_id {
                exchanges.entry(e.new_meter_id).or_default().push(e);
            }
        }
    }

    let mut next_event = 0usize;
    let mut meter_events: &[(i64, store::info_codes::Event)] = &[];
    let mut meter_exchanges: &[store::meters::Exchange] = &[];
    let mut current = i64::MIN;
    let mut record = csv::ByteRecord::with_capacity(256, spec.columns.len());
    let mut field = String::with_capacity(64);
    let mut time = LocalTime::new(tz);
    let mut write_row = |m: &store::readings::ExportMeter, register: i64, ts: i64, value: f64, day: Option<NaiveDate>| -> Result<()> {
        if m.id != current {
            current = m.id;
            while next_event < events.len() && events[next_event].0 < m.id {
                next_event += 1;
            }
            let start = next_event;
            while next_event < events.len() && events[next_event].0 == m.id {
                next_event += 1;
            }
            meter_events = &events[start..next_event];
            meter_exchanges = exchanges.get(&m.id).map_or(&[], Vec::as_slice);
        }
        let register = Register::from_code(register);
        record.clear();
        if spec.encoding == crate::billing::Encoding::Windows1252 {
            check_encodable(spec, m, *rows + 2)?;
        }
        for c in &spec.columns {
            match c {
                Column::CustomerNumber => record.push_field(m.label.customer_number.as_deref().unwrap_or_default().as_bytes()),
                Column::CustomerName => record.push_field(m.label.customer_name.as_deref().unwrap_or_default().as_bytes()),
                Column::MeterSerial => record.push_field(m.label.serial.as_bytes()),
                Column::Manufacturer => record.push_field(m.manufacturer.as_bytes()),
                Column::DeviceType => record.push_field(m.device_type.as_bytes()),
                Column::Address => record.push_field(m.label.address.as_bytes()),
                Column::PostalCode => record.push_field(m.label.postal_code.as_bytes()),
                Column::City => record.push_field(m.label.city.as_bytes()),
                Column::Timestamp => {
                    field.clear();
                    match day {
                        Some(d) => write_date(&mut field, d, spec.french),
                        None if spec.french => french_date_time(&mut field, time.format(ts)),
                        None => field.push_str(time.format(ts)),
                    }
                    record.push_field(field.as_bytes());
                }
                Column::Register => record.push_field(register.map_or("?", |x| x.id()).as_bytes()),
                Column::Value => {
                    field.clear();
                    match register {
                        Some(Register::TargetDate) => write_target_date(&mut field, value, spec.french),
                        _ => write_value(&mut field, register.map_or(value, |r| r.shown(value)), spec.decimal),
                    }
                    record.push_field(field.as_bytes());
                }
                Column::Unit => record.push_field(register.map_or("", |x| x.shown_unit()).as_bytes()),
                Column::InfoCodes => {
                    field.clear();
                    codes_at(&mut field, meter_events, ts);
                    record.push_field(field.as_bytes());
                }
                Column::MeterExchange => record.push_field(exchange_at(meter_exchanges, m.id, ts).as_bytes()),
            }
        }
        writer.write_byte_record(&record)?;
        *rows += 1;
        if (*rows).is_multiple_of(PROGRESS_EVERY) {
            if let Some(p) = progress {
                p.rows.store(*rows, Ordering::Relaxed);
                if p.is_cancelled() {
                    return Err(Error::Cancelled { rows: *rows });
                }
            }
        }
        Ok(())
    };
    match granularity {
        Granularity::Readings => store::readings::for_export(conn, from, to, spec.group_id, &mut |m, register, ts, value| {
            write_row(m, register, ts, value, None)
        })?,
        Granularity::Days => {
            // The day's last reading of each meter and register, written when the next
            // meter, register or day comes (readings stream in that order).
            let local_day = |ts: i64| tz.timestamp_opt(ts, 0).earliest().map(|t| t.date_naive());
            let mut pending: Option<(store::readings::ExportMeter, i64, Option<NaiveDate>, i64, f64)> = None;
            store::readings::for_export(conn, from, to, spec.group_id, &mut |m, register, ts, value| {
                let day = local_day(ts);
                match &mut pending {
                    Some(p) if p.0.id == m.id && p.1 == register && p.2 == day => {
                        p.3 = ts;
                        p.4 = value;
                    }
                    _ => {
                        let same_meter = pending.as_ref().is_some_and(|p| p.0.id == m.id);
                        if let Some(p) = pending.take() {
                            write_row(&p.0, p.1, p.3, p.4, p.2)?;
                            if same_meter {
                                pending = Some((p.0, register, day, ts, value));
                                return Ok(());
                            }
                        }
                        pending = Some((m.clone(), register, day, ts, value));
                    }
                }
                Ok(())
            })?;
            if let Some(p) = pending {
                write_row(&p.0, p.1, p.3, p.4, p.2)?;
            }
        }
    }
    writer.flush().map_err(|e| Error::io("export output", e))?;
    drop(writer);
    encoded.finish()?;
    Ok(())
}

/// `YYYY-MM-DD HH:MM:SS` in the export's time zone, written into one reused buffer: the
/// offset from chrono-tz, the digits by hand (chrono's `format` parses its pattern and
/// allocates a string on every call). Same text as `format("%Y-%m-%d %H:%M:%S")`.
pub(crate) struct LocalTime {
    tz: chrono_tz::Tz,
    text: String,
}

impl LocalTime {
    pub(crate) fn new(tz: chrono_tz::Tz) -> LocalTime {
        LocalTime { tz, text: String::with_capacity(20) }
    }

    pub(crate) fn format(&mut self, ts: i64) -> &str {
        self.text.clear();
        let Some(utc) = chrono::DateTime::from_timestamp(ts, 0) else {
            self.text.push_str(&ts.to_string());
            return &self.text;
        };
        let local = utc.with_timezone(&self.tz).naive_local();
        let (y, mo, d) = (local.year(), local.month(), local.day());
        if !(0..=9999).contains(&y) {
            self.text.push_str(&local.format("%Y-%m-%d %H:%M:%S").to_string());
            return &self.text;
        }
        let (h, mi, s) = (local.hour(), local.minute(), local.second());
        let mut digits = [0u8; 19];
        let mut put = |at: usize, v: u32, n: usize| {
            let mut v = v;
            for i in (0..n).rev() {
                digits[at + i] = b'0' + (v % 10) as u8;
                v /= 10;
            }
        };
        put(0, y as u32, 4);
        put(5, mo, 2);
        put(8, d, 2);
        put(11, h, 2);
        put(14, mi, 2);
        put(17, s, 2);
        for (at, sep) in [(4, b'-'), (7, b'-'), (10, b' '), (13, b':'), (16, b':')] {
            digits[at] = sep;
        }
        self.text.extend(digits.iter().map(|&b| char::from(b)));
        &self.text
    }
}

#[cfg(test)]
fn local_time(tz: chrono_tz::Tz, ts: i64) -> String {
    match tz.timestamp_opt(ts, 0).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => ts.to_string(),
    }
}

/// A local date, `2026-01-31` or (French) `31/01/2026`.
fn write_date(out: &mut String, d: NaiveDate, french: bool) {
    if french {
        let _ = write!(out, "{:02}/{:02}/{:04}", d.day(), d.month(), d.year());
    } else {
        let _ = write!(out, "{d}");
    }
}

/// `2026-01-31 14:05:09` as `31/01/2026 14:05:09`.
fn french_date_time(out: &mut String, iso: &str) {
    match (iso.get(0..4), iso.get(5..7), iso.get(8..10), iso.get(10..)) {
        (Some(y), Some(m), Some(d), Some(rest)) if iso.as_bytes().get(4) == Some(&b'-') => {
            let _ = write!(out, "{d}/{m}/{y}{rest}");
        }
        _ => out.push_str(iso),
    }
}

/// A target date register's value (days since 1970-01-01) as the date it is.
fn write_target_date(out: &mut String, days: f64, french: bool) {
    let date = (days.fract() == 0.0 && days.abs() < 3_000_000.0)
        .then(|| NaiveDate::default().checked_add_signed(chrono::Duration::days(days as i64)))
        .flatten();
    match date {
        Some(d) => write_date(out, d, french),
        None => write_value(out, days, '.'),
    }
}

/// Refuses a meter's text a Windows-1252 file cannot hold, naming the line and column.
fn check_encodable(spec: &ExportSpec, m: &store::readings::ExportMeter, line: u64) -> Result<()> {
    for c in &spec.columns {
        let text = match c {
            Column::CustomerNumber => m.label.customer_number.as_deref().unwrap_or_default(),
            Column::CustomerName => m.label.customer_name.as_deref().unwrap_or_default(),
            Column::MeterSerial => m.label.serial.as_str(),
            Column::Manufacturer => m.manufacturer.as_str(),
            Column::DeviceType => m.device_type.as_str(),
            Column::Address => m.label.address.as_str(),
            Column::PostalCode => m.label.postal_code.as_str(),
            Column::City => m.label.city.as_str(),
            _ => continue,
        };
        if let Some(character) = spec.encoding.unwritable(text) {
            return Err(Error::Refused(crate::problem::Problem::NotEncodable {
                line,
                column: c.id(),
                meter: m.label.serial.clone(),
                character,
                encoding: spec.encoding.id(),
            }));
        }
    }
    Ok(())
}

/// The CSV writer's UTF-8 output in the export's character set (its characters checked
/// before: what Windows-1252 cannot hold never reaches it). A character cut between two
/// writes waits for its end.
struct Encoded<'a> {
    encoding: crate::billing::Encoding,
    out: &'a mut dyn Write,
    pending: Vec<u8>,
}

impl Write for Encoded<'_> {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        if self.encoding != crate::billing::Encoding::Windows1252 {
            return self.out.write(buf);
        }
        self.pending.extend_from_slice(buf);
        let whole = match std::str::from_utf8(&self.pending) {
            Ok(_) => self.pending.len(),
            Err(e) => e.valid_up_to(),
        };
        let text = std::str::from_utf8(&self.pending[..whole]).unwrap_or_default();
        self.out.write_all(&self.encoding.encode(text))?;
        self.pending.drain(..whole);
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.out.flush()
    }
}

impl Encoded<'_> {
    fn finish(mut self) -> Result<()> {
        let rest = std::mem::take(&mut self.pending);
        self.out.write_all(&self.encoding.encode(&String::from_utf8_lossy(&rest))).map_err(|e| Error::io("export output", e))
    }
}

/// A screen's table as CSV with the readings export's writer and options: the character set
/// (a character it cannot hold refuses the file, naming line, column and meter), the
/// separator; `columns` name the cells for that refusal, `titles` head the file.
pub(crate) fn write_table(
    out: &mut dyn Write,
    encoding: crate::billing::Encoding,
    separator: u8,
    columns: &[&'static str],
    titles: &[&str],
    rows: &[Vec<String>],
    meter: &str,
) -> Result<()> {
    for (line, cells) in std::iter::once(titles.iter().map(|s| s.to_string()).collect::<Vec<_>>()).chain(rows.iter().cloned()).enumerate() {
        for (i, text) in cells.iter().enumerate() {
            if let Some(character) = encoding.unwritable(text) {
                return Err(Error::Refused(crate::problem::Problem::NotEncodable {
                    line: line as u64 + 1,
                    column: columns.get(i).copied().unwrap_or(""),
                    meter: meter.to_string(),
                    character,
                    encoding: encoding.id(),
                }));
            }
        }
    }
    out.write_all(encoding.start()).map_err(|e| Error::io("export output", e))?;
    let mut encoded = Encoded { encoding, out, pending: Vec::new() };
    {
        let mut writer = csv::WriterBuilder::new().delimiter(separator).from_writer(&mut encoded);
        writer.write_record(titles)?;
        for r in rows {
            writer.write_record(r)?;
        }
        writer.flush().map_err(|e| Error::io("export output", e))?;
    }
    encoded.finish()
}

/// A time as the exports write it: `2026-01-31 14:05:09`, or `31/01/2026 14:05:09` in French.
pub(crate) fn local_date_time(tz: chrono_tz::Tz, ts: i64, french: bool) -> String {
    let mut time = LocalTime::new(tz);
    let iso = time.format(ts);
    if french {
        let mut out = String::with_capacity(20);
        french_date_time(&mut out, iso);
        out
    } else {
        iso.to_string()
    }
}

/// Shortest exact decimal form, with the locale's decimal mark.
pub fn format_value(v: f64, decimal: char) -> String {
    let mut s = String::new();
    write_value(&mut s, v, decimal);
    s
}

/// `format_value` appended to `out`.
pub(crate) fn write_value(out: &mut String, v: f64, decimal: char) {
    let start = out.len();
    let _ = write!(out, "{v}");
    if decimal != '.' {
        if let Some(dot) = out[start..].find('.') {
            out.replace_range(start + dot..start + dot + 1, decimal.encode_utf8(&mut [0; 4]));
        }
    }
}

/// `final -> 87654321` on the old meter's last reading of an exchange, `initial <- 12345678`
/// on the new meter's first; empty otherwise.
fn exchange_at(exchanges: &[store::meters::Exchange], meter_id: i64, ts: i64) -> String {
    match exchanges.iter().find(|e| e.at == ts) {
        Some(e) if e.old_meter_id == meter_id => format!("final -> {}", e.new_serial),
        Some(e) if e.new_meter_id == meter_id => format!("initial <- {}", e.old_serial),
        _ => String::new(),
    }
}

/// The codes of the meter's events (by start) active at `ts`, space-separated, into `out`.
fn codes_at(out: &mut String, events: &[(i64, store::info_codes::Event)], ts: i64) {
    let mut last: Option<&str> = None;
    for (_, e) in events {
        if e.started_at <= ts && ts <= e.ended_at.unwrap_or(e.last_seen_at) && last != Some(e.code.as_str()) {
            if last.is_some() {
                out.push(' ');
            }
            out.push_str(&e.code);
            last = Some(e.code.as_str());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_time_matches_chrono_format() {
        for tz in [chrono_tz::Europe::Paris, chrono_tz::UTC, chrono_tz::America::St_Johns, chrono_tz::Asia::Kathmandu] {
            let mut time = LocalTime::new(tz);
            // Around the 2026 changes of time in Paris, and far dates.
            let mut cases: Vec<i64> = (0..200).map(|i| 1_774_746_000 - 50 * 3600 + i * 1799).collect();
            cases.extend((0..200).map(|i| 1_792_890_000 - 50 * 3600 + i * 1799));
            cases.extend([0, -1, 1, 253_402_300_799, 253_402_300_800, -62_167_219_200, -62_167_219_201, i64::MAX, i64::MIN]);
            for ts in cases {
                assert_eq!(time.format(ts), local_time(tz, ts), "{tz} at {ts}");
            }
        }
    }

    fn at(day: u32, hour: u32) -> i64 {
        chrono_tz::Europe::Paris.with_ymd_and_hms(2026, 1, day, hour, 0, 0).single().expect("time").timestamp()
    }

    /// Five meters: 1 with a customer, two info-code events and readings; 2 with readings
    /// before the period only; 3 exchanged into 4 on the 20th; 5 without readings. Meters 1
    /// and 4 make a group.
    fn park() -> (tempfile::TempDir, Store, i64) {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(&dir.path().join("export.db")).expect("store");
        let group;
        {
            let conn = store.writer();
            let customer = store::customers::Customer {
                number: "C1".into(),
                name: "Dupont; Jean".into(),
                address: String::new(),
                postal_code: String::new(),
                city: String::new(),
                email: None,
                phone: None,
            };
            let customer_id = store::customers::insert(&conn, &customer).expect("customer");
            for serial in ["11111111", "22222222", "33333333", "44444444", "55555555"] {
                let new = store::meters::NewMeter {
                    serial: serial.into(),
                    manufacturer: "KAM".into(),
                    device_type: "water".into(),
                    status: "active".into(),
                    customer_id: (serial == "11111111").then_some(customer_id),
                    address: "1 rue de la Paix".into(),
                    city: "Lyon".into(),
                    ..Default::default()
                };
                store::meters::insert(&conn, &new, 0).expect("meter");
            }
            let volume = Register::Volume.code();
            for (meter_id, ts, value) in [
                (1, at(5, 10), 1.5),
                (1, at(10, 10), 2.25),
                (1, at(12, 10), 3.0),
                (2, at(1, 0) - 1, 7.0),
                (3, at(18, 10), 40.0),
                (3, at(20, 12), 41.0),
                (4, at(20, 12), 0.5),
                (4, at(25, 12), 1.0),
            ] {
                store::readings::insert(&conn, &store::readings::Reading { meter_id, register: volume, ts, value, telegram_id: None }, 0)
                    .expect("reading");
            }
            for (code, started_at, last_seen_at, ended_at) in
                [("leak", at(4, 0), at(6, 0), Some(at(7, 0))), ("burst", at(9, 0), at(10, 10), None), ("leak", at(10, 0), at(11, 0), None)]
            {
                let e = store::info_codes::Event { code: code.into(), started_at, last_seen_at, ended_at };
                store::info_codes::upsert(&conn, 1, &e).expect("event");
            }
            let exchange = store::meters::NewExchange {
                old_meter_id: 3,
                new_meter_id: 4,
                at: at(20, 12),
                register: "volume",
                final_value: 41.0,
                initial_value: 0.5,
                user: "test",
            };
            store::meters::insert_exchange(&conn, &exchange).expect("exchange");
            group = store::groups::create(&conn, "g", 0).expect("group");
            store::groups::add_members(&conn, group, &[1, 4]).expect("members");
        }
        (dir, store, group)
    }

    fn export(store: &Store, spec: &ExportSpec) -> String {
        let mut out = Vec::new();
        export_readings(store, &Session::system("test"), spec, &mut out, 0).expect("export");
        String::from_utf8(out).expect("utf-8")
    }

    #[test]
    fn rows_carry_their_meter_codes_and_exchanges() {
        let (_dir, store, group) = park();
        let d = |day| NaiveDate::from_ymd_opt(2026, 1, day).expect("date");
        let mut spec = ExportSpec::new(d(1), d(31));
        assert_eq!(
            export(&store, &spec),
            "customer_number;customer_name;meter_serial;manufacturer;device_type;address;postal_code;city;timestamp;register;value;unit;info_codes;meter_exchange
C1;\"Dupont; Jean\";11111111;KAM;water;1 rue de la Paix;;Lyon;2026-01-05 10:00:00;volume;1,5;m3;leak;
C1;\"Dupont; Jean\";11111111;KAM;water;1 rue de la Paix;;Lyon;2026-01-10 10:00:00;volume;2,25;m3;burst leak;
C1;\"Dupont; Jean\";11111111;KAM;water;1 rue de la Paix;;Lyon;2026-01-12 10:00:00;volume;3;m3;;
;;33333333;KAM;water;1 rue de la Paix;;Lyon;2026-01-18 10:00:00;volume;40;m3;;
;;33333333;KAM;water;1 rue de la Paix;;Lyon;2026-01-20 12:00:00;volume;41;m3;;final -> 44444444
;;44444444;KAM;water;1 rue de la Paix;;Lyon;2026-01-20 12:00:00;volume;0,5;m3;;initial <- 33333333
;;44444444;KAM;water;1 rue de la Paix;;Lyon;2026-01-25 12:00:00;volume;1;m3;;
"
        );
        spec.columns = vec![Column::MeterSerial, Column::Timestamp, Column::Value, Column::InfoCodes, Column::MeterExchange];
        spec.separator = b',';
        spec.decimal = '.';
        spec.group_id = Some(group);
        assert_eq!(
            export(&store, &spec),
            "meter_serial,timestamp,value,info_codes,meter_exchange
11111111,2026-01-05 10:00:00,1.5,leak,
11111111,2026-01-10 10:00:00,2.25,burst leak,
11111111,2026-01-12 10:00:00,3,,
44444444,2026-01-20 12:00:00,0.5,,initial <- 33333333
44444444,2026-01-25 12:00:00,1,,
"
        );
        // Up to the 9th: the codes of the 10th and the exchange are outside the period.
        spec.to = d(9);
        spec.group_id = None;
        assert_eq!(export(&store, &spec), "meter_serial,timestamp,value,info_codes,meter_exchange\n11111111,2026-01-05 10:00:00,1.5,leak,\n");
    }

    /// A writer that fails once `limit` bytes are written, as the HTTP body does when the
    /// client goes away; it cancels the progress first, as the server's writer does.
    struct Gone<'a> {
        written: usize,
        limit: usize,
        progress: &'a Progress,
    }

    impl Write for Gone<'_> {
        fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
            if self.written + b.len() > self.limit {
                self.progress.cancel();
                return Err(std::io::Error::new(std::io::ErrorKind::BrokenPipe, "gone"));
            }
            self.written += b.len();
            Ok(b.len())
        }
        fn flush(&mut self) -> std::io::Result<()> {
            Ok(())
        }
    }

    /// The export entries of the audit log, newest first.
    fn audit_details(store: &Store) -> Vec<String> {
        let conn = store.reader().expect("reader");
        let mut entries = store::audit::latest(&conn, 100).expect("audit");
        entries.retain(|e| e.event == "export");
        entries.into_iter().map(|e| e.details).collect()
    }

    #[test]
    fn a_watched_export_counts_its_rows_and_stops_on_cancel() {
        let (_dir, store, _) = park();
        let d = |day| NaiveDate::from_ymd_opt(2026, 1, day).expect("date");
        let session = Session::system("test");
        let mut spec = ExportSpec::new(d(1), d(31));
        // The same file as unwatched, the rows expected known before, written after.
        let progress = Progress::default();
        let mut out = Vec::new();
        let rows = export_readings_watched(&store, &session, &spec, &mut out, 0, Some(&progress)).expect("export");
        assert_eq!(String::from_utf8(out).expect("utf-8"), export(&store, &spec));
        assert_eq!((rows, progress.rows(), progress.expected()), (7, 7, 7));
        // One a day: meter 3's 18th and 20th and meter 4's 20th and 25th are days of their own.
        spec.granularity = Some(Granularity::Days);
        let progress = Progress::default();
        let rows = export_readings_watched(&store, &session, &spec, &mut Vec::new(), 0, Some(&progress)).expect("days");
        assert_eq!((rows, progress.expected()), (7, 7));
        spec.granularity = None;

        // Cancelled before it starts: no row, `cancelled`, an audit entry saying so.
        let progress = Progress::default();
        progress.cancel();
        let mut out = Gone { written: 0, limit: 0, progress: &progress };
        let e = export_readings_watched(&store, &session, &spec, &mut out, 0, Some(&progress)).expect_err("cancelled");
        assert_eq!((e.code(), e.params()["rows"].as_u64()), ("cancelled", Some(0)));
        assert_eq!(audit_details(&store).first().map(String::as_str), Some("readings 2026-01-01 to 2026-01-31: cancelled after 0 rows"));
        // Unwatched, a failing writer is the error it is (nothing to cancel).
        let progress = Progress::default();
        let mut out = Gone { written: 0, limit: 0, progress: &progress };
        assert_eq!(export_readings(&store, &session, &spec, &mut out, 0).expect_err("io").code(), "io");
    }

    #[test]
    fn a_long_export_stops_when_its_client_goes_away() {
        let (_dir, store, _) = park();
        {
            let conn = store.writer();
            for k in 0..10_000i64 {
                let r = store::readings::Reading { meter_id: 5, register: Register::Volume.code(), ts: at(2, 0) + k * 60, value: k as f64, telegram_id: None };
                store::readings::insert(&conn, &r, 0).expect("reading");
            }
        }
        let d = |day| NaiveDate::from_ymd_opt(2026, 1, day).expect("date");
        let spec = ExportSpec::new(d(1), d(31));
        let progress = Progress::default();
        let mut out = Gone { written: 0, limit: 200_000, progress: &progress };
        let e = export_readings_watched(&store, &Session::system("test"), &spec, &mut out, 0, Some(&progress)).expect_err("gone");
        assert_eq!(e.code(), "cancelled");
        assert_eq!(progress.expected(), 10_007);
        let rows = progress.rows();
        assert!(rows > 0 && rows < 10_007, "{rows}");
        assert!(audit_details(&store).first().is_some_and(|d| d.ends_with(&format!("cancelled after {rows} rows"))));
    }

    #[test]
    fn values_keep_their_shortest_form_and_decimal_mark() {
        for (v, dot, comma) in [(1.5, "1.5", "1,5"), (2.0, "2", "2"), (-0.001, "-0.001", "-0,001"), (1e21, "1000000000000000000000", "1000000000000000000000")] {
            assert_eq!(format_value(v, '.'), dot);
            assert_eq!(format_value(v, ','), comma);
        }
    }
}
