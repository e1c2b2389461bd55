//! Comparison chart: the histograms of up to 8 meters over one period and resolution, and
//! optionally the sum of a group's meters (a district meter against its consumers).

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::meters::{self, Bucket, ExchangeMark, Resolution};
use crate::model::Register;
use crate::store::{self, Store};
use chrono::NaiveDate;
use serde::Serialize;

/// At most this many meters side by side.
pub const MAX_METERS: usize = 8;
/// At most this many meters summed for a group series.
pub const MAX_GROUP_METERS: usize = 5_000;

pub struct CompareQuery<'a> {
    pub ids: &'a [i64],
    /// Default: each meter's own default register (see `Register::default_for`).
    pub register: Option<&'a str>,
    pub resolution: Resolution,
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub sum_of_group: Option<i64>,
    /// Mark the buckets not over at this time as partial.
    pub now: i64,
}

#[derive(Debug, Serialize)]
pub struct Series {
    /// "meter" or "group_sum".
    pub kind: &'static str,
    /// Meter id, or group id for a sum.
    pub id: i64,
    /// Serial, or group name.
    pub name: String,
    pub register: &'static str,
    pub unit: &'static str,
    /// Meters summed (1 for a meter).
    pub meters: usize,
    pub buckets: Vec<Bucket>,
    pub exchanges: Vec<ExchangeMark>,
}

#[derive(Debug, Serialize)]
pub struct Comparison {
    pub resolution: &'static str,
    pub from: i64,
    pub to: i64,
    pub series: Vec<Series>,
}

fn register_of(id: Option<&str>, device_type: &str) -> Result<Register> {
    match id {
        Some(id) => Register::from_id(id).ok_or_else(|| Error::bad_input("register", format!("unknown register '{id}'"))),
        None => Ok(Register::default_for(device_type)),
    }
}

/// One series per meter of `q.ids`, in that order, then the group sum if asked. A power
/// register (P+, P-) gives each meter's mean per bucket in kW; it is never summed for a
/// group (a sum adds index registers' consumptions only). Hourly buckets need
/// `view_intervals` (else `intervals_not_allowed`).
pub fn meters_compare(store: &Store, session: &Session, q: &CompareQuery<'_>) -> Result<Comparison> {
    session.permit(Permission::View)?;
    if q.resolution.is_interval() {
        session.intervals(q.resolution.as_str())?;
    }
    if q.ids.is_empty() && q.sum_of_group.is_none() {
        return Err(Error::bad_input("ids", "choose at least one meter or a group"));
    }
    if q.ids.len() > MAX_METERS {
        return Err(Error::bad_input("ids", format!("at most {MAX_METERS} meters in one comparison, not {}", q.ids.len())));
    }
    if q.to < q.from {
        return Err(Error::bad_input("period", format!("the end {} is before the start {}", q.to, q.from)));
    }
    let conn = store.reader()?;
    let tz = crate::settings::timezone(&conn)?;
    let bounds = meters::bucket_bounds(tz, q.resolution, q.from, q.to)?;
    let (Some(&start), Some(&end)) = (bounds.first(), bounds.last()) else {
        return Err(Error::bad_input("period", "empty period"));
    };
    let mut series = Vec::new();
    let mut first_register = None;
    for &id in q.ids {
        let meter = store::meters::get(&conn, id)?.ok_or_else(|| Error::not_found(format!("meter {id}")))?;
        let register = register_of(q.register, &meter.device_type)?;
        first_register.get_or_insert(register);
        let (mut buckets, exchanges) = meters::installation_buckets(&conn, id, register, &bounds)?;
        meters::mark_partial(&mut buckets, &bounds, q.now);
        series.push(Series {
            kind: "meter",
            id,
            name: meter.serial,
            register: register.id(),
            unit: register.shown_unit(),
            meters: 1,
            buckets,
            exchanges,
        });
    }
    if let Some(gid) = q.sum_of_group {
        let name = store::groups::name_of(&conn, gid)?.ok_or_else(|| Error::not_found(format!("group {gid}")))?;
        if let Some(r) = q.register.and_then(Register::from_id).filter(|r| !r.is_cumulative()) {
            return Err(Error::bad_input(
                "sum_of_group",
                format!("'{}' is a value at an instant ({}), not an index: a group's sum adds consumptions only", r.id(), r.shown_unit()),
            ));
        }
        let members = store::groups::member_ids(&conn, gid)?;
        if members.len() > MAX_GROUP_METERS {
            return Err(Error::bad_input(
                "sum_of_group",
                format!("group {name} has {} meters, at most {MAX_GROUP_METERS} can be summed", members.len()),
            ));
        }
        let mut parts = Vec::new();
        let mut register = first_register;
        for id in members {
            let Some(meter) = store::meters::get(&conn, id)? else { continue };
            let r = register_of(q.register, &meter.device_type)?;
            // Only meters of one unit add up: the first meter's (or the group's first) register.
            if *register.get_or_insert(r) != r || meter.status == "removed" {
                continue;
            }
            let mut buckets = meters::installation_buckets(&conn, id, r, &bounds)?.0;
            meters::mark_partial(&mut buckets, &bounds, q.now);
            parts.push(buckets);
        }
        let register = register.unwrap_or(Register::Volume);
        series.push(Series {
            kind: "group_sum",
            id: gid,
            name,
            register: register.id(),
            unit: register.shown_unit(),
            meters: parts.len(),
            buckets: sum(&bounds, &parts),
            exchanges: Vec::new(),
        });
    }
    Ok(Comparison { resolution: q.resolution.as_str(), from: start, to: end, series })
}

/// Bucket-wise sum of series over the same bounds; `None` where none has a value; partial
/// where a part is, up to the latest of the parts' last readings (pure).
pub fn sum(bounds: &[i64], parts: &[Vec<Bucket>]) -> Vec<Bucket> {
    bounds
        .windows(2)
        .enumerate()
        .map(|(i, w)| {
            let vals: Vec<f64> = parts.iter().filter_map(|p| p.get(i).and_then(|b| b.value)).collect();
            let partial_until = parts.iter().filter_map(|p| p.get(i).and_then(|b| b.partial_until)).max();
            let value = if vals.is_empty() { None } else { Some(meters::round6(vals.iter().sum())) };
            Bucket { start: w[0], value, partial_until, ..Bucket::default() }
        })
        .collect()
}
