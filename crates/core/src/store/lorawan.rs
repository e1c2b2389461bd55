//! Tables `lorawan_devices` (the registry of LoRaWAN objects, by DevEUI), `lorawan_uplinks`
//! (uplinks that gave no telegram: unknown devices, raw payloads, bridge status, dropped
//! telegrams) and `lorawan_fragments` (parts of telegrams waiting for the rest; a whole
//! telegram's parts stay until the device moves on, so a retried part finds them).

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::Serialize;

/// A registered LoRaWAN object.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Device {
    pub dev_eui: String,
    pub serial: String,
    pub manufacturer: String,
    pub brand: String,
    pub model: String,
    pub payload: String,
    pub address: String,
    pub city: String,
    /// YYYY-MM-DD.
    pub commissioned: Option<String>,
    pub decommissioned: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
    pub last_uplink: Option<i64>,
    pub last_f_cnt: Option<i64>,
    pub uplinks: i64,
}

/// A device as written by a clerk (the ingest's columns are left alone).
#[derive(Debug, Clone, PartialEq, Default)]
pub struct NewDevice {
    pub dev_eui: String,
    pub serial: String,
    pub manufacturer: String,
    pub brand: String,
    pub model: String,
    pub payload: String,
    pub address: String,
    pub city: String,
    pub commissioned: Option<String>,
    pub decommissioned: Option<String>,
}

const COLUMNS: &str = "dev_eui, serial, manufacturer, brand, model, payload, address, city, commissioned, decommissioned,
    created_at, updated_at, last_uplink, last_f_cnt, uplinks";

fn device(r: &Row<'_>) -> rusqlite::Result<Device> {
    Ok(Device {
        dev_eui: r.get(0)?,
        serial: r.get(1)?,
        manufacturer: r.get(2)?,
        brand: r.get(3)?,
        model: r.get(4)?,
        payload: r.get(5)?,
        address: r.get(6)?,
        city: r.get(7)?,
        commissioned: r.get(8)?,
        decommissioned: r.get(9)?,
        created_at: r.get(10)?,
        updated_at: r.get(11)?,
        last_uplink: r.get(12)?,
        last_f_cnt: r.get(13)?,
        uplinks: r.get(14)?,
    })
}

/// The device of `dev_eui` (upper case).
pub fn get(conn: &Connection, dev_eui: &str) -> Result<Option<Device>> {
    let sql = format!("SELECT {COLUMNS} FROM lorawan_devices WHERE dev_eui = ?1");
    Ok(conn.prepare_cached(&sql)?.query_row([dev_eui], device).optional()?)
}

/// Which devices a list shows.
#[derive(Debug, Clone, Default)]
pub struct DeviceQuery<'a> {
    /// Part of the DevEUI, serial, brand, model, address or commune.
    pub search: Option<&'a str>,
    pub payload: Option<&'a str>,
    pub offset: i64,
    pub limit: i64,
}

/// A page of devices by DevEUI, and how many match.
pub fn list(conn: &Connection, q: &DeviceQuery<'_>) -> Result<(i64, Vec<Device>)> {
    let pattern = q.search.map(str::trim).filter(|s| !s.is_empty()).map(|s| format!("%{}%", super::meters::like_literal(s)));
    let filter = "(?1 IS NULL OR dev_eui LIKE ?1 ESCAPE '\\' OR serial LIKE ?1 ESCAPE '\\' OR brand LIKE ?1 ESCAPE '\\'
             OR model LIKE ?1 ESCAPE '\\' OR address LIKE ?1 ESCAPE '\\' OR city LIKE ?1 ESCAPE '\\')
         AND (?2 IS NULL OR payload = ?2)";
    let total: i64 = conn.query_row(&format!("SELECT count(*) FROM lorawan_devices WHERE {filter}"), params![pattern, q.payload], |r| r.get(0))?;
    let sql = format!("SELECT {COLUMNS} FROM lorawan_devices WHERE {filter} ORDER BY dev_eui LIMIT ?3 OFFSET ?4");
    let rows = conn
        .prepare(&sql)?
        .query_map(params![pattern, q.payload, q.limit, q.offset], device)?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((total, rows))
}

/// Every device, by DevEUI (the yearly count of connected objects, the CLI's list).
pub fn all(conn: &Connection) -> Result<Vec<Device>> {
    let sql = format!("SELECT {COLUMNS} FROM lorawan_devices ORDER BY dev_eui");
    let rows = conn.prepare(&sql)?.query_map([], device)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Add or change a device (true: it is new). What the ingest keeps (last uplink, counts)
/// stays.
pub fn upsert(conn: &Connection, d: &NewDevice, now: i64) -> Result<bool> {
    let existed = get(conn, &d.dev_eui)?.is_some();
    conn.prepare_cached(
        "INSERT INTO lorawan_devices(dev_eui, serial, manufacturer, brand, model, payload, address, city, commissioned,
             decommissioned, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
         ON CONFLICT(dev_eui) DO UPDATE SET serial = excluded.serial, manufacturer = excluded.manufacturer,
             brand = excluded.brand, model = excluded.model, payload = excluded.payload, address = excluded.address,
             city = excluded.city, commissioned = excluded.commissioned, decommissioned = excluded.decommissioned,
             updated_at = excluded.updated_at",
    )?
    .execute(params![
        d.dev_eui,
        d.serial,
        d.manufacturer,
        d.brand,
        d.model,
        d.payload,
        d.address,
        d.city,
        d.commissioned,
        d.decommissioned,
        now
    ])?;
    Ok(!existed)
}

/// An uplink of a registered device: its last uplink and fCnt follow the newest, and it is
/// counted unless `counted` is false (a retried delivery).
pub fn heard(conn: &Connection, dev_eui: &str, at: i64, f_cnt: u32, counted: bool) -> Result<()> {
    conn.prepare_cached(
        "UPDATE lorawan_devices SET
             last_f_cnt = CASE WHEN last_uplink IS NULL OR ?2 >= last_uplink THEN ?3 ELSE last_f_cnt END,
             last_uplink = max(coalesce(last_uplink, ?2), ?2),
             uplinks = uplinks + ?4
         WHERE dev_eui = ?1",
    )?
    .execute(params![dev_eui, at, f_cnt, i64::from(counted)])?;
    Ok(())
}

/// An uplink kept because it gave no telegram.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct KeptUplink {
    pub dev_eui: String,
    pub received_at: i64,
    pub f_cnt: u32,
    pub f_port: u8,
    pub source_id: Option<i64>,
    /// `unknown-device`, `raw`, `status` or `dropped`.
    pub outcome: String,
    pub reason: Option<String>,
    #[serde(skip)]
    pub payload: Vec<u8>,
}

/// Keep an uplink (false: it was kept already, a retried delivery).
pub fn keep_uplink(conn: &Connection, u: &KeptUplink) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO lorawan_uplinks(dev_eui, received_at, f_cnt, f_port, source_id, outcome, reason, payload)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        )?
        .execute(params![u.dev_eui, u.received_at, u.f_cnt, u.f_port, u.source_id, u.outcome, u.reason, u.payload])?;
    Ok(n == 1)
}

/// Which kept uplinks a list shows (newest first).
#[derive(Debug, Clone, Default)]
pub struct UplinkQuery<'a> {
    pub outcome: Option<&'a str>,
    pub dev_eui: Option<&'a str>,
    pub offset: i64,
    pub limit: i64,
}

pub fn uplinks(conn: &Connection, q: &UplinkQuery<'_>) -> Result<(i64, Vec<KeptUplink>)> {
    let filter = "(?1 IS NULL OR outcome = ?1) AND (?2 IS NULL OR dev_eui = ?2)";
    let total: i64 = conn.query_row(&format!("SELECT count(*) FROM lorawan_uplinks WHERE {filter}"), params![q.outcome, q.dev_eui], |r| r.get(0))?;
    let sql = format!(
        "SELECT dev_eui, received_at, f_cnt, f_port, source_id, outcome, reason, payload FROM lorawan_uplinks
         WHERE {filter} ORDER BY received_at DESC, dev_eui LIMIT ?3 OFFSET ?4"
    );
    let rows = conn
        .prepare(&sql)?
        .query_map(params![q.outcome, q.dev_eui, q.limit, q.offset], |r| {
            Ok(KeptUplink {
                dev_eui: r.get(0)?,
                received_at: r.get(1)?,
                f_cnt: r.get(2)?,
                f_port: r.get(3)?,
                source_id: r.get(4)?,
                outcome: r.get(5)?,
                reason: r.get(6)?,
                payload: r.get(7)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok((total, rows))
}

/// The parts of `dev_eui` waiting, in fCnt order.
pub fn fragments(conn: &Connection, dev_eui: &str) -> Result<Vec<crate::lorawan::fragments::Part>> {
    let rows = conn
        .prepare_cached("SELECT f_cnt, f_port, received_at, data FROM lorawan_fragments WHERE dev_eui = ?1 ORDER BY f_cnt")?
        .query_map([dev_eui], |r| {
            Ok(crate::lorawan::fragments::Part { f_cnt: r.get(0)?, f_port: r.get(1)?, received_at: r.get(2)?, data: r.get(3)? })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Keep a part (false: a part of that fCnt is kept already, a retried delivery).
pub fn add_fragment(conn: &Connection, dev_eui: &str, p: &crate::lorawan::fragments::Part) -> Result<bool> {
    let n = conn
        .prepare_cached(
            "INSERT OR IGNORE INTO lorawan_fragments(dev_eui, f_cnt, f_port, received_at, data) VALUES (?1, ?2, ?3, ?4, ?5)",
        )?
        .execute(params![dev_eui, p.f_cnt, p.f_port, p.received_at, p.data])?;
    Ok(n == 1)
}

pub fn forget_fragments(conn: &Connection, dev_eui: &str, f_cnts: &[u32]) -> Result<()> {
    let mut stmt = conn.prepare_cached("DELETE FROM lorawan_fragments WHERE dev_eui = ?1 AND f_cnt = ?2")?;
    for f in f_cnts {
        stmt.execute(params![dev_eui, f])?;
    }
    Ok(())
}

/// The version and device type (code) of the park's meter `serial`: of `manufacturer`'s, else
/// of the only meter with that serial. (manufacturer, version, device type name).
pub fn park_identity(conn: &Connection, serial: &str, manufacturer: &str) -> Result<Option<(String, i64, String)>> {
    let exact = conn
        .prepare_cached("SELECT manufacturer, version, device_type FROM meters WHERE serial = ?1 AND manufacturer = ?2")?
        .query_row([serial, manufacturer], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .optional()?;
    if exact.is_some() {
        return Ok(exact);
    }
    let mut stmt = conn.prepare_cached("SELECT manufacturer, version, device_type FROM meters WHERE serial = ?1 LIMIT 2")?;
    let found = stmt.query_map([serial], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(if found.len() == 1 { found.into_iter().next() } else { None })
}
