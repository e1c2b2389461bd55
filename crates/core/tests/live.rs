//! The live screen's data: a push signals the meters it gave new readings (at once to a
//! waiter of this process, within a poll to another process's), priority meters are marked
//! (edit permission, audited, an unknown meter refuses all) and read back with their last
//! 24 hours in 5-minute values.

#[path = "support/users.rs"]
mod users;

use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::DeviceType;
use releve_core::live::{live, meter_priority_set, LiveQuery};
use releve_core::sources::{ingest_push, source_add, NewSource};
use releve_core::store::Changed;
use std::time::{Duration, Instant};

const NOW: i64 = 1_767_571_200; // 2026-01-05T00:00:00Z

fn telegram(serial: &str, access: u8, litres: u32) -> String {
    let mut payload = vec![0x04, 0x13];
    payload.extend_from_slice(&litres.to_le_bytes());
    let spec = FrameSpec { manufacturer: "KAM", id: serial, version: 0x1b, device_type: DeviceType::Water, access_number: access, status: 0 };
    hex::encode(wmbus_frame(&spec, &payload, None))
}

/// A jsonl body: one frame per (serial, minutes before NOW, litres).
fn body(frames: &[(&str, i64, u32)]) -> String {
    frames
        .iter()
        .enumerate()
        .map(|(i, (serial, ago, litres))| format!("{{\"telegram\":\"{}\",\"time\":{}}}\n", telegram(serial, i as u8, *litres), NOW - ago * 60))
        .collect()
}

fn meter_id(f: &users::Fixture, serial: &str) -> i64 {
    f.store.reader().expect("reader").query_row("SELECT id FROM meters WHERE serial = ?1", [serial], |r| r.get(0)).expect(serial)
}

#[test]
fn a_push_signals_its_meters_to_a_waiter() {
    let f = users::fixture(NOW);
    let new = NewSource { name: "conc".into(), kind: "http".into(), format: "jsonl".into(), max_body: None, folder: None, ..Default::default() };
    let token = source_add(&f.store, &f.manager, &new, NOW).expect("source").token.expect("token");
    let since = f.store.generation();
    let took = std::thread::scope(|scope| {
        let waiter = scope.spawn(|| {
            let changed = f.store.wait_changes(since, Duration::from_secs(10));
            (changed, Instant::now())
        });
        std::thread::sleep(Duration::from_millis(100));
        let pushed = Instant::now();
        let b = body(&[("60000001", 10, 100), ("60000002", 9, 200), ("60000001", 5, 150)]);
        let r = ingest_push(&f.store, "conc", Some(&token), b.as_bytes(), NOW).expect("push");
        assert_eq!(r.readings, 3, "{r:?}");
        let (changed, woke) = waiter.join().expect("waiter");
        let mut expected = vec![meter_id(&f, "60000001"), meter_id(&f, "60000002")];
        expected.sort_unstable();
        assert_eq!(changed, Changed { generation: changed.generation, meters: expected, all: false });
        assert!(changed.generation > since);
        woke.saturating_duration_since(pushed)
    });
    assert!(took < Duration::from_secs(1), "signalled as the push committed: {took:?}");

    // The same push again stores nothing new: no signal.
    let since = f.store.generation();
    let b = body(&[("60000001", 10, 100)]);
    ingest_push(&f.store, "conc", Some(&token), b.as_bytes(), NOW).expect("retry");
    let quiet = f.store.wait_changes(since, Duration::from_millis(50));
    assert_eq!((quiet.generation, quiet.meters.len(), quiet.all), (since, 0, false), "{quiet:?}");
}

#[test]
fn another_processs_write_is_seen_within_a_poll() {
    let f = users::fixture(NOW);
    let since = f.store.generation();
    // The first wait takes the database's version; nothing changed meanwhile.
    let first = f.store.wait_changes(since, Duration::from_millis(600));
    assert_eq!(first.generation, since, "{first:?}");
    // Another "process": a second store on the same file writes a meter's readings.
    let other = releve_core::Store::open(f.store.path()).expect("second store");
    let new = NewSource { name: "other".into(), kind: "http".into(), format: "jsonl".into(), max_body: None, folder: None, ..Default::default() };
    let token = source_add(&other, &f.manager, &new, NOW).expect("source").token.expect("token");
    ingest_push(&other, "other", Some(&token), body(&[("60000009", 3, 7)]).as_bytes(), NOW).expect("push");
    let started = Instant::now();
    let changed = f.store.wait_changes(since, Duration::from_secs(5));
    assert!(changed.all && changed.generation > since, "{changed:?}");
    assert!(started.elapsed() < Duration::from_millis(1500), "{:?}", started.elapsed());
}

#[test]
fn priority_meters_and_their_last_day() {
    let f = users::fixture(NOW);
    let new = NewSource { name: "conc".into(), kind: "http".into(), format: "jsonl".into(), max_body: None, folder: None, ..Default::default() };
    let token = source_add(&f.store, &f.manager, &new, NOW).expect("source").token.expect("token");
    // Meter A: every 2 minutes for 30 hours; meter B once, 2 days ago.
    let frames: Vec<(&str, i64, u32)> = (0..900).map(|i| ("60000011", 30 * 60 - 2 * i, 1000 + i as u32)).collect();
    ingest_push(&f.store, "conc", Some(&token), body(&frames).as_bytes(), NOW).expect("push a");
    ingest_push(&f.store, "conc", Some(&token), body(&[("60000012", 2 * 24 * 60, 5)]).as_bytes(), NOW).expect("push b");
    let (a, b) = (meter_id(&f, "60000011"), meter_id(&f, "60000012"));

    // A clerk may not; an unknown meter refuses the whole change.
    let clerk = releve_core::access::login(&f.store, "clerk", "pw", "pc", "local", NOW).expect("clerk");
    let e = meter_priority_set(&f.store, &clerk, &[a], true, NOW).expect_err("clerk");
    assert_eq!(e.code(), "forbidden");
    let e = meter_priority_set(&f.store, &f.manager, &[a, 999_999], true, NOW).expect_err("unknown");
    assert_eq!(e.code(), "not_found");
    let none = live(&f.store, &f.manager, &LiveQuery::default(), NOW).expect("live");
    assert_eq!((none.total, none.meters.len()), (0, 0), "nothing was marked");

    let since = f.store.generation();
    assert_eq!(meter_priority_set(&f.store, &f.manager, &[b, a, a], true, NOW).expect("set"), vec![a.min(b), a.max(b)]);
    assert_eq!(meter_priority_set(&f.store, &f.manager, &[a], true, NOW).expect("again"), Vec::<i64>::new(), "already");
    assert!(f.store.wait_changes(since, Duration::ZERO).meters.contains(&a), "the live screens hear of it");
    let audited: i64 = f
        .store
        .reader()
        .expect("reader")
        .query_row("SELECT count(*) FROM audit_log WHERE event = 'meter_priority_set' AND user = 'manager'", [], |r| r.get(0))
        .expect("audit");
    assert_eq!(audited, 1, "one entry for the change, none for the no-op");

    let l = live(&f.store, &f.manager, &LiveQuery::default(), NOW).expect("live");
    assert_eq!((l.total, l.meters.len(), l.from), (2, 2, NOW - 24 * 3600));
    let la = l.meters.iter().find(|m| m.meter.id == a).expect("a");
    assert_eq!(la.meter.label.serial, "60000011");
    let volume = &la.series[0];
    assert_eq!((volume.register, volume.unit), ("volume", "m3"));
    // 24 h of readings every 2 minutes: one value per 5-minute slot, the last of each.
    assert_eq!(volume.points.len(), 288, "{:?}", &volume.points[..3]);
    assert_eq!(volume.points[0], (NOW - 86_400 + 240, 1.182));
    assert!(volume.points.windows(2).all(|w| w[1].0 / 300 == w[0].0 / 300 + 1), "one per slot, in order");
    assert_eq!(volume.last, Some((NOW - 120, 1.899)), "the last reading, in m3");
    assert_eq!(volume.points.last().copied(), volume.last);
    assert_eq!(la.series.len(), 1, "no flow sent: no flow series");
    let lb = l.meters.iter().find(|m| m.meter.id == b).expect("b");
    assert!(lb.series[0].points.is_empty() && lb.series[0].last == Some((NOW - 2 * 86_400, 0.005)), "{:?}", lb.series[0]);

    // Only the meters a signal named, since a time: what a screen reads again.
    let q = LiveQuery { ids: Some(vec![a]), since: Some(NOW - 600), ..LiveQuery::default() };
    let again = live(&f.store, &f.manager, &q, NOW).expect("again");
    assert_eq!(again.meters.len(), 1);
    assert_eq!(again.meters[0].series[0].points.len(), 2, "{:?}", again.meters[0].series[0].points);

    // Off again: gone from the screen, and from the list's filter.
    meter_priority_set(&f.store, &f.manager, &[b], false, NOW).expect("off");
    let q = releve_core::meters::ListQuery { priority_only: true, limit: 50, ..Default::default() };
    let page = releve_core::meters::meters_list(&f.store, &f.manager, &q).expect("list");
    assert_eq!((page.total, page.rows.iter().map(|r| (r.id, r.priority)).collect::<Vec<_>>()), (1, vec![(a, true)]));
    assert!(releve_core::meters::meter_get(&f.store, &f.manager, a).expect("get").meter.priority);
}
