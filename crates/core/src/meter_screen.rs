//! What a clerk does on one meter's screen besides looking: its readings table page by page
//! (where each reading came from, the consumption since the one before), a reading entered
//! or corrected by hand (a reason required, audited, the raw telegram and the replaced value
//! kept in `reading_edits`), and the meter and its customer edited (address, GPS, customer,
//! status with "to remove", notes).

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::model::Register;
use crate::problem::{num, Problem, Reason};
use crate::store::{self, meter_screen as table, Store};
use chrono::{NaiveDate, NaiveDateTime, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;

/// A hand-entered reading may be this far (seconds) ahead of the server's clock: the clerk's
/// watch and the server's disagree by a few minutes.
pub const CLOCK_SKEW: i64 = 5 * 60;
/// Readings a page holds at most.
pub const MAX_PAGE: i64 = 500;
const MAX_REASON: usize = 500;
const MAX_NOTES: usize = 2000;

/// Where a reading came from, as the table names it.
pub fn source_of(row: &table::ReadingRow) -> &'static str {
    if row.edit.as_deref() == Some("manual") {
        return "manual";
    }
    if row.telegram_id.is_none() {
        return if row.exchange { "exchange" } else { "manual" };
    }
    if row.gateway_kind.as_deref() == Some("lorawan") {
        return "lorawan";
    }
    let name = row.import_source.as_deref().unwrap_or("");
    if name.starts_with("optical ") {
        "optical"
    } else if name.starts_with("mbus ") {
        "mbus"
    } else if name.ends_with(": mqtt") {
        "mqtt"
    } else if row.gateway.is_some() || name.starts_with("push to ") {
        "gateway"
    } else {
        "file"
    }
}

#[derive(Debug, Clone)]
pub struct ReadingsQuery {
    pub meter_id: i64,
    /// A register id (`volume`, `a_plus`, ...); default: the meter's main index.
    pub register: Option<String>,
    /// Local dates, `to` included.
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    /// The page after this one: readings strictly before this time (the previous page's `next_before`).
    pub before: Option<i64>,
    pub limit: i64,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct RegisterChoice {
    pub register: &'static str,
    pub label: &'static str,
    pub unit: &'static str,
    pub index: bool,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ReadingLine {
    pub ts: i64,
    /// In the register's shown unit.
    pub value: f64,
    /// Since the reading before it (index registers), in the same unit.
    pub consumption: Option<f64>,
    /// `file`, `gateway`, `mqtt`, `mbus`, `optical`, `lorawan`, `manual`, `exchange`.
    pub source: &'static str,
    /// The import's name (the file, the source), when it came through one.
    pub source_name: Option<String>,
    pub gateway: Option<String>,
    /// `manual` (entered by hand) or `correction` (a received value corrected by hand).
    pub edit: Option<String>,
    /// The telegram it was decoded from (kept raw), none for a hand-entered one.
    pub telegram_id: Option<i64>,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ReadingsPage {
    pub register: &'static str,
    pub unit: &'static str,
    pub registers: Vec<RegisterChoice>,
    pub rows: Vec<ReadingLine>,
    /// Ask `before: next_before` for the next (older) page; none at the end.
    pub next_before: Option<i64>,
    /// One reading per local day (the day's last): the session may not see interval data.
    pub daily: bool,
}

fn local_midnight(tz: Tz, d: NaiveDate) -> Result<i64> {
    d.and_hms_opt(0, 0, 0)
        .and_then(|n| tz.from_local_datetime(&n).earliest())
        .map(|t| t.timestamp())
        .ok_or_else(|| Error::invalid("from", Reason::NotADate { value: d.to_string() }))
}

fn local_day(tz: Tz, ts: i64) -> Option<NaiveDate> {
    tz.timestamp_opt(ts, 0).single().map(|t| t.date_naive())
}

fn meter_of(conn: &rusqlite::Connection, id: i64) -> Result<store::meters::Meter> {
    store::meters::get(conn, id)?.ok_or_else(|| Error::not_found(format!("meter {id}")))
}

/// The register `id` of meter `m`, or its main index; refused naming the meter when unknown.
fn register_of(m: &store::meters::Meter, id: Option<&str>) -> Result<Register> {
    match id.map(str::trim).filter(|s| !s.is_empty()) {
        None => Ok(Register::default_for(&m.device_type)),
        Some(id) => Register::from_id(id).ok_or_else(|| {
            Error::Refused(Problem::MeterField {
                meter: m.serial.clone(),
                field: "register",
                reason: Reason::Unknown { value: id.to_string(), allowed: Register::ALL.iter().map(|r| r.id().to_string()).collect() },
            })
        }),
    }
}

/// One page of a meter's readings of one register, newest first, in a period. A session
/// without `view_intervals` gets the last reading of each local day only.
pub fn meter_readings(store: &Store, session: &Session, q: &ReadingsQuery) -> Result<ReadingsPage> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    page(&conn, session, q)
}

fn page(conn: &rusqlite::Connection, session: &Session, q: &ReadingsQuery) -> Result<ReadingsPage> {
    let m = meter_of(conn, q.meter_id)?;
    let register = register_of(&m, q.register.as_deref())?;
    let tz = crate::settings::timezone(conn)?;
    if let (Some(from), Some(to)) = (q.from, q.to) {
        if to < from {
            return Err(Error::invalid("to", Reason::EndsBeforeStart { from: from.to_string(), to: to.to_string() }));
        }
    }
    let from = q.from.map(|d| local_midnight(tz, d)).transpose()?.unwrap_or(i64::MIN);
    let to = q.to.map(|d| local_midnight(tz, d + chrono::Duration::days(1))).transpose()?.unwrap_or(i64::MAX);
    let before = q.before.map_or(to, |b| b.min(to));
    let limit = q.limit.clamp(1, MAX_PAGE);
    let daily = !session.sees_intervals();
    // limit + 1 rows: the extra one gives the last row its consumption and says there is more.
    let mut kept: Vec<table::ReadingRow> = Vec::new();
    if daily {
        let mut cursor = before;
        // The cursor is a day's last reading: that day is done.
        let mut last_day = q.before.and_then(|b| local_day(tz, b));
        'scan: for _ in 0..1000 {
            let chunk = table::readings_page(conn, m.id, register.code(), from, cursor, 1000)?;
            let Some(oldest) = chunk.last().map(|r| r.ts) else { break };
            let n = chunk.len();
            for row in chunk {
                let day = local_day(tz, row.ts);
                if day != last_day {
                    last_day = day;
                    kept.push(row);
                    if kept.len() as i64 > limit {
                        break 'scan;
                    }
                }
            }
            if n < 1000 {
                break;
            }
            cursor = oldest;
        }
    } else {
        kept = table::readings_page(conn, m.id, register.code(), from, before, limit + 1)?;
    }
    let more = kept.len() as i64 > limit;
    let mut rows = Vec::with_capacity(kept.len());
    for (i, r) in kept.iter().enumerate().take(limit as usize) {
        let consumption = match kept.get(i + 1) {
            // Rounded to a millionth: the difference of two decimals carries binary noise.
            Some(older) if register.is_cumulative() => Some(((register.shown(r.value) - register.shown(older.value)) * 1e6).round() / 1e6),
            _ => None,
        };
        rows.push(ReadingLine {
            ts: r.ts,
            value: register.shown(r.value),
            consumption,
            source: source_of(r),
            source_name: r.import_source.clone(),
            gateway: r.gateway.clone(),
            edit: r.edit.clone(),
            telegram_id: r.telegram_id,
        });
    }
    let next_before = if more { rows.last().map(|r| r.ts) } else { None };
    let mut registers: Vec<RegisterChoice> = table::registers_of(conn, m.id)?
        .into_iter()
        .filter_map(Register::from_code)
        .map(|r| RegisterChoice { register: r.id(), label: r.label(), unit: r.shown_unit(), index: r.is_cumulative() })
        .collect();
    if !registers.iter().any(|c| c.register == register.id()) {
        registers.insert(0, RegisterChoice { register: register.id(), label: register.label(), unit: register.shown_unit(), index: register.is_cumulative() });
    }
    Ok(ReadingsPage { register: register.id(), unit: register.shown_unit(), registers, rows, next_before, daily })
}

/// A reading entered by hand (`meter_reading_add`).
#[derive(Debug, Clone)]
pub struct ReadingEntry<'a> {
    pub meter_id: i64,
    /// Default: the meter's main index.
    pub register: Option<&'a str>,
    /// Local time of the utility's time zone.
    pub at: NaiveDateTime,
    /// In the register's unit.
    pub value: f64,
    pub reason: &'a str,
    /// Keep an index below the previous one (or above the next): a reset or an exchange.
    pub confirm: bool,
}

#[derive(Debug, Serialize, PartialEq)]
pub struct ReadingSaved {
    pub edit_id: i64,
    pub register: &'static str,
    pub ts: i64,
    pub value: f64,
    pub old_value: Option<f64>,
}

fn check_reason(meter: &str, reason: &str) -> Result<String> {
    let r = reason.trim();
    if r.is_empty() {
        return Err(Error::Refused(Problem::MeterField { meter: meter.to_string(), field: "reason", reason: Reason::Required }));
    }
    if r.chars().count() > MAX_REASON {
        return Err(Error::Refused(Problem::MeterField { meter: meter.to_string(), field: "reason", reason: Reason::TooLong { max: MAX_REASON } }));
    }
    Ok(r.to_string())
}

/// A register a clerk may enter or correct by hand: an index (what a clerk reads on a dial).
fn entry_register(m: &store::meters::Meter, id: Option<&str>) -> Result<Register> {
    let r = register_of(m, id)?;
    if !r.is_index() {
        let allowed = Register::ALL.iter().filter(|r| r.is_index()).map(|r| r.id().to_string()).collect();
        return Err(Error::Refused(Problem::MeterField {
            meter: m.serial.clone(),
            field: "register",
            reason: Reason::Unknown { value: r.id().to_string(), allowed },
        }));
    }
    Ok(r)
}

/// Refuse a value that is not a number of at least 0, or (unless `confirm`) an index below
/// the reading before `ts` or above the one after it.
fn check_value(conn: &rusqlite::Connection, m: &store::meters::Meter, register: Register, ts: i64, value: f64, confirm: bool) -> Result<()> {
    if !value.is_finite() || value < 0.0 {
        return Err(Error::Refused(Problem::NegativeReading { meter: m.serial.clone(), field: "value" }));
    }
    if confirm {
        return Ok(());
    }
    let unit = register.unit();
    if let Some((previous_at, previous)) = store::readings::last_before(conn, m.id, register.code(), ts)? {
        if value < previous {
            return Err(Error::Refused(Problem::ReadingBelowPrevious { meter: m.serial.clone(), value, previous, previous_at, unit }));
        }
    }
    if let Some((next_at, next)) = table::first_after(conn, m.id, register.code(), ts)? {
        if value > next {
            return Err(Error::Refused(Problem::ReadingAboveNext { meter: m.serial.clone(), value, next, next_at, unit }));
        }
    }
    Ok(())
}

fn local_text(tz: Tz, ts: i64) -> String {
    tz.timestamp_opt(ts, 0).single().map_or_else(|| ts.to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string())
}

/// Enter a reading by hand (`import`: a reading brought in, like a file's). Stored with no
/// telegram and a `manual` edit; audited `reading_entered`.
pub fn meter_reading_add(store: &Store, session: &Session, e: &ReadingEntry<'_>, now: i64) -> Result<ReadingSaved> {
    let permit = session.permit(Permission::Import)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let m = meter_of(&tx, e.meter_id)?;
    let reason = check_reason(&m.serial, e.reason)?;
    let register = entry_register(&m, e.register)?;
    let tz = crate::settings::timezone(&tx)?;
    let ts = tz
        .from_local_datetime(&e.at)
        .earliest()
        .map(|t| t.timestamp())
        .ok_or_else(|| Error::Refused(Problem::NoSuchLocalTime { at: e.at.format("%Y-%m-%d %H:%M").to_string(), timezone: tz.to_string() }))?;
    if ts > now + CLOCK_SKEW {
        return Err(Error::Refused(Problem::ReadingInFuture { meter: m.serial.clone(), at: ts }));
    }
    if let Some((value, _)) = table::reading_at(&tx, m.id, register.code(), ts)? {
        return Err(Error::Refused(Problem::ReadingExists { meter: m.serial.clone(), at: ts, value, unit: register.unit() }));
    }
    check_value(&tx, &m, register, ts, e.value, e.confirm)?;
    store::readings::put(&tx, &store::readings::Reading { meter_id: m.id, register: register.code(), ts, value: e.value, telegram_id: None }, now)?;
    let edit_id = table::insert_edit(
        &tx,
        &table::NewEdit {
            meter_id: m.id,
            register: register.code(),
            ts,
            kind: "manual",
            value: e.value,
            old_value: None,
            old_telegram_id: None,
            reason: &reason,
            user: &session.login,
            computer: &session.computer,
            at: now,
        },
    )?;
    let details = format!(
        "meter {} (#{}) {} at {}: {} {}{}; reason: {reason}",
        m.serial,
        m.id,
        register.id(),
        local_text(tz, ts),
        num(e.value),
        register.unit(),
        if e.confirm { " (confirmed against its neighbours)" } else { "" }
    );
    store::audit::record_permit(&tx, permit, now, "reading_entered", &details)?;
    tx.commit()?;
    store.changed(&[m.id]);
    Ok(ReadingSaved { edit_id, register: register.id(), ts, value: e.value, old_value: None })
}

/// A stored reading corrected by hand (`meter_reading_correct`).
#[derive(Debug, Clone)]
pub struct ReadingCorrection<'a> {
    pub meter_id: i64,
    pub register: Option<&'a str>,
    /// The reading's time (Unix seconds, as the table gives it).
    pub ts: i64,
    pub value: f64,
    pub reason: &'a str,
    pub confirm: bool,
}

/// Correct a stored reading (`edit_meters`): the new value replaces it everywhere, its
/// telegram stays raw, the replaced value is kept in the `correction` edit; audited
/// `reading_corrected` with the old and new value.
pub fn meter_reading_correct(store: &Store, session: &Session, c: &ReadingCorrection<'_>, now: i64) -> Result<ReadingSaved> {
    let permit = session.permit(Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let m = meter_of(&tx, c.meter_id)?;
    let reason = check_reason(&m.serial, c.reason)?;
    let register = entry_register(&m, c.register)?;
    let Some((old_value, old_telegram)) = table::reading_at(&tx, m.id, register.code(), c.ts)? else {
        return Err(Error::Refused(Problem::NoSuchReading { meter: m.serial.clone(), at: c.ts }));
    };
    check_value(&tx, &m, register, c.ts, c.value, c.confirm)?;
    let tz = crate::settings::timezone(&tx)?;
    store::readings::put(&tx, &store::readings::Reading { meter_id: m.id, register: register.code(), ts: c.ts, value: c.value, telegram_id: old_telegram }, now)?;
    let edit_id = table::insert_edit(
        &tx,
        &table::NewEdit {
            meter_id: m.id,
            register: register.code(),
            ts: c.ts,
            kind: "correction",
            value: c.value,
            old_value: Some(old_value),
            old_telegram_id: old_telegram,
            reason: &reason,
            user: &session.login,
            computer: &session.computer,
            at: now,
        },
    )?;
    let unit = register.unit();
    let details = format!(
        "meter {} (#{}) {} at {}: {} {unit} -> {} {unit}{}; reason: {reason}",
        m.serial,
        m.id,
        register.id(),
        local_text(tz, c.ts),
        num(old_value),
        num(c.value),
        old_telegram.map_or_else(String::new, |t| format!(" (telegram {t} kept)"))
    );
    store::audit::record_permit(&tx, permit, now, "reading_corrected", &details)?;
    tx.commit()?;
    store.changed(&[m.id]);
    Ok(ReadingSaved { edit_id, register: register.id(), ts: c.ts, value: c.value, old_value: Some(old_value) })
}

/// A reading entered or corrected by hand, as the chart marks it.
#[derive(Debug, Serialize, PartialEq)]
pub struct ManualMark {
    pub register: &'static str,
    pub ts: i64,
    /// `manual` or `correction`.
    pub kind: String,
    pub value: f64,
    pub old_value: Option<f64>,
    pub reason: String,
    pub user: String,
    pub at: i64,
}

/// A meter's hand edits, newest first (at most 500), for the chart and the history.
pub fn manual_marks(conn: &rusqlite::Connection, meter_id: i64) -> Result<Vec<ManualMark>> {
    Ok(table::edits_of(conn, meter_id, 500)?
        .into_iter()
        .filter_map(|e| {
            let r = Register::from_code(e.register)?;
            Some(ManualMark { register: r.id(), ts: e.ts, kind: e.kind, value: e.value, old_value: e.old_value, reason: e.reason, user: e.user, at: e.at })
        })
        .collect())
}

/// A meter's fields as a clerk edits them (`meter_update`).
#[derive(Debug, Clone)]
pub struct MeterUpdate<'a> {
    pub id: i64,
    pub address: &'a str,
    pub postal_code: &'a str,
    pub city: &'a str,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// The customer's number; empty: no customer.
    pub customer_number: &'a str,
    /// `active`, `to_remove` (à déposer), `unassigned` or `removed`.
    pub status: &'a str,
    pub notes: &'a str,
}

pub const STATUSES: [&str; 4] = ["active", "to_remove", "unassigned", "removed"];

#[derive(Debug, Serialize, PartialEq)]
pub struct MeterUpdated {
    pub id: i64,
    /// The fields that changed (none: nothing written).
    pub changed: Vec<&'static str>,
}

fn text(meter: &str, field: &'static str, value: &str, max: usize) -> Result<String> {
    let v = value.trim();
    if v.chars().count() > max {
        return Err(Error::Refused(Problem::MeterField { meter: meter.to_string(), field, reason: Reason::TooLong { max } }));
    }
    Ok(v.to_string())
}

fn coordinate(meter: &str, field: &'static str, v: Option<f64>, limit: f64) -> Result<Option<f64>> {
    match v {
        Some(x) if !x.is_finite() || x < -limit || x > limit => {
            Err(Error::Refused(Problem::MeterField { meter: meter.to_string(), field, reason: Reason::OutOfRange { value: x, min: -limit, max: limit } }))
        }
        other => Ok(other),
    }
}

fn shown_status(status: &str, to_remove: bool) -> &str {
    if status == "active" && to_remove {
        "to_remove"
    } else {
        status
    }
}

/// Change a meter's address, GPS, customer, status and notes (`edit_meters`); audited
/// `meter_edited` with each changed field's old and new value. Status `removed` removes the
/// meter now (its open info codes end, as at an exchange); a removed meter's status stays.
pub fn meter_update(store: &Store, session: &Session, u: &MeterUpdate<'_>, now: i64) -> Result<MeterUpdated> {
    let permit = session.permit(Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let m = meter_of(&tx, u.id)?;
    let s = m.serial.as_str();
    let address = text(s, "address", u.address, 200)?;
    let postal_code = text(s, "postal_code", u.postal_code, 16)?;
    let city = text(s, "city", u.city, 100)?;
    let notes = text(s, "notes", u.notes, MAX_NOTES)?;
    let lat = coordinate(s, "lat", u.lat, 90.0)?;
    let lon = coordinate(s, "lon", u.lon, 180.0)?;
    match (lat, lon) {
        (Some(_), None) => return Err(Error::Refused(Problem::MeterField { meter: s.to_string(), field: "lon", reason: Reason::NeededWith { other: "lat".into() } })),
        (None, Some(_)) => return Err(Error::Refused(Problem::MeterField { meter: s.to_string(), field: "lat", reason: Reason::NeededWith { other: "lon".into() } })),
        _ => {}
    }
    let status = u.status.trim();
    if !STATUSES.contains(&status) {
        return Err(Error::Refused(Problem::MeterField {
            meter: s.to_string(),
            field: "status",
            reason: Reason::Unknown { value: status.to_string(), allowed: STATUSES.iter().map(|x| x.to_string()).collect() },
        }));
    }
    let (old_notes, old_to_remove) = table::notes(&tx, m.id)?;
    let old_status = shown_status(&m.status, old_to_remove).to_string();
    if m.status == "removed" && status != "removed" {
        return Err(Error::Refused(Problem::MeterRemoved { meter: s.to_string() }));
    }
    let number = u.customer_number.trim();
    let customer_id = if number.is_empty() {
        None
    } else {
        let (id, _) = store::customers::by_number(&tx, number)?
            .ok_or_else(|| Error::Refused(Problem::NoSuchCustomer { meter: s.to_string(), number: number.to_string() }))?;
        if Some(id) != m.customer_id && table::customer_moved_out(&tx, id)? {
            return Err(Error::Refused(Problem::MeterField { meter: s.to_string(), field: "customer_number", reason: Reason::MovedOut { number: number.to_string() } }));
        }
        Some(id)
    };
    let old_customer = match m.customer_id {
        Some(id) => store::customers::get(&tx, id)?.map(|c| c.number).unwrap_or_default(),
        None => String::new(),
    };
    let gps = |lat: Option<f64>, lon: Option<f64>| match (lat, lon) {
        (Some(a), Some(b)) => format!("{a:.6}, {b:.6}"),
        _ => String::new(),
    };
    let mut changed = Vec::new();
    let mut details = Vec::new();
    let mut diff = |field: &'static str, old: &str, new: &str| {
        if old != new {
            changed.push(field);
            details.push(format!("{field}: '{old}' -> '{new}'"));
        }
    };
    diff("address", &m.address, &address);
    diff("postal_code", &m.postal_code, &postal_code);
    diff("city", &m.city, &city);
    diff("gps", &gps(m.lat, m.lon), &gps(lat, lon));
    diff("customer", &old_customer, number);
    diff("status", &old_status, status);
    diff("notes", &old_notes, &notes);
    if changed.is_empty() {
        return Ok(MeterUpdated { id: m.id, changed });
    }
    let fields = table::MeterFields {
        address,
        postal_code,
        city,
        lat,
        lon,
        customer_id,
        status: if m.status == "removed" || status == "removed" {
            m.status.clone()
        } else if status == "to_remove" {
            "active".into()
        } else {
            status.to_string()
        },
        to_remove: status == "to_remove",
        notes,
    };
    table::set_fields(&tx, m.id, &fields)?;
    if status == "removed" && m.status != "removed" {
        store::meters::set_removed(&tx, m.id, now)?;
    }
    store::audit::record_permit(&tx, permit, now, "meter_edited", &format!("meter {s} (#{}): {}", m.id, details.join("; ")))?;
    tx.commit()?;
    Ok(MeterUpdated { id: m.id, changed })
}

/// Customers to choose from by number or name (`view`), at most 50.
pub fn customers_search(store: &Store, session: &Session, search: &str, limit: i64) -> Result<Vec<table::CustomerChoice>> {
    session.permit(Permission::View)?;
    table::customers_matching(&*store.reader()?, search.trim(), limit.clamp(1, 50))
}

/// A customer's name, number and contact as a clerk edits them (`customer_update`).
#[derive(Debug, Clone)]
pub struct CustomerUpdate<'a> {
    pub id: i64,
    pub number: &'a str,
    pub name: &'a str,
    pub email: &'a str,
    pub phone: &'a str,
}

/// Change a customer's number, name, e-mail and phone (`edit_meters`); audited
/// `customer_edited` with old and new values. A moved-out customer (a pseudonym) is not
/// given personal data again.
pub fn customer_update(store: &Store, session: &Session, u: &CustomerUpdate<'_>, now: i64) -> Result<Vec<&'static str>> {
    let permit = session.permit(Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let old = store::customers::get(&tx, u.id)?.ok_or_else(|| Error::not_found(format!("customer {}", u.id)))?;
    let who = old.number.clone();
    let refuse = |field: &'static str, reason: Reason| Error::Refused(Problem::CustomerField { customer: who.clone(), field, reason });
    if table::customer_moved_out(&tx, u.id)? {
        return Err(refuse("name", Reason::MovedOut { number: old.number.clone() }));
    }
    let mut fields = Vec::new();
    for (field, value, max, required) in [("number", u.number, 32, true), ("name", u.name, 100, true), ("email", u.email, 200, false), ("phone", u.phone, 40, false)] {
        let v = value.trim();
        if required && v.is_empty() {
            return Err(refuse(field, Reason::Required));
        }
        if v.chars().count() > max {
            return Err(refuse(field, Reason::TooLong { max }));
        }
        fields.push(v.to_string());
    }
    if !fields[2].is_empty() && !fields[2].contains('@') {
        return Err(refuse("email", Reason::Unreadable { detail: "an e-mail address has an @".into() }));
    }
    if fields[0] != old.number {
        if let Some((other, _)) = store::customers::by_number(&tx, &fields[0])? {
            if other != u.id {
                return Err(Error::Refused(Problem::CustomerNumberTaken { number: fields[0].clone() }));
            }
        }
    }
    let opt = |s: &str| if s.is_empty() { None } else { Some(s.to_string()) };
    let new = store::customers::Customer {
        number: fields[0].clone(),
        name: fields[1].clone(),
        email: opt(&fields[2]),
        phone: opt(&fields[3]),
        ..old.clone()
    };
    let mut changed = Vec::new();
    let mut details = Vec::new();
    let pairs = [
        ("number", old.number.clone(), new.number.clone()),
        ("name", old.name.clone(), new.name.clone()),
        ("email", old.email.clone().unwrap_or_default(), new.email.clone().unwrap_or_default()),
        ("phone", old.phone.clone().unwrap_or_default(), new.phone.clone().unwrap_or_default()),
    ];
    for (field, a, b) in pairs {
        if a != b {
            changed.push(field);
            details.push(format!("{field}: '{a}' -> '{b}'"));
        }
    }
    if changed.is_empty() {
        return Ok(changed);
    }
    table::set_customer(&tx, u.id, &new)?;
    store::audit::record_permit(&tx, permit, now, "customer_edited", &format!("customer {who} (#{}): {}", u.id, details.join("; ")))?;
    tx.commit()?;
    Ok(changed)
}

/// How a meter's readings are written as CSV: the readings export's options.
#[derive(Debug, Clone, Copy)]
pub struct CsvOptions {
    pub encoding: crate::billing::Encoding,
    pub separator: u8,
    pub decimal: char,
    /// French column titles and dates `31/01/2026 14:05:09`.
    pub french: bool,
}

#[derive(Debug, Serialize)]
pub struct ReadingsCsv {
    pub file_name: String,
    #[serde(skip)]
    pub bytes: Vec<u8>,
    pub rows: u64,
    /// More than `MAX_CSV_ROWS` readings in the period: the newest only.
    pub truncated: bool,
}

/// Readings a CSV holds at most (ask a shorter period for more).
pub const MAX_CSV_ROWS: usize = 100_000;

const CSV_COLUMNS: [&str; 8] = ["timestamp", "register", "value", "unit", "consumption", "source", "gateway", "edit"];
const CSV_TITLES_FR: [&str; 8] = ["Date", "Registre", "Index", "Unité", "Consommation", "Source", "Passerelle", "Saisie"];

fn source_words(source: &str, french: bool) -> &str {
    if !french {
        return source;
    }
    match source {
        "file" => "fichier de relève",
        "gateway" => "passerelle",
        "optical" => "tête optique",
        "manual" => "saisie manuelle",
        "exchange" => "échange de compteur",
        other => other,
    }
}

/// The table's rows of the period (every page, newest first, one a day without
/// `view_intervals`) as CSV with the readings export's writer (`export`); audited `export`.
pub fn meter_readings_export(store: &Store, session: &Session, q: &ReadingsQuery, o: &CsvOptions, now: i64) -> Result<ReadingsCsv> {
    let permit = session.permit(Permission::Export)?;
    let (serial, tz, register, unit, lines, truncated) = {
        let conn = store.reader()?;
        let m = meter_of(&conn, q.meter_id)?;
        let tz = crate::settings::timezone(&conn)?;
        let mut lines = Vec::new();
        let mut query = ReadingsQuery { before: None, limit: MAX_PAGE, ..q.clone() };
        let mut first = page(&conn, session, &query)?;
        let (register, unit) = (first.register, first.unit);
        loop {
            lines.append(&mut first.rows);
            match first.next_before {
                Some(b) if lines.len() < MAX_CSV_ROWS => {
                    query.before = Some(b);
                    first = page(&conn, session, &query)?;
                }
                _ => break,
            }
        }
        let truncated = lines.len() > MAX_CSV_ROWS || first.next_before.is_some();
        lines.truncate(MAX_CSV_ROWS);
        (m.serial, tz, register, unit, lines, truncated)
    };
    let number = |v: f64| crate::export::format_value(v, o.decimal);
    let rows: Vec<Vec<String>> = lines
        .iter()
        .map(|r| {
            vec![
                crate::export::local_date_time(tz, r.ts, o.french),
                register.to_string(),
                number(r.value),
                unit.to_string(),
                r.consumption.map(number).unwrap_or_default(),
                source_words(r.source, o.french).to_string(),
                r.gateway.clone().unwrap_or_default(),
                r.edit.clone().unwrap_or_default(),
            ]
        })
        .collect();
    let titles: &[&str] = if o.french { &CSV_TITLES_FR } else { &CSV_COLUMNS };
    let mut bytes = Vec::new();
    crate::export::write_table(&mut bytes, o.encoding, o.separator, &CSV_COLUMNS, titles, &rows, &serial)?;
    let details = format!("meter {serial} (#{}) readings of {register}: {} rows, {}", q.meter_id, rows.len(), o.encoding.id());
    store::audit::record_permit(&store.writer(), permit, now, "export", &details)?;
    Ok(ReadingsCsv { file_name: format!("releve-{serial}-{register}.csv"), bytes, rows: rows.len() as u64, truncated })
}
