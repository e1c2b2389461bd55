//! Subject access: everything held about one customer as a ZIP — `customer.csv`,
//! `meters.csv` (with the stretch of time each was theirs, through exchanges),
//! `exchanges.csv`, `readings.csv` (streamed from the store into the compressor, one meter
//! stretch at a time: nothing of it is held), `alarms.csv`, `notices.csv`, `exports.csv`
//! (billing files' lines naming a meter, scheduled and ad hoc exports in their time),
//! `consumer_reports.csv` (reports e-mailed about their meters) and `summary.pdf`.

use super::{holdings, summary, zip::ZipWriter};
use crate::access::{Permission, Session};
use crate::consumer_report::Locale;
use crate::error::{Error, Result};
use crate::export::LocalTime;
use crate::model::Register;
use crate::store::{self, occupancies, Store};
use serde::Serialize;
use std::io::Write;

/// The audit events of exports that may name the customer (whole park or a group).
const EXPORT_EVENTS: [&str; 3] = ["export", "export_layout_run", "report_consumption_export"];

/// What the archive holds.
#[derive(Debug, Clone, Default, Serialize)]
pub struct AccessSummary {
    pub customer_id: i64,
    pub file_name: String,
    pub meters: usize,
    pub readings: u64,
    pub alarms: usize,
    pub notices: usize,
    pub exports: usize,
    pub consumer_reports: usize,
    /// The files of the archive, in order.
    pub files: Vec<&'static str>,
}

fn csv_writer(out: &mut dyn Write, sep: u8) -> csv::Writer<&mut dyn Write> {
    csv::WriterBuilder::new().delimiter(sep).from_writer(out)
}

fn flush(w: csv::Writer<&mut dyn Write>) -> Result<()> {
    w.into_inner().map_err(|e| Error::io("archive output", std::io::Error::other(e.to_string())))?;
    Ok(())
}

/// A stretch's bound as local time, empty when open.
fn bound(time: &mut LocalTime, t: i64) -> String {
    if t == i64::MIN || t == i64::MAX {
        String::new()
    } else {
        time.format(t).to_string()
    }
}

/// Write customer `customer_id`'s personal data as a ZIP to `out`. Needs `personal_data`;
/// one audit entry naming the customer (id and number). The summary PDF and the column
/// names follow the session's language; numbers use its decimal mark.
pub fn customer_subject_access(
    store: &Store,
    session: &Session,
    customer_id: i64,
    out: &mut dyn Write,
    now: i64,
) -> Result<AccessSummary> {
    let permit = session.permit(Permission::PersonalData)?;
    let locale = Locale::of(session);
    let (sep, mark) = crate::reports::csv_format(session);
    let conn = store.reader()?;
    let customer = occupancies::customer(&conn, customer_id)?.ok_or_else(|| Error::not_found(format!("customer #{customer_id}")))?;
    let tz = crate::settings::timezone(&conn)?;
    let mut time = LocalTime::new(tz);
    let held = holdings(&conn, customer_id)?;
    let local_now = chrono::DateTime::from_timestamp(now, 0).map(|t| t.with_timezone(&tz).naive_local()).unwrap_or_default();
    let stem = if locale == Locale::Fr { "donnees-personnelles" } else { "personal-data" };
    let number: String = customer.number.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
    let mut summary = AccessSummary {
        customer_id,
        file_name: format!("{stem}-{number}-{}.zip", local_now.format("%Y-%m-%d")),
        meters: held.len(),
        ..AccessSummary::default()
    };
    let num = |v: f64| crate::export::format_value(v, mark);
    let mut zip = ZipWriter::new(out, local_now);

    zip.file("customer.csv", |w| {
        let mut c = csv_writer(w, sep);
        c.write_record(["id", "number", "name", "address", "postal_code", "city", "email", "phone", "pseudonym", "moved_out_at"])?;
        let moved = customer.moved_out_at.map(|t| time.format(t).to_string()).unwrap_or_default();
        c.write_record([
            customer.id.to_string().as_str(),
            &customer.number,
            &customer.name,
            &customer.address,
            &customer.postal_code,
            &customer.city,
            customer.email.as_deref().unwrap_or(""),
            customer.phone.as_deref().unwrap_or(""),
            customer.pseudonym.as_deref().unwrap_or(""),
            &moved,
        ])?;
        flush(c)
    })?;
    summary.files.push("customer.csv");

    zip.file("meters.csv", |w| {
        let mut c = csv_writer(w, sep);
        c.write_record([
            "serial", "manufacturer", "device_type", "model", "status", "address", "postal_code", "city", "lat", "lon",
            "installed_at", "removed_at", "yours_from", "yours_to", "replaced_by",
        ])?;
        for h in &held {
            let m = &h.meter;
            let opt = |t: Option<i64>, time: &mut LocalTime| t.map(|t| time.format(t).to_string()).unwrap_or_default();
            let installed = opt(m.installed_at, &mut time);
            let removed = opt(m.removed_at, &mut time);
            let (from, to) = (bound(&mut time, h.from), bound(&mut time, h.to));
            c.write_record([
                m.serial.as_str(),
                &m.manufacturer,
                &m.device_type,
                &m.model,
                &m.status,
                &m.address,
                &m.postal_code,
                &m.city,
                &m.lat.map(num).unwrap_or_default(),
                &m.lon.map(num).unwrap_or_default(),
                &installed,
                &removed,
                &from,
                &to,
                h.replaced_by.as_deref().unwrap_or(""),
            ])?;
        }
        flush(c)
    })?;
    summary.files.push("meters.csv");

    zip.file("exchanges.csv", |w| {
        let mut c = csv_writer(w, sep);
        c.write_record(["at", "old_serial", "new_serial", "register", "final_value", "initial_value"])?;
        let mut seen = Vec::new();
        for h in &held {
            for e in store::meters::exchanges_of(&conn, h.meter.id)? {
                if e.at < h.from || e.at >= h.to || seen.contains(&(e.at, e.old_meter_id)) {
                    continue;
                }
                seen.push((e.at, e.old_meter_id));
                c.write_record([
                    time.format(e.at),
                    &e.old_serial,
                    &e.new_serial,
                    &e.register,
                    &num(e.final_value),
                    &num(e.initial_value),
                ])?;
            }
        }
        flush(c)
    })?;
    summary.files.push("exchanges.csv");

    let mut per_meter: Vec<u64> = Vec::with_capacity(held.len());
    summary.readings = zip.file("readings.csv", |w| {
        let mut c = csv_writer(w, sep);
        c.write_record(["meter_serial", "timestamp", "register", "value", "unit"])?;
        let mut record = csv::ByteRecord::with_capacity(96, 5);
        let mut value = String::with_capacity(24);
        let mut total = 0;
        for h in &held {
            let n = occupancies::each_reading(&conn, h.meter.id, h.from, h.to, &mut |register, ts, v| {
                let r = Register::from_code(register);
                value.clear();
                crate::export::write_value(&mut value, r.map_or(v, |r| r.shown(v)), mark);
                record.clear();
                record.push_field(h.meter.serial.as_bytes());
                record.push_field(time.format(ts).as_bytes());
                record.push_field(r.map_or("?", |r| r.id()).as_bytes());
                record.push_field(value.as_bytes());
                record.push_field(r.map_or("", |r| r.shown_unit()).as_bytes());
                c.write_byte_record(&record)?;
                Ok(())
            })?;
            per_meter.push(n);
            total += n;
        }
        flush(c)?;
        Ok(total)
    })?;
    summary.files.push("readings.csv");

    summary.alarms = zip.file("alarms.csv", |w| {
        let mut c = csv_writer(w, sep);
        c.write_record(["meter_serial", "code", "started_at", "last_seen_at", "ended_at"])?;
        let mut n = 0;
        for h in &held {
            for e in store::info_codes::overlapping(&conn, h.meter.id, h.from, h.to)? {
                let ended = e.ended_at.map(|t| time.format(t).to_string()).unwrap_or_default();
                let started = time.format(e.started_at).to_string();
                c.write_record([h.meter.serial.as_str(), &e.code, &started, time.format(e.last_seen_at), &ended])?;
                n += 1;
            }
        }
        flush(c)?;
        Ok(n)
    })?;
    summary.files.push("alarms.csv");

    summary.notices = zip.file("notices.csv", |w| {
        let mut c = csv_writer(w, sep);
        c.write_record(["meter_serial", "code", "started_at", "channel", "recipient", "sent_at", "status"])?;
        let mut n = 0;
        for h in &held {
            for (code, started, channel, recipient, sent, status) in occupancies::notices_of_meter(&conn, h.meter.id, h.from, h.to)? {
                let started = time.format(started).to_string();
                c.write_record([h.meter.serial.as_str(), &code, &started, &channel, &recipient, time.format(sent), &status])?;
                n += 1;
            }
        }
        flush(c)?;
        Ok(n)
    })?;
    summary.files.push("notices.csv");

    // The customer's whole time with us, for the exports of that time.
    let first = held.iter().map(|h| h.from).min().unwrap_or(i64::MAX);
    let last = held.iter().map(|h| h.to).max().unwrap_or(i64::MIN);
    summary.exports = zip.file("exports.csv", |w| {
        let mut c = csv_writer(w, sep);
        c.write_record(["kind", "at", "name", "period", "meter_serial", "details"])?;
        let mut n = 0;
        let mut serials: Vec<&str> = held.iter().map(|h| h.meter.serial.as_str()).collect();
        serials.dedup();
        for serial in &serials {
            for (layout, file, at, line) in occupancies::billing_lines_of_meter(&conn, serial)? {
                c.write_record(["billing_file_line", time.format(at), &layout, &file, serial, &line])?;
                n += 1;
            }
        }
        if first < last {
            for (job, layout, from, to, started, file, rows) in occupancies::export_runs_between(&conn, first, last)? {
                let details = format!("{} ({} rows)", file.unwrap_or_default(), rows.unwrap_or(0));
                c.write_record(["scheduled_export", time.format(started), &format!("{job} / {layout}"), &format!("{from}..{to}"), "", &details])?;
                n += 1;
            }
            let mut rows = Vec::new();
            occupancies::audit_of_events(&conn, &EXPORT_EVENTS, first, last, &mut |e| {
                rows.push(e);
                Ok(())
            })?;
            for e in rows {
                c.write_record([e.event.as_str(), time.format(e.at), &e.user, "", "", &e.details])?;
                n += 1;
            }
        }
        flush(c)?;
        Ok(n)
    })?;
    summary.files.push("exports.csv");

    summary.consumer_reports = zip.file("consumer_reports.csv", |w| {
        let mut c = csv_writer(w, sep);
        c.write_record(["sent_at", "user", "meter_serial", "details"])?;
        let mut n = 0;
        let mut sent = Vec::new();
        occupancies::audit_of_events(&conn, &["consumer_report_sent"], first, last, &mut |e| {
            sent.push(e);
            Ok(())
        })?;
        for e in sent {
            // "consommation-<serial>-... (meter <serial>) to <address>", sent in the meter's stretch.
            let hit = held.iter().find(|h| e.at >= h.from && e.at < h.to && e.details.contains(&format!("(meter {})", h.meter.serial)));
            if let Some(h) = hit {
                c.write_record([time.format(e.at), &e.user, &h.meter.serial, &e.details])?;
                n += 1;
            }
        }
        flush(c)?;
        Ok(n)
    })?;
    summary.files.push("consumer_reports.csv");

    summary.files.push("summary.pdf");
    let pdf = summary::render(&summary::Summary { locale, tz, customer: &customer, held: &held, per_meter: &per_meter, counts: &summary, now })?;
    zip.file("summary.pdf", |w| w.write_all(&pdf).map_err(|e| Error::io("archive output", e)))?;
    zip.finish()?;
    drop(conn);
    let details = format!(
        "customer #{customer_id} ({}): {} meters, {} readings, {} alarms, {} notices, {} exports, {} consumer reports",
        customer.number, summary.meters, summary.readings, summary.alarms, summary.notices, summary.exports, summary.consumer_reports
    );
    store::audit::record_permit(&store.writer(), permit, now, "customer_subject_access", &details)?;
    Ok(summary)
}

