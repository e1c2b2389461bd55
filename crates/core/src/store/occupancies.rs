//! Table `occupancies` (who occupied a meter's premises when) and the personal-data reads of
//! a subject access: a customer's meters, readings, notices, audit entries, billing lines.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

/// One customer on one meter over `[from, to)`; `None` ends: since always / ongoing.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Occupancy {
    pub meter_id: i64,
    pub customer_id: i64,
    pub from: Option<i64>,
    pub to: Option<i64>,
}

/// The stored occupancies of a customer, by meter then start.
pub fn of_customer(conn: &Connection, customer_id: i64) -> Result<Vec<Occupancy>> {
    let mut stmt = conn.prepare_cached(
        "SELECT meter_id, customer_id, from_ts, to_ts FROM occupancies WHERE customer_id = ?1 ORDER BY meter_id, from_ts",
    )?;
    let rows = stmt.query_map([customer_id], occupancy_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The stored occupancies of a meter, oldest first.
pub fn of_meter(conn: &Connection, meter_id: i64) -> Result<Vec<Occupancy>> {
    let mut stmt = conn.prepare_cached(
        "SELECT meter_id, customer_id, from_ts, to_ts FROM occupancies WHERE meter_id = ?1 + 0 ORDER BY from_ts",
    )?;
    let rows = stmt.query_map([meter_id], occupancy_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

fn occupancy_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Occupancy> {
    let from: i64 = r.get(2)?;
    Ok(Occupancy { meter_id: r.get(0)?, customer_id: r.get(1)?, from: (from != i64::MIN).then_some(from), to: r.get(3)? })
}

/// Record an occupancy (`from` None: since always).
pub fn insert(conn: &Connection, o: &Occupancy) -> Result<()> {
    conn.prepare_cached("INSERT INTO occupancies(meter_id, customer_id, from_ts, to_ts) VALUES (?1, ?2, ?3, ?4)")?
        .execute(params![o.meter_id, o.customer_id, o.from.unwrap_or(i64::MIN), o.to])?;
    Ok(())
}

/// End the customer's open occupancies of a meter at `at`; how many were open.
pub fn close(conn: &Connection, meter_id: i64, customer_id: i64, at: i64) -> Result<usize> {
    Ok(conn
        .prepare_cached("UPDATE occupancies SET to_ts = ?3 WHERE meter_id = ?1 AND customer_id = ?2 AND to_ts IS NULL")?
        .execute(params![meter_id, customer_id, at])?)
}

/// (id, status) of the meters whose current customer is `customer_id`.
pub fn meters_of_customer(conn: &Connection, customer_id: i64) -> Result<Vec<(i64, String)>> {
    let mut stmt = conn.prepare_cached("SELECT id, status FROM meters WHERE customer_id = ?1 ORDER BY id")?;
    let rows = stmt.query_map([customer_id], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Give a meter to another customer (or none: vacant).
pub fn set_customer(conn: &Connection, meter_id: i64, customer_id: Option<i64>) -> Result<()> {
    conn.prepare_cached("UPDATE meters SET customer_id = ?2 WHERE id = ?1")?.execute(params![meter_id, customer_id])?;
    Ok(())
}

/// A customer as the personal-data screens see it: the contact, or its pseudonym after a
/// move-out.
#[derive(Debug, Clone, Serialize)]
pub struct CustomerRecord {
    pub id: i64,
    pub number: String,
    pub name: String,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    /// `former_occupant` after a move-out (the UI words it with the id).
    pub pseudonym: Option<String>,
    pub moved_out_at: Option<i64>,
}

pub fn customer(conn: &Connection, id: i64) -> Result<Option<CustomerRecord>> {
    Ok(conn
        .prepare_cached(
            "SELECT id, number, name, address, postal_code, city, email, phone, pseudonym, moved_out_at FROM customers WHERE id = ?1",
        )?
        .query_row([id], |r| {
            Ok(CustomerRecord {
                id: r.get(0)?,
                number: r.get(1)?,
                name: r.get(2)?,
                address: r.get(3)?,
                postal_code: r.get(4)?,
                city: r.get(5)?,
                email: r.get(6)?,
                phone: r.get(7)?,
                pseudonym: r.get(8)?,
                moved_out_at: r.get(9)?,
            })
        })
        .optional()?)
}

/// Wipe a customer's identity (name, address, e-mail, phone), keeping its number, and mark
/// it with the pseudonym token.
pub fn pseudonymize(conn: &Connection, id: i64, token: &str, at: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE customers SET name = '', sort_name = '', address = '', postal_code = '', city = '', email = NULL, phone = NULL,
             pseudonym = ?2, moved_out_at = ?3 WHERE id = ?1",
    )?
    .execute(params![id, token, at])?;
    Ok(())
}

pub fn number_taken(conn: &Connection, number: &str) -> Result<bool> {
    Ok(conn.prepare_cached("SELECT EXISTS(SELECT 1 FROM customers WHERE number = ?1)")?.query_row([number], |r| r.get(0))?)
}

/// Stream a meter's readings with from <= ts < to, every register, in (register, ts) order:
/// one primary-key range scan, nothing held.
pub fn each_reading(
    conn: &Connection,
    meter_id: i64,
    from: i64,
    to: i64,
    each: &mut dyn FnMut(i64, i64, f64) -> Result<()>,
) -> Result<u64> {
    let mut stmt = conn.prepare_cached(
        "SELECT register, ts, value FROM readings WHERE meter_id = ?1 + 0 AND ts >= ?2 AND ts < ?3 ORDER BY register, ts",
    )?;
    let mut rows = stmt.query(params![meter_id, from, to])?;
    let mut n = 0;
    while let Some(r) = rows.next()? {
        each(r.get(0)?, r.get(1)?, r.get(2)?)?;
        n += 1;
    }
    Ok(n)
}

/// A notice about a meter's info code: (code, started_at, channel, recipient, sent_at,
/// status), for notices with `from <= started_at < to`.
pub type NoticeRow = (String, i64, String, String, i64, String);

pub fn notices_of_meter(conn: &Connection, meter_id: i64, from: i64, to: i64) -> Result<Vec<NoticeRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT code, started_at, channel, recipient, sent_at, status FROM notices
         WHERE meter_id = ?1 AND code <> 'gateway_silent' AND started_at >= ?2 AND started_at < ?3 ORDER BY sent_at, id",
    )?;
    let rows = stmt.query_map(params![meter_id, from, to], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Audit entries of the given events with `from <= at < to`, oldest first, to `each`.
pub fn audit_of_events(
    conn: &Connection,
    events: &[&str],
    from: i64,
    to: i64,
    each: &mut dyn FnMut(crate::store::audit::Entry) -> Result<()>,
) -> Result<()> {
    let list = serde_json::to_string(events).unwrap_or_else(|_| "[]".into());
    let mut stmt = conn.prepare_cached(
        "SELECT at, event, user, computer, details FROM audit_log
         WHERE at >= ?1 AND at < ?2 AND event IN (SELECT value FROM json_each(?3)) ORDER BY at, id",
    )?;
    let mut rows = stmt.query(params![from, to, list])?;
    while let Some(r) = rows.next()? {
        each(crate::store::audit::Entry { at: r.get(0)?, event: r.get(1)?, user: r.get(2)?, computer: r.get(3)?, details: r.get(4)? })?;
    }
    Ok(())
}

/// The last billing file's line for a meter serial, per layout: (layout, file name, at, line).
pub fn billing_lines_of_meter(conn: &Connection, serial: &str) -> Result<Vec<(String, String, i64, String)>> {
    let mut stmt = conn.prepare_cached(
        "SELECT l.name, f.file_name, f.at, x.line FROM export_layout_last_lines x
         JOIN export_layouts l ON l.id = x.layout_id JOIN export_layout_last_files f ON f.layout_id = x.layout_id
         WHERE x.meter = ?1 ORDER BY l.name",
    )?;
    let rows = stmt.query_map([serial], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Scheduled export runs that succeeded and started in `[from, to)`:
/// (job, layout, period_from, period_to, started_at, file, rows).
pub type RunRow = (String, String, String, String, i64, Option<String>, Option<i64>);

pub fn export_runs_between(conn: &Connection, from: i64, to: i64) -> Result<Vec<RunRow>> {
    let mut stmt = conn.prepare_cached(
        "SELECT job, layout, period_from, period_to, started_at, file, rows FROM export_runs
         WHERE status = 'ok' AND started_at >= ?1 AND started_at < ?2 ORDER BY started_at, id",
    )?;
    let rows = stmt.query_map(params![from, to], |r| {
        Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?, r.get(4)?, r.get(5)?, r.get(6)?))
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A setting's integer value, if set and readable.
pub fn setting_i64(conn: &Connection, key: &str) -> Result<Option<i64>> {
    Ok(crate::store::settings::get(conn, key)?.and_then(|v| v.trim().parse().ok()))
}

/// What the register of processing counts: customers (current, former), meters, users,
/// scheduled exports to a folder and by e-mail, notification rules, C8/06 delivery points.
#[derive(Debug, Clone, Default, Serialize)]
pub struct RegisterCounts {
    pub customers: i64,
    pub former_customers: i64,
    pub meters: i64,
    pub users: i64,
    pub export_jobs_folder: i64,
    pub export_jobs_email: i64,
    pub notify_rules: i64,
    pub c806_sdps: i64,
}

pub fn register_counts(conn: &Connection) -> Result<RegisterCounts> {
    let one = |sql: &str| -> Result<i64> { Ok(conn.query_row(sql, [], |r| r.get(0))?) };
    Ok(RegisterCounts {
        customers: one("SELECT count(*) FROM customers WHERE pseudonym IS NULL")?,
        former_customers: one("SELECT count(*) FROM customers WHERE pseudonym IS NOT NULL")?,
        meters: one("SELECT count(*) FROM meters")?,
        users: one("SELECT count(*) FROM users WHERE active = 1")?,
        export_jobs_folder: one("SELECT count(*) FROM export_jobs WHERE destination = 'folder' AND enabled = 1")?,
        export_jobs_email: one("SELECT count(*) FROM export_jobs WHERE destination = 'email' AND enabled = 1")?,
        notify_rules: one("SELECT count(*) FROM notify_rules WHERE enabled = 1")?,
        c806_sdps: one("SELECT count(*) FROM c806_sdps WHERE enabled = 1")?,
    })
}

/// The roles that have `permission` in the matrix.
pub fn roles_with(conn: &Connection, permission: &str) -> Result<Vec<String>> {
    let mut stmt = conn.prepare_cached(
        "SELECT role FROM role_permissions WHERE permission = ?1
         ORDER BY CASE role WHEN 'user' THEN 0 WHEN 'superuser' THEN 1 ELSE 2 END",
    )?;
    let rows = stmt.query_map([permission], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The move-out time of the customer numbered `number`, if it moved out (a pseudonym).
pub fn moved_out_number(conn: &Connection, number: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT moved_out_at FROM customers WHERE number = ?1 AND pseudonym IS NOT NULL")?
        .query_row([number], |r| r.get::<_, Option<i64>>(0))
        .optional()?
        .flatten())
}
