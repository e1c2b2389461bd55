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

/// Why a file was left alone; `Recent` and `Growing` ones are taken at a later run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// Not `.csv` or `.txt` (a database, its `-wal` or `-shm`, a report, ...).
    Type,
    /// Its name starts with a dot.
    Hidden,
    /// Not a plain file (a link, a device, ...).
    NotAFile,
    /// Modified less than [`Watch::settle_seconds`] before `now`.
    Recent,
    /// Its size or time changed between two looks [`Watch::look_again`] apart.
    Growing,
}

impl Skip {
    pub fn words(self) -> &'static str {
        match self {
            Skip::Type => "not a .csv or .txt file",
            Skip::Hidden => "a hidden file",
            Skip::NotAFile => "not a plain file",
            Skip::Recent => "modified moments ago, perhaps still being written: taken at a later run",
            Skip::Growing => "still growing: taken at a later run",
        }
    }
}

/// How a folder is watched: when a file counts as written whole.
#[derive(Debug, Clone, Copy)]
pub struct Watch {
    /// A file modified less than this many seconds before `now` is left for a later run.
    pub settle_seconds: i64,
    /// The pause between the two looks at each file's size and time.
    pub look_again: std::time::Duration,
}

impl Default for Watch {
    fn default() -> Watch {
        Watch { settle_seconds: 10, look_again: std::time::Duration::from_millis(500) }
    }
}

/// The file types the import reads (`park_import` takes delimited text).
const EXTENSIONS: [&str; 2] = ["csv", "txt"];

fn due(p: &Profile, now: i64) -> bool {
    match (&p.folder, p.interval_minutes, p.last_run) {
        (None, _, _) => false,
        (Some(_), _, None) => true,
        (Some(_), minutes, Some(last)) => now >= last + minutes.unwrap_or(60).max(1) * 60,
    }
}

fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// What a watched folder holds, by name (folders such as `done/` and `failed/` not listed).
struct Waiting {
    /// To import.
    files: Vec<PathBuf>,
    /// Left alone, and why.
    skipped: Vec<(String, Skip)>,
}

fn waiting(dir: &Path, now: i64, watch: &Watch) -> Result<Waiting> {
    let mut looked = Vec::new();
    let mut skipped = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(|e| Error::io(dir, e))? {
        let entry = entry.map_err(|e| Error::io(dir, e))?;
        let path = entry.path();
        let name = name_of(&path);
        // The entry's own type: a link is not followed (it could point at the database).
        let kind = entry.file_type().map_err(|e| Error::io(&path, e))?;
        let ext = path.extension().and_then(|e| e.to_str()).unwrap_or("").to_ascii_lowercase();
        let skip = if kind.is_dir() {
            continue;
        } else if name.starts_with('.') {
            Some(Skip::Hidden)
        } else if !kind.is_file() {
            Some(Skip::NotAFile)
        } else if !EXTENSIONS.contains(&ext.as_str()) {
            Some(Skip::Type)
        } else {
            None
        };
        match skip {
            Some(reason) => skipped.push((name, reason)),
            None => match stat(&path)? {
                (_, modified) if modified > now - watch.settle_seconds => skipped.push((name, Skip::Recent)),
                seen => looked.push((path, seen)),
            },
        }
    }
    if !looked.is_empty() && !watch.look_again.is_zero() {
        std::thread::sleep(watch.look_again);
    }
    let mut files = Vec::new();
    for (path, seen) in looked {
        if stat(&path)? == seen {
            files.push(path);
        } else {
            skipped.push((name_of(&path), Skip::Growing));
        }
    }
    files.sort();
    skipped.sort_by(|a, b| a.0.cmp(&b.0));
    Ok(Waiting { files, skipped })
}

/// A file's size and modification time (Unix seconds; a time before 1970 as 0).
fn stat(path: &Path) -> Result<(u64, i64)> {
    let meta = std::fs::symlink_metadata(path).map_err(|e| Error::io(path, e))?;
    let modified = meta.modified().map_err(|e| Error::io(path, e))?;
    let secs = modified.duration_since(std::time::UNIX_EPOCH).map_or(0, |d| i64::try_from(d.as_secs()).unwrap_or(i64::MAX));
    Ok((meta.len(), secs))
}

/// Move `file` into `dir/sub/`, not overwriting an earlier file of the same name. `sub`
/// must be a real folder: a link there could lead out of the allowed folder.
fn move_into(dir: &Path, sub: &str, file: &Path, now: i64) -> Result<PathBuf> {
    let target_dir = dir.join(sub);
    std::fs::create_dir_all(&target_dir).map_err(|e| Error::io(&target_dir, e))?;
    if !std::fs::symlink_metadata(&target_dir).map_err(|e| Error::io(&target_dir, e))?.is_dir() {
        let rule = crate::folders::FolderRule::NotAllowed;
        return Err(Error::Folder { rule, folder: target_dir.display().to_string() });
    }
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
        let Waiting { files, skipped } = waiting(&dir, now, watch)?;
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
