//! Charts without surprises (issue 15), through the core on a real SQLite file: the current
//! month or year flagged partial (histogram, comparison, group sum), hours of a meter read
//! once a day shown as days, and the map's offline base map: an MBTiles file inside the
//! allowed folders, tiles fetched once from a loopback server kept in a bounded cache.

#[path = "support/users.rs"]
mod users;

use chrono::NaiveDate;
use releve_core::basemap;
use releve_core::compare::{self, CompareQuery};
use releve_core::map::{self, MapSettings};
use releve_core::meters::{self, HistogramQuery, Resolution};
use releve_core::store;
use releve_core::Error;
use std::io::{Read, Write};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;

const DAY: i64 = 86_400;
/// 2026-01-01T00:00 in Paris.
const JAN1: i64 = 1_767_222_000;
/// 2026-03-15T12:00 in Paris: March is not over.
const NOW: i64 = JAN1 + (31 + 28 + 14) * DAY + 12 * 3600;

fn d(y: i32, m: u32, day: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, day).expect("date")
}

/// Two water meters read daily at 06:00 from January 1st to today, 1 m3 a day and 2 m3 a day,
/// in group "Secteur".
fn park(f: &users::Fixture) -> (i64, i64, i64) {
    let conn = f.store.writer();
    let mut ids = Vec::new();
    for (serial, per_day) in [("11111111", 1.0), ("22222222", 2.0)] {
        let m = store::meters::NewMeter {
            serial: serial.into(),
            manufacturer: "KAM".into(),
            device_type: "water".into(),
            status: "active".into(),
            ..Default::default()
        };
        let id = store::meters::insert(&conn, &m, JAN1).expect("meter");
        let mut ts = JAN1 + 6 * 3600;
        let mut v = 100.0;
        while ts <= NOW {
            let r = store::readings::Reading { meter_id: id, register: 1, ts, value: v, telegram_id: None };
            store::readings::insert(&conn, &r, 0).expect("reading");
            ts += DAY;
            v += per_day;
        }
        ids.push(id);
    }
    let group = store::groups::create(&conn, "Secteur", JAN1).expect("group");
    for &id in &ids {
        store::groups::add_member(&conn, group, id).expect("member");
    }
    (ids[0], ids[1], group)
}

#[test]
fn the_current_month_is_partial_in_the_histogram_the_comparison_and_the_group_sum() {
    let f = users::fixture(NOW);
    let (a, b, group) = park(&f);
    let q = HistogramQuery { meter_id: a, register: None, resolution: Resolution::Month, from: d(2026, 1, 1), to: d(2026, 3, 31), now: Some(NOW), fit_to_readings: true };
    let h = meters::meter_histogram(&f.store, &f.manager, &q).expect("histogram");
    let partial: Vec<Option<i64>> = h.buckets.iter().map(|b| b.partial_until).collect();
    // March's last reading: the 15th at 06:00 (NOW is the 15th at 12:00).
    assert_eq!(partial, vec![None, None, Some(NOW - 6 * 3600)]);
    let json = serde_json::to_value(&h).expect("json");
    assert!(json["buckets"][0].get("partial_until").is_none(), "whole buckets carry no flag");
    assert_eq!(json["buckets"][2]["partial_until"], NOW - 6 * 3600);
    // Without `now` (the open API) nothing is flagged.
    let h = meters::meter_histogram(&f.store, &f.manager, &HistogramQuery { now: None, ..q }).expect("histogram");
    assert!(h.buckets.iter().all(|b| b.partial_until.is_none()));

    let ids = [a, b];
    let cq = CompareQuery { ids: &ids, register: None, resolution: Resolution::Year, from: d(2025, 1, 1), to: d(2026, 12, 31), sum_of_group: Some(group), now: NOW };
    let c = compare::meters_compare(&f.store, &f.manager, &cq).expect("compare");
    assert_eq!(c.series.len(), 3);
    for s in &c.series {
        assert_eq!(s.buckets[0].partial_until, None, "{}: 2025 has no reading", s.name);
        assert_eq!(s.buckets[1].partial_until, Some(NOW - 6 * 3600), "{}: 2026 is not over", s.name);
    }
    assert_eq!(c.series[2].kind, "group_sum");
    assert_eq!(c.series[2].buckets[1].value, Some(73.0 + 146.0));
}

#[test]
fn hours_of_a_meter_read_once_a_day_are_shown_as_days() {
    let f = users::fixture(NOW);
    let (a, _, _) = park(&f);
    let q = HistogramQuery { meter_id: a, register: None, resolution: Resolution::Hour, from: d(2026, 3, 10), to: d(2026, 3, 12), now: Some(NOW), fit_to_readings: true };
    let h = meters::meter_histogram(&f.store, &f.manager, &q).expect("histogram");
    assert_eq!((h.resolution, h.asked, h.reading_interval), ("day", Some("hour"), Some(DAY)));
    assert_eq!(h.buckets.iter().map(|b| b.value).collect::<Vec<_>>(), vec![Some(1.0); 3]);
    // The open API asks for hours as they are.
    let h = meters::meter_histogram(&f.store, &f.manager, &HistogramQuery { fit_to_readings: false, ..q }).expect("histogram");
    assert_eq!((h.resolution, h.asked, h.buckets.len()), ("hour", None, 72));
}

/// A 1x1 PNG (any valid PNG bytes do: the map only draws them).
fn png(tag: u8) -> Vec<u8> {
    let mut v = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
    v.extend(std::iter::repeat_n(tag, 1000));
    v
}

/// An MBTiles file (the spec's schema) with tiles 0/0/0 and 1/1/0 (XYZ; TMS row 1 - 0 = 1).
fn write_mbtiles(path: &std::path::Path, format: &str) {
    let conn = rusqlite::Connection::open(path).expect("mbtiles");
    conn.execute_batch(
        "CREATE TABLE metadata (name TEXT, value TEXT);
         CREATE TABLE tiles (zoom_level INTEGER, tile_column INTEGER, tile_row INTEGER, tile_data BLOB);
         CREATE UNIQUE INDEX tile_index ON tiles (zoom_level, tile_column, tile_row);",
    )
    .expect("schema");
    conn.execute("INSERT INTO metadata VALUES ('format', ?1), ('name', 'Saint-Chamond')", [format]).expect("meta");
    conn.execute("INSERT INTO tiles VALUES (0, 0, 0, ?1), (1, 1, 1, ?2)", rusqlite::params![png(1), png(2)]).expect("tiles");
}

fn settings(tile_url: &str, mbtiles_path: &str, cache_mb: i64) -> MapSettings {
    MapSettings { tile_url: tile_url.into(), stale_days: 3, mbtiles_path: mbtiles_path.into(), cache_mb }
}

#[test]
fn an_mbtiles_file_inside_the_allowed_folders_serves_its_tiles() {
    let f = users::fixture(NOW);
    let maps = tempfile::tempdir().expect("maps");
    let file = maps.path().join("commune.mbtiles");
    write_mbtiles(&file, "png");
    let path = file.display().to_string();
    // Not yet allowed: refused by the folders rule.
    let e = map::map_set_settings(&f.store, &f.manager, &settings("", &path, 50), NOW).expect_err("not allowed");
    assert_eq!(e.code(), "bad_input");
    assert!(matches!(e, Error::Folder { .. }), "{e:?}");
    releve_core::folders::folders_allowed_set(&f.store, &f.manager, &[maps.path().display().to_string()], NOW).expect("allow");
    // A vector MBTiles is refused with its reason.
    let vector = maps.path().join("vector.mbtiles");
    write_mbtiles(&vector, "pbf");
    let e = map::map_set_settings(&f.store, &f.manager, &settings("", &vector.display().to_string(), 50), NOW).expect_err("pbf");
    assert!(format!("{e:?}").contains("pbf"), "{e:?}");
    map::map_set_settings(&f.store, &f.manager, &settings("", &path, 50), NOW).expect("save");

    let tile = basemap::map_tile(&f.store, &f.manager, 1, 1, 0, NOW).expect("tile").expect("some");
    assert_eq!((tile.source, tile.content_type.as_str(), tile.data), ("mbtiles", "image/png", png(2)));
    assert_eq!(basemap::map_tile(&f.store, &f.manager, 0, 0, 0, NOW).expect("tile").map(|t| t.data), Some(png(1)));
    assert_eq!(basemap::map_tile(&f.store, &f.manager, 1, 0, 0, NOW).expect("tile"), None, "outside the file: no tile");
    assert!(basemap::map_tile(&f.store, &f.manager, 1, 2, 0, NOW).is_err(), "x beyond 2^z");
    let json = serde_json::to_value(basemap::map_tile(&f.store, &f.manager, 0, 0, 0, NOW).expect("t")).expect("json");
    assert_eq!(json["data"].as_str().map(|s| s.starts_with("iVBORw0K")), Some(true), "base64 of a PNG");
    // The folder taken off the list: the file is no longer read.
    releve_core::folders::folders_allowed_set(&f.store, &f.manager, &[], NOW).expect("disallow");
    assert!(basemap::map_tile(&f.store, &f.manager, 0, 0, 0, NOW).is_err());
}

/// A loopback tile server answering every GET with a 1,008-byte PNG while `up`; counts
/// the requests answered.
fn tile_server() -> (String, Arc<AtomicUsize>, Arc<AtomicBool>) {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
    let addr = listener.local_addr().expect("addr");
    let hits = Arc::new(AtomicUsize::new(0));
    let up = Arc::new(AtomicBool::new(true));
    let (h, u) = (hits.clone(), up.clone());
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut s) = stream else { break };
            if !u.load(Ordering::SeqCst) {
                continue; // dropped: the connection closes unanswered
            }
            let mut buf = [0u8; 2048];
            let n = s.read(&mut buf).unwrap_or(0);
            let line = String::from_utf8_lossy(&buf[..n]).lines().next().unwrap_or("").to_string();
            h.fetch_add(1, Ordering::SeqCst);
            let tag = line.bytes().fold(0u8, |a, c| a.wrapping_add(c));
            let body = png(tag);
            let head = format!("HTTP/1.1 200 OK\r\nContent-Type: image/png\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", body.len());
            let _ = s.write_all(head.as_bytes());
            let _ = s.write_all(&body);
        }
    });
    (format!("http://{addr}/{{z}}/{{x}}/{{y}}.png"), hits, up)
}

#[test]
fn remote_tiles_are_fetched_once_kept_offline_and_the_cache_stays_bounded() {
    let f = users::fixture(NOW);
    let (url, hits, up) = tile_server();
    map::map_set_settings(&f.store, &f.manager, &settings(&url, "", 1), NOW).expect("save");
    let first = basemap::map_tile(&f.store, &f.manager, 3, 1, 2, NOW).expect("tile").expect("fetched");
    assert_eq!(first.source, "remote");
    let again = basemap::map_tile(&f.store, &f.manager, 3, 1, 2, NOW + 10).expect("tile").expect("cached");
    assert_eq!((again.source, &again.data), ("cache", &first.data));
    assert_eq!(hits.load(Ordering::SeqCst), 1, "fetched once");

    // 1 MB cache, 1,008-byte tiles: at most 1,040 tiles kept, the least recently used dropped.
    for i in 0..1100u32 {
        basemap::map_tile(&f.store, &f.manager, 11, i, 0, NOW + 100 + i64::from(i)).expect("tile");
    }
    let info = basemap::map_tile_cache(&f.store, &f.manager).expect("cache");
    assert!(info.bytes <= 1 << 20 && info.tiles >= 1000, "{info:?}");
    assert!(info.bytes > (1 << 20) - 2000, "{info:?}");

    // Offline (the server gone): cached tiles still come, others are blank, never an error.
    up.store(false, Ordering::SeqCst);
    let kept = basemap::map_tile(&f.store, &f.manager, 11, 1099, 0, NOW + 5000).expect("tile").expect("kept");
    assert_eq!(kept.source, "cache");
    // The least recently used were dropped first: tile 11/0/0 is gone, blank offline.
    assert_eq!(basemap::map_tile(&f.store, &f.manager, 11, 0, 0, NOW + 6000).expect("tile"), None);
}

#[test]
fn the_consumer_report_draws_the_current_month_lighter_and_says_so() {
    use releve_core::consumer_report::{consumer_report, ConsumerReportRequest, Format, Locale};
    let f = users::fixture(NOW);
    let (a, _, _) = park(&f);
    for (locale, words) in [(Locale::Fr, "Période en cours (barre claire) : relevé jusqu&apos;au 15"), (Locale::En, "Period not over (light bar): read up to 15")] {
        let req = ConsumerReportRequest { meter_id: a, from: d(2026, 1, 1), to: d(2026, 3, 31), resolution: Resolution::Month, format: Format::Html, locale: Some(locale) };
        let html = String::from_utf8(consumer_report(&f.store, &f.manager, &req, NOW).expect("report").bytes).expect("utf-8");
        assert!(html.contains(words), "{locale:?}: {}", &html[html.find("legend").unwrap_or(0)..][..600.min(html.len())]);
        assert!(html.matches("#A9C6E8").count() + html.matches("#a9c6e8").count() >= 2, "the lighter bar drawn and its swatch");
    }
    // A period that is over: no note.
    let req = ConsumerReportRequest { meter_id: a, from: d(2026, 1, 1), to: d(2026, 2, 28), resolution: Resolution::Month, format: Format::Html, locale: Some(Locale::En) };
    let html = String::from_utf8(consumer_report(&f.store, &f.manager, &req, NOW).expect("report").bytes).expect("utf-8");
    assert!(!html.contains("Period not over"));
}
