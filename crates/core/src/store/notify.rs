//! Tables `notify_rules` and `notices`: alarm notification rules and the notices sent.

use super::{MeterLabel, LABEL_COLUMNS};
use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

/// A notification rule as stored (lists are kept joined in their columns).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Rule {
    pub id: Option<i64>,
    pub name: String,
    pub codes: Vec<String>,
    pub group_id: Option<i64>,
    pub customer_class: Option<String>,
    pub min_duration_minutes: i64,
    pub quiet_from: Option<String>,
    pub quiet_to: Option<String>,
    #[serde(default)]
    pub email_to: Vec<String>,
    #[serde(default)]
    pub sms_to: Vec<String>,
    pub enabled: bool,
}

fn split(s: String, sep: char) -> Vec<String> {
    s.split(sep).filter(|x| !x.is_empty()).map(str::to_string).collect()
}

fn rule_of(r: &Row<'_>) -> rusqlite::Result<Rule> {
    Ok(Rule {
        id: r.get(0)?,
        name: r.get(1)?,
        codes: split(r.get(2)?, ','),
        group_id: r.get(3)?,
        customer_class: r.get(4)?,
        min_duration_minutes: r.get(5)?,
        quiet_from: r.get(6)?,
        quiet_to: r.get(7)?,
        email_to: split(r.get(8)?, '\n'),
        sms_to: split(r.get(9)?, '\n'),
        enabled: r.get(10)?,
    })
}

const RULE_COLS: &str = "id, name, codes, group_id, customer_class, min_duration_minutes, quiet_from, quiet_to, email_to, sms_to, enabled";

pub fn rules(conn: &Connection) -> Result<Vec<Rule>> {
    let mut stmt = conn.prepare_cached(&format!("SELECT {RULE_COLS} FROM notify_rules ORDER BY name, id"))?;
    let rows = stmt.query_map([], rule_of)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn rule(conn: &Connection, id: i64) -> Result<Option<Rule>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {RULE_COLS} FROM notify_rules WHERE id = ?1"))?
        .query_row([id], rule_of)
        .optional()?)
}

/// Insert (id None) or update a rule; returns its id.
pub fn save_rule(conn: &Connection, r: &Rule, now: i64) -> Result<i64> {
    let codes = r.codes.join(",");
    let email = r.email_to.join("\n");
    let sms = r.sms_to.join("\n");
    match r.id {
        Some(id) => {
            conn.execute(
                "UPDATE notify_rules SET name=?2, codes=?3, group_id=?4, customer_class=?5, min_duration_minutes=?6,
                 quiet_from=?7, quiet_to=?8, email_to=?9, sms_to=?10, enabled=?11, updated_at=?12 WHERE id=?1",
                params![id, r.name, codes, r.group_id, r.customer_class, r.min_duration_minutes, r.quiet_from, r.quiet_to, email, sms, r.enabled, now],
            )?;
            Ok(id)
        }
        None => {
            conn.execute(
                "INSERT INTO notify_rules(name, codes, group_id, customer_class, min_duration_minutes, quiet_from, quiet_to,
                 email_to, sms_to, enabled, updated_at) VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11)",
                params![r.name, codes, r.group_id, r.customer_class, r.min_duration_minutes, r.quiet_from, r.quiet_to, email, sms, r.enabled, now],
            )?;
            Ok(conn.last_insert_rowid())
        }
    }
}

pub fn delete_rule(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM notify_rules WHERE id = ?1", [id])? > 0)
}

/// An info-code event with what a notice names.
#[derive(Debug, Clone, Serialize)]
pub struct Candidate {
    pub meter_id: i64,
    #[serde(flatten)]
    pub label: MeterLabel,
    pub code: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
}

/// Events of `codes` (in the rule's group and customer class, if any): the ongoing ones
/// (`since` None), or those that started before `until` and were ongoing at or after `since`.
pub fn candidates(conn: &Connection, r: &Rule, since: Option<i64>, until: i64) -> Result<Vec<Candidate>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT e.meter_id, e.code, e.started_at, e.ended_at, {LABEL_COLUMNS}
         FROM info_code_events e JOIN meters m ON m.id = e.meter_id LEFT JOIN customers c ON c.id = m.customer_id
         WHERE instr(',' || ?1 || ',', ',' || e.code || ',') > 0
           AND (?2 IS NULL OR e.meter_id IN (SELECT meter_id FROM meter_group_members WHERE group_id = ?2))
           AND (?3 IS NULL OR substr(c.number, 1, length(?3)) = ?3)
           AND e.started_at <= ?5
           AND ((?4 IS NULL AND e.ended_at IS NULL) OR (?4 IS NOT NULL AND coalesce(e.ended_at, ?5) >= ?4))
         ORDER BY e.started_at, e.meter_id, e.code"
    ))?;
    let rows = stmt.query_map(params![r.codes.join(","), r.group_id, r.customer_class, since, until], |r| {
        Ok(Candidate {
            meter_id: r.get(0)?,
            label: MeterLabel::from_row(r, 4)?,
            code: r.get(1)?,
            started_at: r.get(2)?,
            ended_at: r.get(3)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Key of one notice.
#[derive(Debug, Clone, Copy)]
pub struct NoticeKey<'a> {
    pub rule_id: i64,
    pub meter_id: i64,
    pub code: &'a str,
    pub started_at: i64,
    pub channel: &'a str,
    pub recipient: &'a str,
}

/// True if this notice was already sent successfully.
pub fn was_sent(conn: &Connection, k: &NoticeKey<'_>) -> Result<bool> {
    Ok(conn
        .prepare_cached(
            "SELECT EXISTS(SELECT 1 FROM notices WHERE rule_id=?1 AND meter_id=?2 AND code=?3 AND started_at=?4
             AND channel=?5 AND recipient=?6 AND status='sent')",
        )?
        .query_row(params![k.rule_id, k.meter_id, k.code, k.started_at, k.channel, k.recipient], |r| r.get(0))?)
}

/// Record an attempt: `error` None when sent.
pub fn record(conn: &Connection, k: &NoticeKey<'_>, at: i64, error: Option<&str>) -> Result<()> {
    let status = if error.is_some() { "failed" } else { "sent" };
    conn.prepare_cached(
        "INSERT INTO notices(rule_id, meter_id, code, started_at, channel, recipient, sent_at, status, error)
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9)
         ON CONFLICT(rule_id, meter_id, code, started_at, channel, recipient) DO UPDATE SET
           sent_at = excluded.sent_at, status = excluded.status, error = excluded.error, attempts = attempts + 1",
    )?
    .execute(params![k.rule_id, k.meter_id, k.code, k.started_at, k.channel, k.recipient, at, status, error])?;
    Ok(())
}

/// One line of the log of notices.
#[derive(Debug, Clone, Serialize)]
pub struct Notice {
    pub rule_id: i64,
    pub rule_name: Option<String>,
    /// The gateway's id for code `gateway_silent`.
    pub meter_id: i64,
    /// The meter's serial, or the gateway's name for code `gateway_silent`.
    pub serial: Option<String>,
    pub code: String,
    pub started_at: i64,
    pub channel: String,
    pub recipient: String,
    pub sent_at: i64,
    pub status: String,
    pub error: Option<String>,
    pub attempts: i64,
}

/// The latest notices, newest first.
pub fn notices(conn: &Connection, limit: i64) -> Result<Vec<Notice>> {
    let mut stmt = conn.prepare_cached(
        "SELECT n.rule_id, r.name, n.meter_id, coalesce(m.serial, g.name), n.code, n.started_at, n.channel, n.recipient, n.sent_at,
                n.status, n.error, n.attempts
         FROM notices n LEFT JOIN notify_rules r ON r.id = n.rule_id
              LEFT JOIN meters m ON m.id = n.meter_id AND n.code <> 'gateway_silent'
              LEFT JOIN gateways g ON g.id = n.meter_id AND n.code = 'gateway_silent'
         ORDER BY n.sent_at DESC, n.id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Notice {
            rule_id: r.get(0)?,
            rule_name: r.get(1)?,
            meter_id: r.get(2)?,
            serial: r.get(3)?,
            code: r.get(4)?,
            started_at: r.get(5)?,
            channel: r.get(6)?,
            recipient: r.get(7)?,
            sent_at: r.get(8)?,
            status: r.get(9)?,
            error: r.get(10)?,
            attempts: r.get(11)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}
