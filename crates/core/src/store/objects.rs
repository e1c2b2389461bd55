//! Table `lorawan_devices` as the connected-object count reads it: the objects in service
//! during a period (by commissioning dates), the registry's page for the screens, and one
//! writer of a device (demo and tests; the registry's CSV import has its own).

use crate::error::Result;
use rusqlite::{params, Connection};

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

/// The ingest's counters of a device, set as they would be after `uplinks` uplinks, the last at
/// `last_uplink` (demo only: the ingest counts real ones).
pub fn set_uplinks(conn: &Connection, dev_eui: &str, uplinks: i64, last_uplink: Option<i64>) -> Result<()> {
    conn.execute(
        "UPDATE lorawan_devices SET uplinks = ?2, last_uplink = ?3 WHERE dev_eui = ?1",
        params![dev_eui, uplinks, last_uplink],
    )?;
    Ok(())
}
