//! Tables `gateways`, `receptions` and `gateway_meters`: who heard which telegram.

use crate::error::Result;
use rusqlite::{params, Connection};

/// A gateway delivered frames heard up to `at`: its id (made when it is new); its last
/// contact moves forward and a silence alarm ends.
pub fn contact(conn: &Connection, name: &str, kind: &str, at: i64, source: Option<i64>) -> Result<i64> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO gateways(name, kind, first_contact, last_contact, last_source) VALUES (?1, ?2, ?3, ?3, ?4)
         ON CONFLICT(name) DO UPDATE SET last_contact = max(last_contact, excluded.last_contact),
             last_source = coalesce(excluded.last_source, last_source), silent_since = NULL
         RETURNING id",
    )?;
    Ok(stmt.query_row(params![name, kind, at, source], |r| r.get(0))?)
}

/// One gateway's reception of a stored telegram.
#[derive(Debug, Clone, Copy)]
pub struct Reception {
    pub meter_id: i64,
    pub telegram_id: i64,
    pub gateway_id: i64,
    pub received_at: i64,
    pub rssi: Option<i64>,
    pub snr: Option<f64>,
    pub source_id: Option<i64>,
}

/// Keep a reception (false: this gateway's reception of that telegram was already kept, a
/// retried delivery) and what the gateway hears of the meter.
pub fn receive(conn: &Connection, r: &Reception) -> Result<bool> {
    let mut insert = conn.prepare_cached(
        "INSERT OR IGNORE INTO receptions(meter_id, telegram_id, gateway_id, received_at, rssi, snr, source_id)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7)",
    )?;
    if insert.execute(params![r.meter_id, r.telegram_id, r.gateway_id, r.received_at, r.rssi, r.snr, r.source_id])? == 0 {
        return Ok(false);
    }
    let mut heard = conn.prepare_cached(
        "INSERT INTO gateway_meters(gateway_id, meter_id, first_heard, last_heard, receptions, best_rssi, last_rssi, last_snr)
         VALUES (?1, ?2, ?3, ?3, 1, ?4, ?4, ?5)
         ON CONFLICT(gateway_id, meter_id) DO UPDATE SET
             receptions = receptions + 1,
             first_heard = min(first_heard, excluded.first_heard),
             best_rssi = CASE WHEN best_rssi IS NULL OR excluded.best_rssi > best_rssi THEN excluded.best_rssi ELSE best_rssi END,
             last_rssi = CASE WHEN excluded.last_heard >= last_heard THEN excluded.last_rssi ELSE last_rssi END,
             last_snr = CASE WHEN excluded.last_heard >= last_heard THEN excluded.last_snr ELSE last_snr END,
             last_heard = max(last_heard, excluded.last_heard)",
    )?;
    heard.execute(params![r.gateway_id, r.meter_id, r.received_at, r.rssi, r.snr])?;
    Ok(true)
}
