//! The open API (`/api/v1/`) over a real `releve serve` on loopback: API keys and their
//! scopes and reach, problem details, ETags, the readings feed followed while readings are
//! imported (each reading exactly once), meter exchanges from a billing system, billing
//! exports started, polled and downloaded.

#[path = "support/releve.rs"]
mod releve;

use releve_core::access::{api_keys, Permission, Session};
use releve_core::Store;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::Path;

/// A key created on `db` with `scopes` (and `groups`, `customer`); its secret.
fn key(db: &Path, name: &str, scopes: &[&str], groups: Vec<i64>, customer: Option<i64>) -> String {
    let store = Store::open(db).expect("store");
    let system = Session::system("test");
    let new = api_keys::NewKey {
        name: name.into(),
        scopes: scopes.iter().map(|s| s.to_string()).collect(),
        groups,
        customer,
        ..Default::default()
    };
    api_keys::create(&store, system.permit(Permission::ManageUsers).expect("permit"), &new, 1_790_000_000).expect("key").secret
}

/// One HTTP/1.1 request; (status, headers lower-cased, body).
fn http(port: u16, method: &str, path: &str, headers: &[(&str, &str)], body: &[u8]) -> (u16, Vec<(String, String)>, Vec<u8>) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let mut req = format!("{method} {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\nContent-Length: {}\r\n", body.len());
    for (k, v) in headers {
        req.push_str(&format!("{k}: {v}\r\n"));
    }
    req.push_str("\r\n");
    s.write_all(req.as_bytes()).expect("write");
    s.write_all(body).expect("body");
    let mut out = Vec::new();
    s.read_to_end(&mut out).expect("read");
    let split = out.windows(4).position(|w| w == b"\r\n\r\n").expect("head");
    let head = String::from_utf8_lossy(&out[..split]).to_string();
    let mut lines = head.lines();
    let status = lines.next().and_then(|l| l.split_whitespace().nth(1)).and_then(|c| c.parse().ok()).expect("status");
    let headers: Vec<(String, String)> = lines.filter_map(|l| l.split_once(':')).map(|(k, v)| (k.trim().to_lowercase(), v.trim().to_string())).collect();
    let mut body = out[split + 4..].to_vec();
    if headers.iter().any(|(k, v)| k == "transfer-encoding" && v == "chunked") {
        body = unchunk(&body);
    }
    (status, headers, body)
}

fn unchunk(mut b: &[u8]) -> Vec<u8> {
    let mut out = Vec::new();
    loop {
        let Some(end) = b.windows(2).position(|w| w == b"\r\n") else { return out };
        let size = usize::from_str_radix(std::str::from_utf8(&b[..end]).expect("size").trim(), 16).expect("hex");
        if size == 0 {
            return out;
        }
        out.extend_from_slice(&b[end + 2..end + 2 + size]);
        b = &b[end + 2 + size + 2..];
    }
}

fn header<'a>(headers: &'a [(String, String)], name: &str) -> Option<&'a str> {
    headers.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
}

fn get(port: u16, key: &str, path: &str) -> (u16, Value) {
    let auth = format!("Bearer {key}");
    let (status, headers, body) = http(port, "GET", path, &[("Authorization", &auth)], b"");
    let ct = header(&headers, "content-type").unwrap_or("");
    if status >= 400 {
        assert_eq!(ct, "application/problem+json", "{path}: {status}");
    }
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

#[test]
fn keys_scopes_reach_problems_and_etags() {
    let (_dir, db) = releve::demo_db();
    let all = key(&db, "billing", &["meters:read", "readings:read", "customers:read", "info_codes:read", "exchanges:read"], vec![], None);
    let meters_only = key(&db, "inventory", &["meters:read"], vec![], None);
    let server = releve::serve(db.to_str().expect("utf8"));
    let port = server.port;

    // The document and its page need no key.
    let (status, headers, body) = http(port, "GET", "/api/v1/openapi.json", &[], b"");
    assert_eq!(status, 200);
    assert!(header(&headers, "content-type").unwrap_or("").starts_with("application/json"));
    let doc: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!(doc["openapi"], "3.1.0");
    assert!(doc["paths"]["/readings/feed"]["get"].is_object());
    let (status, _, page) = http(port, "GET", "/api/v1/docs", &[], b"");
    assert_eq!(status, 200);
    assert!(String::from_utf8_lossy(&page).contains("/api/v1/readings/feed"));

    // No key, a wrong key: 401 problem details naming why.
    let (status, v) = get(port, "", "/api/v1/meters");
    assert_eq!((status, v["code"].as_str()), (401, Some("wrong_api_key")));
    assert_eq!(v["params"]["reason"], "missing");
    let (status, v) = get(port, "rlv_0000", "/api/v1/meters");
    assert_eq!((status, v["params"]["reason"].as_str()), (401, Some("unknown")));
    assert_eq!(v["type"], "urn:releve:error:wrong_api_key");

    // A page of meters, the next by keyset, the same meters in all.
    let (status, first) = get(port, &all, "/api/v1/meters?limit=25");
    assert_eq!(status, 200, "{first}");
    assert_eq!(first["items"].as_array().map(Vec::len), Some(25));
    let next = first["next"].as_i64().expect("next");
    let (_, second) = get(port, &all, &format!("/api/v1/meters?limit=25&after={next}"));
    assert_eq!(second["items"].as_array().map(Vec::len), Some(15));
    assert!(second["next"].is_null());
    let serial = first["items"][0]["serial"].as_str().expect("serial").to_string();

    // A key without the scope: 403 scope_missing; out-of-range values: 400 naming the field.
    let (status, v) = get(port, &meters_only, &format!("/api/v1/meters/{serial}/readings?from=2026-10-01&to=2026-10-31"));
    assert_eq!((status, v["code"].as_str(), v["params"]["scope"].as_str()), (403, Some("scope_missing"), Some("readings:read")));
    let (status, v) = get(port, &all, "/api/v1/meters?limit=5000");
    assert_eq!((status, v["params"]["field"].as_str()), (400, Some("limit")));
    let (status, v) = get(port, &all, "/api/v1/meters?limit=abc");
    assert_eq!((status, v["params"]["field"].as_str()), (400, Some("limit")));
    // A path whose escapes are not UTF-8: problem details too, not axum's plain text.
    let (status, headers, body) = http(port, "GET", "/api/v1/meters/%FF%FE", &[("Authorization", &format!("Bearer {all}"))], b"");
    assert_eq!((status, header(&headers, "content-type")), (400, Some("application/problem+json")));
    let v: Value = serde_json::from_slice(&body).expect("problem json");
    assert_eq!((v["code"].as_str(), v["params"]["field"].as_str()), (Some("bad_input"), Some("path")));

    // Consumption per day, with ISO times carrying the offset.
    let (status, v) = get(port, &all, &format!("/api/v1/meters/{serial}/readings?from=2026-10-01&to=2026-10-31&resolution=day"));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["items"].as_array().map(Vec::len), Some(31));
    assert_eq!(v["items"][0]["time"], "2026-10-01T00:00:00+02:00");
    // Raw readings are interval data: refused without intervals:read.
    let (status, v) = get(port, &all, &format!("/api/v1/meters/{serial}/readings?from=2026-10-01&resolution=raw"));
    assert_eq!((status, v["code"].as_str()), (403, Some("intervals_not_allowed")));

    // ETag: the same answer again is 304 with If-None-Match.
    let auth = format!("Bearer {all}");
    let (status, headers, _) = http(port, "GET", &format!("/api/v1/meters/{serial}"), &[("Authorization", &auth)], b"");
    assert_eq!(status, 200);
    let etag = header(&headers, "etag").expect("etag").to_string();
    let (status, _, body) = http(port, "GET", &format!("/api/v1/meters/{serial}"), &[("Authorization", &auth), ("If-None-Match", &etag)], b"");
    assert_eq!((status, body.len()), (304, 0));

    // Every call is in the audit log under the key's name.
    let store = Store::open(&db).expect("store");
    let conn = store.reader().expect("reader");
    let calls: i64 = conn.query_row("SELECT count(*) FROM audit_log WHERE event = 'api_call' AND user = 'api:billing'", [], |r| r.get(0)).expect("count");
    assert_eq!(calls, 8, "every call of the key audited");
    let _ = json!({});
}

/// A billing system follows the readings feed while drive-by files are imported beside the
/// server: at the end it has every reading of the store exactly once.
#[test]
fn the_feed_gives_each_reading_once_while_imports_run() {
    let (dir, db) = releve::demo_db();
    let secret = key(&db, "billing", &["readings:read"], vec![], None);
    let server = releve::serve(db.to_str().expect("utf8"));
    let port = server.port;
    let files: Vec<_> = (0..4u32)
        .map(|i| {
            let f = dir.path().join(format!("drive-{i}.txt"));
            // Late readings too: the third file's hours are older than the second's.
            std::fs::write(&f, releve::drive_by(60_000_000 + (i % 2) * 1000, 30, 600 + i * 50)).expect("write");
            f
        })
        .collect();
    let db_s = db.to_str().expect("utf8").to_string();
    let importer = std::thread::spawn(move || {
        for f in &files {
            releve::run_ok(&["import", "--db", &db_s, f.to_str().expect("utf8")]);
        }
    });
    let mut seen = std::collections::HashSet::new();
    let mut cursor: Option<i64> = None;
    let mut pages = 0;
    let mut pull = |cursor: &mut Option<i64>| -> bool {
        let path = match cursor {
            Some(c) => format!("/api/v1/readings/feed?limit=700&after={c}"),
            None => "/api/v1/readings/feed?limit=700".to_string(),
        };
        // The key's rate limit may answer 429 while the loop polls a slow import: wait as told.
        let page = loop {
            let (status, page) = get(port, &secret, &path);
            if status == 429 {
                let wait = page["params"]["retry_after"].as_u64().unwrap_or(1).max(1);
                std::thread::sleep(std::time::Duration::from_secs(wait));
                continue;
            }
            assert_eq!(status, 200, "{page}");
            break page;
        };
        for r in page["items"].as_array().expect("items") {
            let k = (r["serial"].as_str().expect("serial").to_string(), r["register"].as_str().expect("register").to_string(), r["time"].as_str().expect("time").to_string());
            assert!(seen.insert(k.clone()), "reading {k:?} given twice");
        }
        *cursor = page["next"].as_i64();
        page["more"].as_bool().expect("more")
    };
    while !importer.is_finished() {
        pull(&mut cursor);
        pages += 1;
    }
    importer.join().expect("importer");
    while pull(&mut cursor) {
        pages += 1;
    }
    let store = Store::open(&db).expect("store");
    let stored: i64 = store.reader().expect("reader").query_row("SELECT count(*) FROM readings", [], |r| r.get(0)).expect("count");
    assert_eq!(seen.len() as i64, stored, "every stored reading once ({pages} pages)");
    assert!(pages > 5, "the feed was read while the imports ran ({pages} pages)");
}

fn post(port: u16, key: &str, path: &str, body: &Value) -> (u16, Value) {
    let auth = format!("Bearer {key}");
    let (status, _, body) = http(port, "POST", path, &[("Authorization", &auth), ("Content-Type", "application/json")], body.to_string().as_bytes());
    (status, serde_json::from_slice(&body).unwrap_or(Value::Null))
}

/// A portal's key limited to one customer sees that customer's meters and consumption only;
/// a billing system records an exchange and runs a billing export, polled and downloaded.
#[test]
fn portal_keys_exchanges_and_billing_exports() {
    let (_dir, db) = releve::demo_db();
    let (customer_id, number, other, serial) = {
        let store = Store::open(&db).expect("store");
        let conn = store.reader().expect("reader");
        let (id, number): (i64, String) = conn
            .query_row("SELECT c.id, c.number FROM customers c JOIN meters m ON m.customer_id = c.id WHERE m.status = 'active' ORDER BY c.id LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
            .expect("customer");
        let other: String = conn.query_row("SELECT number FROM customers WHERE id <> ?1 ORDER BY id LIMIT 1", [id], |r| r.get(0)).expect("other");
        let serial: String = conn
            .query_row("SELECT serial FROM meters WHERE status = 'active' AND device_type = 'water' AND customer_id <> ?1 ORDER BY id LIMIT 1", [id], |r| r.get(0))
            .expect("serial");
        (id, number, other, serial)
    };
    let portal = key(&db, "portal", &["customers:read", "readings:read", "meters:read", "exports:run"], vec![], Some(customer_id));
    let billing = key(&db, "billing", &["exchanges:read", "exchanges:write", "exports:run", "meters:read"], vec![], None);
    let server = releve::serve(db.to_str().expect("utf8"));
    let port = server.port;

    let (status, v) = get(port, &portal, "/api/v1/meters");
    assert_eq!(status, 200);
    let items = v["items"].as_array().expect("items");
    assert!(!items.is_empty() && items.iter().all(|m| m["customer"] == number.as_str()), "{v}");
    let (status, v) = get(port, &portal, &format!("/api/v1/customers/{number}/consumption?from=2026-01-01&to=2026-10-31&resolution=month"));
    assert_eq!(status, 200, "{v}");
    assert_eq!(v["meters"][0]["items"].as_array().map(Vec::len), Some(10), "{v}");
    // Another customer, another customer's meter: as if they did not exist.
    let (status, v) = get(port, &portal, &format!("/api/v1/customers/{other}"));
    assert_eq!((status, v["code"].as_str()), (404, Some("not_found")));
    let (status, _) = get(port, &portal, &format!("/api/v1/meters/{serial}"));
    assert_eq!(status, 404);
    // A billing file covers the park: not for a key limited to one customer.
    let (status, v) = post(port, &portal, "/api/v1/exports", &json!({"layout": "Facturation eau (CSV)", "from": "2026-10-01", "to": "2026-10-31"}));
    assert_eq!((status, v["code"].as_str()), (403, Some("forbidden")), "{v}");

    // An exchange done in the field, then refused a second time (the old meter is removed).
    let exchange = json!({"old_serial": serial, "new_serial": "77000001", "at": "2026-11-25T10:00:00+01:00", "final_value": 1.0e7, "initial_value": 0.5});
    let (status, v) = post(port, &billing, "/api/v1/exchanges", &exchange);
    assert_eq!(status, 201, "{v}");
    assert_eq!((v["old_serial"].as_str(), v["new_serial"].as_str(), v["at"].as_str()), (Some(serial.as_str()), Some("77000001"), Some("2026-11-25T10:00:00+01:00")));
    let (status, v) = post(port, &billing, "/api/v1/exchanges", &exchange);
    assert_eq!((status, v["code"].as_str()), (400, Some("meter_already_removed")), "{v}");
    let (status, v) = get(port, &billing, "/api/v1/exchanges");
    assert_eq!(status, 200);
    assert!(v["items"].as_array().expect("items").iter().any(|x| x["new_serial"] == "77000001"));
    let (status, v) = get(port, &billing, "/api/v1/meters/77000001");
    assert_eq!((status, v["status"].as_str()), (200, Some("active")), "{v}");

    // A billing export: started, polled, downloaded; its file is the layout's.
    let (status, run) = post(port, &billing, "/api/v1/exports", &json!({"layout": "Facturation eau (CSV)", "from": "2026-10-01", "to": "2026-10-31"}));
    assert_eq!(status, 202, "{run}");
    let id = run["id"].as_str().expect("id").to_string();
    let mut state = run;
    for _ in 0..200 {
        if state["state"] != "running" {
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(50));
        state = get(port, &billing, &format!("/api/v1/exports/{id}")).1;
    }
    assert_eq!(state["state"], "done", "{state}");
    let auth = format!("Bearer {billing}");
    let (status, headers, file) = http(port, "GET", &format!("/api/v1/exports/{id}/file"), &[("Authorization", &auth)], b"");
    assert_eq!(status, 200);
    assert_eq!(header(&headers, "content-type"), Some("text/csv"));
    assert!(header(&headers, "content-disposition").unwrap_or("").contains(state["file_name"].as_str().expect("name")));
    use sha2::Digest;
    assert_eq!(hex::encode(sha2::Sha256::digest(&file)), state["sha256"].as_str().expect("sha"));
    assert_eq!(file.len() as u64, state["bytes"].as_u64().expect("bytes"));
    // Another key does not see that run.
    let (status, _) = get(port, &portal, &format!("/api/v1/exports/{id}"));
    assert_eq!(status, 404);
}

/// A key over its rate is refused with 429 and `Retry-After`, and a revoked key at once.
#[test]
fn rate_limits_and_revoked_keys() {
    let (_dir, db) = releve::demo_db();
    let store = Store::open(&db).expect("store");
    let system = Session::system("test");
    let new = api_keys::NewKey { name: "slow".into(), scopes: vec!["meters:read".into()], rate_per_minute: Some(3), ..Default::default() };
    let created = api_keys::create(&store, system.permit(Permission::ManageUsers).expect("permit"), &new, 1_790_000_000).expect("key");
    let server = releve::serve(db.to_str().expect("utf8"));
    let port = server.port;
    for _ in 0..3 {
        assert_eq!(get(port, &created.secret, "/api/v1/meters?limit=1").0, 200);
    }
    let auth = format!("Bearer {}", created.secret);
    let (status, headers, body) = http(port, "GET", "/api/v1/meters?limit=1", &[("Authorization", &auth)], b"");
    let v: Value = serde_json::from_slice(&body).expect("json");
    assert_eq!((status, v["code"].as_str()), (429, Some("rate_limited")));
    let retry: i64 = header(&headers, "retry-after").expect("Retry-After").parse().expect("seconds");
    assert!((1..=20).contains(&retry), "retry after {retry} s (3 calls a minute: one every 20 s)");

    api_keys::revoke(&store, system.permit(Permission::ManageUsers).expect("permit"), created.key.id, 1_790_000_100).expect("revoke");
    let (status, v) = get(port, &created.secret, "/api/v1/meters?limit=1");
    assert_eq!((status, v["params"]["reason"].as_str()), (401, Some("revoked")));
}
