//! The open API (`/api/v1/`) for billing systems and consumer portals: meters, customers,
//! readings (raw or consumption per hour/day/month), the feeds of new readings and info codes
//! since a cursor, meter exchanges. Each operation is one function taking the caller's
//! session (a user, or an API key limited by its scopes and reach) and returning a typed
//! value whose JSON Schema documents it (`schemars`): crates/api/src/v1 builds the OpenAPI
//! document from these types. Times are ISO 8601 with the utility's offset; pages go by
//! keyset (`after` = the last item's cursor), never by offset.

mod time;
mod types;

pub use time::{iso, parse_period, Period};
pub use types::*;

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::meters::{HistogramQuery, Resolution};
use crate::model::{info_code_bit, Register, INFO_CODES};
use crate::problem::{Problem, Reason};
use crate::store::feed::Reach;
use crate::store::{self, Store};
use chrono_tz::Tz;

/// The largest page of a list.
pub const MAX_LIMIT: usize = 1_000;
/// The largest page of a feed (readings are small).
pub const MAX_FEED_LIMIT: usize = 10_000;
/// A feed page looks at no more than this many rows per item asked (a key that reaches few
/// meters still gets an answer quickly; its cursor moves on).
const SCAN_FACTOR: usize = 20;

/// The meters `session` may reach: a key's groups or customer, else all.
pub fn reach(session: &Session) -> Reach {
    match &session.key {
        Some(k) => Reach::of(&k.groups, k.customer),
        None => Reach::default(),
    }
}

fn limit(limit: Option<usize>, default: usize, max: usize) -> Result<usize> {
    let l = limit.unwrap_or(default);
    if l == 0 || l > max {
        return Err(Error::invalid("limit", Reason::OutOfRange { value: l as f64, min: 1.0, max: max as f64 }));
    }
    Ok(l)
}

fn after(after: Option<i64>) -> Result<i64> {
    let a = after.unwrap_or(0);
    if a < 0 {
        return Err(Error::invalid("after", Reason::OutOfRange { value: a as f64, min: 0.0, max: i64::MAX as f64 }));
    }
    Ok(a)
}

fn tz_of(conn: &rusqlite::Connection) -> Result<Tz> {
    crate::settings::timezone(conn)
}

fn codes_of(mask: i64) -> Vec<String> {
    INFO_CODES.iter().filter(|c| mask & info_code_bit(c) != 0).map(|c| c.to_string()).collect()
}

fn meter_of(tz: Tz, m: store::open_api::MeterRow) -> Meter {
    Meter {
        serial: m.serial,
        manufacturer: m.manufacturer,
        device_type: m.device_type,
        model: m.model,
        status: m.status,
        customer: m.customer_number,
        address: m.address,
        postal_code: m.postal_code,
        city: m.city,
        lat: m.lat,
        lon: m.lon,
        installed_at: m.installed_at.map(|t| iso(tz, t)),
        removed_at: m.removed_at.map(|t| iso(tz, t)),
        last_seen: m.last_seen.map(|t| iso(tz, t)),
        info_codes: codes_of(m.info_codes),
    }
}

/// `GET /meters`: meters by id after the cursor, filtered.
pub fn meters(store: &Store, session: &Session, q: &MetersQuery) -> Result<MeterPage> {
    session.permit(Permission::View)?;
    let limit = limit(q.limit, 100, MAX_LIMIT)?;
    let after = after(q.after)?;
    if let Some(s) = &q.status {
        if !["active", "unassigned", "removed"].contains(&s.as_str()) {
            return Err(Error::invalid("status", Reason::Unknown { value: s.clone(), allowed: vec!["active".into(), "unassigned".into(), "removed".into()] }));
        }
    }
    let conn = store.reader()?;
    let tz = tz_of(&conn)?;
    let filter = store::open_api::MeterFilter {
        status: q.status.clone(),
        device_type: q.device_type.clone(),
        group: q.group.clone(),
        city: q.city.clone(),
        customer_number: q.customer.clone(),
        serial: q.serial.clone(),
        alarm: q.alarm,
    };
    let rows = store::open_api::meters(&conn, after, limit, &filter, &reach(session))?;
    let next = (rows.len() == limit).then(|| rows.last().map(|m| m.id)).flatten();
    Ok(MeterPage { items: rows.into_iter().map(|m| meter_of(tz, m)).collect(), next })
}

/// The one meter of `serial` (and `manufacturer`) the caller reaches: `not_found`, or
/// `bad_input` on `manufacturer` when two manufacturers' meters share the serial.
fn one_meter(conn: &rusqlite::Connection, session: &Session, serial: &str, manufacturer: Option<&str>) -> Result<store::open_api::MeterRow> {
    let mut rows = store::open_api::meters_of_serial(conn, serial, manufacturer, &reach(session))?;
    if rows.is_empty() {
        return Err(Error::not_found(format!("meter {serial}")));
    }
    let first_manufacturer = rows[0].manufacturer.clone();
    if manufacturer.is_none() && rows.iter().any(|m| m.manufacturer != first_manufacturer) {
        return Err(Error::invalid("manufacturer", Reason::Required));
    }
    Ok(rows.swap_remove(0))
}

/// `GET /meters/{serial}`: the meter and the last reading of each of its registers.
pub fn meter(store: &Store, session: &Session, serial: &str, manufacturer: Option<&str>) -> Result<MeterWithRegisters> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let tz = tz_of(&conn)?;
    let m = one_meter(&conn, session, serial, manufacturer)?;
    let mut registers = Vec::new();
    for code in store::open_api::registers_of(&conn, m.id)? {
        let Some(register) = Register::from_code(code) else { continue };
        if let Some((ts, value)) = store::readings::last_before(&conn, m.id, code, i64::MAX)? {
            registers.push(LastValue { register: register.id().into(), unit: register.shown_unit().into(), time: iso(tz, ts), value: register.shown(value) });
        }
    }
    Ok(MeterWithRegisters { meter: meter_of(tz, m), registers })
}

/// `GET /meters/{serial}/readings`: a register's readings (`raw`: every reading, interval
/// data) or its consumption per hour (interval data), day or month over a period.
pub fn readings(store: &Store, session: &Session, serial: &str, q: &ReadingsQuery) -> Result<ReadingsPage> {
    session.permit(Permission::View)?;
    let resolution = q.resolution.as_deref().unwrap_or("day");
    let conn = store.reader()?;
    let tz = tz_of(&conn)?;
    let m = one_meter(&conn, session, serial, q.manufacturer.as_deref())?;
    let register = match q.register.as_deref() {
        Some(id) => Register::from_id(id).ok_or_else(|| {
            Error::invalid("register", Reason::Unknown { value: id.into(), allowed: Register::ALL.iter().map(|r| r.id().to_string()).collect() })
        })?,
        None => Register::default_for(&m.device_type),
    };
    let period = parse_period(tz, q.from.as_deref(), q.to.as_deref())?;
    if resolution == "raw" {
        session.intervals("readings")?;
        let limit = limit(q.limit, 1_000, MAX_FEED_LIMIT)?;
        let from = match q.after {
            Some(a) if a < 0 => return Err(Error::invalid("after", Reason::OutOfRange { value: a as f64, min: 0.0, max: i64::MAX as f64 })),
            Some(a) => period.from.max(a.saturating_add(1)),
            None => period.from,
        };
        let rows = store::open_api::readings_page(&conn, m.id, register.code(), from, period.to, limit)?;
        let next = (rows.len() == limit).then(|| rows.last().map(|r| r.0)).flatten();
        return Ok(ReadingsPage {
            serial: m.serial,
            manufacturer: m.manufacturer,
            register: register.id().into(),
            unit: register.shown_unit().into(),
            resolution: "raw".into(),
            kind: "index".into(),
            items: rows.into_iter().map(|(ts, v)| Point { time: iso(tz, ts), value: Some(register.shown(v)) }).collect(),
            next,
        });
    }
    let res = match resolution {
        "hour" => Resolution::Hour,
        "day" => Resolution::Day,
        "month" => Resolution::Month,
        other => {
            return Err(Error::invalid(
                "resolution",
                Reason::Unknown { value: other.into(), allowed: vec!["raw".into(), "hour".into(), "day".into(), "month".into()] },
            ))
        }
    };
    let h = crate::meters::meter_histogram(
        store,
        session,
        &HistogramQuery { meter_id: m.id, register: Some(register.id()), resolution: res, from: period.from_date, to: period.to_date, now: None, fit_to_readings: false },
    )?;
    Ok(ReadingsPage {
        serial: m.serial,
        manufacturer: m.manufacturer,
        register: h.register.into(),
        unit: h.unit.into(),
        resolution: resolution.into(),
        kind: h.kind.into(),
        items: h.buckets.into_iter().map(|b| Point { time: iso(tz, b.start), value: b.value }).collect(),
        next: None,
    })
}

/// `GET /readings/feed`: readings in the order they were stored, after cursor `after`
/// (omitted: from the oldest the feed keeps). `cursor_expired` when `after` is older than
/// what the feed keeps.
pub fn readings_feed(store: &Store, session: &Session, q: &FeedQuery) -> Result<ReadingFeedPage> {
    session.permit(Permission::View)?;
    let limit = limit(q.limit, 1_000, MAX_FEED_LIMIT)?;
    let conn = store.reader()?;
    let tz = tz_of(&conn)?;
    let start = feed_start(&conn, q.after, false)?;
    let (rows, next) = store::feed::readings_after(&conn, start, limit, limit * SCAN_FACTOR, &reach(session))?;
    let last = store::feed::last_given(&conn, false)?;
    let items = rows
        .into_iter()
        .filter_map(|r| {
            let register = Register::from_code(r.register)?;
            Some(FeedReading {
                cursor: r.seq,
                serial: r.serial,
                manufacturer: r.manufacturer,
                register: register.id().into(),
                unit: register.shown_unit().into(),
                time: iso(tz, r.ts),
                value: register.shown(r.value),
                stored_at: iso(tz, r.stored_at),
            })
        })
        .collect();
    Ok(ReadingFeedPage { items, next, more: next < last })
}

/// Where a feed page starts: after `after`, or before the oldest row kept.
fn feed_start(conn: &rusqlite::Connection, after: Option<i64>, info_codes: bool) -> Result<i64> {
    let bounds = store::feed::bounds(conn, info_codes)?;
    match after {
        None => Ok(bounds.map_or(0, |(oldest, _)| oldest - 1)),
        Some(a) if a < 0 => Err(Error::invalid("after", Reason::OutOfRange { value: a as f64, min: 0.0, max: i64::MAX as f64 })),
        Some(a) => match bounds {
            // Rows after `a` were purged: the client would miss them.
            Some((oldest, _)) if a < oldest - 1 => Err(Error::Refused(Problem::CursorExpired { cursor: a, oldest: oldest - 1 })),
            _ => Ok(a),
        },
    }
}

/// `GET /info-codes`: ongoing info codes by meter.
pub fn info_codes_active(store: &Store, session: &Session, q: &InfoCodesQuery) -> Result<InfoCodePage> {
    session.permit(Permission::View)?;
    let limit = limit(q.limit, 100, MAX_LIMIT)?;
    let after = after(q.after)?;
    if let Some(c) = &q.code {
        if !INFO_CODES.contains(&c.as_str()) {
            return Err(Error::invalid("code", Reason::Unknown { value: c.clone(), allowed: INFO_CODES.iter().map(|c| c.to_string()).collect() }));
        }
    }
    let conn = store.reader()?;
    let tz = tz_of(&conn)?;
    // One more row than asked tells whether the last meter is whole.
    let mut rows = store::open_api::active_codes(&conn, after, limit + 1, q.code.as_deref(), &reach(session))?;
    let next = if rows.len() > limit {
        let cut = rows[limit].meter_id;
        let whole: Vec<_> = rows.iter().take(limit).filter(|r| r.meter_id != cut).cloned().collect();
        // A meter with more codes than a page: give it whole anyway.
        let whole = if whole.is_empty() { rows.iter().filter(|r| r.meter_id == cut).cloned().collect() } else { whole };
        rows = whole;
        rows.last().map(|r| r.meter_id)
    } else {
        None
    };
    Ok(InfoCodePage {
        items: rows
            .into_iter()
            .map(|r| InfoCode { serial: r.serial, manufacturer: r.manufacturer, code: r.code, started_at: iso(tz, r.started_at), last_seen_at: iso(tz, r.last_seen_at) })
            .collect(),
        next,
    })
}

/// `GET /info-codes/feed`: info codes starting and ending, in the order they were stored.
pub fn info_codes_feed(store: &Store, session: &Session, q: &FeedQuery) -> Result<InfoCodeFeedPage> {
    session.permit(Permission::View)?;
    let limit = limit(q.limit, 1_000, MAX_FEED_LIMIT)?;
    let conn = store.reader()?;
    let tz = tz_of(&conn)?;
    let start = feed_start(&conn, q.after, true)?;
    let (rows, next) = store::feed::info_codes_after(&conn, start, limit, limit * SCAN_FACTOR, &reach(session))?;
    let last = store::feed::last_given(&conn, true)?;
    Ok(InfoCodeFeedPage {
        items: rows
            .into_iter()
            .map(|r| InfoCodeEvent {
                cursor: r.seq,
                serial: r.serial,
                manufacturer: r.manufacturer,
                code: r.code,
                event: r.event,
                started_at: iso(tz, r.started_at),
                at: iso(tz, r.at),
            })
            .collect(),
        next,
        more: next < last,
    })
}

fn customer_of(c: store::open_api::CustomerRow, meters: Vec<String>) -> Customer {
    let c = c.customer;
    Customer { number: c.number, name: c.name, address: c.address, postal_code: c.postal_code, city: c.city, email: c.email, phone: c.phone, meters }
}

/// `GET /customers`: customers by id after the cursor (former occupants are not listed).
pub fn customers(store: &Store, session: &Session, q: &PageQuery) -> Result<CustomerPage> {
    session.permit(Permission::View)?;
    let limit = limit(q.limit, 100, MAX_LIMIT)?;
    let after = after(q.after)?;
    let conn = store.reader()?;
    let reach = reach(session);
    let rows = store::open_api::customers(&conn, after, limit, &reach)?;
    let next = (rows.len() == limit).then(|| rows.last().map(|c| c.id)).flatten();
    let mut items = Vec::with_capacity(rows.len());
    for c in rows {
        let meters = store::open_api::serials_of_customer(&conn, c.id, &reach)?.into_iter().map(|m| m.1).collect();
        items.push(customer_of(c, meters));
    }
    Ok(CustomerPage { items, next })
}

/// `GET /customers/{number}`.
pub fn customer(store: &Store, session: &Session, number: &str) -> Result<Customer> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let reach = reach(session);
    let c = store::open_api::customer_by_number(&conn, number, &reach)?.ok_or_else(|| Error::not_found(format!("customer {number}")))?;
    let meters = store::open_api::serials_of_customer(&conn, c.id, &reach)?.into_iter().map(|m| m.1).collect();
    Ok(customer_of(c, meters))
}

/// `GET /customers/{number}/consumption`: the consumption of each of the customer's meters
/// per day or month (per hour: interval data) over a period, only while the customer
/// occupied it (a bucket outside the customer's occupancy is left out).
pub fn customer_consumption(store: &Store, session: &Session, number: &str, q: &ConsumptionQuery) -> Result<CustomerConsumption> {
    session.permit(Permission::View)?;
    let resolution = q.resolution.as_deref().unwrap_or("month");
    let res = match resolution {
        "hour" => Resolution::Hour,
        "day" => Resolution::Day,
        "month" => Resolution::Month,
        other => {
            return Err(Error::invalid("resolution", Reason::Unknown { value: other.into(), allowed: vec!["hour".into(), "day".into(), "month".into()] }))
        }
    };
    let (tz, c, meters, occupancies, period) = {
        let conn = store.reader()?;
        let tz = tz_of(&conn)?;
        let reach = reach(session);
        let c = store::open_api::customer_by_number(&conn, number, &reach)?.ok_or_else(|| Error::not_found(format!("customer {number}")))?;
        let meters = store::open_api::serials_of_customer(&conn, c.id, &reach)?;
        let occupancies = store::occupancies::of_customer(&conn, c.id)?;
        let period = parse_period(tz, q.from.as_deref(), q.to.as_deref())?;
        (tz, c, meters, occupancies, period)
    };
    let mut out = Vec::new();
    for (meter_id, serial, manufacturer) in meters {
        let h = crate::meters::meter_histogram(
            store,
            session,
            &HistogramQuery { meter_id, register: None, resolution: res, from: period.from_date, to: period.to_date, now: None, fit_to_readings: false },
        )?;
        let mine: Vec<_> = occupancies.iter().filter(|o| o.meter_id == meter_id).collect();
        let occupied = |start: i64| mine.is_empty() || mine.iter().any(|o| o.from.is_none_or(|f| start >= f) && o.to.is_none_or(|t| start < t));
        let items = h.buckets.into_iter().filter(|b| occupied(b.start)).map(|b| Point { time: iso(tz, b.start), value: b.value }).collect();
        out.push(MeterConsumption { serial, manufacturer, register: h.register.into(), unit: h.unit.into(), kind: h.kind.into(), items });
    }
    Ok(CustomerConsumption { customer: c.customer.number, resolution: resolution.into(), from: iso(tz, period.from), to: iso(tz, period.to), meters: out })
}

/// `GET /exchanges`: meter exchanges by id after the cursor, optionally in a period.
pub fn exchanges(store: &Store, session: &Session, q: &ExchangesQuery) -> Result<ExchangePage> {
    session.permit(Permission::View)?;
    let limit = limit(q.limit, 100, MAX_LIMIT)?;
    let after = after(q.after)?;
    let conn = store.reader()?;
    let tz = tz_of(&conn)?;
    let (from, to) = if q.from.is_some() || q.to.is_some() {
        let p = parse_period(tz, q.from.as_deref(), q.to.as_deref())?;
        (p.from, p.to)
    } else {
        (i64::MIN, i64::MAX)
    };
    let rows = store::open_api::exchanges(&conn, after, limit, from, to, &reach(session))?;
    let next = (rows.len() == limit).then(|| rows.last().map(|x| x.id)).flatten();
    Ok(ExchangePage { items: rows.into_iter().map(|x| exchange_of(tz, x)).collect(), next })
}

fn exchange_of(tz: Tz, x: store::open_api::ExchangeRow) -> Exchange {
    Exchange {
        id: x.id,
        old_serial: x.old_serial,
        old_manufacturer: x.old_manufacturer,
        new_serial: x.new_serial,
        new_manufacturer: x.new_manufacturer,
        at: iso(tz, x.at),
        register: x.register,
        final_value: x.final_value,
        initial_value: x.initial_value,
    }
}

/// `POST /exchanges`: a billing system that performed an exchange in the field records it
/// (the same rules as a clerk's exchange: final reading not below the last one, not in the
/// future, ...).
pub fn exchange_create(store: &Store, session: &Session, req: &NewExchange, now: i64) -> Result<Exchange> {
    session.permit(Permission::EditMeters)?;
    let (old, tz) = {
        let conn = store.reader()?;
        (one_meter(&conn, session, &req.old_serial, req.old_manufacturer.as_deref())?, tz_of(&conn)?)
    };
    let at = time::parse_instant(tz, "at", &req.at)?;
    let local = at.with_timezone(&tz).naive_local();
    let done = crate::exchange::meter_exchange(
        store,
        session,
        &crate::exchange::ExchangeRequest {
            old_id: old.id,
            new_serial: &req.new_serial,
            new_manufacturer: req.new_manufacturer.as_deref(),
            at: local,
            final_value: req.final_value,
            initial_value: req.initial_value,
        },
        now,
    )?;
    let conn = store.reader()?;
    let row = store::open_api::exchanges(&conn, done.id - 1, 1, i64::MIN, i64::MAX, &Reach::default())?
        .into_iter()
        .next()
        .ok_or_else(|| Error::not_found(format!("exchange {}", done.id)))?;
    Ok(exchange_of(tz, row))
}
