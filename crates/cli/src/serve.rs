//! `releve serve`: the UI's static files and `POST /api/<command>` over HTTP, each request
//! one `Ctx::call` (the same commands as the desktop window).

use crate::Failure;
use axum::body::Bytes;
use axum::extract::{DefaultBodyLimit, Path as UrlPath, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use releve_api::{ApiError, Ctx};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::ServeDir;

pub fn run(db: &Path, addr: &str, ui: Option<PathBuf>) -> Result<(), Failure> {
    let ui = ui.unwrap_or_else(default_ui_dir);
    if !ui.join("index.html").exists() {
        return Err(Failure { code: "no_ui".into(), message: format!("no index.html in UI folder {}", ui.display()), details: None });
    }
    let ctx = Arc::new(Ctx::open(db)?);
    ctx.start_jobs(std::time::Duration::from_secs(60));
    let app = Router::new()
        .route("/api/{name}", post(api))
        .layer(DefaultBodyLimit::max(1 << 30))
        .with_state(ctx)
        .fallback_service(ServeDir::new(&ui));
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure { code: "runtime".into(), message: e.to_string(), details: None })?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure { code: "bind".into(), message: format!("cannot listen on {addr}: {e}"), details: None })?;
        println!("Relevé serves {} on http://{addr}/ (UI from {})", db.display(), ui.display());
        axum::serve(listener, app)
            .with_graceful_shutdown(async {
                let _ = tokio::signal::ctrl_c().await;
            })
            .await
            .map_err(|e| Failure { code: "serve".into(), message: e.to_string(), details: None })
    })
}

/// `RELEVE_UI`, else `ui/` beside the executable's sources, else `./ui`.
fn default_ui_dir() -> PathBuf {
    if let Ok(dir) = std::env::var("RELEVE_UI") {
        return PathBuf::from(dir);
    }
    let built = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../ui");
    if built.join("index.html").exists() {
        return built;
    }
    PathBuf::from("ui")
}

async fn api(State(ctx): State<Arc<Ctx>>, UrlPath(name): UrlPath<String>, headers: HeaderMap, body: Bytes) -> Response {
    let token = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let args = if body.is_empty() {
        Ok(serde_json::Value::Null)
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::new("bad_request", format!("body is not JSON: {e}")))
    };
    let result = match args {
        Err(e) => Err(e),
        Ok(args) => tokio::task::spawn_blocking(move || ctx.call(token.as_deref(), &name, args))
            .await
            .unwrap_or_else(|e| Err(ApiError::new("internal", e.to_string()))),
    };
    match result {
        Ok(v) => Json(v).into_response(),
        Err(e) => {
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            (status, Json(serde_json::json!({ "error": e }))).into_response()
        }
    }
}
