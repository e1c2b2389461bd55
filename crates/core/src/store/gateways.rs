//! Tables `gateways`, `receptions`, `gateway_meters` and `gateway_events`: who heard which
//! telegram, what each gateway hears, when a gateway fell silent.

use crate::error::Result;
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;
use std::collections::HashMap;

/// A gateway delivered frames heard up to `at`: its id (made when it is new); its last
/// contact moves forward and a silence alarm ends.
pub fn contact(conn: &Connection, name: &str, kind: &str, at: i64, source: Option<i64>) -> Result<i64> {
    let mut stmt = conn.prepare_cached(
        "INSERT INTO gateways(name, kind, first_contact, last_contact, last_source) VALUES (?1, ?2, ?3, ?3, ?4)
         ON CONFLICT(name) DO UPDATE SET last_contact = max(last_contact, excluded.last_contact),
             last_source = coalesce(excluded.last_source, last_source), silent_since = NULL
         RETURNING id",
    )?;
    let id = stmt.query_row(params![name, kind, at, source], |r| r.get(0))?;
    // Its open silence ends (the partial index of open events: nothing to do most times).
    conn.prepare_cached("UPDATE gateway_events SET ended_at = max(?2, started_at) WHERE gateway_id = ?1 AND ended_at IS NULL")?
        .execute(params![id, at])?;
    Ok(id)
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
/// retried delivery) and what the gateway hears of the meter; a meter heard by a gateway
/// for the first time is marked `on_network` (the network check supervises it).
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
             last_heard = max(last_heard, excluded.last_heard)
         RETURNING receptions",
    )?;
    let receptions: i64 = heard.query_row(params![r.gateway_id, r.meter_id, r.received_at, r.rssi, r.snr], |row| row.get(0))?;
    if receptions == 1 {
        // A gateway hears the meter for the first time: the meter is on the network (supervised).
        conn.prepare_cached("UPDATE meters SET on_network = 1 WHERE id = ?1 AND on_network = 0")?.execute([r.meter_id])?;
    }
    Ok(true)
}

/// A gateway as listed, with what it hears.
#[derive(Debug, Clone, Serialize)]
pub struct Gateway {
    pub id: i64,
    pub name: String,
    pub kind: String,
    pub label: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    /// Its own silent hours (None: the setting `gateway_silent_hours`).
    pub silent_hours: Option<i64>,
    pub first_contact: i64,
    pub last_contact: i64,
    pub last_source: Option<String>,
    /// When its silence alarm was raised (None: not silent).
    pub silent_since: Option<i64>,
    /// Receptions since the local day began.
    pub frames_today: i64,
    /// Meters heard in the last 7 days.
    pub meters_heard: i64,
    /// Of those, meters no other gateway heard in the last 7 days.
    pub meters_alone: i64,
}

const GATEWAY_COLUMNS: &str = "g.id, g.name, g.kind, g.label, g.lat, g.lon, g.silent_hours, g.first_contact, g.last_contact,
     s.name, g.silent_since";

fn gateway_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Gateway> {
    Ok(Gateway {
        id: r.get(0)?,
        name: r.get(1)?,
        kind: r.get(2)?,
        label: r.get(3)?,
        lat: r.get(4)?,
        lon: r.get(5)?,
        silent_hours: r.get(6)?,
        first_contact: r.get(7)?,
        last_contact: r.get(8)?,
        last_source: r.get(9)?,
        silent_since: r.get(10)?,
        frames_today: 0,
        meters_heard: 0,
        meters_alone: 0,
    })
}

/// Frames newly heard, per gateway and local day (YYYYMMDD), added to `gateway_days`.
pub fn count_days(conn: &Connection, frames: &HashMap<(i64, i64), i64>) -> Result<()> {
    let mut add = conn.prepare_cached(
        "INSERT INTO gateway_days(gateway_id, day, frames) VALUES (?1, ?2, ?3)
         ON CONFLICT(gateway_id, day) DO UPDATE SET frames = frames + excluded.frames",
    )?;
    for ((gateway, day), n) in frames {
        add.execute(params![gateway, day, n])?;
    }
    Ok(())
}

/// Every gateway by name, with its frames of local day `today` (YYYYMMDD, from
/// `gateway_days`) and the meters it heard since `heard_since` (one sequential pass over
/// `gateway_meters`, never over receptions).
pub fn list(conn: &Connection, today: i64, heard_since: i64) -> Result<Vec<Gateway>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {GATEWAY_COLUMNS} FROM gateways g LEFT JOIN sources s ON s.id = g.last_source ORDER BY g.name"
    ))?;
    let mut gateways: Vec<Gateway> = stmt.query_map([], gateway_row)?.collect::<rusqlite::Result<_>>()?;
    let mut frames = conn.prepare_cached("SELECT coalesce(sum(frames), 0) FROM gateway_days WHERE gateway_id = ?1 AND day = ?2")?;
    for g in &mut gateways {
        g.frames_today = frames.query_row(params![g.id, today], |r| r.get(0))?;
    }
    let (heard, alone) = heard_counts(conn, heard_since)?;
    for g in &mut gateways {
        g.meters_heard = heard.get(&g.id).copied().unwrap_or(0);
        g.meters_alone = alone.get(&g.id).copied().unwrap_or(0);
    }
    Ok(gateways)
}

/// Per gateway: the meters it heard since `since`, and of those the ones no other gateway
/// heard since then. One sequential pass over `gateway_meters` (a lookup of `last_heard`
/// per row through the meter index would cost a random read each: 1.5 s at 1,800,000 rows).
fn heard_counts(conn: &Connection, since: i64) -> Result<(HashMap<i64, i64>, HashMap<i64, i64>)> {
    let mut stmt = conn.prepare_cached("SELECT gateway_id, meter_id FROM gateway_meters WHERE last_heard >= ?1")?;
    let mut rows = stmt.query([since])?;
    let mut heard: HashMap<i64, i64> = HashMap::new();
    let mut pairs: Vec<(i64, i64)> = Vec::new();
    // Rows come by gateway (the primary key): counted in a run, added at each change.
    let mut run: Option<(i64, i64)> = None;
    while let Some(r) = rows.next()? {
        let (gateway, meter): (i64, i64) = (r.get(0)?, r.get(1)?);
        match &mut run {
            Some((g, n)) if *g == gateway => *n += 1,
            _ => {
                if let Some((g, n)) = run.replace((gateway, 1)) {
                    *heard.entry(g).or_default() += n;
                }
            }
        }
        pairs.push((meter, gateway));
    }
    if let Some((g, n)) = run {
        *heard.entry(g).or_default() += n;
    }
    // By meter: a meter with one pair was heard by one gateway only.
    pairs.sort_unstable();
    let mut alone: HashMap<i64, i64> = HashMap::new();
    for (i, &(meter, gateway)) in pairs.iter().enumerate() {
        let shared = (i > 0 && pairs[i - 1].0 == meter) || pairs.get(i + 1).is_some_and(|p| p.0 == meter);
        if !shared {
            *alone.entry(gateway).or_default() += 1;
        }
    }
    Ok((heard, alone))
}

/// One gateway (without its figures).
pub fn get(conn: &Connection, id: i64) -> Result<Option<Gateway>> {
    Ok(conn
        .prepare_cached(&format!("SELECT {GATEWAY_COLUMNS} FROM gateways g LEFT JOIN sources s ON s.id = g.last_source WHERE g.id = ?1"))?
        .query_row([id], gateway_row)
        .optional()?)
}

/// What a clerk sets of a gateway.
#[derive(Debug, Clone, PartialEq)]
pub struct Placement<'a> {
    pub label: &'a str,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub silent_hours: Option<i64>,
}

/// Set a gateway's label, position and silent hours; false if there is no such gateway.
pub fn set(conn: &Connection, id: i64, p: &Placement<'_>) -> Result<bool> {
    Ok(conn.execute(
        "UPDATE gateways SET label = ?2, lat = ?3, lon = ?4, silent_hours = ?5 WHERE id = ?1",
        params![id, p.label, p.lat, p.lon, p.silent_hours],
    )? > 0)
}

/// A gateway that has been silent for its hours at `now` and has no alarm yet.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Silence {
    pub gateway_id: i64,
    pub last_contact: i64,
    /// When its silent hours passed.
    pub started_at: i64,
}

/// Gateways without a frame for their silent hours (theirs, else `default_hours`; 0: not
/// supervised) and no alarm yet. The table holds a row per gateway: read whole.
pub fn newly_silent(conn: &Connection, default_hours: i64, now: i64) -> Result<Vec<Silence>> {
    let mut stmt = conn.prepare_cached(
        "SELECT id, last_contact, last_contact + coalesce(silent_hours, ?1) * 3600 FROM gateways
         WHERE silent_since IS NULL AND coalesce(silent_hours, ?1) > 0 AND last_contact + coalesce(silent_hours, ?1) * 3600 <= ?2",
    )?;
    let rows = stmt.query_map(params![default_hours, now], |r| Ok(Silence { gateway_id: r.get(0)?, last_contact: r.get(1)?, started_at: r.get(2)? }))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Raise the silence alarm of a gateway unless a frame came since it was found silent:
/// true when raised.
pub fn fall_silent(conn: &Connection, s: &Silence) -> Result<bool> {
    let changed = conn
        .prepare_cached("UPDATE gateways SET silent_since = ?2 WHERE id = ?1 AND silent_since IS NULL AND last_contact = ?3")?
        .execute(params![s.gateway_id, s.started_at, s.last_contact])?;
    if changed == 0 {
        return Ok(false);
    }
    conn.prepare_cached("INSERT OR IGNORE INTO gateway_events(gateway_id, code, started_at) VALUES (?1, 'silent', ?2)")?
        .execute(params![s.gateway_id, s.started_at])?;
    Ok(true)
}

/// End a gateway's silence at `at` (its hours changed and it is no longer silent under them).
pub fn end_silence(conn: &Connection, gateway_id: i64, at: i64) -> Result<()> {
    conn.execute("UPDATE gateways SET silent_since = NULL WHERE id = ?1", [gateway_id])?;
    conn.execute(
        "UPDATE gateway_events SET ended_at = max(?2, started_at) WHERE gateway_id = ?1 AND ended_at IS NULL",
        params![gateway_id, at],
    )?;
    Ok(())
}

/// Gateways silent now whose silence no longer holds under their hours (theirs, else
/// `default_hours`; 0: never silent) at `now`.
pub fn no_longer_silent(conn: &Connection, default_hours: i64, now: i64) -> Result<Vec<i64>> {
    let mut stmt = conn.prepare(
        "SELECT id FROM gateways WHERE silent_since IS NOT NULL
           AND (coalesce(silent_hours, ?1) = 0 OR last_contact + coalesce(silent_hours, ?1) * 3600 > ?2)",
    )?;
    let rows = stmt.query_map(params![default_hours, now], |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A gateway's silence, for notices.
#[derive(Debug, Clone, Serialize)]
pub struct SilenceEvent {
    pub gateway_id: i64,
    pub name: String,
    pub label: String,
    pub started_at: i64,
    pub ended_at: Option<i64>,
    pub last_contact: i64,
}

/// Silences ongoing (`since` None), or those that started before `until` and were ongoing
/// at or after `since`.
pub fn silences(conn: &Connection, since: Option<i64>, until: i64) -> Result<Vec<SilenceEvent>> {
    let mut stmt = conn.prepare_cached(
        "SELECT e.gateway_id, g.name, g.label, e.started_at, e.ended_at, g.last_contact
         FROM gateway_events e JOIN gateways g ON g.id = e.gateway_id
         WHERE e.code = 'silent' AND e.started_at <= ?2
           AND ((?1 IS NULL AND e.ended_at IS NULL) OR (?1 IS NOT NULL AND coalesce(e.ended_at, ?2) >= ?1))
         ORDER BY e.started_at, e.gateway_id",
    )?;
    let rows = stmt.query_map(params![since, until], |r| {
        Ok(SilenceEvent {
            gateway_id: r.get(0)?,
            name: r.get(1)?,
            label: r.get(2)?,
            started_at: r.get(3)?,
            ended_at: r.get(4)?,
            last_contact: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// What one gateway hears of a meter (`gateway_meters`).
#[derive(Debug, Clone, Serialize)]
pub struct Hearing {
    pub gateway_id: i64,
    pub name: String,
    pub label: String,
    pub first_heard: i64,
    pub last_heard: i64,
    pub receptions: i64,
    pub best_rssi: Option<i64>,
    pub last_rssi: Option<i64>,
    pub last_snr: Option<f64>,
}

/// `heard_of`: the index `gateway_meters_meter`.
pub(super) const HEARD_OF: &str = "SELECT h.gateway_id, g.name, g.label, h.first_heard, h.last_heard, h.receptions, h.best_rssi,
            h.last_rssi, h.last_snr
     FROM gateway_meters h JOIN gateways g ON g.id = h.gateway_id WHERE h.meter_id = ?1 + 0
     ORDER BY h.last_heard DESC, h.gateway_id";

/// The gateways that heard a meter, the latest first.
pub fn heard_of(conn: &Connection, meter_id: i64) -> Result<Vec<Hearing>> {
    let mut stmt = conn.prepare_cached(HEARD_OF)?;
    let rows = stmt.query_map([meter_id], |r| {
        Ok(Hearing {
            gateway_id: r.get(0)?,
            name: r.get(1)?,
            label: r.get(2)?,
            first_heard: r.get(3)?,
            last_heard: r.get(4)?,
            receptions: r.get(5)?,
            best_rssi: r.get(6)?,
            last_rssi: r.get(7)?,
            last_snr: r.get(8)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// `receptions_of`: a primary-key range of one meter.
pub(super) const RECEPTIONS_OF: &str = "SELECT gateway_id, received_at, rssi, snr FROM receptions
     WHERE meter_id = ?1 + 0 AND received_at >= ?2 AND rssi IS NOT NULL";

/// A meter's receptions since `from` that carry an RSSI, to `each(gateway, at, rssi, snr)`.
pub fn receptions_of(conn: &Connection, meter_id: i64, from: i64, each: &mut dyn FnMut(i64, i64, i64, Option<f64>)) -> Result<()> {
    let mut stmt = conn.prepare_cached(RECEPTIONS_OF)?;
    let mut rows = stmt.query(params![meter_id, from])?;
    while let Some(r) = rows.next()? {
        each(r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?);
    }
    Ok(())
}
