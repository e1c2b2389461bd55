//! Users and login hardening through the core, on a real SQLite file: argon2id hashes and the
//! upgrade of old pbkdf2 ones, one argon2 verification on every login path (an unknown login's
//! too), lockout per login and per address and the manager's unlock, reset -> forced change,
//! deactivation ending sessions, the last-manager guard, the permission matrix editor.

use releve_core::access::{self, password, MatrixChange, Permission, Role, Session};
use releve_core::store::{self, Store};

#[path = "support/users.rs"]
mod users;

const NOW: i64 = 1_795_435_200;
const MIN: i64 = 60;

struct Fixture {
    _dir: tempfile::TempDir,
    store: Store,
    manager: Session,
}

/// A manager "manager" and a clerk "clerk" (password "pw", fast test cost).
fn fixture() -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("t.db")).expect("open");
    let (manager, _) = users::manager_and_clerk(&store, NOW);
    Fixture { _dir: dir, store, manager }
}

fn id_of(f: &Fixture, login: &str) -> i64 {
    access::users_list(&f.store, &f.manager, NOW).expect("list").into_iter().find(|u| u.login == login).expect("user").id
}

fn hash_of(f: &Fixture, login: &str) -> String {
    store::users::by_login(&f.store.reader().expect("reader"), login).expect("read").expect("user").password_hash
}

fn login(f: &Fixture, who: &str, pw: &str, address: &str, now: i64) -> Result<Session, releve_core::Error> {
    access::login(&f.store, who, pw, "pc", address, now)
}

fn audit_events(f: &Fixture) -> Vec<String> {
    store::audit::latest(&f.store.reader().expect("reader"), 1000).expect("audit").into_iter().map(|e| e.event).collect()
}

#[test]
fn passwords_are_argon2id_and_old_pbkdf2_hashes_are_upgraded_at_the_next_login() {
    let f = fixture();
    assert!(hash_of(&f, "clerk").starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{}", hash_of(&f, "clerk"));
    // An account from before: its pbkdf2 hash still lets it in, and is replaced.
    let old = password::hash_pbkdf2("old-password", [5; 16]);
    store::users::upgrade_hash(&f.store.writer(), id_of(&f, "clerk"), &old).expect("old hash");
    login(&f, "clerk", "wrong", "local", NOW).expect_err("wrong password");
    assert_eq!(hash_of(&f, "clerk"), old, "a wrong password upgrades nothing");
    login(&f, "clerk", "old-password", "local", NOW).expect("the old hash verifies");
    let new = hash_of(&f, "clerk");
    assert!(new.starts_with("$argon2id$"), "{new}");
    login(&f, "clerk", "old-password", "local", NOW).expect("the new hash verifies");
    // A hash of another cost than the setting's is upgraded too: here the test cost to the
    // standard one.
    store::settings::delete(&f.store.writer(), "password_cost").expect("standard cost");
    login(&f, "clerk", "old-password", "local", NOW).expect("login");
    let (m, t, p) = password::STANDARD;
    assert!(hash_of(&f, "clerk").starts_with(&format!("$argon2id$v=19$m={m},t={t},p={p}$")), "{}", hash_of(&f, "clerk"));
    login(&f, "clerk", "old-password", "local", NOW).expect("the standard hash verifies");
}

#[test]
fn every_login_path_runs_exactly_one_argon2_verification() {
    let f = fixture();
    let runs = |who: &str, pw: &str| {
        let before = password::argon2_runs();
        let _ = login(&f, who, pw, "local", NOW);
        password::argon2_runs() - before
    };
    assert_eq!(runs("clerk", "pw"), 1, "known user, right password");
    assert_eq!(runs("clerk", "nope"), 1, "known user, wrong password");
    assert_eq!(runs("nobody", "pw"), 1, "unknown login: the dummy hash of the same cost");
    access::user_set_active(&f.store, &f.manager, id_of(&f, "clerk"), false, NOW).expect("deactivate");
    assert_eq!(runs("clerk", "pw"), 1, "inactive account");
    // The dummy hash is of the current cost.
    let dummy = password::dummy_hash(password::Cost::Standard);
    assert!(dummy.contains(&format!("m={},t={},p={}", password::STANDARD.0, password::STANDARD.1, password::STANDARD.2)), "{dummy}");
}

/// At the production cost: an unknown login takes about as long as a known one (generous
/// margins: the machine is shared; the structural test above is the exact one).
#[test]
fn an_unknown_login_takes_as_long_as_a_known_one_at_the_standard_cost() {
    let f = fixture();
    store::settings::delete(&f.store.writer(), "password_cost").expect("standard cost");
    access::user_reset_password(&f.store, &f.manager, id_of(&f, "clerk"), "a-long-password", NOW).expect("standard hash");
    let time = |who: &str, i: i64| {
        let t = std::time::Instant::now();
        let _ = login(&f, who, "wrong-password", &format!("10.0.0.{i}"), NOW + i * 30 * MIN);
        t.elapsed().as_secs_f64()
    };
    let mut known: Vec<f64> = (0..3).map(|i| time("clerk", i)).collect();
    let mut unknown: Vec<f64> = (3..6).map(|i| time("nobody", i)).collect();
    known.sort_by(f64::total_cmp);
    unknown.sort_by(f64::total_cmp);
    let (k, u) = (known[1], unknown[1]);
    eprintln!("median login: known user wrong password {:.1} ms, unknown login {:.1} ms", k * 1e3, u * 1e3);
    assert!(u > k / 3.0 && u < k * 3.0, "known {k:.4} s vs unknown {u:.4} s");
}

#[test]
fn repeated_failures_lock_the_login_then_the_manager_unlocks_it() {
    let f = fixture();
    for i in 0..5 {
        let e = login(&f, "clerk", "guess", "10.1.1.1", NOW + i).expect_err("wrong");
        assert_eq!(e.code(), "wrong_password", "failure {i}");
    }
    // The sixth attempt, even with the right password, is refused while locked.
    let e = login(&f, "clerk", "pw", "10.1.1.2", NOW + 10).expect_err("locked");
    assert_eq!(e.code(), "login_locked");
    let releve_core::Error::LoginLocked { until } = e else { panic!("{e:?}") };
    assert_eq!(until, NOW + 4 + 15 * MIN, "15 minutes after the fifth failure");
    // Another login is not locked (the address has only 5 failures of 20).
    login(&f, "manager", "pw", "10.1.1.1", NOW + 11).expect("another login from the same address");
    let locks = access::throttle::login_locks(&f.store, &f.manager, NOW + 12).expect("locks");
    assert_eq!(locks.len(), 1);
    assert_eq!((locks[0].kind.as_str(), locks[0].key.as_str(), locks[0].until), ("login", "clerk", until));
    let row = access::users_list(&f.store, &f.manager, NOW + 12).expect("list").into_iter().find(|u| u.login == "clerk").expect("clerk");
    assert_eq!(row.locked_until, Some(until));
    // Only a manager sees or lifts locks.
    let clerk = Session { permissions: vec![Permission::View], ..f.manager.clone() };
    assert_eq!(access::throttle::login_locks(&f.store, &clerk, NOW + 12).expect_err("clerk").code(), "forbidden");
    access::throttle::login_unlock(&f.store, &f.manager, "login", "clerk", NOW + 20).expect("unlock");
    assert!(audit_events(&f).iter().any(|e| e == "login_unlocked"));
    assert!(audit_events(&f).iter().any(|e| e == "login_locked"));
    login(&f, "clerk", "pw", "10.1.1.2", NOW + 21).expect("unlocked");
    assert_eq!(access::throttle::login_unlock(&f.store, &f.manager, "login", "clerk", NOW + 22).expect_err("no lock").code(), "not_found");
    // The lock also ends by itself after login_lock_minutes.
    for i in 0..5 {
        login(&f, "clerk", "guess", "10.1.1.3", NOW + 100 + i).expect_err("wrong");
    }
    login(&f, "clerk", "pw", "10.1.1.3", NOW + 110).expect_err("locked again");
    login(&f, "clerk", "pw", "10.1.1.3", NOW + 104 + 15 * MIN + 1).expect("the lock ended");
}

#[test]
fn one_address_trying_many_logins_is_locked_whatever_the_login() {
    let f = fixture();
    for i in 0..20 {
        login(&f, &format!("guess{i}"), "pw", "203.0.113.9", NOW + i).expect_err("unknown");
    }
    assert_eq!(login(&f, "clerk", "pw", "203.0.113.9", NOW + 30).expect_err("address locked").code(), "login_locked");
    login(&f, "clerk", "pw", "198.51.100.1", NOW + 30).expect("another address");
    // Failures outside the window do not count.
    for i in 0..4 {
        login(&f, "clerk", "guess", "local", NOW + 100 + i * 5 * MIN).expect_err("wrong");
    }
    login(&f, "clerk", "pw", "local", NOW + 100 + 20 * MIN).expect("never 5 failures within 15 minutes");
    // The bounds of the settings are the manager's.
    let s = access::throttle::login_settings(&f.store, &f.manager).expect("settings");
    assert_eq!((s.max_failures, s.window_minutes, s.lock_minutes, s.session_idle_minutes), (5, 15, 15, 30));
    let bad = access::throttle::LoginSettings { session_idle_minutes: 2, ..s };
    let e = access::throttle::login_settings_set(&f.store, &f.manager, &bad, NOW).expect_err("too short");
    assert!(e.to_string().contains("session_idle_minutes") && e.to_string().contains("between 5 and 1440"), "{e}");
}

#[test]
fn a_reset_password_must_be_changed_before_anything_else() {
    let f = fixture();
    let clerk_id = id_of(&f, "clerk");
    assert_eq!(
        access::user_reset_password(&f.store, &f.manager, clerk_id, "short", NOW).expect_err("too short").code(),
        "password_too_short"
    );
    access::user_reset_password(&f.store, &f.manager, clerk_id, "temporary-123", NOW).expect("reset");
    login(&f, "clerk", "pw", "local", NOW).expect_err("the old password is gone");
    let clerk = login(&f, "clerk", "temporary-123", "local", NOW).expect("temporary password");
    assert!(clerk.must_change_password);
    assert_eq!(access::authorize(&clerk, "meters_list").expect_err("refused").code(), "password_change_required");
    assert!(access::authorize(&clerk, "password_change").is_ok());
    assert!(access::authorize(&clerk, "logout").is_ok());
    let change = |old: &str, new: &str| access::password_change(&f.store, &clerk, old, new, NOW).map_err(|e| e.code());
    assert_eq!(change("wrong-one", "a-new-password"), Err("password_wrong_old"));
    assert_eq!(change("temporary-123", "short"), Err("password_too_short"));
    assert_eq!(change("temporary-123", "temporary-123"), Err("password_unchanged"));
    assert_eq!(change("temporary-123", "clerk"), Err("password_too_short"));
    assert_eq!(change("temporary-123", "a-new-password"), Ok(()));
    let fresh = access::refresh(&f.store, &clerk).expect("refresh");
    assert!(!fresh.must_change_password);
    assert!(access::authorize(&fresh, "meters_list").is_ok());
    let again = login(&f, "clerk", "a-new-password", "local", NOW).expect("new password");
    assert!(!again.must_change_password);
    assert!(audit_events(&f).iter().any(|e| e == "password_changed"));
    assert!(audit_events(&f).iter().any(|e| e == "user_password_reset"));
}

#[test]
fn users_are_created_with_a_temporary_password_and_deactivation_ends_their_sessions() {
    let f = fixture();
    let new = store::users::NewUser { salt: None, login: "sophie", name: "Sophie Martin", role: Role::Superuser, password: "bienvenue-2026", locale: "fr" };
    let id = access::user_create(&f.store, &f.manager, &new, NOW).expect("create");
    let e = access::user_create(&f.store, &f.manager, &new, NOW).expect_err("twice");
    assert!(e.to_string().contains("sophie"), "{e}");
    let bad = store::users::NewUser { login: "a b", ..new };
    assert_eq!(access::user_create(&f.store, &f.manager, &bad, NOW).expect_err("space").code(), "bad_input");
    let sophie = login(&f, "sophie", "bienvenue-2026", "local", NOW + 5).expect("login");
    assert!(sophie.must_change_password, "a new account's password is temporary");
    let list = access::users_list(&f.store, &f.manager, NOW).expect("list");
    let row = list.iter().find(|u| u.login == "sophie").expect("row");
    assert_eq!((row.role.as_str(), row.active, row.last_login), ("superuser", true, Some(NOW + 5)));
    access::user_set_active(&f.store, &f.manager, id, false, NOW).expect("deactivate");
    assert_eq!(access::refresh(&f.store, &sophie).expect_err("ended").code(), "not_logged_in");
    assert_eq!(login(&f, "sophie", "bienvenue-2026", "local", NOW).expect_err("inactive").code(), "wrong_password");
    access::user_set_active(&f.store, &f.manager, id, true, NOW).expect("reactivate");
    login(&f, "sophie", "bienvenue-2026", "local", NOW).expect("active again");
    // Only a manager administers users.
    let clerk = login(&f, "clerk", "pw", "local", NOW).expect("clerk");
    assert_eq!(access::users_list(&f.store, &clerk, NOW).expect_err("clerk").code(), "forbidden");
    assert_eq!(access::user_set_active(&f.store, &clerk, id, false, NOW).expect_err("clerk").code(), "forbidden");
}

#[test]
fn the_last_active_manager_cannot_be_deactivated_or_demoted() {
    let f = fixture();
    let me = f.manager.user_id;
    let code = |r: Result<(), releve_core::Error>| r.expect_err("refused").code();
    assert_eq!(code(access::user_set_active(&f.store, &f.manager, me, false, NOW)), "own_account");
    assert_eq!(code(access::user_set_role(&f.store, &f.manager, me, Role::User, NOW)), "last_manager");
    let e = access::user_set_role(&f.store, &f.manager, me, Role::User, NOW).expect_err("refused");
    assert!(e.to_string().contains("manager is the last active manager"), "{e}");
    // With a second manager, the first may step down; the second is then the last.
    let clerk_id = id_of(&f, "clerk");
    access::user_set_role(&f.store, &f.manager, clerk_id, Role::Manager, NOW).expect("promote");
    let second = login(&f, "clerk", "pw", "local", NOW).expect("second manager");
    access::user_set_active(&f.store, &second, me, false, NOW).expect("deactivate the first manager");
    assert_eq!(code(access::user_set_role(&f.store, &second, clerk_id, Role::User, NOW)), "last_manager");
    access::user_set_active(&f.store, &second, me, true, NOW).expect("reactivate");
    access::user_set_role(&f.store, &second, clerk_id, Role::Superuser, NOW).expect("now it may step down");
}

#[test]
fn the_matrix_editor_previews_and_sets_grantable_permissions_only() {
    let f = fixture();
    let clerk = login(&f, "clerk", "pw", "local", NOW).expect("clerk");
    let matrix = access::permissions_matrix(&f.store, &f.manager).expect("matrix");
    assert_eq!(matrix.permissions.len(), Permission::ALL.len());
    let grantable: Vec<&str> = matrix.permissions.iter().filter(|p| p.grantable).map(|p| p.permission.as_str()).collect();
    assert!(!grantable.contains(&"manage_users") && grantable.contains(&"import"), "{grantable:?}");
    assert_eq!(matrix.user, vec![Permission::View, Permission::Export]);
    let names = |ps: &[Permission]| ps.iter().map(|p| p.as_str().to_string()).collect::<Vec<_>>();
    // Give the user import, take export away; superuser unchanged.
    let change = MatrixChange { user: vec!["view".into(), "import".into()], superuser: names(&matrix.superuser) };
    let before = audit_events(&f).len();
    let preview = access::permissions_matrix_preview(&f.store, &f.manager, &change).expect("preview");
    assert_eq!(audit_events(&f).len(), before, "a preview changes nothing");
    assert_eq!(preview[0].added, vec![Permission::Import]);
    assert_eq!(preview[0].removed, vec![Permission::Export]);
    assert!(preview[0].commands_allowed.contains(&"import_start"), "{:?}", preview[0].commands_allowed);
    assert!(preview[0].commands_refused.contains(&"export_readings"), "{:?}", preview[0].commands_refused);
    assert!(preview[1].added.is_empty() && preview[1].removed.is_empty() && preview[1].commands_allowed.is_empty());
    assert!(access::authorize(&access::refresh(&f.store, &clerk).expect("r"), "import_start").is_err(), "not yet");
    let set = access::permissions_matrix_set(&f.store, &f.manager, &change, NOW).expect("set");
    assert_eq!(set[0].added, preview[0].added);
    assert_eq!(audit_events(&f).len(), before + 1, "one audit entry");
    let fresh = access::refresh(&f.store, &clerk).expect("refresh");
    assert!(access::authorize(&fresh, "import_start").is_ok() && access::authorize(&fresh, "export_readings").is_err());
    // Not grantable, unknown, and not a manager: refused, nothing stored.
    for bad in ["manage_users", "settings", "export_keys", "fly"] {
        let change = MatrixChange { user: vec![bad.into()], superuser: vec![] };
        let e = access::permissions_matrix_set(&f.store, &f.manager, &change, NOW).expect_err(bad);
        assert!(e.to_string().contains(bad), "{e}");
    }
    assert_eq!(access::permissions_matrix(&f.store, &f.manager).expect("m").user, vec![Permission::View, Permission::Import]);
    assert_eq!(access::permissions_matrix_set(&f.store, &fresh, &change, NOW).expect_err("clerk").code(), "forbidden");
}
