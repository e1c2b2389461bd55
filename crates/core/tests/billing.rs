//! Billing exports through the core on a small hand-made park (January 2026, Europe/Paris):
//! a meter read every day, one reporting target (billing-date) values through the real
//! import, one needing interpolation, one without data, one exchanged in the month, a heat
//! meter and an unassigned one. Files are compared byte for byte with `tests/golden/`
//! (`UPDATE_GOLDEN=1 cargo test -p releve-core --test billing` rewrites them).

use chrono::NaiveDate;
use mbus::encode::{date_g, wmbus_frame, FrameSpec};
use mbus::DeviceType;
use releve_core::access::{self, Permission, Role, Session};
use releve_core::billing::{self, Align, Field, Format, Layout, Period, Var};
use releve_core::exchange::{self, ExchangeRequest};
use releve_core::import::import_drive_by;
use releve_core::store::{self, Store};
use releve_core::Error;
use std::path::PathBuf;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2026-01-01T00:00 in Paris (UTC+1).
const JAN1: i64 = 1_767_222_000;
/// 2026-02-01T00:00 in Paris: the billing date of January.
const FEB1: i64 = JAN1 + 31 * DAY;
/// 2026-02-03T09:00 in Paris.
const NOW: i64 = FEB1 + 2 * DAY + 9 * HOUR;

struct Park {
    _dir: tempfile::TempDir,
    store: Store,
    manager: Session,
    water: i64,
    /// Meter ids by serial.
    ids: std::collections::HashMap<String, i64>,
}

fn january() -> Period {
    Period::new(date(2026, 1, 1), date(2026, 1, 31)).expect("period")
}

fn date(y: i32, m: u32, d: u32) -> NaiveDate {
    NaiveDate::from_ymd_opt(y, m, d).expect("date")
}

fn customer(conn: &rusqlite::Connection, number: &str, name: &str) -> i64 {
    let c = store::customers::Customer {
        number: number.into(),
        name: name.into(),
        address: String::new(),
        postal_code: String::new(),
        city: String::new(),
        email: Some(format!("{}@example.org", number.to_lowercase())),
        phone: None,
    };
    store::customers::insert(conn, &c).expect("customer")
}

fn meter(
    conn: &rusqlite::Connection,
    serial: &str,
    device_type: &str,
    status: &str,
    customer_id: Option<i64>,
    address: &str,
) -> i64 {
    let m = store::meters::NewMeter {
        serial: serial.into(),
        manufacturer: "KAM".into(),
        device_type: device_type.into(),
        status: status.into(),
        customer_id,
        address: address.into(),
        postal_code: "42400".into(),
        city: "Saint-Chamond".into(),
        lat: Some(45.475_123),
        lon: Some(4.512_345),
        installed_at: Some(JAN1 - 400 * DAY),
        ..Default::default()
    };
    store::meters::insert(conn, &m, JAN1 - 400 * DAY).expect("meter")
}

fn read(conn: &rusqlite::Connection, meter_id: i64, register: i64, ts: i64, value: f64) {
    let r = store::readings::Reading { meter_id, register, ts, value, telegram_id: None };
    assert!(store::readings::insert(conn, &r, 0).expect("reading"));
}

/// A plain (unencrypted) Kamstrup water telegram with volume, target volume and target date.
fn target_frame(serial: &str, access_number: u8, litres: u32, target_litres: u32, target: NaiveDate) -> String {
    use chrono::Datelike;
    let mut payload = vec![0x04, 0x13];
    payload.extend_from_slice(&litres.to_le_bytes());
    payload.extend_from_slice(&[0x44, 0x13]);
    payload.extend_from_slice(&target_litres.to_le_bytes());
    payload.extend_from_slice(&[0x42, 0x6c]);
    payload.extend_from_slice(&date_g(target.year() as u16, target.month() as u8, target.day() as u8));
    let spec = FrameSpec {
        manufacturer: "KAM",
        id: serial,
        version: 0x1b,
        device_type: DeviceType::Water,
        access_number,
        status: 0,
    };
    hex::encode_upper(wmbus_frame(&spec, &payload, None))
}

fn park() -> Park {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("billing.db")).expect("open");
    let system = Session::system("test-pc");
    let permit = system.permit(Permission::ManageUsers).expect("system may");
    let user = store::users::NewUser {
        salt: None,
        login: "manager",
        name: "Manager",
        role: Role::Manager,
        password: "pw",
        locale: "fr",
    };
    access::create_user(&store, permit, &user, NOW).expect("user");
    let manager = access::login(&store, "manager", "pw", "pc-12", "local", NOW).expect("login");

    // 10000002 reports its target values: imported from a drive-by file, as in real life.
    let lines = [
        ("2026-01-01 10:00:00", 80_210, 80_000, date(2026, 1, 1)),
        ("2026-01-15 10:00:00", 85_000, 80_000, date(2026, 1, 1)),
        ("2026-02-01 10:00:00", 90_930, 90_750, date(2026, 2, 1)),
    ]
    .iter()
    .enumerate()
    .map(|(i, (at, l, t, d))| format!("T1;1;1;{at}.000;80;;;0x{}\n", target_frame("10000002", i as u8, *l, *t, *d)))
    .collect::<String>();
    let import = manager.permit(Permission::Import).expect("manager imports");
    let r = import_drive_by(&store, import, "drive.txt", lines.as_bytes(), NOW, &mut |_, _| {}).expect("import");
    assert_eq!((r.stored, r.rejected_count), (3, 0));

    let mut ids = std::collections::HashMap::new();
    let water;
    {
        let conn = store.writer();
        let imported = store::meters::id_of_serial(&conn, "10000002").expect("lookup").expect("imported meter");
        let mut m = store::meters::get(&conn, imported).expect("get").expect("meter");
        m.customer_id = Some(customer(&conn, "C002", "Martin Paul"));
        m.address = "8 avenue de la Gare".into();
        m.postal_code = "42400".into();
        m.city = "Saint-Chamond".into();
        m.status = "active".into();
        store::meters::set_installation(&conn, &m).expect("installation");
        ids.insert("10000002".to_string(), imported);

        // Read every day at 06:00: the nearest reading (6 h after midnight) is the value.
        let c = customer(&conn, "C001", "Dupont Marie");
        let id = meter(&conn, "10000001", "water", "active", Some(c), "3 rue des Lilas");
        for day in 0..41 {
            read(&conn, id, 1, JAN1 - 7 * DAY + day * DAY + 6 * HOUR, 1234.5 + 0.25 * day as f64);
        }
        let leak = store::info_codes::Event {
            code: "leak".into(),
            started_at: JAN1 + 9 * DAY,
            last_seen_at: JAN1 + 11 * DAY,
            ended_at: Some(JAN1 + 11 * DAY),
        };
        store::info_codes::upsert(&conn, id, &leak).expect("event");
        ids.insert("10000001".into(), id);

        // Read every ten days or so: both values interpolated.
        let c = customer(&conn, "C003", "Résidence Les Tilleuls; bât. B");
        let id = meter(&conn, "10000003", "water", "active", Some(c), "12 rue \"Haute\"");
        for (ts, v) in
            [(JAN1 - 11 * DAY, 50.0), (JAN1 + 10 * DAY, 60.5), (FEB1 - 10 * DAY, 70.0), (FEB1 + 10 * DAY, 74.0)]
        {
            read(&conn, id, 1, ts, v);
        }
        ids.insert("10000003".into(), id);

        // Silent since December: no value.
        let c = customer(&conn, "C004", "Bernard Luc");
        let id = meter(&conn, "10000004", "water", "active", Some(c), "5 place du Marché");
        read(&conn, id, 1, JAN1 - 31 * DAY, 20.0);
        read(&conn, id, 1, JAN1 - 22 * DAY, 21.0);
        ids.insert("10000004".into(), id);

        // Exchanged on 15 January (below).
        let c = customer(&conn, "C005", "Petit Anne");
        let id = meter(&conn, "10000005", "water", "active", Some(c), "1 impasse Verte");
        read(&conn, id, 1, JAN1, 240.0);
        read(&conn, id, 1, JAN1 + 9 * DAY, 243.0);
        ids.insert("10000005".into(), id);

        // Heat: energy in kWh, read an hour around the bounds.
        let c = customer(&conn, "C006", "Nowak Łukasz");
        let id = meter(&conn, "30000006", "heat", "active", Some(c), "9 rue du Four");
        read(&conn, id, 2, JAN1 - HOUR, 15_234.0);
        read(&conn, id, 2, FEB1 + HOUR, 15_734.5);
        ids.insert("30000006".into(), id);

        // In stock: never billed.
        let id = meter(&conn, "40000007", "water", "unassigned", None, "");
        read(&conn, id, 1, JAN1 + DAY, 1.0);

        water = store::groups::create(&conn, "Eau", JAN1).expect("group");
        for s in ["10000001", "10000002", "10000003", "10000004", "10000005"] {
            store::groups::add_member(&conn, water, ids[s]).expect("member");
        }
    }
    let at = chrono::NaiveDateTime::parse_from_str("2026-01-15T12:00", "%Y-%m-%dT%H:%M").expect("time");
    let req = ExchangeRequest {
        old_id: ids["10000005"],
        new_serial: "20000005",
        new_manufacturer: None,
        at,
        final_value: 245.678,
        initial_value: 0.012,
    };
    let done = exchange::meter_exchange(&store, &manager, &req, JAN1 + 15 * DAY).expect("exchange");
    {
        let conn = store.writer();
        read(&conn, done.new_meter_id, 1, FEB1 - 7 * DAY, 1.5);
        read(&conn, done.new_meter_id, 1, FEB1, 2.512);
    }
    ids.insert("20000005".into(), done.new_meter_id);
    Park { _dir: dir, store, manager, water, ids }
}

fn f(var: Var) -> Field {
    Field::new(var)
}

fn text(t: &str) -> Field {
    Field { text: Some(t.into()), ..f(Var::Text) }
}

/// CSV, French: header record, column labels, every kind of variable, trailer with totals.
fn csv_layout(group: i64) -> Layout {
    let mut l = Layout::new(
        "Facturation eau",
        Format::Csv,
        vec![
            f(Var::CustomerNumber),
            f(Var::CustomerName),
            f(Var::MeterSerial),
            f(Var::Address),
            f(Var::PostalCode),
            f(Var::City),
            f(Var::ValueStart),
            f(Var::SourceStart),
            f(Var::ValueEnd),
            f(Var::SourceEnd),
            Field { label: Some("Relevé le".into()), ..f(Var::ReadingTimeEnd) },
            f(Var::Consumption),
            f(Var::Unit),
            f(Var::InfoCodes),
            f(Var::ExchangeDate),
            f(Var::ExchangeOldSerial),
            f(Var::ExchangeOldFinal),
            f(Var::ExchangeNewInitial),
        ],
    );
    l.group_id = Some(group);
    l.header = vec![text("FACTURATION"), f(Var::PeriodFrom), f(Var::PeriodTo), f(Var::ExportDate)];
    l.trailer = vec![text("FIN"), f(Var::RecordCount), f(Var::TotalConsumption)];
    l
}

/// Fixed width: zero-padded implied decimals, no interpolation, header and trailer records.
fn fixed_layout(group: i64) -> Layout {
    let w = |field: Field, width: usize| Field { width: Some(width), ..field };
    let zero = |var: Var, width: usize| Field { width: Some(width), pad: Some('0'), implied_decimals: true, ..f(var) };
    let ymd = |var: Var, width: usize, pattern: &str| Field {
        width: Some(width),
        date_format: Some(pattern.into()),
        ..f(var)
    };
    let mut l = Layout::new(
        "Facturation eau largeur fixe",
        Format::Fixed,
        vec![
            w(text("D"), 1),
            Field { pad: Some('0'), ..w(f(Var::RowNumber), 6) },
            w(f(Var::CustomerNumber), 8),
            w(f(Var::MeterSerial), 10),
            zero(Var::ValueStart, 10),
            zero(Var::ValueEnd, 10),
            zero(Var::Consumption, 9),
            Field { align: Some(Align::Right), ..w(f(Var::SourceEnd), 8) },
            ymd(Var::ReadingTimeEnd, 12, "%Y%m%d%H%M"),
            w(f(Var::CustomerName), 30),
        ],
    );
    l.group_id = Some(group);
    l.encoding = billing::Encoding::Windows1252;
    l.billing.interpolate = false;
    l.fixed.line_end = billing::LineEnd::Crlf;
    l.header = vec![
        w(text("H"), 1),
        w(text("RELEVE"), 8),
        ymd(Var::PeriodFrom, 8, "%Y%m%d"),
        ymd(Var::PeriodTo, 8, "%Y%m%d"),
        ymd(Var::ExportDate, 8, "%Y%m%d"),
    ];
    l.trailer = vec![
        w(text("T"), 1),
        Field { pad: Some('0'), ..w(f(Var::RecordCount), 6) },
        zero(Var::TotalConsumption, 12),
        zero(Var::TotalValueEnd, 12),
    ];
    l
}

/// Widths too small for some values: the run is refused, the preview lists each.
fn too_narrow_layout() -> Layout {
    let w = |field: Field, width: usize| Field { width: Some(width), ..field };
    let mut l = Layout::new(
        "Trop étroit",
        Format::Fixed,
        vec![
            w(f(Var::MeterSerial), 8),
            w(f(Var::CustomerName), 12),
            Field { width: Some(7), pad: Some('0'), implied_decimals: true, ..f(Var::ValueEnd) },
        ],
    );
    l.header = vec![w(text("RELEVE-EAU"), 6)];
    l.encoding = billing::Encoding::Windows1252;
    l
}

fn golden_path(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/golden").join(name)
}

/// Compare with the golden file byte for byte (or rewrite it with UPDATE_GOLDEN=1).
fn golden(name: &str, actual: &[u8]) {
    let path = golden_path(name);
    if std::env::var("UPDATE_GOLDEN").is_ok_and(|v| v == "1") {
        std::fs::write(&path, actual).expect("write golden");
        return;
    }
    let expected =
        std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e} (UPDATE_GOLDEN=1 writes it)", path.display()));
    assert_eq!(
        String::from_utf8_lossy(actual),
        String::from_utf8_lossy(&expected),
        "{name} differs from its golden file"
    );
    assert_eq!(actual, expected.as_slice(), "{name}: same text, different bytes (line ends?)");
}

fn save(p: &Park, l: &Layout) {
    billing::layout_save(&p.store, &p.manager, l, NOW).expect("save");
}

#[test]
fn csv_layout_with_header_and_trailer_matches_its_golden_file() {
    let p = park();
    save(&p, &csv_layout(p.water));
    let out = billing::layout_run(&p.store, &p.manager, "Facturation eau", january(), NOW).expect("run");
    golden("facturation-eau.csv", &out.bytes);
    assert_eq!(out.file_name, "facturation-eau-2026-01-01_2026-01-31.csv");
    assert_eq!(out.rows, 5, "the exchanged meter's row is its successor's; the heat meter is not in the group");

    let text = String::from_utf8(out.bytes.clone()).expect("utf-8");
    let mut reader =
        csv::ReaderBuilder::new().delimiter(b';').has_headers(false).flexible(true).from_reader(text.as_bytes());
    let recs: Vec<csv::StringRecord> = reader.records().map(|r| r.expect("record")).collect();
    assert_eq!(&recs[0][0], "FACTURATION");
    assert_eq!((&recs[0][1], &recs[0][2], &recs[0][3]), ("01/01/2026", "31/01/2026", "03/02/2026"));
    assert_eq!(&recs[1][10], "Relevé le");
    let row = |serial: &str| recs.iter().find(|r| r.get(2) == Some(serial)).unwrap_or_else(|| panic!("row {serial}"));
    // Target values from the meter itself, not the nearest readings (80.210, 90.930).
    let r = row("10000002");
    assert_eq!((&r[6], &r[7], &r[8], &r[9], &r[11]), ("80,000", "target", "90,750", "target", "10,750"));
    // Interpolated both ends: 50 + 10.5 * 11/21 = 55.5 and 70 + 4 * 10/20 = 72.
    let r = row("10000003");
    assert_eq!((&r[6], &r[7], &r[8], &r[9], &r[11]), ("55,500", "interpolated", "72,000", "interpolated", "16,500"));
    assert_eq!(&r[1], "Résidence Les Tilleuls; bât. B", "quoted because of the separator");
    // Nothing within 48 h and nothing after: missing, empty, and a warning.
    let r = row("10000004");
    assert_eq!((&r[6], &r[7], &r[8], &r[9], &r[11]), ("", "missing", "", "missing", ""));
    // Over the exchange: (245.678 - 240) + (2.512 - 0.012) = 8.178.
    let r = row("20000005");
    assert_eq!((&r[0], &r[6], &r[8], &r[11]), ("C005", "240,000", "2,512", "8,178"));
    assert_eq!((&r[14], &r[15], &r[16], &r[17]), ("15/01/2026 12:00", "10000005", "245,678", "0,012"));
    assert!(recs.iter().all(|r| r.get(2) != Some("10000005")), "the replaced meter has no row of its own");
    // The nearest reading: 1 January 06:00 (6 h after midnight) and 1 February 06:00.
    let r = row("10000001");
    assert_eq!((&r[6], &r[8], &r[10], &r[11], &r[13]), ("1236,250", "1244,000", "01/02/2026 06:00", "7,750", "leak"));
    // Trailer: count and the total of the written consumptions.
    let last = recs.last().expect("trailer");
    assert_eq!((&last[0], &last[1], &last[2]), ("FIN", "5", "43,178"));

    let flagged: Vec<(&str, &str)> = out.warnings.iter().map(|w| (w.meter.as_str(), w.field.as_str())).collect();
    assert_eq!(
        flagged,
        [
            ("10000003", "value_start (volume)"),
            ("10000003", "value_end (volume)"),
            ("10000004", "value_start (volume)"),
            ("10000004", "value_end (volume)"),
        ]
    );
    assert!(
        out.warnings[0].message.starts_with(
            "interpolated at 2026-01-01 between the readings of 2025-12-21 00:00 (50) and 2026-01-11 00:00 (60.5)"
        ),
        "{}",
        out.warnings[0].message
    );
    assert!(out.warnings[2].message.contains("no reading within 48 h"), "{}", out.warnings[2].message);

    let conn = p.store.reader().expect("reader");
    let audit = store::audit::latest(&conn, 1).expect("audit");
    assert_eq!(
        (audit[0].event.as_str(), audit[0].user.as_str(), audit[0].computer.as_str()),
        ("export_layout_run", "manager", "pc-12")
    );
    assert!(
        audit[0].details.contains("facturation-eau-2026-01-01_2026-01-31.csv")
            && audit[0].details.contains(&out.sha256)
    );
}

#[test]
fn fixed_width_layout_matches_its_golden_file() {
    let p = park();
    save(&p, &fixed_layout(p.water));
    let out = billing::layout_run(&p.store, &p.manager, "Facturation eau largeur fixe", january(), NOW).expect("run");
    golden("facturation-eau-largeur-fixe.txt", &out.bytes);
    assert_eq!(out.file_name, "facturation-eau-largeur-fixe-2026-01-01_2026-01-31.txt");
    assert_eq!(out.encoding, billing::Encoding::Windows1252);
    let widths: Vec<usize> = out.bytes.split(|b| *b == b'\n').skip(1).take(5).map(<[u8]>::len).collect();
    assert_eq!(widths, [105; 5], "every record has the sum of the widths in bytes, and CR");
    let text = out.encoding.decode(&out.bytes);
    assert!(text.contains("Résidence Les Tilleuls; bât. B"));
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines.len(), 7, "header, 5 records, trailer");
    assert!(!text.replace("\r\n", "").contains('\n'), "CRLF only");
    assert_eq!(lines[0], "HRELEVE  202601012026013120260203");
    // Without interpolation the sparse meter's values are blank, not zeros.
    let sparse = lines.iter().find(|l| l.contains("10000003")).expect("row");
    assert!(sparse.contains(&format!("{}{}{}", " ".repeat(10), " ".repeat(10), " ".repeat(9))), "{sparse}");
    let exchanged = lines.iter().find(|l| l.contains("20000005")).expect("row");
    assert!(exchanged.contains("00002400000000002512000008178"), "{exchanged}");
    // 7.750 + 10.750 + 8.178 = 26.678; end values 1244 + 90.75 + 2.512 = 1337.262.
    assert_eq!(lines[6], "T000005000000026678000001337262");
}

#[test]
fn values_that_do_not_fit_refuse_the_run_and_are_all_listed_by_the_preview() {
    let p = park();
    let layout = too_narrow_layout();
    save(&p, &layout);
    let err = billing::layout_run(&p.store, &p.manager, "Trop étroit", january(), NOW).expect_err("refused");
    assert_eq!(err.code(), "bad_input");
    let Error::FieldValues { errors: refused, count } = &err else { panic!("{err:?}") };
    assert_eq!((refused.len(), *count), (4, 4), "the refusal carries every value");
    let preview = billing::layout_preview(&p.store, &p.manager, &layout, january(), 3, NOW).expect("preview");
    assert_eq!(refused, &preview.errors, "the same problems as the preview");
    let mut text = format!("run: {err}\npreview:\n");
    for e in &preview.errors {
        text.push_str(&e.to_string());
        text.push('\n');
    }
    golden("validation-errors.txt", text.as_bytes());
    assert_eq!(preview.errors.len(), 4);
    let e = &preview.errors[2];
    assert_eq!(
        e.to_string(),
        "meter 30000006, field 2 (customer_name): \"Nowak Łukasz\" has 'Ł', which windows-1252 cannot write"
    );
    assert_eq!(e.place, billing::Place::Data { meter: "30000006".into(), row: 6 });
    assert_eq!(e.problem, billing::Problem::NotEncodable { character: 'Ł', encoding: billing::Encoding::Windows1252 });
    assert_eq!(
        preview.errors[1].to_string(),
        "meter 10000003, field 2 (customer_name): \"Résidence Les Tilleuls; bât. B\" does not fit in 12 characters"
    );
    assert_eq!((preview.errors[1].field, preview.errors[1].var), (2, "customer_name"));
    assert_eq!(preview.errors[1].problem, billing::Problem::TooWide { width: 12 });
    // As the fronts get them: structured, with the English sentence beside.
    let json = serde_json::to_value(&preview.errors).expect("json");
    assert_eq!(
        json[0],
        serde_json::json!({"record": "header", "field": 1, "var": "text", "value": "RELEVE-EAU", "problem": "too_wide",
                           "width": 6, "message": "header, field 1 (text): \"RELEVE-EAU\" does not fit in 6 characters"})
    );
    assert_eq!((json[3]["record"].as_str(), json[3]["meter"].as_str(), json[3]["row"].as_u64()), (Some("data"), Some("30000006"), Some(6)));
    assert_eq!(preview.total_rows, 6);
    assert_eq!(preview.lines.len(), 3);
    assert_eq!(preview.lines[0], "RELEVE-EAU", "the preview shows the value whole");
    let conn = p.store.reader().expect("reader");
    assert!(store::layouts::last_file(&conn, 3).expect("last").is_none(), "no last file after a refused run");
}

#[test]
fn dry_run_compares_with_the_last_file_by_meter() {
    let p = park();
    save(&p, &csv_layout(p.water));
    let name = "Facturation eau";
    let first = billing::layout_dry_run(&p.store, &p.manager, name, january(), NOW).expect("dry run");
    assert_eq!((first.rows, first.added, first.removed, first.unchanged), (5, 5, 0, 0));
    assert!(first.last_run.is_none());
    billing::layout_run(&p.store, &p.manager, name, january(), NOW).expect("run");
    let same = billing::layout_dry_run(&p.store, &p.manager, name, january(), NOW).expect("dry run");
    assert_eq!((same.rows, same.added, same.removed, same.changed.len(), same.unchanged), (5, 0, 0, 0, 5));
    let last = same.last_run.expect("last run");
    assert_eq!((last.from.as_str(), last.to.as_str(), last.rows), ("2026-01-01", "2026-01-31", 5));

    {
        let conn = p.store.writer();
        // 10000004 is read at last (12 h before the billing date); 10000001 leaves the group;
        // a new meter joins it.
        read(&conn, p.ids["10000004"], 1, FEB1 - 12 * HOUR, 25.0);
        conn.execute("DELETE FROM meter_group_members WHERE meter_id = ?1", [p.ids["10000001"]]).expect("leave");
        let id = meter(&conn, "10000009", "water", "active", None, "2 rue Basse");
        read(&conn, id, 1, JAN1, 1.0);
        read(&conn, id, 1, FEB1, 4.0);
        store::groups::add_member(&conn, p.water, id).expect("join");
    }
    let d = billing::layout_dry_run(&p.store, &p.manager, name, january(), NOW).expect("dry run");
    assert_eq!((d.rows, d.added, d.removed, d.changed.len(), d.unchanged), (5, 1, 1, 1, 3));
    assert_eq!(d.added_lines[0].meter, "10000009");
    assert_eq!(d.removed_lines[0].meter, "10000001");
    assert_eq!(d.changed[0].meter, "10000004");
    assert!(d.changed[0].old.contains(";missing;"), "{}", d.changed[0].old);
    assert!(d.changed[0].new.contains(";25,000;reading;"), "{}", d.changed[0].new);
    // A dry run records nothing.
    let again = billing::layout_dry_run(&p.store, &p.manager, name, january(), NOW).expect("dry run");
    assert_eq!(again.changed.len(), 1);
}

#[test]
fn layouts_are_saved_listed_copied_and_deleted_with_audit_and_permissions() {
    let p = park();
    let layout = fixed_layout(p.water);
    let (_, created) = billing::layout_save(&p.store, &p.manager, &layout, NOW).expect("save");
    assert!(created);
    let (_, created) = billing::layout_save(&p.store, &p.manager, &layout, NOW).expect("save again");
    assert!(!created, "saving under the same name replaces");
    assert_eq!(billing::layout_get(&p.store, &p.manager, &layout.name).expect("get"), layout, "the JSON round-trips");
    let copy = billing::layout_copy(&p.store, &p.manager, &layout.name, "Copie", NOW).expect("copy");
    assert_eq!(copy.fields, layout.fields);
    let err = billing::layout_copy(&p.store, &p.manager, &layout.name, "Copie", NOW).expect_err("name taken");
    assert_eq!(err.code(), "bad_input");
    let names: Vec<String> =
        billing::layouts_list(&p.store, &p.manager).expect("list").into_iter().map(|l| l.name).collect();
    assert_eq!(names, ["Copie", "Facturation eau largeur fixe"]);
    billing::layout_delete(&p.store, &p.manager, "Copie", NOW).expect("delete");
    assert_eq!(billing::layout_delete(&p.store, &p.manager, "Copie", NOW).expect_err("gone").code(), "not_found");
    let conn = p.store.reader().expect("reader");
    let events: Vec<String> = store::audit::latest(&conn, 4).expect("audit").into_iter().map(|e| e.event).collect();
    assert_eq!(events, ["export_layout_deleted", "export_layout_copied", "export_layout_saved", "export_layout_saved"]);
    drop(conn);

    // A layout that cannot be written is not saved.
    let mut bad = layout.clone();
    bad.fields[1].width = None;
    assert_eq!(billing::layout_save(&p.store, &p.manager, &bad, NOW).expect_err("no width").code(), "bad_input");

    let viewer = Session { permissions: vec![Permission::View], ..p.manager.clone() };
    let forbidden = |r: Result<(), Error>| assert_eq!(r.expect_err("forbidden").code(), "forbidden");
    forbidden(billing::layout_run(&p.store, &viewer, &layout.name, january(), NOW).map(|_| ()));
    forbidden(billing::layout_save(&p.store, &viewer, &layout, NOW).map(|_| ()));
    forbidden(billing::layout_preview(&p.store, &viewer, &layout, january(), 5, NOW).map(|_| ()));
    forbidden(billing::layout_delete(&p.store, &viewer, &layout.name, NOW));
    billing::layout_get(&p.store, &viewer, &layout.name).expect("a viewer may read a layout");
}

fn job(name: &str, layout: &str) -> store::export_jobs::Job {
    store::export_jobs::Job::monthly_to_folder(name, layout, "/tmp/releve-exports")
}

#[test]
fn a_layout_used_by_scheduled_exports_is_not_deleted_and_a_rename_takes_them_along() {
    let p = park();
    let layout = csv_layout(p.water);
    save(&p, &layout);
    save(&p, &Layout { name: "Autre".into(), ..layout.clone() });
    std::fs::create_dir_all("/tmp/releve-exports").expect("the jobs' folder");
    releve_core::folders::folders_allowed_set(&p.store, &p.manager, &["/tmp/releve-exports".into()], NOW).expect("allow");
    for name in ["Mensuel eau", "Copie comptable"] {
        releve_core::jobs::export_job_save(&p.store, &p.manager, &job(name, "Facturation eau"), NOW).expect("job");
    }
    releve_core::jobs::export_job_save(&p.store, &p.manager, &job("Autre mensuel", "Autre"), NOW).expect("job");
    billing::layout_run(&p.store, &p.manager, "Facturation eau", january(), NOW).expect("run");

    // Deleting is refused, naming the jobs; nothing changes.
    let err = billing::layout_delete(&p.store, &p.manager, "Facturation eau", NOW).expect_err("in use");
    assert_eq!(err.code(), "in_use");
    assert_eq!(
        err.to_string(),
        "the export layout 'Facturation eau' is used by the scheduled exports 'Copie comptable', 'Mensuel eau': \
         delete them or choose another layout for them first"
    );
    let Error::LayoutInUse { jobs, .. } = &err else { panic!("{err:?}") };
    assert_eq!(jobs.iter().map(|j| j.1.as_str()).collect::<Vec<_>>(), ["Copie comptable", "Mensuel eau"]);
    billing::layout_get(&p.store, &p.manager, "Facturation eau").expect("still there");

    // Renaming onto another layout's name is refused too.
    let onto = Layout { name: "Autre".into(), ..layout.clone() };
    let err = billing::layout_save_renaming(&p.store, &p.manager, "Facturation eau", &onto, NOW).expect_err("taken");
    assert_eq!(err.code(), "bad_input");
    assert!(err.to_string().contains("a layout called 'Autre' exists already"), "{err}");

    // Renamed (and changed) in one call: same layout (id, last file), its jobs follow.
    let before = billing::layouts_list(&p.store, &p.manager).expect("list");
    let old = before.iter().find(|l| l.name == "Facturation eau").expect("old").clone();
    let mut renamed = Layout { name: "  Facturation eau potable ".into(), ..layout.clone() };
    renamed.csv.decimal = '.';
    let saved = billing::layout_save_renaming(&p.store, &p.manager, "Facturation eau", &renamed, NOW + 60).expect("rename");
    assert_eq!((saved.id, saved.created), (old.id, false));
    assert_eq!(saved.jobs_moved, ["Copie comptable", "Mensuel eau"]);
    let after = billing::layouts_list(&p.store, &p.manager).expect("list");
    let names: Vec<&str> = after.iter().map(|l| l.name.as_str()).collect();
    assert_eq!(names, ["Autre", "Facturation eau potable"]);
    assert_eq!(after[1].last_run, old.last_run, "the last file stays with the layout");
    assert_eq!(billing::layout_get(&p.store, &p.manager, "Facturation eau potable").expect("get").csv.decimal, '.');
    let conn = p.store.reader().expect("reader");
    let jobs = store::export_jobs::jobs(&conn).expect("jobs");
    let layouts: Vec<(&str, &str)> = jobs.iter().map(|j| (j.name.as_str(), j.layout.as_str())).collect();
    assert_eq!(
        layouts,
        [
            ("Autre mensuel", "Autre"),
            ("Copie comptable", "Facturation eau potable"),
            ("Mensuel eau", "Facturation eau potable")
        ]
    );
    assert!(jobs.iter().all(|j| j.since == NOW), "a rename does not change which slots are owed");
    let audit = store::audit::latest(&conn, 1).expect("audit");
    assert_eq!(audit[0].event, "export_layout_renamed");
    assert_eq!(
        audit[0].details,
        "layout Facturation eau renamed Facturation eau potable: 18 fields, Csv; \
         scheduled exports moved: 'Copie comptable', 'Mensuel eau'"
    );
    drop(conn);
    assert_eq!(
        billing::layout_get(&p.store, &p.manager, "Facturation eau").expect_err("old name gone").code(),
        "not_found"
    );

    // The same name is a plain save; a viewer may not rename.
    let same = billing::layout_save_renaming(&p.store, &p.manager, "Autre", &onto, NOW).expect("same name");
    assert!(!same.created && same.jobs_moved.is_empty());
    let viewer = Session { permissions: vec![Permission::View], ..p.manager.clone() };
    let r = billing::layout_save_renaming(&p.store, &viewer, "Autre", &Layout { name: "X".into(), ..onto }, NOW);
    assert_eq!(r.expect_err("forbidden").code(), "forbidden");

    // Once its jobs are gone, the layout may be deleted.
    let conn = p.store.reader().expect("reader");
    let ids: Vec<i64> = store::export_jobs::jobs(&conn).expect("jobs").iter().filter_map(|j| j.id).collect();
    drop(conn);
    for id in ids {
        releve_core::jobs::export_job_delete(&p.store, &p.manager, id, NOW).expect("delete job");
    }
    billing::layout_delete(&p.store, &p.manager, "Facturation eau potable", NOW).expect("delete");
}

/// Every row of every table, as text, the demo's folder written `<dir>`.
fn dump(store: &Store, dir: &std::path::Path) -> Vec<String> {
    let conn = store.reader().expect("reader");
    let mut tables: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")
        .expect("tables")
        .query_map([], |r| r.get(0))
        .expect("query")
        .collect::<Result<_, _>>()
        .expect("names");
    // Keys are sealed under a random master key with random nonces: the same keys, other bytes.
    tables.retain(|t| t != "schema_migrations" && t != "meter_keys");
    let dir = std::fs::canonicalize(dir).expect("dir").to_string_lossy().into_owned();
    let mut out = Vec::new();
    for t in tables {
        let mut stmt = conn.prepare(&format!("SELECT * FROM \"{t}\"")).expect("select");
        let n = stmt.column_count();
        let mut rows = stmt.query([]).expect("rows");
        while let Some(r) = rows.next().expect("row") {
            let cells: Vec<String> = (0..n)
                .map(|i| match r.get_ref(i).expect("cell") {
                    rusqlite::types::ValueRef::Text(t) => format!("'{}'", String::from_utf8_lossy(t)),
                    rusqlite::types::ValueRef::Blob(b) => format!("x'{}'", hex::encode(b)),
                    v => format!("{v:?}"),
                })
                .collect();
            out.push(format!("{t}: {}", cells.join(" | ").replace(&dir, "<dir>")));
        }
    }
    out.sort();
    out
}

#[test]
fn the_demo_has_two_billing_layouts_that_write_and_a_disabled_monthly_job_and_stays_deterministic() {
    use releve_core::demo;
    let build = || {
        let dir = tempfile::tempdir().expect("tempdir");
        let store = Store::open(&dir.path().join("demo.db")).expect("open");
        demo::build_demo(&store, &demo::DemoSpec { meters: 24, seed: 3 }, NOW, &mut |_, _, _| {}).expect("demo");
        (dir, store)
    };
    let (dir, store) = build();
    let pristine = dump(&store, dir.path());
    assert!(pristine.iter().any(|r| r.contains("<dir>/exports")), "the job's folder is the database's");
    let manager = access::login(&store, "manager", "manager", "pc", "local", NOW).expect("login");
    let names: Vec<String> = billing::layouts_list(&store, &manager).expect("list").into_iter().map(|l| l.name).collect();
    assert_eq!(names, [demo::LAYOUT_CSV, demo::LAYOUT_FIXED]);
    let conn = store.reader().expect("reader");
    let groups = store::groups::list(&conn).expect("groups");
    let water = groups.iter().find(|g| g.name == demo::WATER_GROUP).expect("water group");
    let jobs = store::export_jobs::jobs(&conn).expect("jobs");
    assert_eq!(jobs.len(), 1);
    let j = &jobs[0];
    assert_eq!((j.name.as_str(), j.layout.as_str(), j.every.as_str(), j.day, j.hour, j.minute), (demo::JOB, demo::LAYOUT_CSV, "monthly", 1, 6, 0));
    assert_eq!((j.period.as_str(), j.destination.as_str(), j.enabled), ("previous_month", "folder", false));
    let exports = std::fs::canonicalize(dir.path()).expect("dir").join("exports");
    assert_eq!(std::path::Path::new(&j.folder), exports, "next to the database");
    // The demo makes the folder (a job's folder must exist when saved), and writes nothing in it.
    assert_eq!(std::fs::read_dir(&exports).expect("exports").count(), 0, "nothing written before a clerk enables the job");
    let events: Vec<(String, String)> = store::audit::latest(&conn, 5)
        .expect("audit")
        .into_iter()
        .skip(1) // the manager's login
        .map(|e| (e.event, e.user))
        .collect();
    assert_eq!(
        events,
        [
            ("export_job_save".to_string(), "system".to_string()),
            ("folders_allowed".into(), "system".into()),
            ("export_layout_saved".into(), "system".into()),
            ("export_layout_saved".into(), "system".into())
        ]
    );
    drop(conn);
    let err = billing::layout_delete(&store, &manager, demo::LAYOUT_CSV, NOW).expect_err("used by the job");
    assert_eq!(err.code(), "in_use");

    // Both write January for every water meter without a single error.
    for name in [demo::LAYOUT_CSV, demo::LAYOUT_FIXED] {
        let p = billing::layout_preview_saved(&store, &manager, name, january(), 1000, NOW).expect("preview");
        assert!(p.errors.is_empty(), "{name}: {:#?}", p.errors);
        // The group's size leaves the removed (exchanged) meter out; its row is its successor's.
        assert_eq!(p.total_rows, water.meter_count as u64, "{name}: the exchanged meter's row is its successor's");
    }
    let out = billing::layout_run(&store, &manager, demo::LAYOUT_FIXED, january(), NOW).expect("run");
    let text = out.encoding.decode(&out.bytes);
    let lines: Vec<&str> = text.split_terminator("\r\n").collect();
    assert_eq!(lines[0], "H202601012026013120260203");
    assert!(lines[1..lines.len() - 1].iter().all(|l| l.chars().count() == 84 && l.starts_with('D')), "{text}");
    let t = lines[lines.len() - 1];
    assert_eq!(&t[..7], &format!("T{:06}", out.rows), "{t}");
    assert_eq!(t.len(), 19, "{t}");
    let out = billing::layout_run(&store, &manager, demo::LAYOUT_CSV, january(), NOW).expect("run");
    let text = String::from_utf8(out.bytes).expect("utf-8");
    assert!(text.starts_with("N° client;Nom;N° compteur;Adresse;Code postal;Ville;Index début (m3);"), "{text}");
    assert!(text.lines().last().expect("trailer").starts_with(&format!("TOTAL;{};", out.rows)), "{text}");

    // Same seed, same time: the same database (the folder apart, which is the database's).
    let (dir2, store2) = build();
    assert_eq!(dump(&store2, dir2.path()), pristine, "the demo is deterministic");
}

#[test]
fn demo_meters_report_target_values_for_the_first_of_the_month() {
    use releve_core::model::Register;
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("demo.db")).expect("open");
    let spec = releve_core::demo::DemoSpec { meters: 12, seed: 1 };
    releve_core::demo::build_demo(&store, &spec, NOW, &mut |_, _, _| {}).expect("demo");
    let conn = store.reader().expect("reader");
    let days = (date(2026, 2, 1) - NaiveDate::default()).num_days() as f64;
    let n: i64 = conn
        .query_row(
            "SELECT count(DISTINCT meter_id) FROM readings WHERE register = ?1 AND value = ?2",
            rusqlite::params![Register::TargetDate.code(), days],
            |r| r.get(0),
        )
        .expect("count");
    assert!(n >= 4, "water and heat demo meters send the target date 2026-02-01 ({n})");
    drop(conn);

    // The billing export takes them: the end values of January are the meters' own.
    let manager = access::login(&store, "manager", "manager", "pc", "local", NOW).expect("login");
    let layout = Layout::new(
        "Demo",
        Format::Csv,
        vec![f(Var::MeterSerial), f(Var::DeviceType), f(Var::SourceEnd), f(Var::ValueEnd)],
    );
    let preview = billing::layout_preview(&store, &manager, &layout, january(), 100, NOW).expect("preview");
    let targets = preview.lines.iter().filter(|l| l.contains(";target;")).count() as i64;
    assert_eq!(targets, n, "{:#?}", preview.lines);
    assert!(
        preview.lines.iter().filter(|l| l.contains(";electricity;")).all(|l| l.contains(";reading;")),
        "{:#?}",
        preview.lines
    );
}

/// Issue 15: the editor's unsaved edits run (and dry-run) as they are on screen, with the
/// checks of a saved layout, and nothing of them is saved.
#[test]
fn a_layout_given_in_the_call_runs_without_being_saved() {
    let p = park();
    let saved = csv_layout(p.water);
    save(&p, &saved);
    let name = "Facturation eau";
    let mut edited = saved.clone();
    edited.fields.truncate(3);
    edited.encoding = billing::Encoding::Utf8Bom;

    let d = billing::layout_dry_run_given(&p.store, &p.manager, Some(name), &edited, january(), NOW).expect("dry run");
    assert_eq!((d.rows, d.added), (5, 5), "no last file yet: every meter is new");
    let out = billing::layout_run_given(&p.store, &p.manager, Some(name), &edited, january(), NOW).expect("run");
    assert_eq!(&out.bytes[..3], b"\xEF\xBB\xBF", "UTF-8 with its byte-order mark");
    let text = String::from_utf8(out.bytes[3..].to_vec()).expect("utf-8");
    assert_eq!(text.lines().nth(1), Some("customer_number;customer_name;meter_serial"), "{text}");

    // The saved layout is as it was; the run's file is its last file (the one delivered).
    let still = billing::layout_get(&p.store, &p.manager, name).expect("get");
    assert_eq!(still, saved);
    let again = billing::layout_dry_run_given(&p.store, &p.manager, Some(name), &edited, january(), NOW).expect("dry");
    assert_eq!((again.unchanged, again.changed.len()), (5, 0));
    let conn = p.store.reader().expect("reader");
    let details: String = conn
        .query_row("SELECT details FROM audit_log WHERE event = 'export_layout_run' ORDER BY id DESC LIMIT 1", [], |r| {
            r.get(0)
        })
        .expect("audit");
    assert!(details.ends_with("as on screen (not saved)"), "{details}");
    drop(conn);

    // The same checks as a saved layout: a broken layout is refused before any reading.
    let mut broken = saved.clone();
    broken.fields.clear();
    let e = billing::layout_run_given(&p.store, &p.manager, Some(name), &broken, january(), NOW).expect_err("refused");
    assert_eq!(e.code(), "bad_input");
    // A new layout (never saved) runs too, keeping no last file.
    let mut fresh = saved.clone();
    fresh.name = "Essai".into();
    billing::layout_run_given(&p.store, &p.manager, None, &fresh, january(), NOW).expect("run new");
    assert!(billing::layouts_list(&p.store, &p.manager).expect("list").iter().all(|l| l.name != "Essai"));
}

/// Issue 15: the quick export for a French Excel: UTF-8 with BOM or Windows-1252, French
/// titles and dates, the target date as a date; what Windows-1252 cannot hold is refused
/// naming the line and column.
#[test]
fn quick_export_for_a_french_excel() {
    use releve_core::billing::Encoding;
    use releve_core::export::{export_readings, Column, ExportSpec, Granularity};
    let p = park();
    let mut spec = ExportSpec::new(date(2026, 1, 1), date(2026, 1, 31));
    spec.columns = vec![Column::MeterSerial, Column::CustomerName, Column::City, Column::Timestamp, Column::Register, Column::Value];
    spec.granularity = Some(Granularity::Readings);
    spec.encoding = Encoding::Utf8Bom;
    spec.french = true;
    let mut out = Vec::new();
    export_readings(&p.store, &p.manager, &spec, &mut out, NOW).expect("export");
    assert_eq!(&out[..3], b"\xEF\xBB\xBF");
    let text = String::from_utf8(out[3..].to_vec()).expect("utf-8");
    assert!(text.starts_with("N° de compteur;Nom du client;Ville;Date du relevé;Registre;Valeur"), "{text}");
    // 10000002 reports 2026-01-01 as its target date (days since 1970 in the store).
    let target = text.lines().find(|l| l.starts_with("10000002;") && l.contains(";target_date;")).expect("target date row");
    assert!(target.ends_with(";target_date;01/01/2026"), "{target}");
    assert!(text.lines().nth(1).is_some_and(|l| l.contains("/01/2026 ")), "French dates: {text}");

    spec.encoding = Encoding::Windows1252;
    let mut out = Vec::new();
    export_readings(&p.store, &p.manager, &spec, &mut out, NOW).expect("windows-1252");
    assert!(out.windows(14).any(|w| w == b"N\xB0 de compteur"), "° as one byte");
    assert!(!out.starts_with(b"\xEF\xBB\xBF"));
    assert_eq!(Encoding::Windows1252.decode(&out).lines().count(), text.lines().count());

    // A customer named with a letter Windows-1252 lacks: refused, naming line and column.
    {
        let conn = p.store.writer();
        conn.execute("UPDATE customers SET name = 'Łukasz Nowak' WHERE number = 'C002'", []).expect("rename");
    }
    let e = export_readings(&p.store, &p.manager, &spec, &mut Vec::new(), NOW).expect_err("refused");
    assert_eq!(e.code(), "not_encodable");
    let params = serde_json::Value::Object(e.params());
    assert_eq!((params["column"].as_str(), params["character"].as_str(), params["meter"].as_str()), (Some("customer_name"), Some("Ł"), Some("10000002")));
    let line = params["line"].as_u64().expect("line") as usize;
    assert!(text.lines().nth(line - 1).is_some_and(|l| l.starts_with("10000002;")), "line {line}");
    spec.encoding = Encoding::Utf8;
    export_readings(&p.store, &p.manager, &spec, &mut Vec::new(), NOW).expect("UTF-8 holds it");
}
