//! The yearly count of connected objects through the core, on a real SQLite file: who is in
//! service in a year (the boundaries of commissioning and decommissioning), the order of the
//! list, the counts by brand and model, the CSV, the PDF (French, English, 10,000 objects on
//! repeated-header pages), the settings (permission, audit) and the registry's list.

use releve_core::access::{self, Permission, Role, Session};
use releve_core::consumer_report::Locale;
use releve_core::reports::objects::{self, Format, ObjectsRequest, ObjectsSettings};
use releve_core::store::{self, lorawan::{DeviceQuery, NewDevice}, Store};

const NOW: i64 = 1_796_515_200; // 2026-12-06T00:00:00Z

struct Registry {
    _dir: tempfile::TempDir,
    store: Store,
    clerk: Session,
    manager: Session,
}

fn registry() -> Registry {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("objects.db")).expect("open");
    let system = Session::system("test-pc");
    let permit = system.permit(Permission::ManageUsers).expect("system may");
    for (login, role, locale) in [("clerk", Role::User, "fr"), ("boss", Role::Manager, "en")] {
        let user = store::users::NewUser { salt: None, login, name: login, role, password: "pw", locale };
        access::create_user(&store, permit, &user, NOW).expect("user");
    }
    let clerk = access::login(&store, "clerk", "pw", "pc", "local", NOW).expect("login");
    let manager = access::login(&store, "boss", "pw", "pc", "local", NOW).expect("login");
    Registry { _dir: dir, store, clerk, manager }
}

/// (DevEUI, brand, model, city, commissioned, decommissioned)
type Row = (&'static str, &'static str, &'static str, &'static str, Option<&'static str>, Option<&'static str>);

const ROWS: [Row; 9] = [
    // Commissioned on the last day of 2026: counted in 2026, not in 2025.
    ("00000000000000A1", "Kamstrup", "flowIQ 2200", "Saint-Chamond", Some("2026-12-31"), None),
    // Taken out during 2026: counted in 2026 (and 2025), not in 2027.
    ("00000000000000B2", "Elsys", "ERS CO2", "Saint-Genest", Some("2024-03-10"), Some("2026-06-30")),
    // Commissioned on 1 January 2027: not in 2026.
    ("00000000000000C3", "Kamstrup", "flowIQ 2200", "Saint-Chamond", Some("2027-01-01"), None),
    // Taken out on 31 December 2025: not in 2026.
    ("00000000000000D4", "Elsys", "ERS CO2", "Saint-Chamond", Some("2023-01-01"), Some("2025-12-31")),
    // Taken out on 1 January 2026: in service that day, counted.
    ("00000000000000E5", "Elsys", "ERS Sound", "Saint-Étienne", Some("2023-01-01"), Some("2026-01-01")),
    // No commissioning date: in no year's count.
    ("00000000000000F6", "Adeunis", "TEMP 3", "Saint-Chamond", None, None),
    ("00000000000000A7", "kamstrup", "flowIQ 2200", "Saint-Chamond", Some("2025-05-05"), None),
    ("00000000000000A0", "Adeunis", "TEMP 3", "Saint-Chamond", Some("2026-01-01"), None),
    ("00000000000000A8", "Kamstrup", "MULTICAL 21", "Saint-Chamond", Some("2022-02-02"), None),
];

fn fill(store: &Store, rows: &[Row]) {
    let conn = store.writer();
    for (dev_eui, brand, model, city, commissioned, decommissioned) in rows {
        let d = NewDevice {
            dev_eui: dev_eui.to_string(),
            brand: brand.to_string(),
            model: model.to_string(),
            city: city.to_string(),
            address: "1 rue du Gier; bât. \"B\"".into(),
            payload: "raw".into(),
            commissioned: commissioned.map(String::from),
            decommissioned: decommissioned.map(String::from),
            ..Default::default()
        };
        store::lorawan::upsert(&conn, &d, NOW).expect("device");
    }
}

fn csv(r: &Registry, year: i32, locale: Locale) -> String {
    let req = ObjectsRequest { year, format: Format::Csv, locale: Some(locale) };
    let file = objects::report_objects(&r.store, &r.clerk, &req, NOW).expect("csv");
    assert_eq!(file.content_type, "text/csv; charset=utf-8");
    assert!(file.bytes.starts_with(b"\xEF\xBB\xBF"), "a BOM for Excel");
    String::from_utf8(file.bytes[3..].to_vec()).expect("utf-8")
}

/// The DevEUIs of a CSV, in order.
fn eui_column(csv: &str) -> Vec<String> {
    csv.lines().skip(1).map(|l| l.split(';').nth(2).expect("dev_eui").to_string()).collect()
}

#[test]
fn a_year_counts_the_objects_in_service_during_it() {
    let r = registry();
    fill(&r.store, &ROWS);
    let y2026 = objects::report_objects_count(&r.store, &r.clerk, 2026).expect("count");
    assert_eq!(y2026.total, 6, "{y2026:?}");
    assert_eq!(y2026.undated, 1);
    type Models<'a> = Vec<(&'a str, u64)>;
    let brands: Vec<(&str, u64, Models)> = y2026
        .brands
        .iter()
        .map(|b| (b.brand.as_str(), b.objects, b.models.iter().map(|m| (m.model.as_str(), m.objects)).collect()))
        .collect();
    assert_eq!(
        brands,
        [
            ("Adeunis", 1, vec![("TEMP 3", 1)]),
            ("Elsys", 2, vec![("ERS CO2", 1), ("ERS Sound", 1)]),
            ("Kamstrup", 3, vec![("flowIQ 2200", 2), ("MULTICAL 21", 1)]),
        ]
    );
    let in_2026 = csv(&r, 2026, Locale::Fr);
    // Commune (Saint-Étienne between Saint-Chamond and Saint-Genest), brand, DevEUI.
    assert_eq!(
        eui_column(&in_2026),
        ["00000000000000A0", "00000000000000A1", "00000000000000A7", "00000000000000A8", "00000000000000E5", "00000000000000B2"]
    );
    assert_eq!(
        eui_column(&csv(&r, 2025, Locale::Fr)),
        ["00000000000000D4", "00000000000000A7", "00000000000000A8", "00000000000000E5", "00000000000000B2"]
    );
    assert_eq!(eui_column(&csv(&r, 2027, Locale::Fr)), ["00000000000000A0", "00000000000000A1", "00000000000000A7", "00000000000000A8", "00000000000000C3"]);
    assert_eq!(objects::report_objects_count(&r.store, &r.clerk, 2021).expect("count").total, 0);
    let e = objects::report_objects_count(&r.store, &r.clerk, 1969).expect_err("year");
    assert_eq!(e.code(), "bad_input");
}

#[test]
fn the_csv_has_a_header_quoted_cells_and_iso_dates() {
    let r = registry();
    fill(&r.store, &ROWS);
    let fr = csv(&r, 2026, Locale::Fr);
    let lines: Vec<&str> = fr.lines().collect();
    assert_eq!(
        lines[0],
        "Marque de l'objet;Modèle d'objet;DevEUI;Adresse;Commune;Date de mise en service de l'objet connecté;Date de retrait"
    );
    assert_eq!(lines[6], "Elsys;ERS CO2;00000000000000B2;\"1 rue du Gier; bât. \"\"B\"\"\";Saint-Genest;2024-03-10;2026-06-30");
    assert_eq!(lines.len(), 7);
    let en = csv(&r, 2026, Locale::En);
    assert!(en.starts_with("Brand;Model;DevEUI;Address;Municipality;Commissioning date of the connected object;Decommissioning date\r\n")
        || en.starts_with("Brand;Model;DevEUI;Address;Municipality;Commissioning date of the connected object;Decommissioning date\n"));
}

/// The text of a PDF's content streams (our writer leaves them uncompressed; accents octal).
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

#[test]
fn the_pdf_names_the_year_the_parties_and_every_object() {
    let r = registry();
    fill(&r.store, &ROWS);
    let settings = ObjectsSettings {
        municipality: " Ville de Saint-Chamond ".into(),
        operator: "SIEL-TE".into(),
        network: "ROC42".into(),
        access: "advanced".into(),
        joined_year: Some(2023),
        deliberation: Some("2023-05-15".into()),
    };
    let e = objects::objects_settings_set(&r.store, &r.clerk, &settings, NOW).expect_err("a clerk may not");
    assert_eq!(e.code(), "forbidden");
    let saved = objects::objects_settings_set(&r.store, &r.manager, &settings, NOW).expect("manager");
    assert_eq!(saved.municipality, "Ville de Saint-Chamond");
    assert_eq!(objects::objects_settings(&r.store, &r.clerk).expect("read"), saved);
    let audit = store::audit::latest(&r.store.reader().expect("reader"), 5).expect("audit");
    assert!(audit.iter().any(|a| a.event == "objects_settings" && a.user == "boss"), "audited");
    let bad = ObjectsSettings { access: "gold".into(), ..settings.clone() };
    assert_eq!(objects::objects_settings_set(&r.store, &r.manager, &bad, NOW).expect_err("access").code(), "bad_input");

    // The clerk's language (French) unless asked.
    let file = objects::report_objects(&r.store, &r.clerk, &ObjectsRequest { year: 2026, format: Format::Pdf, locale: None }, NOW)
        .expect("pdf");
    assert_eq!(file.file_name, "decompte-objets-connectes-2026.pdf");
    assert!(file.bytes.starts_with(b"%PDF-1."));
    let text = pdf_text(&file.bytes);
    assert!(text.contains("Procès-verbal de décompte d'objets connectés – Année 2026"), "title");
    assert!(text.contains("Ville de Saint-Chamond") && text.contains("SIEL-TE"), "both parties");
    assert!(text.contains("ROC42") && text.contains("« accès"), "the subject");
    assert!(text.contains("15/05/2023"), "the decision's date");
    assert!(text.contains("6 objets connectés en service en 2026"), "the total");
    for (eui, ..) in ROWS.iter().filter(|r| !["00000000000000C3", "00000000000000D4", "00000000000000F6"].contains(&r.0)) {
        assert!(text.contains(&eui.to_string()), "{eui} listed");
    }
    for absent in ["00000000000000C3", "00000000000000D4", "00000000000000F6"] {
        assert!(!text.contains(absent), "{absent} not listed");
    }
    assert!(text.contains("Page 1 sur 1"));
    let en = objects::report_objects(&r.store, &r.manager, &ObjectsRequest { year: 2026, format: Format::Pdf, locale: None }, NOW)
        .expect("pdf");
    assert_eq!(en.file_name, "connected-object-count-2026.pdf");
    let text = pdf_text(&en.bytes);
    assert!(text.contains("Connected object count report – Year 2026"));
    assert!(text.contains("Count by brand and model") && text.contains("Page 1 of 1"));
}

#[test]
fn ten_thousand_objects_make_a_paginated_pdf() {
    let r = registry();
    {
        let mut conn = r.store.writer();
        let tx = conn.transaction().expect("tx");
        let brands = ["Kamstrup", "Elsys", "Adeunis", "Dragino"];
        for i in 0..10_000u32 {
            let eui = format!("{:016X}", 0x70B3_D500_0000_0000u64 + u64::from(i));
            let commissioned = format!("20{:02}-{:02}-{:02}", 20 + i % 7, 1 + i % 12, 1 + i % 28);
            let d = NewDevice {
                dev_eui: eui,
                brand: brands[(i % 4) as usize].into(),
                model: (if i % 3 == 0 { "A" } else { "B" }).into(),
                payload: "raw".into(),
                address: "12 avenue Antoine Pinay, bâtiment des services techniques municipaux".into(),
                city: (if i % 5 == 0 { "L'Horme" } else { "Saint-Chamond" }).into(),
                commissioned: Some(commissioned),
                ..Default::default()
            };
            store::lorawan::upsert(&tx, &d, NOW).expect("device");
        }
        tx.commit().expect("commit");
    }
    let started = std::time::Instant::now();
    let file = objects::report_objects(&r.store, &r.clerk, &ObjectsRequest { year: 2030, format: Format::Pdf, locale: None }, NOW)
        .expect("pdf");
    let took = started.elapsed();
    let text = pdf_text(&file.bytes);
    let pages = text.matches('\u{c}').count(); // pdftotext ends each page with a form feed
    println!("10,000 objects: {pages} pages, {} bytes, made in {took:?}", file.bytes.len());
    assert!(pages > 150, "{pages} pages");
    assert!(text.contains(&format!("Page {pages} sur {pages}")));
    // The list's header on every page that holds part of it.
    let headers = text.matches("DevEUI").count();
    assert!(headers >= pages - 1, "{headers} headers on {pages} pages");
    assert!(text.contains("10 000 objets connectés en service en 2030"));
    assert_eq!(text.matches("70B3D5").count(), 10_000, "every object listed once");
    assert!(took.as_secs() < 10, "{took:?}");
}

#[test]
fn the_registry_lists_a_filtered_page() {
    let r = registry();
    fill(&r.store, &ROWS);
    let all = releve_core::lorawan::lorawan_devices(&r.store, &r.clerk, &DeviceQuery { search: None, offset: 0, limit: 100, ..Default::default() }).expect("list");
    assert_eq!(all.total, 9);
    assert_eq!(all.devices[0].dev_eui, "00000000000000A0");
    let elsys = releve_core::lorawan::lorawan_devices(&r.store, &r.clerk, &DeviceQuery { search: Some("elsys"), offset: 0, limit: 2, ..Default::default() }).expect("list");
    assert_eq!((elsys.total, elsys.devices.len()), (3, 2));
    let next = releve_core::lorawan::lorawan_devices(&r.store, &r.clerk, &DeviceQuery { search: Some("elsys"), offset: 2, limit: 2, ..Default::default() }).expect("list");
    assert_eq!(next.devices.iter().map(|d| d.dev_eui.as_str()).collect::<Vec<_>>(), ["00000000000000E5"]);
    let none = releve_core::lorawan::lorawan_devices(&r.store, &r.clerk, &DeviceQuery { search: Some("100%"), offset: 0, limit: 10, ..Default::default() }).expect("list");
    assert_eq!(none.total, 0, "% is a character, not a wildcard");
}
