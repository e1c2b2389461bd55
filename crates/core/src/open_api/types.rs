//! The open API's request and response shapes. Their JSON Schemas (schemars) are the
//! OpenAPI document's components: what is written here is what is documented.

use schemars::JsonSchema;
use serde::{Deserialize, Serialize};

/// Paging of a list: `after` is the `next` of the previous page.
#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct PageQuery {
    /// The cursor of the previous page (`next`); omitted: from the start.
    #[schemars(range(min = 0))]
    pub after: Option<i64>,
    /// Items per page (1 to 1,000; default 100).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<usize>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MetersQuery {
    /// The `next` of the previous page; omitted: from the start.
    #[schemars(range(min = 0))]
    pub after: Option<i64>,
    /// Items per page (1 to 1,000; default 100).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<usize>,
    /// `active`, `unassigned` or `removed`.
    #[schemars(extend("enum" = ["active", "unassigned", "removed"]))]
    pub status: Option<String>,
    /// `water`, `heat`, `electricity`, ...
    pub device_type: Option<String>,
    /// A group's name.
    pub group: Option<String>,
    pub city: Option<String>,
    /// A customer's number.
    pub customer: Option<String>,
    pub serial: Option<String>,
    /// Only meters with (true) or without (false) an ongoing info code.
    pub alarm: Option<bool>,
}

/// A meter of the park.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Meter {
    pub serial: String,
    pub manufacturer: String,
    pub device_type: String,
    pub model: String,
    /// `active`, `unassigned` or `removed`.
    pub status: String,
    /// The customer's number.
    pub customer: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    #[schemars(extend("format" = "date-time"))]
    pub installed_at: Option<String>,
    #[schemars(extend("format" = "date-time"))]
    pub removed_at: Option<String>,
    /// The time of its newest reading.
    #[schemars(extend("format" = "date-time"))]
    pub last_seen: Option<String>,
    /// Ongoing info codes (`leak`, `burst`, `dry`, `reverse`, `tamper`, `low_battery`, ...).
    pub info_codes: Vec<String>,
}

/// A page of meters; `next` (absent on the last page) is the `after` of the next one.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MeterPage {
    pub items: Vec<Meter>,
    pub next: Option<i64>,
}

/// The newest reading of a register.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct LastValue {
    pub register: String,
    pub unit: String,
    #[schemars(extend("format" = "date-time"))]
    pub time: String,
    pub value: f64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MeterWithRegisters {
    #[serde(flatten)]
    pub meter: Meter,
    /// The newest reading of each register the meter has.
    pub registers: Vec<LastValue>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MeterQuery {
    /// Needed only when meters of two manufacturers share the serial.
    pub manufacturer: Option<String>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadingsQuery {
    pub manufacturer: Option<String>,
    /// `volume`, `energy`, `a_plus`, ... (default: the meter's main index).
    pub register: Option<String>,
    /// A local date (`2026-01-01`) or a date-time with offset (`2026-01-01T06:00:00+01:00`),
    /// years 1970 to 9999. `from`, `to` or both: one alone gives a period of 31 days; at most
    /// 3,700 days.
    #[schemars(extend("format" = "date"), example = &"2026-10-01")]
    pub from: Option<String>,
    /// A local date (included) or a date-time with offset (excluded), after `from`.
    #[schemars(extend("format" = "date"), example = &"2026-10-31")]
    pub to: Option<String>,
    /// `raw` (every reading: interval data, scope `intervals:read`), `hour` (consumption per
    /// hour: interval data), `day` (default) or `month`.
    #[schemars(extend("enum" = ["raw", "hour", "day", "month"]))]
    pub resolution: Option<String>,
    /// `raw` only: the `next` of the previous page.
    #[schemars(range(min = 0))]
    pub after: Option<i64>,
    /// `raw` only: readings per page (1 to 10,000; default 1,000).
    #[schemars(range(min = 1, max = 10000))]
    pub limit: Option<usize>,
}

/// A value at a time: a reading (`raw`) or the consumption of the period starting then
/// (null: no reading to tell).
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct Point {
    #[schemars(extend("format" = "date-time"))]
    pub time: String,
    pub value: Option<f64>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReadingsPage {
    pub serial: String,
    pub manufacturer: String,
    pub register: String,
    pub unit: String,
    pub resolution: String,
    /// `index` (raw readings), `consumption` (growth per period) or `instantaneous` (mean
    /// per period: power, temperatures).
    pub kind: String,
    pub items: Vec<Point>,
    /// `raw` only, absent on the last page.
    pub next: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FeedQuery {
    /// The `next` of the previous page; omitted: from the oldest item the feed keeps.
    #[schemars(range(min = 0))]
    pub after: Option<i64>,
    /// Items per page (1 to 10,000; default 1,000).
    #[schemars(range(min = 1, max = 10000))]
    pub limit: Option<usize>,
}

/// A reading as stored, with its place in the feed.
#[derive(Debug, Clone, Serialize, JsonSchema, PartialEq)]
pub struct FeedReading {
    /// Its place in the feed (storing order).
    pub cursor: i64,
    pub serial: String,
    pub manufacturer: String,
    pub register: String,
    pub unit: String,
    /// The reading's time.
    #[schemars(extend("format" = "date-time"))]
    pub time: String,
    pub value: f64,
    /// When Relevé stored it.
    #[schemars(extend("format" = "date-time"))]
    pub stored_at: String,
}

/// A page of the readings feed. Ask again with `after` = `next`; `more` says whether more is
/// stored already (otherwise poll later, or follow the `readings.batch` webhook).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ReadingFeedPage {
    pub items: Vec<FeedReading>,
    pub next: i64,
    pub more: bool,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InfoCodesQuery {
    /// The `next` of the previous page; omitted: from the start.
    #[schemars(range(min = 0))]
    pub after: Option<i64>,
    /// Items per page (1 to 1,000; default 100).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<usize>,
    /// Only this code.
    #[schemars(extend("enum" = ["leak", "burst", "dry", "reverse", "tamper", "low_battery", "permanent_error", "temporary_error", "silent"]))]
    pub code: Option<String>,
}

/// An ongoing info code of a meter.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InfoCode {
    pub serial: String,
    pub manufacturer: String,
    pub code: String,
    #[schemars(extend("format" = "date-time"))]
    pub started_at: String,
    #[schemars(extend("format" = "date-time"))]
    pub last_seen_at: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InfoCodePage {
    pub items: Vec<InfoCode>,
    pub next: Option<i64>,
}

/// An info code starting or ending.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InfoCodeEvent {
    pub cursor: i64,
    pub serial: String,
    pub manufacturer: String,
    pub code: String,
    /// `start` or `end`.
    pub event: String,
    #[schemars(extend("format" = "date-time"))]
    pub started_at: String,
    /// When it started or ended.
    #[schemars(extend("format" = "date-time"))]
    pub at: String,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct InfoCodeFeedPage {
    pub items: Vec<InfoCodeEvent>,
    pub next: i64,
    pub more: bool,
}

/// A customer (personal data: scope `customers:read`).
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Customer {
    pub number: String,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// Serials of the customer's meters.
    pub meters: Vec<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerPage {
    pub items: Vec<Customer>,
    pub next: Option<i64>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ConsumptionQuery {
    /// A local date or a date-time with offset, years 1970 to 9999. `from`, `to` or both: one
    /// alone gives a period of 31 days; at most 3,700 days.
    #[schemars(extend("format" = "date"), example = &"2026-01-01")]
    pub from: Option<String>,
    /// A local date (included) or a date-time with offset (excluded), after `from`.
    #[schemars(extend("format" = "date"), example = &"2026-10-31")]
    pub to: Option<String>,
    /// `day`, `month` (default) or `hour` (interval data, scope `intervals:read`).
    #[schemars(extend("enum" = ["hour", "day", "month"]))]
    pub resolution: Option<String>,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct MeterConsumption {
    pub serial: String,
    pub manufacturer: String,
    pub register: String,
    pub unit: String,
    pub kind: String,
    pub items: Vec<Point>,
}

/// A customer's consumption for a portal: per meter, only while the customer lived there.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct CustomerConsumption {
    pub customer: String,
    pub resolution: String,
    #[schemars(extend("format" = "date-time"))]
    pub from: String,
    #[schemars(extend("format" = "date-time"))]
    pub to: String,
    pub meters: Vec<MeterConsumption>,
}

#[derive(Debug, Clone, Default, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ExchangesQuery {
    /// The `next` of the previous page; omitted: from the start.
    #[schemars(range(min = 0))]
    pub after: Option<i64>,
    /// Items per page (1 to 1,000; default 100).
    #[schemars(range(min = 1, max = 1000))]
    pub limit: Option<usize>,
    /// A local date or a date-time with offset.
    #[schemars(extend("format" = "date"))]
    pub from: Option<String>,
    /// A local date (included) or a date-time with offset (excluded).
    #[schemars(extend("format" = "date"))]
    pub to: Option<String>,
}

/// A meter exchange: the old meter's final reading and the new one's first.
#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct Exchange {
    pub id: i64,
    pub old_serial: String,
    pub old_manufacturer: String,
    pub new_serial: String,
    pub new_manufacturer: String,
    #[schemars(extend("format" = "date-time"))]
    pub at: String,
    pub register: String,
    pub final_value: f64,
    pub initial_value: f64,
}

#[derive(Debug, Clone, Serialize, JsonSchema)]
pub struct ExchangePage {
    pub items: Vec<Exchange>,
    pub next: Option<i64>,
}

/// An exchange performed in the field, as a billing system records it.
#[derive(Debug, Clone, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct NewExchange {
    #[schemars(example = &"13779384")]
    pub old_serial: String,
    /// Needed only when meters of two manufacturers share the serial.
    #[schemars(example = &"KAM")]
    pub old_manufacturer: Option<String>,
    /// The new meter (created when unknown).
    #[schemars(example = &"13779999")]
    pub new_serial: String,
    /// Default: the old meter's.
    pub new_manufacturer: Option<String>,
    /// When it was exchanged (date-time with offset).
    #[schemars(extend("format" = "date-time"), example = &"2026-11-20T12:00:00+01:00")]
    pub at: String,
    /// The old meter's last index.
    #[schemars(range(min = 0), example = 17700.0)]
    pub final_value: f64,
    /// The new meter's first index.
    #[schemars(range(min = 0), example = 0.0)]
    pub initial_value: f64,
}
