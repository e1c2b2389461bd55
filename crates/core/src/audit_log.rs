//! The audit log screen: who did what, when, from which computer; filtered by period, event
//! type, user and computer, paged newest first, exported as CSV (the export itself is audited).
//! Reading it needs the permission `audit` (the manager's by default).

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::problem::Reason;
use crate::store::audit::{self, Column, Filter, Row};
use crate::store::Store;
use chrono::{NaiveDate, TimeZone};
use serde::Serialize;

/// A page holds at most this many entries.
pub const MAX_PAGE: i64 = 500;
/// An export holds at most this many entries (the newest); `truncated` says when more matched.
pub const MAX_EXPORT: i64 = 200_000;

/// The screen's filters: a period of local dates (both included), exact event type, user and
/// computer; `before` is where the page starts (the `next` of the page before).
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub event: Option<String>,
    pub user: Option<String>,
    pub computer: Option<String>,
    pub before: Option<Cursor>,
    pub limit: i64,
}

/// Where a page starts: after the entry (`at`, `id`).
#[derive(Debug, Clone, Copy, Serialize, serde::Deserialize, PartialEq)]
pub struct Cursor {
    pub at: i64,
    pub id: i64,
}

#[derive(Debug, Serialize)]
pub struct AuditPage {
    pub entries: Vec<Row>,
    /// The start of the next (older) page; None on the last page.
    pub next: Option<Cursor>,
    /// The values the filters offer (first page only: `before` not given).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub choices: Option<Choices>,
}

/// Event types, users and computers found in the log, sorted.
#[derive(Debug, Serialize)]
pub struct Choices {
    pub events: Vec<String>,
    pub users: Vec<String>,
    pub computers: Vec<String>,
}

/// One page of the audit log.
pub fn audit_log(store: &Store, session: &Session, q: &AuditQuery) -> Result<AuditPage> {
    session.permit(Permission::Audit)?;
    let conn = store.reader()?;
    let filter = filter_of(&conn, q)?;
    let limit = q.limit.clamp(1, MAX_PAGE);
    let mut entries = audit::query(&conn, &filter, limit + 1)?;
    let next = if entries.len() as i64 > limit {
        entries.truncate(limit as usize);
        entries.last().map(|r| Cursor { at: r.at, id: r.id })
    } else {
        None
    };
    let choices = match q.before {
        Some(_) => None,
        None => Some(Choices {
            events: audit::distinct(&conn, Column::Event)?,
            users: audit::distinct(&conn, Column::User)?,
            computers: audit::distinct(&conn, Column::Computer)?,
        }),
    };
    Ok(AuditPage { entries, next, choices })
}

/// The audit log as a CSV file (`;`-separated, UTF-8 with a byte-order mark for spreadsheet
/// programs): time (local, the utility's time zone), event, user, computer, details.
#[derive(Debug, Serialize)]
pub struct AuditCsv {
    pub file_name: String,
    pub content: String,
    pub rows: u64,
    /// More entries matched than an export holds ([`MAX_EXPORT`]): the newest are in it.
    pub truncated: bool,
}

/// Export the entries matching `q` (newest first); writes one audit entry itself.
pub fn audit_log_export(store: &Store, session: &Session, q: &AuditQuery, now: i64) -> Result<AuditCsv> {
    let permit = session.permit(Permission::Audit)?;
    let (rows, tz) = {
        let conn = store.reader()?;
        let filter = Filter { before: None, ..filter_of(&conn, q)? };
        (audit::query(&conn, &filter, MAX_EXPORT + 1)?, crate::settings::timezone(&conn)?)
    };
    let truncated = rows.len() as i64 > MAX_EXPORT;
    let rows = &rows[..rows.len().min(MAX_EXPORT as usize)];
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(Vec::new());
    w.write_record(["time", "event", "user", "computer", "details"])?;
    for r in rows {
        let time = tz.timestamp_opt(r.at, 0).single().map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()).unwrap_or_default();
        w.write_record([time.as_str(), &r.event, &r.user, &r.computer, &r.details])?;
    }
    let bytes = w.into_inner().map_err(|e| Error::bad_input("csv", e.to_string()))?;
    let content = format!("\u{feff}{}", String::from_utf8_lossy(&bytes));
    let day = tz.timestamp_opt(now, 0).single().map(|t| t.format("%Y-%m-%d").to_string()).unwrap_or_default();
    let details = format!("{} entries{}{}", rows.len(), if truncated { " (the newest; more matched)" } else { "" }, describe(q));
    {
        let conn = store.writer();
        audit::record_permit(&conn, permit, now, "audit_log_exported", &details)?;
    }
    Ok(AuditCsv { file_name: format!("audit-log-{day}.csv"), content, rows: rows.len() as u64, truncated })
}

/// The filters of `q` in words, for the export's own audit entry.
fn describe(q: &AuditQuery) -> String {
    let mut parts = Vec::new();
    if let Some(d) = q.from {
        parts.push(format!("from {d}"));
    }
    if let Some(d) = q.to {
        parts.push(format!("to {d}"));
    }
    for (name, v) in [("event", &q.event), ("user", &q.user), ("computer", &q.computer)] {
        if let Some(v) = v {
            parts.push(format!("{name} {v}"));
        }
    }
    if parts.is_empty() {
        String::new()
    } else {
        format!(": {}", parts.join(", "))
    }
}

/// A screen's period of local dates (`from` and `to` included, either open) as Unix seconds
/// in the utility's time zone: the start of `from`, the start of the day after `to`. A `to`
/// before `from` is refused.
pub(crate) fn local_day_bounds(
    conn: &rusqlite::Connection,
    from: Option<NaiveDate>,
    to: Option<NaiveDate>,
) -> Result<(Option<i64>, Option<i64>)> {
    if let (Some(from), Some(to)) = (from, to) {
        if to < from {
            return Err(Error::invalid("to", Reason::EndsBeforeStart { from: from.to_string(), to: to.to_string() }));
        }
    }
    let tz = crate::settings::timezone(conn)?;
    let start = |d: NaiveDate| -> Option<i64> {
        let midnight = d.and_hms_opt(0, 0, 0)?;
        tz.from_local_datetime(&midnight).earliest().map(|t| t.timestamp())
    };
    Ok((from.and_then(start), to.and_then(|d| d.succ_opt()).and_then(start)))
}

/// A filter's text trimmed, or none when empty.
pub(crate) fn trimmed(v: &Option<String>) -> Option<String> {
    v.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// The store's filter: local dates to Unix seconds in the utility's time zone.
fn filter_of(conn: &rusqlite::Connection, q: &AuditQuery) -> Result<Filter> {
    let (from, to) = local_day_bounds(conn, q.from, q.to)?;
    Ok(Filter {
        from,
        to,
        event: trimmed(&q.event),
        user: trimmed(&q.user),
        computer: trimmed(&q.computer),
        before: q.before.map(|c| (c.at, c.id)),
    })
}
