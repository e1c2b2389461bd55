//! The import journal: who imported what and when (file name, delivering source, login,
//! start and end, lines read, readings stored, duplicates, rejected and future-dated lines),
//! paged newest first and filtered by period, user, source and "with rejected lines"; and an
//! import's rejected lines as a CSV file (line number, reason worded by the UI in the clerk's
//! language, detail, the original line). Built on
//! the `imports` and `import_rejects` rows every import writes as it goes: the first 1,000
//! rejected lines of an import are kept (`MAX_LISTED_REJECTS`), each original line cut at
//! 1,000 characters; the counts are exact. Needs the permission `import`.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::imports::{self, JournalFilter, JournalRow};
use crate::store::Store;
use chrono::NaiveDate;
use serde::Serialize;
use std::collections::BTreeMap;

/// A page holds at most this many imports.
pub const MAX_PAGE: i64 = 200;

/// The screen's filters: a period of local dates (both included), a login, a source's name,
/// only imports with rejected lines; `page` counts from 0.
#[derive(Debug, Clone, Default)]
pub struct JournalQuery {
    pub from: Option<NaiveDate>,
    pub to: Option<NaiveDate>,
    pub user: Option<String>,
    pub source: Option<String>,
    pub with_rejects: bool,
    pub page: i64,
    pub limit: i64,
}

#[derive(Debug, Serialize)]
pub struct JournalPage {
    /// Imports matching the filters, in all.
    pub total: u64,
    pub page: i64,
    pub limit: i64,
    pub rows: Vec<JournalRow>,
    /// Logins that imported and sources that delivered, for the filters.
    pub users: Vec<String>,
    pub sources: Vec<String>,
    /// How many rejected lines of one import are kept (the first ones).
    pub rejects_kept_max: usize,
}

/// One page of the journal.
pub fn import_journal(store: &Store, session: &Session, q: &JournalQuery) -> Result<JournalPage> {
    session.permit(Permission::Import)?;
    let conn = store.reader()?;
    let filter = filter_of(&conn, q)?;
    let limit = q.limit.clamp(1, MAX_PAGE);
    let page = q.page.max(0);
    let (total, rows) = imports::journal(&conn, &filter, limit, page.saturating_mul(limit))?;
    let (users, sources) = imports::journal_choices(&conn)?;
    Ok(JournalPage { total, page, limit, rows, users, sources, rejects_kept_max: crate::import::MAX_LISTED_REJECTS })
}

/// An import's rejected lines as a CSV file (`;`, UTF-8 with a byte-order mark for
/// spreadsheet programs): line number, reason code, the reason in the clerk's words, the
/// core's detail (English), the original line.
#[derive(Debug, Serialize)]
pub struct RejectsCsv {
    pub file_name: String,
    pub content: String,
    /// Lines in the file.
    pub rows: u64,
    /// Lines the import rejected in all: more than `rows` when only the first were kept.
    pub rejected: u64,
}

/// How the UI words the rejected-lines file in the clerk's language: the five column titles
/// and the words of each reason code (a code without words is written as it is).
#[derive(Debug, Clone, Default)]
pub struct RejectsWording {
    pub titles: Option<[String; 5]>,
    pub labels: BTreeMap<String, String>,
}

/// The column titles when the UI gives none.
pub const REJECTS_TITLES: [&str; 5] = ["line", "code", "reason", "detail", "original_line"];

pub fn import_rejects_csv(store: &Store, session: &Session, import_id: i64, wording: &RejectsWording) -> Result<RejectsCsv> {
    session.permit(Permission::Import)?;
    let conn = store.reader()?;
    let Some((import, lines)) = imports::rejects(&conn, import_id)? else {
        return Err(Error::not_found(format!("import {import_id}")));
    };
    let mut w = csv::WriterBuilder::new().delimiter(b';').from_writer(Vec::new());
    match &wording.titles {
        Some(titles) => w.write_record(titles)?,
        None => w.write_record(REJECTS_TITLES)?,
    }
    for l in &lines {
        let label = wording.labels.get(&l.code).map_or(l.code.as_str(), String::as_str);
        w.write_record([l.line.to_string().as_str(), &l.code, label, &l.reason, l.raw.as_deref().unwrap_or("")])?;
    }
    let bytes = w.into_inner().map_err(|e| Error::bad_input("csv", e.to_string()))?;
    let content = format!("\u{feff}{}", String::from_utf8_lossy(&bytes));
    let stem: String = import
        .name
        .chars()
        .map(|c| if c.is_alphanumeric() || matches!(c, '-' | '_' | '.') { c } else { '_' })
        .take(80)
        .collect();
    Ok(RejectsCsv { file_name: format!("rejected-{import_id}-{stem}.csv"), content, rows: lines.len() as u64, rejected: import.rejected })
}

/// The store's filter: local dates to Unix seconds in the utility's time zone.
fn filter_of(conn: &rusqlite::Connection, q: &JournalQuery) -> Result<JournalFilter> {
    let (from, to) = crate::audit_log::local_day_bounds(conn, q.from, q.to)?;
    Ok(JournalFilter {
        from,
        to,
        user: crate::audit_log::trimmed(&q.user),
        source: crate::audit_log::trimmed(&q.source),
        with_rejects: q.with_rejects,
        id: None,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::access::Session;

    /// 2026-02-01T00:00 in Paris.
    const NOW: i64 = 1_769_900_400;

    fn manager() -> Session {
        Session::system("test")
    }

    /// A file with good, bad and future-dated lines: the journal row counts them, the filters
    /// find it, and its CSV gives back each rejected line's number, reason and original text;
    /// on a real SQLite file.
    #[test]
    fn the_journal_lists_imports_and_gives_back_rejected_lines() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(&dir.path().join("j.db")).expect("open");
        let session = manager();
        let permit = session.permit(Permission::Import).expect("permit");
        // Line 1: not hex; line 2: odd digits; line 3: blank (skipped); line 4: a frame
        // received in 2031 (future); line 5: a frame received in 1990 (too old).
        let future = "T1;1;1;2031-01-01 10:00:00.000;-60;;;0x14442d2c785634121b077a010000000413dc050000";
        let old = "T1;1;1;1990-01-01 10:00:00.000;-60;;;0x14442d2c785634121b077a010000000413dc050000";
        let content = format!("zz-not-a-telegram;é\n0A0\n\n{future}\n{old}\n");
        let report = crate::import::import_drive_by(&store, permit, "tournée 3.txt", content.as_bytes(), NOW, &mut |_, _| {}).expect("import");
        assert_eq!(report.rejected_count, 4, "{:?}", report.rejected);
        assert_eq!(report.future, 1);
        // A second import without rejects, by a source.
        let mut src = Session::system("source");
        src.login = "source:concentrateur-7".into();
        let permit = src.permit(Permission::Import).expect("permit");
        crate::import::import_drive_by(&store, permit, "push", b"\n", NOW + 60, &mut |_, _| {}).expect("import 2");

        let all = import_journal(&store, &session, &JournalQuery { limit: 50, ..Default::default() }).expect("journal");
        assert_eq!(all.total, 2);
        assert_eq!(all.rows[0].source.as_deref(), Some("concentrateur-7"), "newest first");
        let row = &all.rows[1];
        assert_eq!((row.name.as_str(), row.lines, row.rejected, row.future, row.rejects_kept), ("tournée 3.txt", 5, 4, 1, 4));
        assert_eq!(row.state, "done");
        assert_eq!(row.finished_at, Some(NOW));
        assert_eq!(all.sources, vec!["concentrateur-7".to_string()]);

        let rejects = import_journal(&store, &session, &JournalQuery { with_rejects: true, limit: 50, ..Default::default() }).expect("with rejects");
        assert_eq!(rejects.rows.iter().map(|r| r.id).collect::<Vec<_>>(), vec![row.id]);
        let by_source = import_journal(&store, &session, &JournalQuery { source: Some("concentrateur-7".into()), limit: 50, ..Default::default() }).expect("source");
        assert_eq!(by_source.total, 1);
        let day = chrono::NaiveDate::from_ymd_opt(2026, 1, 31);
        let before = import_journal(&store, &session, &JournalQuery { from: day, to: day, limit: 50, ..Default::default() }).expect("period");
        assert_eq!(before.total, 0, "1 February 00:00 Paris is not on 31 January");
        let feb = chrono::NaiveDate::from_ymd_opt(2026, 2, 1);
        let on = import_journal(&store, &session, &JournalQuery { from: feb, to: feb, limit: 1, page: 1, ..Default::default() }).expect("page 2");
        assert_eq!((on.total, on.rows.len(), on.rows[0].id), (2, 1, row.id));
        let bad = import_journal(&store, &session, &JournalQuery { from: feb, to: day, limit: 5, ..Default::default() });
        assert!(bad.is_err(), "a period that ends before it starts");

        let csv = import_rejects_csv(&store, &session, row.id, &RejectsWording::default()).expect("csv");
        assert_eq!((csv.rows, csv.rejected), (4, 4));
        let lines: Vec<&str> = csv.content.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "line;code;reason;detail;original_line");
        assert!(lines[1].starts_with("1;") && lines[1].ends_with(";\"zz-not-a-telegram;é\""), "a field with the separator is quoted: {}", lines[1]);
        assert!(lines[2].starts_with("2;") && lines[2].ends_with(";0A0"), "{}", lines[2]);
        assert!(lines[3].starts_with("4;implausible_time;") && lines[3].ends_with(&format!("\"{future}\"")), "{}", lines[3]);
        assert!(lines[4].starts_with("5;implausible_time;implausible_time;"), "no words given: the code: {}", lines[4]);
        // Worded by the UI: its titles, and its words beside each code it knows.
        let titles = ["Ligne", "Code", "Motif", "Détail", "Ligne d’origine"].map(String::from);
        let labels = [("implausible_time".to_string(), "Heure de réception impossible".to_string())].into();
        let fr = import_rejects_csv(&store, &session, row.id, &RejectsWording { titles: Some(titles), labels }).expect("csv fr");
        let fr: Vec<&str> = fr.content.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(fr[0], "Ligne;Code;Motif;Détail;Ligne d’origine");
        assert!(fr[4].starts_with("5;implausible_time;Heure de réception impossible;"), "{}", fr[4]);
        assert!(csv.file_name.starts_with(&format!("rejected-{}-tourn", row.id)), "{}", csv.file_name);
        assert!(import_rejects_csv(&store, &session, 999, &RejectsWording::default()).is_err(), "no such import");

        // A user without the permission `import` reads neither.
        let mut clerk = Session::system("clerk");
        clerk.permissions.retain(|p| *p != Permission::Import);
        assert!(import_journal(&store, &clerk, &JournalQuery::default()).is_err());
        assert!(import_rejects_csv(&store, &clerk, row.id, &RejectsWording::default()).is_err());
    }

    /// Only the first 1,000 rejected lines are kept (the count is exact), each cut at 1,000
    /// characters.
    #[test]
    fn rejected_lines_kept_are_bounded() {
        let dir = tempfile::tempdir().expect("tmp");
        let store = Store::open(&dir.path().join("j.db")).expect("open");
        let session = manager();
        let permit = session.permit(Permission::Import).expect("permit");
        let mut content = format!("{}\n", "z".repeat(5000));
        for _ in 0..1500 {
            content.push_str("0A0\n");
        }
        let report = crate::import::import_drive_by(&store, permit, "big.txt", content.as_bytes(), NOW, &mut |_, _| {}).expect("import");
        assert_eq!(report.rejected_count, 1501);
        let csv = import_rejects_csv(&store, &session, report.import_id, &RejectsWording::default()).expect("csv");
        assert_eq!((csv.rows, csv.rejected), (1000, 1501));
        let first = csv.content.lines().nth(1).expect("line 1");
        assert!(first.ends_with(&format!(";{}", "z".repeat(1000))) && !first.contains(&"z".repeat(1001)), "cut at 1,000 characters");
    }
}
