//! The C8/06 gateway's tables (migration 0023): its configuration and certificate, its
//! delivery points, the keys received, the 4-second values (the unsent ones are the outgoing
//! buffer) and the heartbeats. Times in Unix milliseconds unless named `_s`.

use crate::error::Result;
use crate::model::Register;
use rusqlite::{params, Connection, OptionalExtension};
use serde::{Deserialize, Serialize};

/// The gateway's configuration as the screen shows it (never the private key).
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct Config {
    pub broker_url: String,
    pub gid: String,
    pub sid: String,
    pub username: Option<String>,
    pub topic_up: String,
    pub topic_down: String,
    pub ca_file: Option<String>,
    pub enabled: bool,
}

/// What the screen shows of the gateway besides its configuration.
#[derive(Debug, Clone, Serialize, Default)]
pub struct Gateway {
    pub config: Option<Config>,
    pub cert_subject: Option<String>,
    pub cert_imported_at: Option<i64>,
    pub has_private_key: bool,
    pub state: String,
    pub state_code: Option<String>,
    pub state_message: Option<String>,
    pub state_at: Option<i64>,
    pub key_error: Option<String>,
    pub key_error_at: Option<i64>,
    pub clock_sync_at: Option<i64>,
}

/// A reading's value and time (Unix s).
pub type Timed = (f64, i64);

/// The runner's credentials: certificate chain (DER) and PKCS#8 private key.
pub struct Credentials {
    pub chain: Vec<Vec<u8>>,
    pub key: Vec<u8>,
}

pub fn gateway(conn: &Connection) -> Result<Gateway> {
    let row = conn
        .query_row(
            "SELECT broker_url, gid, sid, username, topic_up, topic_down, ca_file, enabled, cert_subject, cert_imported_at,
                    private_key IS NOT NULL, state, state_code, state_message, state_at, key_error, key_error_at, clock_sync_at
             FROM c806_gateway WHERE id = 1",
            [],
            |r| {
                Ok(Gateway {
                    config: Some(Config {
                        broker_url: r.get(0)?,
                        gid: r.get(1)?,
                        sid: r.get(2)?,
                        username: r.get(3)?,
                        topic_up: r.get(4)?,
                        topic_down: r.get(5)?,
                        ca_file: r.get(6)?,
                        enabled: r.get(7)?,
                    }),
                    cert_subject: r.get(8)?,
                    cert_imported_at: r.get(9)?,
                    has_private_key: r.get(10)?,
                    state: r.get(11)?,
                    state_code: r.get(12)?,
                    state_message: r.get(13)?,
                    state_at: r.get(14)?,
                    key_error: r.get(15)?,
                    key_error_at: r.get(16)?,
                    clock_sync_at: r.get(17)?,
                })
            },
        )
        .optional()?;
    Ok(row.unwrap_or_else(|| Gateway { state: "unconfigured".into(), ..Gateway::default() }))
}

pub fn save_config(conn: &Connection, c: &Config, now_s: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO c806_gateway(id, broker_url, gid, sid, username, topic_up, topic_down, ca_file, enabled, updated_at)
         VALUES (1, ?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)
         ON CONFLICT(id) DO UPDATE SET broker_url = ?1, gid = ?2, sid = ?3, username = ?4, topic_up = ?5, topic_down = ?6,
             ca_file = ?7, enabled = ?8, updated_at = ?9",
        params![c.broker_url, c.gid, c.sid, c.username, c.topic_up, c.topic_down, c.ca_file, c.enabled, now_s],
    )?;
    Ok(())
}

/// Store the imported certificate; false when no gateway is configured yet.
pub fn save_credentials(conn: &Connection, cred: &Credentials, subject: &str, now_s: i64) -> Result<bool> {
    let mut chain = Vec::new();
    for c in &cred.chain {
        chain.extend_from_slice(&(c.len() as u32).to_be_bytes());
        chain.extend_from_slice(c);
    }
    let n = conn.execute(
        "UPDATE c806_gateway SET cert_chain = ?1, private_key = ?2, cert_subject = ?3, cert_imported_at = ?4, updated_at = ?4 WHERE id = 1",
        params![chain, cred.key, subject, now_s],
    )?;
    Ok(n == 1)
}

pub fn credentials(conn: &Connection) -> Result<Option<Credentials>> {
    let row = conn
        .query_row("SELECT cert_chain, private_key FROM c806_gateway WHERE id = 1", [], |r| Ok((r.get::<_, Option<Vec<u8>>>(0)?, r.get::<_, Option<Vec<u8>>>(1)?)))
        .optional()?;
    let Some((Some(blob), Some(key))) = row else { return Ok(None) };
    let mut chain = Vec::new();
    let mut rest = blob.as_slice();
    while rest.len() >= 4 {
        let n = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        if rest.len() < 4 + n {
            break;
        }
        chain.push(rest[4..4 + n].to_vec());
        rest = &rest[4 + n..];
    }
    Ok(Some(Credentials { chain, key }))
}

pub fn set_state(conn: &Connection, state: &str, why: Option<(&str, &str)>, now_s: i64) -> Result<()> {
    conn.execute(
        "UPDATE c806_gateway SET state = ?1, state_code = ?2, state_message = ?3, state_at = ?4 WHERE id = 1",
        params![state, why.map(|w| w.0), why.map(|w| w.1), now_s],
    )?;
    Ok(())
}

/// Claim (or keep) the right to run the gateway for `me`: true when no other runner said so
/// within `lease_ms`.
pub fn claim_runner(conn: &Connection, me: &str, now_ms: i64, lease_ms: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE c806_gateway SET runner = ?1, runner_at = ?2 WHERE id = 1 AND (runner IS NULL OR runner = ?1 OR runner_at < ?2 - ?3)",
        params![me, now_ms, lease_ms],
    )?;
    Ok(n == 1)
}

/// Give the gateway up (a runner stopping).
pub fn release_runner(conn: &Connection, me: &str) -> Result<()> {
    conn.execute("UPDATE c806_gateway SET runner = NULL, runner_at = NULL WHERE id = 1 AND runner = ?1", [me])?;
    Ok(())
}

pub fn set_key_error(conn: &Connection, message: Option<&str>, now_s: i64) -> Result<()> {
    conn.execute("UPDATE c806_gateway SET key_error = ?1, key_error_at = ?2 WHERE id = 1", params![message, message.map(|_| now_s)])?;
    Ok(())
}

pub fn set_clock_sync(conn: &Connection, now_s: i64) -> Result<()> {
    conn.execute("UPDATE c806_gateway SET clock_sync_at = ?1 WHERE id = 1", [now_s])?;
    Ok(())
}

/// A delivery point: its EAN, where DPM comes from, and the SCADA's last set-points.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct Sdp {
    pub id: i64,
    pub ean: String,
    pub meter_id: Option<i64>,
    pub meter_serial: Option<String>,
    pub enabled: bool,
    pub feed_mw: Option<f64>,
    pub feed_at: Option<i64>,
    pub dpb_mw: Option<f64>,
    pub afrr_active: Option<bool>,
    pub ps_mw: Option<f64>,
    pub setpoints_at: Option<i64>,
}

pub fn sdps(conn: &Connection) -> Result<Vec<Sdp>> {
    let mut st = conn.prepare(
        "SELECT s.id, s.ean, s.meter_id, m.serial, s.enabled, s.feed_mw, s.feed_at, s.dpb_mw, s.afrr_active, s.ps_mw, s.setpoints_at
         FROM c806_sdps s LEFT JOIN meters m ON m.id = s.meter_id ORDER BY s.ean",
    )?;
    let rows = st.query_map([], |r| {
        Ok(Sdp {
            id: r.get(0)?,
            ean: r.get(1)?,
            meter_id: r.get(2)?,
            meter_serial: r.get(3)?,
            enabled: r.get(4)?,
            feed_mw: r.get(5)?,
            feed_at: r.get(6)?,
            dpb_mw: r.get(7)?,
            afrr_active: r.get(8)?,
            ps_mw: r.get(9)?,
            setpoints_at: r.get(10)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Insert (id None) or update an SDP; its id.
pub fn save_sdp(conn: &Connection, id: Option<i64>, ean: &str, meter_id: Option<i64>, enabled: bool) -> Result<Option<i64>> {
    match id {
        None => {
            conn.execute("INSERT INTO c806_sdps(ean, meter_id, enabled) VALUES (?1, ?2, ?3)", params![ean, meter_id, enabled])?;
            Ok(Some(conn.last_insert_rowid()))
        }
        Some(id) => {
            let n = conn.execute("UPDATE c806_sdps SET ean = ?2, meter_id = ?3, enabled = ?4 WHERE id = ?1", params![id, ean, meter_id, enabled])?;
            Ok((n == 1).then_some(id))
        }
    }
}

pub fn delete_sdp(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM c806_sdps WHERE id = ?1", [id])? == 1)
}

pub fn sdp_by_ean(conn: &Connection, ean: &str) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT id FROM c806_sdps WHERE ean = ?1", [ean], |r| r.get(0)).optional()?)
}

pub fn meter_exists(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.query_row("SELECT EXISTS(SELECT 1 FROM meters WHERE id = ?1)", [id], |r| r.get(0))?)
}

/// Set what the SCADA gives (each None leaves the value as it was); false: no such SDP.
pub fn set_setpoints(conn: &Connection, ean: &str, feed_mw: Option<f64>, dpb: Option<f64>, active: Option<bool>, ps: Option<f64>, now_s: i64) -> Result<bool> {
    let n = conn.execute(
        "UPDATE c806_sdps SET
             feed_mw = COALESCE(?2, feed_mw), feed_at = CASE WHEN ?2 IS NULL THEN feed_at ELSE ?6 END,
             dpb_mw = COALESCE(?3, dpb_mw), afrr_active = COALESCE(?4, afrr_active), ps_mw = COALESCE(?5, ps_mw),
             setpoints_at = CASE WHEN ?3 IS NULL AND ?4 IS NULL AND ?5 IS NULL THEN setpoints_at ELSE ?6 END
         WHERE ean = ?1",
        params![ean, feed_mw, dpb, active, ps, now_s],
    )?;
    Ok(n == 1)
}

/// A meter's latest P+ and P- (W) with their times (Unix s).
pub fn latest_power(conn: &Connection, meter_id: i64) -> Result<(Option<Timed>, Option<Timed>)> {
    let one = |reg: Register| -> Result<Option<Timed>> {
        Ok(conn
            .query_row(
                "SELECT value, ts FROM readings WHERE meter_id = ?1 AND register = ?2 ORDER BY ts DESC LIMIT 1",
                params![meter_id, reg.code()],
                |r| Ok((r.get(0)?, r.get(1)?)),
            )
            .optional()?)
    };
    Ok((one(Register::PPlus)?, one(Register::PMinus)?))
}

/// A key received from the platform (times in Unix ms).
#[derive(Debug, Clone, PartialEq)]
pub struct Key {
    pub version: i64,
    pub mt: String,
    pub key: [u8; 16],
    pub key_type: String,
    pub valid_from: i64,
    pub valid_to: i64,
}

pub fn save_key(conn: &Connection, k: &Key, now_ms: i64) -> Result<()> {
    conn.execute(
        "INSERT OR REPLACE INTO c806_keys(version, mt, key, key_type, valid_from, valid_to, received_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
        params![k.version, k.mt, k.key.to_vec(), k.key_type, k.valid_from, k.valid_to, now_ms],
    )?;
    // Keys ended more than a week ago are of no use any more.
    conn.execute("DELETE FROM c806_keys WHERE valid_to < ?1", [now_ms - 7 * 86_400_000])?;
    Ok(())
}

pub fn keys(conn: &Connection) -> Result<Vec<Key>> {
    let mut st = conn.prepare("SELECT version, mt, key, key_type, valid_from, valid_to FROM c806_keys ORDER BY valid_from, version")?;
    let rows = st.query_map([], |r| {
        let bytes: Vec<u8> = r.get(2)?;
        let mut key = [0u8; 16];
        if bytes.len() == 16 {
            key.copy_from_slice(&bytes);
        }
        Ok(Key { version: r.get(0)?, mt: r.get(1)?, key, key_type: r.get(3)?, valid_from: r.get(4)?, valid_to: r.get(5)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// One 4-second value of one SDP.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Value {
    pub seq: i64,
    pub sdp: String,
    pub mts: i64,
    pub dpm: f64,
    pub dpb: f64,
    pub afrr: i64,
    pub ps: f64,
    pub sent_at: Option<i64>,
}

/// Store a slot's values (a slot already stored is kept as it was).
pub fn add_values(conn: &Connection, values: &[Value]) -> Result<()> {
    let mut st = conn.prepare_cached("INSERT OR IGNORE INTO c806_values(sdp, mts, dpm, dpb, afrr, ps) VALUES (?1, ?2, ?3, ?4, ?5, ?6)")?;
    for v in values {
        st.execute(params![v.sdp, v.mts, v.dpm, v.dpb, v.afrr, v.ps])?;
    }
    Ok(())
}

/// The oldest unsent values, in order (at most `limit`).
pub fn unsent(conn: &Connection, limit: usize) -> Result<Vec<Value>> {
    let mut st = conn.prepare_cached(
        "SELECT seq, sdp, mts, dpm, dpb, afrr, ps, sent_at FROM c806_values WHERE sent_at IS NULL ORDER BY seq LIMIT ?1",
    )?;
    let rows = st.query_map([limit as i64], value_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn value_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Value> {
    Ok(Value { seq: r.get(0)?, sdp: r.get(1)?, mts: r.get(2)?, dpm: r.get(3)?, dpb: r.get(4)?, afrr: r.get(5)?, ps: r.get(6)?, sent_at: r.get(7)? })
}

/// The count and oldest slot of the outgoing buffer.
pub fn buffered(conn: &Connection) -> Result<(i64, Option<i64>)> {
    Ok(conn.query_row("SELECT COUNT(*), MIN(mts) FROM c806_values WHERE sent_at IS NULL", [], |r| Ok((r.get(0)?, r.get(1)?)))?)
}

pub fn mark_sent(conn: &Connection, seqs: &[i64], at_ms: i64) -> Result<()> {
    let mut st = conn.prepare_cached("UPDATE c806_values SET sent_at = ?2 WHERE seq = ?1")?;
    for s in seqs {
        st.execute(params![s, at_ms])?;
    }
    Ok(())
}

/// The last value sent (Unix ms of its sending and of its slot).
pub fn last_sent(conn: &Connection) -> Result<Option<(i64, i64)>> {
    Ok(conn.query_row("SELECT sent_at, mts FROM c806_values WHERE sent_at IS NOT NULL ORDER BY sent_at DESC, seq DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?))).optional()?)
}

/// Values (sent or not) of slots from `from` to `to` (Unix ms, inclusive), for a fallback file.
pub fn values_between(conn: &Connection, from: i64, to: i64) -> Result<Vec<Value>> {
    let mut st = conn.prepare("SELECT seq, sdp, mts, dpm, dpb, afrr, ps, sent_at FROM c806_values WHERE mts BETWEEN ?1 AND ?2 ORDER BY mts, sdp")?;
    let rows = st.query_map([from, to], value_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Forget values of slots older than `before` (Unix ms), sent or not (the fallback window).
pub fn prune(conn: &Connection, before: i64) -> Result<usize> {
    Ok(conn.execute("DELETE FROM c806_values WHERE mts < ?1", [before])?)
}

#[derive(Debug, Clone, Serialize)]
pub struct Heartbeat {
    pub mid: i64,
    pub received_at: i64,
    pub ts_asked: bool,
    pub gwv_asked: bool,
    pub answered_at: Option<i64>,
}

pub fn add_heartbeat(conn: &Connection, h: &Heartbeat) -> Result<()> {
    conn.execute(
        "INSERT INTO c806_heartbeats(mid, received_at, ts_asked, gwv_asked, answered_at) VALUES (?1, ?2, ?3, ?4, ?5)",
        params![h.mid, h.received_at, h.ts_asked, h.gwv_asked, h.answered_at],
    )?;
    conn.execute("DELETE FROM c806_heartbeats WHERE received_at < ?1", [h.received_at - 30 * 86_400_000])?;
    Ok(())
}

pub fn heartbeats(conn: &Connection, limit: usize) -> Result<Vec<Heartbeat>> {
    let mut st = conn.prepare("SELECT mid, received_at, ts_asked, gwv_asked, answered_at FROM c806_heartbeats ORDER BY id DESC LIMIT ?1")?;
    let rows = st.query_map([limit as i64], |r| {
        Ok(Heartbeat { mid: r.get(0)?, received_at: r.get(1)?, ts_asked: r.get(2)?, gwv_asked: r.get(3)?, answered_at: r.get(4)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The answer to the latest heartbeat `mid` left at `at_ms`.
pub fn set_answered(conn: &Connection, mid: i64, at_ms: i64) -> Result<()> {
    conn.execute("UPDATE c806_heartbeats SET answered_at = ?2 WHERE id = (SELECT MAX(id) FROM c806_heartbeats WHERE mid = ?1)", params![mid, at_ms])?;
    Ok(())
}
