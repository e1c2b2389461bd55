//! The clerk's daily screens through the core, on a real SQLite file: the info-code
//! overview (lists, order, filters, watched codes, CSV), meter groups, the map points.

use releve_core::access::Session;
use releve_core::info_codes::{self, OverviewQuery, State};
use releve_core::map::{self, MapQuery, MapSettings};
use releve_core::store::info_codes::{Event, OverviewOrder};
use releve_core::store::{self, Store};
use releve_core::{groups, meters};

#[path = "support/users.rs"]
mod users;

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z
const DAY: i64 = 86_400;

struct Park {
    _dir: tempfile::TempDir,
    store: Store,
    manager: Session,
    clerk: Session,
    /// Meter ids by serial.
    ids: std::collections::HashMap<&'static str, i64>,
}

/// serial, manufacturer, customer (name, phone), last seen (days ago), events (code, started
/// days ago, ended days ago), position.
type Spec = (&'static str, &'static str, Option<(&'static str, &'static str)>, Option<i64>, Vec<(&'static str, i64, Option<i64>)>, Option<(f64, f64)>);

fn park() -> Park {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("screens.db")).expect("open");
    let (manager, clerk) = users::manager_and_clerk(&store, NOW);
    let specs: Vec<Spec> = vec![
        ("00000001", "KAM", Some(("Alice Martin", "0601020304")), Some(0), vec![("burst", 2, None)], Some((45.47, 4.51))),
        ("00000002", "KAM", Some(("Bruno Petit", "0605060708")), Some(0), vec![("leak", 10, None), ("low_battery", 20, Some(12))], Some((45.48, 4.52))),
        ("00000003", "DME", None, Some(1), vec![("low_battery", 8, Some(5))], Some((45.49, 4.53))),
        ("00000004", "KAM", Some(("Chloé Durand", "")), Some(0), vec![("tamper", 60, Some(40))], Some((45.50, 4.54))),
        ("00000005", "DME", Some(("David Roux", "0611111111")), Some(10), vec![], Some((45.51, 4.55))),
        ("00000006", "KAM", None, None, vec![], Some((45.52, 4.56))),
        ("00000007", "KAM", None, Some(0), vec![], None),
        ("00000008", "KAM", None, Some(0), vec![], Some((45.53, 4.57))),
    ];
    let mut ids = std::collections::HashMap::new();
    {
        let conn = store.writer();
        for (serial, manufacturer, customer, seen, events, pos) in &specs {
            let customer_id = customer.map(|(name, phone)| {
                let c = store::customers::Customer {
                    number: format!("C{serial}"),
                    name: name.into(),
                    address: "1 rue Neuve".into(),
                    postal_code: "42400".into(),
                    city: "Saint-Chamond".into(),
                    email: None,
                    phone: if phone.is_empty() { None } else { Some(phone.to_string()) },
                };
                store::customers::insert(&conn, &c).expect("customer")
            });
            let m = store::meters::NewMeter {
                serial: serial.to_string(),
                manufacturer: manufacturer.to_string(),
                device_type: "water".into(),
                status: "active".into(),
                customer_id,
                address: format!("{} rue Neuve", &serial[7..]),
                postal_code: "42400".into(),
                city: "Saint-Chamond".into(),
                lat: pos.map(|p| p.0),
                lon: pos.map(|p| p.1),
                ..Default::default()
            };
            let id = store::meters::insert(&conn, &m, NOW - 400 * DAY).expect("meter");
            let mut mask = 0;
            for (code, start, end) in events {
                let e = Event {
                    code: code.to_string(),
                    started_at: NOW - start * DAY,
                    last_seen_at: NOW - end.unwrap_or(0) * DAY,
                    ended_at: end.map(|d| NOW - d * DAY),
                };
                store::info_codes::upsert(&conn, id, &e).expect("event");
                if end.is_none() {
                    mask |= releve_core::model::info_code_bit(code);
                }
            }
            store::meters::set_seen(&conn, id, seen.map(|d| NOW - d * DAY), mask).expect("seen");
            ids.insert(*serial, id);
        }
        store::meters::set_removed(&conn, ids["00000008"], NOW - DAY).expect("removed");
    }
    Park { _dir: dir, store, manager, clerk, ids }
}

fn query(state: State, sort: OverviewOrder) -> OverviewQuery {
    OverviewQuery { state, codes: None, group_id: None, period_days: None, sort, offset: 0, limit: 100, handling: Default::default(), today: false }
}

fn serial_codes(o: &info_codes::Overview) -> Vec<(String, String)> {
    o.rows.iter().map(|r| (r.label.serial.clone(), r.code.clone())).collect()
}

fn pairs(v: &[(&str, &str)]) -> Vec<(String, String)> {
    v.iter().map(|(a, b)| (a.to_string(), b.to_string())).collect()
}

#[test]
fn overview_lists_active_and_recent_apart_in_the_chosen_order() {
    let p = park();
    let s = &p.clerk;
    let newest = info_codes::info_codes_overview(&p.store, s, &query(State::Active, OverviewOrder::Newest), NOW).expect("overview");
    assert_eq!((newest.active, newest.recent), (2, 2), "tamper ended 40 days ago is not recent");
    assert_eq!(serial_codes(&newest), pairs(&[("00000001", "burst"), ("00000002", "leak")]));
    let row = &newest.rows[1];
    assert_eq!(row.label.customer_name.as_deref(), Some("Bruno Petit"));
    assert_eq!(row.phone.as_deref(), Some("0605060708"));
    assert_eq!(row.duration, 10 * DAY);
    assert_eq!(row.ended_at, None);

    let longest = info_codes::info_codes_overview(&p.store, s, &query(State::Active, OverviewOrder::Duration), NOW).expect("overview");
    assert_eq!(serial_codes(&longest), pairs(&[("00000002", "leak"), ("00000001", "burst")]));

    let recent = info_codes::info_codes_overview(&p.store, s, &query(State::Recent, OverviewOrder::Severity), NOW).expect("overview");
    // Same severity: the newest first.
    assert_eq!(serial_codes(&recent), pairs(&[("00000003", "low_battery"), ("00000002", "low_battery")]));
    assert_eq!(recent.rows[0].ended_at, Some(NOW - 5 * DAY));
    assert_eq!(recent.rows[1].duration, 8 * DAY, "from 20 to 12 days ago");

    // Severity: burst before leak even though leak is older and newer-first would differ.
    let mut q = query(State::Active, OverviewOrder::Severity);
    q.codes = Some(vec!["leak".into(), "burst".into(), "tamper".into()]);
    let sev = info_codes::info_codes_overview(&p.store, s, &q, NOW).expect("overview");
    assert_eq!(sev.codes, vec!["burst", "leak", "tamper"], "codes come back in severity order");
    assert_eq!(sev.rows[0].code, "burst");

    // Code filter, period filter.
    q.codes = Some(vec!["leak".into()]);
    let leak = info_codes::info_codes_overview(&p.store, s, &q, NOW).expect("overview");
    assert_eq!((leak.active, leak.recent, leak.rows.len()), (1, 0, 1));
    let mut q = query(State::Active, OverviewOrder::Newest);
    q.period_days = Some(5);
    let fresh = info_codes::info_codes_overview(&p.store, s, &q, NOW).expect("overview");
    assert_eq!(serial_codes(&fresh), pairs(&[("00000001", "burst")]));
    q.codes = Some(vec!["flood".into()]);
    assert_eq!(info_codes::info_codes_overview(&p.store, s, &q, NOW).expect_err("unknown code").code(), "bad_input");
}

#[test]
fn overview_follows_groups_and_the_watched_codes() {
    let p = park();
    let g = groups::group_create(&p.store, &p.manager, "Tournée A", &[p.ids["00000002"], p.ids["00000003"]], NOW).expect("group");
    let mut q = query(State::Active, OverviewOrder::Newest);
    q.group_id = Some(g.id);
    let o = info_codes::info_codes_overview(&p.store, &p.clerk, &q, NOW).expect("overview");
    assert_eq!(serial_codes(&o), pairs(&[("00000002", "leak")]));
    assert_eq!(o.recent, 2);

    // Defaults: every code. The clerk watches burst only; the manager still sees all.
    let w = info_codes::info_codes_watched(&p.store, &p.clerk).expect("watched");
    assert_eq!((w.codes.len(), w.scope), (9, "default"), "every code, `silent` included");
    let set = info_codes::info_codes_set_watched(&p.store, &p.clerk, &["burst".into()], false, NOW).expect("set");
    assert_eq!(set, info_codes::Watched { codes: vec!["burst"], scope: "user" });
    let o = info_codes::info_codes_overview(&p.store, &p.clerk, &query(State::Active, OverviewOrder::Newest), NOW).expect("o");
    assert_eq!(serial_codes(&o), pairs(&[("00000001", "burst")]));
    assert_eq!(info_codes::info_codes_watched(&p.store, &p.manager).expect("w").scope, "default");
    // Only settings may choose for everyone.
    let err = info_codes::info_codes_set_watched(&p.store, &p.clerk, &["leak".into()], true, NOW).expect_err("clerk");
    assert_eq!(err.code(), "forbidden");
    info_codes::info_codes_set_watched(&p.store, &p.manager, &["leak".into(), "low_battery".into()], true, NOW).expect("global");
    let w = info_codes::info_codes_watched(&p.store, &p.manager).expect("w");
    assert_eq!((w.codes, w.scope), (vec!["leak", "low_battery"], "global"));
    assert_eq!(info_codes::info_codes_watched(&p.store, &p.clerk).expect("w").scope, "user", "own choice wins");
    let audit = store::audit::latest(&p.store.reader().expect("r"), 5).expect("audit");
    assert!(audit.iter().any(|e| e.event == "info_codes_watched" && e.user == "manager" && e.details == "global: leak,low_battery"));
}

#[test]
fn overview_exports_a_contact_list() {
    let p = park();
    let mut csv = Vec::new();
    let n = info_codes::info_codes_export(&p.store, &p.clerk, &query(State::Active, OverviewOrder::Severity), &mut csv, NOW).expect("csv");
    let text = String::from_utf8(csv).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(n, 2);
    assert_eq!(lines[0], "customer_number;customer_name;address;postal_code;city;phone;meter_serial;code;since;ended;duration_days");
    assert_eq!(lines[1], "C00000001;Alice Martin;1 rue Neuve;42400;Saint-Chamond;0601020304;00000001;burst;2025-12-30 01:00;;2,0");
    assert_eq!(lines[2], "C00000002;Bruno Petit;2 rue Neuve;42400;Saint-Chamond;0605060708;00000002;leak;2025-12-22 01:00;;10,0");
    let audit = store::audit::latest(&p.store.reader().expect("r"), 1).expect("audit");
    assert_eq!((audit[0].event.as_str(), audit[0].user.as_str()), ("export", "clerk"));
}

#[test]
fn groups_are_created_renamed_filled_emptied_and_deleted() {
    let p = park();
    let (m1, m2, m3) = (p.ids["00000001"], p.ids["00000002"], p.ids["00000003"]);
    let err = groups::group_create(&p.store, &p.clerk, "Nope", &[], NOW).expect_err("clerk may not");
    assert_eq!(err.code(), "forbidden");
    let g = groups::group_create(&p.store, &p.manager, "  Route   du lundi ", &[m1, m2, 999_999], NOW).expect("create");
    assert_eq!((g.name.as_str(), g.added), ("Route du lundi", 2), "name tidied, unknown meter skipped");
    let dup = groups::group_create(&p.store, &p.manager, "Route du lundi", &[], NOW).expect_err("duplicate");
    assert_eq!(dup.code(), "group_name_taken");
    assert_eq!(dup.params(), serde_json::json!({"name": "Route du lundi", "field": "name"}).as_object().cloned().expect("object"));
    assert_eq!(groups::group_create(&p.store, &p.manager, "   ", &[], NOW).expect_err("empty").code(), "group_name_empty");
    let long = groups::group_create(&p.store, &p.manager, &"x".repeat(81), &[], NOW).expect_err("long");
    assert_eq!((long.code(), long.params()["max"].as_u64()), ("group_name_too_long", Some(80)));

    assert_eq!(groups::group_add_meters(&p.store, &p.manager, g.id, &[m2, m3], NOW).expect("add"), 1, "m2 was already in");
    let other = groups::group_create(&p.store, &p.manager, "Secteur Nord", &[m3], NOW).expect("second group");
    let list = meters::groups_list(&p.store, &p.clerk).expect("list");
    let counts: Vec<(String, i64)> = list.iter().map(|g| (g.name.clone(), g.meter_count)).collect();
    assert_eq!(counts, vec![("Route du lundi".to_string(), 3), ("Secteur Nord".to_string(), 1)]);
    let detail = meters::meter_get(&p.store, &p.clerk, m3).expect("meter");
    assert_eq!(detail.groups.len(), 2, "a meter in many groups");

    assert_eq!(groups::group_remove_meters(&p.store, &p.manager, g.id, &[m1, m1, 424242], NOW).expect("remove"), 1);
    let q = meters::ListQuery { group_id: Some(g.id), limit: 50, ..Default::default() };
    let page = meters::meters_list(&p.store, &p.clerk, &q).expect("filtered list");
    let serials: Vec<&str> = page.rows.iter().map(|r| r.label.serial.as_str()).collect();
    assert_eq!(serials, vec!["00000002", "00000003"]);

    groups::group_rename(&p.store, &p.manager, g.id, "Route du mardi", NOW).expect("rename");
    assert_eq!(groups::group_rename(&p.store, &p.manager, g.id, "Secteur Nord", NOW).expect_err("taken").code(), "group_name_taken");
    groups::group_delete(&p.store, &p.manager, g.id, NOW).expect("delete");
    assert_eq!(groups::group_delete(&p.store, &p.manager, g.id, NOW).expect_err("gone").code(), "not_found");
    let list = meters::groups_list(&p.store, &p.clerk).expect("list");
    assert_eq!(list.iter().map(|g| g.id).collect::<Vec<_>>(), vec![other.id]);
    let detail = meters::meter_get(&p.store, &p.clerk, m3).expect("meter");
    assert_eq!(detail.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), vec!["Secteur Nord"]);
    let audit = store::audit::latest(&p.store.reader().expect("r"), 20).expect("audit");
    let events: Vec<&str> = audit.iter().map(|e| e.event.as_str()).filter(|e| e.starts_with("group")).collect();
    assert_eq!(events, vec!["group_deleted", "group_renamed", "group_meters_removed", "group_created", "group_meters_added", "group_created"]);
}

#[test]
fn map_points_carry_position_status_and_brand() {
    let p = park();
    let pts = map::map_points(&p.store, &p.clerk, &MapQuery::default(), NOW).expect("points");
    // 8 meters: one has no position, one is removed.
    assert_eq!(pts.count, 6);
    let serial_of = |id: i64| p.ids.iter().find(|(_, v)| **v == id).map(|(k, _)| *k).expect("known id");
    let got: Vec<(&str, u8, &str)> =
        (0..pts.count).map(|i| (serial_of(pts.ids[i]), pts.status[i], pts.brands[pts.brand[i] as usize].as_str())).collect();
    assert_eq!(
        got,
        vec![
            ("00000001", map::STATUS_ALARM, "KAM"),
            ("00000002", map::STATUS_ALARM, "KAM"),
            ("00000003", map::STATUS_OK, "DME"),
            ("00000004", map::STATUS_OK, "KAM"),
            ("00000005", map::STATUS_STALE, "DME"),
            ("00000006", map::STATUS_STALE, "KAM"),
        ]
    );
    assert_eq!((pts.lat[0], pts.lon[0]), (45.47, 4.51));
    assert_eq!(pts.stale_days, 3);

    // Not heard since 2025-12-25 (local): the meter last seen 10 days ago and the silent one.
    let q = MapQuery { not_heard_since: chrono::NaiveDate::from_ymd_opt(2025, 12, 25), group_id: None };
    let late = map::map_points(&p.store, &p.clerk, &q, NOW).expect("late");
    assert_eq!(late.ids, vec![p.ids["00000005"], p.ids["00000006"]]);
    // ... which become a re-read route, then the map of that group.
    let route = groups::group_create(&p.store, &p.manager, "Relève manuelle", &late.ids, NOW).expect("route");
    let q = MapQuery { group_id: Some(route.id), not_heard_since: None };
    assert_eq!(map::map_points(&p.store, &p.clerk, &q, NOW).expect("group").ids, late.ids);

    // Settings: 15 days makes the meter seen 10 days ago ok; a bad URL is refused.
    let clerk_try = map::map_set_settings(&p.store, &p.clerk, &MapSettings { tile_url: String::new(), stale_days: 15, mbtiles_path: String::new(), cache_mb: 200 }, NOW);
    assert_eq!(clerk_try.expect_err("clerk").code(), "forbidden");
    let bad = MapSettings { tile_url: "ftp://tiles".into(), stale_days: 3, mbtiles_path: String::new(), cache_mb: 200 };
    assert_eq!(map::map_set_settings(&p.store, &p.manager, &bad, NOW).expect_err("bad url").code(), "bad_input");
    let good = MapSettings { tile_url: "https://tile.openstreetmap.org/{z}/{x}/{y}.png".into(), stale_days: 15, mbtiles_path: String::new(), cache_mb: 200 };
    map::map_set_settings(&p.store, &p.manager, &good, NOW).expect("settings");
    assert_eq!(map::map_settings(&p.store, &p.clerk).expect("read"), good);
    let pts = map::map_points(&p.store, &p.clerk, &MapQuery::default(), NOW).expect("points");
    assert_eq!(pts.status[4], map::STATUS_OK);
}
