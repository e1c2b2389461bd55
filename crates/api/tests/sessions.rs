//! Sessions and logins through `Ctx::call`, the boundary every front uses (the HTTP server
//! and the desktop window): idle expiry by the Ctx clock, logout, a deactivated user's token
//! ending at once, the forced password change, `login_locked` as 429, the users commands.

use releve_api::{ApiError, Clock, Ctx};
use releve_core::access::{self, Permission, Role, Session};
use releve_core::store;
use serde_json::{json, Value};
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::Arc;

const NOW: i64 = 1_795_435_200;

struct Fixture {
    _dir: tempfile::TempDir,
    ctx: Ctx,
    clock: Arc<AtomicI64>,
}

/// A Ctx on a new database with a manager "boss" and a clerk "clerk" (password "pw"); no
/// delay after a failed login; the clock at NOW.
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let clock = Arc::new(AtomicI64::new(NOW));
    let c = clock.clone();
    let shared: Clock = Arc::new(move || c.load(Ordering::SeqCst));
    let mut ctx = Ctx::open_with_clock(&dir.path().join("t.db"), shared).expect("open");
    ctx.set_failed_login_delay(std::time::Duration::ZERO);
    store::settings::set(&ctx.store().writer(), "password_cost", "fast").expect("test cost");
    let system = Session::system("test");
    for (login, role) in [("boss", Role::Manager), ("clerk", Role::User)] {
        let u = store::users::NewUser { salt: None, login, name: login, role, password: "pw", locale: "fr" };
        access::create_user(ctx.store(), system.permit(Permission::ManageUsers).expect("system"), &u, NOW).expect("user");
    }
    Fixture { _dir: dir, ctx, clock }
}

impl Fixture {
    fn login(&self, who: &str, pw: &str) -> Result<Value, ApiError> {
        self.ctx.call(None, "login", json!({"login": who, "password": pw}))
    }

    fn token(&self, who: &str, pw: &str) -> String {
        self.login(who, pw).expect("login")["token"].as_str().expect("token").to_string()
    }

    fn call(&self, token: &str, name: &str, args: Value) -> Result<Value, ApiError> {
        self.ctx.call(Some(token), name, args)
    }

    fn advance(&self, seconds: i64) {
        self.clock.fetch_add(seconds, Ordering::SeqCst);
    }
}

#[test]
fn a_session_ends_after_the_idle_time_and_at_logout() {
    let f = fixture();
    let boss = f.token("boss", "pw");
    // Used every 29 minutes: stays open.
    for _ in 0..3 {
        f.advance(29 * 60);
        f.call(&boss, "session_info", json!({})).expect("still open");
    }
    f.advance(31 * 60);
    let e = f.call(&boss, "session_info", json!({})).expect_err("expired");
    assert_eq!((e.code.as_str(), e.http_status()), ("not_logged_in", 401));
    // A shorter setting applies to open sessions at once.
    let boss = f.token("boss", "pw");
    let mut settings = f.call(&boss, "login_settings", json!({})).expect("settings");
    assert_eq!(settings["session_idle_minutes"], 30);
    settings["session_idle_minutes"] = json!(5);
    f.call(&boss, "login_settings_set", settings.clone()).expect("set");
    settings["session_idle_minutes"] = json!(4);
    let e = f.call(&boss, "login_settings_set", settings).expect_err("below 5");
    assert!(e.message.contains("session_idle_minutes"), "{e:?}");
    f.advance(6 * 60);
    assert_eq!(f.call(&boss, "session_info", json!({})).expect_err("expired").code, "not_logged_in");
    // Logout ends the session.
    let boss = f.token("boss", "pw");
    f.call(&boss, "logout", json!({})).expect("logout");
    assert_eq!(f.call(&boss, "session_info", json!({})).expect_err("logged out").code, "not_logged_in");
}

#[test]
fn a_deactivated_users_token_stops_at_once_and_a_reset_forces_a_change() {
    let f = fixture();
    let boss = f.token("boss", "pw");
    let clerk = f.token("clerk", "pw");
    f.call(&clerk, "meters_list", json!({})).expect("clerk works");
    let users = f.call(&boss, "users_list", json!({})).expect("list");
    let clerk_id = users.as_array().expect("rows").iter().find(|u| u["login"] == "clerk").expect("clerk")["id"].as_i64().expect("id");
    assert_eq!(f.call(&clerk, "users_list", json!({})).expect_err("clerk").http_status(), 403);
    f.call(&boss, "user_set_active", json!({"id": clerk_id, "active": false})).expect("deactivate");
    assert_eq!(f.call(&clerk, "meters_list", json!({})).expect_err("ended").code, "not_logged_in");
    f.call(&boss, "user_set_active", json!({"id": clerk_id, "active": true})).expect("reactivate");
    f.call(&boss, "user_reset_password", json!({"id": clerk_id, "password": "temporaire-42"})).expect("reset");
    let answer = f.login("clerk", "temporaire-42").expect("login");
    assert_eq!(answer["must_change_password"], true);
    let clerk = answer["token"].as_str().expect("token").to_string();
    let e = f.call(&clerk, "meters_list", json!({})).expect_err("refused");
    assert_eq!((e.code.as_str(), e.http_status()), ("password_change_required", 403));
    let e = f.call(&clerk, "password_change", json!({"old_password": "temporaire-42", "new_password": "court"})).expect_err("short");
    assert_eq!((e.code.as_str(), serde_json::Value::Object(e.params.clone())), ("password_too_short", json!({"min": 10})));
    f.call(&clerk, "password_change", json!({"old_password": "temporaire-42", "new_password": "mon-nouveau-mot"})).expect("changed");
    f.call(&clerk, "meters_list", json!({})).expect("allowed again");
    assert_eq!(f.call(&clerk, "session_info", json!({})).expect("info")["must_change_password"], false);
    // The last manager guard over the boundary: 409.
    let boss_id = users.as_array().expect("rows").iter().find(|u| u["login"] == "boss").expect("boss")["id"].as_i64().expect("id");
    let e = f.call(&boss, "user_set_role", json!({"id": boss_id, "role": "user"})).expect_err("last manager");
    assert_eq!((e.code.as_str(), e.http_status()), ("last_manager", 409));
}

#[test]
fn a_locked_login_is_a_429_with_its_end() {
    let f = fixture();
    for _ in 0..5 {
        assert_eq!(f.login("clerk", "guess").expect_err("wrong").code, "wrong_password");
    }
    let e = f.login("clerk", "pw").expect_err("locked");
    assert_eq!((e.code.as_str(), e.http_status()), ("login_locked", 429));
    assert_eq!(serde_json::Value::Object(e.params.clone()), json!({"until": NOW + 15 * 60}));
    let boss = f.token("boss", "pw");
    let locks = f.call(&boss, "login_locks", json!({})).expect("locks");
    assert_eq!(locks[0]["key"], "clerk");
    f.call(&boss, "login_unlock", json!({"kind": "login", "key": "clerk"})).expect("unlock");
    f.token("clerk", "pw");
    // The manager creates a user; the matrix preview names commands.
    f.call(&boss, "user_create", json!({"login": "new", "name": "New", "role": "user", "password": "bienvenue-2026"})).expect("create");
    assert_eq!(f.login("new", "bienvenue-2026").expect("login")["must_change_password"], true);
    let preview = f.call(&boss, "permissions_matrix_preview", json!({"user": ["view", "export", "import"], "superuser": ["view"]})).expect("preview");
    assert_eq!(preview[0]["added"], json!(["import"]));
    assert!(preview[1]["commands_refused"].as_array().expect("list").iter().any(|c| c == "import_start"));
}
