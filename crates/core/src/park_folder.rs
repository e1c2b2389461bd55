//! Folder import of customers and meters: every profile with a `folder` is due each
//! `interval_minutes`; each new file there is imported through it, then moved to `done/`
//! (or to `failed/` with its report `<file>.report.json` beside it). A plain function: the
//! app calls it on a timer, the CLI as `releve park import-folder`.
//!
//! Only what the import reads is taken: plain `.csv` and `.txt` files (any case), not
//! hidden, written whole (not modified in the last [`Watch::settle_seconds`] before `now`,
//! the same size and time at two looks). Anything else (a database, its `-wal` or `-shm`,
//! a link) stays where it is and is listed as skipped. The folder itself must be allowed
//! (`folders::check`), which it is checked against at every run.

use crate::access::{require, Permission, Permit};
use crate::error::{Error, Result};
use crate::park_import::{park_import, ParkReport};
use crate::store::profiles::Profile;
use crate::store::{self, Store};
use crate::drop_folder::{move_into, name_of, waiting, Waiting};
pub use crate::drop_folder::{Skip, Watch};
use serde::Serialize;
use std::path::{Path, PathBuf};

#[derive(Debug, Clone, Serialize)]
pub struct FolderFile {
    pub profile: String,
    pub file: String,
    /// `done` or `failed`.
    pub outcome: String,
    /// Where the file is now.
    pub moved_to: String,
    pub report: Option<ParkReport>,
    pub error: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct FolderReport {
    /// Profiles whose folder was looked at (due ones).
    pub profiles: Vec<String>,
    pub files: Vec<FolderFile>,
    /// Due profiles whose folder may not be read (not allowed, the database's): untouched.
    pub refused: Vec<RefusedFolder>,
    /// Files left where they are: not a CSV or text file, or still being written.
    pub skipped: Vec<SkippedFile>,
}

/// A due profile whose folder was not read, and why (`code` for the UI, `reason` in words).
#[derive(Debug, Clone, Serialize)]
pub struct RefusedFolder {
    pub profile: String,
    pub folder: String,
    pub code: String,
    pub reason: String,
}

/// A file of a watched folder that was left alone.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedFile {
    pub profile: String,
    pub file: String,
    pub reason: Skip,
}

/// The file types the import reads (`park_import` takes delimited text).
const EXTENSIONS: &[&str] = &["csv", "txt"];

fn due(p: &Profile, now: i64) -> bool {
    match (&p.folder, p.interval_minutes, p.last_run) {
        (None, _, _) => false,
        (Some(_), _, None) => true,
        (Some(_), minutes, Some(last)) => now >= last + minutes.unwrap_or(60).max(1) * 60,
    }
}

/// Import every waiting file of every due profile, as of `now`.
pub fn park_import_folder(store: &Store, permit: Permit<'_>, now: i64) -> Result<FolderReport> {
    park_import_folder_with(store, permit, now, &Watch::default())
}

/// [`park_import_folder`] with its own idea of when a file is written whole. A profile whose
/// folder may not be read (see `folders`) is not touched: it is listed in `refused` and the
/// audit log says why. A profile with a file still being written stays due, so the next
/// run (a minute later in the open app) takes it.
pub fn park_import_folder_with(store: &Store, permit: Permit<'_>, now: i64, watch: &Watch) -> Result<FolderReport> {
    require(permit, Permission::EditMeters)?;
    let profiles = store::profiles::list(&*store.reader()?)?;
    let mut out = FolderReport::default();
    for p in profiles.iter().filter(|p| due(p, now)) {
        let folder = p.folder.as_deref().unwrap_or_default();
        out.profiles.push(p.name.clone());
        let dir = match crate::folders::check(store, folder) {
            Ok(dir) => dir,
            Err(e) => {
                let Error::Folder { rule, .. } = &e else { return Err(e) };
                let refusal = RefusedFolder { profile: p.name.clone(), folder: folder.into(), code: rule.code().into(), reason: e.to_string() };
                let mut conn = store.writer();
                let tx = conn.transaction()?;
                let details = format!("profile '{}': {}", p.name, refusal.reason);
                store::audit::record_permit(&tx, permit, now, "park_folder_refused", &details)?;
                store::profiles::set_last_run(&tx, p.id, now)?;
                tx.commit()?;
                out.refused.push(refusal);
                continue;
            }
        };
        let Waiting { files, skipped } = waiting(&dir, now, watch, EXTENSIONS)?;
        let again = skipped.iter().any(|(_, why)| matches!(why, Skip::Recent | Skip::Growing));
        out.skipped.extend(skipped.into_iter().map(|(file, reason)| SkippedFile { profile: p.name.clone(), file, reason }));
        for file in files {
            out.files.push(import_file(store, permit, p, &dir, &file, now)?);
        }
        if !again {
            store::profiles::set_last_run(&store.writer(), p.id, now)?;
        }
    }
    Ok(out)
}

/// Import one file of `dir` through profile `p`, then move it to `done/` or `failed/`.
fn import_file(store: &Store, permit: Permit<'_>, p: &Profile, dir: &Path, file: &Path, now: i64) -> Result<FolderFile> {
    let name = name_of(file);
    let result = std::fs::read(file).map_err(|e| Error::io(file, e)).and_then(|bytes| park_import(store, permit, &p.name, &name, &bytes, now));
    let (ok, report, error) = match result {
        Ok(r) => {
            let mut bad: Vec<u64> = r.rejected.iter().map(|x| x.line).collect();
            bad.dedup();
            (r.lines > bad.len() as u64 || r.rejected.is_empty(), Some(r), None)
        }
        Err(e) => (false, None, Some(e.to_string())),
    };
    let sub = if ok { "done" } else { "failed" };
    let moved = move_into(dir, sub, file, now)?;
    if !ok || report.as_ref().is_some_and(|r| !r.rejected.is_empty()) {
        let body = serde_json::json!({"file": name, "profile": p.name, "report": report, "error": error});
        let path = PathBuf::from(format!("{}.report.json", moved.display()));
        std::fs::write(&path, serde_json::to_string_pretty(&body).unwrap_or_default()).map_err(|e| Error::io(&path, e))?;
    }
    Ok(FolderFile { profile: p.name.clone(), file: name, outcome: sub.into(), moved_to: moved.display().to_string(), report, error })
}
