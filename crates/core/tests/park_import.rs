//! Customers-and-meters import against a real SQLite file: counts, adoption of telegram
//! meters, rejected lines, one transaction, Latin-1, folder import.

use releve_core::access::{Permission, Session};
use releve_core::folders::folders_allowed_set;
use releve_core::park_folder::park_import_folder;
use releve_core::park_import::park_import;
use releve_core::park_profiles::{park_profile_save, park_profiles_list, ProfileSpec};
use releve_core::store::{self, Store};
use std::collections::BTreeMap;

const NOW: i64 = 1_760_000_000;

fn mapping() -> BTreeMap<String, usize> {
    [
        ("customer_number", 0),
        ("customer_name", 1),
        ("address", 2),
        ("postal_code", 3),
        ("city", 4),
        ("meter_serial", 5),
        ("manufacturer", 6),
        ("device_type", 7),
        ("latitude", 8),
        ("longitude", 9),
        ("groups", 10),
    ]
    .into_iter()
    .map(|(f, c)| (f.to_string(), c))
    .collect()
}

fn setup(dir: &tempfile::TempDir) -> (Store, Session) {
    let store = Store::open(&dir.path().join("park.db")).expect("open");
    let session = Session::system("test-pc");
    let spec = ProfileSpec {
        name: "billing".into(),
        separator: ";".into(),
        has_header: true,
        mapping: mapping(),
        folder: None,
        interval_minutes: None,
    };
    park_profile_save(&store, &session, &spec, NOW).expect("save profile");
    (store, session)
}

/// Write `content` to `path` as a file last modified at `at` (the tests' clock is fixed).
fn written(path: &std::path::Path, content: &str, at: i64) {
    std::fs::write(path, content).expect("write");
    let time = std::time::UNIX_EPOCH + std::time::Duration::from_secs(u64::try_from(at).expect("time"));
    std::fs::File::options().write(true).open(path).expect("open").set_modified(time).expect("mtime");
}

const HEADER: &str = "number;name;address;zip;city;serial;maker;type;lat;lon;groups\n";

fn counts(store: &Store) -> (i64, i64) {
    let conn = store.reader().expect("reader");
    let c: i64 = conn.query_row("SELECT count(*) FROM customers", [], |r| r.get(0)).expect("c");
    (c, store::meters::count(&conn).expect("m"))
}

fn import(store: &Store, session: &Session, content: &[u8]) -> releve_core::park_import::ParkReport {
    let permit = session.permit(Permission::EditMeters).expect("permit");
    park_import(store, permit, "billing", "park.csv", content, NOW).expect("import")
}

#[test]
fn counts_added_changed_unchanged_exactly() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, session) = setup(&dir);
    let first = format!(
        "{HEADER}C1;Anne Martin;1 rue A;42400;Saint-Chamond;11111111;KAM;water;45,47;4,51;Nord|Route 1\n\
         C2;Bruno Petit;2 rue B;42400;Saint-Chamond;22222222;KAM;heat;;;\n\
         C2;Bruno Petit;2 rue B;42400;Saint-Chamond;33333333;KAM;water;;;\n"
    );
    let r = import(&store, &session, first.as_bytes());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!((r.customers_added, r.customers_changed, r.customers_unchanged), (2, 0, 0));
    assert_eq!((r.meters_added, r.meters_changed, r.meters_unchanged), (3, 0, 0));
    assert_eq!(counts(&store), (2, 3));

    let second = format!(
        "{HEADER}C1;Anne Martin;1 rue A;42400;Saint-Chamond;11111111;KAM;water;45.47;4.51;Nord|Route 1\n\
         C2;Bruno Petit-Durand;2 rue B;42400;Saint-Chamond;22222222;KAM;heat;;;\n\
         C2;Bruno Petit-Durand;2 rue B;42400;Saint-Chamond;33333333;KAM;water;;;Sud\n\
         C3;Chloé Roux;3 rue C;42100;Saint-Étienne;44444444;KAM;water;;;\n"
    );
    let r = import(&store, &session, second.as_bytes());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!((r.customers_added, r.customers_changed, r.customers_unchanged), (1, 1, 1));
    assert_eq!((r.meters_added, r.meters_changed, r.meters_unchanged), (1, 1, 2));
    assert_eq!(counts(&store), (3, 4));
    let conn = store.reader().expect("reader");
    let id = store::meters::id_of_serial(&conn, "11111111").expect("q").expect("meter");
    let m = store::meters::get(&conn, id).expect("q").expect("meter");
    assert_eq!((m.lat, m.lon, m.status.as_str()), (Some(45.47), Some(4.51), "active"));
    let groups: Vec<String> = store::groups::of_meter(&conn, id).expect("g").into_iter().map(|g| g.1).collect();
    assert_eq!(groups, ["Nord", "Route 1"]);
}

#[test]
fn an_unassigned_meter_is_adopted() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, session) = setup(&dir);
    {
        let conn = store.writer();
        let m = store::meters::NewMeter {
            serial: "00012345".into(),
            manufacturer: "KAM".into(),
            device_type: "water".into(),
            status: "unassigned".into(),
            ..Default::default()
        };
        store::meters::insert(&conn, &m, NOW).expect("insert");
    }
    let csv = format!("{HEADER}C9;Denis Vidal;9 rue D;42400;Saint-Chamond;12345;kam;water;;;\n");
    let r = import(&store, &session, csv.as_bytes());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    assert_eq!((r.meters_added, r.meters_changed, r.meters_adopted), (0, 1, 1));
    let conn = store.reader().expect("reader");
    let id = store::meters::id_of_serial(&conn, "00012345").expect("q").expect("meter");
    let m = store::meters::get(&conn, id).expect("q").expect("meter");
    assert_eq!(m.status, "active");
    let c = store::customers::get(&conn, m.customer_id.expect("customer")).expect("q").expect("customer");
    assert_eq!(c.number, "C9");
}

#[test]
fn rejected_lines_name_line_column_and_reason() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, session) = setup(&dir);
    let csv = format!(
        "{HEADER}C1;Anne;1 rue A;42400;X;11111111;KAM;water;;;\n\
         ;Nobody;;;;22222222;KAM;water;;;\n\
         C3;Carl;;;;33333333;KAM;toaster;;;\n\
         C4;Dora;;;;44444444;KAM;water;95;4;\n"
    );
    let r = import(&store, &session, csv.as_bytes());
    let got: Vec<(u64, &str)> = r.rejected.iter().map(|x| (x.line, x.column.as_str())).collect();
    assert_eq!(got, [(3, "number"), (4, "type"), (5, "lat")]);
    // Each reason is a code and the values the UI words it with; `reason` is the English.
    let coded: Vec<(&str, serde_json::Value)> = r.rejected.iter().map(|x| (x.code, serde_json::Value::Object(x.params.clone()))).collect();
    assert_eq!(coded[0], ("required", serde_json::json!({"reason": "required", "field": "customer_number"})));
    assert_eq!((coded[1].0, &coded[1].1["value"], &coded[1].1["field"]), ("unknown", &serde_json::json!("toaster"), &serde_json::json!("device_type")));
    assert!(coded[1].1["allowed"].as_array().is_some_and(|a| a.contains(&serde_json::json!("water"))), "{:?}", coded[1]);
    assert_eq!(coded[2], ("out_of_range", serde_json::json!({"reason": "out_of_range", "field": "latitude", "value": 95.0, "min": -90.0, "max": 90.0})));
    assert!(r.rejected[1].reason.contains("toaster") && r.rejected[1].reason.contains("water"), "{}", r.rejected[1].reason);
    assert!(r.rejected[2].reason.contains("not between"));
    assert_eq!(counts(&store), (1, 1));
}

/// Meter types in French or English, whatever the case and accents.
#[test]
fn french_device_types_are_read() {
    use releve_core::park_import::device_type_of;
    for (raw, want) in [
        ("eau", "water"),
        ("Électricité", "electricity"),
        ("electricite", "electricity"),
        ("ELECTRICITÉ", "electricity"),
        ("Chaleur", "heat"),
        ("froid", "cooling_outlet"),
        ("Gaz", "gas"),
        ("eau chaude", "warm_water"),
        ("Eau froide", "cold_water"),
        ("répartiteur", "heat_cost_allocator"),
        ("Water", "water"),
        ("heat cost allocator", "heat_cost_allocator"),
        ("Electricity", "electricity"),
    ] {
        assert_eq!(device_type_of(raw), Some(want), "{raw}");
    }
    assert_eq!(device_type_of("grille-pain"), None);
    let dir = tempfile::tempdir().expect("tmp");
    let (store, session) = setup(&dir);
    let csv = format!("{HEADER}C1;Anne;;;;11111111;KAM;Électricité;;;\nC2;Bob;;;;22222222;KAM;chaleur;;;\n");
    let r = import(&store, &session, csv.as_bytes());
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let conn = store.reader().expect("reader");
    let m = store::meters::get(&conn, store::meters::id_of_serial(&conn, "11111111").expect("q").expect("m")).expect("q").expect("m");
    assert_eq!(m.device_type, "electricity");
    let m = store::meters::get(&conn, store::meters::id_of_serial(&conn, "22222222").expect("q").expect("m")).expect("q").expect("m");
    assert_eq!(m.device_type, "heat");
}

#[test]
fn a_file_of_bad_lines_changes_nothing() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, session) = setup(&dir);
    let csv = format!("{HEADER};A;;;;1;KAM;water;;;\nC2;B;;;;2;KAM;water;abc;4;\nC3;C;;;;3;KAM;fridge;;;\n");
    let r = import(&store, &session, csv.as_bytes());
    assert_eq!(r.rejected.len(), 3);
    assert_eq!(counts(&store), (0, 0));
    assert_eq!(store::groups::list(&store.reader().expect("r")).expect("g").len(), 0);
}

#[test]
fn a_latin1_file_keeps_its_accents() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, session) = setup(&dir);
    let mut bytes = HEADER.as_bytes().to_vec();
    bytes.extend(b"C7;H\xe9l\xe8ne Faur\xe9;;;Saint-\xc9tienne;77777777;KAM;water;;;\n");
    let r = import(&store, &session, &bytes);
    assert!(r.rejected.is_empty(), "{:?}", r.rejected);
    let conn = store.reader().expect("reader");
    let (_, c) = store::customers::by_number(&conn, "C7").expect("q").expect("customer");
    assert_eq!((c.name.as_str(), c.city.as_str()), ("Hélène Fauré", "Saint-Étienne"));
    // UTF-8 with a BOM reads the same.
    let bom = format!("\u{feff}{HEADER}C8;Zoé;;;;88888888;KAM;water;;;\n");
    let r = import(&store, &session, bom.as_bytes());
    assert_eq!((r.customers_added, r.rejected.len()), (1, 0));
}

#[test]
fn folder_import_moves_files_to_done_and_failed() {
    let dir = tempfile::tempdir().expect("tmp");
    let (store, session) = setup(&dir);
    let inbox = dir.path().join("inbox");
    std::fs::create_dir_all(&inbox).expect("mkdir");
    folders_allowed_set(&store, &session, &[inbox.display().to_string()], NOW).expect("allow");
    let spec = ProfileSpec {
        name: "billing".into(),
        separator: ";".into(),
        has_header: true,
        mapping: mapping(),
        folder: Some(inbox.display().to_string()),
        interval_minutes: Some(15),
    };
    park_profile_save(&store, &session, &spec, NOW).expect("save");
    written(&inbox.join("a.csv"), &format!("{HEADER}C1;Anne;;;;11111111;KAM;water;;;\n"), NOW - 60);
    written(&inbox.join("b.csv"), &format!("{HEADER};Nobody;;;;2;KAM;water;;;\n"), NOW - 60);
    let permit = session.permit(Permission::EditMeters).expect("permit");
    let r = park_import_folder(&store, permit, NOW).expect("folder");
    let outcomes: Vec<(&str, &str)> = r.files.iter().map(|f| (f.file.as_str(), f.outcome.as_str())).collect();
    assert_eq!(outcomes, [("a.csv", "done"), ("b.csv", "failed")]);
    assert!(inbox.join("done/a.csv").exists());
    assert!(inbox.join("failed/b.csv").exists());
    assert!(inbox.join("failed/b.csv.report.json").exists());
    assert!(!inbox.join("a.csv").exists() && !inbox.join("b.csv").exists());
    assert_eq!(counts(&store), (1, 1));
    // Not due again before the interval has passed.
    written(&inbox.join("c.csv"), &format!("{HEADER}C3;Cleo;;;;33333333;KAM;water;;;\n"), NOW);
    assert!(park_import_folder(&store, permit, NOW + 60).expect("folder").files.is_empty());
    let r = park_import_folder(&store, permit, NOW + 15 * 60).expect("folder");
    assert_eq!(r.files.len(), 1);
    assert_eq!(park_profiles_list(&store, &session).expect("list")[0].last_run, Some(NOW + 15 * 60));
}
