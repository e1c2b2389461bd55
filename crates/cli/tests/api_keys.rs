//! `releve api-keys list|create|revoke` on a demo database: the secret printed once (alone on
//! stdout), only its SHA-256 in the file, the list by prefix and never the secret, an expiry
//! in the utility's time zone, a portal key by customer number, refusals naming the field,
//! revocation, and a clerk refused; a key made by the CLI calls a served `/api/v1/` within
//! its reach until it is revoked.

#[path = "support/releve.rs"]
mod releve;

use releve::{demo_db, serve, BIN};
use sha2::{Digest, Sha256};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

/// `releve <args>` as `user` (the demo's password is the login): (success, stdout, stderr).
fn releve_as(user: &str, args: &[&str]) -> (bool, String, String) {
    let o = Command::new(BIN).args(args).args(["--user", user]).env("RELEVE_PASSWORD", user).output().expect("releve");
    (o.status.success(), String::from_utf8_lossy(&o.stdout).into_owned(), String::from_utf8_lossy(&o.stderr).into_owned())
}

fn releve(args: &[&str]) -> (bool, String, String) {
    releve_as("manager", args)
}

fn listed(db: &str) -> Vec<serde_json::Value> {
    let (ok, out, err) = releve(&["api-keys", "list", "--db", db, "--json"]);
    assert!(ok, "{err}");
    out.lines().map(|l| serde_json::from_str(l).expect("json line")).collect()
}

#[test]
fn the_api_keys_commands_of_the_cli() {
    let (_dir, db) = demo_db();
    let db = db.to_str().expect("utf8");
    let conn = rusqlite::Connection::open(db).expect("open");
    let customer: String = conn.query_row("SELECT number FROM customers ORDER BY id LIMIT 1", [], |r| r.get(0)).expect("a customer");

    // A billing system's key: the secret alone on stdout, the words on stderr.
    let (ok, out, err) = releve(&[
        "api-keys", "create", "--db", db, "--name", "Facturation", "--scope", "readings:read,meters:read", "--expires", "2027-06-30",
        "--rate", "120",
    ]);
    assert!(ok, "{err}");
    let secret = out.trim().to_string();
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(secret.starts_with("rlv_") && secret.len() == 68 && secret[4..].chars().all(|c| c.is_ascii_hexdigit()), "{secret}");
    assert!(err.contains("API key 'Facturation' created") && err.contains("shown this once"), "{err}");
    let hash: String = conn.query_row("SELECT secret_hash FROM api_keys WHERE name = 'Facturation'", [], |r| r.get(0)).expect("hash");
    let expected: String = Sha256::digest(secret.as_bytes()).iter().map(|b| format!("{b:02x}")).collect();
    assert_eq!(hash, expected, "only the SHA-256 is stored");

    // A portal key by customer number, several --scope flags.
    let (ok, _, err) = releve(&["api-keys", "create", "--db", db, "--name", "Portail", "--scope", "readings:read", "--scope", "intervals:read", "--customer", &customer]);
    assert!(ok, "{err}");

    let keys = listed(db);
    assert_eq!(keys.len(), 2);
    let erp = keys.iter().find(|k| k["name"] == "Facturation").expect("listed");
    assert_eq!(erp["prefix"], secret[..10]);
    assert_eq!(erp["scopes"], serde_json::json!(["meters:read", "readings:read"]));
    assert_eq!((erp["rate_per_minute"].as_i64(), erp["state"].as_str()), (Some(120), Some("active")));
    // 2027-06-30 in Europe/Paris (summer time): local midnight is 22:00 UTC the day before.
    assert_eq!(erp["expires_at"].as_i64(), Some(chrono::DateTime::parse_from_rfc3339("2027-06-29T22:00:00Z").expect("t").timestamp()));
    let portal = keys.iter().find(|k| k["name"] == "Portail").expect("listed");
    assert_eq!(portal["customer_number"].as_str(), Some(customer.as_str()));
    let (ok, table, _) = releve(&["api-keys", "list", "--db", db]);
    assert!(ok && table.contains("Facturation") && table.contains(&format!("{}…", &secret[..10])), "{table}");
    assert!(table.contains(&format!("customer {customer}")) && table.contains("2027-06-30 00:00"), "{table}");
    assert!(!table.contains(&secret[4..]), "the list shows the secret: {table}");

    // Refusals name the field; nothing stored.
    for (args, words) in [
        (vec!["--name", "Facturation", "--scope", "meters:read"], "already exists"),
        (vec!["--name", "X", "--scope", "meters:write"], "invalid scopes: unknown value 'meters:write'"),
        (vec!["--name", "X", "--scope", "meters:read", "--customer", "NO-SUCH"], "invalid customer: unknown value 'NO-SUCH'"),
        (vec!["--name", "X", "--scope", "meters:read", "--expires", "2020-01-01"], "invalid expires_at"),
        (vec!["--name", "X", "--scope", "meters:read", "--expires", "next week"], "expires_at: 'next week' is not a date"),
        (vec!["--name", "X", "--scope", "meters:read", "--rate", "0"], "invalid rate_per_minute"),
    ] {
        let mut all = vec!["api-keys", "create", "--db", db];
        all.extend(args.iter());
        let (ok, out, err) = releve(&all);
        assert!(!ok && out.is_empty(), "{args:?}: {out}");
        assert!(err.contains(words), "{args:?}: {err}");
    }
    assert_eq!(listed(db).len(), 2);

    // Revoke by name; the state follows; a clerk may do none of it.
    let (ok, out, err) = releve(&["api-keys", "revoke", "--db", db, "--name", "Facturation"]);
    assert!(ok && out.contains("API key 'Facturation' revoked"), "{out}{err}");
    assert_eq!(listed(db).iter().find(|k| k["name"] == "Facturation").expect("listed")["state"], "revoked");
    let (ok, _, err) = releve(&["api-keys", "revoke", "--db", db, "--name", "Nobody"]);
    assert!(!ok && err.contains("API key 'Nobody' not found"), "{err}");
    for args in [
        vec!["api-keys", "list", "--db", db],
        vec!["api-keys", "create", "--db", db, "--name", "Clerk", "--scope", "meters:read"],
        vec!["api-keys", "revoke", "--db", db, "--name", "Portail"],
    ] {
        let (ok, _, err) = releve_as("clerk", &args);
        assert!(!ok && err.contains("forbidden"), "{args:?}: {err}");
    }
    let events: i64 = conn
        .query_row("SELECT count(*) FROM audit_log WHERE event IN ('api_key_create', 'api_key_revoke')", [], |r| r.get(0))
        .expect("audit");
    assert_eq!(events, 3, "two creations and a revocation");
}

/// `GET path` on the served API with key `secret`: (status, JSON body).
fn get(port: u16, secret: &str, path: &str) -> (u16, serde_json::Value) {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(s, "GET {path} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer {secret}\r\nConnection: close\r\n\r\n").expect("send");
    let mut answer = Vec::new();
    s.read_to_end(&mut answer).expect("read");
    let text = String::from_utf8_lossy(&answer).into_owned();
    let status = text[9..12].parse().expect("status");
    let (head, body) = text.split_once("\r\n\r\n").unwrap_or((&text, ""));
    // A chunked body: the JSON is between the first size line and the closing chunk.
    let body = if head.to_ascii_lowercase().contains("transfer-encoding: chunked") {
        body.split_once("\r\n").map(|(_, b)| b).unwrap_or("").rsplit_once("\r\n0\r\n").map(|(b, _)| b).unwrap_or("").to_string()
    } else {
        body.to_string()
    };
    (status, serde_json::from_str(&body).unwrap_or(serde_json::Value::Null))
}

#[test]
fn a_key_made_by_the_cli_calls_the_served_api_within_its_reach_until_revoked() {
    let (_dir, db) = demo_db();
    let db = db.to_str().expect("utf8");
    let conn = rusqlite::Connection::open(db).expect("open");
    // The customer with the most meters: a portal key sees those and no other.
    let (customer, meters): (String, i64) = conn
        .query_row(
            "SELECT c.number, count(*) FROM meters m JOIN customers c ON c.id = m.customer_id GROUP BY c.id ORDER BY count(*) DESC, c.id LIMIT 1",
            [],
            |r| Ok((r.get(0)?, r.get(1)?)),
        )
        .expect("a customer with meters");
    let create = |name: &str, extra: &[&str]| {
        let mut args = vec!["api-keys", "create", "--db", db, "--name", name, "--scope", "meters:read"];
        args.extend(extra);
        let (ok, out, err) = releve(&args);
        assert!(ok, "{err}");
        out.trim().to_string()
    };
    let billing = create("Billing", &[]);
    let portal = create("Portal", &["--customer", &customer]);
    let server = serve(db);

    let (status, all) = get(server.port, &billing, "/api/v1/meters?limit=1000");
    assert_eq!(status, 200, "{all}");
    let total: i64 = conn.query_row("SELECT count(*) FROM meters", [], |r| r.get(0)).expect("count");
    assert_eq!(all["items"].as_array().map(Vec::len), Some(total as usize), "the billing key reaches every meter");
    let (status, mine) = get(server.port, &portal, "/api/v1/meters?limit=1000");
    assert_eq!(status, 200, "{mine}");
    assert_eq!(mine["items"].as_array().map(Vec::len), Some(meters as usize), "the portal key reaches its customer's meters only: {mine}");

    // The list says when each key was last used; a revoked key is refused at its next call.
    let used = listed(db).into_iter().find(|k| k["name"] == "Billing").expect("listed");
    assert!(used["last_used_at"].as_i64().is_some(), "{used}");
    let (ok, _, err) = releve(&["api-keys", "revoke", "--db", db, "--name", "Billing"]);
    assert!(ok, "{err}");
    let (status, refused) = get(server.port, &billing, "/api/v1/meters");
    assert_eq!((status, refused["code"].as_str(), refused["params"]["reason"].as_str()), (401, Some("wrong_api_key"), Some("revoked")), "{refused}");
    assert_eq!(get(server.port, &portal, "/api/v1/meters").0, 200, "the other key still works");
}
