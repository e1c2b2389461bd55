//! What a clerk is told when a request is refused: a stable code and the typed values a front
//! needs to word it (`{code: "final_below_last", params: {meter, final, last, unit, ...}}`).
//! The UI words them in the clerk's language (ui/i18n.js `errorText`) with local numbers and
//! dates; `Display` is the English wording, for logs and the CLI. Values are values (numbers,
//! Unix seconds), never text already formatted.

use serde::Serialize;

/// A refusal with its own code (`Error::Refused`): the code is the variant's snake_case name.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "code", rename_all = "snake_case")]
pub enum Problem {
    /// An exchange whose final reading of the old meter is below its last stored reading.
    #[error("meter {meter}: final reading {} {unit} is below its last reading {} {unit}", num(*final_value), num(*last))]
    FinalBelowLast {
        meter: String,
        #[serde(rename = "final")]
        final_value: f64,
        last: f64,
        /// When the last reading was taken (Unix seconds).
        last_at: i64,
        unit: &'static str,
    },
    /// A meter reading (an exchange's final or initial value) that is negative or not a number.
    #[error("meter {meter}: the {} must be a number of at least 0", reading_words(field))]
    NegativeReading { meter: String, field: &'static str },
    /// An exchange dated after now.
    #[error("meter {meter}: the exchange time is in the future")]
    ExchangeInFuture { meter: String, at: i64 },
    /// An exchange dated before the old meter's last reading (`last_at`).
    #[error("meter {meter}: the exchange time is before its last reading")]
    ExchangeBeforeLastReading { meter: String, at: i64, last_at: i64 },
    /// A local time that the clocks skip (spring forward) in the utility's time zone.
    #[error("{at} does not exist in {timezone}")]
    NoSuchLocalTime { at: String, timezone: String },
    /// An exchange of a meter that is already removed.
    #[error("meter {meter} was already removed")]
    MeterAlreadyRemoved { meter: String },
    /// An exchange whose new meter is the old one.
    #[error("meter {meter} cannot replace itself")]
    ReplacesItself { meter: String },
    /// The new meter's serial belongs to a meter already in use (`status`, at `place`).
    #[error("meter {serial} is {status} ({}), only a new or unassigned meter can replace meter {meter}", if place.is_empty() { "no address" } else { place })]
    SerialInUse { serial: String, status: String, place: String, meter: String },
    /// The new meter is known with another device type than the old one.
    #[error("meter {serial} is a {device_type} meter, meter {meter} a {meter_device_type} meter")]
    OtherDeviceType { serial: String, device_type: String, meter: String, meter_device_type: String },
    #[error("the group needs a name")]
    GroupNameEmpty,
    #[error("a group name has at most {max} characters")]
    GroupNameTooLong { max: usize },
    #[error("a group named '{name}' already exists")]
    GroupNameTaken { name: String },
    /// A feature that needs a setting nobody made yet (`smtp`, `sms`, `map_tiles`, ...): a 4xx
    /// saying what to configure, never a 500.
    #[error("{} is not configured: a manager sets it under Settings", setting_words(setting))]
    NotConfigured { setting: &'static str },
    /// An API key that is not (or no longer) valid: `reason` is `unknown`, `revoked` or
    /// `expired`; `missing` when the request carries none.
    #[error("API key refused: {reason}")]
    WrongApiKey { reason: &'static str },
    /// The API key lacks the scope the operation needs.
    #[error("the API key '{key}' does not have the scope '{scope}'")]
    ScopeMissing { key: String, scope: &'static str },
    /// More calls than the key's rate allows: try again after `retry_after` seconds.
    #[error("too many calls with API key '{key}': try again in {retry_after} s")]
    RateLimited { key: String, retry_after: i64 },
    /// A feed cursor older than what the feed keeps (`retention_feed_days`): `oldest` is the
    /// oldest cursor still served; read the resource itself to catch up.
    #[error("the cursor {cursor} is older than the feed keeps (oldest: {oldest})")]
    CursorExpired { cursor: i64, oldest: i64 },
    /// An API key name already used by another key.
    #[error("an API key named '{name}' already exists")]
    ApiKeyNameTaken { name: String },
    /// A file's character set cannot write a character of line `line` (1 = the column
    /// titles), column `column` (meter `meter`).
    #[error("line {line}, column {column} (meter {meter}): '{character}' cannot be written in {encoding}")]
    NotEncodable { line: u64, column: &'static str, meter: String, character: char, encoding: &'static str },
    /// A value of a meter's form refused (`reason`, as `Error::Invalid`'s), naming the meter:
    /// worded like any `bad_input`.
    #[error("meter {meter}: {field}: {reason}")]
    MeterField {
        meter: String,
        field: &'static str,
        #[serde(skip)]
        reason: Reason,
    },
    /// A value of a customer's form refused, naming the customer (its number).
    #[error("customer {customer}: {field}: {reason}")]
    CustomerField {
        customer: String,
        field: &'static str,
        #[serde(skip)]
        reason: Reason,
    },
    /// A reading entered or corrected later than now plus the clock skew allowed.
    #[error("meter {meter}: the reading time is in the future")]
    ReadingInFuture { meter: String, at: i64 },
    /// An index lower than the reading before it (an index does not go backwards unless the
    /// meter was reset or exchanged): sent again with `confirm` to keep it.
    #[error("meter {meter}: {} {unit} is below the previous reading {} {unit}", num(*value), num(*previous))]
    ReadingBelowPrevious { meter: String, value: f64, previous: f64, previous_at: i64, unit: &'static str },
    /// An index higher than the reading after it: sent again with `confirm` to keep it.
    #[error("meter {meter}: {} {unit} is above the next reading {} {unit}", num(*value), num(*next))]
    ReadingAboveNext { meter: String, value: f64, next: f64, next_at: i64, unit: &'static str },
    /// A manual reading at a time that already has one: correct that one instead.
    #[error("meter {meter} already has a reading at that time ({} {unit}): correct it instead", num(*value))]
    ReadingExists { meter: String, at: i64, value: f64, unit: &'static str },
    /// A correction of a reading that is not stored.
    #[error("meter {meter} has no reading at that time")]
    NoSuchReading { meter: String, at: i64 },
    /// A customer number no customer has.
    #[error("meter {meter}: no customer numbered {number}")]
    NoSuchCustomer { meter: String, number: String },
    /// A customer number already given to another customer.
    #[error("another customer is numbered {number}")]
    CustomerNumberTaken { number: String },
    /// A status change of a removed meter (removal is final: exchanges point at it).
    #[error("meter {meter} is removed: its status cannot change")]
    MeterRemoved { meter: String },
}

impl Problem {
    /// The stable code (the serialised tag).
    pub fn code(&self) -> &'static str {
        match self {
            Problem::FinalBelowLast { .. } => "final_below_last",
            Problem::NegativeReading { .. } => "negative_reading",
            Problem::ExchangeInFuture { .. } => "exchange_in_future",
            Problem::ExchangeBeforeLastReading { .. } => "exchange_before_last_reading",
            Problem::NoSuchLocalTime { .. } => "no_such_local_time",
            Problem::MeterAlreadyRemoved { .. } => "meter_already_removed",
            Problem::ReplacesItself { .. } => "replaces_itself",
            Problem::SerialInUse { .. } => "serial_in_use",
            Problem::OtherDeviceType { .. } => "other_device_type",
            Problem::GroupNameEmpty => "group_name_empty",
            Problem::GroupNameTooLong { .. } => "group_name_too_long",
            Problem::GroupNameTaken { .. } => "group_name_taken",
            Problem::NotConfigured { .. } => "not_configured",
            Problem::WrongApiKey { .. } => "wrong_api_key",
            Problem::ScopeMissing { .. } => "scope_missing",
            Problem::RateLimited { .. } => "rate_limited",
            Problem::CursorExpired { .. } => "cursor_expired",
            Problem::ApiKeyNameTaken { .. } => "api_key_name_taken",
            Problem::NotEncodable { .. } => "not_encodable",
            Problem::MeterField { .. } | Problem::CustomerField { .. } => "bad_input",
            Problem::ReadingInFuture { .. } => "reading_in_future",
            Problem::ReadingBelowPrevious { .. } => "reading_below_previous",
            Problem::ReadingAboveNext { .. } => "reading_above_next",
            Problem::ReadingExists { .. } => "reading_exists",
            Problem::NoSuchReading { .. } => "no_such_reading",
            Problem::NoSuchCustomer { .. } => "no_such_customer",
            Problem::CustomerNumberTaken { .. } => "customer_number_taken",
            Problem::MeterRemoved { .. } => "meter_removed",
        }
    }

    /// The field of the request the problem is about, when one is (for a form to mark it).
    pub fn field(&self) -> Option<&'static str> {
        match self {
            Problem::FinalBelowLast { .. } => Some("final_value"),
            Problem::NegativeReading { field, .. } => Some(field),
            Problem::ExchangeInFuture { .. } | Problem::ExchangeBeforeLastReading { .. } | Problem::NoSuchLocalTime { .. } => Some("at"),
            Problem::MeterAlreadyRemoved { .. } => Some("old_id"),
            Problem::ReplacesItself { .. } | Problem::SerialInUse { .. } | Problem::OtherDeviceType { .. } => Some("new_serial"),
            Problem::GroupNameEmpty | Problem::GroupNameTooLong { .. } | Problem::GroupNameTaken { .. } => Some("name"),
            Problem::ApiKeyNameTaken { .. } => Some("name"),
            Problem::CursorExpired { .. } => Some("after"),
            Problem::NotEncodable { .. } => Some("encoding"),
            Problem::MeterField { field, .. } | Problem::CustomerField { field, .. } => Some(field),
            Problem::ReadingInFuture { .. } | Problem::ReadingExists { .. } | Problem::NoSuchReading { .. } => Some("at"),
            Problem::ReadingBelowPrevious { .. } | Problem::ReadingAboveNext { .. } => Some("value"),
            Problem::NoSuchCustomer { .. } => Some("customer_number"),
            Problem::CustomerNumberTaken { .. } => Some("number"),
            Problem::MeterRemoved { .. } => Some("status"),
            Problem::NotConfigured { .. } | Problem::WrongApiKey { .. } | Problem::ScopeMissing { .. } | Problem::RateLimited { .. } => None,
        }
    }

    /// The values a front words the problem with (the fields, and `field` when there is one).
    pub fn params(&self) -> serde_json::Map<String, serde_json::Value> {
        let mut map = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        map.remove("code");
        if let Problem::MeterField { reason, field, .. } | Problem::CustomerField { reason, field, .. } = self {
            map.extend(reason.params(field));
        }
        if let Some(field) = self.field() {
            map.entry("field").or_insert_with(|| field.into());
        }
        map
    }
}

/// Why a value is refused (`Error::Invalid`, code `bad_input`): the reason is the tag.
#[derive(Debug, Clone, PartialEq, Serialize, thiserror::Error)]
#[serde(tag = "reason", rename_all = "snake_case")]
pub enum Reason {
    #[error("a value is needed")]
    Required,
    #[error("at most {max} characters")]
    TooLong { max: usize },
    #[error("'{value}' is not a number")]
    NotANumber { value: String },
    #[error("{value} is not between {min} and {max}")]
    OutOfRange { value: f64, min: f64, max: f64 },
    #[error("'{value}' is not a date (YYYY-MM-DD)")]
    NotADate { value: String },
    #[error("unknown value '{value}'; allowed: {}", allowed.join(", "))]
    Unknown { value: String, allowed: Vec<String> },
    /// Needed since `other` is given (a latitude needs its longitude, a meter its serial).
    #[error("needed with {other}")]
    NeededWith { other: String },
    /// A period that ends before it starts (local dates `YYYY-MM-DD`).
    #[error("the period ends ({to}) before it starts ({from})")]
    EndsBeforeStart { from: String, to: String },
    /// A line that cannot be read at all (`detail`: the reader's words, in English).
    #[error("unreadable: {detail}")]
    Unreadable { detail: String },
    /// A customer who moved out (now a pseudonym): an old file naming it again must not bring
    /// its name, address or meters back.
    #[error("customer {number} has moved out: a former occupant's data is not brought back")]
    MovedOut { number: String },
    /// A time that must be later than now (an API key's expiry), `at` Unix seconds.
    #[error("{at} (Unix time) is not in the future")]
    NotInFuture { at: i64 },
}

impl Reason {
    pub fn code(&self) -> &'static str {
        match self {
            Reason::Required => "required",
            Reason::TooLong { .. } => "too_long",
            Reason::NotANumber { .. } => "not_a_number",
            Reason::OutOfRange { .. } => "out_of_range",
            Reason::NotADate { .. } => "not_a_date",
            Reason::Unknown { .. } => "unknown",
            Reason::NeededWith { .. } => "needed_with",
            Reason::Unreadable { .. } => "unreadable",
            Reason::EndsBeforeStart { .. } => "ends_before_start",
            Reason::MovedOut { .. } => "moved_out",
            Reason::NotInFuture { .. } => "not_in_future",
        }
    }

    /// `{field, reason, ...}` for the boundary.
    pub fn params(&self, field: &str) -> serde_json::Map<String, serde_json::Value> {
        let mut map = match serde_json::to_value(self) {
            Ok(serde_json::Value::Object(m)) => m,
            _ => serde_json::Map::new(),
        };
        map.insert("field".into(), field.into());
        map
    }
}

/// A value as people write it: 11.0, 10.25.
pub fn num(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 {
        format!("{v:.1}")
    } else {
        format!("{v}")
    }
}

fn reading_words(field: &str) -> &'static str {
    match field {
        "final_value" => "final reading",
        "initial_value" => "initial reading",
        _ => "reading",
    }
}

fn setting_words(setting: &str) -> &'static str {
    match setting {
        "smtp" => "the mail server (SMTP)",
        "sms" => "the SMS gateway",
        "map_tiles" => "the map tile server",
        "c806" => "the C8/06 gateway",
        _ => "a setting",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The code is the tag, the params the fields plus the field of the request.
    #[test]
    fn params_are_the_typed_values_and_the_field() {
        let p = Problem::FinalBelowLast { meter: "76193787".into(), final_value: 1.0, last: 1158.684, last_at: 1_700_000_000, unit: "m3" };
        assert_eq!(p.code(), "final_below_last");
        assert_eq!(
            serde_json::Value::Object(p.params()),
            serde_json::json!({"meter": "76193787", "final": 1.0, "last": 1158.684, "last_at": 1_700_000_000, "unit": "m3", "field": "final_value"})
        );
        assert_eq!(p.to_string(), "meter 76193787: final reading 1.0 m3 is below its last reading 1158.684 m3");
        assert_eq!(serde_json::to_value(Problem::GroupNameEmpty).expect("json")["code"], "group_name_empty");
        // Every code is its serialised tag (the UI's key).
        let all = [
            p.clone(),
            Problem::NegativeReading { meter: "m".into(), field: "final_value" },
            Problem::ExchangeInFuture { meter: "m".into(), at: 1 },
            Problem::ExchangeBeforeLastReading { meter: "m".into(), at: 1, last_at: 2 },
            Problem::NoSuchLocalTime { at: "2026-03-29 02:30".into(), timezone: "Europe/Paris".into() },
            Problem::MeterAlreadyRemoved { meter: "m".into() },
            Problem::ReplacesItself { meter: "m".into() },
            Problem::SerialInUse { serial: "s".into(), status: "active".into(), place: String::new(), meter: "m".into() },
            Problem::OtherDeviceType { serial: "s".into(), device_type: "heat".into(), meter: "m".into(), meter_device_type: "water".into() },
            Problem::GroupNameEmpty,
            Problem::GroupNameTooLong { max: 80 },
            Problem::GroupNameTaken { name: "n".into() },
            Problem::NotConfigured { setting: "smtp" },
        ];
        for problem in all {
            assert_eq!(serde_json::to_value(&problem).expect("json")["code"], problem.code(), "{problem:?}");
        }
        let reasons = [
            Reason::Required,
            Reason::TooLong { max: 1 },
            Reason::NotANumber { value: "x".into() },
            Reason::OutOfRange { value: 1.0, min: 0.0, max: 0.5 },
            Reason::NotADate { value: "x".into() },
            Reason::Unknown { value: "x".into(), allowed: vec![] },
            Reason::NeededWith { other: "latitude".into() },
            Reason::Unreadable { detail: "x".into() },
            Reason::EndsBeforeStart { from: "2026-02-01".into(), to: "2026-01-01".into() },
        ];
        for reason in reasons {
            assert_eq!(serde_json::to_value(&reason).expect("json")["reason"], reason.code(), "{reason:?}");
        }
        let r = Reason::TooLong { max: 80 };
        assert_eq!(serde_json::Value::Object(r.params("name")), serde_json::json!({"reason": "too_long", "max": 80, "field": "name"}));
    }
}
