//! A folder where other programs drop files (customers-and-meters files, concentrators'
//! uploads): which files are whole and of an expected type, and moving a file once read
//! into `done/` or `failed/`. Used by the watched folders of park profiles and by the
//! folder sources.

use crate::error::{Error, Result};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// Why a file was left alone; `Recent` and `Growing` ones are taken at a later run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Skip {
    /// Not of the folder's expected types (a database, its `-wal` or `-shm`, a report, ...).
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
            Skip::Type => "not a file of the expected types",
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

pub(crate) fn name_of(path: &Path) -> String {
    path.file_name().map(|n| n.to_string_lossy().into_owned()).unwrap_or_default()
}

/// What a watched folder holds, by name (folders such as `done/` and `failed/` not listed).
pub(crate) struct Waiting {
    /// To import.
    pub files: Vec<PathBuf>,
    /// Left alone, and why.
    pub skipped: Vec<(String, Skip)>,
}

/// The whole files of `dir` whose extension is one of `extensions` (lower case).
pub(crate) fn waiting(dir: &Path, now: i64, watch: &Watch, extensions: &[&str]) -> Result<Waiting> {
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
        } else if !extensions.contains(&ext.as_str()) {
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
pub(crate) fn move_into(dir: &Path, sub: &str, file: &Path, now: i64) -> Result<PathBuf> {
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

