//! Table `info_code_events`: when each info code of a meter started, was last seen, ended.

use super::{MeterLabel, LABEL_COLUMNS};
use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Event {
    pub code: String,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub ended_at: Option<i64>,
}

// `open_of` and `overlapping` run once per meter (the import, the export, a meter's
// screens): cached, `meter_id = ?1 + 0` (see the module `store`).

/// `open_of`: the partial index of ongoing events.
pub(super) const OPEN_OF: &str = "SELECT code, started_at, last_seen_at, ended_at FROM info_code_events
     WHERE meter_id = ?1 + 0 AND started_at < ?3 AND coalesce(ended_at, last_seen_at) >= ?2 AND ended_at IS NULL
     ORDER BY started_at";

/// `overlapping`: a primary-key range of one meter.
pub(super) const OVERLAPPING: &str = "SELECT code, started_at, last_seen_at, ended_at FROM info_code_events
     WHERE meter_id = ?1 + 0 AND started_at < ?3 AND coalesce(ended_at, last_seen_at) >= ?2
     ORDER BY started_at";

/// The meter's ongoing events.
pub fn open_of(conn: &Connection, meter_id: i64) -> Result<Vec<Event>> {
    events(conn, OPEN_OF, meter_id, i64::MIN, i64::MAX)
}

/// Events of a meter that overlap [from, to).
pub fn overlapping(conn: &Connection, meter_id: i64, from: i64, to: i64) -> Result<Vec<Event>> {
    events(conn, OVERLAPPING, meter_id, from, to)
}

fn events(conn: &Connection, sql: &str, meter_id: i64, from: i64, to: i64) -> Result<Vec<Event>> {
    let mut stmt = conn.prepare_cached(sql)?;
    let rows = stmt.query_map(params![meter_id, from, to], event_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn event_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Event> {
    Ok(Event { code: r.get(0)?, started_at: r.get(1)?, last_seen_at: r.get(2)?, ended_at: r.get(3)? })
}

/// Every event that overlaps [from, to) (of the meters of group `group_id` if given), by
/// meter and start, to `each(meter_id, event)`: `overlapping` for all meters in one pass
/// (one scan of the table instead of one query per meter).
pub fn overlapping_all(
    conn: &Connection,
    from: i64,
    to: i64,
    group_id: Option<i64>,
    each: &mut dyn FnMut(i64, Event) -> Result<()>,
) -> Result<()> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, started_at, last_seen_at, ended_at, meter_id FROM info_code_events
         WHERE started_at < ?2 AND coalesce(ended_at, last_seen_at) >= ?1
           AND (?3 IS NULL OR meter_id IN (SELECT meter_id FROM meter_group_members WHERE group_id = ?3))
         ORDER BY meter_id, started_at",
    )?;
    let mut rows = stmt.query(params![from, to, group_id])?;
    while let Some(r) = rows.next()? {
        each(r.get(4)?, event_row(r)?)?;
    }
    Ok(())
}

/// Insert or update an event (keyed by meter, code and start).
pub fn upsert(conn: &Connection, meter_id: i64, e: &Event) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO info_code_events(meter_id, code, started_at, last_seen_at, ended_at) VALUES (?1,?2,?3,?4,?5)
         ON CONFLICT(meter_id, code, started_at) DO UPDATE SET last_seen_at = excluded.last_seen_at, ended_at = excluded.ended_at",
    )?
    .execute(params![meter_id, e.code, e.started_at, e.last_seen_at, e.ended_at])?;
    Ok(())
}

/// Which events the overview lists: ongoing ones, or those that ended since a time.
#[derive(Debug, Clone, Copy)]
pub enum Which {
    Open,
    EndedSince(i64),
}

/// Filter and order of the info-code overview. `codes` must be known codes (they are
/// written into the SQL as literals); `severity` is the order of codes, worst first.
#[derive(Debug, Clone)]
pub struct OverviewFilter<'a> {
    pub which: Which,
    pub codes: &'a [&'static str],
    pub severity: &'a [&'static str],
    pub group_id: Option<i64>,
    pub started_after: Option<i64>,
    pub order: OverviewOrder,
    pub now: i64,
    /// How far the events are handled (acknowledged, assigned).
    pub handling: Handling<'a>,
}

/// The overview's filter on the handling of alarms; each is served by an index.
#[derive(Debug, Clone, Copy, Default)]
pub enum Handling<'a> {
    #[default]
    Any,
    Acknowledged,
    NotAcknowledged,
    /// Assigned to this login.
    AssignedTo(&'a str),
    /// Assigned to anyone.
    Assigned,
}

#[derive(Debug, Clone, Copy)]
pub enum OverviewOrder {
    Newest,
    Severity,
    Duration,
}

/// One event of the overview with what a clerk needs to call the customer.
#[derive(Debug, Clone, Serialize)]
pub struct OverviewRow {
    pub meter_id: i64,
    #[serde(flatten)]
    pub label: MeterLabel,
    pub manufacturer: String,
    pub device_type: String,
    pub phone: Option<String>,
    pub code: String,
    pub started_at: i64,
    pub last_seen_at: i64,
    pub ended_at: Option<i64>,
    /// Seconds from the start to the end, or to now while ongoing.
    pub duration: i64,
    pub ack_at: Option<i64>,
    pub ack_by: Option<String>,
    pub assigned_to: Option<String>,
    /// Number of comments, and the last one.
    pub comments: i64,
    pub last_comment: Option<Comment>,
}

/// A comment on an alarm.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Comment {
    pub at: i64,
    pub author: String,
    pub body: String,
}

fn overview_where(f: &OverviewFilter<'_>) -> String {
    let which = match f.which {
        // ?3 unused here, but every statement takes the same parameters.
        Which::Open => "e.ended_at IS NULL AND ?3 IS NOT NULL",
        Which::EndedSince(_) => "e.ended_at IS NOT NULL AND e.ended_at >= ?3",
    };
    let codes: Vec<String> = f
        .codes
        .iter()
        .filter(|c| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        .map(|c| format!("'{c}'"))
        .collect();
    // Written out so that each filter has its index; `?7 IS NULL` keeps the parameter.
    let handling = match f.handling {
        Handling::Any => "?7 IS NULL",
        Handling::Acknowledged => "e.ack_at IS NOT NULL AND ?7 IS NULL",
        Handling::NotAcknowledged => "e.ack_at IS NULL AND ?7 IS NULL",
        Handling::AssignedTo(_) => "e.assigned_to = ?7",
        Handling::Assigned => "e.assigned_to IS NOT NULL AND ?7 IS NULL",
    };
    format!(
        "FROM info_code_events e JOIN meters m ON m.id = e.meter_id LEFT JOIN customers c ON c.id = m.customer_id
         WHERE {which} AND e.code IN ({}) AND {handling}
           AND (?1 IS NULL OR e.meter_id IN (SELECT meter_id FROM meter_group_members WHERE group_id = ?1))
           AND (?2 IS NULL OR e.started_at >= ?2)",
        if codes.is_empty() { "NULL".to_string() } else { codes.join(",") }
    )
}

fn since_of(f: &OverviewFilter<'_>) -> i64 {
    match f.which {
        Which::EndedSince(t) => t,
        Which::Open => 0,
    }
}

fn who_of<'a>(f: &OverviewFilter<'a>) -> Option<&'a str> {
    match f.handling {
        Handling::AssignedTo(login) => Some(login),
        _ => None,
    }
}

/// Number of events matching the filter.
pub fn overview_count(conn: &Connection, f: &OverviewFilter<'_>) -> Result<i64> {
    let sql = format!("SELECT count(*) {}", overview_where(f));
    let p = params![f.group_id, f.started_after, since_of(f), None::<i64>, None::<i64>, None::<i64>, who_of(f)];
    Ok(conn.prepare_cached(&sql)?.query_row(p, |r| r.get(0))?)
}

/// One page of events matching the filter; `limit` -1 for all.
pub fn overview(conn: &Connection, f: &OverviewFilter<'_>, offset: i64, limit: i64) -> Result<Vec<OverviewRow>> {
    let rank: Vec<String> = f
        .severity
        .iter()
        .enumerate()
        .filter(|(_, c)| c.chars().all(|ch| ch.is_ascii_lowercase() || ch == '_'))
        .map(|(i, c)| format!("WHEN '{c}' THEN {i}"))
        .collect();
    let duration = "(coalesce(e.ended_at, ?4) - e.started_at)";
    let order = match f.order {
        OverviewOrder::Newest => "e.started_at DESC".to_string(),
        OverviewOrder::Severity => format!("CASE e.code {} ELSE 99 END, e.started_at DESC", rank.join(" ")),
        OverviewOrder::Duration => format!("{duration} DESC"),
    };
    let sql = format!(
        "SELECT e.meter_id, m.manufacturer, m.device_type, c.phone, e.code, e.started_at, e.last_seen_at, e.ended_at,
                {duration}, e.ack_at, e.ack_by, e.assigned_to,
                (SELECT count(*) FROM alarm_comments k WHERE k.meter_id = e.meter_id AND k.code = e.code AND k.started_at = e.started_at),
                l.at, l.author, l.body, {LABEL_COLUMNS}
         {} ORDER BY {order}, e.meter_id, e.code LIMIT ?5 OFFSET ?6",
        overview_where(f)
    );
    // The last comment of each event (the index `alarm_comments_of` by event, newest id).
    let sql = sql.replacen(
        "LEFT JOIN customers c ON c.id = m.customer_id",
        "LEFT JOIN customers c ON c.id = m.customer_id
         LEFT JOIN alarm_comments l ON l.id = (SELECT max(k.id) FROM alarm_comments k
              WHERE k.meter_id = e.meter_id AND k.code = e.code AND k.started_at = e.started_at)",
        1,
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![f.group_id, f.started_after, since_of(f), f.now, limit, offset, who_of(f)], |r| {
        let last_at: Option<i64> = r.get(13)?;
        Ok(OverviewRow {
            meter_id: r.get(0)?,
            label: MeterLabel::from_row(r, 16)?,
            manufacturer: r.get(1)?,
            device_type: r.get(2)?,
            phone: r.get(3)?,
            code: r.get(4)?,
            started_at: r.get(5)?,
            last_seen_at: r.get(6)?,
            ended_at: r.get(7)?,
            duration: r.get(8)?,
            ack_at: r.get(9)?,
            ack_by: r.get(10)?,
            assigned_to: r.get(11)?,
            comments: r.get(12)?,
            last_comment: match last_at {
                Some(at) => Some(Comment { at, author: r.get(14)?, body: r.get(15)? }),
                None => None,
            },
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One alarm: an event of a meter, by its key.
#[derive(Debug, Clone, Copy)]
pub struct AlarmKey<'a> {
    pub meter_id: i64,
    pub code: &'a str,
    pub started_at: i64,
}

/// An alarm with its handling and every comment (oldest first).
#[derive(Debug, Clone, Serialize)]
pub struct Alarm {
    pub meter_id: i64,
    #[serde(flatten)]
    pub event: Event,
    pub ack_at: Option<i64>,
    pub ack_by: Option<String>,
    pub assigned_to: Option<String>,
    pub comments: Vec<Comment>,
}

/// The alarm of key `k`, if it exists.
pub fn alarm(conn: &Connection, k: AlarmKey<'_>) -> Result<Option<Alarm>> {
    let head = conn
        .prepare_cached(
            "SELECT code, started_at, last_seen_at, ended_at, ack_at, ack_by, assigned_to FROM info_code_events
             WHERE meter_id = ?1 AND code = ?2 AND started_at = ?3",
        )?
        .query_row(params![k.meter_id, k.code, k.started_at], |r| Ok((event_row(r)?, r.get(4)?, r.get(5)?, r.get(6)?)))
        .optional()?;
    let Some((event, ack_at, ack_by, assigned_to)) = head else { return Ok(None) };
    let mut stmt = conn.prepare_cached(
        "SELECT at, author, body FROM alarm_comments WHERE meter_id = ?1 AND code = ?2 AND started_at = ?3 ORDER BY id",
    )?;
    let comments = stmt
        .query_map(params![k.meter_id, k.code, k.started_at], |r| Ok(Comment { at: r.get(0)?, author: r.get(1)?, body: r.get(2)? }))?
        .collect::<rusqlite::Result<_>>()?;
    Ok(Some(Alarm { meter_id: k.meter_id, event, ack_at, ack_by, assigned_to, comments }))
}

/// Acknowledge (`Some((at, login))`) or take the acknowledgement back (`None`).
pub fn set_ack(conn: &Connection, k: AlarmKey<'_>, ack: Option<(i64, &str)>) -> Result<usize> {
    Ok(conn
        .prepare_cached("UPDATE info_code_events SET ack_at = ?4, ack_by = ?5 WHERE meter_id = ?1 AND code = ?2 AND started_at = ?3")?
        .execute(params![k.meter_id, k.code, k.started_at, ack.map(|a| a.0), ack.map(|a| a.1)])?)
}

/// Assign to a login, or to nobody.
pub fn set_assigned(conn: &Connection, k: AlarmKey<'_>, login: Option<&str>) -> Result<usize> {
    Ok(conn
        .prepare_cached("UPDATE info_code_events SET assigned_to = ?4 WHERE meter_id = ?1 AND code = ?2 AND started_at = ?3")?
        .execute(params![k.meter_id, k.code, k.started_at, login])?)
}

pub fn add_comment(conn: &Connection, k: AlarmKey<'_>, c: &Comment) -> Result<()> {
    conn.prepare_cached("INSERT INTO alarm_comments(meter_id, code, started_at, at, author, body) VALUES (?1,?2,?3,?4,?5,?6)")?
        .execute(params![k.meter_id, k.code, k.started_at, c.at, c.author, c.body])?;
    Ok(())
}
