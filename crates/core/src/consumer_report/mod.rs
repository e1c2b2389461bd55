//! The consumer report: one meter's consumption (and its customer's details) over a period,
//! per day or per month, as a bar chart drawn with plotters (alarm periods marked) and a
//! table of index and consumption; a PDF (our own small writer, the chart in vector) or one
//! self-contained HTML file (the chart as inline SVG), saved or e-mailed to the customer.
//!
//! The figures are the meter histogram's (`meters`): the installation is followed back
//! through meter exchanges, a bucket holds the growth of the index. An electricity meter
//! shows its import (A+) and, when it has exported in the period (A-, a solar prosumer),
//! its export too: bars below the axis, a column of the table, a second total, in kWh.

mod chart;
mod html;
pub mod letterhead;
pub(crate) mod pdf;
mod pdf_canvas;
mod pdf_report;
mod text;

pub use text::Locale;

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::exchange::ExchangeMark;
use crate::meters::{self, Resolution};
use crate::model::Register;
use crate::notify::email::{self, Attachment};
use crate::store::customers::Customer;
use crate::store::{self, Store};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

/// At most this many days per day, and months per month, in one report.
pub const MAX_DAYS: i64 = 366;
pub const MAX_MONTHS: i64 = 120;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    Pdf,
    Html,
}

impl Format {
    pub fn parse(s: &str) -> Result<Format> {
        match s {
            "pdf" => Ok(Format::Pdf),
            "html" => Ok(Format::Html),
            other => Err(Error::bad_input("format", format!("'{other}' is not one of pdf, html"))),
        }
    }

    pub fn extension(self) -> &'static str {
        match self {
            Format::Pdf => "pdf",
            Format::Html => "html",
        }
    }

    pub fn content_type(self) -> &'static str {
        match self {
            Format::Pdf => "application/pdf",
            Format::Html => "text/html; charset=utf-8",
        }
    }
}

/// What to report: a meter, a period of local dates (`to` included), day or month buckets.
#[derive(Debug, Clone)]
pub struct ConsumerReportRequest {
    pub meter_id: i64,
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// `Day` or `Month`.
    pub resolution: Resolution,
    pub format: Format,
    /// The report's language; default: the session user's.
    pub locale: Option<Locale>,
}

/// A finished report file.
#[derive(Debug, Clone)]
pub struct ReportFile {
    pub file_name: String,
    pub content_type: &'static str,
    pub bytes: Vec<u8>,
}

/// Where a report was sent.
#[derive(Debug, Clone, Serialize)]
pub struct Sent {
    pub sent_to: String,
    pub file_name: String,
}

/// The report as a file, to show or save. Needs `view`.
pub fn consumer_report(store: &Store, session: &Session, req: &ConsumerReportRequest, now: i64) -> Result<ReportFile> {
    session.permit(Permission::View)?;
    let locale = req.locale.unwrap_or_else(|| Locale::of(session));
    let report = gather(&*store.reader()?, req, locale, now)?;
    render(&report, req.format)
}

/// E-mail the report as an attachment to `to`, or to the customer's address. Needs
/// `export`; the sending is in the audit log with its recipient.
pub fn consumer_report_email(
    store: &Store,
    session: &Session,
    req: &ConsumerReportRequest,
    to: Option<&str>,
    now: i64,
) -> Result<Sent> {
    let permit = session.permit(Permission::SendMail)?;
    let locale = req.locale.unwrap_or_else(|| Locale::of(session));
    let (report, settings) = {
        let conn = store.reader()?;
        (gather(&conn, req, locale, now)?, crate::notify::load_settings(&conn)?)
    };
    let to = match to.map(str::trim).filter(|t| !t.is_empty()) {
        Some(t) => t.to_string(),
        None => report
            .customer
            .as_ref()
            .and_then(|c| c.email.as_deref())
            .map(str::trim)
            .filter(|e| !e.is_empty())
            .map(str::to_string)
            .ok_or_else(|| Error::NoEmail { whom: report.whom() })?,
    };
    let file = render(&report, req.format)?;
    let (subject, body) = report.mail();
    let attachment = Attachment {
        file_name: file.file_name.clone(),
        content_type: file.content_type.to_string(),
        bytes: file.bytes,
    };
    email::send_with_attachments(&settings, &to, &subject, &body, &[attachment])?;
    let details = format!("{} (meter {}) to {to}", file.file_name, report.meter.serial);
    store::audit::record_permit(&store.writer(), permit, now, "consumer_report_sent", &details)?;
    Ok(Sent { sent_to: to, file_name: file.file_name })
}

/// The id of the meter with this serial (the CLI names meters by serial). Needs `view`.
pub fn meter_of_serial(store: &Store, session: &Session, serial: &str) -> Result<i64> {
    session.permit(Permission::View)?;
    store::meters::find(&*store.reader()?, serial.trim(), None)?
        .ok_or_else(|| Error::not_found(format!("meter {serial}")))
}

fn render(report: &Report, format: Format) -> Result<ReportFile> {
    let bytes = match format {
        Format::Pdf => pdf_report::render(report)?,
        Format::Html => html::render(report)?.into_bytes(),
    };
    Ok(ReportFile { file_name: report.file_name(format), content_type: format.content_type(), bytes })
}

/// Everything the renderers show.
pub(crate) struct Report {
    pub locale: Locale,
    pub tz: Tz,
    pub meter: store::meters::Meter,
    pub customer: Option<Customer>,
    pub unit: &'static str,
    pub resolution: Resolution,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub rows: Vec<Row>,
    /// None when no bucket has a value.
    pub total: Option<f64>,
    /// Electricity exported (A-) in the period: its total, when a bucket has a value.
    pub export_total: Option<f64>,
    pub alarms: Vec<Alarm>,
    pub exchanges: Vec<ExchangeMark>,
    pub generated_at: i64,
    /// The same period one year earlier; None when it is not the customer's (a move-in since).
    pub last_year: Option<LastYear>,
    /// The utility's letterhead (empty when not set) and its logo.
    pub letterhead: letterhead::Letterhead,
    pub logo: Option<pdf::Picture>,
}

/// The same period one year earlier, for the comparison.
pub(crate) struct LastYear {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// None when no bucket of it has a value.
    pub total: Option<f64>,
}

/// One day or month.
pub(crate) struct Row {
    pub start: i64,
    pub end: i64,
    /// Local date of the start.
    pub day: NaiveDate,
    pub index_start: Option<f64>,
    pub consumption: Option<f64>,
    /// Electricity exported (A-) in the bucket.
    pub export: Option<f64>,
    /// Info codes active at some time in the bucket.
    pub codes: Vec<String>,
    /// Not over when the report was made: consumption up to this time only.
    pub partial_until: Option<i64>,
}

/// An info code's period, clipped to the report's.
pub(crate) struct Alarm {
    pub code: String,
    pub start: i64,
    pub end: i64,
    pub ongoing: bool,
}

fn gather(conn: &rusqlite::Connection, req: &ConsumerReportRequest, locale: Locale, now: i64) -> Result<Report> {
    let (from, to) = (req.from, req.to);
    if to < from {
        return Err(Error::bad_input("period", format!("the end {to} is before the start {from}")));
    }
    let days = (to - from).num_days() + 1;
    match req.resolution {
        Resolution::Day if days > MAX_DAYS => {
            return Err(Error::bad_input("period", format!("at most {MAX_DAYS} days per day: choose months")))
        }
        Resolution::Month if days > MAX_MONTHS * 31 => {
            return Err(Error::bad_input("period", format!("at most {MAX_MONTHS} months")))
        }
        Resolution::Day | Resolution::Month => {}
        other => return Err(Error::bad_input("resolution", format!("'{}' is not one of day, month", other.as_str()))),
    }
    let meter =
        store::meters::get(conn, req.meter_id)?.ok_or_else(|| Error::not_found(format!("meter {}", req.meter_id)))?;
    let customer = match meter.customer_id {
        Some(c) => store::customers::get(conn, c)?,
        None => None,
    };
    let register = Register::default_for(&meter.device_type);
    let tz = crate::settings::timezone(conn)?;
    let start = crate::settings::local_midnight(tz, from)?;
    let end = crate::settings::local_midnight(tz, to + chrono::Duration::days(1))?;
    // Month buckets start on the 1st; the report's first and last months are cut to the period.
    let mut bounds = meters::bucket_bounds(tz, req.resolution, from, to)?;
    bounds.retain(|&b| b > start && b < end);
    bounds.insert(0, start);
    bounds.push(end);
    // The customer's own time: readings before its occupancy (a move-in) are a former
    // occupant's, never shown; the index at the move-in is where its consumption starts.
    let since = match meter.customer_id {
        Some(c) => crate::personal::occupancy_start(conn, meter.id, c)?,
        None => None,
    };
    let own = since.map_or(start, |s| s.max(start)).min(end);
    let (segments, marks) = crate::exchange::chain(conn, meter.id, register)?;
    let (series, before) = crate::exchange::installation_series(conn, &segments, register, own, end)?;
    let mut buckets = meters::bucketize(&bounds, &series, before, register.is_cumulative());
    meters::mark_partial(&mut buckets, &bounds, now);
    let mut starts = index_starts(&bounds, &series, before);
    for (s, w) in starts.iter_mut().zip(bounds.windows(2)) {
        if w[1] <= own {
            *s = None;
        }
    }
    let exports = match register.energy_flow() {
        Some(crate::model::EnergyFlow::Import) => {
            let (segments, _) = crate::exchange::chain(conn, meter.id, Register::AMinus)?;
            let (series, before) = crate::exchange::installation_series(conn, &segments, Register::AMinus, own, end)?;
            meters::bucketize(&bounds, &series, before, true)
        }
        _ => Vec::new(),
    };
    let alarms: Vec<Alarm> = store::info_codes::overlapping(conn, meter.id, own, end)?
        .into_iter()
        .filter_map(|e| {
            let until = e.ended_at.unwrap_or_else(|| e.last_seen_at.max(now));
            let alarm = Alarm {
                code: e.code,
                start: e.started_at.max(own),
                end: until.min(end),
                ongoing: e.ended_at.is_none(),
            };
            (alarm.end >= alarm.start).then_some(alarm)
        })
        .collect();
    let rows: Vec<Row> = bounds
        .windows(2)
        .zip(buckets.iter().zip(starts))
        .enumerate()
        .map(|(i, (w, (b, index_start)))| {
            let mut codes: Vec<String> =
                alarms.iter().filter(|a| a.start < w[1] && a.end >= w[0]).map(|a| a.code.clone()).collect();
            codes.dedup();
            let export = exports.get(i).and_then(|e| e.value);
            Row { start: w[0], end: w[1], day: local_date(tz, w[0]), index_start, consumption: b.value, export, codes, partial_until: b.partial_until }
        })
        .collect();
    let values: Vec<f64> = rows.iter().filter_map(|r| r.consumption).collect();
    let total = (!values.is_empty()).then(|| meters::round6(values.iter().sum()));
    let exported: Vec<f64> = rows.iter().filter_map(|r| r.export).collect();
    let letterhead = letterhead::load(conn)?;
    let export_total = (!exported.is_empty()).then(|| meters::round6(exported.iter().sum()));
    Ok(Report {
        locale,
        tz,
        meter,
        customer,
        unit: register.shown_unit(),
        resolution: req.resolution,
        from,
        to,
        rows,
        total,
        export_total,
        alarms,
        exchanges: marks.into_iter().filter(|m| m.at >= own && m.at < end).collect(),
        generated_at: now,
        last_year: last_year(conn, tz, req.resolution, from, to, since, &segments, register)?,
        logo: letterhead.logo(),
        letterhead,
    })
}

/// The total of the same period one year earlier (29 February counts as 28 February), in
/// the same buckets; None when the customer moved in since its start (a former occupant's).
#[allow(clippy::too_many_arguments)]
fn last_year(
    conn: &rusqlite::Connection,
    tz: Tz,
    resolution: Resolution,
    from: NaiveDate,
    to: NaiveDate,
    since: Option<i64>,
    segments: &[crate::exchange::Segment],
    register: Register,
) -> Result<Option<LastYear>> {
    let year = chrono::Months::new(12);
    let (Some(ly_from), Some(ly_to)) = (from.checked_sub_months(year), to.checked_sub_months(year)) else {
        return Ok(None);
    };
    let start = crate::settings::local_midnight(tz, ly_from)?;
    let end = crate::settings::local_midnight(tz, ly_to + chrono::Duration::days(1))?;
    if since.is_some_and(|s| s > start) {
        return Ok(None);
    }
    let mut bounds = meters::bucket_bounds(tz, resolution, ly_from, ly_to)?;
    bounds.retain(|&b| b > start && b < end);
    bounds.insert(0, start);
    bounds.push(end);
    let (series, before) = crate::exchange::installation_series(conn, segments, register, start, end)?;
    let buckets = meters::bucketize(&bounds, &series, before, register.is_cumulative());
    let values: Vec<f64> = buckets.iter().filter_map(|b| b.value).collect();
    let total = (!values.is_empty()).then(|| meters::round6(values.iter().sum()));
    Ok(Some(LastYear { from: ly_from, to: ly_to, total }))
}

/// The index at the start of each bucket [bounds[i], bounds[i+1]): the last reading before
/// it, else (no reading before) the bucket's first, as `bucketize` counts from them.
fn index_starts(bounds: &[i64], series: &[(i64, f64)], before: Option<f64>) -> Vec<Option<f64>> {
    let mut out = Vec::with_capacity(bounds.len().saturating_sub(1));
    let mut reference = before;
    let mut i = 0;
    for w in bounds.windows(2) {
        let first = i;
        while i < series.len() && series[i].0 < w[1] {
            i += 1;
        }
        let inside = &series[first..i];
        out.push(reference.or(inside.first().map(|r| r.1)).map(meters::round6));
        if let Some(last) = inside.last() {
            reference = Some(last.1);
        }
    }
    out
}

fn local_date(tz: Tz, ts: i64) -> NaiveDate {
    tz.timestamp_opt(ts, 0).earliest().map(|t| t.date_naive()).unwrap_or_default()
}

impl Report {
    pub fn words(&self) -> &'static text::Words {
        self.locale.words()
    }

    /// A quantity of the report's unit, with its decimals.
    pub fn quantity(&self, v: f64) -> String {
        self.locale.number(v, text::decimals(self.unit))
    }

    pub fn unit_label(&self) -> &'static str {
        text::unit(self.unit)
    }

    pub fn total_text(&self) -> String {
        match self.total {
            Some(t) => format!("{} {}", self.quantity(t), self.unit_label()),
            None => self.words().no_reading.to_string(),
        }
    }

    /// "Same period last year (from ... to ...)" and "123.4 m³ (change +12 %)", when the
    /// period can be compared.
    pub fn last_year_text(&self) -> Option<(String, String)> {
        let ly = self.last_year.as_ref()?;
        let w = self.words();
        let label = format!("{} ({})", w.last_year, self.locale.period(ly.from, ly.to));
        let Some(before) = ly.total else { return Some((label, w.last_year_none.to_string())) };
        let mut value = format!("{} {}", self.quantity(before), self.unit_label());
        if let Some(now) = self.total.filter(|_| before > 0.0) {
            let pct = (now - before) / before * 100.0;
            let sign = if pct >= 0.05 { "+" } else if pct <= -0.05 { "−" } else { "" };
            let space = if self.locale == Locale::Fr { "\u{A0}" } else { "" };
            value.push_str(&format!(" ({} {sign}{}{space}%)", w.change, self.locale.number(pct.abs(), 1)));
        }
        Some((label, value))
    }

    /// Whether the report shows an export (A-) beside the import.
    pub fn has_export(&self) -> bool {
        self.export_total.is_some()
    }

    pub fn export_total_text(&self) -> String {
        match self.export_total {
            Some(t) => format!("{} {}", self.quantity(t), self.unit_label()),
            None => self.words().no_reading.to_string(),
        }
    }

    /// The table's header of the import column: "Consumption" or, beside an export,
    /// "Imported (A+)".
    pub fn import_heading(&self) -> &'static str {
        if self.has_export() {
            self.words().imported
        } else {
            self.words().consumption
        }
    }

    /// "Consumption per day from ... to ...".
    pub fn subtitle(&self) -> String {
        let w = self.words();
        let per = if self.resolution == Resolution::Month { w.per_month } else { w.per_day };
        format!("{per} {}", self.locale.period(self.from, self.to))
    }

    /// The table's period cell of a row.
    pub fn row_label(&self, r: &Row) -> String {
        match self.resolution {
            Resolution::Month => self.locale.month(r.day),
            _ => self.locale.date(r.day),
        }
    }

    /// The chart's label under a bar.
    pub fn bar_label(&self, r: &Row) -> String {
        match self.resolution {
            Resolution::Month => self.locale.short_month(r.day),
            _ => self.locale.short_day(r.day),
        }
    }

    pub fn date_of(&self, ts: i64) -> String {
        self.locale.date(local_date(self.tz, ts))
    }

    /// The position of a time on the chart's x axis: bucket i spans [i - 0.5, i + 0.5).
    pub fn x_of(&self, ts: i64) -> f64 {
        let Some(i) = self.rows.iter().position(|r| ts < r.end) else { return self.rows.len() as f64 - 0.5 };
        let r = &self.rows[i];
        let within = (ts - r.start).max(0) as f64 / (r.end - r.start).max(1) as f64;
        i as f64 - 0.5 + within
    }

    /// "Leak from 03/12/2025 to 05/12/2025 (ongoing)".
    pub fn alarm_text(&self, a: &Alarm) -> String {
        let w = self.words();
        let code = self.locale.info_code(&a.code);
        let mut code_cap = code.clone();
        if let Some(first) = code.chars().next() {
            code_cap = first.to_uppercase().chain(code.chars().skip(1)).collect();
        }
        let until = (a.end - 1).max(a.start);
        let mut s = format!("{code_cap} {} {} {} {}", w.from, self.date_of(a.start), w.to, self.date_of(until));
        if a.ongoing {
            s.push_str(&format!(" ({})", w.ongoing));
        }
        s
    }

    /// The last bucket's time when it is not over yet (the current month), if any.
    pub fn partial_until(&self) -> Option<i64> {
        self.rows.iter().filter_map(|r| r.partial_until).max()
    }

    /// "Partial: up to 6 Dec 2026" (the lighter bar of a period not over).
    pub fn partial_text(&self, until: i64) -> String {
        format!("{} {}", self.words().partial, self.date_of(until))
    }

    /// "Meter exchange on 12 Dec 2025: 111 replaced by 222".
    pub fn exchange_text(&self, e: &ExchangeMark) -> String {
        let w = self.words();
        let colon = if self.locale == Locale::Fr { " :" } else { ":" };
        format!("{} {}{colon} {} {} {}", w.exchange, self.date_of(e.at), e.old_serial, w.replaced_by, e.new_serial)
    }

    /// The codes of a table row, in words.
    pub fn codes_text(&self, r: &Row) -> String {
        r.codes.iter().map(|c| self.locale.info_code(c)).collect::<Vec<_>>().join(", ")
    }

    /// Customer lines: name, number, address, postal code and city.
    pub fn customer_lines(&self) -> Vec<String> {
        let w = self.words();
        let Some(c) = &self.customer else { return vec!["—".into()] };
        let mut lines = vec![c.name.clone(), format!("{} {}", w.customer_number, c.number)];
        lines.extend(address_lines(&c.address, &c.postal_code, &c.city));
        lines
    }

    /// Meter lines: serial, type, manufacturer, installation address.
    pub fn meter_lines(&self) -> Vec<(String, String)> {
        let w = self.words();
        let m = &self.meter;
        let mut lines = vec![
            (w.serial.to_string(), m.serial.clone()),
            (w.meter_type.to_string(), self.locale.device_type(&m.device_type)),
        ];
        if !m.manufacturer.is_empty() {
            lines.push((w.manufacturer.to_string(), m.manufacturer.clone()));
        }
        let place = address_lines(&m.address, &m.postal_code, &m.city).join(", ");
        if !place.is_empty() {
            lines.push((w.installed_at.to_string(), place));
        }
        lines
    }

    pub fn generated_text(&self) -> String {
        format!("{} {}", self.words().generated, self.date_of(self.generated_at))
    }

    /// Who lacks an e-mail address, for the error.
    fn whom(&self) -> String {
        match &self.customer {
            Some(c) => format!("customer {} ({})", c.number, c.name),
            None => format!("meter {} (no customer)", self.meter.serial),
        }
    }

    /// `consommation-<serial>-<from>_<to>.pdf`.
    pub fn file_name(&self, format: Format) -> String {
        let serial: String =
            self.meter.serial.chars().map(|c| if c.is_ascii_alphanumeric() || c == '-' { c } else { '_' }).collect();
        format!("{}-{serial}-{}_{}.{}", self.words().file_stem, self.from, self.to, format.extension())
    }

    /// Subject and body of the e-mail.
    pub fn mail(&self) -> (String, String) {
        let w = self.words();
        let period = self.locale.period(self.from, self.to);
        let subject = format!("{} {period}", w.mail_subject);
        let hello = match &self.customer {
            Some(c) => format!("{} {},", w.mail_hello, c.name),
            None => format!("{},", w.mail_hello),
        };
        let colon = if self.locale == Locale::Fr { " :" } else { ":" };
        let export = if self.has_export() {
            format!("{}{colon} {}.\n", w.total_export, self.export_total_text())
        } else {
            String::new()
        };
        let body = format!(
            "{hello}\n\n{} {} {period}.\n{}{colon} {}.\n{export}\n{}\n",
            w.mail_body,
            self.meter.serial,
            w.mail_total,
            self.total_text(),
            w.mail_bye
        );
        (subject, body)
    }
}

fn address_lines(address: &str, postal_code: &str, city: &str) -> Vec<String> {
    let town = format!("{postal_code} {city}").trim().to_string();
    [address.trim().to_string(), town].into_iter().filter(|s| !s.is_empty()).collect()
}

#[cfg(test)]
mod tests {
    use super::index_starts;

    #[test]
    fn index_at_start_is_the_last_reading_before_the_bucket() {
        let bounds = [0, 10, 20, 30];
        let series = [(5, 1.0), (8, 2.0), (25, 7.0)];
        assert_eq!(index_starts(&bounds, &series, Some(0.5)), vec![Some(0.5), Some(2.0), Some(2.0)]);
        assert_eq!(index_starts(&bounds, &series, None), vec![Some(1.0), Some(2.0), Some(2.0)]);
        assert_eq!(index_starts(&bounds, &[], None), vec![None, None, None]);
    }
}
