//! Webhooks: a manager registers HTTP endpoints for events — `export.done` (a scheduled
//! export's run finished), `readings.batch` (new readings stored), `info_code.started` (a
//! new info code on a meter) — and Relevé POSTs each event to each endpoint that takes it,
//! signed with the endpoint's secret (`signature`), retried with backoff (`deliver`). Events
//! are made by a poller reading the store's tables from cursors kept in the database
//! (`events`), never by hooks in the import, so nothing is lost across restarts. The wire
//! format is described in crates/api/WEBHOOKS.md.

pub mod deliver;
pub mod events;
pub mod signature;

pub use deliver::{deliver_due, Report};

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::problem::Reason;
use crate::store::{self, Store};
use serde::{Deserialize, Serialize};

/// The events an endpoint may take (`ping` is sent by `webhook_test` only).
pub const EVENTS: &[&str] = &["export.done", "info_code.started", "readings.batch"];

/// At most this many endpoints.
pub const MAX_ENDPOINTS: i64 = 20;

/// The longest URL taken.
pub const MAX_URL: usize = 2000;

/// Deliveries of the log kept this many days unless set (`webhook_settings`).
pub const DEFAULT_LOG_DAYS: i64 = 30;

const LOG_DAYS_KEY: &str = "webhooks.log_days";

/// What the webhooks screen shows.
#[derive(Debug, Serialize)]
pub struct Overview {
    pub endpoints: Vec<store::webhooks::Endpoint>,
    pub events: &'static [&'static str],
    pub log_days: i64,
    pub max_endpoints: i64,
}

pub fn webhooks_list(store: &Store, session: &Session) -> Result<Overview> {
    session.permit(Permission::Settings)?;
    let conn = store.reader()?;
    Ok(Overview { endpoints: store::webhooks::endpoints(&conn)?, events: EVENTS, log_days: log_days(&conn)?, max_endpoints: MAX_ENDPOINTS })
}

/// How many days the delivery log keeps.
pub fn log_days(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(store::settings::get(conn, LOG_DAYS_KEY)?.and_then(|v| v.parse().ok()).unwrap_or(DEFAULT_LOG_DAYS))
}

#[derive(Debug, Clone, Deserialize)]
pub struct NewWebhook {
    pub name: String,
    pub url: String,
    pub events: Vec<String>,
}

/// A new endpoint and its secret, shown this once.
#[derive(Debug, Serialize)]
pub struct Added {
    pub id: i64,
    pub secret: String,
}

/// Check an endpoint's URL: http or https, a host, no user or password in it, not too long.
pub fn check_url(url: &str) -> Result<reqwest::Url> {
    let url = url.trim();
    if url.is_empty() {
        return Err(Error::invalid("url", Reason::Required));
    }
    if url.len() > MAX_URL {
        return Err(Error::invalid("url", Reason::TooLong { max: MAX_URL }));
    }
    let parsed = reqwest::Url::parse(url).map_err(|e| Error::invalid("url", Reason::Unreadable { detail: format!("'{url}' is not a URL: {e}") }))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(Error::invalid("url", Reason::Unknown { value: parsed.scheme().to_string(), allowed: vec!["http".into(), "https".into()] }));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(Error::bad_input("url", format!("'{url}' names no host")));
    }
    if !parsed.username().is_empty() || parsed.password().is_some() {
        return Err(Error::bad_input("url", "no user or password in the URL: the receiver checks the signature"));
    }
    if parsed.fragment().is_some() {
        return Err(Error::bad_input("url", "no '#' part"));
    }
    Ok(parsed)
}

fn check_events(events: &[String]) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for e in events {
        let e = e.trim();
        if !EVENTS.contains(&e) {
            return Err(Error::invalid("events", Reason::Unknown { value: e.to_string(), allowed: EVENTS.iter().map(|e| e.to_string()).collect() }));
        }
        if !out.iter().any(|o| o == e) {
            out.push(e.to_string());
        }
    }
    if out.is_empty() {
        return Err(Error::invalid("events", Reason::Required));
    }
    out.sort();
    Ok(out)
}

/// Register an endpoint; its secret is returned here and never again.
pub fn webhook_add(store: &Store, session: &Session, new: &NewWebhook, now: i64) -> Result<Added> {
    let permit = session.permit(Permission::Settings)?;
    let name = new.name.trim();
    if name.is_empty() {
        return Err(Error::invalid("name", Reason::Required));
    }
    if name.chars().count() > 64 {
        return Err(Error::invalid("name", Reason::TooLong { max: 64 }));
    }
    let url = check_url(&new.url)?;
    let events = check_events(&new.events)?;
    let secret = {
        use rand::RngCore;
        let mut b = [0u8; 24];
        rand::rngs::OsRng.fill_bytes(&mut b);
        format!("whsec_{}", hex::encode(b))
    };
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if store::webhooks::by_name(&tx, name)?.is_some() {
        return Err(Error::bad_input("name", format!("a webhook named '{name}' exists")));
    }
    if store::webhooks::count(&tx)? >= MAX_ENDPOINTS {
        return Err(Error::bad_input("url", format!("at most {MAX_ENDPOINTS} webhooks: remove one first")));
    }
    let row = store::webhooks::NewEndpoint {
        name,
        url: url.as_str(),
        events: &events,
        secret: &secret,
        created_at: now,
        created_by: &session.login,
    };
    let id = store::webhooks::insert(&tx, &row)?;
    let details = format!("{name}: {url} ({})", events.join(", "));
    store::audit::record_permit(&tx, permit, now, "webhook_add", &details)?;
    tx.commit()?;
    Ok(Added { id, secret })
}

fn named(conn: &rusqlite::Connection, id: i64) -> Result<store::webhooks::Endpoint> {
    store::webhooks::endpoint(conn, id)?.ok_or_else(|| Error::not_found(format!("webhook {id}")))
}

/// Remove an endpoint and its delivery log.
pub fn webhook_remove(store: &Store, session: &Session, id: i64, now: i64) -> Result<()> {
    let permit = session.permit(Permission::Settings)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let e = named(&tx, id)?;
    store::webhooks::remove(&tx, id)?;
    store::audit::record_permit(&tx, permit, now, "webhook_remove", &format!("{}: {}", e.name, e.url))?;
    tx.commit()?;
    Ok(())
}

/// Stop or resume an endpoint: an inactive one is sent nothing and gets no new events; its
/// pending deliveries wait.
pub fn webhook_set_active(store: &Store, session: &Session, id: i64, active: bool, now: i64) -> Result<()> {
    let permit = session.permit(Permission::Settings)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let e = named(&tx, id)?;
    store::webhooks::set_active(&tx, id, active)?;
    let what = if active { "active" } else { "inactive" };
    store::audit::record_permit(&tx, permit, now, "webhook_set_active", &format!("{}: {what}", e.name))?;
    tx.commit()?;
    Ok(())
}

/// How long the delivery log keeps what is done.
pub fn webhook_settings(store: &Store, session: &Session, log_days: i64, now: i64) -> Result<()> {
    let permit = session.permit(Permission::Settings)?;
    if !(1..=3650).contains(&log_days) {
        return Err(Error::bad_input("log_days", "from 1 to 3650 days"));
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::settings::set(&tx, LOG_DAYS_KEY, &log_days.to_string())?;
    store::audit::record_permit(&tx, permit, now, "webhook_settings", &format!("delivery log kept {log_days} days"))?;
    tx.commit()?;
    Ok(())
}

/// A page of the delivery log, newest first; `next` is the `before` of the next page.
#[derive(Debug, Serialize)]
pub struct Page {
    pub rows: Vec<store::webhooks::Delivery>,
    pub next: Option<i64>,
}

pub fn webhook_deliveries(store: &Store, session: &Session, endpoint: Option<i64>, before: Option<i64>, limit: i64) -> Result<Page> {
    session.permit(Permission::Settings)?;
    let limit = limit.clamp(1, 500);
    let mut rows = store::webhooks::deliveries(&*store.reader()?, endpoint, before, limit + 1)?;
    let next = if rows.len() as i64 > limit {
        rows.truncate(limit as usize);
        rows.last().map(|r| r.id)
    } else {
        None
    };
    Ok(Page { rows, next })
}

/// Send a `ping` to an endpoint now (active or not) and say how it went; a ping that fails
/// is retried like any delivery while the endpoint is active.
pub fn webhook_test(store: &Store, session: &Session, id: i64, now: i64) -> Result<store::webhooks::Delivery> {
    let permit = session.permit(Permission::Settings)?;
    let reference = {
        use rand::RngCore;
        let mut b = [0u8; 8];
        rand::rngs::OsRng.fill_bytes(&mut b);
        format!("ping:{}", hex::encode(b))
    };
    let delivery = {
        let mut conn = store.writer();
        let tx = conn.transaction()?;
        let e = named(&tx, id)?;
        let tz = crate::settings::timezone(&tx)?;
        let data = serde_json::json!({"webhook": e.name, "sent_by": session.login});
        let body = events::body(&reference, "ping", now, tz, data);
        let new = store::webhooks::NewDelivery { endpoint_id: id, event: "ping", reference: &reference, body: &body, created_at: now };
        let delivery = store::webhooks::enqueue(&tx, &new)?.ok_or_else(|| Error::not_found(format!("webhook {id}")))?;
        store::audit::record_permit(&tx, permit, now, "webhook_test", &format!("{}: ping {delivery}", e.name))?;
        tx.commit()?;
        delivery
    };
    deliver::deliver_one(store, delivery, now, crate::http::client()?)?;
    let rows = store::webhooks::deliveries(&*store.reader()?, Some(id), Some(delivery + 1), 1)?;
    rows.into_iter().next().ok_or_else(|| Error::not_found(format!("delivery {delivery}")))
}
