//! Tables `mbus_buses`, `mbus_bus_meters` and `mbus_scans`: the wired M-Bus buses Relevé
//! reads as the master, their meters with their last answers, and each bus's last scan.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension, Row};
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Bus {
    pub id: i64,
    pub name: String,
    /// `serial` or `tcp`.
    pub transport: String,
    /// The serial device, or host:port.
    pub target: String,
    pub baud: u32,
    pub latency_ms: u32,
    pub echo: bool,
    /// `hourly`, `daily` or `off`.
    pub schedule: String,
    pub enabled: bool,
    pub last_slot: Option<i64>,
}

const BUS_COLUMNS: &str = "id, name, transport, target, baud, latency_ms, echo, schedule, enabled, last_slot";

fn bus_of(r: &Row<'_>) -> rusqlite::Result<Bus> {
    Ok(Bus {
        id: r.get(0)?,
        name: r.get(1)?,
        transport: r.get(2)?,
        target: r.get(3)?,
        baud: r.get(4)?,
        latency_ms: r.get(5)?,
        echo: r.get(6)?,
        schedule: r.get(7)?,
        enabled: r.get(8)?,
        last_slot: r.get(9)?,
    })
}

pub fn list(conn: &Connection) -> Result<Vec<Bus>> {
    let mut st = conn.prepare(&format!("SELECT {BUS_COLUMNS} FROM mbus_buses ORDER BY name"))?;
    let rows = st.query_map([], bus_of)?.collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Bus>> {
    Ok(conn.query_row(&format!("SELECT {BUS_COLUMNS} FROM mbus_buses WHERE id = ?1"), [id], bus_of).optional()?)
}

pub fn id_of_name(conn: &Connection, name: &str) -> Result<Option<i64>> {
    Ok(conn.query_row("SELECT id FROM mbus_buses WHERE name = ?1", [name], |r| r.get(0)).optional()?)
}

/// Insert (id 0) or update a bus; its id.
pub fn save(conn: &Connection, b: &Bus, now: i64) -> Result<i64> {
    if b.id == 0 {
        conn.execute(
            "INSERT INTO mbus_buses(name, transport, target, baud, latency_ms, echo, schedule, enabled, created_at)
             VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9)",
            params![b.name, b.transport, b.target, b.baud, b.latency_ms, b.echo, b.schedule, b.enabled, now],
        )?;
        Ok(conn.last_insert_rowid())
    } else {
        conn.execute(
            "UPDATE mbus_buses SET name = ?2, transport = ?3, target = ?4, baud = ?5, latency_ms = ?6, echo = ?7,
             schedule = ?8, enabled = ?9 WHERE id = ?1",
            params![b.id, b.name, b.transport, b.target, b.baud, b.latency_ms, b.echo, b.schedule, b.enabled],
        )?;
        Ok(b.id)
    }
}

pub fn delete(conn: &Connection, id: i64) -> Result<bool> {
    Ok(conn.execute("DELETE FROM mbus_buses WHERE id = ?1", [id])? > 0)
}

/// Claim `slot` for a scheduled read of bus `id`: true once per slot (another process
/// reading the same slot gets false).
pub fn claim_slot(conn: &Connection, id: i64, slot: i64) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE mbus_buses SET last_slot = ?2 WHERE id = ?1 AND (last_slot IS NULL OR last_slot < ?2)",
        params![id, slot],
    )? > 0)
}

/// A meter of a bus, with its last answer.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct BusMeter {
    pub id: i64,
    pub bus_id: i64,
    /// `5` or 16 characters.
    pub address: String,
    pub meter_id: Option<i64>,
    pub serial: Option<String>,
    pub answer_at: Option<i64>,
    /// The last answer's frames, hexadecimal, in order.
    pub frames: Vec<String>,
    pub error_code: Option<String>,
    pub error: Option<String>,
}

pub fn meters_of(conn: &Connection, bus_id: i64) -> Result<Vec<BusMeter>> {
    let mut st = conn.prepare(
        "SELECT b.id, b.bus_id, b.address, b.meter_id, m.serial, b.answer_at, b.frames, b.error_code, b.error
         FROM mbus_bus_meters b LEFT JOIN meters m ON m.id = b.meter_id WHERE b.bus_id = ?1 ORDER BY b.id",
    )?;
    let rows = st
        .query_map([bus_id], |r| {
            let frames: String = r.get(6)?;
            Ok(BusMeter {
                id: r.get(0)?,
                bus_id: r.get(1)?,
                address: r.get(2)?,
                meter_id: r.get(3)?,
                serial: r.get(4)?,
                answer_at: r.get(5)?,
                frames: frames.lines().filter(|l| !l.is_empty()).map(str::to_string).collect(),
                error_code: r.get(7)?,
                error: r.get(8)?,
            })
        })?
        .collect::<rusqlite::Result<Vec<_>>>()?;
    Ok(rows)
}

/// Add a meter to a bus (nothing when the address is already there); its row id.
pub fn add_meter(conn: &Connection, bus_id: i64, address: &str, meter_id: Option<i64>) -> Result<i64> {
    conn.execute(
        "INSERT INTO mbus_bus_meters(bus_id, address, meter_id) VALUES (?1, ?2, ?3)
         ON CONFLICT(bus_id, address) DO UPDATE SET meter_id = coalesce(excluded.meter_id, meter_id)",
        params![bus_id, address, meter_id],
    )?;
    Ok(conn.query_row("SELECT id FROM mbus_bus_meters WHERE bus_id = ?1 AND address = ?2", params![bus_id, address], |r| r.get(0))?)
}

pub fn remove_meter(conn: &Connection, bus_id: i64, address: &str) -> Result<bool> {
    Ok(conn.execute("DELETE FROM mbus_bus_meters WHERE bus_id = ?1 AND address = ?2", params![bus_id, address])? > 0)
}

/// Keep a bus meter's last answer: its frames, or its error (the frames of the last good
/// answer stay).
pub fn set_answer(conn: &Connection, id: i64, at: i64, frames: Option<&[String]>, meter_id: Option<i64>, error: Option<(&str, &str)>) -> Result<()> {
    match frames {
        Some(f) => conn.execute(
            "UPDATE mbus_bus_meters SET answer_at = ?2, frames = ?3, meter_id = coalesce(?4, meter_id), error_code = NULL, error = NULL WHERE id = ?1",
            params![id, at, f.join("\n"), meter_id],
        )?,
        None => conn.execute(
            "UPDATE mbus_bus_meters SET answer_at = ?2, error_code = ?3, error = ?4 WHERE id = ?1",
            params![id, at, error.map(|e| e.0), error.map(|e| e.1)],
        )?,
    };
    Ok(())
}

/// A bus's last scan.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Scan {
    pub bus_id: i64,
    pub kind: String,
    pub started_at: i64,
    pub finished_at: Option<i64>,
    /// The found slaves and collisions as JSON objects.
    pub found: Vec<serde_json::Value>,
    pub error: Option<String>,
}

pub fn scan_started(conn: &Connection, bus_id: i64, kind: &str, at: i64) -> Result<()> {
    conn.execute(
        "INSERT INTO mbus_scans(bus_id, kind, started_at, finished_at, found, error) VALUES (?1, ?2, ?3, NULL, '', NULL)
         ON CONFLICT(bus_id) DO UPDATE SET kind = ?2, started_at = ?3, finished_at = NULL, found = '', error = NULL",
        params![bus_id, kind, at],
    )?;
    Ok(())
}

pub fn scan_finished(conn: &Connection, bus_id: i64, at: i64, found: &[serde_json::Value], error: Option<&str>) -> Result<()> {
    let lines: Vec<String> = found.iter().map(|v| v.to_string()).collect();
    conn.execute(
        "UPDATE mbus_scans SET finished_at = ?2, found = ?3, error = ?4 WHERE bus_id = ?1",
        params![bus_id, at, lines.join("\n"), error],
    )?;
    Ok(())
}

pub fn last_scan(conn: &Connection, bus_id: i64) -> Result<Option<Scan>> {
    Ok(conn
        .query_row(
            "SELECT bus_id, kind, started_at, finished_at, found, error FROM mbus_scans WHERE bus_id = ?1",
            [bus_id],
            |r| {
                let found: String = r.get(4)?;
                Ok(Scan {
                    bus_id: r.get(0)?,
                    kind: r.get(1)?,
                    started_at: r.get(2)?,
                    finished_at: r.get(3)?,
                    found: found.lines().filter_map(|l| serde_json::from_str(l).ok()).collect(),
                    error: r.get(5)?,
                })
            },
        )
        .optional()?)
}
