//! Personal data (issue 12) through the core on a small park (January 2026, Europe/Paris):
//! customer C1 with two water meters read every hour — one of them replaced on the 10th by
//! a new meter (history through the exchange) — an alarm, a notice, a billing file; the
//! subject access ZIP opened and checked, a move-out that keeps billing totals, interval
//! data refused to a clerk without `view_intervals`, and the register of processing.

#[path = "support/users.rs"]
mod users;

use chrono::NaiveDate;
use releve_core::access::{Role, Session};
use releve_core::billing::{self, Field, Format, Layout, Period, Var};
use releve_core::compare::{self, CompareQuery};
use releve_core::consumer_report::{self, ConsumerReportRequest, Locale};
use releve_core::export::{self, ExportSpec, Granularity};
use releve_core::live::{self, LiveQuery};
use releve_core::meters::{self, HistogramQuery, Resolution};
use releve_core::personal::{self, register, zip, MoveOut, NewOccupant};
use releve_core::reports::consumption::{self, ConsumptionQuery};
use releve_core::store::{self, Store};
use releve_core::Error;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2026-01-01T00:00 in Paris (UTC+1).
const JAN1: i64 = 1_767_222_000;
/// 2026-02-03T09:00 in Paris.
const NOW: i64 = JAN1 + 33 * DAY + 9 * HOUR;

struct Park {
    _dir: tempfile::TempDir,
    store: Store,
    manager: Session,
    clerk: Session,
    customer: i64,
    /// Meter ids: the replacement (on the 10th) of the first meter, the other meter.
    new: i64,
    other: i64,
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

/// Hourly readings from `from` (included) to `to` (excluded), an index growing 10 l an hour.
fn hourly(conn: &rusqlite::Connection, meter_id: i64, from: i64, to: i64, start: f64) -> u64 {
    let mut n = 0;
    let mut ts = from;
    while ts < to {
        let value = start + 0.01 * ((ts - from) / HOUR) as f64;
        let r = store::readings::Reading { meter_id, register: releve_core::model::Register::Volume.code(), ts, value, telegram_id: None };
        store::readings::insert(conn, &r, 0).expect("reading");
        ts += HOUR;
        n += 1;
    }
    n
}

fn park() -> Park {
    let dir = tempfile::tempdir().expect("dir");
    let store = Store::open(&dir.path().join("gdpr.db")).expect("store");
    users::create_users(&store, &[("manager", Role::Manager), ("clerk", Role::User)], JAN1 - DAY);
    let manager = releve_core::access::login(&store, "manager", "pw", "pc", "local", NOW).expect("login");
    let clerk = releve_core::access::login(&store, "clerk", "pw", "pc", "local", NOW).expect("login");
    let (customer, old, other) = {
        let conn = store.writer();
        let c = store::customers::Customer {
            number: "C1".into(),
            name: "Jeanne Martin".into(),
            address: "3 rue des Lilas".into(),
            postal_code: "42400".into(),
            city: "Saint-Chamond".into(),
            email: Some("jeanne.martin@example.org".into()),
            phone: Some("06 12 34 56 78".into()),
        };
        let customer = store::customers::insert(&conn, &c).expect("customer");
        let meter = |serial: &str| {
            let m = store::meters::NewMeter {
                serial: serial.into(),
                manufacturer: "KAM".into(),
                device_type: "water".into(),
                status: "active".into(),
                customer_id: Some(customer),
                address: "3 rue des Lilas".into(),
                city: "Saint-Chamond".into(),
                ..Default::default()
            };
            store::meters::insert(&conn, &m, JAN1 - 400 * DAY).expect("meter")
        };
        let (old, other) = (meter("11110001"), meter("11110002"));
        // An unrelated meter of someone else.
        let c2 = store::customers::Customer { number: "C2".into(), name: "Paul Durand".into(), ..c.clone() };
        let c2 = store::customers::insert(&conn, &c2).expect("c2");
        let stranger = store::meters::NewMeter {
            serial: "99990009".into(),
            manufacturer: "KAM".into(),
            device_type: "water".into(),
            status: "active".into(),
            customer_id: Some(c2),
            ..Default::default()
        };
        let stranger = store::meters::insert(&conn, &stranger, JAN1).expect("stranger");
        hourly(&conn, old, JAN1, JAN1 + 9 * DAY + 12 * HOUR, 100.0);
        hourly(&conn, other, JAN1, JAN1 + 31 * DAY, 50.0);
        hourly(&conn, stranger, JAN1, JAN1 + 31 * DAY, 7.0);
        let leak = store::info_codes::Event { code: "leak".into(), started_at: JAN1 + 3 * DAY, last_seen_at: JAN1 + 4 * DAY, ended_at: Some(JAN1 + 5 * DAY) };
        store::info_codes::upsert(&conn, other, &leak).expect("event");
        let notice = store::notify::NoticeKey { rule_id: 1, meter_id: other, code: "leak", started_at: JAN1 + 3 * DAY, channel: "email", recipient: "releve@utility.example" };
        store::notify::record(&conn, &notice, JAN1 + 3 * DAY + HOUR, None).expect("notice");
        (customer, old, other)
    };
    // The old meter replaced on the 10th at 12:00 by 11110003, which reads on from 0.2.
    let req = releve_core::exchange::ExchangeRequest {
        old_id: old,
        new_serial: "11110003",
        new_manufacturer: None,
        at: date(2026, 1, 10).and_hms_opt(12, 0, 0).expect("time"),
        final_value: 100.0 + 0.01 * (9 * 24 + 11) as f64,
        initial_value: 0.2,
    };
    let done = releve_core::exchange::meter_exchange(&store, &manager, &req, NOW).expect("exchange");
    {
        let conn = store.writer();
        hourly(&conn, done.new_meter_id, JAN1 + 9 * DAY + 12 * HOUR, JAN1 + 31 * DAY, 0.2);
    }
    Park { _dir: dir, store, manager, clerk, customer, new: done.new_meter_id, other }
}

/// A billing layout without customer fields: serial, start and end values, consumption;
/// the trailer holds the total.
fn layout() -> Layout {
    let mut l = Layout::new(
        "Facturation",
        Format::Csv,
        vec![Field::new(Var::MeterSerial), Field::new(Var::ValueStart), Field::new(Var::ValueEnd), Field::new(Var::Consumption)],
    );
    l.trailer = vec![Field::new(Var::RecordCount), Field::new(Var::TotalConsumption)];
    l
}

fn january() -> Period {
    Period::new(date(2026, 1, 1), date(2026, 1, 31)).expect("period")
}

fn audit_events(store: &Store, event: &str) -> Vec<String> {
    let conn = store.reader().expect("reader");
    store::audit::latest(&conn, 1000).expect("audit").into_iter().filter(|e| e.event == event).map(|e| e.details).collect()
}

fn subject_access(p: &Park, session: &Session, customer: i64) -> (personal::AccessSummary, Vec<(String, Vec<u8>)>) {
    let mut out = Vec::new();
    let summary = personal::customer_subject_access(&p.store, session, customer, &mut out, NOW).expect("subject access");
    (summary, zip::read_all(&out).expect("zip"))
}

fn file<'a>(files: &'a [(String, Vec<u8>)], name: &str) -> &'a [u8] {
    &files.iter().find(|f| f.0 == name).unwrap_or_else(|| panic!("{name} in the archive")).1
}

fn text(files: &[(String, Vec<u8>)], name: &str) -> String {
    String::from_utf8(file(files, name).to_vec()).expect("utf-8")
}

#[test]
fn subject_access_zip_holds_the_customers_data_and_only_theirs() {
    let p = park();
    billing::layout_save(&p.store, &p.manager, &layout(), NOW).expect("layout");
    billing::layout_run(&p.store, &p.manager, "Facturation", january(), NOW).expect("billing run");
    let (summary, files) = subject_access(&p, &p.manager, p.customer);
    let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
    assert_eq!(
        names,
        ["customer.csv", "meters.csv", "exchanges.csv", "readings.csv", "alarms.csv", "notices.csv", "exports.csv", "consumer_reports.csv", "summary.pdf"]
    );
    assert!(summary.file_name.starts_with("donnees-personnelles-C1-2026-02-03"), "{}", summary.file_name);
    let customer = text(&files, "customer.csv");
    assert!(customer.contains("C1;Jeanne Martin;3 rue des Lilas;42400;Saint-Chamond;jeanne.martin@example.org;06 12 34 56 78"), "{customer}");
    // Three meters: the two and the one that replaced the first (the history through it).
    let meters = text(&files, "meters.csv");
    for serial in ["11110001", "11110002", "11110003"] {
        assert!(meters.contains(serial), "{serial} in {meters}");
    }
    assert!(!meters.contains("99990009"));
    // Every reading of theirs, none of the stranger's: old meter 9.5 days and its final
    // reading at the exchange, the other 31 days, the new one 21.5 days, hourly; French decimals.
    let readings = text(&files, "readings.csv");
    let rows: Vec<&str> = readings.lines().skip(1).collect();
    assert_eq!(rows.len() as u64, (9 * 24 + 12 + 1) + 31 * 24 + (21 * 24 + 12));
    assert_eq!(summary.readings, rows.len() as u64);
    assert_eq!(readings.lines().next(), Some("meter_serial;timestamp;register;value;unit"));
    assert!(rows.contains(&"11110002;2026-01-01 01:00:00;volume;50,01;m3"), "{}", &readings[..300]);
    assert!(rows.contains(&"11110001;2026-01-10 11:00:00;volume;102,27;m3"));
    assert!(rows.contains(&"11110003;2026-01-10 12:00:00;volume;0,2;m3"));
    assert!(!readings.contains("99990009"));
    assert!(text(&files, "exchanges.csv").contains("2026-01-10 12:00:00;11110001;11110003;volume;102,27;0,2"));
    assert!(text(&files, "alarms.csv").contains("11110002;leak;2026-01-04 00:00:00"));
    assert!(text(&files, "notices.csv").contains("11110002;leak;2026-01-04 00:00:00;email;releve@utility.example"));
    // The billing file names their meters (its last lines) and the run is in the audit.
    let exports = text(&files, "exports.csv");
    assert!(exports.contains("billing_file_line") && exports.contains("11110002"), "{exports}");
    assert!(exports.contains("export_layout_run"), "{exports}");
    let pdf = file(&files, "summary.pdf");
    assert!(pdf.starts_with(b"%PDF-1."));
    let pdf_text = pdf_text(pdf);
    assert!(pdf_text.contains("Jeanne Martin"), "the summary names the customer");
    assert!(pdf_text.contains("11110003"));
    // One audit entry naming the customer by id and number, not by name.
    let audit = audit_events(&p.store, "customer_subject_access");
    assert_eq!(audit.len(), 1);
    assert!(audit[0].starts_with(&format!("customer #{} (C1)", p.customer)), "{}", audit[0]);
    assert!(!audit[0].contains("Jeanne"));
    // A clerk may not.
    let mut out = Vec::new();
    let e = personal::customer_subject_access(&p.store, &p.clerk, p.customer, &mut out, NOW).expect_err("clerk");
    assert!(matches!(e, Error::Forbidden { .. }), "{e}");
    assert!(out.is_empty());
    assert!(matches!(personal::customer_subject_access(&p.store, &p.manager, 9999, &mut Vec::new(), NOW), Err(Error::NotFound { .. })));
}

fn consumption_totals(p: &Park) -> Vec<(String, f64)> {
    let q = ConsumptionQuery { from: date(2026, 1, 1), to: date(2026, 1, 31), group_id: None, above: None, below: None, register: None, device_type: None, offset: 0, limit: 100 };
    let r = consumption::report_consumption(&p.store, &p.manager, &q, NOW).expect("report");
    let mut rows: Vec<(String, f64)> = r.rows.iter().map(|row| (row.label.serial.clone(), row.consumption.unwrap_or(f64::NAN))).collect();
    rows.push(("total".into(), r.totals.iter().map(|t| t.consumption).sum()));
    rows
}

#[test]
fn move_out_keeps_billing_totals_and_the_new_occupant_starts_clean() {
    let p = park();
    billing::layout_save(&p.store, &p.manager, &layout(), NOW).expect("layout");
    let before = billing::layout_run(&p.store, &p.manager, "Facturation", january(), NOW).expect("billing run");
    let totals_before = consumption_totals(&p);

    let req = MoveOut {
        customer_id: p.customer,
        date: date(2026, 1, 20),
        new_occupant: Some(NewOccupant { name: "Luc Bernard".into(), email: Some("luc@example.org".into()), ..Default::default() }),
    };
    // Not in the future, not twice.
    let future = MoveOut { date: date(2026, 3, 1), ..req.clone() };
    assert!(matches!(personal::customer_move_out(&p.store, &p.manager, &future, NOW), Err(Error::BadInput { .. })));
    assert!(matches!(personal::customer_move_out(&p.store, &p.clerk, &req, NOW), Err(Error::Forbidden { .. })));
    let done = personal::customer_move_out(&p.store, &p.manager, &req, NOW).expect("move out");
    assert_eq!(done.meters, vec![p.other, p.new], "the meters in service change hands");
    let newcomer = done.new_customer_id.expect("new customer");
    assert_eq!(done.new_customer_number.as_deref(), Some("C1-20260120"));
    let again = personal::customer_move_out(&p.store, &p.manager, &req, NOW).expect_err("twice");
    assert!(matches!(again, Error::BadInput { .. }), "{again}");
    let audit = audit_events(&p.store, "customer_move_out");
    assert_eq!(audit.len(), 1, "one entry for the allowed change");
    assert!(!audit[0].contains("Jeanne") && !audit[0].contains("Luc"), "ids and numbers only: {}", audit[0]);

    // Billing and the consumption report over January are unchanged, byte for byte.
    let after = billing::layout_run(&p.store, &p.manager, "Facturation", january(), NOW).expect("billing run");
    assert_eq!(String::from_utf8_lossy(&after.bytes), String::from_utf8_lossy(&before.bytes));
    assert_eq!(consumption_totals(&p), totals_before);

    // An old customers file naming the former customer again brings nothing back.
    {
        let system = Session::system("test");
        let mapping = [("customer_number", 0), ("customer_name", 1), ("meter_serial", 2)].into_iter().map(|(f, c)| (f.to_string(), c)).collect();
        let spec = releve_core::park_profiles::ProfileSpec { name: "old".into(), separator: ";".into(), has_header: false, mapping, folder: None, interval_minutes: None };
        releve_core::park_profiles::park_profile_save(&p.store, &system, &spec, NOW).expect("profile");
        let permit = system.permit(releve_core::access::Permission::EditMeters).expect("permit");
        let report = releve_core::park_import::park_import(&p.store, permit, "old", "old.csv", b"C1;Jeanne Martin;11110002\n", NOW).expect("import");
        assert_eq!(report.rejected.len(), 1, "{:?}", report.rejected);
        assert!(report.rejected[0].reason.contains("moved out"), "{}", report.rejected[0].reason);
    }
    // The former customer: a pseudonym, the number kept, its identity wiped.
    let conn = p.store.reader().expect("reader");
    let former = store::occupancies::customer(&conn, p.customer).expect("read").expect("kept");
    assert_eq!((former.number.as_str(), former.name.as_str(), former.email.as_deref(), former.phone.as_deref()), ("C1", "", None, None));
    assert_eq!(former.pseudonym.as_deref(), Some(personal::FORMER_OCCUPANT));
    assert_eq!(personal::display_name(&former), format!("former_occupant #{}", p.customer));
    drop(conn);
    // Its subject access still has its readings, up to the move-out only.
    let (_, files) = subject_access(&p, &p.manager, p.customer);
    let readings = text(&files, "readings.csv");
    assert!(readings.contains("11110002;2026-01-19 23:00:00"));
    assert!(!readings.contains("2026-01-20 00:00:00"), "nothing from the move-out on");
    assert!(text(&files, "customer.csv").contains(";former_occupant;2026-01-20 00:00:00"));
    assert!(pdf_text(file(&files, "summary.pdf")).contains("Ancien occupant #"));

    // The new occupant: readings from the 20th only, none of the exchange before.
    let (summary, files) = subject_access(&p, &p.manager, newcomer);
    let readings = text(&files, "readings.csv");
    assert_eq!(summary.readings, 2 * 12 * 24, "two meters, 12 days of hours");
    assert!(readings.lines().skip(1).all(|l| &l.as_bytes()[9..] >= b"2026-01-20".as_slice()), "{}", &readings[..200]);
    assert!(!text(&files, "meters.csv").contains("11110001"), "the meter replaced before is not theirs");
    assert!(!text(&files, "alarms.csv").contains("leak"));
    assert!(!text(&files, "notices.csv").contains("leak"));
    // Their consumer report over January starts at the move-in: days before are empty.
    let report = ConsumerReportRequest {
        meter_id: p.other,
        from: date(2026, 1, 1),
        to: date(2026, 1, 31),
        resolution: Resolution::Day,
        format: consumer_report::Format::Html,
        locale: Some(Locale::En),
    };
    let html = String::from_utf8(consumer_report::consumer_report(&p.store, &p.manager, &report, NOW).expect("report").bytes).expect("utf-8");
    assert!(html.contains("Luc Bernard"));
    assert!(!html.contains("Jeanne"));
    // 12 days of 24 hours of 10 l: 2.88 m3 (the index at the move-in is where it starts).
    assert!(html.contains("2.880"), "total from the move-in only");
    assert!(!html.contains("7.440"), "not the whole month (31 days)");
}

#[test]
fn a_clerk_without_view_intervals_gets_days_and_is_refused_hours() {
    let p = park();
    let q = |resolution| HistogramQuery { meter_id: p.other, register: None, resolution, from: date(2026, 1, 5), to: date(2026, 1, 6), now: None, fit_to_readings: false };
    let e = meters::meter_histogram(&p.store, &p.clerk, &q(Resolution::Hour)).expect_err("hours");
    assert_eq!(e.code(), "intervals_not_allowed", "{e}");
    let days = meters::meter_histogram(&p.store, &p.clerk, &q(Resolution::Day)).expect("days");
    assert_eq!(days.buckets.len(), 2);
    assert_eq!(days.buckets[0].value, Some(0.24));
    assert_eq!(meters::meter_histogram(&p.store, &p.manager, &q(Resolution::Hour)).expect("hours").buckets.len(), 48);
    assert_eq!(Resolution::default_for(&p.clerk), Resolution::Day);
    assert_eq!(Resolution::default_for(&p.manager), Resolution::Hour);

    let ids = [p.other, p.new];
    let cq = |resolution| CompareQuery { ids: &ids, register: None, resolution, from: date(2026, 1, 5), to: date(2026, 1, 6), sum_of_group: None, now: i64::MAX };
    assert_eq!(compare::meters_compare(&p.store, &p.clerk, &cq(Resolution::Hour)).expect_err("hours").code(), "intervals_not_allowed");
    assert!(compare::meters_compare(&p.store, &p.clerk, &cq(Resolution::Day)).is_ok());

    // The export: every reading refused when asked, one a day by default.
    let spec = ExportSpec { granularity: Some(Granularity::Readings), ..ExportSpec::new(date(2026, 1, 5), date(2026, 1, 6)) };
    let e = export::export_readings(&p.store, &p.clerk, &spec, &mut Vec::new(), NOW).expect_err("readings");
    assert_eq!(e.code(), "intervals_not_allowed");
    let spec = ExportSpec { columns: vec![export::Column::MeterSerial, export::Column::Timestamp, export::Column::Value], ..ExportSpec::new(date(2026, 1, 5), date(2026, 1, 6)) };
    let mut out = Vec::new();
    let rows = export::export_readings(&p.store, &p.clerk, &spec, &mut out, NOW).expect("days");
    let csv = String::from_utf8(out).expect("utf-8");
    // Three meters of January 5 and 6 (the old one replaced on the 10th, the other, the stranger's).
    assert_eq!(rows, 6, "{csv}");
    assert!(csv.contains("11110002;2026-01-05;51,19\n"), "the day's last reading, dated by the day: {csv}");
    let mut out = Vec::new();
    assert_eq!(export::export_readings(&p.store, &p.manager, &spec, &mut out, NOW).expect("readings"), 3 * 48);

    // The live screen: the last reading of each day instead of 5-minute values.
    releve_core::live::meter_priority_set(&p.store, &p.manager, &[p.other], true, NOW).expect("priority");
    let at = JAN1 + 20 * DAY + 6 * HOUR;
    let clerk_live = live::live(&p.store, &p.clerk, &LiveQuery::default(), at).expect("live");
    assert_eq!(clerk_live.step, live::DAY);
    assert_eq!(clerk_live.meters[0].series[0].points.len(), 2, "yesterday's last reading and today's");
    let manager_live = live::live(&p.store, &p.manager, &LiveQuery::default(), at).expect("live");
    assert_eq!(manager_live.step, live::STEP);
    assert!(manager_live.meters[0].series[0].points.len() >= 24);
}

#[test]
fn the_register_follows_the_settings_in_french_and_english() {
    let p = park();
    let fr = register::gdpr_register(&p.store, &p.clerk, None, NOW).expect("register");
    assert_eq!(fr.locale, "fr");
    let readings = fr.entries.iter().find(|e| e.id == "readings").expect("readings");
    assert!(readings.retention.contains("Complets 13 mois, puis un relevé par jour, supprimés après 10 ans"), "{}", readings.retention);
    assert!(readings.access.contains("valeurs horaires et plus fines : super-utilisateur, gestionnaire"), "{}", readings.access);
    {
        let conn = p.store.writer();
        store::settings::set(&conn, "retention_readings_full_months", "24").expect("setting");
    }
    let en = register::gdpr_register(&p.store, &p.clerk, Some(Locale::En), NOW).expect("register");
    let readings = en.entries.iter().find(|e| e.id == "readings").expect("readings");
    assert_eq!(readings.retention, "In full for 24 months, then one a day, deleted after 10 years");
    let customers = en.entries.iter().find(|e| e.id == "customers").expect("customers");
    assert!(customers.data.contains("2 customers, 0 former occupants"), "{}", customers.data);
    let tz = chrono_tz::Europe::Paris;
    assert!(en.pdf(tz).expect("pdf").starts_with(b"%PDF-"));
    let html = en.html(tz);
    assert!(html.contains("<h1>Register of processing</h1>") && html.contains("In full for 24 months"));
    assert_eq!(en.file_name(tz, "pdf"), "register-of-processing-2026-02-03.pdf");
}

/// The PDF's text as poppler's `pdftotext` reads it (no-break spaces as spaces).
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tmp");
    let path = dir.path().join("f.pdf");
    std::fs::write(&path, bytes).expect("write");
    let out = std::process::Command::new("pdftotext")
        .args(["-enc", "UTF-8", path.to_str().expect("path"), "-"])
        .output()
        .expect("pdftotext (scripts/install-deps installs poppler-utils)");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    String::from_utf8(out.stdout).expect("utf-8").replace(['\u{A0}', '\u{202F}'], " ")
}
