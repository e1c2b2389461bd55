//! Billing exports: saved layouts producing one row per meter for a billing period, as CSV
//! or fixed width, with header and trailer records, validated (nothing is silently cut),
//! previewed, dry-run against the last file and run.

pub mod diff;
pub mod encoding;
pub mod format;
pub mod layout;
mod rows;
pub mod values;

pub use encoding::Encoding;
pub use format::{FieldError, Place, Problem};
pub use layout::{
    variables, Align, BillingOptions, CsvOptions, Field, FixedOptions, Format, Kind, Layout, LineEnd, Quote, Scope,
    Var, VarInfo,
};

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::{self, Store};
use chrono::NaiveDate;
use rows::{Keep, Produced};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use std::collections::HashMap;

/// A billing period: two local dates, `to` included. The start values are the registers'
/// values at `from` 00:00 local time; the end values at the billing date, the day after
/// `to`, 00:00 (for January: 1 January 00:00 and 1 February 00:00).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period> {
        if to < from {
            return Err(Error::bad_input("period", format!("the end {to} is before the start {from}")));
        }
        Ok(Period { from, to })
    }

    /// The billing date: the day after the period's last day.
    pub fn billing_date(&self) -> NaiveDate {
        self.to + chrono::Duration::days(1)
    }
}

/// A produced billing file.
#[derive(Debug, Clone, Serialize)]
pub struct ExportOutput {
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Data records (header and trailer not counted).
    pub rows: u64,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
    pub warnings: Vec<Warning>,
    /// The character set of `bytes` (the layout's).
    pub encoding: Encoding,
}

/// Something the file holds that a person should look at (an interpolated or missing value).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub meter: String,
    pub field: String,
    pub message: String,
}

/// The first lines of a layout's file on real data, and every problem of the whole file.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub lines: Vec<String>,
    pub total_rows: u64,
    pub warnings: Vec<Warning>,
    /// Values that cannot be written (the run would refuse): each names its record (the
    /// meter), the field and the problem; header and trailer first.
    pub errors: Vec<FieldError>,
}

/// What a run would export compared with the last file of the layout.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub rows: u64,
    pub added: u64,
    pub removed: u64,
    pub changed: Vec<Changed>,
    pub unchanged: u64,
    pub added_lines: Vec<MeterLine>,
    pub removed_lines: Vec<MeterLine>,
    pub warnings: Vec<Warning>,
    /// Values that cannot be written: the run would be refused.
    pub errors: Vec<FieldError>,
    pub last_run: Option<LastRun>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changed {
    pub meter: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeterLine {
    pub meter: String,
    pub line: String,
}

/// The last real run of a layout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastRun {
    pub at: i64,
    pub from: String,
    pub to: String,
    pub file_name: String,
    pub rows: u64,
    pub sha256: String,
}

/// A saved layout in a list.
#[derive(Debug, Clone, Serialize)]
pub struct LayoutSummary {
    pub id: i64,
    pub name: String,
    pub format: Format,
    pub fields: usize,
    pub updated_at: i64,
    pub last_run: Option<LastRun>,
}

/// Run the saved layout `name` over `period`: the file, kept as the layout's last file (its
/// lines by meter, for the next dry run). Refused, with no file, when a value does not fit.
pub fn layout_run(store: &Store, session: &Session, name: &str, period: Period, now: i64) -> Result<ExportOutput> {
    layout_run_audited(store, session, name, period, now, true)
}

/// [`layout_run`], its `export_layout_run` audit entry written or left to the caller (a
/// scheduled export's test audits itself, once).
pub(crate) fn layout_run_audited(
    store: &Store,
    session: &Session,
    name: &str,
    period: Period,
    now: i64,
    audited: bool,
) -> Result<ExportOutput> {
    session.permit(Permission::Export)?;
    let (saved, layout) = load(store, name)?;
    run(store, session, Some(saved.id), &layout, false, period, now, audited)
}

/// Run `layout` as given (the editor's, saved or not) with the same checks as a saved one;
/// nothing of the layout is saved. The file is kept as the last file of the saved layout
/// `saved_name` when there is one (it is the file delivered, for the next dry run); the
/// audit entry says when the layout run differs from the saved one.
pub fn layout_run_given(
    store: &Store,
    session: &Session,
    saved_name: Option<&str>,
    layout: &Layout,
    period: Period,
    now: i64,
) -> Result<ExportOutput> {
    session.permit(Permission::Export)?;
    layout.check()?;
    let saved = saved(store, saved_name)?;
    let differs = saved.as_ref().is_none_or(|(_, l)| l != layout);
    run(store, session, saved.map(|(s, _)| s.id), layout, differs, period, now, true)
}

fn saved(store: &Store, name: Option<&str>) -> Result<Option<(store::layouts::SavedLayout, Layout)>> {
    let Some(name) = name.map(str::trim).filter(|n| !n.is_empty()) else { return Ok(None) };
    let conn = store.reader()?;
    let Some(saved) = store::layouts::get(&conn, name)? else { return Ok(None) };
    let layout = Layout::from_json(&saved.definition)?;
    Ok(Some((saved, layout)))
}

#[allow(clippy::too_many_arguments)]
fn run(
    store: &Store,
    session: &Session,
    saved_id: Option<i64>,
    layout: &Layout,
    unsaved: bool,
    period: Period,
    now: i64,
    audited: bool,
) -> Result<ExportOutput> {
    let permit = session.permit(Permission::Export)?;
    let name = layout.name.trim();
    let mut produced = {
        let conn = store.reader()?;
        rows::produce(&conn, layout, period, now, Keep { lines: usize::MAX, by_meter: true })?
    };
    if !produced.errors.is_empty() {
        return Err(FieldError::into_error(std::mem::take(&mut produced.errors)));
    }
    let out = output(layout, period, &produced);
    let last = store::layouts::LastFile {
        at: now,
        period_from: period.from.to_string(),
        period_to: period.to.to_string(),
        file_name: out.file_name.clone(),
        rows: out.rows as i64,
        sha256: out.sha256.clone(),
    };
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if let Some(id) = saved_id {
        let lines = produced.lines.iter().map(|(m, r)| (m.as_str(), produced.line(r)));
        store::layouts::replace_last_file(&tx, id, &last, lines)?;
    }
    let mut details = format!(
        "layout {name}, {} to {}: {} rows, {} warnings, {} (sha256 {})",
        period.from,
        period.to,
        out.rows,
        out.warnings.len(),
        out.file_name,
        out.sha256
    );
    if unsaved {
        details.push_str(", as on screen (not saved)");
    }
    if audited {
        store::audit::record_permit(&tx, permit, now, "export_layout_run", &details)?;
    }
    tx.commit()?;
    Ok(out)
}

/// The first `limit` lines of `layout`'s file (header and column labels included) and all
/// the problems of the whole file. The layout need not be saved.
pub fn layout_preview(
    store: &Store,
    session: &Session,
    layout: &Layout,
    period: Period,
    limit: usize,
    now: i64,
) -> Result<Preview> {
    session.permit(Permission::Export)?;
    layout.check()?;
    let conn = store.reader()?;
    let produced = rows::produce(&conn, layout, period, now, Keep { lines: limit, by_meter: false })?;
    let line_end = match layout.format {
        Format::Csv => layout.csv.line_end.as_str(),
        Format::Fixed => layout.fixed.line_end.as_str(),
    };
    let mut lines: Vec<String> = Vec::new();
    for part in [&produced.head, &produced.body] {
        lines.extend(part.split_terminator(line_end).map(str::to_string));
    }
    lines.truncate(limit);
    if lines.len() < limit {
        lines.extend(produced.tail.split_terminator(line_end).map(str::to_string));
    }
    Ok(Preview {
        lines,
        total_rows: produced.rows,
        warnings: produced.warnings,
        errors: produced.errors,
    })
}

/// `layout_preview` of the saved layout `name`.
pub fn layout_preview_saved(
    store: &Store,
    session: &Session,
    name: &str,
    period: Period,
    limit: usize,
    now: i64,
) -> Result<Preview> {
    session.permit(Permission::Export)?;
    let (_, layout) = load(store, name)?;
    layout_preview(store, session, &layout, period, limit, now)
}

/// What `layout_run` would produce, compared with the layout's last file, by meter.
pub fn layout_dry_run(store: &Store, session: &Session, name: &str, period: Period, now: i64) -> Result<DryRun> {
    session.permit(Permission::Export)?;
    let (saved, layout) = load(store, name)?;
    dry_run(store, Some(saved.id), &layout, period, now)
}

/// `layout_dry_run` of `layout` as given (the editor's, saved or not), compared with the last
/// file of the saved layout `saved_name` when there is one. Nothing is saved.
pub fn layout_dry_run_given(
    store: &Store,
    session: &Session,
    saved_name: Option<&str>,
    layout: &Layout,
    period: Period,
    now: i64,
) -> Result<DryRun> {
    session.permit(Permission::Export)?;
    layout.check()?;
    let saved = saved(store, saved_name)?;
    dry_run(store, saved.map(|(s, _)| s.id), layout, period, now)
}

fn dry_run(store: &Store, saved_id: Option<i64>, layout: &Layout, period: Period, now: i64) -> Result<DryRun> {
    let conn = store.reader()?;
    let produced = rows::produce(&conn, layout, period, now, Keep { lines: usize::MAX, by_meter: true })?;
    let mut old: HashMap<String, String> = HashMap::new();
    let mut last = None;
    if let Some(id) = saved_id {
        store::layouts::last_lines(&conn, id, &mut |meter, line| {
            old.insert(meter, line);
        })?;
        last = store::layouts::last_file(&conn, id)?.map(last_run);
    }
    let last_run = last;
    let d = diff::diff(old, produced.lines.iter().map(|(m, r)| (m.as_str(), produced.line(r))));
    Ok(DryRun {
        rows: produced.rows,
        added: d.added.len() as u64,
        removed: d.removed.len() as u64,
        changed: d.changed,
        unchanged: d.unchanged,
        added_lines: d.added,
        removed_lines: d.removed,
        warnings: produced.warnings,
        errors: produced.errors,
        last_run,
    })
}

/// Every saved layout, by name, with its last run.
pub fn layouts_list(store: &Store, session: &Session) -> Result<Vec<LayoutSummary>> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let mut out = Vec::new();
    for s in store::layouts::list(&conn)? {
        let (format, fields) = match Layout::from_json(&s.definition) {
            Ok(l) => (l.format, l.fields.len()),
            Err(_) => (Format::Csv, 0),
        };
        let last_run = store::layouts::last_file(&conn, s.id)?.map(last_run);
        out.push(LayoutSummary { id: s.id, name: s.name, format, fields, updated_at: s.updated_at, last_run });
    }
    Ok(out)
}

/// A saved layout.
pub fn layout_get(store: &Store, session: &Session, name: &str) -> Result<Layout> {
    session.permit(Permission::View)?;
    Ok(load(store, name)?.1)
}

/// Save a layout under its name (replacing the one of that name). Returns (id, created).
pub fn layout_save(store: &Store, session: &Session, layout: &Layout, now: i64) -> Result<(i64, bool)> {
    let permit = session.permit(Permission::ManageExports)?;
    layout.check()?;
    let mut layout = layout.clone();
    layout.name = layout.name.trim().to_string();
    let conn = store.writer();
    let (id, created) = store::layouts::upsert(&conn, &layout.name, &layout.to_json(), now)?;
    let what = if created { "created" } else { "changed" };
    let details = format!("layout {} {what}: {} fields, {:?}", layout.name, layout.fields.len(), layout.format);
    store::audit::record_permit(&conn, permit, now, "export_layout_saved", &details)?;
    Ok((id, created))
}

/// Copy layout `name` as `new_name` (which must be free).
pub fn layout_copy(store: &Store, session: &Session, name: &str, new_name: &str, now: i64) -> Result<Layout> {
    let permit = session.permit(Permission::ManageExports)?;
    let new_name = new_name.trim();
    let (_, mut layout) = load(store, name)?;
    layout.name = new_name.to_string();
    layout.check()?;
    let conn = store.writer();
    if store::layouts::get(&conn, new_name)?.is_some() {
        return Err(Error::bad_input("new_name", format!("a layout called '{new_name}' exists already")));
    }
    store::layouts::upsert(&conn, new_name, &layout.to_json(), now)?;
    store::audit::record_permit(
        &conn,
        permit,
        now,
        "export_layout_copied",
        &format!("layout {name} copied as {new_name}"),
    )?;
    Ok(layout)
}

/// What `layout_save_renaming` did.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Saved {
    pub id: i64,
    pub created: bool,
    /// The scheduled exports (names) that now use the layout's new name.
    pub jobs_moved: Vec<String>,
}

/// Save a layout opened as `previous_name` under its (new) name, in one transaction: the
/// saved layout keeps its id and last file, and the scheduled exports of `previous_name`
/// follow it to the new name. Refused when another layout has the new name. If
/// `previous_name` is gone meanwhile, the layout is saved as new. The same name: `layout_save`.
pub fn layout_save_renaming(
    store: &Store,
    session: &Session,
    previous_name: &str,
    layout: &Layout,
    now: i64,
) -> Result<Saved> {
    let previous = previous_name.trim();
    let name = layout.name.trim();
    if previous == name || previous.is_empty() {
        let (id, created) = layout_save(store, session, layout, now)?;
        return Ok(Saved { id, created, jobs_moved: Vec::new() });
    }
    let permit = session.permit(Permission::ManageExports)?;
    layout.check()?;
    let mut layout = layout.clone();
    layout.name = name.to_string();
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if store::layouts::get(&tx, name)?.is_some() {
        return Err(Error::bad_input("name", format!("a layout called '{name}' exists already")));
    }
    let (id, created) = match store::layouts::get(&tx, previous)? {
        Some(old) => {
            store::layouts::rename(&tx, old.id, name, &layout.to_json(), now)?;
            (old.id, false)
        }
        None => store::layouts::upsert(&tx, name, &layout.to_json(), now)?,
    };
    let jobs_moved: Vec<String> =
        store::export_jobs::jobs_of_layout(&tx, previous)?.into_iter().map(|(_, job)| job).collect();
    store::export_jobs::rename_layout(&tx, previous, name)?;
    let mut details = format!("layout {previous} renamed {name}: {} fields, {:?}", layout.fields.len(), layout.format);
    if !jobs_moved.is_empty() {
        let names: Vec<String> = jobs_moved.iter().map(|j| format!("'{j}'")).collect();
        details.push_str(&format!("; scheduled exports moved: {}", names.join(", ")));
    }
    store::audit::record_permit(&tx, permit, now, "export_layout_renamed", &details)?;
    tx.commit()?;
    Ok(Saved { id, created, jobs_moved })
}

/// Delete a saved layout with its last file. Refused (`Error::LayoutInUse`, naming them)
/// while scheduled exports use it.
pub fn layout_delete(store: &Store, session: &Session, name: &str, now: i64) -> Result<()> {
    let permit = session.permit(Permission::ManageExports)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let jobs = store::export_jobs::jobs_of_layout(&tx, name)?;
    if !jobs.is_empty() {
        return Err(Error::LayoutInUse { layout: name.to_string(), jobs });
    }
    if !store::layouts::delete(&tx, name)? {
        return Err(Error::not_found(format!("export layout '{name}'")));
    }
    store::audit::record_permit(&tx, permit, now, "export_layout_deleted", &format!("layout {name} deleted"))?;
    tx.commit()?;
    Ok(())
}

/// A file name for a layout's file: `<name-slug>-<from>_<to>.csv` (`.txt` for fixed width).
pub fn file_name(layout: &Layout, period: Period) -> String {
    let ext = match layout.format {
        Format::Csv => "csv",
        Format::Fixed => "txt",
    };
    format!("{}-{}_{}.{ext}", slug(&layout.name), period.from, period.to)
}

/// Lower-case ASCII letters and digits, other runs as one `-`; accents dropped.
fn slug(name: &str) -> String {
    let mut out = String::new();
    for c in name.chars().flat_map(char::to_lowercase) {
        let c = match c {
            'à' | 'â' | 'ä' | 'á' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' | 'í' => 'i',
            'ô' | 'ö' | 'ó' => 'o',
            'ù' | 'û' | 'ü' | 'ú' => 'u',
            'ç' => 'c',
            'ÿ' => 'y',
            c => c,
        };
        if c.is_ascii_alphanumeric() {
            out.push(c);
        } else if !out.is_empty() && !out.ends_with('-') {
            out.push('-');
        }
    }
    let out = out.trim_end_matches('-');
    if out.is_empty() {
        "export".into()
    } else {
        out.to_string()
    }
}

/// Whether layout `name` can run (exists, reads, checks): before starting a run in the
/// background, so that the caller hears at once.
pub fn layout_ready(store: &Store, session: &Session, name: &str) -> Result<()> {
    session.permit(Permission::Export)?;
    load(store, name).map(|_| ())
}

fn load(store: &Store, name: &str) -> Result<(store::layouts::SavedLayout, Layout)> {
    let conn = store.reader()?;
    let saved = store::layouts::get(&conn, name)?.ok_or_else(|| Error::not_found(format!("export layout '{name}'")))?;
    let layout = Layout::from_json(&saved.definition)?;
    layout.check()?;
    Ok((saved, layout))
}

fn output(layout: &Layout, period: Period, p: &Produced) -> ExportOutput {
    let mut bytes = Vec::with_capacity(3 + p.head.len() + p.body.len() + p.tail.len());
    bytes.extend_from_slice(layout.encoding.start());
    for part in [&p.head, &p.body, &p.tail] {
        match layout.encoding {
            Encoding::Utf8 | Encoding::Utf8Bom => bytes.extend_from_slice(part.as_bytes()),
            e => bytes.extend(e.encode(part)),
        }
    }
    let sha256 = hex::encode(Sha256::digest(&bytes));
    ExportOutput {
        file_name: file_name(layout, period),
        bytes,
        rows: p.rows,
        sha256,
        warnings: p.warnings.clone(),
        encoding: layout.encoding,
    }
}

fn last_run(f: store::layouts::LastFile) -> LastRun {
    LastRun {
        at: f.at,
        from: f.period_from,
        to: f.period_to,
        file_name: f.file_name,
        rows: f.rows as u64,
        sha256: f.sha256,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn file_names_are_slugs_of_the_layout_name() {
        let period = Period::new(
            NaiveDate::from_ymd_opt(2025, 1, 1).expect("date"),
            NaiveDate::from_ymd_opt(2025, 1, 31).expect("date"),
        )
        .expect("period");
        let mut l = Layout::new("Facturation eau — Pôle Été", Format::Csv, vec![Field::new(Var::MeterSerial)]);
        assert_eq!(file_name(&l, period), "facturation-eau-pole-ete-2025-01-01_2025-01-31.csv");
        l.format = Format::Fixed;
        l.name = "***".into();
        assert_eq!(file_name(&l, period), "export-2025-01-01_2025-01-31.txt");
        assert_eq!(period.billing_date(), NaiveDate::from_ymd_opt(2025, 2, 1).expect("date"));
    }
}
