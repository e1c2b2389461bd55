//! Files the window saves where the clerk chooses: the native save dialog
//! (tauri-plugin-dialog) proposing the folder of the last file saved (the UI remembers it);
//! a streamed export (`export_readings`) written there by the core as it is made, with its
//! progress and cancel; "open the folder" (tauri-plugin-opener). A file is written under a
//! `.part` name and renamed once whole: a cancelled or failed export leaves nothing.
//!
//! A native dialog cannot be driven by WebDriver: with `RELEVE_SAVE_DIALOG_ANSWER` set (a
//! folder), the dialog is not shown and answers that folder with the proposed name; with
//! `RELEVE_SAVE_DIALOG_LOG` set (a file), each dialog appends `folder proposed<TAB>name`.
//! The desktop test sets both; nothing else differs.

use releve_api::{ApiError, Ctx};
use releve_core::export::Progress;
use serde_json::{json, Value};
use std::collections::HashMap;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use tauri_plugin_dialog::DialogExt;

/// The streamed exports running, by the id the window gave them.
#[derive(Default)]
pub struct Streams(Mutex<HashMap<String, Arc<Progress>>>);

impl Streams {
    fn get(&self, id: &str) -> Option<Arc<Progress>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner()).get(id).cloned()
    }
}

fn io(what: &Path, e: std::io::Error) -> ApiError {
    ApiError::new("io", format!("{}: {e}", what.display()))
}

/// Where to save `file_name`: the clerk's choice in the save dialog (None: closed).
fn choose(app: &tauri::AppHandle, file_name: &str, folder: Option<&str>) -> Result<Option<PathBuf>, ApiError> {
    let folder = folder.map(PathBuf::from).filter(|f| f.is_dir());
    if let Some(log) = std::env::var_os("RELEVE_SAVE_DIALOG_LOG") {
        let proposed = folder.as_deref().map(|f| f.display().to_string()).unwrap_or_default();
        let line = format!("{proposed}\t{file_name}\n");
        let written = std::fs::OpenOptions::new().create(true).append(true).open(&log).and_then(|mut f| f.write_all(line.as_bytes()));
        written.map_err(|e| io(Path::new(&log), e))?;
    }
    if let Some(answer) = std::env::var_os("RELEVE_SAVE_DIALOG_ANSWER").filter(|a| !a.is_empty()) {
        return Ok(Some(PathBuf::from(answer).join(file_name)));
    }
    let mut dialog = app.dialog().file().set_file_name(file_name);
    if let Some(folder) = folder {
        dialog = dialog.set_directory(folder);
    }
    match dialog.blocking_save_file() {
        None => Ok(None),
        Some(path) => path.into_path().map(Some).map_err(|e| ApiError::new("io", format!("the chosen file: {e}"))),
    }
}

/// `path` + `.part`: where a file is written until it is whole.
fn part(path: &Path) -> PathBuf {
    let mut name = path.file_name().map(|n| n.to_os_string()).unwrap_or_default();
    name.push(".part");
    path.with_file_name(name)
}

/// Write `path` through its `.part` file with `fill`, renamed once `fill` succeeded.
fn write_whole<T>(path: &Path, fill: impl FnOnce(&mut std::io::BufWriter<std::fs::File>) -> Result<T, ApiError>) -> Result<T, ApiError> {
    let tmp = part(path);
    let file = std::fs::File::create(&tmp).map_err(|e| io(&tmp, e))?;
    let mut out = std::io::BufWriter::with_capacity(256 << 10, file);
    let done = fill(&mut out).and_then(|v| out.flush().map(|()| v).map_err(|e| io(&tmp, e)));
    drop(out);
    match done {
        Ok(v) => {
            std::fs::rename(&tmp, path).map_err(|e| io(path, e))?;
            Ok(v)
        }
        Err(e) => {
            let _ = std::fs::remove_file(&tmp);
            Err(e)
        }
    }
}

/// Save a file the page made (`{path}`, or null when the clerk closed the dialog).
#[tauri::command]
pub async fn save_file(app: tauri::AppHandle, file_name: String, content_base64: String, folder: Option<String>) -> Result<Option<Value>, ApiError> {
    use base64::Engine;
    let bytes = base64::engine::general_purpose::STANDARD
        .decode(content_base64.as_bytes())
        .map_err(|e| ApiError::bad_input("content_base64", e))?;
    tauri::async_runtime::spawn_blocking(move || {
        let Some(path) = choose(&app, &file_name, folder.as_deref())? else { return Ok(None) };
        write_whole(&path, |out| out.write_all(&bytes).map_err(|e| io(&path, e)))?;
        Ok(Some(json!({ "path": path })))
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::new("internal", e.to_string())))
}

/// A streamed command's file (`export_readings`) saved where the clerk chooses, written by
/// the core as it is made: `{file_name, rows, path}`, null when the dialog was closed;
/// `stream_progress` / `stream_cancel` follow it by `id` meanwhile.
#[tauri::command]
#[allow(clippy::too_many_arguments)]
pub async fn stream_to_file(
    app: tauri::AppHandle,
    ctx: tauri::State<'_, Arc<Ctx>>,
    streams: tauri::State<'_, Arc<Streams>>,
    name: String,
    args: Value,
    token: Option<String>,
    id: String,
    folder: Option<String>,
) -> Result<Option<Value>, ApiError> {
    let (ctx, streams) = (Arc::clone(&ctx), Arc::clone(&streams));
    tauri::async_runtime::spawn_blocking(move || {
        let file = Ctx::stream_file(&name, &args)?;
        let Some(path) = choose(&app, &file.file_name, folder.as_deref())? else { return Ok(None) };
        let progress = Arc::new(Progress::default());
        streams.0.lock().unwrap_or_else(|p| p.into_inner()).insert(id.clone(), progress.clone());
        let done = write_whole(&path, |out| ctx.call_stream(token.as_deref(), &name, args, out, &progress));
        streams.0.lock().unwrap_or_else(|p| p.into_inner()).remove(&id);
        let done = done?;
        Ok(Some(json!({ "file_name": file.file_name, "rows": done["rows"], "path": path })))
    })
    .await
    .unwrap_or_else(|e| Err(ApiError::new("internal", e.to_string())))
}

/// `{rows, expected}` of the running stream `id` (null when it is not running).
#[tauri::command]
pub fn stream_progress(streams: tauri::State<'_, Arc<Streams>>, id: String) -> Option<Value> {
    streams.get(&id).map(|p| json!({ "rows": p.rows(), "expected": p.expected() }))
}

/// Stop the running stream `id` (it ends with `cancelled` and leaves no file).
#[tauri::command]
pub fn stream_cancel(streams: tauri::State<'_, Arc<Streams>>, id: String) {
    if let Some(p) = streams.get(&id) {
        p.cancel();
    }
}

/// Show the saved file `path` in the system's file manager.
#[tauri::command]
pub fn open_folder(path: String) -> Result<(), ApiError> {
    tauri_plugin_opener::reveal_item_in_dir(&path).map_err(|e| ApiError::new("io", format!("{path}: {e}")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_appears_only_whole() {
        let dir = tempfile::tempdir().expect("dir");
        let path = dir.path().join("a.csv");
        let failed = write_whole(&path, |out| {
            out.write_all(b"half").map_err(|e| io(&part(&path), e))?;
            Err::<(), _>(ApiError::new("cancelled", "stop"))
        });
        assert_eq!(failed.expect_err("cancelled").code, "cancelled");
        assert!(!path.exists() && !part(&path).exists());
        write_whole(&path, |out| out.write_all(b"whole").map_err(|e| io(&path, e))).expect("written");
        assert_eq!(std::fs::read(&path).expect("read"), b"whole");
        assert!(!part(&path).exists());
    }
}
