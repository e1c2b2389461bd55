//! Allowed folders: the manager's list of the folders that watched customers-and-meters
//! folders may read and scheduled exports may write. A folder is checked after resolving
//! `..` and symbolic links, when a profile or a job is saved and again each time it is
//! used, so a folder taken off the list is no longer read or written. The database's own
//! folder, its parent folders and the database file itself are refused even when allowed
//! (a watched folder there would take the live database, its `-wal` and `-shm`).

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::{self, Store};
use serde::Serialize;
use std::path::{Component, Path, PathBuf};

/// Setting key: a JSON list of absolute folders.
pub const ALLOWED_FOLDERS_KEY: &str = "allowed_folders";

/// Why a folder is refused; `code()` is what the UI words (with the folder).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum FolderRule {
    /// Not an absolute path (`C:\...`, `/...`).
    NotAbsolute,
    /// Not inside any allowed folder (after resolving `..` and links).
    NotAllowed,
    /// The database's folder, one of its parents, or the database file.
    IsStore,
    /// An allowed folder that exists as a file.
    NotAFolder,
    /// A scheduled export's folder that does not exist (checked when the job is saved).
    Missing,
    /// A scheduled export's folder where a file cannot be written.
    NotWritable,
}

impl FolderRule {
    pub fn code(self) -> &'static str {
        match self {
            FolderRule::NotAbsolute => "folder_not_absolute",
            FolderRule::NotAllowed => "folder_not_allowed",
            FolderRule::IsStore => "folder_is_store",
            FolderRule::NotAFolder => "folder_not_a_folder",
            FolderRule::Missing => "folder_missing",
            FolderRule::NotWritable => "folder_not_writable",
        }
    }
}

fn refused(rule: FolderRule, folder: &Path) -> Error {
    Error::Folder { rule, folder: folder.display().to_string() }
}

/// The allowed folders, as the manager gave them.
pub fn folders_allowed(store: &Store, session: &Session) -> Result<Vec<String>> {
    session.permit(Permission::View)?;
    allowed(&store::settings::get(&*store.reader()?, ALLOWED_FOLDERS_KEY)?)
}

fn allowed(value: &Option<String>) -> Result<Vec<String>> {
    match value {
        None => Ok(Vec::new()),
        Some(json) => serde_json::from_str(json)
            .map_err(|e| Error::bad_input("allowed_folders setting", format!("not a JSON list of folders: {e}"))),
    }
}

/// Replace the allowed folders (permission Settings, audited). Each is absolute, not a file,
/// and does not hold the database; blanks and repeats are dropped. Returns the saved list.
pub fn folders_allowed_set(store: &Store, session: &Session, folders: &[String], now: i64) -> Result<Vec<String>> {
    let permit = session.permit(Permission::Settings)?;
    let store_file = store_file(store);
    let mut list: Vec<String> = Vec::new();
    for folder in folders.iter().map(|f| f.trim()).filter(|f| !f.is_empty()) {
        let given = Path::new(folder);
        let resolved = resolve(given)?;
        if holds_store(&resolved, &store_file) {
            return Err(refused(FolderRule::IsStore, given));
        }
        if resolved.is_file() {
            return Err(refused(FolderRule::NotAFolder, given));
        }
        let shown = given.components().collect::<PathBuf>().display().to_string();
        if !list.contains(&shown) {
            list.push(shown);
        }
    }
    let json = serde_json::to_string(&list).map_err(|e| Error::bad_input("folders", e.to_string()))?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::settings::set(&tx, ALLOWED_FOLDERS_KEY, &json)?;
    store::audit::record_permit(&tx, permit, now, "folders_allowed", &list.join(", "))?;
    tx.commit()?;
    Ok(list)
}

/// `folder` resolved (`..` and links followed) if it may be read or written now: inside an
/// allowed folder and neither the database's folder, a parent of it, nor the database file.
pub fn check(store: &Store, folder: &str) -> Result<PathBuf> {
    let given = Path::new(folder.trim());
    let resolved = resolve(given)?;
    if holds_store(&resolved, &store_file(store)) {
        return Err(refused(FolderRule::IsStore, given));
    }
    let list = allowed(&store::settings::get(&*store.reader()?, ALLOWED_FOLDERS_KEY)?)?;
    let inside = list.iter().filter_map(|a| resolve(Path::new(a)).ok()).any(|a| resolved.starts_with(a));
    if !inside {
        return Err(refused(FolderRule::NotAllowed, given));
    }
    Ok(resolved)
}

/// `folder` resolved if a scheduled export may write there now: `check`, and it exists, is a
/// folder and a file can be created in it (a probe file, removed at once).
pub fn check_writable(store: &Store, folder: &str) -> Result<PathBuf> {
    let resolved = check(store, folder)?;
    let given = Path::new(folder.trim());
    if !resolved.exists() {
        return Err(refused(FolderRule::Missing, given));
    }
    if !resolved.is_dir() {
        return Err(refused(FolderRule::NotAFolder, given));
    }
    let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.as_nanos()).unwrap_or(0);
    let probe = resolved.join(format!(".releve-write-check-{}-{nanos}", std::process::id()));
    match std::fs::OpenOptions::new().write(true).create_new(true).open(&probe) {
        Ok(_) => {
            let _ = std::fs::remove_file(&probe);
            Ok(resolved)
        }
        Err(_) => Err(refused(FolderRule::NotWritable, given)),
    }
}

/// The database file, resolved.
fn store_file(store: &Store) -> PathBuf {
    let path = store.path();
    std::fs::canonicalize(path).unwrap_or_else(|_| std::path::absolute(path).unwrap_or_else(|_| path.to_path_buf()))
}

/// Whether reading or writing `folder` (resolved) may touch the database: it is the
/// database's folder or a parent of it, or the database file (or under it).
fn holds_store(folder: &Path, store_file: &Path) -> bool {
    let store_dir = store_file.parent().unwrap_or(store_file);
    store_dir.starts_with(folder) || folder.starts_with(store_file)
}

/// `path` with links and `..` resolved: its longest existing part through the file system,
/// the rest as written, which may not go up (`..`) since nothing there can be resolved.
fn resolve(path: &Path) -> Result<PathBuf> {
    if !path.is_absolute() {
        return Err(refused(FolderRule::NotAbsolute, path));
    }
    let mut existing = path;
    let mut rest: Vec<&std::ffi::OsStr> = Vec::new();
    loop {
        if let Ok(real) = std::fs::canonicalize(existing) {
            let mut out = real;
            out.extend(rest.iter().rev());
            return Ok(out);
        }
        let last = existing.components().next_back();
        match (last, existing.parent()) {
            (Some(Component::Normal(name)), Some(parent)) => {
                rest.push(name);
                existing = parent;
            }
            (Some(Component::CurDir), Some(parent)) => existing = parent,
            // `..` under a folder that does not exist, or nothing of the path exists.
            _ => return Err(refused(FolderRule::NotAllowed, path)),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_folder_under_a_missing_one_resolves_but_cannot_climb_out_of_it() {
        let dir = tempfile::tempdir().expect("tmp");
        let real = std::fs::canonicalize(dir.path()).expect("canon");
        assert_eq!(resolve(&dir.path().join("a/b")).expect("resolve"), real.join("a/b"));
        assert_eq!(resolve(&dir.path().join("a/../b")).ok(), None, "`..` under a missing folder");
        std::fs::create_dir(dir.path().join("a")).expect("mkdir");
        assert_eq!(resolve(&dir.path().join("a/../b")).expect("resolve"), real.join("b"));
        assert!(matches!(resolve(Path::new("relative/x")), Err(Error::Folder { rule: FolderRule::NotAbsolute, .. })));
    }

    #[test]
    fn the_database_folder_and_its_parents_hold_the_store_its_children_do_not() {
        let db = Path::new("/data/releve/releve.db");
        for folder in ["/data/releve", "/data", "/", "/data/releve/releve.db"] {
            assert!(holds_store(Path::new(folder), db), "{folder}");
        }
        for folder in ["/data/releve/exports", "/data/other", "/data/releve2"] {
            assert!(!holds_store(Path::new(folder), db), "{folder}");
        }
    }
}
