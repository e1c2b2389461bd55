//! Files the window saves where the clerk chooses (exports, reports, keys): the page hands
//! the bytes to `save_file`, which asks in the native save dialog (tauri-plugin-dialog, GTK
//! on Linux) proposing the folder of the last file saved, writes the file there and
//! remembers its folder; `open_folder` then shows that folder in the file manager. The
//! browser (`releve serve`) downloads files itself and never comes here.
//!
//! The last folder is remembered per system user in the app's config directory
//! (`$XDG_CONFIG_HOME/org.releve.desktop/save-folder` on Linux, `%APPDATA%\...` on Windows,
//! `~/Library/Application Support/...` on macOS): one line, the folder's path.
//!
//! A native dialog cannot be driven by WebDriver. For the desktop test only:
//! `RELEVE_SAVE_DIALOG_ANSWER` (a folder) answers every dialog with that folder and the
//! proposed name without showing it; `RELEVE_SAVE_DIALOG_LOG` (a file) gets one line per
//! dialog, `folder proposed<TAB>file name`. Everything else (writing, remembering) is real.

use releve_api::ApiError;
use serde_json::{json, Value};
use std::io::Write;
use std::path::{Path, PathBuf};
use tauri::Manager;
use tauri_plugin_dialog::DialogExt;

/// The file in the app's config directory that holds the last folder saved into.
const REMEMBERED: &str = "save-folder";

/// `save_failed {path, reason}`: the file (or the test's dialog log) could not be written.
fn io(what: &Path, e: impl std::fmt::Display) -> ApiError {
    let path = what.display().to_string();
    ApiError::new("save_failed", format!("{path}: {e}"))
        .with_params(json!({ "path": path, "reason": e.to_string() }))
}

/// The folder of the last file saved, when it is still a folder.
pub fn remembered_folder(config_dir: &Path) -> Option<PathBuf> {
    let text = std::fs::read_to_string(config_dir.join(REMEMBERED)).ok()?;
    let folder = PathBuf::from(text.trim_end_matches(['\r', '\n']));
    (folder.is_absolute() && folder.is_dir()).then_some(folder)
}

/// Remember `folder` for the next dialog (the config directory is created if needed).
pub fn remember_folder(config_dir: &Path, folder: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(config_dir)?;
    let tmp = config_dir.join(format!("{REMEMBERED}.tmp"));
    std::fs::write(&tmp, format!("{}\n", folder.display()))?;
    std::fs::rename(&tmp, config_dir.join(REMEMBERED))
}

/// The page's file name reduced to a plain name (no folder part; never empty).
pub fn plain_name(file_name: &str) -> String {
    let last = file_name.rsplit(['/', '\\']).next().unwrap_or_default().trim();
    if last.is_empty() || last == "." || last == ".." {
        "releve-file".to_string()
    } else {
        last.to_string()
    }
}

/// Where to save `file_name`: the clerk's choice in the save dialog (None: closed).
fn choose(app: &tauri::AppHandle, file_name: &str, folder: Option<&Path>) -> Result<Option<PathBuf>, ApiError> {
    if let Some(log) = std::env::var_os("RELEVE_SAVE_DIALOG_LOG").filter(|l| !l.is_empty()) {
        let proposed = folder.map(|f| f.display().to_string()).unwrap_or_default();
        let line = format!("{proposed}\t{file_name}\n");
        let written = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(&log)
            .and_then(|mut f| f.write_all(line.as_bytes()));
        written.map_err(|e| io(Path::new(&log), e))?;
    }
    if let Some(answer) = std::env::var_os("RELEVE_SAVE_DIALOG_ANSWER").filter(|a| !a.is_empty()) {
        return Ok(Some(PathBuf::from(answer).join(file_name)));
    }
    let mut dialog = app.dialog().file().set_file_name(file_name);
    if let Some(folder) = folder {
        dialog = dialog.set_directory(folder);
    }
    if let Some(window) = app.get_webview_window("main") {
        dialog = dialog.set_parent(&window);
    }
    match dialog.blocking_save_file() {
        None => Ok(None),
        Some(path) => path
            .into_path()
            .map(Some)
            .map_err(|e| io(Path::new(file_name), e)),
    }
}

/// Write `bytes` to `path` through a `.part` file renamed once whole.
fn write_whole(path: &Path, bytes: &[u8]) -> Result<(), ApiError> {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    let tmp = path.with_file_name(name);
    let written = std::fs::write(&tmp, bytes).and_then(|()| std::fs::rename(&tmp, path));
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(path, e));
    }
    Ok(())
}

/// Save the file the page made: the raw request body is the content, the header
/// `x-file-name` its name (URI-encoded). `{path}`, or null when the clerk closed the dialog.
#[tauri::command]
pub async fn save_file(app: tauri::AppHandle, request: tauri::ipc::Request<'_>) -> Result<Option<Value>, ApiError> {
    let tauri::ipc::InvokeBody::Raw(bytes) = request.body() else {
        return Err(ApiError::bad_input("body", "the file's bytes are expected"));
    };
    let bytes = bytes.clone();
    let encoded = request
        .headers()
        .get("x-file-name")
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default();
    let file_name = plain_name(&percent_decode(encoded));
    tauri::async_runtime::spawn_blocking(move || {
        let config_dir = app.path().app_config_dir().ok();
        let folder = config_dir.as_deref().and_then(remembered_folder);
        let Some(path) = choose(&app, &file_name, folder.as_deref())? else {
            return Ok(None);
        };
        write_whole(&path, &bytes)?;
        if let (Some(config_dir), Some(parent)) = (config_dir, path.parent()) {
            if let Err(e) = remember_folder(&config_dir, parent) {
                eprintln!("releve-desktop: cannot remember the folder {}: {e}", parent.display());
            }
        }
        Ok(Some(json!({ "path": path })))
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::new("internal", e.to_string())))
}

/// `%XX` sequences decoded (the page sends `encodeURIComponent(name)`: headers are ASCII).
fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = |b: u8| (b as char).to_digit(16);
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let (Some(h), Some(l)) = (hex(bytes[i + 1]), hex(bytes[i + 2])) {
                out.push((h * 16 + l) as u8);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Show the folder of the saved file `path` in the system's file manager.
#[tauri::command]
pub fn open_folder(path: String) -> Result<(), ApiError> {
    let path = PathBuf::from(path);
    let folder = if path.is_dir() { path.clone() } else { path.parent().map(Path::to_path_buf).unwrap_or_default() };
    let failed = |reason: String| {
        let shown = folder.display().to_string();
        ApiError::new("open_folder_failed", format!("{shown}: {reason}"))
            .with_params(json!({ "folder": shown, "reason": reason }))
    };
    if !folder.is_dir() {
        return Err(failed("no such folder".into()));
    }
    let program = if cfg!(target_os = "windows") {
        "explorer"
    } else if cfg!(target_os = "macos") {
        "open"
    } else {
        "xdg-open"
    };
    let mut child = std::process::Command::new(program)
        .arg(&folder)
        .spawn()
        .map_err(|e| failed(format!("{program}: {e}")))?;
    // Reap it when it ends (xdg-open returns at once; explorer stays).
    std::thread::spawn(move || child.wait());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_last_folder_is_remembered_while_it_exists() {
        let dir = tempfile::tempdir().expect("dir");
        let config = dir.path().join("config/org.releve.desktop");
        assert_eq!(remembered_folder(&config), None, "nothing saved yet");
        let saved = dir.path().join("exports été");
        std::fs::create_dir(&saved).expect("mkdir");
        remember_folder(&config, &saved).expect("remember");
        assert_eq!(remembered_folder(&config), Some(saved.clone()));
        let other = dir.path().join("other");
        std::fs::create_dir(&other).expect("mkdir");
        remember_folder(&config, &other).expect("remember again");
        assert_eq!(remembered_folder(&config), Some(other.clone()), "the last one wins");
        std::fs::remove_dir(&other).expect("rmdir");
        assert_eq!(remembered_folder(&config), None, "a folder since removed is not proposed");
        std::fs::write(config.join(REMEMBERED), "relative/dir\n").expect("write");
        assert_eq!(remembered_folder(&config), None, "only absolute folders");
    }

    #[test]
    fn file_names_are_plain_names() {
        assert_eq!(plain_name("releve-2026.csv"), "releve-2026.csv");
        assert_eq!(plain_name("../../etc/passwd"), "passwd");
        assert_eq!(plain_name("a\\b\\c.zip"), "c.zip");
        assert_eq!(plain_name(""), "releve-file");
        assert_eq!(plain_name(".."), "releve-file");
        assert_eq!(percent_decode("relev%C3%A9%20mars.csv"), "relevé mars.csv");
        assert_eq!(percent_decode("100%"), "100%");
        assert_eq!(percent_decode("%4"), "%4");
    }

    #[test]
    fn a_file_is_written_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.csv");
        write_whole(&path, b"whole").expect("written");
        assert_eq!(std::fs::read(&path).expect("read"), b"whole");
        assert!(!dir.path().join("a.csv.part").exists());
        let missing = dir.path().join("no/such/dir/b.csv");
        let err = write_whole(&missing, b"x").expect_err("no folder");
        assert_eq!(err.code, "save_failed");
        assert_eq!(err.params["path"], missing.display().to_string());
    }
}
