//! The meter screen's commands: the readings table (`meter_readings`), a reading entered
//! (`meter_reading_add`) or corrected (`meter_reading_correct`) by hand, the meter and its
//! customer edited (`meter_update`, `customer_update`, `customers_search`). See COMMANDS.md,
//! "Meter screen".

use crate::bounds::{amount, id, range, Bounded, MAX_ID};
use crate::commands::{date, ok, parse};
use crate::ApiError;
use releve_core::access::Session;
use releve_core::meter_screen::{self as screen, CustomerUpdate, MeterUpdate, ReadingCorrection, ReadingEntry, ReadingsQuery};
use releve_core::Store;
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) const NAMES: [&str; 7] = [
    "customer_update",
    "customers_search",
    "meter_reading_add",
    "meter_reading_correct",
    "meter_readings",
    "meter_readings_export",
    "meter_update",
];

#[derive(Deserialize)]
struct ReadingsArgs {
    id: i64,
    register: Option<String>,
    from: Option<String>,
    to: Option<String>,
    before: Option<i64>,
    limit: Option<i64>,
}

impl Bounded for ReadingsArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)?;
        if let Some(b) = self.before {
            range("before", b, -MAX_ID, MAX_ID)?;
        }
        self.limit.map_or(Ok(()), |l| range("limit", l, 1, screen::MAX_PAGE))
    }
}

#[derive(Deserialize)]
struct ExportArgs {
    #[serde(flatten)]
    q: ReadingsArgs,
    separator: Option<String>,
    decimal: Option<String>,
    encoding: Option<releve_core::billing::Encoding>,
    #[serde(default)]
    french: bool,
}

impl Bounded for ExportArgs {
    fn check(&self) -> Result<(), ApiError> {
        self.q.check()
    }
}

fn query(a: ReadingsArgs) -> Result<ReadingsQuery, ApiError> {
    Ok(ReadingsQuery {
        meter_id: a.id,
        register: a.register,
        from: a.from.as_deref().filter(|s| !s.is_empty()).map(|s| date("from", s)).transpose()?,
        to: a.to.as_deref().filter(|s| !s.is_empty()).map(|s| date("to", s)).transpose()?,
        before: a.before,
        limit: a.limit.unwrap_or(100),
    })
}

/// The readings export's separator (`;` default, `,`, `tab`) and decimal mark (`,` unless the separator is).
fn csv_options(a: &ExportArgs) -> Result<screen::CsvOptions, ApiError> {
    let separator = match a.separator.as_deref() {
        None | Some(";") => b';',
        Some(",") => b',',
        Some("tab") | Some("\t") => b'\t',
        Some(other) => return Err(ApiError::new("bad_input", format!("separator '{other}' is not one of ; , tab"))),
    };
    let decimal = match a.decimal.as_deref() {
        Some(",") => ',',
        Some(".") => '.',
        None => if separator == b',' { '.' } else { ',' },
        Some(other) => return Err(ApiError::new("bad_input", format!("decimal mark '{other}' is not . or ,"))),
    };
    if separator == b',' && decimal == ',' {
        return Err(ApiError::new("bad_input", "the decimal mark cannot be the separator"));
    }
    Ok(screen::CsvOptions { encoding: a.encoding.unwrap_or_default(), separator, decimal, french: a.french })
}

#[derive(Deserialize)]
struct AddArgs {
    id: i64,
    register: Option<String>,
    /// Local time `YYYY-MM-DDTHH:MM`.
    at: String,
    value: f64,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: bool,
}

impl Bounded for AddArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)?;
        amount("value", self.value)
    }
}

#[derive(Deserialize)]
struct CorrectArgs {
    id: i64,
    register: Option<String>,
    ts: i64,
    value: f64,
    #[serde(default)]
    reason: String,
    #[serde(default)]
    confirm: bool,
}

impl Bounded for CorrectArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)?;
        range("ts", self.ts, -MAX_ID, MAX_ID)?;
        amount("value", self.value)
    }
}

#[derive(Deserialize)]
struct UpdateArgs {
    id: i64,
    #[serde(default)]
    address: String,
    #[serde(default)]
    postal_code: String,
    #[serde(default)]
    city: String,
    lat: Option<f64>,
    lon: Option<f64>,
    #[serde(default)]
    customer_number: String,
    status: String,
    #[serde(default)]
    notes: String,
}

impl Bounded for UpdateArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)
    }
}

#[derive(Deserialize)]
struct CustomerArgs {
    id: i64,
    number: String,
    name: String,
    #[serde(default)]
    email: String,
    #[serde(default)]
    phone: String,
}

impl Bounded for CustomerArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)
    }
}

#[derive(Deserialize)]
struct SearchArgs {
    #[serde(default)]
    search: String,
    limit: Option<i64>,
}

impl Bounded for SearchArgs {
    fn check(&self) -> Result<(), ApiError> {
        self.limit.map_or(Ok(()), |l| range("limit", l, 1, 50))
    }
}

fn local_time(s: &str) -> Result<chrono::NaiveDateTime, ApiError> {
    chrono::NaiveDateTime::parse_from_str(s.trim(), "%Y-%m-%dT%H:%M").map_err(|_| {
        ApiError::new("bad_input", format!("at: '{s}' is not a time like 2025-01-31T14:30"))
            .with_params(json!({"field": "at", "reason": "not_a_time", "value": s}))
    })
}

/// Run the meter screen's command `name`, or `None` when it is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    Some(match name {
        "meter_readings" => parse::<ReadingsArgs>(args).and_then(|a| ok(screen::meter_readings(store, session, &query(a)?)?)),
        "meter_readings_export" => parse::<ExportArgs>(args).and_then(|a| {
            let o = csv_options(&a)?;
            let csv = screen::meter_readings_export(store, session, &query(a.q)?, &o, now)?;
            let content_base64 = base64::Engine::encode(&base64::engine::general_purpose::STANDARD, &csv.bytes);
            ok(json!({"filename": csv.file_name, "rows": csv.rows, "truncated": csv.truncated, "content": o.encoding.decode(&csv.bytes),
                      "content_base64": content_base64, "encoding": o.encoding}))
        }),
        "meter_reading_add" => parse::<AddArgs>(args).and_then(|a| {
            let e = ReadingEntry { meter_id: a.id, register: a.register.as_deref(), at: local_time(&a.at)?, value: a.value, reason: &a.reason, confirm: a.confirm };
            ok(screen::meter_reading_add(store, session, &e, now)?)
        }),
        "meter_reading_correct" => parse::<CorrectArgs>(args).and_then(|a| {
            let c = ReadingCorrection { meter_id: a.id, register: a.register.as_deref(), ts: a.ts, value: a.value, reason: &a.reason, confirm: a.confirm };
            ok(screen::meter_reading_correct(store, session, &c, now)?)
        }),
        "meter_update" => parse::<UpdateArgs>(args).and_then(|a| {
            let u = MeterUpdate {
                id: a.id,
                address: &a.address,
                postal_code: &a.postal_code,
                city: &a.city,
                lat: a.lat,
                lon: a.lon,
                customer_number: &a.customer_number,
                status: &a.status,
                notes: &a.notes,
            };
            ok(screen::meter_update(store, session, &u, now)?)
        }),
        "customer_update" => parse::<CustomerArgs>(args).and_then(|a| {
            let u = CustomerUpdate { id: a.id, number: &a.number, name: &a.name, email: &a.email, phone: &a.phone };
            ok(json!({ "changed": screen::customer_update(store, session, &u, now)? }))
        }),
        "customers_search" => parse::<SearchArgs>(args).and_then(|a| ok(screen::customers_search(store, session, &a.search, a.limit.unwrap_or(20))?)),
        _ => return None,
    })
}
