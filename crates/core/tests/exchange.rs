//! Meter exchange and comparison through the core, on a real SQLite file with hand-made
//! readings: the take-over, exact month buckets across the exchange, validation errors and
//! their words, the audit entry, permissions, the comparison with a group sum.

use chrono::{NaiveDate, NaiveDateTime};
use releve_core::access::{self, Role, Session};
use releve_core::compare::{self, CompareQuery};
use releve_core::exchange::{self, ExchangeRequest};
use releve_core::meters::{self, HistogramQuery, Resolution};
use releve_core::store::{self, Store};
use releve_core::{Error, Problem, Reason};

#[path = "support/users.rs"]
mod users;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2025-12-01T00:00 in Paris (UTC+1 from November to March).
const DEC1: i64 = 1_764_543_600;
const NOV1: i64 = DEC1 - 30 * DAY;
/// 2026-02-01T00:00 in Paris.
const NOW: i64 = DEC1 + 62 * DAY;
/// The exchange: 2025-12-20T12:00 in Paris.
const AT: i64 = DEC1 + 19 * DAY + 12 * HOUR;

struct Park {
    _dir: tempfile::TempDir,
    store: Store,
    clerk: Session,
    superuser: Session,
    old: i64,
    other: i64,
    group: i64,
}

fn meter(conn: &rusqlite::Connection, serial: &str, status: &str, customer_id: Option<i64>) -> i64 {
    let m = store::meters::NewMeter {
        serial: serial.into(),
        manufacturer: "KAM".into(),
        device_type: "water".into(),
        status: status.into(),
        customer_id,
        address: format!("{serial} rue Neuve"),
        postal_code: "42400".into(),
        city: "Saint-Chamond".into(),
        lat: Some(45.47),
        lon: Some(4.51),
        installed_at: Some(NOV1 - 400 * DAY),
        ..Default::default()
    };
    store::meters::insert(conn, &m, NOV1).expect("meter")
}

fn read(conn: &rusqlite::Connection, meter_id: i64, ts: i64, value: f64) {
    let r = store::readings::Reading { meter_id, register: 1, ts, value, telegram_id: None };
    assert!(store::readings::insert(conn, &r, 0).expect("reading"));
}

fn park() -> Park {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("exchange.db")).expect("open");
    users::create_users(&store, &[("clerk", Role::User), ("super", Role::Superuser)], NOW);
    let clerk = access::login(&store, "clerk", "pw", "pc", "local", NOW).expect("login");
    let superuser = access::login(&store, "super", "pw", "pc-7", "local", NOW).expect("login");
    let conn = store.writer();
    let customer = store::customers::Customer {
        number: "C1".into(),
        name: "Client 1".into(),
        address: "1 rue Neuve".into(),
        postal_code: "42400".into(),
        city: "Saint-Chamond".into(),
        email: None,
        phone: None,
    };
    let customer_id = store::customers::insert(&conn, &customer).expect("customer");
    let old = meter(&conn, "12345678", "active", Some(customer_id));
    let other = meter(&conn, "87654321", "active", None);
    meter(&conn, "55555555", "unassigned", None);
    read(&conn, old, NOV1 + 19 * DAY, 9.0);
    read(&conn, old, DEC1, 10.0);
    read(&conn, old, DEC1 + 14 * DAY, 11.0);
    read(&conn, other, DEC1, 50.0);
    read(&conn, other, DEC1 + 20 * DAY, 53.0);
    let group = store::groups::create(&conn, "Secteur 1", NOV1).expect("group");
    store::groups::add_member(&conn, group, old).expect("member");
    store::groups::add_member(&conn, group, other).expect("member");
    drop(conn);
    Park { _dir: dir, store, clerk, superuser, old, other, group }
}

fn at(s: &str) -> NaiveDateTime {
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").expect("time")
}

fn request<'a>(old: i64, serial: &'a str, when: &str, final_value: f64, initial_value: f64) -> ExchangeRequest<'a> {
    ExchangeRequest { old_id: old, new_serial: serial, new_manufacturer: None, at: at(when), final_value, initial_value }
}

fn month_values(p: &Park, id: i64) -> (Vec<Option<f64>>, Vec<i64>) {
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
    let q = HistogramQuery { meter_id: id, register: None, resolution: Resolution::Month, from: d(2025, 11, 1), to: d(2026, 1, 31), now: None, fit_to_readings: false };
    let h = meters::meter_histogram(&p.store, &p.clerk, &q).expect("histogram");
    (h.buckets.iter().map(|b| b.value).collect(), h.exchanges.iter().map(|e| e.at).collect())
}

#[test]
fn exchange_takes_over_the_installation_and_keeps_the_histogram_continuous() {
    let p = park();
    let done = exchange::meter_exchange(&p.store, &p.superuser, &request(p.old, "99990001", "2025-12-20T12:00", 11.4, 0.2), NOW)
        .expect("exchange");
    assert!(done.created);
    assert_eq!(done.at, AT);
    assert_eq!(done.register, "volume");
    let fresh = meters::meter_get(&p.store, &p.clerk, done.new_meter_id).expect("new");
    assert_eq!(fresh.meter.last_seen, Some(AT), "the initial reading counts as the new meter's last reading");
    {
        let conn = p.store.writer();
        read(&conn, done.new_meter_id, DEC1 + 24 * DAY, 1.0);
        read(&conn, done.new_meter_id, DEC1 + 35 * DAY, 2.0);
    }

    let old = meters::meter_get(&p.store, &p.clerk, p.old).expect("old");
    assert_eq!(old.meter.status, "removed");
    assert_eq!(old.meter.removed_at, Some(AT));
    let new = meters::meter_get(&p.store, &p.clerk, done.new_meter_id).expect("new");
    assert_eq!(new.meter.status, "active");
    assert_eq!(new.meter.serial, "99990001");
    assert_eq!(new.meter.manufacturer, "KAM");
    assert_eq!(new.meter.address, "12345678 rue Neuve");
    assert_eq!((new.meter.lat, new.meter.lon), (Some(45.47), Some(4.51)));
    assert_eq!(new.meter.installed_at, Some(AT));
    assert_eq!(new.customer.as_ref().map(|c| c.number.as_str()), Some("C1"));
    assert_eq!(new.groups.iter().map(|g| g.name.as_str()).collect::<Vec<_>>(), ["Secteur 1"]);
    assert_eq!(new.exchanges.len(), 1);
    assert_eq!(new.exchanges[0].old_serial, "12345678");
    assert_eq!((new.exchanges[0].final_value, new.exchanges[0].initial_value), (11.4, 0.2));
    assert_eq!(old.exchanges.len(), 1);

    // November: 9.0 then nothing: 0. December: (11.4 - 9.0) + (1.0 - 0.2) = 3.2. January: 1.0.
    let (values, marks) = month_values(&p, done.new_meter_id);
    assert_eq!(values, [Some(0.0), Some(3.2), Some(1.0)]);
    assert_eq!(marks, [AT]);
    // The old meter alone stops at its final reading.
    let (values, _) = month_values(&p, p.old);
    assert_eq!(values, [Some(0.0), Some(2.4), None]);

    let conn = p.store.reader().expect("reader");
    let audit = store::audit::latest(&conn, 1).expect("audit");
    assert_eq!(audit[0].event, "meter_exchanged");
    assert_eq!((audit[0].user.as_str(), audit[0].computer.as_str()), ("super", "pc-7"));
    assert!(audit[0].details.contains("12345678") && audit[0].details.contains("99990001"), "{}", audit[0].details);
    assert!(audit[0].details.contains("final 11.4 m3, initial 0.2 m3"), "{}", audit[0].details);
}

#[test]
fn an_unassigned_meter_can_replace_one() {
    let p = park();
    let done = exchange::meter_exchange(&p.store, &p.superuser, &request(p.old, "55555555", "2025-12-20T12:00", 11.0, 3.0), NOW)
        .expect("exchange");
    assert!(!done.created);
    let new = meters::meter_get(&p.store, &p.clerk, done.new_meter_id).expect("new");
    assert_eq!(new.meter.status, "active");
}

/// The refusal's problem: its code and the values the UI words it with.
fn refused(p: &Park, req: &ExchangeRequest<'_>) -> Problem {
    match exchange::meter_exchange(&p.store, &p.superuser, req, NOW) {
        Err(Error::Refused(problem)) => problem,
        other => panic!("expected a refusal with its code, got {other:?}"),
    }
}

#[test]
fn exchanges_are_validated_with_codes_and_values() {
    let p = park();
    let e = refused(&p, &request(p.old, "99990001", "2025-12-20T12:00", 10.2, 0.0));
    assert_eq!(e.code(), "final_below_last");
    assert!(
        matches!(&e, Problem::FinalBelowLast { meter, final_value, last, unit: "m3", last_at } if meter == "12345678" && *final_value == 10.2 && *last == 11.0 && *last_at < NOW),
        "{e:?}"
    );
    let params = serde_json::Value::Object(e.params());
    assert_eq!((params["final"].as_f64(), params["last"].as_f64(), params["field"].as_str()), (Some(10.2), Some(11.0), Some("final_value")));
    assert!(e.to_string().contains("meter 12345678: final reading 10.2 m3 is below its last reading 11.0 m3"), "{e}");
    let e = refused(&p, &request(p.old, "99990001", "2026-03-01T08:00", 12.0, 0.0));
    assert!(matches!(&e, Problem::ExchangeInFuture { meter, at } if meter == "12345678" && *at > NOW), "{e:?}");
    let e = refused(&p, &request(p.old, "99990001", "2025-12-10T12:00", 12.0, 0.0));
    assert!(matches!(&e, Problem::ExchangeBeforeLastReading { meter, at, last_at } if meter == "12345678" && *last_at == DEC1 + 14 * DAY && at < last_at), "{e:?}");
    let e = refused(&p, &request(p.old, "87654321", "2025-12-20T12:00", 12.0, 0.0));
    assert!(matches!(&e, Problem::SerialInUse { serial, status, meter, .. } if serial == "87654321" && status == "active" && meter == "12345678"), "{e:?}");
    assert!(e.to_string().contains("meter 87654321 is active"), "{e}");
    let e = refused(&p, &request(p.old, "12345678", "2025-12-20T12:00", 12.0, 0.0));
    assert_eq!(e, Problem::ReplacesItself { meter: "12345678".into() });
    let e = refused(&p, &request(p.old, "99990001", "2025-12-20T12:00", -1.0, 0.0));
    assert_eq!(e, Problem::NegativeReading { meter: "12345678".into(), field: "final_value" });
    let e = refused(&p, &request(p.old, "99990001", "2025-12-20T12:00", 12.0, f64::NAN));
    assert_eq!(e, Problem::NegativeReading { meter: "12345678".into(), field: "initial_value" });
    // Nothing was written by the refusals.
    let old = meters::meter_get(&p.store, &p.clerk, p.old).expect("old");
    assert_eq!(old.meter.status, "active");
    assert!(old.exchanges.is_empty());
    // A removed meter cannot be exchanged again.
    exchange::meter_exchange(&p.store, &p.superuser, &request(p.old, "99990001", "2025-12-20T12:00", 11.4, 0.0), NOW).expect("first");
    let e = refused(&p, &request(p.old, "99990002", "2025-12-21T12:00", 11.4, 0.0));
    assert_eq!(e, Problem::MeterAlreadyRemoved { meter: "12345678".into() });
    // The new serial is needed: a bad_input with its reason.
    let e = exchange::meter_exchange(&p.store, &p.superuser, &request(p.other, " ", "2025-12-21T12:00", 11.4, 0.0), NOW).expect_err("no serial");
    assert!(matches!(&e, Error::Invalid { field, reason: Reason::Required } if field == "new_serial"), "{e:?}");
    assert_eq!(e.code(), "bad_input");
}

#[test]
fn a_clerk_may_not_exchange_meters() {
    let p = park();
    let r = exchange::meter_exchange(&p.store, &p.clerk, &request(p.old, "99990001", "2025-12-20T12:00", 11.4, 0.0), NOW);
    assert!(matches!(r, Err(Error::Forbidden { .. })), "{r:?}");
    let old = meters::meter_get(&p.store, &p.clerk, p.old).expect("old");
    assert_eq!(old.meter.status, "active");
}

#[test]
fn comparison_gives_one_series_per_meter_and_a_group_sum() {
    let p = park();
    let d = |y, m, d| NaiveDate::from_ymd_opt(y, m, d).expect("date");
    let ids = [p.old, p.other];
    let q = CompareQuery { ids: &ids, register: None, resolution: Resolution::Month, from: d(2025, 11, 1), to: d(2025, 12, 31), sum_of_group: Some(p.group), now: i64::MAX };
    let c = compare::meters_compare(&p.store, &p.clerk, &q).expect("compare");
    assert_eq!(c.series.len(), 3);
    let values = |i: usize| c.series[i].buckets.iter().map(|b| b.value).collect::<Vec<_>>();
    assert_eq!(values(0), [Some(0.0), Some(2.0)]);
    assert_eq!(values(1), [None, Some(3.0)]);
    assert_eq!((c.series[2].kind, c.series[2].name.as_str(), c.series[2].meters), ("group_sum", "Secteur 1", 2));
    assert_eq!(values(2), [Some(0.0), Some(5.0)]);
    assert_eq!(c.series[2].unit, "m3");
    let nine = [p.old; 9];
    let q = CompareQuery { ids: &nine, sum_of_group: None, ..q };
    assert!(matches!(compare::meters_compare(&p.store, &p.clerk, &q), Err(Error::BadInput { .. })));
}

#[test]
fn exports_mark_the_final_and_initial_readings_of_an_exchange() {
    use releve_core::export::{export_readings, Column, ExportSpec};
    let p = park();
    exchange::meter_exchange(&p.store, &p.superuser, &request(p.old, "99990001", "2025-12-20T12:00", 11.4, 0.2), NOW)
        .expect("exchange");
    let spec = ExportSpec {
        columns: vec![Column::MeterSerial, Column::Value, Column::MeterExchange],
        separator: b',',
        decimal: '.',
        ..ExportSpec::new(NaiveDate::from_ymd_opt(2025, 12, 20).expect("d"), NaiveDate::from_ymd_opt(2025, 12, 20).expect("d"))
    };
    let mut out = Vec::new();
    export_readings(&p.store, &p.clerk, &spec, &mut out, NOW).expect("export");
    let text = String::from_utf8(out).expect("utf8");
    assert!(text.lines().any(|l| l == "12345678,11.4,final -> 99990001"), "{text}");
    assert!(text.lines().any(|l| l == "99990001,0.2,initial <- 12345678"), "{text}");
}
