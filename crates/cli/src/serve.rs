//! `releve serve`: the UI's static files, `POST /api/<command>` over HTTP (each request one
//! `Ctx::call`, the same commands as the desktop window), `POST /api/upload` (a file
//! streamed to the spool for `import_start`) and `GET /api/events` (the meters given new
//! readings, pushed to the live screen as Server-Sent Events: events.rs). A command whose
//! answer is a file (`export_readings`) asked with `Accept: text/csv` streams that file as
//! the response body in bounded memory ([`stream`]).
//!
//! A request's session is checked before its body is read (except `login`'s), and bodies
//! are bounded per command ([`body_limit`]): a stranger cannot make the server read or
//! parse a big body. Every request is logged (crates/cli/src/log.rs).

use crate::log::RequestLog;
use crate::Failure;
use axum::body::Body;
use axum::extract::{ConnectInfo, Path as UrlPath, Query, Request, State};
use axum::http::{HeaderMap, StatusCode};
use axum::middleware::{self, Next};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use http_body_util::BodyExt;
use releve_api::{too_large, ApiError, Ctx, MAX_UPLOAD_BYTES};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use tower_http::services::ServeDir;

/// The largest body of a command: `login` 16 KiB, the commands carrying a file 64 MiB (the
/// browser sends drive-by files through `/api/upload` instead), every other 1 MiB.
pub fn body_limit(command: &str) -> u64 {
    match command {
        "login" => 16 << 10,
        "import_start" | "keys_import" | "park_import" | "lorawan_devices_import" => 64 << 20,
        _ => 1 << 20,
    }
}

pub(crate) struct App {
    pub(crate) ctx: Ctx,
    log: RequestLog,
    pub(crate) events: crate::events::Hub,
}

pub fn run(db: &Path, addr: &str, ui: Option<PathBuf>) -> Result<(), Failure> {
    let ui = ui.unwrap_or_else(default_ui_dir);
    if !ui.join("index.html").exists() {
        return Err(Failure { code: "no_ui".into(), message: format!("no index.html in UI folder {}", ui.display()), details: None });
    }
    let app = Arc::new(App { ctx: Ctx::open(db)?, log: RequestLog::beside(db), events: crate::events::Hub::default() });
    let log_path = app.log.path().to_path_buf();
    app.ctx.start_jobs(std::time::Duration::from_secs(60), releve_api::jobs::Schedule::from_env());
    crate::events::watch(app.clone());
    let router = Router::new()
        .route("/api/upload", post(upload))
        .route("/api/events", get(crate::events::events))
        .route("/ingest/{source}", post(ingest))
        .route("/api/{name}", post(api))
        .with_state(app.clone())
        .merge(crate::rest::routes(app.clone()))
        .fallback_service(ServeDir::new(&ui))
        .layer(middleware::from_fn_with_state(app, log_request));
    let runtime = tokio::runtime::Runtime::new()
        .map_err(|e| Failure { code: "runtime".into(), message: e.to_string(), details: None })?;
    runtime.block_on(async {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|e| Failure { code: "bind".into(), message: format!("cannot listen on {addr}: {e}"), details: None })?;
        println!("Relevé serves {} on http://{addr}/ (UI from {}, log in {})", db.display(), ui.display(), log_path.display());
        axum::serve(listener, router.into_make_service_with_connect_info::<std::net::SocketAddr>())
            .with_graceful_shutdown(stop_signal())
            .await
            .map_err(|e| Failure { code: "serve".into(), message: e.to_string(), details: None })
    })
}

/// Ctrl-C, or SIGTERM (what a service manager sends to stop the receiver): requests in
/// flight finish (a push being committed is answered) before the process ends.
pub(crate) async fn stop_signal() {
    #[cfg(unix)]
    {
        let mut term = match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(term) => term,
            Err(_) => return std::future::pending().await,
        };
        tokio::select! {
            _ = tokio::signal::ctrl_c() => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    {
        let _ = tokio::signal::ctrl_c().await;
    }
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

/// What a handler tells the request log: the user, and a server error's cause.
#[derive(Clone)]
pub(crate) struct Logged {
    pub(crate) user: Option<String>,
    pub(crate) cause: Option<String>,
}

async fn log_request(State(app): State<Arc<App>>, request: Request, next: Next) -> Response {
    let start = std::time::Instant::now();
    let method = request.method().to_string();
    let path = request.uri().path().to_string();
    let response = next.run(request).await;
    let logged = response.extensions().get::<Logged>();
    app.log.request(
        &method,
        &path,
        response.status().as_u16(),
        start.elapsed().as_millis(),
        logged.and_then(|l| l.user.as_deref()),
        logged.and_then(|l| l.cause.as_deref()),
    );
    response
}

fn bearer(headers: &HeaderMap) -> Option<String> {
    headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string)
}

pub(crate) fn answer(result: Result<serde_json::Value, ApiError>, user: Option<String>) -> Response {
    match result {
        Ok(v) => {
            let mut response = Json(v).into_response();
            response.extensions_mut().insert(Logged { user, cause: None });
            response
        }
        Err(e) => {
            let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
            let cause = status.is_server_error().then(|| format!("{}: {}", e.code, e.message));
            let mut response = (status, Json(serde_json::json!({ "error": e }))).into_response();
            response.extensions_mut().insert(Logged { user, cause });
            response
        }
    }
}

/// A body of at most `limit` bytes: refused unread when its declared length is over, and
/// as soon as it passes the limit otherwise (`too_large`).
pub(crate) async fn read_body(headers: &HeaderMap, body: Body, limit: u64) -> Result<axum::body::Bytes, ApiError> {
    if let Some(e) = declared_over(headers, limit) {
        return Err(e);
    }
    match http_body_util::Limited::new(body, limit as usize).collect().await {
        Ok(collected) => Ok(collected.to_bytes()),
        Err(e) if e.is::<http_body_util::LengthLimitError>() => Err(too_large(limit)),
        Err(e) => Err(ApiError::new("bad_request", format!("cannot read the body: {e}"))),
    }
}

/// The declared length of a body, when it says it is over `limit`: refused unread.
fn declared_over(headers: &HeaderMap, limit: u64) -> Option<ApiError> {
    let declared = headers.get("content-length")?.to_str().ok()?.parse::<u64>().ok()?;
    (declared > limit).then(|| too_large(limit))
}

/// `POST /api/<name>`: one command. Failed logins are counted per client address: the TCP
/// peer's IP (a forwarding header is not believed, anyone can write one).
async fn api(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    UrlPath(name): UrlPath<String>,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let token = bearer(&headers);
    let user = if name == "login" {
        None
    } else {
        match app.ctx.session_login(token.as_deref()) {
            Ok(login) => Some(login),
            Err(e) => return answer(Err(e), None),
        }
    };
    let body = match read_body(&headers, body, body_limit(&name)).await {
        Ok(body) => body,
        Err(e) => return answer(Err(e), user),
    };
    let args = if body.is_empty() {
        Ok(serde_json::Value::Null)
    } else {
        serde_json::from_slice(&body).map_err(|e| ApiError::new("bad_request", format!("body is not JSON: {e}")))
    };
    drop(body);
    if let (Ok(args), true) = (&args, Ctx::streams(&name) && accepts_file(&headers)) {
        return stream(app, token, name, args.clone(), user).await;
    }
    let result = match args {
        Err(e) => Err(e),
        Ok(args) => {
            let app = app.clone();
            let address = peer.ip().to_string();
            tokio::task::spawn_blocking(move || app.ctx.call_from(&address, token.as_deref(), &name, args))
                .await
                .unwrap_or_else(|e| Err(ApiError::new("internal", e.to_string())))
        }
    };
    let user = user.or_else(|| {
        let login = result.as_ref().ok()?.get("user")?.get("login")?.as_str()?;
        Some(login.to_string())
    });
    answer(result, user)
}

/// The largest push `/ingest/<source>` reads before the source's own limit is known (the
/// source then refuses what is over its `max_body`).
const MAX_PUSH_BYTES: u64 = 1 << 30;

/// `POST /ingest/<source>`: a concentrator's push, answered once stored. The token is checked
/// before the body is read; a body over the limit is refused unread when its length says so.
async fn ingest(State(app): State<Arc<App>>, UrlPath(source): UrlPath<String>, headers: HeaderMap, body: Body) -> Response {
    let token = bearer(&headers);
    let who = Some(format!("source:{source}"));
    // The token first, with an empty body: a wrong token never gets its body read.
    let check = {
        let (app, source, token) = (app.clone(), source.clone(), token.clone());
        tokio::task::spawn_blocking(move || app.ctx.source_limit(&source, token.as_deref()))
            .await
            .unwrap_or_else(|e| Err(ApiError::new("internal", e.to_string())))
    };
    let limit = match check {
        Ok(limit) => limit.min(MAX_PUSH_BYTES),
        Err(e) => return answer(Err(e), who),
    };
    let body = match read_body(&headers, body, limit).await {
        Ok(body) => body,
        Err(e) => return answer(Err(e), who),
    };
    let result = tokio::task::spawn_blocking(move || app.ctx.ingest_push(&source, token.as_deref(), &body))
        .await
        .unwrap_or_else(|e| Err(ApiError::new("internal", e.to_string())));
    answer(result, who)
}

#[derive(serde::Deserialize)]
struct UploadQuery {
    name: String,
}

/// `POST /api/upload?name=<file name>`, the file as the body: `{upload, bytes}`.
async fn upload(State(app): State<Arc<App>>, query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>, headers: HeaderMap, body: Body) -> Response {
    let token = bearer(&headers);
    let user = match app.ctx.session_login(token.as_deref()) {
        Ok(login) => login,
        Err(e) => return answer(Err(e), None),
    };
    let result = receive(&app.ctx, token.as_deref(), query, &headers, body).await;
    answer(result, Some(user))
}

async fn receive(
    ctx: &Ctx,
    token: Option<&str>,
    query: Result<Query<UploadQuery>, axum::extract::rejection::QueryRejection>,
    headers: &HeaderMap,
    mut body: Body,
) -> Result<serde_json::Value, ApiError> {
    let Query(query) = query.map_err(|e| ApiError::bad_input("name", format!("the file name is missing: {e}")))?;
    if let Some(e) = declared_over(headers, MAX_UPLOAD_BYTES) {
        return Err(e);
    }
    let mut writer = ctx.upload(token, &query.name)?;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| ApiError::new("bad_request", format!("cannot read the body: {e}")))?;
        if let Ok(data) = frame.into_data() {
            tokio::task::block_in_place(|| writer.write(&data))?;
        }
    }
    tokio::task::block_in_place(|| writer.finish())
}

/// Whether the client asks for the file itself (`Accept: text/csv`) rather than JSON.
fn accepts_file(headers: &HeaderMap) -> bool {
    headers.get("accept").and_then(|v| v.to_str().ok()).is_some_and(|a| a.contains("text/csv"))
}

/// A chunk of a streamed file, or the error that cut it (the body then fails: the client sees
/// an incomplete download, never a short file taken for whole).
type Chunk = Result<axum::body::Bytes, std::io::Error>;

/// The bytes a streamed command writes, sent to the response in chunks of [`CHUNK`] bytes
/// through a channel of [`CHUNKS`]: at most about 0.5 MiB waits for a slow client, the writer
/// blocks meanwhile. A client gone (the clerk cancelled) cancels the export.
struct ChannelWriter {
    tx: tokio::sync::mpsc::Sender<Chunk>,
    buf: Vec<u8>,
    progress: Arc<releve_core::export::Progress>,
}

const CHUNK: usize = 64 << 10;
const CHUNKS: usize = 8;

impl ChannelWriter {
    fn send(&mut self) -> std::io::Result<()> {
        if self.buf.is_empty() {
            return Ok(());
        }
        let chunk = axum::body::Bytes::from(std::mem::replace(&mut self.buf, Vec::with_capacity(CHUNK)));
        self.tx.blocking_send(Ok(chunk)).map_err(|_| {
            self.progress.cancel();
            std::io::Error::new(std::io::ErrorKind::BrokenPipe, "the client went away")
        })
    }
}

impl std::io::Write for ChannelWriter {
    fn write(&mut self, data: &[u8]) -> std::io::Result<usize> {
        self.buf.extend_from_slice(data);
        if self.buf.len() >= CHUNK {
            self.send()?;
        }
        Ok(data.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        self.send()
    }
}

/// The file of command `name` as the response body, as it is made: `Content-Disposition`
/// names it, `X-Releve-Expected-Rows` says how many rows to expect (the progress bar's end).
/// A refusal before the first byte (session, permission, arguments) is the usual JSON error.
async fn stream(app: Arc<App>, token: Option<String>, name: String, args: serde_json::Value, user: Option<String>) -> Response {
    let file = match Ctx::stream_file(&name, &args) {
        Ok(file) => file,
        Err(e) => return answer(Err(e), user),
    };
    let (tx, mut rx) = tokio::sync::mpsc::channel::<Chunk>(CHUNKS);
    let progress = Arc::new(releve_core::export::Progress::default());
    let job = {
        let progress = progress.clone();
        tokio::task::spawn_blocking(move || {
            let mut out = ChannelWriter { tx: tx.clone(), buf: Vec::with_capacity(CHUNK), progress: progress.clone() };
            let result = app.ctx.call_stream(token.as_deref(), &name, args, &mut out, &progress);
            let result = result.and_then(|done| match std::io::Write::flush(&mut out) {
                Ok(()) => Ok(done),
                Err(e) => Err(ApiError::new("io", e.to_string())),
            });
            if let Err(e) = &result {
                // Cut the body if it had begun: the client must not take a part for the file.
                let _ = tx.blocking_send(Err(std::io::Error::other(format!("{}: {}", e.code, e.message))));
            }
            result
        })
    };
    let first = match rx.recv().await {
        Some(Ok(first)) => first,
        // Refused or failed before the first byte: the JSON error.
        Some(Err(_)) | None => {
            let result = job.await.unwrap_or_else(|e| Err(ApiError::new("internal", e.to_string())));
            return answer(result.map(|_| serde_json::json!({})), user);
        }
    };
    let rest = futures_util::stream::poll_fn(move |cx| rx.poll_recv(cx));
    let body = futures_util::StreamExt::chain(futures_util::stream::iter([Ok(first)]), rest);
    let disposition = format!("attachment; filename=\"{}\"", file.file_name.replace(['"', '\\'], "_"));
    let mut response = Response::new(Body::from_stream(body));
    let headers = response.headers_mut();
    let value = |s: &str| axum::http::HeaderValue::from_str(s).unwrap_or(axum::http::HeaderValue::from_static(""));
    headers.insert("content-type", value(file.content_type));
    headers.insert("content-disposition", value(&disposition));
    headers.insert("x-releve-expected-rows", value(&progress.expected().to_string()));
    headers.insert("x-releve-file-name", value(&file.file_name));
    headers.insert("cache-control", axum::http::HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(Logged { user, cause: None });
    response
}
