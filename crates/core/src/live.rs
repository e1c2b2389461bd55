//! The live screen: the priority meters (any number, marked by a clerk) with their last
//! 24 hours in 5-minute values — the main register (volume, energy, ...) and the flow when
//! the meter sends one — and their last value. Read with primary-key range scans of
//! `readings`, one meter and register at a time; the screen reads again only the meters the
//! store's change signal names ([`crate::Store::wait_changes`]).

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::model::Register;
use crate::store::priority::PriorityMeter;
use crate::store::{self, Store};
use serde::Serialize;

/// The period shown: the last 24 hours.
pub const WINDOW: i64 = 24 * 3600;
/// One value per 5 minutes: the last reading of each 5-minute slot.
pub const STEP: i64 = 300;
/// At most this many meters in one answer (a page).
pub const MAX_METERS: i64 = 500;
/// The registers shown besides the main one, when the meter sends them (`Register` has no
/// pressure: no driver reads one yet).
pub const EXTRA: [Register; 1] = [Register::Flow];

/// Which priority meters, and from when.
#[derive(Debug, Clone, Default)]
pub struct LiveQuery {
    /// Only these meters (those of them that are priority meters), e.g. the ones a change
    /// signal named; else a page of all of them.
    pub ids: Option<Vec<i64>>,
    /// Values from this time on (at least 24 hours back): a screen that has the rest.
    pub since: Option<i64>,
    pub offset: i64,
    /// At most [`MAX_METERS`]; 0: that many.
    pub limit: i64,
}

#[derive(Debug, Serialize)]
pub struct Live {
    /// The change generation before this was read: changes after it are not in it.
    pub generation: u64,
    pub now: i64,
    /// The first time the series cover.
    pub from: i64,
    /// Priority meters in all.
    pub total: i64,
    /// Seconds per point: 300 (5 minutes), or 86400 (the last reading of each local day)
    /// for a session without `view_intervals`, which sees no interval data.
    pub step: i64,
    pub meters: Vec<LiveMeter>,
}

#[derive(Debug, Serialize)]
pub struct LiveMeter {
    #[serde(flatten)]
    pub meter: PriorityMeter,
    /// The main register first, then those of [`EXTRA`] the meter sends.
    pub series: Vec<LiveSeries>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct LiveSeries {
    pub register: &'static str,
    pub unit: &'static str,
    /// (time, value): the last reading of each 5-minute slot from `from` on.
    pub points: Vec<(i64, f64)>,
    /// The latest reading, also when it is older than the period.
    pub last: Option<(i64, f64)>,
}

/// A day, the step of a session that sees no interval data.
pub const DAY: i64 = 86_400;

/// The priority meters' last 24 hours (needs `view`): 5-minute values with
/// `view_intervals`, else the last reading of each local day (no interval data).
pub fn live(store: &Store, session: &Session, q: &LiveQuery, now: i64) -> Result<Live> {
    session.permit(Permission::View)?;
    let step = if session.sees_intervals() { STEP } else { DAY };
    if q.ids.as_ref().is_some_and(|ids| ids.len() as i64 > MAX_METERS) {
        return Err(Error::bad_input("ids", format!("at most {MAX_METERS} meters")));
    }
    let generation = store.generation();
    let from = q.since.unwrap_or(i64::MIN).clamp(now - WINDOW, now);
    let conn = store.reader()?;
    let tz = crate::settings::timezone(&conn)?;
    let total = store::priority::count(&conn)?;
    let meters = store::priority::page(&conn, q.ids.as_deref(), q.offset.max(0), if q.limit <= 0 { MAX_METERS } else { q.limit.min(MAX_METERS) })?;
    // Readings a meter dated a little ahead of the reception (within the import's window).
    let to = now + 3600;
    let mut out = Vec::with_capacity(meters.len());
    for meter in meters {
        let main = Register::default_for(&meter.device_type);
        let mut series = Vec::new();
        for register in std::iter::once(main).chain(EXTRA.into_iter().filter(|r| *r != main)) {
            let last = store::readings::latest(&conn, meter.id, register.code())?;
            if last.is_none() && register != main {
                continue; // a register the meter does not send
            }
            let readings = store::readings::series(&conn, meter.id, register.code(), from, to)?;
            let points = if step == STEP { slots(readings) } else { days(readings, tz) };
            series.push(LiveSeries { register: register.id(), unit: register.unit(), points, last });
        }
        out.push(LiveMeter { meter, series });
    }
    Ok(Live { generation, now, from, total, step, meters: out })
}

/// The last reading of each 5-minute slot, of readings in time order.
fn slots(readings: Vec<(i64, f64)>) -> Vec<(i64, f64)> {
    let mut out: Vec<(i64, f64)> = Vec::with_capacity(readings.len().min(WINDOW as usize / STEP as usize + 2));
    for (ts, value) in readings {
        match out.last_mut() {
            Some(last) if last.0.div_euclid(STEP) == ts.div_euclid(STEP) => *last = (ts, value),
            _ => out.push((ts, value)),
        }
    }
    out
}

/// The last reading of each local day, of readings in time order.
fn days(readings: Vec<(i64, f64)>, tz: chrono_tz::Tz) -> Vec<(i64, f64)> {
    use chrono::TimeZone;
    let day = |ts: i64| tz.timestamp_opt(ts, 0).earliest().map(|t| t.date_naive());
    let mut out: Vec<(i64, f64)> = Vec::new();
    for (ts, value) in readings {
        match out.last_mut() {
            Some(last) if day(last.0) == day(ts) => *last = (ts, value),
            _ => out.push((ts, value)),
        }
    }
    out
}

/// Mark meters as priority meters (followed live) or not (needs `edit_meters`, audited).
/// An unknown id refuses the whole change. The meters whose mark changed.
pub fn meter_priority_set(store: &Store, session: &Session, ids: &[i64], on: bool, now: i64) -> Result<Vec<i64>> {
    let permit = session.permit(Permission::EditMeters)?;
    if ids.is_empty() {
        return Err(Error::bad_input("ids", "no meter given"));
    }
    let changed = {
        let mut conn = store.writer();
        let tx = conn.transaction()?;
        let changed = store::priority::set(&tx, ids, on)?;
        if !changed.is_empty() {
            let list: Vec<String> = changed.iter().map(i64::to_string).collect();
            let details = format!("{} meters {}: {}", if on { "priority" } else { "not priority" }, changed.len(), list.join(","));
            store::audit::record_permit(&tx, permit, now, "meter_priority_set", &details)?;
        }
        tx.commit()?;
        changed
    };
    // The live screens add or drop these meters.
    store.changed(&changed);
    Ok(changed)
}

#[cfg(test)]
mod tests {
    use super::slots;

    #[test]
    fn keeps_the_last_reading_of_each_five_minutes() {
        let readings = vec![(0, 1.0), (100, 2.0), (299, 3.0), (300, 4.0), (900, 5.0), (1000, 6.0)];
        assert_eq!(slots(readings), vec![(299, 3.0), (300, 4.0), (1000, 6.0)]);
        assert_eq!(slots(vec![]), vec![]);
    }
}
