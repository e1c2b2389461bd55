//! The map's background without internet: tiles from the utility's MBTiles or PMTiles (v3,
//! read by [`crate::pmtiles`]) file (a path
//! inside the allowed folders, set in the map settings), else from a WMS/WMTS/XYZ address,
//! each tile fetched once and kept in the tile cache file beside the database (bounded:
//! least recently used tiles dropped past `cache_mb`), served from the cache when offline.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::problem::Reason;
use crate::store::{self, Store};
use serde::Serialize;
use std::path::{Path, PathBuf};

/// One tile for the map, or none (`map_tile` answers `null`: a blank tile).
#[derive(Debug, Serialize, PartialEq)]
pub struct Tile {
    /// `mbtiles`, `pmtiles`, `cache` or `remote`.
    pub source: &'static str,
    pub content_type: String,
    /// The image bytes (base64 in JSON).
    #[serde(serialize_with = "base64_bytes")]
    pub data: Vec<u8>,
}

fn base64_bytes<S: serde::Serializer>(data: &[u8], s: S) -> std::result::Result<S::Ok, S::Error> {
    use base64::Engine;
    s.serialize_str(&base64::engine::general_purpose::STANDARD.encode(data))
}

/// Where the base map comes from, read from the map settings.
pub struct Basemap {
    pub mbtiles: Option<PathBuf>,
    pub url: Option<String>,
    pub cache_bytes: i64,
}

/// The deepest zoom served (Leaflet's default maximum).
pub const MAX_ZOOM: u8 = 22;

/// The tile cache file: `<database>.tiles`.
pub fn cache_path(store: &Store) -> PathBuf {
    let mut p = store.path().as_os_str().to_owned();
    p.push(".tiles");
    PathBuf::from(p)
}

/// Whether a file starts like a PMTiles file (else it is read as MBTiles).
fn is_pmtiles(path: &Path) -> bool {
    use std::io::Read;
    let mut head = [0u8; 7];
    std::fs::File::open(path).and_then(|mut f| f.read_exact(&mut head)).is_ok() && &head == b"PMTiles"
}

/// An MBTiles or PMTiles file's path if it may be read: absolute, its folder inside the
/// allowed folders (`folders::check`), an SQLite file with a raster `format` (png, jpg,
/// webp) or a PMTiles v3 file of raster tiles (its header and sections checked).
pub fn check_mbtiles(store: &Store, path: &str) -> Result<PathBuf> {
    let given = Path::new(path.trim());
    let folder = given.parent().ok_or_else(|| Error::invalid("mbtiles_path", Reason::Required))?;
    let folder = crate::folders::check(store, &folder.to_string_lossy())?;
    let file = folder.join(given.file_name().ok_or_else(|| Error::invalid("mbtiles_path", Reason::Required))?);
    let unreadable = |detail: String| Error::invalid("mbtiles_path", Reason::Unreadable { detail });
    if !file.is_file() {
        return Err(unreadable(format!("{}: no such file", file.display())));
    }
    if is_pmtiles(&file) {
        crate::pmtiles::PmTiles::open(&file).map_err(|e| unreadable(format!("{}: {e}", file.display())))?;
        return Ok(file);
    }
    let conn = store::tiles::mbtiles_open(&file).map_err(|e| unreadable(e.to_string()))?;
    let format = store::tiles::mbtiles_metadata(&conn, "format").map_err(|_| unreadable("not an MBTiles file (no metadata table)".into()))?;
    match format.as_deref() {
        Some("png" | "jpg" | "jpeg" | "webp") | None => Ok(file),
        Some(other) => Err(unreadable(format!("tiles of format '{other}' (vector tiles) cannot be drawn: export raster tiles (png, jpg)"))),
    }
}

/// The URL of tile z/x/y from a template: XYZ/WMTS `{z}`, `{x}`, `{y}` (and `{s}` -> `a`),
/// or WMS `{bbox}` (EPSG:3857 metres: minx,miny,maxx,maxy) (pure).
pub fn tile_url(template: &str, z: u8, x: u32, y: u32) -> String {
    const HALF: f64 = 20_037_508.342_789_244;
    let n = f64::from(1u32 << z.min(30));
    let size = 2.0 * HALF / n;
    let minx = -HALF + f64::from(x) * size;
    let maxy = HALF - f64::from(y) * size;
    let bbox = format!("{minx:.3},{:.3},{:.3},{maxy:.3}", maxy - size, minx + size);
    template
        .replace("{z}", &z.to_string())
        .replace("{x}", &x.to_string())
        .replace("{y}", &y.to_string())
        .replace("{s}", "a")
        .replace("{bbox}", &bbox)
        .replace("{BBOX}", &bbox)
}

fn content_type_of(data: &[u8]) -> &'static str {
    match data {
        [0x89, b'P', b'N', b'G', ..] => "image/png",
        [0xFF, 0xD8, ..] => "image/jpeg",
        [b'R', b'I', b'F', b'F', _, _, _, _, b'W', b'E', b'B', b'P', ..] => "image/webp",
        _ => "application/octet-stream",
    }
}

/// Tile z/x/y of the base map (needs `view`): the MBTiles file's, else the cache's, else
/// fetched from the address and kept. `None`: no base map, no such tile, or offline with
/// the tile never fetched.
pub fn map_tile(store: &Store, session: &Session, z: u8, x: u32, y: u32, now: i64) -> Result<Option<Tile>> {
    session.permit(Permission::View)?;
    if z > MAX_ZOOM || u64::from(x) >= 1u64 << z || u64::from(y) >= 1u64 << z {
        return Err(Error::invalid("tile", Reason::OutOfRange { value: f64::from(z), min: 0.0, max: f64::from(MAX_ZOOM) }));
    }
    let base = crate::map::basemap(store)?;
    if let Some(path) = base.mbtiles {
        // Checked again at each use: a folder taken off the list is no longer read.
        let path = check_mbtiles(store, &path.to_string_lossy())?;
        if is_pmtiles(&path) {
            let unreadable = |e: crate::pmtiles::PmError| Error::invalid("mbtiles_path", Reason::Unreadable { detail: format!("{}: {e}", path.display()) });
            let mut pm = crate::pmtiles::PmTiles::open(&path).map_err(unreadable)?;
            let content_type = pm.header.content_type();
            return Ok(pm.tile(z, x, y).map_err(unreadable)?.map(|data| Tile {
                source: "pmtiles",
                content_type: if content_type_of(&data) == "application/octet-stream" { content_type } else { content_type_of(&data) }.to_string(),
                data,
            }));
        }
        let conn = store::tiles::mbtiles_open(&path)?;
        return Ok(store::tiles::mbtiles_tile(&conn, z, x, y)?.map(|data| Tile {
            source: "mbtiles",
            content_type: content_type_of(&data).to_string(),
            data,
        }));
    }
    let Some(template) = base.url else { return Ok(None) };
    let mut cache = store::tiles::cache_open(&cache_path(store))?;
    if let Some((content_type, data)) = store::tiles::cache_get(&cache, &template, z, x, y, now)? {
        return Ok(Some(Tile { source: "cache", content_type, data }));
    }
    let Some(data) = fetch(&tile_url(&template, z, x, y)) else { return Ok(None) };
    let content_type = content_type_of(&data).to_string();
    store::tiles::cache_put(&mut cache, &template, z, x, y, &content_type, &data, now, base.cache_bytes)?;
    Ok(Some(Tile { source: "remote", content_type, data }))
}

/// The image at `url`, or `None` when it cannot be had now (offline, refused, not an
/// image): the map then shows a blank tile, never an error per tile.
fn fetch(url: &str) -> Option<Vec<u8>> {
    let response = crate::http::client().ok()?.get(url).timeout(std::time::Duration::from_secs(10)).send().ok()?;
    if !response.status().is_success() {
        return None;
    }
    let data = response.bytes().ok()?.to_vec();
    (content_type_of(&data) != "application/octet-stream").then_some(data)
}

#[derive(Debug, Serialize)]
pub struct CacheInfo {
    pub tiles: i64,
    pub bytes: i64,
}

/// What the tile cache holds (needs `view`).
pub fn map_tile_cache(store: &Store, session: &Session) -> Result<CacheInfo> {
    session.permit(Permission::View)?;
    let path = cache_path(store);
    if !path.exists() {
        return Ok(CacheInfo { tiles: 0, bytes: 0 });
    }
    let (tiles, bytes) = store::tiles::cache_size(&store::tiles::cache_open(&path)?)?;
    Ok(CacheInfo { tiles, bytes })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tile_urls_fill_xyz_and_the_wms_box() {
        assert_eq!(tile_url("https://t/{z}/{x}/{y}.png", 3, 4, 5), "https://t/3/4/5.png");
        let wms = tile_url("http://w/wms?SERVICE=WMS&BBOX={bbox}&WIDTH=256", 1, 1, 0);
        assert_eq!(wms, "http://w/wms?SERVICE=WMS&BBOX=0.000,0.000,20037508.343,20037508.343&WIDTH=256");
    }
}
