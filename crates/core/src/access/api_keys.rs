//! API keys of billing systems and consumer portals: created by a manager (name, scopes,
//! optional groups or one customer, expiry, rate), shown once, kept as a SHA-256 hash,
//! revocable. [`authenticate`] turns a presented secret into a [`Session`] of the key.

use super::{KeyGrant, Permit, Scope, Session};
use crate::error::{Error, Result};
use crate::problem::{Problem, Reason};
use crate::store::{self, Store};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// A secret starts with this, so that a leaked one is recognised (secret scanners).
pub const SECRET_PREFIX: &str = "rlv_";
/// The longest key name.
pub const MAX_NAME_CHARS: usize = 80;
/// Calls per minute a key may be given.
pub const MAX_RATE_PER_MINUTE: i64 = 100_000;
pub const DEFAULT_RATE_PER_MINUTE: i64 = 600;

/// A key to create.
#[derive(Debug, Clone, Default)]
pub struct NewKey {
    pub name: String,
    pub scopes: Vec<String>,
    pub groups: Vec<i64>,
    pub customer: Option<i64>,
    pub expires_at: Option<i64>,
    pub rate_per_minute: Option<i64>,
}

/// A key as listed (never its secret).
#[derive(Debug, Clone, Serialize)]
pub struct KeyRow {
    pub id: i64,
    pub name: String,
    pub prefix: String,
    pub scopes: Vec<String>,
    pub groups: Vec<i64>,
    pub customer: Option<i64>,
    pub expires_at: Option<i64>,
    pub rate_per_minute: i64,
    pub created_at: i64,
    pub created_by: String,
    pub revoked_at: Option<i64>,
    pub last_used_at: Option<i64>,
    /// `active`, `revoked` or `expired` at the time of listing.
    pub state: &'static str,
}

/// A created key: its row and the secret, shown this once.
#[derive(Debug, Clone, Serialize)]
pub struct Created {
    pub key: KeyRow,
    pub secret: String,
}

fn hash(secret: &str) -> String {
    hex::encode(Sha256::digest(secret.as_bytes()))
}

fn row_of(k: store::api_keys::ApiKey, now: i64) -> KeyRow {
    let state = if k.revoked_at.is_some() {
        "revoked"
    } else if k.expires_at.is_some_and(|e| e <= now) {
        "expired"
    } else {
        "active"
    };
    KeyRow {
        id: k.id,
        scopes: k.scopes.split_whitespace().map(str::to_string).collect(),
        groups: ids(k.group_ids.as_deref()),
        name: k.name,
        prefix: k.prefix,
        customer: k.customer_id,
        expires_at: k.expires_at,
        rate_per_minute: k.rate_per_minute,
        created_at: k.created_at,
        created_by: k.created_by,
        revoked_at: k.revoked_at,
        last_used_at: k.last_used_at,
        state,
    }
}

fn ids(s: Option<&str>) -> Vec<i64> {
    s.unwrap_or("").split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

/// Create a key (manager: `manage_users`); the secret is returned once and never stored.
pub fn create(store: &Store, permit: Permit<'_>, new: &NewKey, now: i64) -> Result<Created> {
    let name = new.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", Reason::Required));
    }
    if name.chars().count() > MAX_NAME_CHARS {
        return Err(Error::invalid("name", Reason::TooLong { max: MAX_NAME_CHARS }));
    }
    if new.scopes.is_empty() {
        return Err(Error::invalid("scopes", Reason::Required));
    }
    let mut scopes = Vec::new();
    for s in &new.scopes {
        let scope = Scope::parse(s).ok_or_else(|| {
            Error::invalid("scopes", Reason::Unknown { value: s.clone(), allowed: Scope::ALL.iter().map(|s| s.as_str().to_string()).collect() })
        })?;
        if !scopes.contains(&scope) {
            scopes.push(scope);
        }
    }
    scopes.sort();
    let rate = new.rate_per_minute.unwrap_or(DEFAULT_RATE_PER_MINUTE);
    if !(1..=MAX_RATE_PER_MINUTE).contains(&rate) {
        return Err(Error::invalid("rate_per_minute", Reason::OutOfRange { value: rate as f64, min: 1.0, max: MAX_RATE_PER_MINUTE as f64 }));
    }
    if let Some(at) = new.expires_at {
        if at <= now {
            return Err(Error::invalid("expires_at", Reason::OutOfRange { value: at as f64, min: (now + 1) as f64, max: i64::MAX as f64 }));
        }
    }
    let secret = format!("{SECRET_PREFIX}{}", hex::encode(random_bytes()));
    let prefix: String = secret.chars().take(SECRET_PREFIX.len() + 6).collect();
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if store::api_keys::name_taken(&tx, name)? {
        return Err(Error::Refused(Problem::ApiKeyNameTaken { name: name.to_string() }));
    }
    let mut groups = new.groups.clone();
    groups.sort_unstable();
    groups.dedup();
    for g in &groups {
        if store::groups::name_of(&tx, *g)?.is_none() {
            return Err(Error::NotFound { what: format!("group {g}") });
        }
    }
    if let Some(c) = new.customer {
        if store::customers::get(&tx, c)?.is_none() {
            return Err(Error::NotFound { what: format!("customer {c}") });
        }
    }
    let scope_text = scopes.iter().map(|s| s.as_str()).collect::<Vec<_>>().join(" ");
    let group_text = (!groups.is_empty()).then(|| groups.iter().map(i64::to_string).collect::<Vec<_>>().join(","));
    let id = store::api_keys::insert(
        &tx,
        &store::api_keys::NewApiKey {
            name,
            prefix: &prefix,
            secret_hash: &hash(&secret),
            scopes: &scope_text,
            group_ids: group_text.as_deref(),
            customer_id: new.customer,
            expires_at: new.expires_at,
            rate_per_minute: rate,
            created_by: &permit.session.login,
        },
        now,
    )?;
    let details = serde_json::json!({"key": name, "scopes": scope_text, "groups": groups, "customer": new.customer, "expires_at": new.expires_at});
    store::audit::record_permit(&tx, permit, now, "api_key_create", &details.to_string())?;
    let key = store::api_keys::by_id(&tx, id)?.ok_or_else(|| Error::NotFound { what: format!("API key {id}") })?;
    tx.commit()?;
    Ok(Created { key: row_of(key, now), secret })
}

fn random_bytes() -> [u8; 32] {
    use rand::RngCore;
    let mut b = [0u8; 32];
    rand::rngs::OsRng.fill_bytes(&mut b);
    b
}

/// Every key, newest first (the manager's screen).
pub fn list(store: &Store, permit: Permit<'_>, now: i64) -> Result<Vec<KeyRow>> {
    let _ = permit;
    let conn = store.reader()?;
    Ok(store::api_keys::all(&conn)?.into_iter().map(|k| row_of(k, now)).collect())
}

/// Revoke key `id`: its next call is refused.
pub fn revoke(store: &Store, permit: Permit<'_>, id: i64, now: i64) -> Result<KeyRow> {
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let key = store::api_keys::by_id(&tx, id)?.ok_or_else(|| Error::NotFound { what: format!("API key {id}") })?;
    if store::api_keys::revoke(&tx, id, now)? {
        store::audit::record_permit(&tx, permit, now, "api_key_revoke", &serde_json::json!({"key": key.name}).to_string())?;
    }
    let key = store::api_keys::by_id(&tx, id)?.ok_or_else(|| Error::NotFound { what: format!("API key {id}") })?;
    tx.commit()?;
    Ok(row_of(key, now))
}

/// The session of the key whose secret is `secret`, called from `computer` at `now`:
/// `wrong_api_key` (reason `missing`, `unknown`, `revoked`, `expired`) otherwise.
pub fn authenticate(store: &Store, secret: Option<&str>, computer: &str, now: i64) -> Result<Session> {
    let refused = |reason| Error::Refused(Problem::WrongApiKey { reason });
    let secret = secret.map(str::trim).filter(|s| !s.is_empty()).ok_or_else(|| refused("missing"))?;
    if secret.len() > 200 {
        return Err(refused("unknown"));
    }
    let conn = store.reader()?;
    let key = store::api_keys::by_hash(&conn, &hash(secret))?.ok_or_else(|| refused("unknown"))?;
    if key.revoked_at.is_some() {
        return Err(refused("revoked"));
    }
    if key.expires_at.is_some_and(|e| e <= now) {
        return Err(refused("expired"));
    }
    let grant = KeyGrant {
        id: key.id,
        scopes: key.scopes.split_whitespace().filter_map(Scope::parse).collect(),
        groups: ids(key.group_ids.as_deref()),
        customer: key.customer_id,
        rate_per_minute: key.rate_per_minute,
        name: key.name,
    };
    Ok(Session::of_key(grant, computer))
}

/// Write the audit entry of one call of key session `session` (`what`: method and path, the
/// HTTP status) and mark the key used.
pub fn record_call(store: &Store, session: &Session, what: &str, status: u16, now: i64) -> Result<()> {
    let Some(key) = &session.key else { return Ok(()) };
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::api_keys::touch(&tx, key.id, now)?;
    let details = serde_json::json!({"key": key.name, "call": what, "status": status});
    store::audit::record(&tx, now, "api_call", &session.login, &session.computer, &details.to_string())?;
    tx.commit()?;
    Ok(())
}
