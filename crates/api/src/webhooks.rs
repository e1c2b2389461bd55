//! Webhooks: the endpoints, their delivery log and a test ping; argument shapes and one
//! call into `releve_core::webhooks` each. See COMMANDS.md, "Webhooks", and WEBHOOKS.md.

use crate::bounds::{id, opt_id, range, Bounded};
use crate::commands::{ok, parse};
use crate::ApiError;
use releve_core::access::Session;
use releve_core::webhooks;
use releve_core::Store;
use serde::Deserialize;
use serde_json::{json, Value};

/// The command names of this file.
pub(crate) const NAMES: [&str; 7] = [
    "webhook_add",
    "webhook_deliveries",
    "webhook_remove",
    "webhook_set_active",
    "webhook_settings",
    "webhook_test",
    "webhooks_list",
];

#[derive(Deserialize)]
struct NoArgs {}

impl Bounded for NoArgs {}

#[derive(Deserialize)]
struct AddArgs {
    name: String,
    url: String,
    events: Vec<String>,
}

impl Bounded for AddArgs {
    fn check(&self) -> Result<(), ApiError> {
        if self.name.chars().count() > 64 {
            return Err(ApiError::bad_input("name", "at most 64 characters"));
        }
        if self.url.len() > webhooks::MAX_URL {
            return Err(ApiError::bad_input("url", format!("at most {} characters", webhooks::MAX_URL)));
        }
        range("events", self.events.len(), 1, 10)
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

#[derive(Deserialize)]
struct SetActiveArgs {
    id: i64,
    active: bool,
}

impl Bounded for SetActiveArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)
    }
}

#[derive(Deserialize)]
struct SettingsArgs {
    log_days: i64,
}

impl Bounded for SettingsArgs {
    fn check(&self) -> Result<(), ApiError> {
        range("log_days", self.log_days, 1, 3650)
    }
}

#[derive(Deserialize)]
struct DeliveriesArgs {
    /// One endpoint's deliveries (all without).
    #[serde(default)]
    endpoint: Option<i64>,
    /// The `next` of the previous page.
    #[serde(default)]
    before: Option<i64>,
    #[serde(default)]
    limit: Option<i64>,
}

impl Bounded for DeliveriesArgs {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("endpoint", self.endpoint)?;
        opt_id("before", self.before)?;
        self.limit.map_or(Ok(()), |l| range("limit", l, 1, 500))
    }
}

pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "webhooks_list" => {
                let _: NoArgs = parse(args)?;
                ok(webhooks::webhooks_list(store, session)?)
            }
            "webhook_add" => {
                let a: AddArgs = parse(args)?;
                let new = webhooks::NewWebhook { name: a.name, url: a.url, events: a.events };
                ok(webhooks::webhook_add(store, session, &new, now)?)
            }
            "webhook_remove" => {
                let a: IdArgs = parse(args)?;
                webhooks::webhook_remove(store, session, a.id, now)?;
                ok(json!({}))
            }
            "webhook_set_active" => {
                let a: SetActiveArgs = parse(args)?;
                webhooks::webhook_set_active(store, session, a.id, a.active, now)?;
                ok(json!({}))
            }
            "webhook_settings" => {
                let a: SettingsArgs = parse(args)?;
                webhooks::webhook_settings(store, session, a.log_days, now)?;
                ok(json!({}))
            }
            "webhook_deliveries" => {
                let a: DeliveriesArgs = parse(args)?;
                ok(webhooks::webhook_deliveries(store, session, a.endpoint, a.before, a.limit.unwrap_or(50))?)
            }
            "webhook_test" => {
                let a: IdArgs = parse(args)?;
                ok(webhooks::webhook_test(store, session, a.id, now)?)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    NAMES.contains(&name).then(run)
}
