//! API keys of billing systems and consumer portals (the manager: `manage_users`): argument
//! shapes and one call into `releve_core::access::api_keys` each. See COMMANDS.md, "API keys".

use crate::bounds::{id, ids, range, Bounded};
use crate::commands::{ok, parse};
use crate::ApiError;
use chrono::{NaiveDate, NaiveDateTime};
use releve_core::access::{api_keys, Permission, Session};
use releve_core::{settings, Store};
use serde::Deserialize;
use serde_json::{json, Value};

/// The command names of this file.
pub(crate) const NAMES: [&str; 3] = ["api_key_create", "api_key_revoke", "api_keys_list"];

#[derive(Deserialize)]
struct NoArgs {}

impl Bounded for NoArgs {}

#[derive(Deserialize)]
struct CreateArgs {
    name: String,
    scopes: Vec<String>,
    #[serde(default)]
    groups: Vec<i64>,
    /// The customer NUMBER a portal key is limited to (as on the customer's letters).
    #[serde(default)]
    customer: Option<String>,
    /// `YYYY-MM-DD` (the key stops at local midnight starting that day),
    /// `YYYY-MM-DDTHH:MM[:SS]` in the utility's time zone, or with an offset (RFC 3339).
    #[serde(default)]
    expires_at: Option<String>,
    #[serde(default)]
    rate_per_minute: Option<i64>,
}

fn text(field: &str, value: &str, max: usize) -> Result<(), ApiError> {
    range(field, value.chars().count(), 0, max).map_err(|_| {
        ApiError::new("bad_input", format!("{field}: at most {max} characters"))
            .with_params(json!({"field": field, "reason": "too_long", "max": max}))
    })
}

impl Bounded for CreateArgs {
    fn check(&self) -> Result<(), ApiError> {
        text("name", &self.name, 1000)?;
        range("scopes", self.scopes.len(), 0, 50)?;
        self.scopes.iter().try_for_each(|s| text("scopes", s, 100))?;
        range("groups", self.groups.len(), 0, 10_000)?;
        ids("groups", &self.groups)?;
        text("customer", self.customer.as_deref().unwrap_or(""), 200)?;
        text("expires_at", self.expires_at.as_deref().unwrap_or(""), 40)?;
        range("rate_per_minute", self.rate_per_minute.unwrap_or(1), 1, api_keys::MAX_RATE_PER_MINUTE)
    }
}

#[derive(Deserialize)]
struct IdArgs {
    id: i64,
}

impl Bounded for IdArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)
    }
}

/// Unix time of an expiry as the manager writes it (see [`CreateArgs::expires_at`]).
pub fn expiry(store: &Store, s: &str) -> Result<i64, ApiError> {
    let s = s.trim();
    if let Ok(t) = chrono::DateTime::parse_from_rfc3339(s) {
        return Ok(t.timestamp());
    }
    let local = NaiveDate::parse_from_str(s, "%Y-%m-%d")
        .ok()
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S").ok())
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").ok())
        .or_else(|| NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M").ok())
        .ok_or_else(|| {
            ApiError::new("bad_input", format!("expires_at: '{s}' is not a date like 2027-01-31 or a time like 2027-01-31T18:00"))
                .with_params(json!({"field": "expires_at", "reason": "not_a_time", "value": s}))
        })?;
    Ok(settings::local_time(store, local)?)
}

/// Run API keys command `name`; None if `name` is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        let permit = session.permit(Permission::ManageUsers)?;
        match name {
            "api_keys_list" => {
                let _: NoArgs = parse(args)?;
                ok(api_keys::list(store, permit, now)?)
            }
            "api_key_create" => {
                let a: CreateArgs = parse(args)?;
                let new = api_keys::NewKey {
                    name: a.name,
                    scopes: a.scopes,
                    groups: a.groups,
                    customer: None,
                    customer_number: a.customer,
                    expires_at: a.expires_at.as_deref().filter(|s| !s.trim().is_empty()).map(|s| expiry(store, s)).transpose()?,
                    rate_per_minute: a.rate_per_minute,
                };
                ok(api_keys::create(store, permit, &new, now)?)
            }
            "api_key_revoke" => {
                let a: IdArgs = parse(args)?;
                ok(api_keys::revoke(store, permit, a.id, now)?)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    NAMES.contains(&name).then(run)
}
