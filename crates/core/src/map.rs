//! The meter map: every placed meter as compact parallel arrays (one call draws 100,000
//! meters), its status (ok, active info code, not heard lately), and the map settings
//! (tile URL for users with internet, days before a meter counts as not heard).

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::{self, Store};
use chrono::NaiveDate;
use serde::Serialize;

/// `status` values of `MapPoints`.
pub const STATUS_OK: u8 = 0;
pub const STATUS_ALARM: u8 = 1;
pub const STATUS_STALE: u8 = 2;

const TILE_URL_KEY: &str = "map.tile_url";
const STALE_DAYS_KEY: &str = "map.stale_days";
const MBTILES_KEY: &str = "map.mbtiles_path";
const CACHE_MB_KEY: &str = "map.cache_mb";
pub const DEFAULT_CACHE_MB: i64 = 200;
pub const DEFAULT_STALE_DAYS: i64 = 3;

#[derive(Debug, Clone, Default)]
pub struct MapQuery {
    pub group_id: Option<i64>,
    /// Only meters not heard since this local date (never heard included).
    pub not_heard_since: Option<NaiveDate>,
}

/// Parallel arrays, index i = one meter. `brand[i]` indexes `brands` (manufacturer codes).
#[derive(Debug, Serialize)]
pub struct MapPoints {
    pub count: usize,
    pub ids: Vec<i64>,
    pub lat: Vec<f64>,
    pub lon: Vec<f64>,
    /// 0 ok, 1 active info code, 2 not heard for `stale_days` (or never).
    pub status: Vec<u8>,
    pub brand: Vec<u8>,
    pub brands: Vec<String>,
    pub stale_days: i64,
}

/// 5 decimals of a degree are about a metre: enough, and a third shorter in JSON.
fn round5(v: f64) -> f64 {
    (v * 1e5).round() / 1e5
}

/// Every placed meter (not removed) matching the query, with its status as of `now`.
pub fn map_points(store: &Store, session: &Session, q: &MapQuery, now: i64) -> Result<MapPoints> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let stale_days = stale_days_of(&conn)?;
    let since = match q.not_heard_since {
        Some(d) => Some(crate::settings::local_midnight(crate::settings::timezone(&conn)?, d)?),
        None => None,
    };
    let rows = store::meters::positions(&conn, q.group_id, since)?;
    drop(conn);
    let stale_before = now - stale_days * 86_400;
    let n = rows.len();
    let mut out = MapPoints {
        count: n,
        ids: Vec::with_capacity(n),
        lat: Vec::with_capacity(n),
        lon: Vec::with_capacity(n),
        status: Vec::with_capacity(n),
        brand: Vec::with_capacity(n),
        brands: Vec::new(),
        stale_days,
    };
    for p in rows {
        let brand = match out.brands.iter().position(|b| *b == p.manufacturer) {
            Some(i) => i,
            None => {
                out.brands.push(p.manufacturer);
                out.brands.len() - 1
            }
        };
        let status = if p.info_codes != 0 {
            STATUS_ALARM
        } else if p.last_seen.is_none_or(|t| t < stale_before) {
            STATUS_STALE
        } else {
            STATUS_OK
        };
        out.ids.push(p.id);
        out.lat.push(round5(p.lat));
        out.lon.push(round5(p.lon));
        out.status.push(status);
        out.brand.push(u8::try_from(brand).unwrap_or(u8::MAX));
    }
    Ok(out)
}

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct MapSettings {
    /// XYZ/WMTS `https://.../{z}/{x}/{y}.png` or WMS `...&BBOX={bbox}...` (EPSG:3857),
    /// fetched through the tile cache; empty: none.
    pub tile_url: String,
    pub stale_days: i64,
    /// The utility's MBTiles file (raster), inside the allowed folders; empty: none. Comes
    /// before `tile_url`.
    pub mbtiles_path: String,
    /// The tile cache's size limit in megabytes.
    pub cache_mb: i64,
}

/// The base map's sources as set (for `basemap::map_tile`).
pub fn basemap(store: &Store) -> Result<crate::basemap::Basemap> {
    let conn = store.reader()?;
    let get = |k| -> Result<Option<String>> { Ok(store::settings::get(&conn, k)?.filter(|v| !v.trim().is_empty())) };
    Ok(crate::basemap::Basemap {
        mbtiles: get(MBTILES_KEY)?.map(std::path::PathBuf::from),
        url: get(TILE_URL_KEY)?,
        cache_bytes: cache_mb_of(&conn)? << 20,
    })
}

fn cache_mb_of(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(store::settings::get(conn, CACHE_MB_KEY)?.and_then(|v| v.parse::<i64>().ok()).filter(|d| *d > 0).unwrap_or(DEFAULT_CACHE_MB))
}

fn stale_days_of(conn: &rusqlite::Connection) -> Result<i64> {
    Ok(store::settings::get(conn, STALE_DAYS_KEY)?
        .and_then(|v| v.parse::<i64>().ok())
        .filter(|d| *d > 0)
        .unwrap_or(DEFAULT_STALE_DAYS))
}

pub fn map_settings(store: &Store, session: &Session) -> Result<MapSettings> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    let tile_url = store::settings::get(&conn, TILE_URL_KEY)?.unwrap_or_default();
    let mbtiles_path = store::settings::get(&conn, MBTILES_KEY)?.unwrap_or_default();
    Ok(MapSettings { tile_url, stale_days: stale_days_of(&conn)?, mbtiles_path, cache_mb: cache_mb_of(&conn)? })
}

/// Change the map settings for everyone (needs `settings`).
pub fn map_set_settings(store: &Store, session: &Session, new: &MapSettings, now: i64) -> Result<MapSettings> {
    let permit = session.permit(Permission::Settings)?;
    let url = new.tile_url.trim();
    if !url.is_empty() {
        let scheme_ok = url.starts_with("https://") || url.starts_with("http://");
        let xyz = ["{z}", "{x}", "{y}"].iter().all(|p| url.contains(p));
        let wms = url.contains("{bbox}") || url.contains("{BBOX}");
        if !scheme_ok || !(xyz || wms) {
            return Err(Error::bad_input(
                "tile_url",
                "a tile address starts with https:// and contains {z}, {x} and {y} (or a WMS {bbox}), e.g. https://tile.openstreetmap.org/{z}/{x}/{y}.png",
            ));
        }
    }
    let mbtiles = new.mbtiles_path.trim();
    let mbtiles = if mbtiles.is_empty() { String::new() } else { crate::basemap::check_mbtiles(store, mbtiles)?.display().to_string() };
    if !(1..=100_000).contains(&new.cache_mb) {
        return Err(Error::invalid("cache_mb", crate::problem::Reason::OutOfRange { value: new.cache_mb as f64, min: 1.0, max: 100_000.0 }));
    }
    if !(1..=3650).contains(&new.stale_days) {
        return Err(Error::bad_input("stale_days", "between 1 and 3650 days"));
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    store::settings::set(&tx, TILE_URL_KEY, url)?;
    store::settings::set(&tx, STALE_DAYS_KEY, &new.stale_days.to_string())?;
    store::settings::set(&tx, MBTILES_KEY, &mbtiles)?;
    store::settings::set(&tx, CACHE_MB_KEY, &new.cache_mb.to_string())?;
    let detail = format!("tile_url={url} stale_days={} mbtiles_path={mbtiles} cache_mb={}", new.stale_days, new.cache_mb);
    store::audit::record_permit(&tx, permit, now, "map_settings", &detail)?;
    tx.commit()?;
    Ok(MapSettings { tile_url: url.to_string(), stale_days: new.stale_days, mbtiles_path: mbtiles, cache_mb: new.cache_mb })
}
