//! Table `audit_log`: who did what, when, from which computer.

use crate::access::Permit;
use crate::error::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

/// At most this many characters of a user, computer or details are kept in an entry (a
/// login typed by anyone reaches the log); a longer one is cut and ends with `…`.
pub const MAX_FIELD_CHARS: usize = 2_000;

pub fn record(conn: &Connection, at: i64, event: &str, user: &str, computer: &str, details: &str) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO audit_log(at, event, user, computer, details) VALUES (?1, ?2, ?3, ?4, ?5)",
    )?
    .execute(params![at, bounded(event), bounded(user), bounded(computer), bounded(details)])?;
    Ok(())
}

/// `s` cut to [`MAX_FIELD_CHARS`] characters (on a character boundary), `…` marking a cut.
fn bounded(s: &str) -> std::borrow::Cow<'_, str> {
    match s.char_indices().nth(MAX_FIELD_CHARS) {
        None => s.into(),
        Some(_) => {
            let (end, _) = s.char_indices().nth(MAX_FIELD_CHARS - 1).unwrap_or((0, ' '));
            format!("{}…", &s[..end]).into()
        }
    }
}

/// Record a change made under `permit`.
pub fn record_permit(conn: &Connection, permit: Permit<'_>, at: i64, event: &str, details: &str) -> Result<()> {
    record(conn, at, event, &permit.session.login, &permit.session.computer, details)
}

#[derive(Debug, Serialize)]
pub struct Entry {
    pub at: i64,
    pub event: String,
    pub user: String,
    pub computer: String,
    pub details: String,
}

pub fn latest(conn: &Connection, limit: i64) -> Result<Vec<Entry>> {
    let mut stmt = conn.prepare(
        "SELECT at, event, user, computer, details FROM audit_log ORDER BY id DESC LIMIT ?1",
    )?;
    let rows = stmt.query_map([limit], |r| {
        Ok(Entry { at: r.get(0)?, event: r.get(1)?, user: r.get(2)?, computer: r.get(3)?, details: r.get(4)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The filters of the audit log screen: a period `[from, to)` (Unix seconds), an event type,
/// a user, a computer (each exact), and where a page starts (`before`: the `(at, id)` of the
/// last entry of the page before, newest first).
#[derive(Debug, Clone, Default)]
pub struct Filter {
    pub from: Option<i64>,
    pub to: Option<i64>,
    pub event: Option<String>,
    pub user: Option<String>,
    pub computer: Option<String>,
    pub before: Option<(i64, i64)>,
}

/// An entry with its id (the screen's details and paging).
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Row {
    pub id: i64,
    pub at: i64,
    pub event: String,
    pub user: String,
    pub computer: String,
    pub details: String,
}

/// Up to `limit` entries matching `f`, newest first (by time, then id). Each filter has its
/// index (migration 0027) ordered by time, so a page reads about `limit` index entries
/// whatever the size of the log.
pub fn query(conn: &Connection, f: &Filter, limit: i64) -> Result<Vec<Row>> {
    let mut sql = String::from("SELECT id, at, event, user, computer, details FROM audit_log WHERE 1");
    let mut args: Vec<rusqlite::types::Value> = Vec::new();
    let mut add = |clause: &str, v: rusqlite::types::Value| {
        args.push(v);
        sql.push_str(&clause.replace('?', &format!("?{}", args.len())));
    };
    if let Some(v) = &f.event {
        add(" AND event = ?", v.clone().into());
    }
    if let Some(v) = &f.user {
        add(" AND user = ?", v.clone().into());
    }
    if let Some(v) = &f.computer {
        add(" AND computer = ?", v.clone().into());
    }
    if let Some(v) = f.from {
        add(" AND at >= ?", v.into());
    }
    if let Some(v) = f.to {
        add(" AND at < ?", v.into());
    }
    if let Some((at, id)) = f.before {
        add(" AND (at, id) < (?", at.into());
        add(", ?)", id.into());
    }
    add(" ORDER BY at DESC, id DESC LIMIT ?", limit.into());
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args), |r| {
        Ok(Row { id: r.get(0)?, at: r.get(1)?, event: r.get(2)?, user: r.get(3)?, computer: r.get(4)?, details: r.get(5)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The entry `id`.
pub fn get(conn: &Connection, id: i64) -> Result<Option<Row>> {
    use rusqlite::OptionalExtension;
    Ok(conn
        .query_row("SELECT id, at, event, user, computer, details FROM audit_log WHERE id = ?1", [id], |r| {
            Ok(Row { id: r.get(0)?, at: r.get(1)?, event: r.get(2)?, user: r.get(3)?, computer: r.get(4)?, details: r.get(5)? })
        })
        .optional()?)
}

/// Which values of a column appear in the log (event types, users, computers), sorted: read by
/// skipping from one value to the next through the column's index, not by a scan of the log.
pub fn distinct(conn: &Connection, column: Column) -> Result<Vec<String>> {
    let c = column.name();
    let sql = format!(
        "WITH RECURSIVE v(x) AS (SELECT min({c}) FROM audit_log \
         UNION ALL SELECT (SELECT min({c}) FROM audit_log WHERE {c} > v.x) FROM v WHERE v.x IS NOT NULL) \
         SELECT x FROM v WHERE x IS NOT NULL"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map([], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A column of the log that the screen lists the values of.
#[derive(Debug, Clone, Copy)]
pub enum Column {
    Event,
    User,
    Computer,
}

impl Column {
    fn name(self) -> &'static str {
        match self {
            Column::Event => "event",
            Column::User => "user",
            Column::Computer => "computer",
        }
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn long_fields_are_cut_on_a_character_boundary() {
        assert_eq!(super::bounded("short"), "short");
        let exact = "é".repeat(super::MAX_FIELD_CHARS);
        assert_eq!(super::bounded(&exact), exact.as_str());
        let long = "é".repeat(10 * super::MAX_FIELD_CHARS);
        let cut = super::bounded(&long);
        assert_eq!(cut.chars().count(), super::MAX_FIELD_CHARS);
        assert!(cut.ends_with("é…"), "{}", &cut[cut.len() - 8..]);
    }
}

#[cfg(test)]
mod query_tests {
    use super::*;

    fn log() -> Connection {
        let conn = Connection::open_in_memory().expect("open");
        conn.execute_batch(include_str!("../../../../migrations/0001_init.sql")).expect("schema");
        conn.execute_batch(
            "CREATE INDEX audit_log_event ON audit_log(event, at);
             CREATE INDEX audit_log_user ON audit_log(user, at);
             CREATE INDEX audit_log_computer ON audit_log(computer, at);",
        )
        .expect("indexes");
        for i in 0..30 {
            let (event, user, computer) = match i % 3 {
                0 => ("import", "anne", "PC-1"),
                1 => ("export_readings", "bob", "PC-2"),
                _ => ("group_created", "anne", "PC-2"),
            };
            record(&conn, 1_000 + i / 2, event, user, computer, &format!("entry {i}")).expect("record");
        }
        conn
    }

    /// Filters combine; pages follow each other without a gap or a repeat, newest first,
    /// also when entries share a second.
    #[test]
    fn filters_and_pages() {
        let conn = log();
        let f = Filter { user: Some("anne".into()), from: Some(1_002), to: Some(1_010), ..Filter::default() };
        let all = query(&conn, &f, 100).expect("query");
        assert!(all.iter().all(|r| r.user == "anne" && (1_002..1_010).contains(&r.at)));
        assert_eq!(all.len(), 10);
        assert!(all.windows(2).all(|w| (w[0].at, w[0].id) > (w[1].at, w[1].id)));
        let mut paged = Vec::new();
        let mut page = Filter { before: None, ..f.clone() };
        loop {
            let rows = query(&conn, &page, 4).expect("page");
            if rows.is_empty() {
                break;
            }
            page.before = rows.last().map(|r| (r.at, r.id));
            paged.extend(rows);
        }
        assert_eq!(paged, all);
        let f = Filter { event: Some("export_readings".into()), computer: Some("PC-2".into()), ..Filter::default() };
        assert_eq!(query(&conn, &f, 100).expect("q").len(), 10);
        assert_eq!(distinct(&conn, Column::Event).expect("events"), ["export_readings", "group_created", "import"]);
        assert_eq!(distinct(&conn, Column::User).expect("users"), ["anne", "bob"]);
        assert_eq!(get(&conn, all[0].id).expect("get"), Some(all[0].clone()));
    }
}
