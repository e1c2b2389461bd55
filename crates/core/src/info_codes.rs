//! The info-code overview: meters with ongoing info codes, and apart from them those whose
//! codes ended in the last 30 days; which codes matter is a setting of each user (or of
//! everyone); the list exports to CSV for calling customers.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::model::INFO_CODES;
use crate::store::info_codes::{Alarm, AlarmKey, Comment, Handling, OverviewFilter, OverviewOrder, OverviewRow, Which};
use crate::store::{self, Store};
use chrono::TimeZone;
use serde::Serialize;
use std::io::Write;

/// Codes from the worst to the mildest.
pub const SEVERITY: [&str; 9] =
    ["burst", "leak", "reverse", "tamper", "dry", "silent", "low_battery", "permanent_error", "temporary_error"];

/// Ended events stay in the "recent" list this long.
pub const RECENT_DAYS: i64 = 30;

const GLOBAL_KEY: &str = "info_codes.watched";

fn user_key(session: &Session) -> String {
    format!("{GLOBAL_KEY}.user.{}", session.user_id)
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum State {
    Active,
    Recent,
}

impl State {
    pub fn parse(s: &str) -> Result<State> {
        match s {
            "active" => Ok(State::Active),
            "recent" => Ok(State::Recent),
            o => Err(Error::bad_input("state", format!("'{o}' is not one of active, recent"))),
        }
    }
}

pub fn parse_sort(s: &str) -> Result<OverviewOrder> {
    match s {
        "newest" => Ok(OverviewOrder::Newest),
        "severity" => Ok(OverviewOrder::Severity),
        "duration" => Ok(OverviewOrder::Duration),
        o => Err(Error::bad_input("sort", format!("'{o}' is not one of newest, severity, duration"))),
    }
}

/// Known codes from strings, in severity order; an unknown code is an error.
pub fn parse_codes(codes: &[String]) -> Result<Vec<&'static str>> {
    for c in codes {
        if !INFO_CODES.contains(&c.as_str()) {
            return Err(Error::bad_input("codes", format!("unknown info code '{c}'")));
        }
    }
    Ok(SEVERITY.into_iter().filter(|s| codes.iter().any(|c| c == s)).collect())
}

#[derive(Debug, Clone)]
pub struct OverviewQuery {
    pub state: State,
    /// None: the codes the user watches.
    pub codes: Option<Vec<String>>,
    pub group_id: Option<i64>,
    /// Only events that started in the last N days.
    pub period_days: Option<i64>,
    pub sort: OverviewOrder,
    pub offset: i64,
    pub limit: i64,
    /// How far the alarms are handled (acknowledged, assigned).
    pub handling: HandlingQuery,
    /// Only events that started today (local time, from the setting `timezone`).
    pub today: bool,
}

/// The overview's filter on the handling of alarms.
#[derive(Debug, Clone, Default, PartialEq)]
pub enum HandlingQuery {
    #[default]
    Any,
    Acknowledged,
    NotAcknowledged,
    /// Assigned to the session's user.
    Mine,
    /// Assigned to anyone.
    Assigned,
    /// Assigned to this login.
    AssignedTo(String),
}

impl HandlingQuery {
    /// `acknowledged`, `not_acknowledged`, `mine`, `assigned`; with `assigned_to`, that login.
    pub fn parse(handling: Option<&str>, assigned_to: Option<&str>) -> Result<HandlingQuery> {
        if let Some(login) = assigned_to {
            return Ok(HandlingQuery::AssignedTo(login.to_string()));
        }
        match handling.unwrap_or("") {
            "" | "any" => Ok(HandlingQuery::Any),
            "acknowledged" => Ok(HandlingQuery::Acknowledged),
            "not_acknowledged" => Ok(HandlingQuery::NotAcknowledged),
            "mine" => Ok(HandlingQuery::Mine),
            "assigned" => Ok(HandlingQuery::Assigned),
            o => Err(Error::bad_input("handling", format!("'{o}' is not one of any, acknowledged, not_acknowledged, mine, assigned"))),
        }
    }
}

#[derive(Debug, Serialize)]
pub struct Overview {
    /// Events matching the filter, ongoing and ended in the last 30 days.
    pub active: i64,
    pub recent: i64,
    /// The codes listed.
    pub codes: Vec<&'static str>,
    pub rows: Vec<OverviewRow>,
    /// The colleagues an alarm can be assigned to (active users).
    pub assignees: Vec<Assignee>,
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Assignee {
    pub login: String,
    pub name: String,
}

/// The local midnight that began the day of `now`.
pub fn today_start(conn: &rusqlite::Connection, now: i64) -> Result<i64> {
    let tz = crate::settings::timezone(conn)?;
    let day = tz.timestamp_opt(now, 0).single().map(|t| t.date_naive()).ok_or_else(|| Error::bad_input("now", "not a time"))?;
    let midnight = day.and_hms_opt(0, 0, 0).ok_or_else(|| Error::bad_input("now", "not a time"))?;
    Ok(tz.from_local_datetime(&midnight).earliest().map_or(now - now.rem_euclid(86_400), |t| t.timestamp()))
}

fn filter<'a>(q: &'a OverviewQuery, codes: &'a [&'static str], session: &'a Session, today: i64, now: i64) -> Result<OverviewFilter<'a>> {
    if let Some(d) = q.period_days {
        if d <= 0 {
            return Err(Error::bad_input("period_days", "the period is a positive number of days"));
        }
    }
    Ok(OverviewFilter {
        which: match q.state {
            State::Active => Which::Open,
            State::Recent => Which::EndedSince(now - RECENT_DAYS * 86_400),
        },
        codes,
        severity: &SEVERITY,
        group_id: q.group_id,
        started_after: match (q.today, q.period_days) {
            (true, _) => Some(today),
            (false, d) => d.map(|d| now - d * 86_400),
        },
        order: q.sort,
        now,
        handling: match &q.handling {
            HandlingQuery::Any => Handling::Any,
            HandlingQuery::Acknowledged => Handling::Acknowledged,
            HandlingQuery::NotAcknowledged => Handling::NotAcknowledged,
            HandlingQuery::Mine => Handling::AssignedTo(&session.login),
            HandlingQuery::Assigned => Handling::Assigned,
            HandlingQuery::AssignedTo(login) => Handling::AssignedTo(login),
        },
    })
}

fn assignees(conn: &rusqlite::Connection) -> Result<Vec<Assignee>> {
    Ok(store::users::all(conn)?
        .into_iter()
        .filter(|u| u.active)
        .map(|u| Assignee { login: u.login, name: u.name })
        .collect())
}

fn codes_for(conn: &rusqlite::Connection, session: &Session, q: &OverviewQuery) -> Result<Vec<&'static str>> {
    match &q.codes {
        Some(c) => parse_codes(c),
        None => Ok(watched_of(conn, session)?.codes),
    }
}

/// One page (at most 1,000 rows) of the overview, with the counts of both lists.
pub fn info_codes_overview(store: &Store, session: &Session, q: &OverviewQuery, now: i64) -> Result<Overview> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let codes = codes_for(&conn, session, q)?;
    let today = today_start(&conn, now)?;
    let mut f = filter(q, &codes, session, today, now)?;
    let rows = store::info_codes::overview(&conn, &f, q.offset.max(0), q.limit.clamp(1, 1000))?;
    f.which = Which::Open;
    let active = store::info_codes::overview_count(&conn, &f)?;
    f.which = Which::EndedSince(now - RECENT_DAYS * 86_400);
    let recent = store::info_codes::overview_count(&conn, &f)?;
    let assignees = assignees(&conn)?;
    Ok(Overview { active, recent, codes, rows, assignees })
}

/// The number of ongoing events matching `q` (the overview's "active" count, without the
/// page): the start page's counts. The caller checks the permission.
pub(crate) fn active_count(conn: &rusqlite::Connection, session: &Session, q: &OverviewQuery, now: i64) -> Result<i64> {
    let codes = codes_for(conn, session, q)?;
    let today = today_start(conn, now)?;
    let mut f = filter(q, &codes, session, today, now)?;
    f.which = Which::Open;
    store::info_codes::overview_count(conn, &f)
}

/// The whole list as CSV (`;`-separated, one line per meter and code) for calling the
/// customers; returns the number of rows. Needs `export`.
pub fn info_codes_export(store: &Store, session: &Session, q: &OverviewQuery, out: &mut dyn Write, now: i64) -> Result<u64> {
    let permit = session.permit(Permission::Export)?;
    let conn = store.reader()?;
    let codes = codes_for(&conn, session, q)?;
    let today = today_start(&conn, now)?;
    let f = filter(q, &codes, session, today, now)?;
    let tz = crate::settings::timezone(&conn)?;
    let rows = store::info_codes::overview(&conn, &f, 0, -1)?;
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(out);
    w.write_record(store::MeterLabel::CONTACT_COLUMNS.into_iter().chain([
        "phone", "meter_serial", "code", "since", "ended", "duration_days",
    ]))?;
    let local = |ts: i64| tz.timestamp_opt(ts, 0).single().map_or(ts.to_string(), |t| t.format("%Y-%m-%d %H:%M").to_string());
    for r in &rows {
        w.write_record(r.label.contact_values().into_iter().chain([
            r.phone.clone().unwrap_or_default(),
            r.label.serial.clone(),
            r.code.clone(),
            local(r.started_at),
            r.ended_at.map(local).unwrap_or_default(),
            format!("{:.1}", r.duration as f64 / 86_400.0).replace('.', ","),
        ]))?;
    }
    w.flush().map_err(|e| Error::io("info code export", e))?;
    drop(conn);
    let state = if q.state == State::Active { "active" } else { "recent" };
    store::audit::record_permit(&store.writer(), permit, now, "export", &format!("info codes ({state}): {} rows", rows.len()))?;
    Ok(rows.len() as u64)
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Watched {
    pub codes: Vec<&'static str>,
    /// Where the choice comes from: `user`, `global` or `default` (all codes).
    pub scope: &'static str,
}

fn parse_list(s: &str) -> Vec<&'static str> {
    SEVERITY.into_iter().filter(|c| s.split(',').any(|x| x.trim() == *c)).collect()
}

fn watched_of(conn: &rusqlite::Connection, session: &Session) -> Result<Watched> {
    if let Some(v) = store::settings::get(conn, &user_key(session))? {
        return Ok(Watched { codes: parse_list(&v), scope: "user" });
    }
    if let Some(v) = store::settings::get(conn, GLOBAL_KEY)? {
        return Ok(Watched { codes: parse_list(&v), scope: "global" });
    }
    Ok(Watched { codes: SEVERITY.to_vec(), scope: "default" })
}

/// The codes the session's user watches: their own choice, else everyone's, else all.
pub fn info_codes_watched(store: &Store, session: &Session) -> Result<Watched> {
    session.permit(Permission::View)?;
    watched_of(&*store.reader()?, session)
}

/// Choose the watched codes for oneself, or (`global`, needs `settings`) for everyone:
/// a global choice also clears the caller's own so that they see it.
pub fn info_codes_set_watched(store: &Store, session: &Session, codes: &[String], global: bool, now: i64) -> Result<Watched> {
    let permit = session.permit(if global { Permission::Settings } else { Permission::View })?;
    let codes = parse_codes(codes)?;
    let value = codes.join(",");
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if global {
        store::settings::set(&tx, GLOBAL_KEY, &value)?;
        store::settings::delete(&tx, &user_key(session))?;
    } else {
        store::settings::set(&tx, &user_key(session), &value)?;
    }
    let scope = if global { "global" } else { "user" };
    store::audit::record_permit(&tx, permit, now, "info_codes_watched", &format!("{scope}: {value}"))?;
    tx.commit()?;
    Ok(Watched { codes, scope })
}

/// One alarm (an info-code event) by its key, as the API names it.
#[derive(Debug, Clone)]
pub struct AlarmRef {
    pub meter_id: i64,
    pub code: String,
    pub started_at: i64,
}

impl AlarmRef {
    fn key(&self) -> AlarmKey<'_> {
        AlarmKey { meter_id: self.meter_id, code: &self.code, started_at: self.started_at }
    }

    fn what(&self) -> String {
        format!("alarm {} of meter {} started at {}", self.code, self.meter_id, self.started_at)
    }
}

/// The longest comment, in characters.
pub const MAX_COMMENT_CHARS: usize = 2000;

fn alarm_of(conn: &rusqlite::Connection, a: &AlarmRef) -> Result<Alarm> {
    store::info_codes::alarm(conn, a.key())?.ok_or_else(|| Error::not_found(a.what()))
}

/// An alarm with its handling and its comments (ongoing or ended: a closed alarm keeps its
/// history).
pub fn alarm_get(store: &Store, session: &Session, a: &AlarmRef) -> Result<Alarm> {
    session.permit(Permission::View)?;
    alarm_of(&*store.reader()?, a)
}

/// Acknowledge an alarm (`ack`), or take the acknowledgement back. Handling alarms needs
/// `view`: the clerk who calls the customers (role user: view and export) does it; it
/// changes neither the park nor the readings, and each change is audited with its author.
pub fn alarm_acknowledge(store: &Store, session: &Session, a: &AlarmRef, ack: bool, now: i64) -> Result<Alarm> {
    let permit = session.permit(Permission::View)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    alarm_of(&tx, a)?;
    store::info_codes::set_ack(&tx, a.key(), ack.then_some((now, session.login.as_str())))?;
    let event = if ack { "alarm_acknowledge" } else { "alarm_unacknowledge" };
    store::audit::record_permit(&tx, permit, now, event, &a.what())?;
    let out = alarm_of(&tx, a)?;
    tx.commit()?;
    Ok(out)
}

/// Assign an alarm to a colleague (an active user's login), or to nobody (`None`).
pub fn alarm_assign(store: &Store, session: &Session, a: &AlarmRef, login: Option<&str>, now: i64) -> Result<Alarm> {
    let permit = session.permit(Permission::View)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    alarm_of(&tx, a)?;
    let login = login.map(str::trim).filter(|l| !l.is_empty());
    if let Some(l) = login {
        match store::users::by_login(&tx, l)? {
            Some(u) if u.active => {}
            _ => return Err(Error::not_found(format!("user {l}"))),
        }
    }
    store::info_codes::set_assigned(&tx, a.key(), login)?;
    store::audit::record_permit(&tx, permit, now, "alarm_assign", &format!("{} to {}", a.what(), login.unwrap_or("nobody")))?;
    let out = alarm_of(&tx, a)?;
    tx.commit()?;
    Ok(out)
}

/// Add a comment ("client appelé le ...") to an alarm, by the session's user, at `now`.
pub fn alarm_comment(store: &Store, session: &Session, a: &AlarmRef, body: &str, now: i64) -> Result<Alarm> {
    let permit = session.permit(Permission::View)?;
    let body = body.trim();
    if body.is_empty() {
        return Err(Error::bad_input("comment", "a comment cannot be empty"));
    }
    if body.chars().count() > MAX_COMMENT_CHARS {
        return Err(Error::bad_input("comment", format!("a comment holds at most {MAX_COMMENT_CHARS} characters")));
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    alarm_of(&tx, a)?;
    store::info_codes::add_comment(&tx, a.key(), &Comment { at: now, author: session.login.clone(), body: body.to_string() })?;
    let chars = body.chars().count();
    store::audit::record_permit(&tx, permit, now, "alarm_comment", &format!("{}: {chars} characters", a.what()))?;
    let out = alarm_of(&tx, a)?;
    tx.commit()?;
    Ok(out)
}
