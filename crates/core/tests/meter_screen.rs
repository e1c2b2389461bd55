//! The meter screen through the core, on a real SQLite file: the readings table's keyset
//! pages, sources and consumptions (and one a day without `view_intervals`), a reading
//! entered and corrected by hand (validation errors naming field and meter, the raw telegram
//! and replaced value kept, audit with old and new value, permissions), the meter and its
//! customer edited (validation, "to remove", removal, audit).

use chrono::NaiveDate;
use releve_core::access::{self, Role, Session};
use releve_core::meter_screen::{self as screen, CustomerUpdate, MeterUpdate, ReadingCorrection, ReadingEntry, ReadingsQuery};
use releve_core::store::{self, Store};
use releve_core::{Error, Problem, Reason};

#[path = "support/users.rs"]
mod users;

const HOUR: i64 = 3_600;
const DAY: i64 = 86_400;
/// 2025-12-01T00:00 in Paris (UTC+1).
const DEC1: i64 = 1_764_543_600;
/// 300 hourly readings from DEC1; now is a day after the last.
const N: i64 = 300;
const NOW: i64 = DEC1 + N * HOUR + DAY;

struct Park {
    _dir: tempfile::TempDir,
    store: Store,
    clerk: Session,
    superuser: Session,
    manager: Session,
    meter: i64,
    customer: i64,
}

fn park() -> Park {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("meter-screen.db")).expect("open");
    users::create_users(&store, &[("clerk", Role::User), ("super", Role::Superuser), ("boss", Role::Manager)], DEC1);
    let clerk = access::login(&store, "clerk", "pw", "pc", "local", NOW).expect("login");
    let superuser = access::login(&store, "super", "pw", "pc-7", "local", NOW).expect("login");
    let manager = access::login(&store, "boss", "pw", "pc-1", "local", NOW).expect("login");
    let conn = store.writer();
    let mut customer = store::customers::Customer {
        number: "C1".into(),
        name: "Durand Céline".into(),
        address: "1 rue Neuve".into(),
        postal_code: "42400".into(),
        city: "Saint-Chamond".into(),
        email: None,
        phone: None,
    };
    let customer_id = store::customers::insert(&conn, &customer).expect("customer");
    customer.number = "C2".into();
    customer.name = "Martin Paul".into();
    store::customers::insert(&conn, &customer).expect("customer 2");
    let m = store::meters::NewMeter {
        serial: "12345678".into(),
        manufacturer: "KAM".into(),
        device_type: "water".into(),
        status: "active".into(),
        customer_id: Some(customer_id),
        address: "1 rue Neuve".into(),
        postal_code: "42400".into(),
        city: "Saint-Chamond".into(),
        lat: Some(45.47),
        lon: Some(4.51),
        ..Default::default()
    };
    let meter = store::meters::insert(&conn, &m, DEC1).expect("meter");
    // Two imports: a drive-by file (first half) and a concentrator push heard by gateway GW-1.
    let file = store::imports::start(&conn, "clerk", &store::imports::Source { name: "tour-12.txt", size: 1, hash: "a" }, DEC1).expect("import");
    let push = store::imports::start(&conn, "system", &store::imports::Source { name: "push to concentrateur", size: 1, hash: "b" }, DEC1).expect("import");
    conn.execute("INSERT INTO gateways(name, kind, first_contact, last_contact) VALUES ('GW-1', 'concentrator', ?1, ?1)", [DEC1]).expect("gateway");
    let gateway: i64 = conn.query_row("SELECT id FROM gateways WHERE name = 'GW-1'", [], |r| r.get(0)).expect("gateway id");
    for i in 0..N {
        let ts = DEC1 + i * HOUR;
        let raw = format!("frame {i}").into_bytes();
        let import_id = if i < N / 2 { file } else { push };
        let t = store::telegrams::NewTelegram { meter_id: meter, received_at: ts, rssi: None, import_id, status: "decoded", raw: &raw };
        let telegram_id = match store::telegrams::insert(&conn, &t).expect("telegram") {
            store::telegrams::Inserted::New(id) | store::telegrams::Inserted::Duplicate(id) => id,
        };
        if i >= N / 2 {
            let r = store::gateways::Reception { meter_id: meter, telegram_id, gateway_id: gateway, received_at: ts, rssi: Some(-80), snr: None, source_id: None };
            store::gateways::receive(&conn, &r).expect("reception");
        }
        let r = store::readings::Reading { meter_id: meter, register: 1, ts, value: 100.0 + i as f64 * 0.25, telegram_id: Some(telegram_id) };
        assert!(store::readings::insert(&conn, &r, ts).expect("reading"));
    }
    drop(conn);
    Park { _dir: dir, store, clerk, superuser, manager, meter, customer: customer_id }
}

fn query(meter_id: i64) -> ReadingsQuery {
    ReadingsQuery { meter_id, register: None, from: None, to: None, before: None, limit: 100 }
}

fn audit(store: &Store) -> store::audit::Entry {
    store::audit::latest(&store.reader().expect("reader"), 1).expect("audit").remove(0)
}

/// A refusal's problem, or a panic naming what came instead.
fn problem(r: Result<impl std::fmt::Debug, Error>) -> Problem {
    match r {
        Err(Error::Refused(p)) => p,
        other => panic!("expected a refusal, got {other:?}"),
    }
}

#[test]
fn readings_come_in_keyset_pages_with_their_source_gateway_and_consumption() {
    let p = park();
    let first = screen::meter_readings(&p.store, &p.superuser, &query(p.meter)).expect("page 1");
    assert_eq!((first.register, first.unit, first.daily), ("volume", "m3", false));
    assert_eq!(first.rows.len(), 100);
    assert_eq!(first.rows[0].ts, DEC1 + (N - 1) * HOUR, "newest first");
    assert_eq!((first.rows[0].source, first.rows[0].gateway.as_deref()), ("gateway", Some("GW-1")));
    let c = first.rows[0].consumption.expect("consumption");
    assert_eq!(c, 0.25, "since the reading before");
    // The last row of the page has its consumption too (the page reads one row more).
    assert!(first.rows[99].consumption.is_some());
    let mut all = first.rows.len();
    let mut before = first.next_before;
    let mut last_page = None;
    while let Some(b) = before {
        let page = screen::meter_readings(&p.store, &p.superuser, &ReadingsQuery { before: Some(b), ..query(p.meter) }).expect("page");
        assert!(page.rows.iter().all(|r| r.ts < b), "a page starts after the previous one");
        all += page.rows.len();
        before = page.next_before;
        last_page = Some(page);
    }
    assert_eq!(all as i64, N, "every reading once");
    let last = last_page.expect("3 pages");
    let oldest = last.rows.last().expect("oldest");
    assert_eq!((oldest.ts, oldest.source, oldest.source_name.as_deref(), oldest.consumption), (DEC1, "file", Some("tour-12.txt"), None));

    // A period: 2025-12-02 only (local), 24 readings.
    let day = NaiveDate::from_ymd_opt(2025, 12, 2);
    let page = screen::meter_readings(&p.store, &p.superuser, &ReadingsQuery { from: day, to: day, ..query(p.meter) }).expect("a day");
    assert_eq!(page.rows.len(), 24);
    assert_eq!(page.next_before, None);
    let bad = screen::meter_readings(&p.store, &p.superuser, &ReadingsQuery { from: NaiveDate::from_ymd_opt(2025, 12, 3), to: day, ..query(p.meter) });
    assert!(matches!(bad, Err(Error::Invalid { ref field, reason: Reason::EndsBeforeStart { .. } }) if field == "to"), "{bad:?}");

    // A clerk without view_intervals: one reading a day, the day's last.
    let daily = screen::meter_readings(&p.store, &p.clerk, &query(p.meter)).expect("daily");
    assert!(daily.daily);
    assert_eq!(daily.rows.len(), 13, "300 hours from midnight: 12 full days and a part");
    assert_eq!(daily.rows[1].ts, DEC1 + 12 * DAY - HOUR, "the last reading of 2025-12-12");
    let c = daily.rows[1].consumption.expect("a day's consumption");
    assert_eq!(c, 6.0);
    let two = screen::meter_readings(&p.store, &p.clerk, &ReadingsQuery { limit: 2, ..query(p.meter) }).expect("2 days");
    let next = screen::meter_readings(&p.store, &p.clerk, &ReadingsQuery { limit: 2, before: two.next_before, ..query(p.meter) }).expect("next");
    assert_eq!(next.rows[0].ts, daily.rows[2].ts, "the next page goes on with the day before");
}

#[test]
fn a_manual_reading_is_validated_stored_audited_and_shown_as_manual() {
    let p = park();
    let at = |s: &str| chrono::NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M").expect("time");
    let entry = |value: f64, when: &str, reason: &'static str| ReadingEntry { meter_id: p.meter, register: None, at: at(when), value, reason, confirm: false };
    // 2025-12-20T10:00 local, after the last reading (2025-12-13 11:00).
    let add = |e: &ReadingEntry<'_>| screen::meter_reading_add(&p.store, &p.superuser, e, NOW + 10 * DAY);

    let refused = problem(add(&entry(180.0, "2025-12-20T10:00", "  ")));
    assert_eq!(refused, Problem::MeterField { meter: "12345678".into(), field: "reason", reason: Reason::Required });
    assert_eq!((refused.code(), refused.params()["meter"].as_str(), refused.params()["field"].as_str()), ("bad_input", Some("12345678"), Some("reason")));
    assert_eq!(refused.params()["reason"], "required");
    let future = problem(add(&entry(180.0, "2026-01-30T10:00", "visite")));
    assert!(matches!(future, Problem::ReadingInFuture { ref meter, .. } if meter == "12345678"), "{future:?}");
    assert_eq!(future.field(), Some("at"));
    let below = problem(add(&entry(50.0, "2025-12-20T10:00", "visite")));
    assert!(matches!(below, Problem::ReadingBelowPrevious { previous, unit: "m3", .. } if previous == 174.75), "{below:?}");
    assert_eq!(below.field(), Some("value"));
    let power = problem(screen::meter_reading_add(&p.store, &p.superuser, &ReadingEntry { register: Some("flow_temp"), ..entry(1.0, "2025-12-20T10:00", "x") }, NOW));
    assert!(matches!(power, Problem::MeterField { field: "register", reason: Reason::Unknown { .. }, .. }), "{power:?}");
    let negative = problem(add(&entry(-1.0, "2025-12-20T10:00", "visite")));
    assert_eq!(negative, Problem::NegativeReading { meter: "12345678".into(), field: "value" });
    let exists = problem(add(&entry(150.0, "2025-12-01T00:00", "visite")));
    assert!(matches!(exists, Problem::ReadingExists { .. }), "{exists:?}");
    // A clerk (role user) may not bring readings in.
    let forbidden = screen::meter_reading_add(&p.store, &p.clerk, &entry(180.0, "2025-12-20T10:00", "visite"), NOW);
    assert!(matches!(forbidden, Err(Error::Forbidden { .. })), "{forbidden:?}");
    let nothing = screen::meter_readings(&p.store, &p.superuser, &query(p.meter)).expect("page");
    assert_eq!(nothing.rows[0].ts, DEC1 + (N - 1) * HOUR, "nothing stored by the refusals");

    let saved = add(&entry(180.5, "2025-12-20T10:00", "relevé visuel, radio muette")).expect("saved");
    assert_eq!(saved.ts, DEC1 + 19 * DAY + 10 * HOUR, "10:00 local");
    let page = screen::meter_readings(&p.store, &p.superuser, &query(p.meter)).expect("page");
    let top = &page.rows[0];
    assert_eq!((top.ts, top.source, top.edit.as_deref(), top.telegram_id), (saved.ts, "manual", Some("manual"), None));
    assert_eq!(top.consumption, Some(5.75), "since the last received");
    let a = audit(&p.store);
    assert_eq!((a.event.as_str(), a.user.as_str(), a.computer.as_str()), ("reading_entered", "super", "pc-7"));
    assert!(a.details.contains("12345678") && a.details.contains("180.5 m3") && a.details.contains("radio muette"), "{}", a.details);
    // The meter's detail lists it for the chart's marks.
    let d = releve_core::meters::meter_get(&p.store, &p.clerk, p.meter).expect("detail");
    assert_eq!(d.manual.len(), 1);
    assert_eq!((d.manual[0].register, d.manual[0].kind.as_str(), d.manual[0].ts), ("volume", "manual", saved.ts));

    // Below the previous one, confirmed (a reset): kept.
    let reset = add(&ReadingEntry { confirm: true, ..entry(0.5, "2025-12-21T10:00", "compteur remis à zéro") }).expect("confirmed");
    assert_eq!(reset.value, 0.5);
}

#[test]
fn a_correction_supersedes_the_value_and_keeps_the_raw_telegram_and_the_old_value() {
    let p = park();
    let ts = DEC1 + 10 * HOUR;
    let original = screen::meter_readings(&p.store, &p.superuser, &ReadingsQuery { before: Some(ts + 1), limit: 1, ..query(p.meter) }).expect("page").rows.remove(0);
    let telegram = original.telegram_id.expect("received");
    let correction = |value: f64, reason: &'static str| ReadingCorrection { meter_id: p.meter, register: Some("volume"), ts, value, reason, confirm: false };

    let no_reason = problem(screen::meter_reading_correct(&p.store, &p.superuser, &correction(102.625, ""), NOW));
    assert!(matches!(no_reason, Problem::MeterField { field: "reason", .. }), "{no_reason:?}");
    let above = problem(screen::meter_reading_correct(&p.store, &p.superuser, &correction(200.0, "saisie"), NOW));
    assert!(matches!(above, Problem::ReadingAboveNext { .. }), "{above:?}");
    let missing = problem(screen::meter_reading_correct(&p.store, &p.superuser, &ReadingCorrection { ts: ts + 1, ..correction(102.5, "x") }, NOW));
    assert!(matches!(missing, Problem::NoSuchReading { .. }), "{missing:?}");
    let forbidden = screen::meter_reading_correct(&p.store, &p.clerk, &correction(102.625, "x"), NOW);
    assert!(matches!(forbidden, Err(Error::Forbidden { permission, .. }) if permission == "edit_meters"), "{forbidden:?}");

    let done = screen::meter_reading_correct(&p.store, &p.superuser, &correction(102.625, "valeur aberrante"), NOW).expect("corrected");
    assert_eq!(done.old_value, Some(original.value));
    let row = screen::meter_readings(&p.store, &p.superuser, &ReadingsQuery { before: Some(ts + 1), limit: 1, ..query(p.meter) }).expect("page").rows.remove(0);
    assert_eq!((row.value, row.edit.as_deref(), row.telegram_id, row.source), (102.625, Some("correction"), Some(telegram), "file"));
    let conn = p.store.reader().expect("reader");
    assert_eq!(store::readings::latest(&conn, p.meter, 1).expect("latest").map(|r| r.0), Some(DEC1 + (N - 1) * HOUR));
    let raw: Vec<u8> = conn.query_row("SELECT raw FROM telegrams WHERE meter_id = ?1 AND id = ?2", [p.meter, telegram], |r| r.get(0)).expect("raw kept");
    assert_eq!(raw, b"frame 10");
    let edits = store::meter_screen::edits_of(&conn, p.meter, 10).expect("edits");
    assert_eq!((edits[0].old_value, edits[0].old_telegram_id, edits[0].reason.as_str()), (Some(original.value), Some(telegram), "valeur aberrante"));
    drop(conn);
    let a = audit(&p.store);
    assert_eq!(a.event, "reading_corrected");
    assert!(a.details.contains("102.5 m3 -> 102.625 m3") && a.details.contains(&format!("telegram {telegram} kept")), "{}", a.details);
}

#[test]
fn a_meter_and_its_customer_are_edited_validated_and_audited() {
    let p = park();
    let base = MeterUpdate {
        id: p.meter,
        address: "3 rue Jean Jaurès",
        postal_code: "42400",
        city: "Saint-Chamond",
        lat: Some(45.4791),
        lon: Some(4.5102),
        customer_number: "C1",
        status: "active",
        notes: "",
    };
    let update = |u: &MeterUpdate<'_>| screen::meter_update(&p.store, &p.superuser, u, NOW);
    let lat = problem(update(&MeterUpdate { lat: Some(95.0), ..base.clone() }));
    assert_eq!(lat, Problem::MeterField { meter: "12345678".into(), field: "lat", reason: Reason::OutOfRange { value: 95.0, min: -90.0, max: 90.0 } });
    let lon = problem(update(&MeterUpdate { lon: None, ..base.clone() }));
    assert!(matches!(lon, Problem::MeterField { field: "lon", reason: Reason::NeededWith { .. }, .. }), "{lon:?}");
    let long = "x".repeat(201);
    let address = problem(update(&MeterUpdate { address: &long, ..base.clone() }));
    assert!(matches!(address, Problem::MeterField { field: "address", reason: Reason::TooLong { max: 200 }, .. }), "{address:?}");
    let status = problem(update(&MeterUpdate { status: "lost", ..base.clone() }));
    assert!(matches!(status, Problem::MeterField { field: "status", reason: Reason::Unknown { .. }, .. }), "{status:?}");
    let customer = problem(update(&MeterUpdate { customer_number: "C9", ..base.clone() }));
    assert_eq!(customer, Problem::NoSuchCustomer { meter: "12345678".into(), number: "C9".into() });
    assert_eq!(customer.field(), Some("customer_number"));
    let forbidden = screen::meter_update(&p.store, &p.clerk, &base, NOW);
    assert!(matches!(forbidden, Err(Error::Forbidden { .. })), "{forbidden:?}");

    let done = update(&MeterUpdate { customer_number: "C2", status: "to_remove", notes: "accès par la cour", ..base.clone() }).expect("saved");
    assert_eq!(done.changed, vec!["address", "gps", "customer", "status", "notes"]);
    let a = audit(&p.store);
    assert_eq!(a.event, "meter_edited");
    assert!(a.details.contains("address: '1 rue Neuve' -> '3 rue Jean Jaurès'") && a.details.contains("customer: 'C1' -> 'C2'") && a.details.contains("status: 'active' -> 'to_remove'"), "{}", a.details);
    let d = releve_core::meters::meter_get(&p.store, &p.clerk, p.meter).expect("detail");
    assert_eq!((d.meter.status.as_str(), d.to_remove, d.notes.as_str()), ("active", true, "accès par la cour"));
    assert_eq!(d.customer.map(|c| c.number), Some("C2".to_string()));
    assert_eq!((d.meter.lat, d.meter.lon), (Some(45.4791), Some(4.5102)));
    // The search finds it by its new address.
    let found = releve_core::meters::meters_list(&p.store, &p.clerk, &store::meters::ListQuery { search: Some("jaures".into()), limit: 10, ..Default::default() }).expect("search");
    assert_eq!(found.total, 1);
    // The same again changes nothing and writes nothing.
    let again = update(&MeterUpdate { customer_number: "C2", status: "to_remove", notes: "accès par la cour", ..base.clone() }).expect("same");
    assert!(again.changed.is_empty());
    assert_eq!(audit(&p.store).details, a.details);

    // Removed: now, and for good.
    let removed = update(&MeterUpdate { customer_number: "C2", status: "removed", notes: "accès par la cour", ..base.clone() }).expect("removed");
    assert_eq!(removed.changed, vec!["status"]);
    let d = releve_core::meters::meter_get(&p.store, &p.clerk, p.meter).expect("detail");
    assert_eq!((d.meter.status.as_str(), d.meter.removed_at), ("removed", Some(NOW)));
    let back = problem(update(&MeterUpdate { customer_number: "C2", status: "active", ..base.clone() }));
    assert_eq!(back, Problem::MeterRemoved { meter: "12345678".into() });

    // The customer: number taken, name required, then saved and audited.
    let cu = |number: &'static str, name: &'static str| CustomerUpdate { id: p.customer, number, name, email: "celine.durand@example.org", phone: "04 77 00 00 00" };
    let taken = problem(screen::customer_update(&p.store, &p.manager, &cu("C2", "Durand Céline"), NOW));
    assert_eq!(taken, Problem::CustomerNumberTaken { number: "C2".into() });
    let name = problem(screen::customer_update(&p.store, &p.manager, &cu("C1", " "), NOW));
    assert_eq!(name, Problem::CustomerField { customer: "C1".into(), field: "name", reason: Reason::Required });
    let changed = screen::customer_update(&p.store, &p.manager, &cu("C1-b", "Durand Céline"), NOW).expect("saved");
    assert_eq!(changed, vec!["number", "email", "phone"]);
    let a = audit(&p.store);
    assert_eq!((a.event.as_str(), a.user.as_str()), ("customer_edited", "boss"));
    assert!(a.details.contains("number: 'C1' -> 'C1-b'"), "{}", a.details);
    let picks = screen::customers_search(&p.store, &p.clerk, "durand", 10).expect("search");
    assert_eq!(picks.iter().map(|c| c.number.as_str()).collect::<Vec<_>>(), vec!["C1-b"]);
}

#[test]
fn the_readings_table_downloads_as_csv_with_the_export_options() {
    let p = park();
    let day = NaiveDate::from_ymd_opt(2025, 12, 2);
    let q = ReadingsQuery { from: day, to: day, ..query(p.meter) };
    let o = screen::CsvOptions { encoding: releve_core::billing::Encoding::Windows1252, separator: b';', decimal: ',', french: true };
    let csv = screen::meter_readings_export(&p.store, &p.superuser, &q, &o, NOW).expect("csv");
    assert_eq!((csv.rows, csv.truncated, csv.file_name.as_str()), (24, false, "releve-12345678-volume.csv"));
    let text: String = csv.bytes.iter().map(|b| *b as char).collect(); // Windows-1252 of these characters is Latin-1
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(lines[0], "Date;Registre;Index;Unité;Consommation;Source;Passerelle;Saisie");
    assert_eq!(lines[1], "02/12/2025 23:00:00;volume;111,75;m3;0,25;fichier de relève;;");
    assert_eq!(lines.len(), 25);
    let a = audit(&p.store);
    assert_eq!((a.event.as_str(), a.user.as_str()), ("export", "super"));
    // Every page of the period, however many: 300 readings in pages of 500 and more.
    let all = screen::meter_readings_export(&p.store, &p.superuser, &query(p.meter), &screen::CsvOptions { french: false, encoding: releve_core::billing::Encoding::Utf8, ..o }, NOW).expect("all");
    assert_eq!(all.rows, N as u64);
    assert!(String::from_utf8(all.bytes).expect("utf-8").starts_with("timestamp;register;value;unit;consumption;source;gateway;edit\n2025-12-13 11:00:00;volume;174,75;m3;0,25;gateway;GW-1;"));
    let forbidden = screen::meter_readings_export(&p.store, &p.clerk, &q, &o, NOW).map(|c| c.rows);
    assert_eq!(forbidden.expect("a clerk exports, one row a day"), 1);
}
