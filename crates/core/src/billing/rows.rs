//! A layout over a period: the meters of the park, one row each, their cells, the records
//! written one after the other into the file's body, then the header and trailer (which
//! may count and total the rows).

use super::format::{default_decimals, Cell, FieldError, Place, RecordWriter};
use super::layout::{Field, Format, Layout, Var};
use super::values::{self, Billed, Bounds, Rules, Source};
use super::{Period, Warning};
use crate::error::Result;
use crate::model::{info_codes_of_mask, Register, INFO_CODES};
use crate::store::{self, layouts::BillingMeter, meters::Exchange};
use chrono::{Duration, NaiveDate, TimeZone};
use chrono_tz::Tz;
use rusqlite::Connection;
use std::borrow::Cow;
use std::collections::{HashMap, HashSet};
use std::ops::Range;

/// A produced file, in parts.
#[derive(Debug, Default)]
pub struct Produced {
    /// Header record and column labels, each with its line end.
    pub head: String,
    /// The data records, each with its line end (only the first `keep` when limited).
    pub body: String,
    /// Trailer record with its line end.
    pub tail: String,
    pub rows: u64,
    /// (meter key, its line in `body` without the line end), when asked for.
    pub lines: Vec<(String, Range<usize>)>,
    pub warnings: Vec<Warning>,
    pub errors: Vec<FieldError>,
}

impl Produced {
    pub fn line(&self, range: &Range<usize>) -> &str {
        &self.body[range.clone()]
    }
}

/// What to keep of the body.
#[derive(Debug, Clone, Copy)]
pub struct Keep {
    /// Keep at most this many data lines in `body` (all: `usize::MAX`).
    pub lines: usize,
    /// Note each line's meter and place.
    pub by_meter: bool,
}

/// Run `layout` over `period` on the store's data.
pub fn produce(conn: &Connection, layout: &Layout, period: Period, now: i64, keep: Keep) -> Result<Produced> {
    let tz = crate::settings::timezone(conn)?;
    let (start, end) = crate::reports::period(tz, period.from, period.to)?;
    let bounds = Bounds { from: period.from, end_date: period.to + Duration::days(1), start, end };
    let rules = Rules {
        tolerance_s: i64::from(layout.billing.tolerance_hours) * 3600,
        interpolate: layout.billing.interpolate,
    };
    let export_date = tz.timestamp_opt(now, 0).single().map_or(period.to, |t| t.date_naive());
    let park = Park::load(conn, layout, bounds)?;
    let common = Common { period, export_date };
    let mut out = Produced::default();
    let mut writer = RecordWriter::new(layout, tz);
    let line_end = writer.line_end();
    let mut totals: Vec<Total> = layout.header.iter().chain(&layout.trailer).map(Total::of).collect();
    let mut billed: Vec<Billed> = Vec::new();
    let mut keys: HashSet<String> = HashSet::new();
    let mut scratch = String::new();
    let ctx = Ctx { bounds, rules, tz };
    store::layouts::billing_meters(conn, layout.group_id, &mut |m| {
        let Some(chain) = park.row_of(m, bounds) else { return Ok(()) };
        out.rows += 1;
        billed.clear();
        for reg in ctx.registers(m, layout) {
            let b = values::bill(conn, m.id, &m.label.serial, reg, &chain, bounds, rules)?;
            ctx.warn(&mut out.warnings, m, &b);
            billed.push(b);
        }
        let main = Register::default_for(&m.device_type);
        let of = |f: &Field| {
            let reg = f.register.as_deref().and_then(Register::from_id).unwrap_or(main);
            billed.iter().find(|b| b.register == reg)
        };
        for (t, f) in totals.iter_mut().zip(layout.header.iter().chain(&layout.trailer)) {
            t.add(f, of(f));
        }
        let cells: Vec<Cell<'_>> =
            layout.fields.iter().map(|f| data_cell(f, m, of(f), &chain, &park, &common, out.rows)).collect();
        let kept = (out.rows as usize) <= keep.lines;
        let buf = if kept { &mut out.body } else { &mut scratch };
        if !kept {
            buf.clear();
        }
        let begin = buf.len();
        let row = out.rows;
        let place = || Place::Data { meter: m.label.serial.clone(), row };
        writer.record(buf, &place, &layout.fields, &cells, &mut out.errors);
        let range = begin..buf.len();
        buf.push_str(line_end);
        if keep.by_meter && kept {
            let mut key = m.label.serial.clone();
            if !keys.insert(key.clone()) {
                key = format!("{} ({})", m.label.serial, m.manufacturer);
                keys.insert(key.clone());
            }
            out.lines.push((key, range));
        }
        Ok(())
    })?;
    let (head_totals, tail_totals) = totals.split_at(layout.header.len());
    if !layout.header.is_empty() {
        let cells: Vec<Cell<'_>> =
            layout.header.iter().zip(head_totals).map(|(f, t)| file_cell(f, t, &common, out.rows)).collect();
        writer.record(&mut out.head, &|| Place::Header, &layout.header, &cells, &mut out.errors);
        out.head.push_str(line_end);
    }
    if layout.format == Format::Csv && layout.csv.header {
        writer.labels(&mut out.head);
        out.head.push_str(line_end);
    }
    if !layout.trailer.is_empty() {
        let cells: Vec<Cell<'_>> =
            layout.trailer.iter().zip(tail_totals).map(|(f, t)| file_cell(f, t, &common, out.rows)).collect();
        writer.record(&mut out.tail, &|| Place::Trailer, &layout.trailer, &cells, &mut out.errors);
        out.tail.push_str(line_end);
    }
    // Header and trailer errors first: they concern the whole file.
    out.errors.sort_by_key(|e| !e.place.is_file_level());
    Ok(out)
}

/// What every record may show.
struct Common {
    period: Period,
    export_date: NaiveDate,
}

struct Ctx {
    bounds: Bounds,
    rules: Rules,
    tz: Tz,
}

impl Ctx {
    /// The registers this meter's row reads (data fields and totals), each once.
    fn registers(&self, m: &BillingMeter, layout: &Layout) -> Vec<Register> {
        let main = Register::default_for(&m.device_type);
        let mut regs: Vec<Register> = Vec::new();
        for f in layout.fields.iter().chain(&layout.header).chain(&layout.trailer) {
            if needs_values(f.var) {
                let r = f.register.as_deref().and_then(Register::from_id).unwrap_or(main);
                if !regs.contains(&r) {
                    regs.push(r);
                }
            }
        }
        regs
    }

    /// A warning for each interpolated or missing value.
    fn warn(&self, warnings: &mut Vec<Warning>, m: &BillingMeter, b: &Billed) {
        for (which, p, date, serial) in [
            ("value_start", &b.start, self.bounds.from, b.start_serial.as_str()),
            ("value_end", &b.end, self.bounds.end_date, m.label.serial.as_str()),
        ] {
            let of_meter = if serial == m.label.serial { String::new() } else { format!(" (replaced meter {serial})") };
            let message = match (p.source, p.around) {
                (Source::Interpolated, Some(((t0, v0), (t1, v1)))) => format!(
                    "interpolated at {date}{of_meter} between the readings of {} ({v0}) and {} ({v1})",
                    self.local(t0),
                    self.local(t1)
                ),
                (Source::Missing, _) => {
                    let why = if self.rules.interpolate {
                        "none on both sides to interpolate"
                    } else {
                        "interpolation is off"
                    };
                    format!(
                        "no value at {date}{of_meter}: no target value, no reading within {} h, {why}",
                        self.rules.tolerance_s / 3600
                    )
                }
                _ => continue,
            };
            warnings.push(Warning {
                meter: m.label.serial.clone(),
                field: format!("{which} ({})", b.register.id()),
                message,
            });
        }
    }

    fn local(&self, ts: i64) -> String {
        self.tz.timestamp_opt(ts, 0).single().map_or_else(|| ts.to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
    }
}

/// Variables that need the register's values at the period's bounds.
fn needs_values(var: Var) -> bool {
    var.register_bound() && var != Var::Unit
}

/// What the park looks like for the period: exchanges and info codes, loaded once.
struct Park {
    /// The latest exchange that installed each meter.
    into: HashMap<i64, Exchange>,
    /// When each meter was replaced (latest).
    replaced: HashMap<i64, i64>,
    /// Info codes active in the period, per meter (only when a field shows them).
    codes: HashMap<i64, Vec<String>>,
}

impl Park {
    fn load(conn: &Connection, layout: &Layout, b: Bounds) -> Result<Park> {
        let mut into = HashMap::new();
        let mut replaced = HashMap::new();
        for e in store::meters::exchanges_in(conn, i64::MIN, i64::MAX)? {
            replaced.insert(e.old_meter_id, e.at);
            into.insert(e.new_meter_id, e);
        }
        let mut codes: HashMap<i64, Vec<String>> = HashMap::new();
        if layout.fields.iter().any(|f| f.var == Var::InfoCodes) {
            store::layouts::codes_in_period(conn, b.start, b.end, &mut |m, c| codes.entry(m).or_default().push(c))?;
        }
        Ok(Park { into, replaced, codes })
    }

    /// Whether meter `m` has a row (`None`: another meter's row covers its installation, or
    /// it was removed before the period), and the exchanges in the period that led to it.
    fn row_of(&self, m: &BillingMeter, b: Bounds) -> Option<Vec<&Exchange>> {
        if self.replaced.get(&m.id).is_some_and(|at| *at < b.end) {
            return None; // replaced before the billing date: the new meter's row
        }
        if self.into.get(&m.id).is_some_and(|e| e.at >= b.end) {
            return None; // installed after the billing date: the old meter's row
        }
        if m.status == "removed" && m.removed_at.is_some_and(|at| at < b.start) {
            return None;
        }
        let mut chain = Vec::new();
        let mut current = m.id;
        while let Some(e) = self.into.get(&current).filter(|e| e.at > b.start && e.at < b.end) {
            if chain.len() > 16 {
                break; // a cycle in bad data
            }
            chain.push(e);
            current = e.old_meter_id;
        }
        chain.reverse();
        Some(chain)
    }

    /// Codes active in the period on the installation (its meters in the period).
    fn codes_of(&self, m: &BillingMeter, chain: &[&Exchange]) -> String {
        let mut seen: Vec<&str> = Vec::new();
        for id in chain.iter().map(|e| e.old_meter_id).chain([m.id]) {
            for c in self.codes.get(&id).into_iter().flatten() {
                if !seen.contains(&c.as_str()) {
                    seen.push(c);
                }
            }
        }
        seen.sort_by_key(|c| INFO_CODES.iter().position(|k| k == c));
        seen.join(" ")
    }
}

fn text(s: &str) -> Cell<'_> {
    if s.is_empty() {
        Cell::Empty
    } else {
        Cell::Text(Cow::Borrowed(s))
    }
}

fn opt_text(s: &Option<String>) -> Cell<'_> {
    s.as_deref().map_or(Cell::Empty, text)
}

fn number(v: Option<f64>) -> Cell<'static> {
    v.map_or(Cell::Empty, Cell::Number)
}

/// The cell of a data field for meter `m`.
fn data_cell<'a>(
    f: &'a Field,
    m: &'a BillingMeter,
    b: Option<&Billed>,
    chain: &[&'a Exchange],
    park: &Park,
    common: &Common,
    row: u64,
) -> Cell<'a> {
    let exchange = b.and_then(|b| b.exchange.as_ref());
    match f.var {
        Var::CustomerNumber => opt_text(&m.label.customer_number),
        Var::CustomerName => opt_text(&m.label.customer_name),
        Var::CustomerEmail => opt_text(&m.customer_email),
        Var::CustomerPhone => opt_text(&m.customer_phone),
        Var::MeterSerial => text(&m.label.serial),
        Var::Manufacturer => text(&m.manufacturer),
        Var::DeviceType => text(&m.device_type),
        Var::Address => text(&m.label.address),
        Var::PostalCode => text(&m.label.postal_code),
        Var::City => text(&m.label.city),
        Var::Latitude => number(m.lat),
        Var::Longitude => number(m.lon),
        Var::ValueStart => number(b.and_then(|b| b.start.value)),
        Var::ValueEnd => number(b.and_then(|b| b.end.value)),
        Var::Consumption => number(b.and_then(|b| b.consumption)),
        Var::ReadingTimeStart => b.and_then(|b| b.start.ts).map_or(Cell::Empty, Cell::Time),
        Var::ReadingTimeEnd => b.and_then(|b| b.end.ts).map_or(Cell::Empty, Cell::Time),
        Var::SourceStart => b.map_or(Cell::Empty, |b| Cell::Text(b.start.source.id().into())),
        Var::SourceEnd => b.map_or(Cell::Empty, |b| Cell::Text(b.end.source.id().into())),
        Var::Unit => {
            let reg =
                f.register.as_deref().and_then(Register::from_id).unwrap_or(Register::default_for(&m.device_type));
            text(reg.shown_unit())
        }
        Var::InfoCodes => Cell::Text(park.codes_of(m, chain).into()),
        Var::InfoCodesNow => Cell::Text(info_codes_of_mask(m.info_codes).join(" ").into()),
        Var::ExchangeDate => chain.last().map_or(Cell::Empty, |e| Cell::Time(e.at)),
        Var::ExchangeOldSerial => chain.last().map_or(Cell::Empty, |e| text(&e.old_serial)),
        Var::ExchangeOldFinal => number(exchange.and_then(|e| e.old_final)),
        Var::ExchangeNewInitial => number(exchange.and_then(|e| e.new_initial)),
        Var::RowNumber => Cell::Int(row as i64),
        Var::Text
        | Var::PeriodFrom
        | Var::PeriodTo
        | Var::ExportDate
        | Var::RecordCount
        | Var::TotalConsumption
        | Var::TotalValueEnd => common_cell(f, common, row),
    }
}

/// The cell of a header or trailer field.
fn file_cell<'a>(f: &'a Field, total: &Total, common: &Common, rows: u64) -> Cell<'a> {
    match f.var {
        Var::RecordCount => Cell::Int(rows as i64),
        Var::TotalConsumption | Var::TotalValueEnd => Cell::Scaled(total.units, total.scale),
        _ => common_cell(f, common, rows),
    }
}

fn common_cell<'a>(f: &'a Field, common: &Common, rows: u64) -> Cell<'a> {
    match f.var {
        Var::Text => f.text.as_deref().map_or(Cell::Empty, text),
        Var::PeriodFrom => Cell::Date(common.period.from),
        Var::PeriodTo => Cell::Date(common.period.to),
        Var::ExportDate => Cell::Date(common.export_date),
        Var::RecordCount => Cell::Int(rows as i64),
        _ => Cell::Empty,
    }
}

/// A total of a header or trailer field, exact at the field's decimals: the sum of the
/// values as they are written (rounded), so it adds up with the data records.
struct Total {
    units: i128,
    scale: u8,
}

impl Total {
    fn of(f: &Field) -> Total {
        Total { units: 0, scale: f.decimals.unwrap_or(default_decimals(f.var)) }
    }

    fn add(&mut self, f: &Field, b: Option<&Billed>) {
        let v = match (f.var, b) {
            (Var::TotalConsumption, Some(b)) => b.consumption,
            (Var::TotalValueEnd, Some(b)) => b.end.value,
            _ => None,
        };
        if let Some(v) = v {
            self.units += (v * 10f64.powi(i32::from(self.scale))).round() as i128;
        }
    }
}
