//! Retention on a real SQLite file: twelve meters read every hour for two and a half years
//! (water volume; heat energy with its target date and target energy), info codes, raw
//! telegrams, a few readings and an info code older than ten years. After a run: day, month
//! and year histograms, consumption reports and billing values at every month start over
//! periods crossing the compaction boundary are the same value for value; the last 13
//! months are untouched; what is older than 10 years is gone; the file is smaller; the
//! preview counted what the run removed; a second run removes nothing; a run stopped
//! between chunks leaves each meter either as it was or compacted.

#[path = "support/users.rs"]
mod users;

use chrono::NaiveDate;
use releve_core::access::{self, Permission, Role, Session};
use releve_core::billing::values::{self, Rules};
use releve_core::meters::{self, HistogramQuery, Resolution};
use releve_core::model::Register;
use releve_core::reports::consumption::{self, ConsumptionQuery};
use releve_core::retention;
use releve_core::store::{self, Store};
use serde_json::Value;
use std::ops::ControlFlow;
use std::path::Path;

/// 2026-12-06T12:00Z.
const NOW: i64 = 1_796_558_400;
/// 2024-06-01T00:00Z: the first hourly reading (at 00:07).
const START: i64 = 1_717_200_000;
/// 2015-03-01T00:00Z: eleven years before: readings and an info code that must go.
const ANCIENT: i64 = 1_425_168_000;
const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
const METERS: usize = 12;

fn is_heat(i: usize) -> bool {
    i.is_multiple_of(4)
}

/// A deterministic growth per hour (m3 or kWh), uneven over the day.
fn step(meter: usize, h: i64) -> f64 {
    let x = (h as u64).wrapping_mul(2_654_435_761).wrapping_add(meter as u64 * 97) % 1000;
    (x as f64) / 1000.0 * if (h % 24) < 6 { 0.1 } else { 1.0 }
}

/// The park in a new file: returns the meter ids.
fn build(path: &Path) -> Vec<i64> {
    let store = Store::open(path).expect("open");
    users::create_users(&store, &[("manager", Role::Manager)], START);
    let mut ids = Vec::new();
    let mut conn = store.writer();
    let tx = conn.transaction().expect("tx");
    for i in 0..METERS {
        let m = store::meters::NewMeter {
            serial: format!("{:08}", 7_000_000 + i),
            manufacturer: "KAM".into(),
            device_type: if is_heat(i) { "heat".into() } else { "water".into() },
            status: "active".into(),
            ..Default::default()
        };
        ids.push(store::meters::insert(&tx, &m, START).expect("meter"));
    }
    let put = |meter: i64, register: Register, ts: i64, value: f64| {
        let r = store::readings::Reading { meter_id: meter, register: register.code(), ts, value, telegram_id: Some(ts) };
        // Stored (`at`, the feed's time) in one import of the history at the start.
        assert!(store::readings::insert(&tx, &r, START).expect("reading"));
    };
    let hours = (NOW - START) / HOUR;
    for (i, &id) in ids.iter().enumerate() {
        let main = if is_heat(i) { Register::Energy } else { Register::Volume };
        // Eleven years ago: a few daily temperatures, gone after the run.
        for d in 0..5 {
            put(id, Register::FlowTemp, ANCIENT + d * DAY + 600, 40.0 + d as f64);
        }
        let mut index = 1000.0 + i as f64;
        // The target values: the index at the last 1 January (local midnight ~ 23:00Z).
        let (mut target_day, mut target_value) = (0.0, 0.0);
        for h in 0..hours {
            let ts = START + h * HOUR + 420;
            index = ((index + step(i, h)) * 1000.0).round() / 1000.0;
            put(id, main, ts, index);
            if is_heat(i) {
                let date = chrono::DateTime::from_timestamp(ts, 0).expect("ts").date_naive();
                let jan1 = NaiveDate::from_ymd_opt(chrono::Datelike::year(&date), 1, 1).expect("jan 1");
                let days = (jan1 - NaiveDate::default()).num_days() as f64;
                if days != target_day {
                    // A new billing date: its value is the index at the date's first reading.
                    target_day = days;
                    target_value = index;
                }
                put(id, Register::TargetDate, ts, target_day);
                put(id, Register::TargetEnergy, ts, target_value);
            }
        }
        // Info codes: one starting and ending between readings each quarter, one ended long ago.
        let mut at = START + 40 * DAY + 1234;
        while at < NOW - 30 * DAY {
            let e = store::info_codes::Event { code: "leak".into(), started_at: at, last_seen_at: at + 3 * DAY, ended_at: Some(at + 3 * DAY + 777) };
            store::info_codes::upsert(&tx, id, &e).expect("event");
            at += 91 * DAY;
        }
        let old = store::info_codes::Event { code: "dry".into(), started_at: ANCIENT, last_seen_at: ANCIENT + DAY, ended_at: Some(ANCIENT + 2 * DAY) };
        store::info_codes::upsert(&tx, id, &old).expect("event");
        // A raw telegram a day (60 bytes each).
        let mut day = START;
        while day < NOW {
            let mut raw: Vec<u8> = (0..52).map(|b| (b * 7 + i) as u8).collect();
            raw.extend_from_slice(&day.to_le_bytes());
            let t = store::telegrams::NewTelegram { meter_id: id, received_at: day, rssi: None, import_id: 0, status: "decoded", raw: &raw };
            store::telegrams::insert(&tx, &t).expect("telegram");
            day += DAY;
        }
    }
    // Then the feed of readings arriving since: a row per meter and day, in storing order.
    let mut day = START;
    while day < NOW {
        for &id in &ids {
            tx.execute("INSERT INTO reading_feed(meter_id, register, ts, at) VALUES (?1, 1, ?2, ?2)", [id, day]).expect("feed");
        }
        day += DAY;
    }
    tx.commit().expect("commit");
    drop(conn);
    store.checkpoint().expect("checkpoint");
    ids
}

fn manager(store: &Store) -> Session {
    access::login(store, "manager", "pw", "pc", "local", NOW).expect("login")
}

/// Every reading of a meter, (register, ts, value).
fn readings_of(store: &Store, id: i64) -> Vec<(i64, i64, f64)> {
    let conn = store.reader().expect("reader");
    let mut out = Vec::new();
    for r in Register::ALL {
        for (ts, v) in store::readings::series(&conn, id, r.code(), i64::MIN, i64::MAX).expect("series") {
            out.push((r.code(), ts, v));
        }
    }
    out
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// Everything the screens, reports and billing say of the park over periods crossing the
/// compaction boundary (2025-11-06 for a run on 2026-12-06 keeping 13 months).
fn figures(store: &Store, s: &Session, ids: &[i64]) -> Vec<Value> {
    let mut out = Vec::new();
    for (i, &id) in ids.iter().enumerate() {
        for (res, from, to) in [
            (Resolution::Day, "2024-06-01", "2026-12-05"),
            (Resolution::Month, "2024-06-01", "2026-12-31"),
            (Resolution::Year, "2024-01-01", "2026-12-31"),
            (Resolution::Day, "2025-10-01", "2025-12-31"),
        ] {
            let q = HistogramQuery { meter_id: id, register: None, resolution: res, from: date(from), to: date(to), now: None, fit_to_readings: false };
            let h = meters::meter_histogram(store, s, &q).expect("histogram");
            out.push(serde_json::to_value(&h.buckets).expect("json"));
        }
        let conn = store.reader().expect("reader");
        let tz = releve_core::settings::timezone(&conn).expect("tz");
        let main = if is_heat(i) { Register::Energy } else { Register::Volume };
        let mut d = date("2024-07-01");
        while d < date("2026-12-01") {
            let at = releve_core::settings::local_midnight(tz, d).expect("midnight");
            let p = values::value_at(&conn, id, main, d, at, Rules { tolerance_s: 3 * HOUR, interpolate: true }).expect("value");
            out.push(Value::String(format!("{id} {d} {:?} {:?} {:?}", p.value, p.source, p.ts)));
            d = d.checked_add_months(chrono::Months::new(1)).expect("month");
        }
    }
    for (from, to) in [("2025-10-01", "2025-11-30"), ("2024-07-01", "2025-12-31"), ("2025-03-17", "2025-11-20"), ("2024-06-02", "2026-12-04")] {
        for register in ["volume", "energy"] {
            let q = ConsumptionQuery { from: date(from), to: date(to), group_id: None, above: None, below: None, register: Some(register), device_type: None, offset: 0, limit: 100 };
            let r = consumption::report_consumption(store, s, &q, NOW).expect("report");
            out.push(serde_json::to_value(&r).expect("json"));
        }
    }
    out
}

fn file_size(store: &Store) -> u64 {
    store.checkpoint().expect("checkpoint");
    std::fs::metadata(store.path()).expect("size").len()
}

#[test]
fn a_run_keeps_every_consumption_and_shrinks_the_file() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("retention.db");
    let ids = build(&path);
    let store = Store::open(&path).expect("open");
    let s = manager(&store);
    let before = figures(&store, &s, &ids);
    let all_before: Vec<_> = ids.iter().map(|&id| readings_of(&store, id)).collect();
    let size_before = file_size(&store);

    let preview = retention::retention_preview(&store, &s, NOW).expect("preview");
    let c = preview.cutoffs;
    assert_eq!(c.full_from, releve_core::settings::local_midnight(chrono_tz::Europe::Paris, date("2025-11-06")).expect("m"));
    assert_eq!(c.purge_before, releve_core::settings::local_midnight(chrono_tz::Europe::Paris, date("2016-12-06")).expect("m"));
    assert!(preview.incremental_vacuum, "Store::open makes files in incremental auto-vacuum");
    assert_eq!(preview.counts.readings_purged, 5 * METERS as u64);
    assert_eq!(preview.counts.info_code_events, METERS as u64);
    assert_eq!(preview.counts.meters, METERS as u64);
    assert!(preview.counts.readings_compacted > 200_000, "{:?}", preview.counts);
    assert!(preview.counts.telegrams > 5_000, "{:?}", preview.counts);
    assert_eq!(preview.oldest_kept, Some(START + 420), "the first reading of a series stays");
    assert_eq!(c.feed_before, NOW - 60 * DAY);
    let feed_rows: i64 = store.reader().expect("reader").query_row("SELECT count(*) FROM reading_feed WHERE at < ?1", [c.feed_before], |r| r.get(0)).expect("feed");
    assert_eq!(preview.counts.reading_feed, feed_rows as u64, "the history's rows and the old days' rows");

    let permit = s.permit(Permission::Settings).expect("permit");
    let mut seen = Vec::new();
    let report = retention::retention_run(&store, permit, NOW, &mut |p| {
        seen.push(p);
        ControlFlow::Continue(())
    })
    .expect("run");
    assert_eq!(report.counts, preview.counts, "the preview counted what the run removed");
    assert!(!report.interrupted && !report.full_vacuum);
    assert_eq!(seen.last().map(|p| (p.meters_done, p.meters_total)), Some((METERS as u64, METERS as u64)));

    // The same figures, value for value.
    let after = figures(&store, &s, &ids);
    assert_eq!(before.len(), after.len());
    for (k, (b, a)) in before.iter().zip(&after).enumerate() {
        if b != a {
            let (bs, as_) = (b.to_string(), a.to_string());
            let at = bs.bytes().zip(as_.bytes()).position(|(x, y)| x != y).unwrap_or(0);
            let around = |s: &str| s.get(at.saturating_sub(120)..(at + 120).min(s.len())).unwrap_or("").to_string();
            panic!("figure {k} differs after the run:\nbefore ...{}...\nafter  ...{}...", around(&bs), around(&as_));
        }
    }
    for (i, &id) in ids.iter().enumerate() {
        let now = readings_of(&store, id);
        // The last 13 months untouched; nothing older than 10 years; about one a day between.
        let recent = |v: &Vec<(i64, i64, f64)>| v.iter().filter(|r| r.1 >= c.full_from).cloned().collect::<Vec<_>>();
        assert_eq!(recent(&all_before[i]), recent(&now), "meter {id}: the full period is untouched");
        assert!(!now.iter().any(|r| r.1 < c.purge_before), "meter {id}: nothing older than 10 years");
        let days = ((c.full_from - START) / DAY) as usize;
        let compacted = now.iter().filter(|r| r.1 < c.full_from && r.0 == if is_heat(i) { 2 } else { 1 }).count();
        assert!(compacted >= days && compacted < days + days / 4, "meter {id}: {compacted} readings for {days} days");
    }
    let conn = store.reader().expect("reader");
    let old_events: i64 = conn.query_row("SELECT count(*) FROM info_code_events WHERE started_at < ?1", [c.purge_before], |r| r.get(0)).expect("count");
    assert_eq!(old_events, 0);
    let old_telegrams: i64 = conn.query_row("SELECT count(*) FROM telegrams WHERE received_at < ?1", [c.telegrams_before], |r| r.get(0)).expect("count");
    assert_eq!(old_telegrams, 0);
    let kept_telegrams: i64 = conn.query_row("SELECT count(*) FROM telegrams", [], |r| r.get(0)).expect("count");
    assert!(kept_telegrams >= 12 * 395, "the last 13 months of telegrams stay: {kept_telegrams}");
    let (feed_rows, oldest_feed): (i64, i64) = conn.query_row("SELECT count(*), min(at) FROM reading_feed", [], |r| Ok((r.get(0)?, r.get(1)?))).expect("feed");
    assert_eq!(feed_rows, 12 * 60, "60 days of feed stay");
    assert!(oldest_feed >= c.feed_before);
    let audit: Vec<String> = conn
        .prepare("SELECT details FROM audit_log WHERE event = 'retention_run'")
        .and_then(|mut st| st.query_map([], |r| r.get(0))?.collect())
        .expect("audit");
    assert_eq!(audit.len(), 1, "one audit entry per run");
    assert!(audit[0].contains(&format!("\"readings_compacted\":{}", report.counts.readings_compacted)), "{}", audit[0]);
    drop(conn);

    let size_after = file_size(&store);
    assert!(size_after * 10 < size_before * 6, "the file shrinks: {size_before} -> {size_after} bytes");
    assert_eq!(report.file_bytes_after, size_after);

    // Twice: nothing more.
    let again = retention::retention_run(&store, permit, NOW, &mut |_| ControlFlow::Continue(())).expect("again");
    assert_eq!(again.counts, retention::Counts::default(), "a second run removes nothing");
    assert_eq!(retention::retention_preview(&store, &s, NOW).expect("preview").counts.rows(), 0);
}

#[test]
fn a_run_stopped_between_chunks_leaves_each_meter_old_or_compacted() {
    let dir = tempfile::tempdir().expect("tmp");
    let (a, b) = (dir.path().join("a.db"), dir.path().join("b.db"));
    let ids = build(&a);
    std::fs::copy(&a, &b).expect("copy");
    let whole = Store::open(&a).expect("open a");
    let s = manager(&whole);
    let permit = s.permit(Permission::Settings).expect("permit");
    retention::retention_run(&whole, permit, NOW, &mut |_| ControlFlow::Continue(())).expect("run");

    let stopped = Store::open(&b).expect("open b");
    let original: Vec<_> = ids.iter().map(|&id| readings_of(&stopped, id)).collect();
    let s2 = manager(&stopped);
    let permit = s2.permit(Permission::Settings).expect("permit");
    let report = retention::retention_run(&stopped, permit, NOW, &mut |_| ControlFlow::Break(())).expect("stopped run");
    assert!(report.interrupted);
    assert_eq!(report.chunks, 1);
    let (mut old, mut new) = (0, 0);
    for (i, &id) in ids.iter().enumerate() {
        let now = readings_of(&stopped, id);
        if now == original[i] {
            old += 1;
        } else {
            assert_eq!(now, readings_of(&whole, id), "meter {id}: either untouched or compacted");
            new += 1;
        }
    }
    assert_eq!((new, old), (8, 4), "the first chunk (8 meters) compacted, the rest untouched");
    // A later run finishes the job: the same as one whole run.
    retention::retention_run(&stopped, permit, NOW, &mut |_| ControlFlow::Continue(())).expect("rest");
    for &id in &ids {
        assert_eq!(readings_of(&stopped, id), readings_of(&whole, id));
    }
}

#[test]
fn settings_are_checked_and_audited() {
    let f = users::fixture(NOW);
    let n = retention::RetentionNumbers { readings_full_months: 24, readings_years: 1, telegrams_months: 6, feed_days: 30 };
    let e = retention::retention_settings_set(&f.store, &f.manager, &n, NOW).expect_err("1 year < 24 months");
    assert_eq!(e.code(), "bad_input");
    assert_eq!(e.params().get("reason").and_then(|v| v.as_str()), Some("out_of_range"));
    assert_eq!(e.params().get("field").and_then(|v| v.as_str()), Some("readings_years"));
    let n = retention::RetentionNumbers { readings_full_months: 24, readings_years: 5, telegrams_months: 6, feed_days: 30 };
    let r = retention::retention_settings_set(&f.store, &f.manager, &n, NOW).expect("set");
    assert_eq!((r.readings_full_months, r.readings_years, r.telegrams_months), (24, 5, 6));
    assert_eq!(retention::retention_settings(&f.store, &f.manager).expect("get"), r);
    let clerk = access::login(&f.store, "clerk", "pw", "pc", "local", NOW).expect("clerk");
    assert_eq!(retention::retention_preview(&f.store, &clerk, NOW).expect_err("clerk").code(), "forbidden");
}

#[test]
fn a_file_made_without_incremental_vacuum_is_rewritten_once() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("old.db");
    // A file whose first table came before any auto_vacuum setting (as an old copy might).
    rusqlite::Connection::open(&path).and_then(|c| c.execute_batch("CREATE TABLE before_us(x);")).expect("old file");
    let store = Store::open(&path).expect("open");
    users::create_users(&store, &[("manager", Role::Manager)], NOW);
    let s = manager(&store);
    assert!(!retention::retention_preview(&store, &s, NOW).expect("preview").incremental_vacuum);
    let permit = s.permit(Permission::Settings).expect("permit");
    let first = retention::retention_run(&store, permit, NOW, &mut |_| ControlFlow::Continue(())).expect("run");
    assert!(first.full_vacuum, "the first run rewrites the file");
    assert!(retention::retention_preview(&store, &s, NOW).expect("preview").incremental_vacuum);
    let second = retention::retention_run(&store, permit, NOW, &mut |_| ControlFlow::Continue(())).expect("run");
    assert!(!second.full_vacuum, "then never again");
}

/// A run that fails (here SQLite refuses the deletes: a trigger raises) leaves an audit entry
/// of its own, `retention_failed`, saying how far it went; the start page counts it for 24
/// hours; the readings are all still there.
#[test]
fn a_failed_run_is_audited_and_on_the_start_page() {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("failing.db");
    let ids = build(&path);
    let store = Store::open(&path).expect("open");
    let s = manager(&store);
    let before: Vec<_> = ids.iter().map(|&id| readings_of(&store, id)).collect();
    store
        .writer()
        .execute_batch("CREATE TEMP TRIGGER no_delete BEFORE DELETE ON main.readings BEGIN SELECT RAISE(ABORT, 'the disk says no'); END;")
        .expect("trigger");
    let permit = s.permit(Permission::Settings).expect("permit");
    let e = retention::retention_run(&store, permit, NOW, &mut |_| ControlFlow::Continue(())).expect_err("the deletes fail");
    assert!(e.to_string().contains("the disk says no"), "{e}");
    for (i, &id) in ids.iter().enumerate() {
        assert_eq!(readings_of(&store, id), before[i], "meter {id}: nothing half-deleted");
    }
    let conn = store.reader().expect("reader");
    let (event, details): (String, String) = conn
        .query_row("SELECT event, details FROM audit_log WHERE event LIKE 'retention%' ORDER BY id DESC LIMIT 1", [], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("audit");
    assert_eq!(event, "retention_failed");
    assert!(details.starts_with("failed after 0 chunks (0 meters)"), "{details}");
    drop(conn);
    let today = releve_core::today::today(&store, &s, NOW + 3_600).expect("today");
    assert_eq!(today.failed_retention, 1);
    assert_eq!(releve_core::today::today(&store, &s, NOW + 25 * HOUR).expect("a day later").failed_retention, 0);
}
