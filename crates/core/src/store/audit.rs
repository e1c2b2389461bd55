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
