//! The open API, version 1 (`/api/v1/`): the table of operations (method, path, the command
//! it runs, its query, body and answer types), from which `releve serve` builds its routes
//! and [`openapi`] the OpenAPI 3.1 document. Each operation is a command of the table
//! `access::COMMANDS` (`v1_*`, with the scope an API key needs in `access::SCOPED`), run by
//! [`call`] with one call into `releve_core::open_api`.
//!
//! Arguments of an operation are `{path: {...}, query: {...}, body: {...}}`; the HTTP front
//! builds them from the request (query values typed by the operation's query schema).

mod docs;
mod exports;
pub mod openapi;

pub use docs::docs_html;
pub use exports::{ExportRun, Exports};

use crate::commands::ok;
use crate::{ApiError, Ctx};
use releve_core::access::Session;
use releve_core::open_api as core;
use schemars::JsonSchema;
use serde::de::DeserializeOwned;
use serde_json::{json, Value};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Method {
    Get,
    Post,
}

impl Method {
    pub fn as_str(self) -> &'static str {
        match self {
            Method::Get => "get",
            Method::Post => "post",
        }
    }
}

/// A type's JSON Schema, added to the generator's components.
pub type SchemaFn = fn(&mut schemars::SchemaGenerator) -> schemars::Schema;

fn schema<T: JsonSchema>(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    g.subschema_for::<T>()
}

/// A query type's schema inline (its properties become the query parameters).
fn query<T: JsonSchema>(g: &mut schemars::SchemaGenerator) -> schemars::Schema {
    g.root_schema_for::<T>()
}

/// What an operation answers on success.
#[derive(Clone, Copy)]
pub enum Answer {
    /// JSON of this type.
    Json(SchemaFn),
    /// A file (the billing file), its media type told by the run.
    File,
}

/// One operation of the open API.
pub struct Operation {
    /// The command it runs (`v1_*`): its permission, scope and audit are the table's.
    pub name: &'static str,
    pub method: Method,
    /// Under `/api/v1`, with `{param}` path parameters.
    pub path: &'static str,
    pub tag: &'static str,
    pub summary: &'static str,
    pub description: &'static str,
    /// Path parameters: (name, description).
    pub path_params: &'static [(&'static str, &'static str)],
    pub query: Option<SchemaFn>,
    pub body: Option<SchemaFn>,
    pub answer: Answer,
    /// The success status (200, 201, 202).
    pub status: u16,
}

/// Every operation, in the order the documentation lists them.
pub const OPERATIONS: &[Operation] = &[
    Operation {
        name: "v1_meters_list",
        method: Method::Get,
        path: "/meters",
        tag: "meters",
        summary: "List meters",
        description: "Meters by id, a page at a time (`after` = the previous page's `next`), filtered by status, type, group, city, customer, serial or alarm. A key limited to groups or one customer sees only those meters.",
        path_params: &[],
        query: Some(query::<core::MetersQuery>),
        body: None,
        answer: Answer::Json(schema::<core::MeterPage>),
        status: 200,
    },
    Operation {
        name: "v1_meter_get",
        method: Method::Get,
        path: "/meters/{serial}",
        tag: "meters",
        summary: "One meter, with the newest reading of each register",
        description: "A meter by serial (add `manufacturer` when two manufacturers' meters share it).",
        path_params: &[("serial", "The meter's serial number")],
        query: Some(query::<core::MeterQuery>),
        body: None,
        answer: Answer::Json(schema::<core::MeterWithRegisters>),
        status: 200,
    },
    Operation {
        name: "v1_meter_readings",
        method: Method::Get,
        path: "/meters/{serial}/readings",
        tag: "readings",
        summary: "A meter's readings or consumption over a period",
        description: "`resolution=raw`: every reading of a register (interval data: scope `intervals:read`), paged by `after`/`next`; `hour` (interval data), `day`, `month`: the consumption of each period (index registers) or the mean (power, temperatures). Over a meter exchange the installation's consumption continues.",
        path_params: &[("serial", "The meter's serial number")],
        query: Some(query::<core::ReadingsQuery>),
        body: None,
        answer: Answer::Json(schema::<core::ReadingsPage>),
        status: 200,
    },
    Operation {
        name: "v1_readings_feed",
        method: Method::Get,
        path: "/readings/feed",
        tag: "readings",
        summary: "Readings in the order they were stored, after a cursor",
        description: "The feed a billing system follows: each reading stored once appears once, late readings included (the cursor is the storing order, not the reading's time). Ask with `after` = the previous page's `next` until `more` is false, then poll again later or on the `readings.batch` webhook. A cursor older than the feed keeps (`retention_feed_days`) is answered 410 `cursor_expired`.",
        path_params: &[],
        query: Some(query::<core::FeedQuery>),
        body: None,
        answer: Answer::Json(schema::<core::ReadingFeedPage>),
        status: 200,
    },
    Operation {
        name: "v1_customers_list",
        method: Method::Get,
        path: "/customers",
        tag: "customers",
        summary: "List customers",
        description: "Customers by id, a page at a time, with the serials of their meters. Former occupants (moved out) are not listed.",
        path_params: &[],
        query: Some(query::<core::PageQuery>),
        body: None,
        answer: Answer::Json(schema::<core::CustomerPage>),
        status: 200,
    },
    Operation {
        name: "v1_customer_get",
        method: Method::Get,
        path: "/customers/{number}",
        tag: "customers",
        summary: "One customer",
        description: "A customer by number.",
        path_params: &[("number", "The customer's number")],
        query: None,
        body: None,
        answer: Answer::Json(schema::<core::Customer>),
        status: 200,
    },
    Operation {
        name: "v1_customer_consumption",
        method: Method::Get,
        path: "/customers/{number}/consumption",
        tag: "customers",
        summary: "A customer's consumption, for a consumer portal",
        description: "Per meter of the customer, the consumption per day or month (per hour: interval data, scope `intervals:read`), only while the customer occupied the meter.",
        path_params: &[("number", "The customer's number")],
        query: Some(query::<core::ConsumptionQuery>),
        body: None,
        answer: Answer::Json(schema::<core::CustomerConsumption>),
        status: 200,
    },
    Operation {
        name: "v1_info_codes_active",
        method: Method::Get,
        path: "/info-codes",
        tag: "info codes",
        summary: "Ongoing info codes",
        description: "Info codes (leak, burst, dry, reverse flow, tamper, low battery, ...) still ongoing, by meter; a page never splits a meter's codes.",
        path_params: &[],
        query: Some(query::<core::InfoCodesQuery>),
        body: None,
        answer: Answer::Json(schema::<core::InfoCodePage>),
        status: 200,
    },
    Operation {
        name: "v1_info_codes_feed",
        method: Method::Get,
        path: "/info-codes/feed",
        tag: "info codes",
        summary: "Info codes starting and ending, after a cursor",
        description: "Like the readings feed: each start and end once, in the order stored.",
        path_params: &[],
        query: Some(query::<core::FeedQuery>),
        body: None,
        answer: Answer::Json(schema::<core::InfoCodeFeedPage>),
        status: 200,
    },
    Operation {
        name: "v1_exchanges_list",
        method: Method::Get,
        path: "/exchanges",
        tag: "exchanges",
        summary: "Meter exchanges",
        description: "Exchanges by id, optionally within a period.",
        path_params: &[],
        query: Some(query::<core::ExchangesQuery>),
        body: None,
        answer: Answer::Json(schema::<core::ExchangePage>),
        status: 200,
    },
    Operation {
        name: "v1_exchange_create",
        method: Method::Post,
        path: "/exchanges",
        tag: "exchanges",
        summary: "Record a meter exchange done in the field",
        description: "The old meter's final index and the new meter's first one at the time of the exchange (the new meter is created if unknown and takes the old one's place, customer and groups). Refused like a clerk's exchange: a final index below the last reading, a time in the future or before the last reading, a serial in use.",
        path_params: &[],
        query: None,
        body: Some(schema::<core::NewExchange>),
        answer: Answer::Json(schema::<core::Exchange>),
        status: 201,
    },
    Operation {
        name: "v1_export_start",
        method: Method::Post,
        path: "/exports",
        tag: "exports",
        summary: "Start a billing export with a saved layout",
        description: "Runs the saved billing layout over a period in the background; poll `GET /exports/{id}` until `done`, then download the file. Not for keys limited to groups or a customer (a billing file covers the park).",
        path_params: &[],
        query: None,
        body: Some(schema::<exports::ExportRequest>),
        answer: Answer::Json(schema::<ExportRun>),
        status: 202,
    },
    Operation {
        name: "v1_export_get",
        method: Method::Get,
        path: "/exports/{id}",
        tag: "exports",
        summary: "A billing export's state",
        description: "`running`, `done` (with rows, file name, SHA-256) or `failed` (with the error). Runs are kept in memory until the server stops (the 32 newest).",
        path_params: &[("id", "The export's id")],
        query: None,
        body: None,
        answer: Answer::Json(schema::<ExportRun>),
        status: 200,
    },
    Operation {
        name: "v1_export_file",
        method: Method::Get,
        path: "/exports/{id}/file",
        tag: "exports",
        summary: "Download a billing export's file",
        description: "The file's bytes in the layout's encoding (CSV or fixed width); 409 `not_ready` while running.",
        path_params: &[("id", "The export's id")],
        query: None,
        body: None,
        answer: Answer::File,
        status: 200,
    },
];

/// The operation of command `name`.
pub fn operation(name: &str) -> Option<&'static Operation> {
    OPERATIONS.iter().find(|o| o.name == name)
}

/// The names of the commands this module runs.
pub fn is_v1(name: &str) -> bool {
    operation(name).is_some()
}

fn part<T: DeserializeOwned>(args: &Value, part: &str) -> Result<T, ApiError> {
    let v = args.get(part).cloned().unwrap_or_else(|| json!({}));
    let v = if v.is_null() { json!({}) } else { v };
    serde_json::from_value(v).map_err(|e| ApiError::new("bad_input", format!("{part}: {e}")).with_params(json!({"field": part})))
}

/// A path parameter (bounded: 200 characters).
fn path(args: &Value, name: &str) -> Result<String, ApiError> {
    let v = args.get("path").and_then(|p| p.get(name)).and_then(Value::as_str).ok_or_else(|| ApiError::bad_input(name, "missing"))?;
    if v.is_empty() || v.chars().count() > 200 {
        return Err(ApiError::bad_input(name, "1 to 200 characters"));
    }
    Ok(v.to_string())
}

/// Run operation `name` for `session` (authorised already).
pub(crate) fn call(ctx: &Ctx, session: &Session, name: &str, args: Value, now: i64) -> Result<Value, ApiError> {
    let store = ctx.store();
    match name {
        "v1_meters_list" => ok(core::meters(store, session, &part(&args, "query")?)?),
        "v1_meter_get" => {
            let q: core::MeterQuery = part(&args, "query")?;
            ok(core::meter(store, session, &path(&args, "serial")?, q.manufacturer.as_deref())?)
        }
        "v1_meter_readings" => ok(core::readings(store, session, &path(&args, "serial")?, &part(&args, "query")?)?),
        "v1_readings_feed" => ok(core::readings_feed(store, session, &part(&args, "query")?)?),
        "v1_customers_list" => ok(core::customers(store, session, &part(&args, "query")?)?),
        "v1_customer_get" => ok(core::customer(store, session, &path(&args, "number")?)?),
        "v1_customer_consumption" => ok(core::customer_consumption(store, session, &path(&args, "number")?, &part(&args, "query")?)?),
        "v1_info_codes_active" => ok(core::info_codes_active(store, session, &part(&args, "query")?)?),
        "v1_info_codes_feed" => ok(core::info_codes_feed(store, session, &part(&args, "query")?)?),
        "v1_exchanges_list" => ok(core::exchanges(store, session, &part(&args, "query")?)?),
        "v1_exchange_create" => ok(core::exchange_create(store, session, &part(&args, "body")?, now)?),
        "v1_export_start" => ok(ctx.exports.start(ctx, session, part(&args, "body")?)?),
        "v1_export_get" => ok(ctx.exports.get(session, &path(&args, "id")?)?),
        "v1_export_file" => {
            let file = ctx.exports.file(session, &path(&args, "id")?)?;
            ok(json!({
                "file_name": file.file_name,
                "media_type": file.media_type,
                "content_base64": base64::Engine::encode(&base64::engine::general_purpose::STANDARD, file.bytes.as_slice()),
            }))
        }
        _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
    }
}
