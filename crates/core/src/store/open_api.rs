//! The open API's reads: pages of meters, customers, active info codes and exchanges by
//! keyset (`id > after`), within what the caller may reach (`feed::Reach`).

use super::feed::{reach_sql, Reach};
use crate::error::Result;
use rusqlite::{params, Connection};

#[derive(Debug, Clone, PartialEq)]
pub struct MeterRow {
    pub id: i64,
    pub serial: String,
    pub manufacturer: String,
    pub device_type: String,
    pub model: String,
    pub status: String,
    pub customer_number: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub installed_at: Option<i64>,
    pub removed_at: Option<i64>,
    pub last_seen: Option<i64>,
    pub info_codes: i64,
}

/// Filters of the meter list (all optional, exact values).
#[derive(Debug, Clone, Default)]
pub struct MeterFilter {
    pub status: Option<String>,
    pub device_type: Option<String>,
    pub group: Option<String>,
    pub city: Option<String>,
    pub customer_number: Option<String>,
    pub serial: Option<String>,
    /// Meters with an active info code.
    pub alarm: Option<bool>,
}

const METER_COLUMNS: &str = "m.id, m.serial, m.manufacturer, m.device_type, m.model, m.status, c.number, m.address,
    m.postal_code, m.city, m.lat, m.lon, m.installed_at, m.removed_at, m.last_seen, m.info_codes";

fn meter_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<MeterRow> {
    Ok(MeterRow {
        id: r.get(0)?,
        serial: r.get(1)?,
        manufacturer: r.get(2)?,
        device_type: r.get(3)?,
        model: r.get(4)?,
        status: r.get(5)?,
        customer_number: r.get(6)?,
        address: r.get(7)?,
        postal_code: r.get(8)?,
        city: r.get(9)?,
        lat: r.get(10)?,
        lon: r.get(11)?,
        installed_at: r.get(12)?,
        removed_at: r.get(13)?,
        last_seen: r.get(14)?,
        info_codes: r.get(15)?,
    })
}

/// Meters with id > `after`, by id, at most `limit`.
pub fn meters(conn: &Connection, after: i64, limit: usize, f: &MeterFilter, reach: &Reach) -> Result<Vec<MeterRow>> {
    let sql = format!(
        "SELECT {METER_COLUMNS} FROM meters m LEFT JOIN customers c ON c.id = m.customer_id
         WHERE m.id > ?1 AND {}
           AND (?5 IS NULL OR m.status = ?5) AND (?6 IS NULL OR m.device_type = ?6)
           AND (?7 IS NULL OR m.id IN (SELECT gm.meter_id FROM meter_group_members gm JOIN meter_groups g ON g.id = gm.group_id WHERE g.name = ?7))
           AND (?8 IS NULL OR m.city = ?8) AND (?9 IS NULL OR c.number = ?9) AND (?10 IS NULL OR m.serial = ?10)
           AND (?11 IS NULL OR (?11 = 1 AND m.info_codes <> 0) OR (?11 = 0 AND m.info_codes = 0))
         ORDER BY m.id LIMIT ?2",
        reach_sql("m", 3, 4)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(
        params![after, limit as i64, reach.groups_json, reach.customer, f.status, f.device_type, f.group, f.city, f.customer_number, f.serial, f.alarm],
        meter_row,
    )?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The meters of serial `serial` (of `manufacturer` if given) the caller reaches, active first.
pub fn meters_of_serial(conn: &Connection, serial: &str, manufacturer: Option<&str>, reach: &Reach) -> Result<Vec<MeterRow>> {
    let sql = format!(
        "SELECT {METER_COLUMNS} FROM meters m LEFT JOIN customers c ON c.id = m.customer_id
         WHERE m.serial = ?1 AND (?2 IS NULL OR m.manufacturer = ?2) AND {}
         ORDER BY m.status <> 'active', m.id DESC",
        reach_sql("m", 3, 4)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![serial, manufacturer, reach.groups_json, reach.customer], meter_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A customer (its id and what `customers` holds).
#[derive(Debug, Clone, PartialEq)]
pub struct CustomerRow {
    pub id: i64,
    pub customer: super::customers::Customer,
}

fn customer_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<CustomerRow> {
    Ok(CustomerRow {
        id: r.get(0)?,
        customer: super::customers::Customer {
            number: r.get(1)?,
            name: r.get(2)?,
            address: r.get(3)?,
            postal_code: r.get(4)?,
            city: r.get(5)?,
            email: r.get(6)?,
            phone: r.get(7)?,
        },
    })
}

/// The condition "customer `c` has a meter the caller reaches" (or is the key's customer).
fn customer_reach(g: usize, cu: usize) -> String {
    format!(
        "(?{cu} IS NULL OR c.id = ?{cu})
         AND (?{g} IS NULL OR EXISTS(SELECT 1 FROM meters m WHERE m.customer_id = c.id AND {}))",
        reach_sql("m", g, cu)
    )
}

/// Customers with id > `after` (former occupants excluded: their identity is gone), by id.
pub fn customers(conn: &Connection, after: i64, limit: usize, reach: &Reach) -> Result<Vec<CustomerRow>> {
    let sql = format!(
        "SELECT c.id, c.number, c.name, c.address, c.postal_code, c.city, c.email, c.phone FROM customers c
         WHERE c.id > ?1 AND {} AND c.pseudonym IS NULL ORDER BY c.id LIMIT ?2",
        customer_reach(3, 4)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![after, limit as i64, reach.groups_json, reach.customer], customer_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The customer numbered `number`, if the caller reaches it.
pub fn customer_by_number(conn: &Connection, number: &str, reach: &Reach) -> Result<Option<CustomerRow>> {
    let sql = format!(
        "SELECT c.id, c.number, c.name, c.address, c.postal_code, c.city, c.email, c.phone FROM customers c
         WHERE c.number = ?1 AND c.pseudonym IS NULL AND {}",
        customer_reach(2, 3)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut rows = stmt.query_map(params![number, reach.groups_json, reach.customer], customer_row)?;
    Ok(rows.next().transpose()?)
}

/// The serials of the meters of customer `id` the caller reaches.
pub fn serials_of_customer(conn: &Connection, id: i64, reach: &Reach) -> Result<Vec<(i64, String, String)>> {
    let sql = format!(
        "SELECT m.id, m.serial, m.manufacturer FROM meters m WHERE m.customer_id = ?1 AND {} ORDER BY m.id",
        reach_sql("m", 2, 3)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![id, reach.groups_json, reach.customer], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, PartialEq)]
pub struct ActiveCode {
    pub meter_id: i64,
    pub serial: String,
    pub manufacturer: String,
    pub code: String,
    pub started_at: i64,
    pub last_seen_at: i64,
}

/// Ongoing info codes, by meter then start, of meters with id > `after` (a page never cuts a
/// meter's codes: it ends at the last whole meter).
pub fn active_codes(conn: &Connection, after: i64, limit: usize, code: Option<&str>, reach: &Reach) -> Result<Vec<ActiveCode>> {
    let sql = format!(
        "SELECT e.meter_id, m.serial, m.manufacturer, e.code, e.started_at, e.last_seen_at
         FROM info_code_events e JOIN meters m ON m.id = e.meter_id
         WHERE e.ended_at IS NULL AND e.meter_id > ?1 AND (?5 IS NULL OR e.code = ?5) AND {}
         ORDER BY e.meter_id, e.started_at, e.code LIMIT ?2",
        reach_sql("m", 3, 4)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![after, limit as i64, reach.groups_json, reach.customer, code], |r| {
        Ok(ActiveCode { meter_id: r.get(0)?, serial: r.get(1)?, manufacturer: r.get(2)?, code: r.get(3)?, started_at: r.get(4)?, last_seen_at: r.get(5)? })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

#[derive(Debug, Clone, PartialEq)]
pub struct ExchangeRow {
    pub id: i64,
    pub old_serial: String,
    pub old_manufacturer: String,
    pub new_serial: String,
    pub new_manufacturer: String,
    pub at: i64,
    pub register: String,
    pub final_value: f64,
    pub initial_value: f64,
}

/// Exchanges with id > `after` and `from <= at < to`, by id; the caller must reach the old or
/// the new meter.
pub fn exchanges(conn: &Connection, after: i64, limit: usize, from: i64, to: i64, reach: &Reach) -> Result<Vec<ExchangeRow>> {
    let sql = format!(
        "SELECT x.id, o.serial, o.manufacturer, n.serial, n.manufacturer, x.at, x.register, x.final_value, x.initial_value
         FROM meter_exchanges x JOIN meters o ON o.id = x.old_meter_id JOIN meters n ON n.id = x.new_meter_id
         WHERE x.id > ?1 AND x.at >= ?5 AND x.at < ?6 AND (({}) OR ({}))
         ORDER BY x.id LIMIT ?2",
        reach_sql("o", 3, 4),
        reach_sql("n", 3, 4)
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(params![after, limit as i64, reach.groups_json, reach.customer, from, to], |r| {
        Ok(ExchangeRow {
            id: r.get(0)?,
            old_serial: r.get(1)?,
            old_manufacturer: r.get(2)?,
            new_serial: r.get(3)?,
            new_manufacturer: r.get(4)?,
            at: r.get(5)?,
            register: r.get(6)?,
            final_value: r.get(7)?,
            initial_value: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A meter's readings of `register` with `from <= ts < to` and ts > `after`, in time order.
pub fn readings_page(conn: &Connection, meter_id: i64, register: i64, from: i64, to: i64, limit: usize) -> Result<Vec<(i64, f64)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT ts, value FROM readings WHERE meter_id = ?1 + 0 AND register = ?2 + 0 AND ts >= ?3 AND ts < ?4 ORDER BY ts LIMIT ?5",
    )?;
    let rows = stmt.query_map(params![meter_id, register, from, to, limit as i64], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The registers a meter has readings of.
pub fn registers_of(conn: &Connection, meter_id: i64) -> Result<Vec<i64>> {
    // One seek per register through the primary key (skip-scan by hand).
    let mut out = Vec::new();
    let mut after = i64::MIN;
    let mut stmt = conn.prepare_cached("SELECT register FROM readings WHERE meter_id = ?1 + 0 AND register > ?2 ORDER BY register LIMIT 1")?;
    loop {
        let next: Option<i64> = stmt.query_row(params![meter_id, after], |r| r.get(0)).map(Some).or_else(|e| {
            if e == rusqlite::Error::QueryReturnedNoRows { Ok(None) } else { Err(e) }
        })?;
        match next {
            Some(r) => {
                out.push(r);
                after = r;
            }
            None => return Ok(out),
        }
    }
}
