//! Table `lorawan_devices` as the connected-object count reads it: the objects in service
//! during a period (by commissioning dates), the registry's page for the screens, and one
//! writer of a device (demo and tests; the registry's CSV import has its own).

use crate::error::Result;
use rusqlite::{params, Connection};
use serde::Serialize;

/// An object of the registry as the yearly count lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CountedObject {
    pub dev_eui: String,
    pub brand: String,
    pub model: String,
    pub address: String,
    pub city: String,
    /// `YYYY-MM-DD`.
    pub commissioned: String,
    pub decommissioned: Option<String>,
}

/// The objects in service at some time between the days `first` and `last` (`YYYY-MM-DD`,
/// both included): commissioned on or before `last`, not decommissioned before `first`.
/// In no particular order.
pub fn in_service(conn: &Connection, first: &str, last: &str) -> Result<Vec<CountedObject>> {
    let mut stmt = conn.prepare(
        "SELECT dev_eui, brand, model, address, city, commissioned, decommissioned FROM lorawan_devices
         WHERE commissioned IS NOT NULL AND commissioned <= ?2
           AND (decommissioned IS NULL OR decommissioned >= ?1)",
    )?;
    let rows = stmt.query_map(params![first, last], |r| {
        Ok(CountedObject {
            dev_eui: r.get(0)?,
            brand: r.get(1)?,
            model: r.get(2)?,
            address: r.get(3)?,
            city: r.get(4)?,
            commissioned: r.get(5)?,
            decommissioned: r.get(6)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// How many objects of the registry have no commissioning date (not counted in any year).
pub fn undated(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM lorawan_devices WHERE commissioned IS NULL", [], |r| r.get(0))?)
}

/// A row of the registry's list.
#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct DeviceRow {
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
    pub last_uplink: Option<i64>,
    pub uplinks: i64,
}

const FILTER: &str = "(?1 IS NULL OR dev_eui LIKE ?1 ESCAPE '\\' OR serial LIKE ?1 ESCAPE '\\'
     OR brand LIKE ?1 ESCAPE '\\' OR model LIKE ?1 ESCAPE '\\' OR address LIKE ?1 ESCAPE '\\'
     OR city LIKE ?1 ESCAPE '\\')";

/// One page of the registry, by DevEUI, whose DevEUI, serial, brand, model, address or
/// commune contains `filter` (case-insensitive for ASCII); and how many match in all.
pub fn list(conn: &Connection, filter: Option<&str>, offset: i64, limit: i64) -> Result<(i64, Vec<DeviceRow>)> {
    let pattern = filter.map(str::trim).filter(|f| !f.is_empty()).map(|f| format!("%{}%", super::meters::like_literal(f)));
    let total: i64 =
        conn.query_row(&format!("SELECT count(*) FROM lorawan_devices WHERE {FILTER}"), params![pattern], |r| r.get(0))?;
    let mut stmt = conn.prepare(&format!(
        "SELECT dev_eui, serial, manufacturer, brand, model, payload, address, city, commissioned, decommissioned,
                last_uplink, uplinks
         FROM lorawan_devices WHERE {FILTER} ORDER BY dev_eui LIMIT ?2 OFFSET ?3"
    ))?;
    let rows = stmt.query_map(params![pattern, limit, offset], |r| {
        Ok(DeviceRow {
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
            last_uplink: r.get(10)?,
            uplinks: r.get(11)?,
        })
    })?;
    Ok((total, rows.collect::<rusqlite::Result<_>>()?))
}

/// A device as written by [`upsert_device`].
#[derive(Debug, Clone, Default)]
pub struct NewDevice<'a> {
    pub dev_eui: &'a str,
    pub serial: &'a str,
    pub manufacturer: &'a str,
    pub brand: &'a str,
    pub model: &'a str,
    /// `wmbus-app`, `wmbus-lobaro` or `raw`.
    pub payload: &'a str,
    pub address: &'a str,
    pub city: &'a str,
    pub commissioned: Option<&'a str>,
    pub decommissioned: Option<&'a str>,
}

/// Add a device, or replace the registry's fields of the one with its DevEUI (what the
/// ingest keeps, last uplink and counts, stays).
pub fn upsert_device(conn: &Connection, d: &NewDevice<'_>, now: i64) -> Result<()> {
    conn.prepare_cached(
        "INSERT INTO lorawan_devices(dev_eui, serial, manufacturer, brand, model, payload, address, city,
             commissioned, decommissioned, created_at, updated_at)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11, ?11)
         ON CONFLICT(dev_eui) DO UPDATE SET serial = excluded.serial, manufacturer = excluded.manufacturer,
             brand = excluded.brand, model = excluded.model, payload = excluded.payload,
             address = excluded.address, city = excluded.city, commissioned = excluded.commissioned,
             decommissioned = excluded.decommissioned, updated_at = excluded.updated_at",
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
    Ok(())
}

/// The ingest's counters of a device, set as they would be after `uplinks` uplinks, the last at
/// `last_uplink` (demo only: the ingest counts real ones).
pub fn set_uplinks(conn: &Connection, dev_eui: &str, uplinks: i64, last_uplink: Option<i64>) -> Result<()> {
    conn.execute(
        "UPDATE lorawan_devices SET uplinks = ?2, last_uplink = ?3 WHERE dev_eui = ?1",
        params![dev_eui, uplinks, last_uplink],
    )?;
    Ok(())
}
