//! The fixed network's supervision commands (`gateways`, `gateway_set`, `meter_receptions`,
//! `silence_settings`, `silence_settings_set`): argument shapes and one call into
//! `releve_core::gateways` / `releve_core::silence` each. See COMMANDS.md, "Gateways".

use crate::bounds::{amount, id, range, Bounded};
use crate::commands::{IdArgs, ok, parse};
use crate::ApiError;
use releve_core::access::Session;
use releve_core::gateways::{self, GatewayEdit, MAX_SILENT_HOURS};
use releve_core::silence::{self, SilenceSettings, MAX_HOURS};
use releve_core::Store;
use serde::Deserialize;
use serde_json::Value;

/// The command names of this file.
pub(crate) const NAMES: [&str; 5] = ["gateway_set", "gateways", "meter_receptions", "silence_settings", "silence_settings_set"];

#[derive(Deserialize)]
struct NoArgs {}

impl Bounded for NoArgs {}

impl Bounded for GatewayEdit {
    fn check(&self) -> Result<(), ApiError> {
        id("id", self.id)?;
        self.lat.map_or(Ok(()), |v| amount("lat", v))?;
        self.lon.map_or(Ok(()), |v| amount("lon", v))?;
        self.silent_hours.map_or(Ok(()), |h| range("silent_hours", h, 0, MAX_SILENT_HOURS))
    }
}

impl Bounded for SilenceSettings {
    fn check(&self) -> Result<(), ApiError> {
        range("gateway_hours", self.gateway_hours, 0, MAX_HOURS)?;
        self.today_not_heard_days.map_or(Ok(()), |d| range("today_not_heard_days", d, 1, releve_core::today::NOT_HEARD_MAX))?;
        self.meter_hours.values().try_for_each(|h| range("meter_hours", *h, 0, MAX_HOURS))
    }
}

/// Run supervision command `name`; None if `name` is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "gateways" => {
                let _: NoArgs = parse(args)?;
                ok(gateways::gateways_list(store, session, now)?)
            }
            "gateway_set" => {
                let e: GatewayEdit = parse(args)?;
                ok(gateways::gateway_set(store, session, &e, now)?)
            }
            "meter_receptions" => {
                let a: IdArgs = parse(args)?;
                ok(gateways::meter_receptions(store, session, a.id, now)?)
            }
            "silence_settings" => {
                let _: NoArgs = parse(args)?;
                ok(silence::silence_settings(store, session)?)
            }
            "silence_settings_set" => {
                let s: SilenceSettings = parse(args)?;
                ok(silence::silence_settings_set(store, session, &s, now)?)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    NAMES.contains(&name).then(run)
}
