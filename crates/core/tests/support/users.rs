//! Users for tests: each with the password "pw", created by the system session.
#![allow(dead_code)]

use releve_core::access::{self, Permission, Role, Session};
use releve_core::store::{self, Store};

/// Create `users` (login, role) in `store`, as of `now`; French speakers.
pub fn create_users(store: &Store, users: &[(&str, Role)], now: i64) {
    let system = Session::system("test-pc");
    let permit = system.permit(Permission::ManageUsers).expect("the system may create users");
    for &(login, role) in users {
        let user = store::users::NewUser { salt: None, login, name: login, role, password: "pw", locale: "fr" };
        access::create_user(store, permit, &user, now).expect("user");
    }
}
