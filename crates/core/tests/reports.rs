//! The consumption and reading-performance reports through the core, on a real SQLite
//! file with hand-made readings: exact consumptions, limits, the zero case, performance
//! percentages, missing days, saved reports with comments, CSV.

use chrono::NaiveDate;
use releve_core::access::{self, Permission, Role, Session};
use releve_core::reports::{self, ConsumptionQuery, PerformanceQuery};
use releve_core::store::{self, Store};
use releve_core::{groups, Error};

const NOW: i64 = 1_767_225_600; // 2026-01-01T00:00:00Z = 01:00 in Paris
const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2025-12-01T00:00 in Paris (UTC+1 all December).
const DEC1: i64 = 1_764_543_600;
/// 2026-01-01T00:00 in Paris: the end of a December report.
const JAN1: i64 = DEC1 + 31 * DAY;

fn day(d: i64) -> i64 {
    DEC1 + (d - 1) * DAY
}

struct Park {
    _dir: tempfile::TempDir,
    store: Store,
    clerk: Session,
    ids: Vec<i64>,
}

/// M1..M7 (ids[0..7]); see each meter's readings below.
fn park() -> Park {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("reports.db")).expect("open");
    let system = Session::system("test-pc");
    let permit = system.permit(Permission::ManageUsers).expect("system may");
    let user = store::users::NewUser { salt: None, login: "clerk", name: "Clerk", role: Role::User, password: "pw", locale: "fr" };
    access::create_user(&store, permit, &user, NOW).expect("user");
    let clerk = access::login(&store, "clerk", "pw", "pc", "local", NOW).expect("login");
    let types = ["water", "water", "water", "heat", "water", "water", "water"];
    let mut ids = Vec::new();
    let conn = store.writer();
    for (i, t) in types.iter().enumerate() {
        let n = i + 1;
        let customer_id = store::customers::insert(
            &conn,
            &store::customers::Customer {
                number: format!("C{n}"),
                name: format!("Client {n}"),
                address: format!("{n} rue Neuve"),
                postal_code: "42400".into(),
                city: "Saint-Chamond".into(),
                email: None,
                phone: None,
            },
        )
        .expect("customer");
        let m = store::meters::NewMeter {
            serial: format!("0000000{n}"),
            manufacturer: "KAM".into(),
            device_type: (*t).into(),
            status: "active".into(),
            customer_id: Some(customer_id),
            address: format!("{n} rue Neuve"),
            postal_code: "42400".into(),
            city: "Saint-Chamond".into(),
            ..Default::default()
        };
        ids.push(store::meters::insert(&conn, &m, NOW).expect("meter"));
    }
    let put = |meter: i64, register: i64, ts: i64, value: f64| {
        let r = store::readings::Reading { meter_id: meter, register, ts, value, telegram_id: None };
        assert!(store::readings::insert(&conn, &r, 0).expect("reading"));
    };
    let (volume, energy) = (1, 2);
    // M1: an index before the period, daily readings, one after the period.
    put(ids[0], volume, day(-10), 100.0);
    for d in 1..=31 {
        put(ids[0], volume, day(d) + 12 * HOUR, 100.0 + d as f64 * 0.5);
    }
    put(ids[0], volume, JAN1 + 12 * HOUR, 200.0);
    // M2: nothing before the period: its first reading inside stands for the start.
    put(ids[1], volume, day(10) + 12 * HOUR, 50.0);
    put(ids[1], volume, day(20) + 12 * HOUR, 52.25);
    // M3: no consumption.
    put(ids[2], volume, day(-29), 10.0);
    put(ids[2], volume, day(0) + 12 * HOUR, 10.0);
    put(ids[2], volume, day(15) + 12 * HOUR, 10.0);
    // M4 (heat, kWh): a reading exactly at the end belongs to the index at the end.
    put(ids[3], energy, day(-5), 1000.0);
    put(ids[3], energy, JAN1 - HOUR, 1800.0);
    put(ids[3], energy, JAN1, 1805.0);
    // M5: no reading at all.
    // M6: hourly, 4 hours missing on December 20.
    for h in 0..31 * 24 {
        let ts = DEC1 + h * HOUR;
        if ts >= day(20) + 10 * HOUR && ts < day(20) + 14 * HOUR {
            continue;
        }
        put(ids[5], volume, ts, h as f64 * 0.01);
    }
    // M7: daily, December 5 and 25 missing.
    put(ids[6], volume, day(0) + 12 * HOUR, 5.0);
    for d in (1..=31).filter(|d| *d != 5 && *d != 25) {
        put(ids[6], volume, day(d) + 12 * HOUR, 10.0 * d as f64);
    }
    drop(conn);
    Park { _dir: dir, store, clerk, ids }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn december<'a>() -> ConsumptionQuery<'a> {
    ConsumptionQuery { from: date("2025-12-01"), to: date("2025-12-31"), group_id: None, above: None, below: None, register: None, device_type: None, offset: 0, limit: 100 }
}

/// (meter index 1..7, consumption) of a report's rows, in order.
fn listed(p: &Park, q: &ConsumptionQuery<'_>) -> Vec<(usize, Option<f64>)> {
    let r = reports::report_consumption(&p.store, &p.clerk, q, NOW).expect("report");
    assert_eq!(r.meter_ids, r.rows.iter().map(|x| x.meter_id).collect::<Vec<_>>());
    r.rows.iter().map(|x| (p.ids.iter().position(|id| *id == x.meter_id).expect("known") + 1, x.consumption)).collect()
}

#[test]
fn consumption_is_the_index_growth_over_the_period() {
    let p = park();
    let r = reports::report_consumption(&p.store, &p.clerk, &december(), NOW).expect("report");
    assert_eq!((r.from, r.to), (DEC1, JAN1));
    assert_eq!((r.meters, r.count, r.no_data), (7, 7, 1));
    let got = listed(&p, &december());
    assert_eq!(
        got,
        vec![(4, Some(805.0)), (7, Some(305.0)), (1, Some(15.5)), (6, Some(7.43)), (2, Some(2.25)), (3, Some(0.0)), (5, None)]
    );
    let m1 = &r.rows[2];
    assert_eq!((m1.label.customer_number.as_deref(), m1.label.customer_name.as_deref(), m1.label.address.as_str()), (Some("C1"), Some("Client 1"), "1 rue Neuve"));
    assert_eq!((m1.label.serial.as_str(), m1.unit, m1.register), ("00000001", "m3", "volume"));
    assert_eq!((m1.start_value, m1.start_ts, m1.end_value), (Some(100.0), Some(day(-10)), Some(115.5)));
    assert_eq!(r.rows[0].unit, "kWh");
    let totals: Vec<(&str, f64, i64)> = r.totals.iter().map(|t| (t.unit, t.consumption, t.meters)).collect();
    assert_eq!(totals, vec![("kWh", 805.0, 1), ("m3", 330.18, 5)]);

    // A shorter period: M1 from its December 10 index to its December 20 index.
    let q = ConsumptionQuery { from: date("2025-12-11"), to: date("2025-12-20"), ..december() };
    let r = reports::report_consumption(&p.store, &p.clerk, &q, NOW).expect("report");
    let m1 = r.rows.iter().find(|x| x.meter_id == p.ids[0]).expect("M1");
    assert_eq!(m1.consumption, Some(5.0));
    // A period after the last reading: the index did not move.
    let q = ConsumptionQuery { from: date("2026-02-01"), to: date("2026-02-28"), ..december() };
    let r = reports::report_consumption(&p.store, &p.clerk, &q, NOW).expect("report");
    assert_eq!(r.rows.iter().find(|x| x.meter_id == p.ids[0]).expect("M1").consumption, Some(0.0));
}

#[test]
fn limits_keep_the_high_and_the_zero_consumptions() {
    let p = park();
    let above = ConsumptionQuery { above: Some(10.0), ..december() };
    assert_eq!(listed(&p, &above), vec![(4, Some(805.0)), (7, Some(305.0)), (1, Some(15.5))]);
    let r = reports::report_consumption(&p.store, &p.clerk, &above, NOW).expect("report");
    assert_eq!((r.meters, r.count, r.no_data), (7, 3, 0));
    let zero = ConsumptionQuery { below: Some(0.0), ..december() };
    assert_eq!(listed(&p, &zero), vec![(3, Some(0.0))]);
    let low = ConsumptionQuery { below: Some(5.0), ..december() };
    assert_eq!(listed(&p, &low), vec![(2, Some(2.25)), (3, Some(0.0))]);
    let band = ConsumptionQuery { above: Some(1.0), below: Some(10.0), ..december() };
    assert_eq!(listed(&p, &band), vec![(6, Some(7.43)), (2, Some(2.25))]);
    // Paging keeps the order; meter_ids lists every kept meter.
    let r = reports::report_consumption(&p.store, &p.clerk, &ConsumptionQuery { offset: 1, limit: 2, ..december() }, NOW).expect("page");
    assert_eq!(r.rows.iter().map(|x| x.meter_id).collect::<Vec<_>>(), vec![p.ids[6], p.ids[0]]);
    assert_eq!(r.meter_ids.len(), 7);

    // The kept meters make a group in one call; the report of that group lists them.
    let g = groups::group_create(&p.store, &Session::system("pc"), "Gros consommateurs", &{
        let r = reports::report_consumption(&p.store, &p.clerk, &above, NOW).expect("report");
        r.meter_ids
    }, NOW)
    .expect("group");
    assert_eq!(g.added, 3);
    let in_group = ConsumptionQuery { group_id: Some(g.id), ..december() };
    assert_eq!(listed(&p, &in_group), vec![(4, Some(805.0)), (7, Some(305.0)), (1, Some(15.5))]);

    // One register for all; a register that is not an index is refused.
    let energy = ConsumptionQuery { register: Some("energy"), ..december() };
    let r = reports::report_consumption(&p.store, &p.clerk, &energy, NOW).expect("report");
    assert_eq!((r.count, r.no_data), (7, 6));
    let flow = ConsumptionQuery { register: Some("flow"), ..december() };
    assert!(matches!(reports::report_consumption(&p.store, &p.clerk, &flow, NOW), Err(Error::BadInput { .. })));
    let backwards = ConsumptionQuery { from: date("2025-12-31"), to: date("2025-12-01"), ..december() };
    assert!(matches!(reports::report_consumption(&p.store, &p.clerk, &backwards, NOW), Err(Error::BadInput { .. })));
}

#[test]
fn consumption_exports_as_csv_in_the_users_locale() {
    let p = park();
    let mut out = Vec::new();
    let n = reports::report_consumption_export(&p.store, &p.clerk, &ConsumptionQuery { above: Some(10.0), ..december() }, &mut out, NOW).expect("export");
    assert_eq!(n, 3);
    let text = String::from_utf8(out).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "customer_number;customer_name;address;postal_code;city;meter_serial;register;start_index;start_time;end_index;end_time;consumption;unit");
    assert_eq!(lines[3], "C1;Client 1;1 rue Neuve;42400;Saint-Chamond;00000001;volume;100;2025-11-20 00:00;115,5;2025-12-31 12:00;15,5;m3");
    let mut viewer = p.clerk.clone();
    viewer.permissions = vec![Permission::View];
    let denied = reports::report_consumption_export(&p.store, &viewer, &december(), &mut Vec::new(), NOW);
    assert!(matches!(denied, Err(Error::Forbidden { .. })));
}

fn perf(from: &str, to: &str, group_id: Option<i64>, expected_per_day: f64) -> PerformanceQuery {
    PerformanceQuery { from: date(from), to: date(to), group_id, expected_per_day, offset: 0, limit: 100 }
}

#[test]
fn performance_counts_days_with_readings_and_finds_the_missing_ones() {
    let p = park();
    let r = reports::report_performance(&p.store, &p.clerk, &perf("2025-12-01", "2025-12-31", None, 1.0), NOW).expect("report");
    assert_eq!((r.days, r.meters, r.missing), (31, 7, 5));
    assert_eq!(r.average, 43.8, "(100 + 2/31 + 1/31 + 1/31 + 0 + 100 + 29/31) / 7");
    let rows: Vec<(usize, i64, f64, Option<&str>)> = r
        .rows
        .iter()
        .map(|x| (p.ids.iter().position(|id| *id == x.meter_id).expect("known") + 1, x.received, x.performance, x.last_missing_day.as_deref()))
        .collect();
    assert_eq!(
        rows,
        vec![
            (5, 0, 0.0, Some("2025-12-31")),
            (3, 1, 3.2, Some("2025-12-31")),
            (4, 1, 3.2, Some("2025-12-30")),
            (2, 2, 6.5, Some("2025-12-31")),
            (7, 29, 93.5, Some("2025-12-25")),
            (1, 31, 100.0, None),
            (6, 31, 100.0, None),
        ]
    );
    assert_eq!((r.rows[0].address.as_str(), r.rows[0].postal_code.as_str(), r.rows[0].city.as_str()), ("5 rue Neuve", "42400", "Saint-Chamond"));

    // Hourly: readings against 24 a day, for a group.
    let g = groups::group_create(&p.store, &Session::system("pc"), "Horaires", &[p.ids[0], p.ids[5], p.ids[6]], NOW).expect("group");
    let r = reports::report_performance(&p.store, &p.clerk, &perf("2025-12-01", "2025-12-31", Some(g.id), 24.0), NOW).expect("report");
    assert_eq!((r.meters, r.missing, r.group_name.as_deref()), (3, 3, Some("Horaires")));
    let rows: Vec<(i64, i64, f64, f64, Option<&str>)> =
        r.rows.iter().map(|x| (x.meter_id, x.received, x.expected, x.performance, x.last_missing_day.as_deref())).collect();
    assert_eq!(
        rows,
        vec![
            (p.ids[6], 29, 744.0, 3.9, Some("2025-12-31")),
            (p.ids[0], 31, 744.0, 4.2, Some("2025-12-31")),
            (p.ids[5], 740, 744.0, 99.5, Some("2025-12-20")),
        ]
    );
    assert_eq!(r.average, 35.8);

    // Days that have not begun are left out; a period entirely ahead is refused.
    let r = reports::report_performance(&p.store, &p.clerk, &perf("2025-12-31", "2026-01-31", None, 1.0), NOW).expect("report");
    assert_eq!((r.days, r.to.as_str()), (2, "2026-01-01"));
    let ahead = reports::report_performance(&p.store, &p.clerk, &perf("2026-02-01", "2026-02-05", None, 1.0), NOW);
    assert!(matches!(ahead, Err(Error::BadInput { .. })));
    let zero = reports::report_performance(&p.store, &p.clerk, &perf("2025-12-01", "2025-12-31", None, 0.0), NOW);
    assert!(matches!(zero, Err(Error::BadInput { .. })));
}

#[test]
fn performance_reports_are_saved_with_a_comment_and_exported() {
    let p = park();
    let q = perf("2025-12-01", "2025-12-31", None, 1.0);
    let saved = reports::report_performance_save(&p.store, &p.clerk, &q, "  Concentrateur nord en panne  ", NOW).expect("save");
    assert_eq!((saved.meters, saved.average, saved.missing), (7, 43.8, 5));
    assert_eq!((saved.comment.as_str(), saved.user.as_str(), saved.from.as_str(), saved.to.as_str()), ("Concentrateur nord en panne", "clerk", "2025-12-01", "2025-12-31"));
    reports::report_performance_save(&p.store, &p.clerk, &perf("2025-12-01", "2025-12-31", None, 24.0), "", NOW + 60).expect("save");
    let list = reports::report_performance_list(&p.store, &p.clerk).expect("list");
    assert_eq!(list.len(), 2);
    assert_eq!((list[1].id, list[0].expected_per_day, list[0].comment.as_str()), (saved.id, 24.0, ""));

    let later = NOW + 3_600;
    let c = reports::report_performance_comment(&p.store, &p.clerk, saved.id, "Réparé le 2 janvier", later).expect("comment");
    assert_eq!((c.comment.as_str(), c.commented_at, c.commented_by.as_deref()), ("Réparé le 2 janvier", Some(later), Some("clerk")));
    let list = reports::report_performance_list(&p.store, &p.clerk).expect("list");
    assert_eq!(list[1], c);
    assert!(matches!(reports::report_performance_comment(&p.store, &p.clerk, 999, "x", later), Err(Error::NotFound { .. })));
    let audit = store::audit::latest(&p.store.reader().expect("reader"), 10).expect("audit");
    assert!(audit.iter().any(|e| e.event == "performance_report_commented" && e.user == "clerk"));
    assert!(audit.iter().any(|e| e.event == "performance_report_saved"));

    let mut out = Vec::new();
    let n = reports::report_performance_export(&p.store, &p.clerk, &q, &mut out, NOW).expect("export");
    assert_eq!(n, 7);
    let text = String::from_utf8(out).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "address;postal_code;city;meter_serial;received;expected;performance_percent;last_missing_day");
    assert_eq!(lines[5], "7 rue Neuve;42400;Saint-Chamond;00000007;29;31;93,5;2025-12-25");
}
