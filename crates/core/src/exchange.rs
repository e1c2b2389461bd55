//! Meter exchange: a new meter replaces an old one at the same installation. The old one is
//! removed with its final reading, the new one takes over customer, address, GPS and groups
//! with its initial reading; histograms follow the chain of exchanges backwards so that an
//! installation's consumption continues across them (see `installation_series`).

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::model::Register;
use crate::problem::{num, Problem, Reason};
use crate::store::{self, Store};
use chrono::{NaiveDateTime, TimeZone};
use rusqlite::Connection;
use serde::Serialize;

/// At most this many exchanges followed backwards from one meter.
const MAX_CHAIN: usize = 50;

pub struct ExchangeRequest<'a> {
    pub old_id: i64,
    pub new_serial: &'a str,
    /// Default: the old meter's manufacturer.
    pub new_manufacturer: Option<&'a str>,
    /// Local time of the utility's time zone.
    pub at: NaiveDateTime,
    pub final_value: f64,
    pub initial_value: f64,
}

#[derive(Debug, Serialize)]
pub struct ExchangeDone {
    pub id: i64,
    pub old_meter_id: i64,
    pub new_meter_id: i64,
    pub created: bool,
    pub at: i64,
    pub register: &'static str,
}

/// Replace meter `req.old_id` by the meter `req.new_serial` (created if unknown) at `req.at`.
pub fn meter_exchange(store: &Store, session: &Session, req: &ExchangeRequest<'_>, now: i64) -> Result<ExchangeDone> {
    let permit = session.permit(Permission::EditMeters)?;
    let new_serial = req.new_serial.trim();
    if new_serial.is_empty() || new_serial.chars().count() > 32 {
        let reason = if new_serial.is_empty() { Reason::Required } else { Reason::TooLong { max: 32 } };
        return Err(Error::invalid("new_serial", reason));
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let old = store::meters::get(&tx, req.old_id)?.ok_or_else(|| Error::not_found(format!("meter {}", req.old_id)))?;
    let s = &old.serial;
    for (field, v) in [("final_value", req.final_value), ("initial_value", req.initial_value)] {
        if !v.is_finite() || v < 0.0 {
            return Err(Error::Refused(Problem::NegativeReading { meter: s.clone(), field }));
        }
    }
    if old.status == "removed" {
        return Err(Error::Refused(Problem::MeterAlreadyRemoved { meter: s.clone() }));
    }
    let tz = crate::settings::timezone(&tx)?;
    let at = tz
        .from_local_datetime(&req.at)
        .earliest()
        .map(|t| t.timestamp())
        .ok_or_else(|| Error::Refused(Problem::NoSuchLocalTime { at: req.at.format("%Y-%m-%d %H:%M").to_string(), timezone: tz.to_string() }))?;
    if at > now {
        return Err(Error::Refused(Problem::ExchangeInFuture { meter: s.clone(), at }));
    }
    let register = Register::default_for(&old.device_type);
    let unit = register.unit();
    // Readings after the exchange would belong to a removed meter: the exchange is at or after
    // the old meter's last reading.
    if let Some((last_at, _)) = store::readings::last_before(&tx, old.id, register.code(), i64::MAX)? {
        if last_at > at {
            return Err(Error::Refused(Problem::ExchangeBeforeLastReading { meter: s.clone(), at, last_at }));
        }
    }
    if let Some((last_at, last)) = store::readings::last_before(&tx, old.id, register.code(), at.saturating_add(1))? {
        if req.final_value < last {
            return Err(Error::Refused(Problem::FinalBelowLast { meter: s.clone(), final_value: req.final_value, last, last_at, unit }));
        }
    }
    let manufacturer = req.new_manufacturer.map(str::trim).filter(|m| !m.is_empty()).unwrap_or(&old.manufacturer);
    let existing = store::meters::id_of_serial_manufacturer(&tx, new_serial, manufacturer)?;
    let (new_id, created) = match existing {
        Some(id) => {
            let m = store::meters::get(&tx, id)?.ok_or_else(|| Error::not_found(format!("meter {id}")))?;
            if id == old.id {
                return Err(Error::Refused(Problem::ReplacesItself { meter: s.clone() }));
            }
            if m.status != "unassigned" {
                let where_ = [m.address.as_str(), m.city.as_str()].iter().filter(|p| !p.is_empty()).copied().collect::<Vec<_>>().join(", ");
                return Err(Error::Refused(Problem::SerialInUse { serial: new_serial.to_string(), status: m.status, place: where_, meter: s.clone() }));
            }
            if m.device_type != old.device_type {
                return Err(Error::Refused(Problem::OtherDeviceType {
                    serial: new_serial.to_string(),
                    device_type: m.device_type,
                    meter: s.clone(),
                    meter_device_type: old.device_type.clone(),
                }));
            }
            (id, false)
        }
        None => {
            let m = store::meters::NewMeter {
                serial: new_serial.to_string(),
                manufacturer: manufacturer.to_string(),
                device_type: old.device_type.clone(),
                status: "active".into(),
                ..Default::default()
            };
            (store::meters::insert(&tx, &m, now)?, true)
        }
    };
    store::meters::take_over(&tx, new_id, &old, at)?;
    store::groups::copy_memberships(&tx, old.id, new_id)?;
    store::meters::set_removed(&tx, old.id, at)?;
    let reading = |meter_id, value| store::readings::Reading { meter_id, register: register.code(), ts: at, value, telegram_id: None };
    store::readings::put(&tx, &reading(old.id, req.final_value), now)?;
    store::readings::put(&tx, &reading(new_id, req.initial_value), now)?;
    store::meters::mark_seen(&tx, new_id, at)?;
    let id = store::meters::insert_exchange(
        &tx,
        &store::meters::NewExchange {
            old_meter_id: old.id,
            new_meter_id: new_id,
            at,
            register: register.id(),
            final_value: req.final_value,
            initial_value: req.initial_value,
            user: &session.login,
        },
    )?;
    store::audit::record_permit(
        &tx,
        permit,
        now,
        "meter_exchanged",
        &format!(
            "meter {s} (#{}) -> {new_serial} (#{new_id}) at {}: final {} {unit}, initial {} {unit}",
            old.id,
            req.at.format("%Y-%m-%d %H:%M"),
            num(req.final_value),
            num(req.initial_value)
        ),
    )?;
    tx.commit()?;
    Ok(ExchangeDone { id, old_meter_id: old.id, new_meter_id: new_id, created, at, register: register.id() })
}

/// An exchange shown on a chart.
#[derive(Debug, Serialize, PartialEq)]
pub struct ExchangeMark {
    pub at: i64,
    pub old_serial: String,
    pub new_serial: String,
}

/// One meter's part of an installation: its readings in [from, to), plus `offset` so that
/// its index continues into the newest meter's.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct Segment {
    pub meter_id: i64,
    pub from: i64,
    pub to: i64,
    pub offset: f64,
}

/// The installation's history as seen from `meter_id`, newest segment first: the meter
/// itself, then the meter it replaced, and so on. An index register other than the one
/// of an exchange stops the chain there (its offset is unknown).
pub(crate) fn chain(conn: &Connection, meter_id: i64, register: Register) -> Result<(Vec<Segment>, Vec<ExchangeMark>)> {
    let mut segs = vec![Segment { meter_id, from: i64::MIN, to: i64::MAX, offset: 0.0 }];
    let mut marks = Vec::new();
    let mut current = meter_id;
    while segs.len() <= MAX_CHAIN {
        let Some(e) = store::meters::exchange_into(conn, current)? else { break };
        let last_to = segs.last().map_or(i64::MAX, |s| s.to);
        if e.at >= last_to || segs.iter().any(|s| s.meter_id == e.old_meter_id) {
            break;
        }
        let last = segs.last_mut().expect("one segment");
        marks.push(ExchangeMark { at: e.at, old_serial: e.old_serial.clone(), new_serial: e.new_serial.clone() });
        if register.is_cumulative() && e.register != register.id() {
            break;
        }
        last.from = e.at;
        let offset = if register.is_cumulative() { last.offset + e.initial_value - e.final_value } else { 0.0 };
        segs.push(Segment { meter_id: e.old_meter_id, from: i64::MIN, to: e.at, offset });
        current = e.old_meter_id;
    }
    Ok((segs, marks))
}

/// (ts, value) readings, oldest first, and the index just before them (index registers).
pub(crate) type SeriesWithStart = (Vec<(i64, f64)>, Option<f64>);

/// Readings of the installation in [start, end), oldest first, and for index registers the
/// last value before `start`, all shifted onto the newest meter's index.
pub(crate) fn installation_series(
    conn: &Connection,
    segs: &[Segment],
    register: Register,
    start: i64,
    end: i64,
) -> Result<SeriesWithStart> {
    let mut series = Vec::new();
    for s in segs.iter().rev() {
        let (a, b) = (start.max(s.from), end.min(s.to));
        if a < b {
            series.extend(shift(&store::readings::series(conn, s.meter_id, register.code(), a, b)?, s.offset));
        }
    }
    let mut before = None;
    if register.is_cumulative() {
        for s in segs.iter().filter(|s| s.from < start) {
            if let Some((ts, v)) = store::readings::last_before(conn, s.meter_id, register.code(), start.min(s.to))? {
                if ts >= s.from {
                    before = Some(v + s.offset);
                    break;
                }
            }
        }
    }
    Ok((series, before))
}

/// Readings moved by `offset` (pure).
pub(crate) fn shift(series: &[(i64, f64)], offset: f64) -> Vec<(i64, f64)> {
    series.iter().map(|&(t, v)| (t, v + offset)).collect()
}
