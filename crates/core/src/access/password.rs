//! Password hashes: argon2id in the PHC string format (`$argon2id$v=19$m=..,t=..,p=..$salt$hash`).
//! Verification reads the parameters from the stored hash, so hashes of another cost (or the
//! old `pbkdf2-sha256$..` format) still verify; [`Verified::upgrade`] says when a hash should
//! be replaced by one of the current cost at the next successful login.

use argon2::password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString};
use argon2::{Algorithm, Argon2, Params, Version};

/// How much work a password hash costs. `Standard` is the production cost (about 100-300 ms
/// a login on a 2-core machine, see `releve-bench login`); `Fast` is for test databases only,
/// chosen by the setting `password_cost = fast` (no command sets it).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Cost {
    Standard,
    Fast,
}

/// The production parameters: 64 MiB, 4 passes, 1 lane (measured: `releve-bench login`, about
/// 150-200 ms a login on the 2-core machine).
pub const STANDARD: (u32, u32, u32) = (64 * 1024, 4, 1);
/// The test parameters: 8 KiB, 1 pass, 1 lane (argon2's minimum); never for real accounts.
pub const FAST: (u32, u32, u32) = (8, 1, 1);

impl Cost {
    /// The setting's value: `fast` is the test cost, anything else (or none) the standard one.
    pub fn from_setting(value: Option<&str>) -> Cost {
        match value {
            Some("fast") => Cost::Fast,
            _ => Cost::Standard,
        }
    }

    /// (memory KiB, passes, lanes).
    pub fn parameters(self) -> (u32, u32, u32) {
        match self {
            Cost::Standard => STANDARD,
            Cost::Fast => FAST,
        }
    }

    fn argon2(self) -> Argon2<'static> {
        let (m, t, p) = self.parameters();
        // The constants above are within argon2's bounds.
        let params = Params::new(m, t, p, Some(32)).unwrap_or_default();
        Argon2::new(Algorithm::Argon2id, Version::V0x13, params)
    }
}

/// The argon2id hash of `password` as a PHC string; a random salt unless one is given (only
/// the demo gives one, so that the same seed builds the same database).
pub fn hash_password(password: &str, salt: Option<[u8; 16]>, cost: Cost) -> String {
    use rand::{Rng, SeedableRng};
    let salt = salt.unwrap_or_else(|| rand_chacha::ChaCha20Rng::from_entropy().gen());
    // 16 bytes always encode as a valid PHC salt.
    let salt = SaltString::encode_b64(&salt).unwrap_or_else(|_| SaltString::from_b64("AAAAAAAAAAAAAAAAAAAAAA").expect("salt"));
    cost.argon2()
        .hash_password(password.as_bytes(), &salt)
        .map(|h| h.to_string())
        .unwrap_or_default()
}

/// What checking a password against a stored hash found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Verified {
    pub ok: bool,
    /// The password is right and the hash is not argon2id of `cost`: store a new one.
    pub upgrade: bool,
}

/// Check `password` against `stored` (argon2 PHC or the old pbkdf2 format); `cost` is the
/// current target, for [`Verified::upgrade`]. Anything unreadable is a wrong password.
pub fn verify_password(password: &str, stored: &str, cost: Cost) -> Verified {
    if stored.starts_with("pbkdf2-sha256$") {
        return Verified { ok: verify_pbkdf2(password, stored), upgrade: true };
    }
    let Ok(hash) = PasswordHash::new(stored) else {
        return Verified { ok: false, upgrade: false };
    };
    ARGON2_RUNS.with(|n| n.set(n.get() + 1));
    let ok = Argon2::default().verify_password(password.as_bytes(), &hash).is_ok();
    Verified { ok, upgrade: ok && !is_current(&hash, cost) }
}

fn is_current(hash: &PasswordHash<'_>, cost: Cost) -> bool {
    let Ok(params) = Params::try_from(hash) else { return false };
    let (m, t, p) = cost.parameters();
    hash.algorithm.as_str() == "argon2id" && (params.m_cost(), params.t_cost(), params.p_cost()) == (m, t, p)
}

thread_local! {
    static ARGON2_RUNS: std::cell::Cell<u64> = const { std::cell::Cell::new(0) };
}

/// How many argon2 verifications this thread has run (tests check that every login path,
/// an unknown login's included, runs exactly one).
pub fn argon2_runs() -> u64 {
    ARGON2_RUNS.with(std::cell::Cell::get)
}

/// A well-formed argon2id hash of `cost` that no password matches (its hash bytes are all
/// zero): verifying it runs argon2id with the parameters it states, as a real account's would.
pub fn dummy_hash(cost: Cost) -> String {
    let (m, t, p) = cost.parameters();
    format!("$argon2id$v=19$m={m},t={t},p={p}$AAAAAAAAAAAAAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA")
}

/// The same work as verifying a password against a hash of `cost`, for a login that names no
/// user: an unknown login takes as long as a known one. Always false.
pub fn verify_dummy(password: &str, cost: Cost) -> bool {
    verify_password(password, &dummy_hash(cost), cost).ok
}

const PBKDF2_ITERATIONS: u32 = 60_000;

/// The format before argon2 (`pbkdf2-sha256$iterations$salt$hash`, hex): kept to verify old
/// hashes, and to make them in tests and the bench's baseline.
pub fn hash_pbkdf2(password: &str, salt: [u8; 16]) -> String {
    let hash = pbkdf2_derive(password, &salt, PBKDF2_ITERATIONS);
    format!("pbkdf2-sha256${PBKDF2_ITERATIONS}${}${}", hex::encode(salt), hex::encode(hash))
}

fn verify_pbkdf2(password: &str, stored: &str) -> bool {
    let mut parts = stored.split('$');
    let (Some("pbkdf2-sha256"), Some(iter), Some(salt), Some(hash)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return false;
    };
    let (Ok(iter), Ok(salt), Ok(hash)) = (iter.parse::<u32>(), hex::decode(salt), hex::decode(hash)) else {
        return false;
    };
    if !(1..=10_000_000).contains(&iter) {
        return false;
    }
    let derived = pbkdf2_derive(password, &salt, iter);
    derived.len() == hash.len() && derived.iter().zip(&hash).fold(0u8, |acc, (a, b)| acc | (a ^ b)) == 0
}

fn pbkdf2_derive(password: &str, salt: &[u8], iterations: u32) -> [u8; 32] {
    let mut out = [0u8; 32];
    pbkdf2::pbkdf2_hmac::<sha2::Sha256>(password.as_bytes(), salt, iterations, &mut out);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn argon2id_hash_verifies_only_the_right_password() {
        let h = hash_password("s3cret", None, Cost::Fast);
        assert!(h.starts_with("$argon2id$v=19$m=8,t=1,p=1$"), "{h}");
        assert_eq!(verify_password("s3cret", &h, Cost::Fast), Verified { ok: true, upgrade: false });
        assert!(!verify_password("s3creT", &h, Cost::Fast).ok);
        assert!(!verify_password("s3cret", "garbage", Cost::Fast).ok);
        // Right password, another cost than the target: verified, to be upgraded.
        assert_eq!(verify_password("s3cret", &h, Cost::Standard), Verified { ok: true, upgrade: true });
    }

    #[test]
    fn a_fixed_salt_gives_the_same_hash() {
        let salt = [7u8; 16];
        assert_eq!(hash_password("pw", Some(salt), Cost::Fast), hash_password("pw", Some(salt), Cost::Fast));
        assert_ne!(hash_password("pw", None, Cost::Fast), hash_password("pw", None, Cost::Fast));
    }

    #[test]
    fn old_pbkdf2_hashes_verify_and_ask_for_an_upgrade() {
        let old = hash_pbkdf2("s3cret", [1u8; 16]);
        assert_eq!(verify_password("s3cret", &old, Cost::Fast), Verified { ok: true, upgrade: true });
        assert!(!verify_password("wrong", &old, Cost::Fast).ok);
    }

    #[test]
    fn the_dummy_hash_has_the_costs_parameters_and_matches_nothing() {
        for cost in [Cost::Fast, Cost::Standard] {
            let dummy = dummy_hash(cost);
            let parsed = PasswordHash::new(&dummy).expect("well-formed");
            let params = Params::try_from(&parsed).expect("params");
            assert_eq!((params.m_cost(), params.t_cost(), params.p_cost()), cost.parameters());
            assert_eq!(parsed.hash.map(|h| h.len()), Some(32));
            // Same shape as a real hash of that cost.
            let real = PasswordHash::new(&hash_password("x", Some([1; 16]), Cost::Fast)).map(|h| h.to_string()).expect("real");
            assert_eq!(dummy.split('$').count(), real.split('$').count());
        }
        let before = argon2_runs();
        assert!(!verify_dummy("", Cost::Fast));
        assert!(!verify_dummy("anything", Cost::Fast));
        assert_eq!(argon2_runs() - before, 2, "each dummy verification runs argon2");
    }
}
