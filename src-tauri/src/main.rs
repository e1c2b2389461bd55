//! Relevé desktop shell: a Tauri window over the embedded `ui/` and ONE command, `call`,
//! that forwards to `releve_api::Ctx::call` (the same boundary the REST server uses); and
//! one event, `changes`, the meters given new readings, emitted from a thread waiting on
//! the store's change signal (what `releve serve` pushes as `GET /api/events`). Files the
//! page offers are saved where the clerk chooses (`files.rs`: save dialog, open the folder).
#![cfg_attr(not(debug_assertions), windows_subsystem = "windows")]

mod files;

use releve_api::{ApiError, Ctx};
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

const USAGE: &str = "usage: releve-desktop [--db PATH]\n\
  database: --db PATH, else $RELEVE_DB, else releve.db in the platform data directory";

/// The one command: `invoke("call", {name, args, token})`. Runs on a blocking thread so a
/// long command (import, export) never freezes the window.
#[tauri::command]
async fn call(
    ctx: tauri::State<'_, Arc<Ctx>>,
    name: String,
    args: serde_json::Value,
    token: Option<String>,
) -> Result<serde_json::Value, ApiError> {
    let ctx = Arc::clone(&ctx);
    tauri::async_runtime::spawn_blocking(move || ctx.call(token.as_deref(), &name, args))
        .await
        .unwrap_or_else(|e| {
            Err(ApiError::new("internal", e.to_string()))
        })
}

/// Emit `changes` (`{generation, meters, all}`) to the window whenever meters get new
/// readings (this process's imports at once, another process's within about half a second).
fn push_changes(app: tauri::AppHandle, ctx: Arc<Ctx>) {
    use tauri::Emitter;
    let spawned = std::thread::Builder::new().name("changes".into()).spawn(move || {
        let mut generation = ctx.changes_generation();
        loop {
            let changed = ctx.wait_changes(generation, std::time::Duration::from_secs(60));
            if changed.generation != generation {
                generation = changed.generation;
                if let Err(e) = app.emit("changes", &changed) {
                    eprintln!("releve-desktop: cannot tell the window of changes: {e}");
                }
            }
        }
    });
    if let Err(e) = spawned {
        eprintln!("releve-desktop: no live updates (cannot start their thread: {e})");
    }
}

/// Why the window cannot start with the given arguments or environment.
#[derive(Debug, PartialEq)]
enum StartError {
    MissingPath,
    Unexpected(String),
    NoDataDir,
    CreateDir { dir: PathBuf, reason: String },
}

impl std::fmt::Display for StartError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            StartError::MissingPath => write!(f, "--db needs a PATH"),
            StartError::Unexpected(arg) => write!(f, "unexpected argument {arg:?}"),
            StartError::NoDataDir => write!(f, "no platform data directory; pass --db PATH"),
            StartError::CreateDir { dir, reason } => write!(f, "cannot create {}: {reason}", dir.display()),
        }
    }
}

/// `--db PATH` / `--db=PATH`; `Ok(None)` when absent, `Err` on anything unexpected.
fn db_arg(mut args: impl Iterator<Item = String>) -> Result<Option<PathBuf>, StartError> {
    let mut db = None;
    while let Some(arg) = args.next() {
        match arg.as_str() {
            "--db" => db = Some(args.next().ok_or(StartError::MissingPath)?.into()),
            _ => match arg.strip_prefix("--db=") {
                Some(p) => db = Some(p.into()),
                None => return Err(StartError::Unexpected(arg)),
            },
        }
    }
    Ok(db)
}

/// Argument, else `RELEVE_DB`, else `<data dir>/<identifier>/releve.db` (directory created).
fn db_path(identifier: &str) -> Result<PathBuf, StartError> {
    if let Some(p) = db_arg(std::env::args().skip(1))? {
        return Ok(p);
    }
    if let Some(p) = std::env::var_os("RELEVE_DB").filter(|p| !p.is_empty()) {
        return Ok(p.into());
    }
    let dir = dirs::data_dir()
        .ok_or(StartError::NoDataDir)?
        .join(identifier);
    std::fs::create_dir_all(&dir)
        .map_err(|e| StartError::CreateDir { dir: dir.clone(), reason: e.to_string() })?;
    Ok(dir.join("releve.db"))
}

fn main() -> ExitCode {
    if std::env::args().skip(1).any(|a| a == "-h" || a == "--help") {
        println!("{USAGE}");
        return ExitCode::SUCCESS;
    }
    if cfg!(target_os = "linux")
        && ["DISPLAY", "WAYLAND_DISPLAY"]
            .iter()
            .all(|v| std::env::var_os(v).is_none())
    {
        eprintln!("releve-desktop: no display (DISPLAY/WAYLAND_DISPLAY unset); use `releve serve` or xvfb-run");
        return ExitCode::FAILURE;
    }
    let context = tauri::generate_context!();
    let path = match db_path(&context.config().identifier) {
        Ok(p) => p,
        Err(e) => {
            eprintln!("releve-desktop: {e}\n{USAGE}");
            return ExitCode::from(2);
        }
    };
    let ctx = match Ctx::open(&path) {
        Ok(ctx) => ctx,
        Err(e) => {
            eprintln!(
                "releve-desktop: cannot open database {}: {} ({})",
                path.display(),
                e.message,
                e.code
            );
            return ExitCode::FAILURE;
        }
    };
    ctx.start_jobs(std::time::Duration::from_secs(60), releve_api::jobs::Schedule::from_env());
    let ctx = Arc::new(ctx);
    let watched = Arc::clone(&ctx);
    let result = tauri::Builder::default()
        .plugin(tauri_plugin_dialog::init())
        .manage(ctx)
        .setup(move |app| {
            push_changes(app.handle().clone(), watched);
            Ok(())
        })
        .invoke_handler(tauri::generate_handler![call, files::save_file, files::open_folder])
        .run(context);
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("releve-desktop: {e}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{db_arg, StartError};

    fn parse(args: &[&str]) -> Result<Option<std::path::PathBuf>, StartError> {
        db_arg(args.iter().map(|s| s.to_string()))
    }

    #[test]
    fn parses_db_argument() {
        assert_eq!(parse(&[]), Ok(None));
        assert_eq!(parse(&["--db", "a.db"]), Ok(Some("a.db".into())));
        assert_eq!(parse(&["--db=b.db"]), Ok(Some("b.db".into())));
        assert_eq!(parse(&["--db"]), Err(StartError::MissingPath));
        assert_eq!(parse(&["--bogus"]), Err(StartError::Unexpected("--bogus".into())));
    }
}
