//! `releve-bench login`: a login's time with the argon2id parameters of `access::password`
//! (known user with the right password, known user with a wrong one, unknown login) next to the
//! old pbkdf2-sha256 hashing as the baseline; and argon2id's time at a few other parameter
//! sets, to show where the chosen one sits in the 100-300 ms goal.

use crate::{Res, NOW};
use releve_core::access::{self, password, Permission, Role, Session};
use releve_core::store::{self, Store};
use std::time::Instant;

/// Median and max of `runs` timings of `f`, in ms.
fn time(runs: u32, mut f: impl FnMut(u32)) -> (f64, f64) {
    let mut t: Vec<f64> = (0..runs)
        .map(|i| {
            let start = Instant::now();
            f(i);
            start.elapsed().as_secs_f64() * 1000.0
        })
        .collect();
    t.sort_by(f64::total_cmp);
    (t[t.len() / 2], t[t.len() - 1])
}

pub fn run(runs: u32) -> Res {
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("login.db"))?;
    let system = Session::system("bench");
    let user = store::users::NewUser { salt: None, login: "clerk", name: "Clerk", role: Role::User, password: "correct horse", locale: "fr" };
    access::create_user(&store, system.permit(Permission::ManageUsers)?, &user, NOW)?;
    // Failures age out of a 1-minute window between attempts: the bench never locks itself out.
    store::settings::set(&store.writer(), "login_window_minutes", "1")?;
    let (m, t, p) = password::STANDARD;
    println!("login --runs {runs}: argon2id m={m} KiB, t={t}, p={p} (median / max of {runs} runs)");
    let mut now = NOW;
    let mut step = || {
        now += 120;
        now
    };
    let (med, max) = time(runs, |_| {
        access::login(&store, "clerk", "correct horse", "bench", "local", step()).expect("login");
    });
    println!("  known user, right password   {med:7.1} ms  (max {max:.1})");
    let (med, max) = time(runs, |_| {
        access::login(&store, "clerk", "wrong horse", "bench", "local", step()).expect_err("wrong");
    });
    println!("  known user, wrong password   {med:7.1} ms  (max {max:.1})");
    let (med, max) = time(runs, |i| {
        access::login(&store, &format!("nobody{i}"), "correct horse", "bench", "local", step()).expect_err("unknown");
    });
    println!("  unknown login                {med:7.1} ms  (max {max:.1})");

    let old = password::hash_pbkdf2("correct horse", [9u8; 16]);
    let (med, max) = time(runs, |_| {
        assert!(password::verify_password("correct horse", &old, password::Cost::Standard).ok);
    });
    println!("  baseline, before: pbkdf2-sha256 60,000 iterations, known user  {med:7.1} ms  (max {max:.1}); an unknown login hashed nothing");
    let (med, _) = time(runs.min(5), |_| {
        password::verify_password("correct horse", &password::hash_password("correct horse", None, password::Cost::Fast), password::Cost::Fast);
    });
    println!("  test cost (password_cost = fast, m=8 KiB, t=1): {med:.2} ms a hash and a verification");

    println!("  argon2id alone at other parameters (one verification):");
    for (m, t) in [(19 * 1024, 2), (32 * 1024, 3), (64 * 1024, 2), (64 * 1024, 3), (64 * 1024, 4), (128 * 1024, 3)] {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier, SaltString};
        let params = argon2::Params::new(m, t, 1, Some(32))?;
        let a = argon2::Argon2::new(argon2::Algorithm::Argon2id, argon2::Version::V0x13, params);
        let salt = SaltString::encode_b64(&[3u8; 16])?;
        let hash = a.hash_password(b"correct horse", &salt)?.to_string();
        let parsed = argon2::PasswordHash::new(&hash)?;
        let (med, _) = time(runs.min(7), |_| {
            assert!(a.verify_password(b"correct horse", &parsed).is_ok());
        });
        let chosen = if (m, t) == (password::STANDARD.0, password::STANDARD.1) { "  <- chosen" } else { "" };
        println!("    m={:>3} MiB t={t}: {med:7.1} ms{chosen}", m / 1024);
    }
    Ok(())
}
