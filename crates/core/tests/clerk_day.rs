//! Issue 15, the clerk's day: the meter search (accents, case, word order, every field),
//! removed meters leaving counts and reports, the consumption report per unit. On a real
//! SQLite file.

use releve_core::access::Session;
use releve_core::meters::{meters_list, ListQuery};
use releve_core::store::{self, Store};

#[path = "support/users.rs"]
mod users;

const DAY: i64 = 86_400;
/// 2026-02-01T00:00 in Paris.
const NOW: i64 = 1_769_900_400;

fn customer(conn: &rusqlite::Connection, number: &str, name: &str) -> i64 {
    let c = store::customers::Customer {
        number: number.into(),
        name: name.into(),
        address: String::new(),
        postal_code: String::new(),
        city: String::new(),
        email: None,
        phone: None,
    };
    store::customers::insert(conn, &c).expect("customer")
}

struct Park {
    _dir: tempfile::TempDir,
    store: Store,
    clerk: Session,
    manager: Session,
}

fn park() -> Park {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("clerk.db")).expect("open");
    let (manager, clerk) = users::manager_and_clerk(&store, NOW);
    Park { _dir: dir, store, clerk, manager }
}

struct NewMeter<'a> {
    serial: &'a str,
    manufacturer: &'a str,
    device_type: &'a str,
    customer_id: Option<i64>,
    address: &'a str,
    postal_code: &'a str,
    city: &'a str,
}

fn meter(conn: &rusqlite::Connection, m: NewMeter<'_>) -> i64 {
    let m = store::meters::NewMeter {
        serial: m.serial.into(),
        manufacturer: m.manufacturer.into(),
        device_type: m.device_type.into(),
        status: "active".into(),
        customer_id: m.customer_id,
        address: m.address.into(),
        postal_code: m.postal_code.into(),
        city: m.city.into(),
        lat: Some(45.47),
        lon: Some(4.51),
        installed_at: Some(NOW - 400 * DAY),
        ..Default::default()
    };
    store::meters::insert(conn, &m, NOW - 400 * DAY).expect("meter")
}

fn search(store: &Store, session: &Session, text: &str) -> Vec<String> {
    let q = ListQuery { search: Some(text.into()), limit: 50, ..Default::default() };
    let page = meters_list(store, session, &q).expect("list");
    assert_eq!(page.total, page.rows.len() as i64, "total of {text:?}");
    page.rows.into_iter().map(|r| r.label.serial).collect()
}

/// Three meters: Céline Durand's water meter rue Jean Jaurès in Saint-Chamond (Kamstrup),
/// Jean Martin's heat meter in Saint-Étienne (Diehl), an unassigned electricity meter.
fn search_park() -> (Park, i64) {
    let f = park();
    let celine;
    {
        let conn = f.store.writer();
        celine = customer(&conn, "C-0042", "Durand Céline");
        let jean = customer(&conn, "C-0077", "MARTIN Jean");
        meter(&conn, NewMeter { serial: "12345678", manufacturer: "KAM", device_type: "water", customer_id: Some(celine), address: "12 rue Jean Jaurès", postal_code: "42400", city: "Saint-Chamond" });
        meter(&conn, NewMeter { serial: "87654321", manufacturer: "DME", device_type: "heat", customer_id: Some(jean), address: "3 place de l'Hôtel de Ville", postal_code: "42000", city: "Saint-Étienne" });
        meter(&conn, NewMeter { serial: "55500011", manufacturer: "ITR", device_type: "electricity", customer_id: None, address: "", postal_code: "", city: "" });
    }
    (f, celine)
}

#[test]
fn search_ignores_accents_case_and_word_order() {
    let (f, _) = search_park();
    let s = |t: &str| search(&f.store, &f.clerk, t);
    assert_eq!(s("celine"), ["12345678"]);
    assert_eq!(s("CÉLINE"), ["12345678"]);
    assert_eq!(s("Jaures"), ["12345678"]);
    assert_eq!(s("Durand Céline"), ["12345678"]);
    assert_eq!(s("celine durand"), ["12345678"]);
    assert_eq!(s("Saint-Chamond 42400"), ["12345678"]);
    assert_eq!(s("42400 saint chamond"), ["12345678"]);
    assert_eq!(s("kam"), ["12345678"]);
    assert_eq!(s("saint etienne"), ["87654321"]);
    assert_eq!(s("hotel de ville"), ["87654321"]);
    assert_eq!(s("martin jean"), ["87654321"]);
    assert_eq!(s("C-0077"), ["87654321"]);
    assert_eq!(s("4567"), ["12345678"]);
    assert_eq!(s("saint"), ["12345678", "87654321"]);
    assert_eq!(s("itr 555"), ["55500011"]);
    // Every word must match somewhere.
    assert!(s("celine etienne").is_empty());
    // Literal: no wildcards.
    assert!(s("%").is_empty());
    assert!(s("1_3").is_empty());
    let nul = meters_list(&f.store, &f.clerk, &ListQuery { search: Some("a\0b".into()), limit: 10, ..Default::default() });
    assert_eq!(nul.expect_err("NUL").code(), "bad_input");
}

#[test]
fn search_follows_changes_of_meters_and_customers() {
    let (f, celine) = search_park();
    let s = |t: &str| search(&f.store, &f.clerk, t);
    {
        let conn = f.store.writer();
        let c = store::customers::Customer {
            number: "C-0042".into(),
            name: "Dupré Céline".into(),
            address: String::new(),
            postal_code: String::new(),
            city: String::new(),
            email: None,
            phone: None,
        };
        store::customers::update(&conn, celine, &c).expect("update");
        let id = store::meters::id_of_serial(&conn, "55500011").expect("id").expect("meter");
        let mut m = store::meters::get(&conn, id).expect("get").expect("meter");
        m.address = "7 allée des Érables".into();
        m.city = "Rive-de-Gier".into();
        m.customer_id = Some(celine);
        store::meters::set_installation(&conn, &m).expect("installation");
    }
    assert!(s("durand").is_empty());
    assert_eq!(s("dupre"), ["12345678", "55500011"]);
    assert_eq!(s("erables rive"), ["55500011"]);
    // A database opened again keeps its search text.
    let Park { _dir, store, clerk, .. } = f;
    let path = store.path().to_path_buf();
    drop(store);
    let store = Store::open(&path).expect("reopen");
    let q = ListQuery { search: Some("ERABLES".into()), limit: 10, ..Default::default() };
    assert_eq!(meters_list(&store, &clerk, &q).expect("list").total, 1);
}

fn read(conn: &rusqlite::Connection, meter_id: i64, register: i64, ts: i64, value: f64) {
    let r = store::readings::Reading { meter_id, register, ts, value, telegram_id: None };
    assert!(store::readings::insert(conn, &r, 0).expect("reading"));
}

/// Local midnight of 2026-01-`day` in Paris (UTC+1).
fn jan(day: i64) -> i64 {
    NOW - 31 * DAY + (day - 1) * DAY
}

fn date(s: &str) -> chrono::NaiveDate {
    chrono::NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

/// Céline's water meter (leaking since January 5th) read every day of January and replaced
/// on January 20th at noon; Jean's heat meter read every day; both in a group.
#[test]
fn a_removed_meter_ends_its_codes_and_leaves_every_count() {
    use releve_core::exchange::{meter_exchange, ExchangeRequest};
    use releve_core::reports::{report_consumption, report_performance, ConsumptionQuery, PerformanceQuery};
    let (p, _) = search_park();
    let (old, heat, group) = {
        let conn = p.store.writer();
        let old = store::meters::id_of_serial(&conn, "12345678").expect("id").expect("old");
        let heat = store::meters::id_of_serial(&conn, "87654321").expect("id").expect("heat");
        for day in 1..=31 {
            if day <= 19 {
                read(&conn, old, 1, jan(day) + 3_600, 100.0 + day as f64);
            }
            read(&conn, heat, 2, jan(day) + 3_600, 5_000.0 + 10.0 * day as f64);
        }
        let leak = store::info_codes::Event { code: "leak".into(), started_at: jan(5), last_seen_at: jan(19), ended_at: None };
        store::info_codes::upsert(&conn, old, &leak).expect("leak");
        store::meters::set_seen(&conn, old, Some(jan(19) + 3_600), releve_core::model::info_code_bit("leak")).expect("seen");
        let group = store::groups::create(&conn, "Secteur Nord", NOW - 40 * DAY).expect("group");
        store::groups::add_member(&conn, group, old).expect("member");
        store::groups::add_member(&conn, group, heat).expect("member");
        (old, heat, group)
    };
    let alarms = |s: &Store| meters_list(s, &p.clerk, &ListQuery { alarms_only: true, limit: 10, ..Default::default() }).expect("alarms").total;
    let in_service = |s: &Store| meters_list(s, &p.clerk, &ListQuery { in_service: true, limit: 10, ..Default::default() }).expect("meters").total;
    assert_eq!((alarms(&p.store), in_service(&p.store)), (1, 3));

    let at = chrono::NaiveDateTime::parse_from_str("2026-01-20T12:00", "%Y-%m-%dT%H:%M").expect("at");
    let req = ExchangeRequest { old_id: old, new_serial: "12349999", new_manufacturer: None, at, final_value: 120.0, initial_value: 0.0 };
    let done = meter_exchange(&p.store, &p.manager, &req, NOW).expect("exchange");
    let removed_at = jan(20) + 12 * 3_600;
    assert_eq!(done.at, removed_at);

    // The leak ended at the removal and stays in the meter's history.
    let detail = releve_core::meters::meter_get(&p.store, &p.clerk, old).expect("old meter");
    assert_eq!(detail.info_codes.len(), 1);
    assert_eq!(detail.info_codes[0].ended_at, Some(removed_at));
    assert_eq!(alarms(&p.store), 0);
    // Start page: 3 meters in service (the new one, not the removed one); 4 in the list.
    assert_eq!(in_service(&p.store), 3);
    assert_eq!(meters_list(&p.store, &p.clerk, &ListQuery { limit: 10, ..Default::default() }).expect("all").total, 4);
    // Group sizes count the meters in service: the new meter took the old one's place.
    let groups = releve_core::meters::groups_list(&p.store, &p.clerk).expect("groups");
    assert_eq!(groups.iter().find(|g| g.id == group).map(|g| g.meter_count), Some(2));
    // The map places no removed meter and counts no alarm of it.
    let points = store::meters::positions(&p.store.reader().expect("reader"), None, None).expect("positions");
    assert!(points.iter().all(|pt| pt.id != old && pt.info_codes == 0));

    // The import reads the meter as removed: its telegrams open no code again.
    {
        let conn = p.store.writer();
        let (_, mask, removed) = store::meters::seen(&conn, old).expect("seen");
        assert_eq!((mask, removed), (0, true));
    }

    // Reading performance over January 21st..31st: the removed meter is not a 0 % row;
    // over January: it counts its days in service (1st..20th: 19 daily readings and the
    // final index of the exchange, 20 of 20), and its replacement those from the 20th (the
    // initial index only: 1 of 12).
    let perf = |from: &str, to: &str| {
        let q = PerformanceQuery { from: date(from), to: date(to), group_id: Some(group), expected_per_day: 1.0, offset: 0, limit: 50 };
        report_performance(&p.store, &p.clerk, &q, NOW).expect("performance")
    };
    let late = perf("2026-01-21", "2026-01-31");
    assert_eq!(late.meters, 2);
    assert!(late.rows.iter().all(|r| r.meter_id != old));
    let january = perf("2026-01-01", "2026-01-31");
    let row = |id: i64| january.rows.iter().find(|r| r.meter_id == id).cloned().expect("row");
    assert_eq!((row(old).received, row(old).expected), (20, 20.0));
    assert_eq!((row(done.new_meter_id).received, row(done.new_meter_id).expected), (1, 12.0));
    assert_eq!(row(heat).performance, 100.0);

    // Consumption report after the removal: the removed meter is not counted.
    let q = ConsumptionQuery {
        from: date("2026-01-21"),
        to: date("2026-01-31"),
        group_id: None,
        above: None,
        below: None,
        register: None,
        device_type: None,
        offset: 0,
        limit: 50,
    };
    let r = report_consumption(&p.store, &p.clerk, &q, NOW).expect("consumption");
    assert!(r.rows.iter().all(|row| row.meter_id != old));
    assert_eq!((r.meters, r.count), (3, 3));
    let q = ConsumptionQuery { from: date("2026-01-01"), ..q };
    let r = report_consumption(&p.store, &p.clerk, &q, NOW).expect("consumption");
    assert_eq!((r.meters, r.count), (4, 4), "in service during the period: counted");
}

/// January: Céline's water meter +19 m3, Jean's heat meter +300 kWh, an electricity meter
/// +40 kWh, another water meter +5 m3.
#[test]
fn consumption_report_totals_and_ranks_per_kind() {
    use releve_core::reports::{report_consumption, ConsumptionQuery};
    let (p, _) = search_park();
    {
        let conn = p.store.writer();
        let id = |s: &str| store::meters::id_of_serial(&conn, s).expect("id").expect("meter");
        let (water, heat, elec) = (id("12345678"), id("87654321"), id("55500011"));
        let small = meter(&conn, NewMeter { serial: "20000001", manufacturer: "DME", device_type: "water", customer_id: None, address: "1 rue Neuve", postal_code: "42400", city: "Saint-Chamond" });
        for (m, register, start, end) in [(water, 1, 100.0, 119.0), (heat, 2, 5_000.0, 5_300.0), (elec, 3, 1_000.0, 1_040.0), (small, 1, 10.0, 15.0)] {
            read(&conn, m, register, jan(1), start);
            read(&conn, m, register, jan(31) + 3_600, end);
        }
    }
    let q = ConsumptionQuery {
        from: date("2026-01-01"),
        to: date("2026-01-31"),
        group_id: None,
        above: None,
        below: None,
        register: None,
        device_type: None,
        offset: 0,
        limit: 50,
    };
    let r = report_consumption(&p.store, &p.clerk, &q, NOW).expect("report");
    let totals: Vec<_> = r.totals.iter().map(|t| (t.device_type.as_str(), t.register, t.unit, t.consumption, t.meters)).collect();
    assert_eq!(
        totals,
        [("electricity", "a_plus", "kWh", 40.0, 1), ("heat", "energy", "kWh", 300.0, 1), ("water", "volume", "m3", 24.0, 2)]
    );
    // Ranked within a kind: 300 kWh of heat never above 19 m3 of water by number alone.
    let rows: Vec<_> = r.rows.iter().map(|r| (r.label.serial.as_str(), r.consumption)).collect();
    assert_eq!(rows, [("55500011", Some(40.0)), ("87654321", Some(300.0)), ("12345678", Some(19.0)), ("20000001", Some(5.0))]);
    // A meter-type filter.
    let heat = ConsumptionQuery { device_type: Some("heat"), ..q.clone() };
    let r = report_consumption(&p.store, &p.clerk, &heat, NOW).expect("heat");
    assert_eq!((r.meters, r.count, r.totals.len()), (1, 1, 1));
    assert_eq!(r.totals[0].consumption, 300.0);
    let water = ConsumptionQuery { device_type: Some("water"), above: Some(10.0), ..q };
    let r = report_consumption(&p.store, &p.clerk, &water, NOW).expect("water");
    assert_eq!((r.meters, r.count), (2, 1));
    assert_eq!(r.meter_ids.len(), 1);
}
