//! Supervision of the fixed network (the convention's "absence de remontée d'informations
//! sur un laps de temps prédéfini ... pour les différentes catégories d'objets"): a gateway
//! without a frame for its silent hours raises a gateway event (`gateway_silent` for the
//! notification rules), a meter not heard for its class's period gets the info code
//! `silent`. `network_check` runs every minute in the app's scheduler and from cron
//! (`releve network check`, and before `releve notify run`); each silence is raised once
//! and ended by the next frame (the import, like any info code), so it gives one notice.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::{self, Store};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Meter classes with their own silent period, by device type; `other` takes the rest.
pub const CLASSES: [&str; 6] = ["water", "heat", "electricity", "gas", "heat_cost_allocator", "other"];

/// A meter class's period is at most a year (0: not supervised).
pub const MAX_HOURS: i64 = 8760;

/// Meters marked silent per transaction: the writer is never held long.
const SLICE: i64 = 5_000;

/// The class of a device type (`meters.device_type`).
pub fn class_of(device_type: &str) -> &'static str {
    match device_type {
        "water" | "warm_water" | "hot_water" | "cold_water" | "dual_water" => "water",
        "heat" | "heat_inlet" | "heat_cooling" | "cooling_inlet" | "cooling_outlet" | "steam" => "heat",
        "electricity" => "electricity",
        "gas" => "gas",
        "heat_cost_allocator" => "heat_cost_allocator",
        _ => "other",
    }
}

fn class_key(class: &str) -> String {
    format!("meter_silent_hours.{class}")
}

/// The silent periods: of gateways (without their own) and of each meter class, in hours.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SilenceSettings {
    pub gateway_hours: i64,
    pub meter_hours: BTreeMap<String, i64>,
    /// N of the start page's "not heard for N days" (and of the meter list's link from it);
    /// absent when saving: unchanged.
    #[serde(default)]
    pub today_not_heard_days: Option<i64>,
}

impl SilenceSettings {
    fn read(conn: &rusqlite::Connection) -> Result<SilenceSettings> {
        let mut meter_hours = BTreeMap::new();
        for class in CLASSES {
            let v = store::settings::get(conn, &class_key(class))?.and_then(|v| v.trim().parse().ok()).unwrap_or(0);
            meter_hours.insert(class.to_string(), i64::clamp(v, 0, MAX_HOURS));
        }
        Ok(SilenceSettings {
            gateway_hours: crate::gateways::default_silent_hours(conn)?,
            meter_hours,
            today_not_heard_days: Some(crate::today::not_heard_days(conn)?),
        })
    }

    /// Hours of a device type's class (0: not supervised).
    pub fn hours_of(&self, device_type: &str) -> i64 {
        self.meter_hours.get(class_of(device_type)).copied().unwrap_or(0)
    }
}

/// The silent periods.
pub fn silence_settings(store: &Store, session: &Session) -> Result<SilenceSettings> {
    session.permit(Permission::View)?;
    SilenceSettings::read(&*store.reader()?)
}

/// Change the silent periods (needs `settings`, audited). Gateways and meters silent under
/// the old periods that are not under the new ones stop being silent now; those newly
/// silent are found by the next check.
pub fn silence_settings_set(store: &Store, session: &Session, new: &SilenceSettings, now: i64) -> Result<SilenceSettings> {
    let permit = session.permit(Permission::Settings)?;
    if !(0..=MAX_HOURS).contains(&new.gateway_hours) {
        return Err(Error::bad_input("gateway_hours", format!("from 0 to {MAX_HOURS} hours")));
    }
    for (class, hours) in &new.meter_hours {
        if !CLASSES.contains(&class.as_str()) {
            return Err(Error::bad_input("meter_hours", format!("'{class}' is not one of {}", CLASSES.join(", "))));
        }
        if !(0..=MAX_HOURS).contains(hours) {
            return Err(Error::bad_input(format!("meter_hours.{class}"), format!("from 0 to {MAX_HOURS} hours")));
        }
    }
    if let Some(days) = new.today_not_heard_days {
        if !(1..=crate::today::NOT_HEARD_MAX).contains(&days) {
            return Err(Error::bad_input("today_not_heard_days", format!("from 1 to {} days", crate::today::NOT_HEARD_MAX)));
        }
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::settings::set(&tx, "gateway_silent_hours", &new.gateway_hours.to_string())?;
    for (class, hours) in &new.meter_hours {
        store::settings::set(&tx, &class_key(class), &hours.to_string())?;
    }
    if let Some(days) = new.today_not_heard_days {
        store::settings::set(&tx, crate::today::NOT_HEARD_KEY, &days.to_string())?;
    }
    let settings = SilenceSettings::read(&tx)?;
    for id in store::gateways::no_longer_silent(&tx, settings.gateway_hours, now)? {
        store::gateways::end_silence(&tx, id, now)?;
    }
    for s in store::silence::ongoing(&tx)? {
        let hours = settings.hours_of(&s.device_type);
        let still = hours > 0 && s.last_seen.is_none_or(|seen| seen + hours * 3600 <= now);
        if !still {
            store::silence::end(&tx, s.meter_id, s.started_at, now)?;
        }
    }
    let classes: Vec<String> = settings.meter_hours.iter().map(|(c, h)| format!("{c}={h}")).collect();
    let not_heard = settings.today_not_heard_days.unwrap_or(crate::today::NOT_HEARD_DEFAULT);
    let details = format!("gateways={} {} not_heard_days={not_heard}", settings.gateway_hours, classes.join(" "));
    store::audit::record_permit(&tx, permit, now, "silence_settings", &details)?;
    tx.commit()?;
    Ok(settings)
}

/// What one check raised.
#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
pub struct CheckReport {
    pub gateways_silent: u64,
    pub meters_silent: u64,
}

/// Raise the silences due at `now`: gateways past their silent hours, meters past their
/// class's period. Cheap when nothing changed: the gateways table, then one seek per device
/// type and one range per type of the meters that just passed their period (the partial
/// index `meters_unsilent`: meters already silent are not in it).
pub fn network_check(store: &Store, now: i64) -> Result<CheckReport> {
    let mut report = CheckReport::default();
    let settings = SilenceSettings::read(&*store.reader()?)?;
    let due = store::gateways::newly_silent(&*store.reader()?, settings.gateway_hours, now)?;
    if !due.is_empty() {
        let mut conn = store.writer();
        let tx = conn.transaction()?;
        for s in &due {
            if store::gateways::fall_silent(&tx, s)? {
                report.gateways_silent += 1;
            }
        }
        tx.commit()?;
    }
    let mut types = Vec::new();
    let mut after = String::new();
    while let Some(t) = store::silence::next_device_type(&*store.reader()?, &after)? {
        after.clone_from(&t);
        types.push(t);
    }
    for device_type in types {
        let hours = settings.hours_of(&device_type);
        if hours == 0 {
            continue;
        }
        let cutoff = now - hours * 3600;
        loop {
            let found = store::silence::not_heard_since(&*store.reader()?, &device_type, cutoff, SLICE)?;
            if found.is_empty() {
                break;
            }
            let mut marked = 0;
            {
                let mut conn = store.writer();
                let tx = conn.transaction()?;
                for &(meter_id, last_seen) in &found {
                    if store::silence::fall_silent(&tx, meter_id, last_seen, last_seen + hours * 3600)? {
                        marked += 1;
                    }
                }
                tx.commit()?;
            }
            report.meters_silent += marked;
            // Heard meanwhile (last_seen moved): the next range no longer holds them.
            if (found.len() as i64) < SLICE || marked == 0 {
                break;
            }
        }
    }
    Ok(report)
}
