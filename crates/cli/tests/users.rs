//! Login hardening against a real `releve serve` on loopback: 150 wrong passwords in a row,
//! then the right one refused as locked (429 with the lock's end) until the manager unlocks
//! the login; a deactivated user's token ending at once; logout; the `releve users` commands.

#[path = "support/releve.rs"]
mod releve;

use releve::{demo_db, serve, BIN};
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::process::Command;

/// `POST /api/<command>` with a JSON body: (status, JSON answer).
fn post(port: u16, command: &str, token: Option<&str>, args: &Value) -> (u16, Value) {
    let body = args.to_string();
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "POST /api/{command} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    let status = answer[9..12].parse().expect("status");
    let body = answer.split_once("\r\n\r\n").map(|(_, b)| b).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(Value::Null))
}

fn login(port: u16, who: &str, pw: &str) -> (u16, Value) {
    post(port, "login", None, &json!({"login": who, "password": pw}))
}

#[test]
fn wrong_passwords_lock_the_login_over_http_until_the_manager_unlocks_it() {
    let (_dir, db) = demo_db();
    let server = serve(db.to_str().expect("utf8"));
    let port = server.port;
    let (status, manager) = login(port, "manager", "manager");
    assert_eq!(status, 200, "{manager}");
    let manager = manager["token"].as_str().expect("token").to_string();
    let started = std::time::Instant::now();
    let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
    for i in 0..150 {
        let (status, _) = login(port, "clerk", &format!("guess-{i}"));
        *statuses.entry(status).or_default() += 1;
    }
    eprintln!("150 wrong passwords in {:.1} s: {statuses:?}", started.elapsed().as_secs_f64());
    assert_eq!(statuses.get(&401), Some(&5), "5 failures, then locked: {statuses:?}");
    assert_eq!(statuses.get(&429), Some(&145), "{statuses:?}");
    let (status, e) = login(port, "clerk", "clerk");
    assert_eq!((status, e["error"]["code"].as_str()), (429, Some("login_locked")), "the right password is refused: {e}");
    let until = e["error"]["params"]["until"].as_i64().expect("until");
    let now = chrono::Utc::now().timestamp();
    assert!(until > now + 14 * 60 && until <= now + 15 * 60, "locked for 15 minutes: {until} vs {now}");
    // The manager sees the lock, with the failures, and unlocks.
    let (status, locks) = post(port, "login_locks", Some(&manager), &json!({}));
    assert_eq!(status, 200);
    assert_eq!((locks[0]["kind"].as_str(), locks[0]["key"].as_str(), locks[0]["failures"].as_i64()), (Some("login"), Some("clerk"), Some(5)));
    let (status, users) = post(port, "users_list", Some(&manager), &json!({}));
    assert_eq!(status, 200);
    let clerk_row = users.as_array().expect("rows").iter().find(|u| u["login"] == "clerk").expect("clerk").clone();
    assert_eq!(clerk_row["locked_until"].as_i64(), Some(until));
    let (status, _) = post(port, "login_unlock", Some(&manager), &json!({"kind": "login", "key": "clerk"}));
    assert_eq!(status, 200);
    let (status, clerk) = login(port, "clerk", "clerk");
    assert_eq!(status, 200, "unlocked: {clerk}");
    let clerk = clerk["token"].as_str().expect("token").to_string();
    assert_eq!(post(port, "meters_list", Some(&clerk), &json!({})).0, 200);
    // A clerk may not see locks: 403.
    assert_eq!(post(port, "login_locks", Some(&clerk), &json!({})).0, 403);
    // Deactivated: the clerk's open token stops at once.
    let id = clerk_row["id"].as_i64().expect("id");
    assert_eq!(post(port, "user_set_active", Some(&manager), &json!({"id": id, "active": false})).0, 200);
    let (status, e) = post(port, "meters_list", Some(&clerk), &json!({}));
    assert_eq!((status, e["error"]["code"].as_str()), (401, Some("not_logged_in")));
    // Logout ends the manager's session.
    assert_eq!(post(port, "logout", Some(&manager), &json!({})).0, 200);
    assert_eq!(post(port, "users_list", Some(&manager), &json!({})).0, 401);
    drop(server);
    // The audit log holds the lock and the unlock.
    let store = releve_core::Store::open(&db).expect("open");
    let events: Vec<String> = releve_core::store::audit::latest(&store.reader().expect("r"), 1000).expect("audit").into_iter().map(|e| e.event).collect();
    for event in ["login_locked", "login_unlocked", "user_deactivated"] {
        assert!(events.iter().any(|e| e == event), "{event} in {events:?}");
    }
}

fn releve(args: &[&str]) -> (bool, String) {
    let o = Command::new(BIN).args(args).env("RELEVE_PASSWORD", "manager").output().expect("releve");
    (o.status.success(), format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr)))
}

#[test]
fn the_users_commands_of_the_cli() {
    let (_dir, db) = demo_db();
    let db = db.to_str().expect("utf8");
    let (ok, out) = releve(&["users", "create", "--db", db, "--login", "sophie", "--name", "Sophie Martin", "--role", "superuser", "--new-password", "bienvenue-2026"]);
    assert!(ok, "{out}");
    let (ok, out) = releve(&["users", "create", "--db", db, "--login", "paul", "--name", "Paul", "--new-password", "court"]);
    assert!(!ok && out.contains("at least 10 characters"), "{out}");
    let (ok, out) = releve(&["users", "set-role", "--db", db, "--login", "sophie", "--role", "user"]);
    assert!(ok, "{out}");
    let (ok, out) = releve(&["users", "set-active", "--db", db, "--login", "manager", "--active", "false"]);
    assert!(!ok && out.contains("your own account"), "{out}");
    let (ok, out) = releve(&["users", "set-active", "--db", db, "--login", "sophie", "--active", "false"]);
    assert!(ok, "{out}");
    let (ok, out) = releve(&["users", "reset-password", "--db", db, "--login", "clerk", "--new-password", "temporaire-2026"]);
    assert!(ok, "{out}");
    let (ok, out) = releve(&["users", "list", "--db", db, "--json"]);
    assert!(ok, "{out}");
    let rows: Vec<Value> = out.lines().map(|l| serde_json::from_str(l).expect("json line")).collect();
    let row = |login: &str| rows.iter().find(|r| r["login"] == login).expect(login).clone();
    assert_eq!((row("sophie")["role"].as_str(), row("sophie")["active"].as_bool()), (Some("user"), Some(false)));
    assert_eq!(row("clerk")["must_change_password"], true);
    assert!(row("manager")["last_login"].is_i64());
    let (ok, out) = releve(&["users", "list", "--db", db]);
    assert!(ok && out.contains("Sophie Martin") && out.contains("must change password"), "{out}");
    // A clerk may not administer users.
    let o = Command::new(BIN).args(["users", "list", "--db", db, "--user", "superuser"]).env("RELEVE_PASSWORD", "superuser").output().expect("releve");
    assert!(!o.status.success());
}
