//! Export of readings to CSV: chosen columns, separator and decimal mark; the same output
//! for the export screen and `releve export`.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::model::Register;
use crate::store::{self, Store};
use chrono::{NaiveDate, TimeZone};
use serde::Serialize;
use std::io::Write;

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

#[derive(Debug, Clone)]
pub struct ExportSpec {
    /// Local dates, `to` included.
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub columns: Vec<Column>,
    pub separator: u8,
    pub decimal: char,
    pub group_id: Option<i64>,
}

impl ExportSpec {
    pub fn new(from: NaiveDate, to: NaiveDate) -> ExportSpec {
        ExportSpec { from, to, columns: Column::ALL.to_vec(), separator: b';', decimal: ',', group_id: None }
    }

    /// A file name for this export, e.g. `releve-2025-01-01_2025-01-31.csv`.
    pub fn file_name(&self) -> String {
        format!("releve-{}_{}.csv", self.from, self.to)
    }
}

/// Write the readings of the period as CSV to `out`; returns the number of data rows.
pub fn export_readings(store: &Store, session: &Session, spec: &ExportSpec, out: &mut dyn Write, now: i64) -> Result<u64> {
    let permit = session.permit(Permission::Export)?;
    if spec.to < spec.from {
        return Err(Error::bad_input("period", format!("the end {} is before the start {}", spec.to, spec.from)));
    }
    if spec.columns.is_empty() {
        return Err(Error::bad_input("columns", "choose at least one column"));
    }
    let conn = store.reader()?;
    let tz = crate::settings::timezone(&conn)?;
    let local_midnight = |d: NaiveDate| {
        d.and_hms_opt(0, 0, 0)
            .and_then(|n| tz.from_local_datetime(&n).earliest())
            .map(|t| t.timestamp())
            .ok_or_else(|| Error::bad_input("date", d.to_string()))
    };
    let from = local_midnight(spec.from)?;
    let to = local_midnight(spec.to + chrono::Duration::days(1))?;
    let mut writer = csv::WriterBuilder::new().delimiter(spec.separator).from_writer(out);
    writer.write_record(spec.columns.iter().map(|c| c.id()))?;
    let mut rows = 0u64;
    let mut events: (i64, Vec<store::info_codes::Event>) = (-1, Vec::new());
    let mut record: Vec<String> = Vec::with_capacity(spec.columns.len());
    let needs_codes = spec.columns.contains(&Column::InfoCodes);
    let needs_exchanges = spec.columns.contains(&Column::MeterExchange);
    let mut exchanges: (i64, Vec<store::meters::Exchange>) = (-1, Vec::new());
    store::readings::for_export(&conn, from, to, spec.group_id, &mut |r| {
        if needs_codes && events.0 != r.meter_id {
            events = (r.meter_id, store::info_codes::overlapping(&conn, r.meter_id, from, to)?);
        }
        if needs_exchanges && exchanges.0 != r.meter_id {
            exchanges = (r.meter_id, store::meters::exchanges_of(&conn, r.meter_id)?);
        }
        record.clear();
        for c in &spec.columns {
            record.push(match c {
                Column::CustomerNumber => r.customer_number.clone().unwrap_or_default(),
                Column::CustomerName => r.customer_name.clone().unwrap_or_default(),
                Column::MeterSerial => r.serial.clone(),
                Column::Manufacturer => r.manufacturer.clone(),
                Column::DeviceType => r.device_type.clone(),
                Column::Address => r.address.clone(),
                Column::PostalCode => r.postal_code.clone(),
                Column::City => r.city.clone(),
                Column::Timestamp => local_time(tz, r.ts),
                Column::Register => Register::from_code(r.register).map_or("?", |x| x.id()).to_string(),
                Column::Value => format_value(r.value, spec.decimal),
                Column::Unit => Register::from_code(r.register).map_or("", |x| x.unit()).to_string(),
                Column::InfoCodes => codes_at(&events.1, r.ts),
                Column::MeterExchange => exchange_at(&exchanges.1, r.meter_id, r.ts),
            });
        }
        writer.write_record(&record)?;
        rows += 1;
        Ok(())
    })?;
    writer.flush().map_err(|e| Error::io("export output", e))?;
    drop(conn);
    let details = format!("readings {} to {}: {rows} rows", spec.from, spec.to);
    store::audit::record_permit(&store.writer(), permit, now, "export", &details)?;
    Ok(rows)
}

fn local_time(tz: chrono_tz::Tz, ts: i64) -> String {
    match tz.timestamp_opt(ts, 0).single() {
        Some(t) => t.format("%Y-%m-%d %H:%M:%S").to_string(),
        None => ts.to_string(),
    }
}

/// Shortest exact decimal form, with the locale's decimal mark.
pub fn format_value(v: f64, decimal: char) -> String {
    let s = format!("{v}");
    if decimal == '.' {
        s
    } else {
        s.replace('.', &decimal.to_string())
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

fn codes_at(events: &[store::info_codes::Event], ts: i64) -> String {
    let mut codes: Vec<&str> = events
        .iter()
        .filter(|e| e.started_at <= ts && ts <= e.ended_at.unwrap_or(e.last_seen_at))
        .map(|e| e.code.as_str())
        .collect();
    codes.dedup();
    codes.join(" ")
}
