//! The fixed network's gateways (concentrators and LoRaWAN gateways) as a clerk supervises
//! them: the list with last contact, frames today, meters heard and meters only they hear;
//! their label, position and silent hours; and, for one meter, who hears it and how well.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::gateways::{Gateway, Hearing, Placement};
use crate::store::{self, Store};
use chrono::TimeZone;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Meters heard, and heard by no other gateway, count over this many days.
pub const HEARD_DAYS: i64 = 7;
/// The RSSI trend of a meter's page covers this many days.
pub const TREND_DAYS: i64 = 30;
/// A gateway's silent hours are at most a year.
pub const MAX_SILENT_HOURS: i64 = 8760;

#[derive(Debug, Serialize)]
pub struct GatewayList {
    /// The setting `gateway_silent_hours`: the silent hours of a gateway without its own.
    pub default_silent_hours: i64,
    pub gateways: Vec<Gateway>,
}

/// The setting `gateway_silent_hours` (6 when unset or unreadable; 0: not supervised).
pub fn default_silent_hours(conn: &rusqlite::Connection) -> Result<i64> {
    let v = store::settings::get(conn, "gateway_silent_hours")?.and_then(|v| v.trim().parse().ok()).unwrap_or(6);
    Ok(i64::clamp(v, 0, MAX_SILENT_HOURS))
}

/// Every gateway with its figures: frames since local midnight (`timezone` setting), meters
/// heard in the last 7 days and, of those, the ones no other gateway heard.
pub fn gateways_list(store: &Store, session: &Session, now: i64) -> Result<GatewayList> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let tz = crate::settings::timezone(&conn)?;
    let gateways = store::gateways::list(&conn, local_day(tz, now), now - HEARD_DAYS * 86_400)?;
    Ok(GatewayList { default_silent_hours: default_silent_hours(&conn)?, gateways })
}

/// The local date of `at` in `tz` as the number YYYYMMDD (how `gateway_days` counts).
pub fn local_day(tz: chrono_tz::Tz, at: i64) -> i64 {
    use chrono::Datelike;
    let date = tz.timestamp_opt(at, 0).single().map_or_else(|| chrono::DateTime::from_timestamp(at, 0).unwrap_or_default().date_naive(), |t| t.date_naive());
    i64::from(date.year()) * 10_000 + i64::from(date.month()) * 100 + i64::from(date.day())
}

/// What a clerk changes of a gateway.
#[derive(Debug, Clone, Deserialize)]
pub struct GatewayEdit {
    pub id: i64,
    #[serde(default)]
    pub label: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// None: the setting `gateway_silent_hours`; 0: never silent.
    pub silent_hours: Option<i64>,
}

/// Set a gateway's label, position and silent hours (needs `settings`, audited).
pub fn gateway_set(store: &Store, session: &Session, e: &GatewayEdit, now: i64) -> Result<Gateway> {
    let permit = session.permit(Permission::Settings)?;
    let label = e.label.split_whitespace().collect::<Vec<_>>().join(" ");
    if label.chars().count() > 80 {
        return Err(Error::bad_input("label", "at most 80 characters"));
    }
    match (e.lat, e.lon) {
        (Some(lat), Some(lon)) => {
            if !(-90.0..=90.0).contains(&lat) {
                return Err(Error::bad_input("lat", format!("{lat} is not a latitude (-90 to 90)")));
            }
            if !(-180.0..=180.0).contains(&lon) {
                return Err(Error::bad_input("lon", format!("{lon} is not a longitude (-180 to 180)")));
            }
        }
        (None, None) => {}
        _ => return Err(Error::bad_input("lat", "a position needs a latitude and a longitude")),
    }
    if let Some(h) = e.silent_hours {
        if !(0..=MAX_SILENT_HOURS).contains(&h) {
            return Err(Error::bad_input("silent_hours", format!("{h} is not from 0 to {MAX_SILENT_HOURS} hours")));
        }
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let placement = Placement { label: &label, lat: e.lat, lon: e.lon, silent_hours: e.silent_hours };
    if !store::gateways::set(&tx, e.id, &placement)? {
        return Err(Error::not_found(format!("gateway {}", e.id)));
    }
    let mut g = store::gateways::get(&tx, e.id)?.ok_or_else(|| Error::not_found(format!("gateway {}", e.id)))?;
    // Silent under the old hours but not under the new ones: the silence ends now.
    let hours = g.silent_hours.map_or_else(|| default_silent_hours(&tx), Ok)?;
    if g.silent_since.is_some() && (hours == 0 || g.last_contact + hours * 3600 > now) {
        store::gateways::end_silence(&tx, g.id, now)?;
        g.silent_since = None;
    }
    let hours = e.silent_hours.map_or("default".to_string(), |h| h.to_string());
    let place = match (e.lat, e.lon) {
        (Some(a), Some(o)) => format!("{a:.6},{o:.6}"),
        _ => "-".into(),
    };
    let details = format!("{} (#{}): label '{label}', position {place}, silent hours {hours}", g.name, g.id);
    store::audit::record_permit(&tx, permit, now, "gateway_set", &details)?;
    tx.commit()?;
    Ok(g)
}

/// A gateway's daily mean RSSI for one meter.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DayRssi {
    /// Local date, YYYY-MM-DD.
    pub day: String,
    pub mean_rssi: f64,
    pub receptions: i64,
}

#[derive(Debug, Clone, Serialize)]
pub struct Trend {
    pub gateway_id: i64,
    pub name: String,
    pub days: Vec<DayRssi>,
}

#[derive(Debug, Serialize)]
pub struct MeterReceptions {
    pub meter_id: i64,
    /// Who heard the meter, the latest first (all time).
    pub gateways: Vec<Hearing>,
    /// Daily mean RSSI per gateway over the last 30 days (local days).
    pub from: i64,
    pub to: i64,
    pub trend: Vec<Trend>,
}

/// Who heard a meter (from `gateway_meters`) and each gateway's daily mean RSSI over the
/// last 30 days (one primary-key range of the meter's receptions).
pub fn meter_receptions(store: &Store, session: &Session, meter_id: i64, now: i64) -> Result<MeterReceptions> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    match store::meters::seen(&conn, meter_id).map(|_| ()) {
        Err(Error::Store(rusqlite::Error::QueryReturnedNoRows)) => return Err(Error::not_found(format!("meter {meter_id}"))),
        other => other?,
    };
    let tz = crate::settings::timezone(&conn)?;
    let gateways = store::gateways::heard_of(&conn, meter_id)?;
    let from = now - TREND_DAYS * 86_400;
    // (gateway, local day) -> (sum, count)
    let mut sums: BTreeMap<(i64, chrono::NaiveDate), (f64, i64)> = BTreeMap::new();
    store::gateways::receptions_of(&conn, meter_id, from, &mut |gateway, at, rssi, _snr| {
        if let Some(day) = tz.timestamp_opt(at, 0).single().map(|t| t.date_naive()) {
            let e = sums.entry((gateway, day)).or_insert((0.0, 0));
            e.0 += rssi as f64;
            e.1 += 1;
        }
    })?;
    let mut trend: Vec<Trend> = Vec::new();
    for ((gateway, day), (sum, n)) in sums {
        let point = DayRssi { day: day.format("%Y-%m-%d").to_string(), mean_rssi: (sum / n as f64 * 10.0).round() / 10.0, receptions: n };
        match trend.last_mut() {
            Some(t) if t.gateway_id == gateway => t.days.push(point),
            _ => {
                let name = gateways.iter().find(|h| h.gateway_id == gateway).map_or_else(|| format!("#{gateway}"), |h| h.name.clone());
                trend.push(Trend { gateway_id: gateway, name, days: vec![point] });
            }
        }
    }
    Ok(MeterReceptions { meter_id, gateways, from, to: now, trend })
}
