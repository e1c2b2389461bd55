//! Folder import of customers and meters: every profile with a `folder` is due each
//! `interval_minutes`; each new file there is imported through it, then moved to `done/`
//! (or to `failed/` with its report `<file>.report.json` beside it). A plain function: the
//! app calls it on a timer, the CLI as `releve park import-folder`.

use crate::access::{require, Permission, Permit};
use crate::error::{Error, Result};
use crate::park_import::{park_import, ParkReport};
use crate::store::profiles::Profile;
use crate::store::{self, Store};
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
}

fn due(p: &Profile, now: i64) -> bool {
    match (&p.folder, p.interval_minutes, p.last_run) {
        (None, _, _) => false,
        (Some(_), _, None) => true,
        (Some(_), minutes, Some(last)) => now >= last + minutes.unwrap_or(60).max(1) * 60,
    }
}

/// Files waiting in `dir` (not `*.imported`, not reports, not hidden), by name.
fn waiting(dir: &Path) -> Result<Vec<PathBuf>> {
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let path = entry.map_err(|e| Error::io(dir, e))?.path();
        let name = path.file_name().and_then(|n| n.to_str()).unwrap_or("");
        if path.is_file() && !name.starts_with('.') && !name.ends_with(".imported") && !name.ends_with(".report.json") {
            files.push(path);
        }
    }
    files.sort();
    Ok(files)
}

/// Move `file` into `dir/sub/`, not overwriting an earlier file of the same name.
fn move_into(dir: &Path, sub: &str, file: &Path, now: i64) -> Result<PathBuf> {
    let target_dir = dir.join(sub);
    std::fs::create_dir_all(&target_dir).map_err(|e| Error::io(&target_dir, e))?;
    let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
    let mut target = target_dir.join(&name);
    if target.exists() {
        target = target_dir.join(format!("{name}.{now}"));
    }
    std::fs::rename(file, &target).map_err(|e| Error::io(file, e))?;
    Ok(target)
}

/// Import every waiting file of every due profile, as of `now`.
pub fn park_import_folder(store: &Store, permit: Permit<'_>, now: i64) -> Result<FolderReport> {
    require(permit, Permission::EditMeters)?;
    let profiles = store::profiles::list(&*store.reader()?)?;
    let mut out = FolderReport::default();
    for p in profiles.iter().filter(|p| due(p, now)) {
        let dir = PathBuf::from(p.folder.as_deref().unwrap_or_default());
        out.profiles.push(p.name.clone());
        for file in waiting(&dir)? {
            let name = file.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default();
            let result = std::fs::read(&file).map_err(|e| Error::io(&file, e)).and_then(|bytes| park_import(store, permit, &p.name, &name, &bytes, now));
            let (ok, report, error) = match result {
                Ok(r) => {
                    let mut bad: Vec<u64> = r.rejected.iter().map(|x| x.line).collect();
                    bad.dedup();
                    (r.lines > bad.len() as u64 || r.rejected.is_empty(), Some(r), None)
                }
                Err(e) => (false, None, Some(e.to_string())),
            };
            let sub = if ok { "done" } else { "failed" };
            let moved = move_into(&dir, sub, &file, now)?;
            if !ok || report.as_ref().is_some_and(|r| !r.rejected.is_empty()) {
                let body = serde_json::json!({"file": name, "profile": p.name, "report": report, "error": error});
                let path = PathBuf::from(format!("{}.report.json", moved.display()));
                std::fs::write(&path, serde_json::to_string_pretty(&body).unwrap_or_default()).map_err(|e| Error::io(&path, e))?;
            }
            out.files.push(FolderFile {
                profile: p.name.clone(),
                file: name,
                outcome: sub.into(),
                moved_to: moved.display().to_string(),
                report,
                error,
            });
        }
        let conn = store.writer();
        store::profiles::set_last_run(&conn, p.id, now)?;
    }
    Ok(out)
}
