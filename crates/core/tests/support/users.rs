//! Users for tests: each with the password "pw", created by the system session. The test
//! database hashes passwords at the fast (test) cost (setting `password_cost`).
#![allow(dead_code)]

use releve_core::access::{self, Permission, Role, Session};
use releve_core::store::{self, Store};

/// Create `users` (login, role) in `store`, as of `now`; French speakers.
pub fn create_users(store: &Store, users: &[(&str, Role)], now: i64) {
    store::settings::set(&store.writer(), "password_cost", "fast").expect("password cost");
    let system = Session::system("test-pc");
    let permit = system.permit(Permission::ManageUsers).expect("the system may create users");
    for &(login, role) in users {
        let user = store::users::NewUser { salt: None, login, name: login, role, password: "pw", locale: "fr" };
        access::create_user(store, permit, &user, now).expect("user");
    }
}

/// A manager "manager" and a clerk "clerk" (role user), both logged in from "pc".
pub fn manager_and_clerk(store: &Store, now: i64) -> (Session, Session) {
    create_users(store, &[("manager", Role::Manager), ("clerk", Role::User)], now);
    let manager = access::login(store, "manager", "pw", "pc", "local", now).expect("login");
    let clerk = access::login(store, "clerk", "pw", "pc", "local", now).expect("login");
    (manager, clerk)
}

/// A new store in a temporary folder with a manager (logged in from "pc") and a clerk.
pub struct Fixture {
    pub dir: tempfile::TempDir,
    pub store: Store,
    pub manager: Session,
}

pub fn fixture(now: i64) -> Fixture {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("t.db")).expect("open");
    let (manager, _) = manager_and_clerk(&store, now);
    Fixture { dir, store, manager }
}
