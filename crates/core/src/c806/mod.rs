//! The Elia C8/06 aFRR gateway (specification in French, `elia-c8-06-afrr-gateway.fr.txt`):
//! every 4 seconds a message per delivery point (SDP) to the platform over MQTTS with the
//! gateway's client certificate, its body encrypted with the platform's current key.
//! `message` and `crypto` are pure (bytes in, bytes out); `runner` is the loop with the
//! network and the clock; this file holds the commands (permissions, audit, checks). The SQL
//! is in `store::c806`.

pub mod crypto;
pub mod message;
pub mod runner;

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::{self, c806 as db, Store};
use serde::{Deserialize, Serialize};

/// A value kept this long (sent or not) for the fallback files (Elia asks for at most the
/// last 90 days); the outgoing buffer thus holds far more than the 5 days asked.
pub const KEEP_DAYS: i64 = 90;

/// The gateway's settings as the screen sends them (topics default to the platform's).
#[derive(Debug, Clone, Deserialize)]
pub struct GatewayEdit {
    pub broker_url: String,
    pub gid: String,
    pub sid: String,
    #[serde(default)]
    pub username: Option<String>,
    #[serde(default)]
    pub topic_up: Option<String>,
    #[serde(default)]
    pub topic_down: Option<String>,
    #[serde(default)]
    pub ca_file: Option<String>,
    #[serde(default)]
    pub enabled: bool,
}

/// The platform's topics for gateway `gid` (C8/06 4.2.1).
pub fn default_topics(gid: &str) -> (String, String) {
    (format!("devices/{gid}/messages/events/"), format!("devices/{gid}/messages/devicebound/#"))
}

fn check_id(field: &str, v: &str) -> Result<String> {
    let v = v.trim();
    if v.is_empty() || v.chars().count() > 128 || v.contains(['/', '+', '#', '\0']) || v.chars().any(char::is_whitespace) {
        return Err(Error::bad_input(field, format!("'{v}' is not an identifier (1 to 128 characters, no space, '/', '+' or '#')")));
    }
    Ok(v.to_string())
}

fn clean(o: &Option<String>) -> Option<String> {
    o.as_deref().map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

pub fn gateway_get(store: &Store, session: &Session) -> Result<db::Gateway> {
    session.permit(Permission::Settings)?;
    db::gateway(&*store.reader()?)
}

pub fn gateway_save(store: &Store, session: &Session, e: &GatewayEdit, now: i64) -> Result<db::Gateway> {
    let permit = session.permit(Permission::Settings)?;
    let broker = crate::mqtt::broker(&e.broker_url)?;
    if !broker.tls {
        return Err(Error::bad_input("broker_url", "the C8/06 platform is reached over MQTTS only (mqtts://host:port)"));
    }
    let gid = check_id("gid", &e.gid)?;
    let sid = check_id("sid", &e.sid)?;
    let (up, down) = default_topics(&gid);
    let topic_up = clean(&e.topic_up).unwrap_or(up);
    let topic_down = clean(&e.topic_down).unwrap_or(down);
    if topic_up.contains(['+', '#']) {
        return Err(Error::bad_input("topic_up", format!("'{topic_up}' is a topic to publish to: no '+' or '#'")));
    }
    crate::mqtt::check_filter(&topic_down).map_err(|e| Error::bad_input("topic_down", e.to_string()))?;
    let ca_file = clean(&e.ca_file).map(|p| crate::mqtt::check_readable("ca_file", &p)).transpose()?;
    let config = db::Config { broker_url: e.broker_url.trim().to_string(), gid, sid, username: clean(&e.username), topic_up, topic_down, ca_file, enabled: e.enabled };
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    db::save_config(&tx, &config, now)?;
    let detail = format!("{} at {} ({})", config.gid, config.broker_url, if config.enabled { "enabled" } else { "disabled" });
    store::audit::record_permit(&tx, permit, now, "c806_gateway_save", &detail)?;
    tx.commit()?;
    db::gateway(&conn)
}

/// Import the gateway's certificate and private key from its PFX file and password. The
/// key is kept in the database for the runner, never returned.
pub fn pfx_import(store: &Store, session: &Session, pfx: &[u8], password: &str, now: i64) -> Result<db::Gateway> {
    let permit = session.permit(Permission::Settings)?;
    let read = crypto::read_pfx(pfx, password)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let cred = db::Credentials { chain: read.chain, key: read.key };
    if !db::save_credentials(&tx, &cred, &read.subject, now)? {
        return Err(Error::bad_input("pfx", "save the gateway's settings (broker, GID) before its certificate"));
    }
    store::audit::record_permit(&tx, permit, now, "c806_pfx_import", &format!("certificate {}", read.subject))?;
    tx.commit()?;
    db::gateway(&conn)
}

#[derive(Debug, Clone, Deserialize)]
pub struct SdpEdit {
    #[serde(default)]
    pub id: Option<i64>,
    pub ean: String,
    #[serde(default)]
    pub meter_id: Option<i64>,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

/// An EAN of a delivery point: 18 digits.
pub fn check_ean(ean: &str) -> Result<String> {
    let ean = ean.trim();
    if ean.len() != 18 || !ean.bytes().all(|b| b.is_ascii_digit()) {
        return Err(Error::bad_input("ean", format!("'{ean}' is not an EAN of 18 digits")));
    }
    Ok(ean.to_string())
}

pub fn sdp_list(store: &Store, session: &Session) -> Result<Vec<db::Sdp>> {
    session.permit(Permission::View)?;
    db::sdps(&*store.reader()?)
}

pub fn sdp_save(store: &Store, session: &Session, e: &SdpEdit, now: i64) -> Result<db::Sdp> {
    let permit = session.permit(Permission::Settings)?;
    let ean = check_ean(&e.ean)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if let Some(m) = e.meter_id {
        if !db::meter_exists(&tx, m)? {
            return Err(Error::not_found(format!("meter {m} (for SDP {ean})")));
        }
    }
    if let Some(other) = db::sdp_by_ean(&tx, &ean)? {
        if Some(other) != e.id {
            return Err(Error::bad_input("ean", format!("SDP {ean} is already a delivery point of the gateway")));
        }
    }
    let id = db::save_sdp(&tx, e.id, &ean, e.meter_id, e.enabled)?.ok_or_else(|| Error::not_found(format!("SDP {}", e.id.unwrap_or(0))))?;
    let source = e.meter_id.map_or("a power feed".to_string(), |m| format!("meter {m}"));
    store::audit::record_permit(&tx, permit, now, "c806_sdp_save", &format!("SDP {ean} from {source}"))?;
    tx.commit()?;
    db::sdps(&conn)?.into_iter().find(|s| s.id == id).ok_or_else(|| Error::not_found(format!("SDP {ean}")))
}

pub fn sdp_delete(store: &Store, session: &Session, id: i64, now: i64) -> Result<()> {
    let permit = session.permit(Permission::Settings)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let ean = db::sdps(&tx)?.into_iter().find(|s| s.id == id).map(|s| s.ean).ok_or_else(|| Error::not_found(format!("SDP {id}")))?;
    db::delete_sdp(&tx, id)?;
    store::audit::record_permit(&tx, permit, now, "c806_sdp_delete", &format!("SDP {ean}"))?;
    tx.commit()?;
    Ok(())
}

/// What the BSP's SCADA (or a power feed) gives for one SDP; each field left out keeps its
/// last value. `dpm_mw` is the power feed (for an SDP without a linked meter).
#[derive(Debug, Clone, Deserialize)]
pub struct Setpoints {
    pub ean: String,
    #[serde(default)]
    pub dpm_mw: Option<f64>,
    #[serde(default)]
    pub dpb_mw: Option<f64>,
    #[serde(default)]
    pub afrr_active: Option<bool>,
    #[serde(default)]
    pub ps_mw: Option<f64>,
}

/// The largest power a value may give (MW): beyond, a unit mistake (W or kW sent as MW).
pub const MAX_MW: f64 = 10_000.0;

pub fn setpoints(store: &Store, session: &Session, s: &Setpoints, now: i64) -> Result<db::Sdp> {
    let permit = session.permit(Permission::Import)?;
    let ean = check_ean(&s.ean)?;
    for (field, v) in [("dpm_mw", s.dpm_mw), ("dpb_mw", s.dpb_mw), ("ps_mw", s.ps_mw)] {
        if let Some(v) = v {
            if !v.is_finite() || v.abs() > MAX_MW {
                return Err(Error::bad_input(field, format!("{v} MW for SDP {ean} is not a power from -{MAX_MW} to {MAX_MW} MW")));
            }
        }
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if !db::set_setpoints(&tx, &ean, s.dpm_mw, s.dpb_mw, s.afrr_active, s.ps_mw, now)? {
        return Err(Error::not_found(format!("SDP {ean}")));
    }
    let fmt = |v: Option<f64>| v.map_or("-".to_string(), |v| v.to_string());
    let detail = format!("SDP {ean}: DPM {} DPB {} AS {} PS {}", fmt(s.dpm_mw), fmt(s.dpb_mw), s.afrr_active.map_or("-".into(), |a| (a as u8).to_string()), fmt(s.ps_mw));
    store::audit::record_permit(&tx, permit, now, "c806_setpoints", &detail)?;
    tx.commit()?;
    db::sdps(&conn)?.into_iter().find(|x| x.ean == ean).ok_or_else(|| Error::not_found(format!("SDP {ean}")))
}

/// A key as the screen shows it (never its bytes).
#[derive(Debug, Clone, Serialize)]
pub struct KeyInfo {
    pub version: i64,
    pub valid_from: i64,
    pub valid_to: i64,
    pub current: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct Status {
    pub gateway: db::Gateway,
    pub keys: Vec<KeyInfo>,
    pub buffered: i64,
    pub buffered_oldest: Option<i64>,
    pub last_sent_at: Option<i64>,
    pub last_sent_mts: Option<i64>,
    pub heartbeats: Vec<db::Heartbeat>,
    pub sdps: Vec<SdpStatus>,
}

/// An SDP with the DPM the next slot would send and the time of its measure (Unix s): the
/// linked meter's latest P+ and P- readings, or the power feed; None: nothing to send.
#[derive(Debug, Clone, Serialize)]
pub struct SdpStatus {
    #[serde(flatten)]
    pub sdp: db::Sdp,
    pub dpm_mw: Option<f64>,
    pub dpm_at: Option<i64>,
}

/// What DPM an SDP gives now (MW) and since when (Unix s).
pub fn dpm(conn: &rusqlite::Connection, s: &db::Sdp) -> Result<Option<(f64, i64)>> {
    Ok(match s.meter_id {
        Some(m) => match db::latest_power(conn, m)? {
            (None, None) => None,
            (plus, minus) => {
                let at = plus.map_or(i64::MIN, |p| p.1).max(minus.map_or(i64::MIN, |p| p.1));
                Some(((plus.map_or(0.0, |p| p.0) - minus.map_or(0.0, |p| p.0)) / 1e6, at))
            }
        },
        None => s.feed_mw.map(|v| (v, s.feed_at.unwrap_or(0))),
    })
}

pub fn status(store: &Store, session: &Session, now: i64) -> Result<Status> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let keys = db::keys(&conn)?;
    let current = message::current_key(&keys, now * 1000).map(|k| k.version);
    let (buffered, buffered_oldest) = db::buffered(&conn)?;
    let last = db::last_sent(&conn)?;
    Ok(Status {
        gateway: db::gateway(&conn)?,
        keys: keys.iter().rev().map(|k| KeyInfo { version: k.version, valid_from: k.valid_from, valid_to: k.valid_to, current: Some(k.version) == current }).collect(),
        buffered,
        buffered_oldest,
        last_sent_at: last.map(|l| l.0),
        last_sent_mts: last.map(|l| l.1),
        heartbeats: db::heartbeats(&conn, 20)?,
        sdps: db::sdps(&conn)?
            .into_iter()
            .map(|sdp| {
                let now = dpm(&conn, &sdp)?;
                Ok(SdpStatus { sdp, dpm_mw: now.map(|d| d.0), dpm_at: now.map(|d| d.1) })
            })
            .collect::<Result<_>>()?,
    })
}

/// A fallback file (C8/06 4.1.3.4): the 4-second values of the SDPs from `from` to `to`
/// (Unix s, within the last 90 days), CSV with the aFRR message's fields and times both in
/// ticks and in UTC.
pub fn fallback(store: &Store, session: &Session, from: i64, to: i64, now: i64) -> Result<String> {
    session.permit(Permission::Export)?;
    if to < from {
        return Err(Error::bad_input("to", "the end comes before the start"));
    }
    if from < now - KEEP_DAYS * 86_400 {
        return Err(Error::bad_input("from", format!("fallback files cover the last {KEEP_DAYS} days only")));
    }
    let values = db::values_between(&*store.reader()?, from * 1000, to * 1000)?;
    let mut out = String::from("SDP;MTS;MTS_UTC;DPM;DPB;AS;PS;SENT\r\n");
    for v in values {
        let utc = chrono::DateTime::from_timestamp_millis(v.mts).map(|t| t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()).unwrap_or_default();
        out.push_str(&format!("{};{};{};{};{};{};{};{}\r\n", v.sdp, message::ticks(v.mts), utc, v.dpm, v.dpb, v.afrr, v.ps, if v.sent_at.is_some() { 1 } else { 0 }));
    }
    Ok(out)
}
