//! `/api/v1/`: the open API over HTTP for billing systems and portals. Routes are built from
//! `releve_api::v1::OPERATIONS` (each one `Ctx::call_key`), `GET /api/v1/openapi.json` is
//! the document generated from the same table, `GET /api/v1/docs` its readable page.
//! Errors are RFC 9457 problem details; GET answers carry an ETag and honour If-None-Match.

use crate::serve::{App, Logged};
use axum::body::Body;
use axum::extract::rejection::PathRejection;
use axum::extract::{ConnectInfo, Path as UrlPath, RawQuery, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, on, MethodFilter};
use axum::Router;
use releve_api::v1::{self, Method, Operation, OPERATIONS};
use releve_api::ApiError;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, OnceLock};

/// The largest body of an operation (an exchange, an export request).
const MAX_BODY: u64 = 64 << 10;
/// The longest query string read.
const MAX_QUERY: usize = 4 << 10;

/// The open API's routes.
pub(crate) fn routes(app: Arc<App>) -> Router {
    let mut router = Router::new()
        .route("/api/v1/openapi.json", get(openapi))
        .route("/api/v1/docs", get(docs))
        .route("/api/v1", get(|| async { axum::response::Redirect::permanent("/api/v1/docs") }));
    for op in OPERATIONS {
        let filter = match op.method {
            Method::Get => MethodFilter::GET,
            Method::Post => MethodFilter::POST,
        };
        let name = op.name;
        router = router.route(
            &format!("/api/v1{}", op.path),
            on(filter, move |state, peer, path, query, headers, body| operation(state, peer, path, query, headers, body, name)),
        );
    }
    router.route("/api/v1/{*rest}", axum::routing::any(unknown_path)).with_state(app)
}

fn document() -> &'static serde_json::Value {
    static DOC: OnceLock<serde_json::Value> = OnceLock::new();
    DOC.get_or_init(|| v1::openapi::document(env!("CARGO_PKG_VERSION")))
}

async fn openapi() -> Response {
    let mut r = axum::Json(document()).into_response();
    r.headers_mut().insert(header::CACHE_CONTROL, HeaderValue::from_static("no-cache"));
    r
}

async fn docs() -> Response {
    static PAGE: OnceLock<String> = OnceLock::new();
    let page = PAGE.get_or_init(|| v1::docs_html(document()));
    ([(header::CONTENT_TYPE, "text/html; charset=utf-8")], page.clone()).into_response()
}

async fn unknown_path() -> Response {
    problem(&ApiError::new("not_found", "no such operation: see /api/v1/docs").with_params(serde_json::json!({"what": "operation"})), None)
}

/// The API key of a request: `Authorization: Bearer <key>` or `X-Api-Key: <key>`.
fn api_key(headers: &HeaderMap) -> Option<String> {
    let bearer = headers.get(header::AUTHORIZATION).and_then(|v| v.to_str().ok()).and_then(|v| v.strip_prefix("Bearer ")).map(str::to_string);
    bearer.or_else(|| headers.get("x-api-key").and_then(|v| v.to_str().ok()).map(str::to_string))
}

/// The types of the query parameters of each operation, from its schema.
fn query_types(name: &str) -> &'static HashMap<String, String> {
    static TYPES: OnceLock<HashMap<&'static str, HashMap<String, String>>> = OnceLock::new();
    static NONE: OnceLock<HashMap<String, String>> = OnceLock::new();
    let all = TYPES.get_or_init(|| OPERATIONS.iter().map(|o| (o.name, v1::openapi::query_types(o.name).into_iter().collect())).collect());
    all.get(name).unwrap_or_else(|| NONE.get_or_init(HashMap::new))
}

/// A query string as the operation's query object, each value typed by its schema
/// (`bad_input` naming the parameter when it does not read).
fn query_object(name: &str, raw: Option<&str>) -> Result<serde_json::Value, ApiError> {
    let raw = raw.unwrap_or("");
    if raw.len() > MAX_QUERY {
        return Err(ApiError::new("too_large", format!("the query string is longer than {MAX_QUERY} bytes")).with_params(serde_json::json!({"limit": MAX_QUERY})));
    }
    let types = query_types(name);
    let mut object = serde_json::Map::new();
    for (key, value) in form_pairs(raw) {
        let typed = match types.get(&key).map(String::as_str) {
            Some("integer") => value
                .parse::<i64>()
                .map(serde_json::Value::from)
                .map_err(|_| ApiError::bad_input(&key, format!("'{}' is not a whole number", clip(&value))))?,
            Some("boolean") => match value.as_str() {
                "true" => serde_json::Value::Bool(true),
                "false" => serde_json::Value::Bool(false),
                _ => return Err(ApiError::bad_input(&key, format!("'{}' is not true or false", clip(&value)))),
            },
            Some(_) => serde_json::Value::String(value),
            None => return Err(ApiError::bad_input(&key, "unknown parameter")),
        };
        if object.insert(key.clone(), typed).is_some() {
            return Err(ApiError::bad_input(&key, "given twice"));
        }
    }
    Ok(serde_json::Value::Object(object))
}

fn clip(s: &str) -> String {
    s.chars().take(40).collect()
}

/// `a=1&b=x%20y` as decoded pairs (`+` is a space).
fn form_pairs(raw: &str) -> Vec<(String, String)> {
    raw.split('&')
        .filter(|p| !p.is_empty())
        .map(|p| {
            let (k, v) = p.split_once('=').unwrap_or((p, ""));
            (decode(k), decode(v))
        })
        .collect()
}

fn decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        let hex = bytes.get(i + 1..i + 3).and_then(|h| std::str::from_utf8(h).ok()).and_then(|h| u8::from_str_radix(h, 16).ok());
        match (bytes[i], hex) {
            (b'%', Some(b)) => {
                out.push(b);
                i += 3;
                continue;
            }
            (b'+', _) => out.push(b' '),
            (b, _) => out.push(b),
        }
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

async fn operation(
    State(app): State<Arc<App>>,
    ConnectInfo(peer): ConnectInfo<std::net::SocketAddr>,
    path: Result<UrlPath<HashMap<String, String>>, PathRejection>,
    RawQuery(query): RawQuery,
    headers: HeaderMap,
    body: Body,
    name: &'static str,
) -> Response {
    let Some(op) = v1::operation(name) else { return unknown_path().await };
    // A path that does not decode (percent-escapes of bytes that are not UTF-8) is the
    // client's mistake, said as every other error: problem details naming the path.
    let path = match path {
        Ok(UrlPath(path)) => path,
        Err(e) => {
            let e = ApiError::bad_input("path", e.body_text()).with_params(serde_json::json!({"field": "path", "reason": "not_utf8"}));
            return problem(&e, Some("api".to_string()));
        }
    };
    let key = api_key(&headers);
    let who = Some("api".to_string());
    let args = arguments(op, path, query.as_deref(), &headers, body).await;
    let address = peer.ip().to_string();
    let result = {
        let app = app.clone();
        tokio::task::spawn_blocking(move || app.ctx.call_key(&address, key.as_deref(), name, args))
            .await
            .unwrap_or_else(|e| Err(ApiError::new("internal", e.to_string())))
    };
    match result {
        Err(e) => problem(&e, who),
        Ok(out) => success(op, out, &headers, who),
    }
}

async fn arguments(
    op: &Operation,
    path: HashMap<String, String>,
    query: Option<&str>,
    headers: &HeaderMap,
    body: Body,
) -> Result<serde_json::Value, ApiError> {
    let query = query_object(op.name, query)?;
    let body = if op.body.is_some() {
        let bytes = crate::serve::read_body(headers, body, MAX_BODY).await?;
        serde_json::from_slice::<serde_json::Value>(&bytes).map_err(|e| ApiError::new("bad_input", format!("body is not JSON: {e}")).with_params(serde_json::json!({"field": "body"})))?
    } else {
        serde_json::Value::Null
    };
    Ok(serde_json::json!({"path": path, "query": query, "body": body}))
}

fn success(op: &Operation, out: v1::Out, headers: &HeaderMap, who: Option<String>) -> Response {
    let status = StatusCode::from_u16(op.status).unwrap_or(StatusCode::OK);
    let (bytes, media_type, file_name) = match out {
        v1::Out::Json(bytes) => (bytes, "application/json".to_string(), None),
        v1::Out::File(file) => (file.bytes.as_ref().clone(), file.media_type.to_string(), Some(file.file_name)),
    };
    let etag = format!("\"{}\"", &hex::encode(Sha256::digest(&bytes))[..32]);
    let mut response = if op.method == Method::Get && if_none_match(headers, &etag) {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        (status, bytes).into_response()
    };
    let modified = response.status() != StatusCode::NOT_MODIFIED;
    let h = response.headers_mut();
    if op.method == Method::Get {
        if let Ok(v) = HeaderValue::from_str(&etag) {
            h.insert(header::ETAG, v);
        }
    }
    if modified {
        if let Ok(v) = HeaderValue::from_str(&media_type) {
            h.insert(header::CONTENT_TYPE, v);
        }
        if let Some(f) = file_name.filter(|f| f.chars().all(|c| c.is_ascii_graphic() && c != '"')) {
            if let Ok(v) = HeaderValue::from_str(&format!("attachment; filename=\"{f}\"")) {
                h.insert(header::CONTENT_DISPOSITION, v);
            }
        }
    }
    response.extensions_mut().insert(Logged { user: who, cause: None });
    response
}

/// Whether `If-None-Match` names `etag` (or is `*`).
fn if_none_match(headers: &HeaderMap, etag: &str) -> bool {
    headers
        .get_all(header::IF_NONE_MATCH)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(|t| t.trim().trim_start_matches("W/"))
        .any(|t| t == etag || t == "*")
}

/// An error as RFC 9457 problem details, with Relevé's `code` and `params`.
pub(crate) fn problem(e: &ApiError, who: Option<String>) -> Response {
    let status = StatusCode::from_u16(e.http_status()).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let body = serde_json::json!({
        "type": format!("urn:releve:error:{}", e.code),
        "title": status.canonical_reason().unwrap_or("Error"),
        "status": status.as_u16(),
        "detail": e.message,
        "code": e.code,
        "params": e.params,
    });
    let mut response = (status, serde_json::to_vec(&body).unwrap_or_default()).into_response();
    let h = response.headers_mut();
    h.insert(header::CONTENT_TYPE, HeaderValue::from_static("application/problem+json"));
    if let Some(after) = e.params.get("retry_after").and_then(serde_json::Value::as_i64) {
        if let Ok(v) = HeaderValue::from_str(&after.to_string()) {
            h.insert(header::RETRY_AFTER, v);
        }
    }
    if status == StatusCode::UNAUTHORIZED {
        h.insert(header::WWW_AUTHENTICATE, HeaderValue::from_static("Bearer realm=\"releve\""));
    }
    let cause = status.is_server_error().then(|| format!("{}: {}", e.code, e.message));
    response.extensions_mut().insert(Logged { user: who, cause });
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn query_values_are_typed_by_the_schema() {
        let q = query_object("v1_meters_list", Some("limit=5&city=Saint%20Etienne&alarm=true")).expect("query");
        assert_eq!(q["limit"], 5);
        assert_eq!(q["city"], "Saint Etienne");
        assert_eq!(q["alarm"], true);
        let e = query_object("v1_meters_list", Some("limit=five")).expect_err("not a number");
        assert_eq!(e.params["field"], "limit");
        assert!(query_object("v1_meters_list", Some("nonsense=1")).is_err());
        assert!(query_object("v1_meters_list", Some("limit=1&limit=2")).is_err());
        assert_eq!(decode("a%2Fb+c%zz%4"), "a/b c%zz%4");
    }
}
