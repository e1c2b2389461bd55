//! Table `meters`: the meter park, with the list query behind the meter screen.

use super::{MeterLabel, LABEL_COLUMNS};
use crate::error::{Error, Result};
use rusqlite::{params, Connection, OptionalExtension};
use serde::Serialize;

#[derive(Debug, Clone, Default)]
pub struct NewMeter {
    pub serial: String,
    pub manufacturer: String,
    pub version: i64,
    pub device_type: String,
    pub model: String,
    pub status: String,
    pub customer_id: Option<i64>,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub installed_at: Option<i64>,
}

pub fn insert(conn: &Connection, m: &NewMeter, now: i64) -> Result<i64> {
    conn.prepare_cached(
        "INSERT INTO meters(serial, manufacturer, version, device_type, model, status, customer_id,
             address, postal_code, city, lat, lon, installed_at, created_at)
         VALUES (?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14)",
    )?
    .execute(params![
        m.serial,
        m.manufacturer,
        m.version,
        m.device_type,
        m.model,
        m.status,
        m.customer_id,
        m.address,
        m.postal_code,
        m.city,
        m.lat,
        m.lon,
        m.installed_at,
        now
    ])?;
    Ok(conn.last_insert_rowid())
}

/// `id_of_serial`, once per line of a park import: `?1 || ''` (see the module `store`).
pub(super) const ID_OF_SERIAL: &str = "SELECT id FROM meters WHERE serial = ?1 || '' ORDER BY id LIMIT 1";

/// The id of the first meter with this serial.
pub fn id_of_serial(conn: &Connection, serial: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached(ID_OF_SERIAL)?
        .query_row([serial], |r| r.get(0))
        .optional()?)
}

/// Move `last_seen` forward to `ts` (never back).
pub fn mark_seen(conn: &Connection, id: i64, ts: i64) -> Result<()> {
    conn.execute(
        "UPDATE meters SET last_seen = max(coalesce(last_seen, ?2), ?2) WHERE id = ?1",
        params![id, ts],
    )?;
    Ok(())
}

/// A meter's `last_seen`, info-code mask and whether it is removed.
pub fn seen(conn: &Connection, id: i64) -> Result<(Option<i64>, i64, bool)> {
    Ok(conn
        .prepare_cached("SELECT last_seen, info_codes, status = 'removed' FROM meters WHERE id = ?1")?
        .query_row([id], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))?)
}

pub fn set_seen(conn: &Connection, id: i64, last_seen: Option<i64>, info_codes: i64) -> Result<()> {
    conn.prepare_cached("UPDATE meters SET last_seen = ?2, info_codes = ?3 WHERE id = ?1")?
        .execute(params![id, last_seen, info_codes])?;
    Ok(())
}

/// Set the key status of a meter from a telegram received at `at`, unless a newer telegram
/// already set it. Written only when it changes (the status is indexed).
pub fn set_key_status(conn: &Connection, id: i64, status: i64, at: i64) -> Result<()> {
    conn.prepare_cached(
        "UPDATE meters SET key_status = ?2, key_status_at = ?3
         WHERE id = ?1 AND coalesce(key_status_at, ?3) <= ?3 AND (key_status <> ?2 OR key_status_at IS NOT ?3)",
    )?
    .execute(params![id, status, at])?;
    Ok(())
}

/// A meter's key status (`meters.key_status`).
pub fn key_status(conn: &Connection, id: i64) -> Result<i64> {
    Ok(conn.prepare_cached("SELECT key_status FROM meters WHERE id = ?1")?.query_row([id], |r| r.get(0))?)
}

/// The number of meters per key status (one pass over the index `meters_key_status`).
pub fn key_status_counts(conn: &Connection) -> Result<Vec<(i64, i64)>> {
    let mut stmt = conn.prepare_cached("SELECT key_status, count(*) FROM meters INDEXED BY meters_key_status GROUP BY key_status")?;
    let rows = stmt.query_map([], |r| Ok((r.get(0)?, r.get(1)?)))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Remove meter `id` at `at`. Its open info-code events close then (the trigger
/// `meters_removed_close_codes` of migration 0034, whichever write removes a meter).
pub fn set_removed(conn: &Connection, id: i64, at: i64) -> Result<()> {
    conn.execute("UPDATE meters SET status = 'removed', removed_at = ?2 WHERE id = ?1", params![id, at])?;
    Ok(())
}

#[derive(Debug, Clone, Default)]
pub struct ListQuery {
    pub search: Option<String>,
    pub group_id: Option<i64>,
    pub sort: Option<String>,
    pub desc: bool,
    pub offset: i64,
    pub limit: i64,
    pub alarms_only: bool,
    /// Only the priority meters (followed live).
    pub priority_only: bool,
    /// Only the meters of this key status (`meters.key_status`, see `keys::KeyStatus`).
    pub key_status: Option<i64>,
    /// Only the meters in service (not removed): the start page's totals.
    pub in_service: bool,
    /// Only the meters in service not heard since this time (never heard counts as not heard).
    pub not_heard_since: Option<i64>,
}

#[derive(Debug, Clone, Serialize)]
pub struct MeterRow {
    pub id: i64,
    #[serde(flatten)]
    pub label: MeterLabel,
    pub manufacturer: String,
    pub device_type: String,
    pub status: String,
    pub last_seen: Option<i64>,
    pub info_codes: Vec<&'static str>,
    pub priority: bool,
    pub key_status: crate::keys::KeyStatus,
    /// The last value of the meter's main register (`Register::default_for` its type).
    pub last_index: Option<LastIndex>,
}

/// A register's last value in its shown unit.
#[derive(Debug, Clone, Serialize)]
pub struct LastIndex {
    pub register: &'static str,
    pub unit: &'static str,
    pub value: f64,
    pub ts: i64,
}

const LIST_FROM: &str = "FROM meters m LEFT JOIN customers c ON c.id = m.customer_id
     WHERE (?1 = 0 OR m.status <> 'removed')
       AND (?2 IS NULL OR m.id IN (SELECT meter_id FROM meter_group_members WHERE group_id = ?2))
       AND (?3 = 0 OR m.info_codes <> 0)
       AND (?4 = 0 OR m.priority <> 0)
       AND (?8 IS NULL OR (m.status <> 'removed' AND (m.last_seen IS NULL OR m.last_seen < ?8)))";

/// One condition per word of the search, on parameters `?9`, `?10`, ...: the word is in the
/// meter's folded `search_text` (see `store::search`).
fn search_filter(words: usize) -> String {
    (0..words).map(|i| format!(" AND instr(m.search_text, ?{}) > 0", FIRST_WORD + i)).collect()
}

/// The parameter number of the search's first word (after `LIST_FROM`'s and `key_filter`'s).
const FIRST_WORD: usize = 9;

/// The key status filter, written out so that the index `meters_key_status` serves it (a
/// page in serial order and the count are ranges of it); `?7 IS NULL` keeps the parameter.
fn key_filter(q: &ListQuery) -> &'static str {
    if q.key_status.is_some() { "AND m.key_status = ?7" } else { "AND ?7 IS NULL" }
}

/// A search counts its matches up to this many (or to the end of the page asked, if
/// further); past it the list says "more than" (`ListPage::more`).
pub const SEARCH_COUNT: i64 = 1000;

/// One page of the meter list.
#[derive(Debug)]
pub struct ListPage {
    /// The matching meters; with `more`, a lower bound (the count stopped there).
    pub total: i64,
    pub more: bool,
    pub rows: Vec<MeterRow>,
}

/// One page of the meter list and the number of matching meters. The search is split into
/// words (`store::search::words`); a meter matches when every word is in its serial,
/// manufacturer, address, postal code, city or customer's name or number, in any order,
/// whatever the case and accents. Words are literal (`%` and `_` are no wildcards); a NUL
/// character is refused.
///
/// A search first takes the ids of the matches in table order, stopping after
/// [`SEARCH_COUNT`] (or the end of the page asked): few matches are then counted exactly
/// and their page sorted among them alone; many ("more than 1,000") are paged through the
/// sort's index, which finds a page at once when matches are dense, and are not counted to
/// the end. Neither sorts nor counts half the park (`releve-bench search`).
pub fn list(conn: &Connection, q: &ListQuery) -> Result<ListPage> {
    let words = search_words(q)?;
    let order = match q.sort.as_deref() {
        // By surname, whatever the order the name is stored in (migration 0039).
        Some("customer") => "c.sort_name",
        Some("address") => "m.address",
        Some("city") => "m.city",
        Some("type") => "m.device_type",
        Some("last_seen") => "m.last_seen",
        _ => "m.serial",
    };
    let dir = if q.desc { "DESC" } else { "ASC" };
    let filter = format!("{} {}", key_filter(q), search_filter(words.len()));
    let values = |limit: i64, offset: i64| list_values(q, &words, limit, offset);
    let count = || -> Result<i64> {
        Ok(conn
            .prepare_cached(&format!("SELECT count(*) {LIST_FROM} {filter}"))?
            .query_row(rusqlite::params_from_iter(values(0, 0)), |r| r.get(0))?)
    };
    let searching = !words.is_empty();
    // A search's matches in table order, at most `bound` + 1 of them (one pass that stops
    // early when the search is broad).
    let mut hits: Option<Vec<i64>> = None;
    let bound = SEARCH_COUNT.max(q.offset.saturating_add(q.limit));
    if searching {
        let mut stmt = conn.prepare_cached(&format!("SELECT m.id {LIST_FROM} {filter} LIMIT ?5"))?;
        let ids = stmt.query_map(rusqlite::params_from_iter(values(bound + 1, 0)), |r| r.get::<_, i64>(0))?;
        let ids: Vec<i64> = ids.collect::<rusqlite::Result<_>>()?;
        if ids.len() as i64 <= bound {
            hits = Some(ids);
        }
    }
    // Few matches: their page among them alone (`+` keeps SQLite off the sort index). Many,
    // or no search: the sort index gives the page.
    let (order, only) = match &hits {
        Some(_) => (format!("+{order}"), format!(" AND m.id IN (SELECT value FROM json_each(?{}))", FIRST_WORD + words.len())),
        None => (order.to_string(), String::new()),
    };
    let sql = format!(
        "SELECT m.id, m.manufacturer, m.device_type, m.status, m.last_seen, m.info_codes, 0,
                m.priority, m.key_status, {LABEL_COLUMNS}
         {LIST_FROM} {filter}{only} ORDER BY {order} {dir}, m.id {dir} LIMIT ?5 OFFSET ?6"
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let mut params = values(q.limit, q.offset);
    if let Some(ids) = &hits {
        params.push(serde_json::to_string(ids).map_err(|e| Error::bad_input("search", e.to_string()))?.into());
    }
    let rows = stmt.query_map(rusqlite::params_from_iter(params), |r| {
        Ok(MeterRow {
            id: r.get(0)?,
            label: MeterLabel::from_row(r, 9)?,
            manufacturer: r.get(1)?,
            device_type: r.get(2)?,
            status: r.get(3)?,
            last_seen: r.get(4)?,
            info_codes: crate::model::info_codes_of_mask(r.get(5)?),
            priority: r.get::<_, i64>(7)? != 0,
            key_status: crate::keys::KeyStatus::from_code(r.get(8)?),
            last_index: None,
        })
    })?;
    let mut rows: Vec<MeterRow> = rows.collect::<rusqlite::Result<_>>()?;
    for row in &mut rows {
        let register = crate::model::Register::default_for(&row.device_type);
        row.last_index = super::readings::latest(conn, row.id, register.code())?.map(|(ts, value)| LastIndex {
            register: register.id(),
            unit: register.shown_unit(),
            value: register.shown(value),
            ts,
        });
    }
    Ok(match (&hits, searching) {
        (Some(ids), _) => ListPage { total: ids.len() as i64, more: false, rows },
        (None, true) => ListPage { total: bound, more: true, rows },
        (None, false) => ListPage { total: count()?, more: false, rows },
    })
}

/// The folded words of the query's search (a NUL character is refused).
fn search_words(q: &ListQuery) -> Result<Vec<String>> {
    let search = q.search.as_deref().map(str::trim).filter(|s| !s.is_empty());
    if search.is_some_and(|s| s.contains('\0')) {
        return Err(Error::bad_input("search", "a search cannot hold a NUL character"));
    }
    Ok(search.map(super::search::words).unwrap_or_default())
}

/// The parameters of `LIST_FROM`, `key_filter` and `search_filter`.
fn list_values(q: &ListQuery, words: &[String], limit: i64, offset: i64) -> Vec<rusqlite::types::Value> {
    let mut v: Vec<rusqlite::types::Value> = vec![
        i64::from(q.in_service).into(),
        q.group_id.into(),
        i64::from(q.alarms_only).into(),
        i64::from(q.priority_only).into(),
        limit.into(),
        offset.into(),
        q.key_status.into(),
        q.not_heard_since.into(),
    ];
    v.extend(words.iter().map(|w| rusqlite::types::Value::from(w.clone())));
    v
}

/// Every meter matching the list query's filters (not its page), by id: "select all N
/// results" acts on the filter here, in the store, never on ids sent by the browser.
pub fn filter_ids(conn: &Connection, q: &ListQuery) -> Result<Vec<i64>> {
    let words = search_words(q)?;
    let sql = format!(
        "SELECT m.id {LIST_FROM} {} {} ORDER BY m.id",
        key_filter(q),
        search_filter(words.len())
    );
    let mut stmt = conn.prepare_cached(&sql)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(list_values(q, &words, 0, 0)), |r| r.get(0))?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// A meter of a selection file (list export, re-read route).
#[derive(Debug, Clone)]
pub struct SelectedMeter {
    pub id: i64,
    pub label: MeterLabel,
    pub manufacturer: String,
    pub device_type: String,
    pub status: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub last_seen: Option<i64>,
    pub info_codes: i64,
}

/// The meters of `ids` (unknown ids skipped), in the order of `ids`.
pub fn selected(conn: &Connection, ids: &[i64]) -> Result<Vec<SelectedMeter>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT m.id, m.manufacturer, m.device_type, m.status, m.lat, m.lon, m.last_seen, m.info_codes, {LABEL_COLUMNS}
         FROM meters m LEFT JOIN customers c ON c.id = m.customer_id WHERE m.id = ?1"
    ))?;
    let mut out = Vec::with_capacity(ids.len());
    for id in ids {
        let row = stmt
            .query_row([id], |r| {
                Ok(SelectedMeter {
                    id: r.get(0)?,
                    manufacturer: r.get(1)?,
                    device_type: r.get(2)?,
                    status: r.get(3)?,
                    lat: r.get(4)?,
                    lon: r.get(5)?,
                    last_seen: r.get(6)?,
                    info_codes: r.get(7)?,
                    label: MeterLabel::from_row(r, 8)?,
                })
            })
            .optional()?;
        out.extend(row);
    }
    Ok(out)
}

/// `s` with LIKE's wildcards and its escape character escaped (`ESCAPE '\\'`).
pub(super) fn like_literal(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '%' | '_' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[derive(Debug, Clone, Serialize)]
pub struct Meter {
    pub id: i64,
    pub serial: String,
    pub manufacturer: String,
    pub version: i64,
    pub device_type: String,
    pub model: String,
    pub status: String,
    #[serde(skip)]
    pub customer_id: Option<i64>,
    pub address: String,
    pub postal_code: String,
    pub city: String,
    pub lat: Option<f64>,
    pub lon: Option<f64>,
    pub installed_at: Option<i64>,
    pub removed_at: Option<i64>,
    pub last_seen: Option<i64>,
    /// Followed live (its 5-minute data on the live screen).
    pub priority: bool,
    pub key_status: crate::keys::KeyStatus,
}

pub fn get(conn: &Connection, id: i64) -> Result<Option<Meter>> {
    Ok(conn
        .query_row(
            "SELECT id, serial, manufacturer, version, device_type, model, status, customer_id, address,
                    postal_code, city, lat, lon, installed_at, removed_at, last_seen, priority, key_status
             FROM meters WHERE id = ?1",
            [id],
            |r| {
                Ok(Meter {
                    id: r.get(0)?,
                    serial: r.get(1)?,
                    manufacturer: r.get(2)?,
                    version: r.get(3)?,
                    device_type: r.get(4)?,
                    model: r.get(5)?,
                    status: r.get(6)?,
                    customer_id: r.get(7)?,
                    address: r.get(8)?,
                    postal_code: r.get(9)?,
                    city: r.get(10)?,
                    lat: r.get(11)?,
                    lon: r.get(12)?,
                    installed_at: r.get(13)?,
                    removed_at: r.get(14)?,
                    last_seen: r.get(15)?,
                    priority: r.get::<_, i64>(16)? != 0,
                    key_status: crate::keys::KeyStatus::from_code(r.get(17)?),
                })
            },
        )
        .optional()?)
}

#[derive(Debug, Clone, Serialize)]
pub struct Exchange {
    pub at: i64,
    pub old_meter_id: i64,
    pub new_meter_id: i64,
    pub old_serial: String,
    pub new_serial: String,
    pub register: String,
    pub final_value: f64,
    pub initial_value: f64,
}

pub struct NewExchange<'a> {
    pub old_meter_id: i64,
    pub new_meter_id: i64,
    pub at: i64,
    pub register: &'a str,
    pub final_value: f64,
    pub initial_value: f64,
    pub user: &'a str,
}

pub fn insert_exchange(conn: &Connection, e: &NewExchange<'_>) -> Result<i64> {
    conn.execute(
        "INSERT INTO meter_exchanges(old_meter_id, new_meter_id, at, register, final_value, initial_value, user)
         VALUES (?1,?2,?3,?4,?5,?6,?7)",
        params![e.old_meter_id, e.new_meter_id, e.at, e.register, e.final_value, e.initial_value, e.user],
    )?;
    Ok(conn.last_insert_rowid())
}

/// The columns `exchange_row` reads, with the joins that name both meters.
const EXCHANGE_COLUMNS: &str = "e.at, e.old_meter_id, e.new_meter_id, o.serial, n.serial, e.register, e.final_value,
     e.initial_value FROM meter_exchanges e JOIN meters o ON o.id = e.old_meter_id JOIN meters n ON n.id = e.new_meter_id";

fn exchange_row(r: &rusqlite::Row<'_>) -> rusqlite::Result<Exchange> {
    Ok(Exchange {
        at: r.get(0)?,
        old_meter_id: r.get(1)?,
        new_meter_id: r.get(2)?,
        old_serial: r.get(3)?,
        new_serial: r.get(4)?,
        register: r.get(5)?,
        final_value: r.get(6)?,
        initial_value: r.get(7)?,
    })
}

/// `exchanges_of`: the two meter indexes (`?1 + 0`: see the module `store`).
pub(super) const EXCHANGES_OF: &str = "SELECT e.at, e.old_meter_id, e.new_meter_id, o.serial, n.serial, e.register,
     e.final_value, e.initial_value FROM meter_exchanges e JOIN meters o ON o.id = e.old_meter_id
     JOIN meters n ON n.id = e.new_meter_id
     WHERE e.old_meter_id = ?1 + 0 OR e.new_meter_id = ?1 + 0 ORDER BY e.at, e.id";

/// Exchanges in which the meter is the old or the new one, oldest first.
pub fn exchanges_of(conn: &Connection, meter_id: i64) -> Result<Vec<Exchange>> {
    let mut stmt = conn.prepare_cached(EXCHANGES_OF)?;
    let rows = stmt.query_map([meter_id], exchange_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// Every exchange with `from <= at < to`, oldest first: `exchanges_of` for all meters at
/// once (exchanges are few; the export reads them once instead of once per meter).
pub fn exchanges_in(conn: &Connection, from: i64, to: i64) -> Result<Vec<Exchange>> {
    let mut stmt = conn.prepare_cached(&format!(
        "SELECT {EXCHANGE_COLUMNS} WHERE e.at >= ?1 AND e.at < ?2 ORDER BY e.at, e.id"
    ))?;
    let rows = stmt.query_map([from, to], exchange_row)?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

pub fn count(conn: &Connection) -> Result<i64> {
    Ok(conn.query_row("SELECT count(*) FROM meters", [], |r| r.get(0))?)
}

/// A meter on the map: position, active info codes, last telegram, brand.
#[derive(Debug, Clone)]
pub struct Position {
    pub id: i64,
    pub lat: f64,
    pub lon: f64,
    pub info_codes: i64,
    pub last_seen: Option<i64>,
    pub manufacturer: String,
}

/// Every placed meter that is not removed, in a group if given, not heard since
/// `not_heard_since` if given (never heard counts as not heard), by id.
pub fn positions(conn: &Connection, group_id: Option<i64>, not_heard_since: Option<i64>) -> Result<Vec<Position>> {
    let mut stmt = conn.prepare_cached(
        "SELECT m.id, m.lat, m.lon, m.info_codes, m.last_seen, m.manufacturer FROM meters m
         WHERE m.lat IS NOT NULL AND m.lon IS NOT NULL AND m.status <> 'removed'
           AND (?1 IS NULL OR m.id IN (SELECT meter_id FROM meter_group_members WHERE group_id = ?1))
           AND (?2 IS NULL OR m.last_seen IS NULL OR m.last_seen < ?2)
         ORDER BY m.id",
    )?;
    let rows = stmt.query_map(params![group_id, not_heard_since], |r| {
        Ok(Position {
            id: r.get(0)?,
            lat: r.get(1)?,
            lon: r.get(2)?,
            info_codes: r.get(3)?,
            last_seen: r.get(4)?,
            manufacturer: r.get(5)?,
        })
    })?;
    Ok(rows.collect::<rusqlite::Result<_>>()?)
}

/// The id of the meter with this serial and manufacturer (unique pair).
pub fn id_of_serial_manufacturer(conn: &Connection, serial: &str, manufacturer: &str) -> Result<Option<i64>> {
    Ok(conn
        .prepare_cached("SELECT id FROM meters WHERE serial = ?1 AND manufacturer = ?2")?
        .query_row([serial, manufacturer], |r| r.get(0))
        .optional()?)
}

/// Give meter `new_id` the installation of `old`: customer, address, GPS; active from `at`.
pub fn take_over(conn: &Connection, new_id: i64, old: &Meter, at: i64) -> Result<()> {
    conn.execute(
        "UPDATE meters SET customer_id = ?2, address = ?3, postal_code = ?4, city = ?5, lat = ?6, lon = ?7,
             status = 'active', installed_at = ?8, removed_at = NULL WHERE id = ?1",
        params![new_id, old.customer_id, old.address, old.postal_code, old.city, old.lat, old.lon, at],
    )?;
    Ok(())
}

/// `exchange_into`: the index of new meters (`?1 + 0`: see the module `store`).
pub(super) const EXCHANGE_INTO: &str = "SELECT e.at, e.old_meter_id, e.new_meter_id, o.serial, n.serial, e.register,
     e.final_value, e.initial_value FROM meter_exchanges e JOIN meters o ON o.id = e.old_meter_id
     JOIN meters n ON n.id = e.new_meter_id
     WHERE e.new_meter_id = ?1 + 0 ORDER BY e.at DESC, e.id DESC LIMIT 1";

/// The latest exchange in which `meter_id` is the new meter (it replaced another one).
pub fn exchange_into(conn: &Connection, meter_id: i64) -> Result<Option<Exchange>> {
    Ok(conn
        .prepare_cached(EXCHANGE_INTO)?
        .query_row([meter_id], exchange_row)
        .optional()?)
}

/// The id of the meter with this serial and manufacturer (any manufacturer when `None`: the first).
pub fn find(conn: &Connection, serial: &str, manufacturer: Option<&str>) -> Result<Option<i64>> {
    match manufacturer {
        None => id_of_serial(conn, serial),
        Some(m) => Ok(conn
            .prepare_cached("SELECT id FROM meters WHERE serial = ?1 AND manufacturer = ?2")?
            .query_row([serial, m], |r| r.get(0))
            .optional()?),
    }
}

/// Where a meter is installed and for whom (the customers-and-meters import).
pub fn set_installation(conn: &Connection, m: &Meter) -> Result<()> {
    conn.prepare_cached(
        "UPDATE meters SET status = ?2, customer_id = ?3, device_type = ?4, address = ?5, postal_code = ?6,
             city = ?7, lat = ?8, lon = ?9 WHERE id = ?1",
    )?
    .execute(params![m.id, m.status, m.customer_id, m.device_type, m.address, m.postal_code, m.city, m.lat, m.lon])?;
    Ok(())
}
