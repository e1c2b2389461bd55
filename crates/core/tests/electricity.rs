//! Electricity meters through the screens, exports and the consumer report, on a hand-made
//! solar prosumer read every hour for a week of June 2026 (Europe/Paris, UTC+2):
//! A+ grows 0.5 kWh an hour (12 kWh a day), A- 1 kWh an hour from 10:00 to 16:00 (6 kWh a
//! day), P+ is 500, 600, 700, 800 W in turn (mean 650 W, max 800 W), P- 1,000 W while it
//! exports and 0 W otherwise (mean 250 W a day). Power is never differenced nor summed.
//!
//! Set `RELEVE_REPORT_OUT=<dir>` to keep the consumer reports (PDF, HTML) to look at.

use chrono::NaiveDate;
use releve_core::access::Session;
use releve_core::billing::{self, Field, Format, Layout, Period, Var};
use releve_core::compare::{self, CompareQuery};
use releve_core::consumer_report::{self, ConsumerReportRequest, Locale};
use releve_core::export::{self, Column, ExportSpec};
use releve_core::meters::{self, HistogramQuery, Resolution};
use releve_core::model::Register;
use releve_core::reports::{self, ConsumptionQuery};
use releve_core::store::{self, Store};
use std::process::Command;

#[path = "support/users.rs"]
mod users;

#[path = "support/smtp.rs"]
mod smtp;

const HOUR: i64 = 3_600;
/// 2026-06-01T00:00 in Paris (UTC+2).
const JUN1: i64 = 1_780_264_800;
const NOW: i64 = JUN1 + 9 * 24 * HOUR;

struct Park {
    dir: tempfile::TempDir,
    store: Store,
    manager: Session,
    clerk: Session,
    solar: i64,
    water: i64,
}

/// Whether hour `k` (hours since 1 June 00:00) is a sunny export hour (10:00 to 15:59).
fn sunny(k: i64) -> bool {
    (10..=15).contains(&k.rem_euclid(24))
}

fn a_plus(k: i64) -> f64 {
    1000.0 + 0.5 * k as f64
}

fn a_minus(k: i64) -> f64 {
    200.0 + (0..k.max(0)).filter(|&j| sunny(j)).count() as f64
}

fn park() -> Park {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("elec.db")).expect("open");
    let (manager, clerk) = users::manager_and_clerk(&store, NOW);
    // This clerk may see hourly power and mail consumers (the electricity screens' point).
    let clerk = Session {
        permissions: [clerk.permissions.clone(), vec![releve_core::access::Permission::ViewIntervals, releve_core::access::Permission::SendMail]].concat(),
        ..clerk
    };
    let conn = store.writer();
    let c = store::customers::Customer {
        number: "C-0077".into(),
        name: "Hélène Soleil".into(),
        address: "4 allée des Panneaux".into(),
        postal_code: "42400".into(),
        city: "Saint-Chamond".into(),
        email: Some("helene.soleil@example.com".into()),
        phone: None,
    };
    let customer = store::customers::insert(&conn, &c).expect("customer");
    let meter = |serial: &str, device_type: &str| {
        let m = store::meters::NewMeter {
            serial: serial.into(),
            manufacturer: "KAM".into(),
            device_type: device_type.into(),
            status: "active".into(),
            customer_id: Some(customer),
            address: "4 allée des Panneaux".into(),
            city: "Saint-Chamond".into(),
            ..Default::default()
        };
        store::meters::insert(&conn, &m, JUN1 - 100 * 24 * HOUR).expect("meter")
    };
    let solar = meter("70000001", "electricity");
    let water = meter("10000009", "water");
    let put = |meter_id: i64, r: Register, k: i64, value: f64| {
        let reading = store::readings::Reading { meter_id, register: r.code(), ts: JUN1 + k * HOUR, value, telegram_id: None };
        assert!(store::readings::insert(&conn, &reading, 0).expect("reading"));
    };
    for k in -1..=168 {
        put(solar, Register::APlus, k, a_plus(k));
        put(solar, Register::AMinus, k, a_minus(k));
        put(solar, Register::PPlus, k, 500.0 + 100.0 * k.rem_euclid(4) as f64);
        put(solar, Register::PMinus, k, if sunny(k) { 1000.0 } else { 0.0 });
        put(water, Register::Volume, k, 10.0 + 0.01 * k as f64);
    }
    drop(conn);
    Park { dir, store, manager, clerk, solar, water }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn histogram(p: &Park, register: &str, resolution: Resolution, to: &str) -> meters::Histogram {
    let q = HistogramQuery { meter_id: p.solar, register: Some(register), resolution, from: date("2026-06-01"), to: date(to), now: None, fit_to_readings: false };
    meters::meter_histogram(&p.store, &p.clerk, &q).expect("histogram")
}

fn values(h: &meters::Histogram) -> Vec<Option<f64>> {
    h.buckets.iter().map(|b| b.value).collect()
}

#[test]
fn energy_buckets_are_growth_and_power_buckets_mean_and_max_in_kw() {
    let p = park();
    let imp = histogram(&p, "a_plus", Resolution::Day, "2026-06-07");
    assert_eq!((imp.unit, imp.kind), ("kWh", "consumption"));
    assert_eq!(serde_json::to_value(&imp).expect("json")["flow"], "import");
    assert_eq!(values(&imp), vec![Some(12.0); 7]);
    assert!(imp.buckets.iter().all(|b| b.max.is_none()), "an index has no max");
    let exp = histogram(&p, "a_minus", Resolution::Day, "2026-06-07");
    assert_eq!((exp.unit, serde_json::to_value(&exp).expect("json")["flow"].as_str()), ("kWh", Some("export")));
    assert_eq!(values(&exp), vec![Some(6.0); 7]);

    // P+ per day: the mean of the day's values and their max, in kW, not a difference.
    let pp = histogram(&p, "p_plus", Resolution::Day, "2026-06-07");
    assert_eq!((pp.unit, pp.kind), ("kW", "instantaneous"));
    assert!(serde_json::to_value(&pp).expect("json").get("flow").is_none());
    assert_eq!(values(&pp), vec![Some(0.65); 7]);
    assert_eq!(pp.buckets.iter().map(|b| b.max).collect::<Vec<_>>(), vec![Some(0.8); 7]);
    let pm = histogram(&p, "p_minus", Resolution::Day, "2026-06-01");
    assert_eq!((values(&pm), pm.buckets[0].max), (vec![Some(0.25)], Some(1.0)));
    // Per hour: each hour's one value.
    let hours = histogram(&p, "p_plus", Resolution::Hour, "2026-06-01");
    assert_eq!(hours.buckets.len(), 24);
    assert_eq!(values(&hours)[..5], [Some(0.5), Some(0.6), Some(0.7), Some(0.8), Some(0.5)]);
    let json = serde_json::to_value(&hours).expect("json");
    assert_eq!(json["buckets"][3]["max"], 0.8);
    assert!(serde_json::to_value(&imp).expect("json")["buckets"][0].get("max").is_none());
}

#[test]
fn comparison_shows_power_per_meter_in_kw_and_never_sums_it() {
    let p = park();
    let ids = [p.solar];
    let q = |register, group| CompareQuery {
        ids: &ids,
        register: Some(register),
        resolution: Resolution::Day,
        from: date("2026-06-01"),
        to: date("2026-06-03"),
        sum_of_group: group,
        now: i64::MAX,
    };
    let c = compare::meters_compare(&p.store, &p.clerk, &q("p_plus", None)).expect("compare");
    assert_eq!((c.series[0].unit, c.series[0].buckets[0].value), ("kW", Some(0.65)));
    let c = compare::meters_compare(&p.store, &p.clerk, &q("a_minus", None)).expect("export");
    assert_eq!((c.series[0].register, c.series[0].unit, c.series[0].buckets[1].value), ("a_minus", "kWh", Some(6.0)));

    let g = releve_core::groups::group_create(&p.store, &p.manager, "Quartier solaire", &[p.solar, p.water], NOW).expect("group");
    let err = compare::meters_compare(&p.store, &p.clerk, &q("p_plus", Some(g.id))).expect_err("power is not summed");
    assert_eq!(err.code(), "bad_input");
    assert!(err.to_string().contains("p_plus"), "{err}");
    // A- of the group: the one electricity meter's export (the water meter has none).
    let c = compare::meters_compare(&p.store, &p.clerk, &q("a_minus", Some(g.id))).expect("group export");
    let sum = c.series.iter().find(|s| s.kind == "group_sum").expect("sum");
    assert_eq!((sum.unit, sum.buckets[0].value), ("kWh", Some(6.0)));
}

#[test]
fn consumption_report_takes_export_and_refuses_power() {
    let p = park();
    let q = |register| ConsumptionQuery {
        from: date("2026-06-01"),
        to: date("2026-06-07"),
        group_id: None,
        above: None,
        below: None,
        register: Some(register),
        device_type: None,
        offset: 0,
        limit: 50,
    };
    let r = reports::report_consumption(&p.store, &p.clerk, &q("a_minus"), NOW).expect("export report");
    let row = r.rows.iter().find(|r| r.meter_id == p.solar).expect("solar row");
    assert_eq!((row.register, row.unit, row.consumption), ("a_minus", "kWh", Some(42.0)));
    for power in ["p_plus", "p_minus"] {
        let err = reports::report_consumption(&p.store, &p.clerk, &q(power), NOW).expect_err("power refused");
        assert_eq!(err.code(), "bad_input", "{power}");
    }
}

#[test]
fn per_reading_export_writes_kwh_and_kw() {
    let p = park();
    let mut spec = ExportSpec::new(date("2026-06-01"), date("2026-06-01"));
    spec.columns = vec![Column::MeterSerial, Column::Timestamp, Column::Register, Column::Value, Column::Unit];
    spec.decimal = '.';
    let mut out = Vec::new();
    export::export_readings(&p.store, &p.manager, &spec, &mut out, NOW).expect("export");
    let text = String::from_utf8(out).expect("utf-8");
    for line in [
        "70000001;2026-06-01 03:00:00;p_plus;0.8;kW",
        "70000001;2026-06-01 12:00:00;p_minus;1;kW",
        "70000001;2026-06-01 12:00:00;a_minus;202;kWh",
        "70000001;2026-06-01 01:00:00;a_plus;1000.5;kWh",
        "10000009;2026-06-01 01:00:00;volume;10.01;m3",
    ] {
        assert!(text.lines().any(|l| l == line), "{line} in\n{}", &text[..600]);
    }
    assert!(!text.contains(";W\n") && !text.contains(";800;"), "no power in W");
}

#[test]
fn billing_reads_a_plus_and_a_minus_in_kwh_and_refuses_power() {
    let p = park();
    let on = |var: Var, register: &str| Field { register: Some(register.into()), ..Field::new(var) };
    let mut layout = Layout::new(
        "Facturation électricité",
        Format::Csv,
        vec![
            Field::new(Var::MeterSerial),
            on(Var::ValueStart, "a_plus"),
            on(Var::ValueEnd, "a_plus"),
            on(Var::Consumption, "a_plus"),
            on(Var::Consumption, "a_minus"),
            on(Var::ValueEnd, "a_minus"),
            on(Var::Unit, "a_minus"),
            Field::new(Var::Unit),
        ],
    );
    layout.csv.header = false;
    let period = Period::new(date("2026-06-01"), date("2026-06-07")).expect("period");
    let preview = billing::layout_preview(&p.store, &p.manager, &layout, period, 10, NOW).expect("preview");
    assert!(preview.errors.is_empty(), "{:?}", preview.errors);
    assert!(preview.lines.iter().any(|l| l == "70000001;1000,000;1084,000;84,000;42,000;242,000;kWh;kWh"), "{:?}", preview.lines);

    layout.fields.push(on(Var::ValueEnd, "p_plus"));
    let err = billing::layout_preview(&p.store, &p.manager, &layout, period, 10, NOW).expect_err("power refused");
    assert_eq!(err.code(), "bad_input");
    assert!(err.to_string().contains("p_plus") && err.to_string().contains("a_minus"), "{err}");

    let vars = billing::variables();
    let value_end = vars.iter().find(|v| v.id == "value_end").expect("value_end");
    assert!(value_end.registers.contains(&"a_plus") && value_end.registers.contains(&"a_minus"));
    assert!(!value_end.registers.contains(&"p_plus") && !value_end.registers.contains(&"target_date"));
    assert!(vars.iter().find(|v| v.id == "meter_serial").expect("serial").registers.is_empty());
}

fn report(p: &Park, format: consumer_report::Format, locale: Locale, meter_id: i64) -> consumer_report::ReportFile {
    let req = ConsumerReportRequest {
        meter_id,
        from: date("2026-06-01"),
        to: date("2026-06-07"),
        resolution: Resolution::Day,
        format,
        locale: Some(locale),
    };
    let file = consumer_report::consumer_report(&p.store, &p.clerk, &req, NOW).expect("report");
    if let Some(dir) = std::env::var_os("RELEVE_REPORT_OUT") {
        std::fs::create_dir_all(&dir).expect("out dir");
        std::fs::write(std::path::Path::new(&dir).join(format!("{}-{}", locale.code(), file.file_name)), &file.bytes)
            .expect("keep");
    }
    file
}

/// The PDF's text as poppler reads it, spaces squeezed.
fn pdf_text(bytes: &[u8]) -> String {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = dir.path().join("r.pdf");
    std::fs::write(&path, bytes).expect("write");
    let out = Command::new("pdftotext").args(["-layout"]).arg(&path).arg("-").output().expect("pdftotext (poppler-utils)");
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8").replace('\u{A0}', " ");
    text.lines().map(|l| l.split_whitespace().collect::<Vec<_>>().join(" ")).collect::<Vec<_>>().join("\n")
}

#[test]
fn consumer_report_pdf_shows_import_and_export_in_kwh_in_french_and_english() {
    let p = park();
    let fr = pdf_text(&report(&p, consumer_report::Format::Pdf, Locale::Fr, p.solar).bytes);
    for want in [
        "Consommation totale 84,0 kWh",
        "Énergie exportée totale 42,0 kWh",
        "Index au début (kWh) Importée (A+) (kWh) Exportée (A-) (kWh)",
        "01/06/2026 999,5 12,0 6,0",
        "07/06/2026 1 071,5 12,0 6,0",
        "Consommation totale 84,0 42,0",
    ] {
        assert!(fr.contains(want), "FR: {want:?} in\n{fr}");
    }
    assert!(fr.contains("Importée (A+)") && fr.contains("A+ / A- (kWh)"), "legend and axis:\n{fr}");
    let en = pdf_text(&report(&p, consumer_report::Format::Pdf, Locale::En, p.solar).bytes);
    for want in [
        "Total consumption 84.0 kWh",
        "Total energy exported 42.0 kWh",
        "Index at start (kWh) Imported (A+) (kWh) Exported (A-) (kWh)",
        "1 Jun 2026 999.5 12.0 6.0",
        "Total consumption 84.0 42.0",
    ] {
        assert!(en.contains(want), "EN: {want:?} in\n{en}");
    }
    // A water meter's report is as before: no export column.
    let water = pdf_text(&report(&p, consumer_report::Format::Pdf, Locale::En, p.water).bytes);
    assert!(water.contains("Consumption (m³)") && !water.contains("Exported"), "{water}");
}

#[test]
fn consumer_report_html_draws_export_bars_below_the_import_bars() {
    let p = park();
    let html = String::from_utf8(report(&p, consumer_report::Format::Html, Locale::Fr, p.solar).bytes).expect("utf-8");
    assert!(html.contains("<strong id=\"total\">84,0 kWh</strong>"));
    assert!(html.contains("<strong id=\"export-total\">42,0 kWh</strong>"));
    assert!(html.contains("<th class=\"num\">Exportée (A-) (kWh)</th>"));
    assert!(html.contains("<tr><td>02/06/2026</td><td class=\"num\">1\u{A0}011,5</td><td class=\"num\">12,0</td><td class=\"num\">6,0</td>"));
    let svg = &html[html.find("<svg").expect("svg")..html.find("</svg>").expect("svg end")];
    assert_eq!(svg.matches("fill=\"#2F6DB5\"").count(), 7, "one import bar a day");
    assert_eq!(svg.matches("fill=\"#2E9E5B\"").count(), 7, "one export bar a day");
    assert!(html.contains("<span class=\"swatch export\"></span>Exportée (A-)"));
}

#[test]
fn consumer_report_email_gives_the_export_total_too() {
    let p = park();
    let server = smtp::Smtp::start(p.dir.path());
    let s = releve_core::notify::ChannelSettings {
        smtp_host: "127.0.0.1".into(),
        smtp_port: server.port,
        smtp_from: "releve@example.com".into(),
        smtp_tls: "none".into(),
        ..Default::default()
    };
    releve_core::notify::notify_settings(&p.store, &p.manager, &s, NOW).expect("settings");
    let req = ConsumerReportRequest {
        meter_id: p.solar,
        from: date("2026-06-01"),
        to: date("2026-06-07"),
        resolution: Resolution::Day,
        format: consumer_report::Format::Pdf,
        locale: Some(Locale::Fr),
    };
    let sent = consumer_report::consumer_report_email(&p.store, &p.clerk, &req, None, NOW).expect("sent");
    assert_eq!(sent.sent_to, "helene.soleil@example.com");
    let messages = server.message_files();
    assert_eq!(messages.len(), 1);
    // The message's text part, decoded by Python's email package.
    let script = "import email,sys\nfrom email import policy\nm=email.message_from_binary_file(open(sys.argv[1],'rb'),policy=policy.default)\nprint(m.get_body(('plain',)).get_content())";
    let out = Command::new("python3").args(["-c", script]).arg(&messages[0]).output().expect("python3");
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8").replace('\u{A0}', " ");
    assert!(text.contains("Consommation totale : 84,0 kWh."), "{text}");
    assert!(text.contains("Énergie exportée totale : 42,0 kWh."), "{text}");
}
