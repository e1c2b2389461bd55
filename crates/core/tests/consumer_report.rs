//! The consumer report through the core, with real tools on the other side: the HTML's
//! figures and inline SVG bars, the PDF's structure (every xref offset), its text as
//! poppler's `pdftotext` reads it and its first page rendered by `pdftoppm`, and the
//! e-mail delivered by a REAL SMTP server on loopback (Python `aiosmtpd` into a Maildir)
//! with the PDF attached, parsed back by Python's `email` package.
//!
//! Set `RELEVE_REPORT_OUT=<dir>` to keep the files (HTML, PDF, PNG of page 1) to look at.

use chrono::NaiveDate;
use releve_core::access::{Permission, Session};
use releve_core::consumer_report::{self, ConsumerReportRequest, Format, Locale, ReportFile};
use releve_core::meters::Resolution;
use releve_core::notify::{self, ChannelSettings};
use releve_core::store::info_codes::Event;
use releve_core::store::{self, Store};
use std::path::{Path, PathBuf};
use std::process::Command;

#[path = "support/smtp.rs"]
mod smtp;
use smtp::Smtp;

#[path = "support/users.rs"]
mod users;

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// 2025-12-01T00:00 in Paris (UTC+1 all December).
const DEC1: i64 = 1_764_543_600;
/// 2026-01-05T09:00:00Z.
const NOW: i64 = DEC1 + 35 * DAY + 10 * HOUR;
const NAME: &str = "Françoise Hébert-Lacôte";
const EMAIL: &str = "francoise.hebert@example.com";

/// Consumption of December `d` (m³): a weekly pattern, and a leak on the 10th to 12th.
fn usage(d: i64) -> f64 {
    let leak = if (10..=12).contains(&d) { 0.35 } else { 0.0 };
    0.15 + 0.01 * (d % 5) as f64 + leak
}

/// The index at noon on December `d` (d = 0: November 30).
fn index(d: i64) -> f64 {
    100.0 + (1..=d).map(usage).sum::<f64>()
}

struct Park {
    dir: tempfile::TempDir,
    store: Store,
    manager: Session,
    clerk: Session,
    meter: i64,
    /// A meter whose customer has no e-mail address.
    silent: i64,
}

fn park() -> Park {
    let dir = tempfile::tempdir().expect("tempdir");
    let store = Store::open(&dir.path().join("report.db")).expect("open");
    let (manager, clerk) = users::manager_and_clerk(&store, NOW);
    let conn = store.writer();
    let customer = |number: &str, name: &str, email: Option<&str>| {
        let c = store::customers::Customer {
            number: number.into(),
            name: name.into(),
            address: "12 rue de l'Église".into(),
            postal_code: "42000".into(),
            city: "Saint-Étienne".into(),
            email: email.map(str::to_string),
            phone: None,
        };
        store::customers::insert(&conn, &c).expect("customer")
    };
    let meter = |serial: &str, customer_id: i64| {
        let m = store::meters::NewMeter {
            serial: serial.into(),
            manufacturer: "KAM".into(),
            device_type: "water".into(),
            status: "active".into(),
            customer_id: Some(customer_id),
            address: "12 rue de l'Église".into(),
            postal_code: "42000".into(),
            city: "Saint-Étienne".into(),
            ..Default::default()
        };
        store::meters::insert(&conn, &m, DEC1 - 100 * DAY).expect("meter")
    };
    let id = meter("12345678", customer("C01-0042", NAME, Some(EMAIL)));
    let silent = meter("87654321", customer("C01-0043", "Jean Sansmail", None));
    for d in 0..=31 {
        let r = store::readings::Reading {
            meter_id: id,
            register: 1,
            ts: DEC1 + (d - 1) * DAY + 12 * HOUR,
            value: index(d),
            telegram_id: None,
        };
        assert!(store::readings::insert(&conn, &r, 0).expect("reading"));
    }
    let leak = Event {
        code: "leak".into(),
        started_at: DEC1 + 9 * DAY + 6 * HOUR,
        last_seen_at: DEC1 + 11 * DAY + 18 * HOUR,
        ended_at: Some(DEC1 + 11 * DAY + 20 * HOUR),
    };
    store::info_codes::upsert(&conn, id, &leak).expect("event");
    drop(conn);
    Park { dir, store, manager, clerk, meter: id, silent }
}

fn date(s: &str) -> NaiveDate {
    NaiveDate::parse_from_str(s, "%Y-%m-%d").expect("date")
}

fn december(meter_id: i64, format: Format) -> ConsumerReportRequest {
    ConsumerReportRequest {
        meter_id,
        from: date("2025-12-01"),
        to: date("2025-12-31"),
        resolution: Resolution::Day,
        format,
        locale: None,
    }
}

/// Keep a copy for a human when RELEVE_REPORT_OUT is set.
fn keep(name: &str, bytes: &[u8]) {
    if let Some(dir) = std::env::var_os("RELEVE_REPORT_OUT") {
        let dir = PathBuf::from(dir);
        std::fs::create_dir_all(&dir).expect("out dir");
        std::fs::write(dir.join(name), bytes).expect("keep");
    }
}

fn fr(v: f64) -> String {
    Locale::Fr.number(v, 3)
}

#[test]
fn html_has_the_customer_the_total_and_one_svg_bar_per_day() {
    let p = park();
    let file =
        consumer_report::consumer_report(&p.store, &p.clerk, &december(p.meter, Format::Html), NOW).expect("report");
    assert_eq!(file.file_name, "consommation-12345678-2025-12-01_2025-12-31.html");
    assert_eq!(file.content_type, "text/html; charset=utf-8");
    keep(&file.file_name, &file.bytes);
    let html = String::from_utf8(file.bytes).expect("utf-8");
    assert!(html.starts_with("<!DOCTYPE html>") && html.contains("<html lang=\"fr\">"));
    assert!(html.contains(NAME), "customer name");
    assert!(html.contains("C01-0042") && html.contains("12345678"));
    let total: f64 = (1..=31).map(usage).sum();
    let total_text = format!("<strong id=\"total\">{} m³</strong>", fr(total));
    assert!(html.contains(&total_text), "total {total_text}");
    assert!(!html.contains("<script") && !html.contains("src=") && !html.contains("href="), "self-contained");
    let svg = &html[html.find("<svg").expect("inline svg")..html.find("</svg>").expect("svg end")];
    assert!(svg.contains("viewBox=\"0 0 720 300\""));
    assert_eq!(svg.matches("fill=\"#2F6DB5\"").count(), 31, "one bar per day");
    assert!(svg.matches("fill=\"#FADBD8\"").count() >= 1, "the leak is marked on the chart");
    // The table: date, index at the start of the day, consumption of the day.
    for d in [1, 10, 31] {
        let row = format!(
            "<tr><td>{:02}/12/2025</td><td class=\"num\">{}</td><td class=\"num\">{}</td>",
            d,
            fr(index(d - 1)),
            fr(usage(d))
        );
        assert!(html.contains(&row), "row {row}");
    }
    assert!(html.contains("Fuite du 10/12/2025 au 12/12/2025"), "leak period in words");

    let mut en = december(p.meter, Format::Html);
    en.locale = Some(Locale::En);
    let html = String::from_utf8(consumer_report::consumer_report(&p.store, &p.clerk, &en, NOW).expect("en").bytes)
        .expect("utf-8");
    assert!(html.contains("Total consumption") && html.contains("from 1 Dec 2025 to 31 Dec 2025"));
    assert!(html.contains(&format!("{:.3} m³", total)), "English decimal point");
}

#[test]
fn months_cut_to_the_period_and_bad_requests_are_refused() {
    let p = park();
    let mut req = december(p.meter, Format::Html);
    req.from = date("2025-11-15");
    req.to = date("2026-01-10");
    req.resolution = Resolution::Month;
    let html =
        String::from_utf8(consumer_report::consumer_report(&p.store, &p.clerk, &req, NOW).expect("months").bytes)
            .expect("utf-8");
    assert!(html.contains("<td>novembre 2025</td>") && html.contains("<td>janvier 2026</td>"));
    let svg = &html[html.find("<svg").expect("svg")..];
    // November's one reading is its first (a flat bar, 0); January has none (no bar).
    assert_eq!(svg.matches("fill=\"#2F6DB5\"").count(), 2, "November and December have readings");

    req.resolution = Resolution::Hour;
    let err = consumer_report::consumer_report(&p.store, &p.clerk, &req, NOW).expect_err("hours");
    assert_eq!(err.code(), "bad_input");
    let mut long = december(p.meter, Format::Pdf);
    long.from = date("2024-01-01");
    assert_eq!(consumer_report::consumer_report(&p.store, &p.clerk, &long, NOW).expect_err("long").code(), "bad_input");
    assert_eq!(
        consumer_report::consumer_report(&p.store, &p.clerk, &december(9_999, Format::Pdf), NOW)
            .expect_err("no meter")
            .code(),
        "not_found"
    );
    assert_eq!(consumer_report::meter_of_serial(&p.store, &p.clerk, "12345678").expect("serial"), p.meter);
}

/// A PDF that poppler opens, with its fonts embedded (Liberation Sans, by krilla).
fn check_pdf(pdf: &[u8], dir: &Path) {
    assert!(pdf.starts_with(b"%PDF-1."), "header");
    let tail = String::from_utf8_lossy(&pdf[pdf.len().saturating_sub(32)..]).into_owned();
    assert!(tail.trim_end().ends_with("%%EOF"), "trailer: {tail:?}");
    let path = dir.join("check.pdf");
    std::fs::write(&path, pdf).expect("write");
    let out = tool("pdffonts", &[path.to_str().expect("path")]);
    assert!(out.status.success() && out.stderr.is_empty(), "pdffonts: {}", String::from_utf8_lossy(&out.stderr));
    let fonts = String::from_utf8_lossy(&out.stdout).into_owned();
    let embedded: Vec<&str> = fonts.lines().skip(2).collect();
    assert!(!embedded.is_empty(), "fonts: {fonts}");
    for line in &embedded {
        assert!(line.contains("LiberationSans"), "only Liberation Sans: {fonts}");
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cells.iter().rev().nth(4), Some(&"yes"), "embedded: {line}");
    }
}

fn tool(name: &str, args: &[&str]) -> std::process::Output {
    Command::new(name)
        .args(args)
        .output()
        .unwrap_or_else(|e| panic!("{name}: {e} (scripts/install-deps installs poppler-utils)"))
}

#[test]
fn pdf_is_valid_and_poppler_reads_the_name_the_total_and_the_table() {
    let p = park();
    let file =
        consumer_report::consumer_report(&p.store, &p.clerk, &december(p.meter, Format::Pdf), NOW).expect("report");
    assert_eq!(file.file_name, "consommation-12345678-2025-12-01_2025-12-31.pdf");
    assert_eq!(file.content_type, "application/pdf");
    keep(&file.file_name, &file.bytes);
    check_pdf(&file.bytes, p.dir.path());
    let path = p.dir.path().join(&file.file_name);
    std::fs::write(&path, &file.bytes).expect("write");
    let path_s = path.to_str().expect("utf-8 path");

    let info = tool("pdfinfo", &[path_s]);
    assert!(info.status.success(), "pdfinfo: {}", String::from_utf8_lossy(&info.stderr));
    let info = String::from_utf8_lossy(&info.stdout).into_owned();
    assert!(info.contains("Pages:           2"), "31 days run onto a second page: {info}");
    assert!(info.contains("Page size:       595.28 x 841.89 pts (A4)"), "{info}");

    let out = tool("pdftotext", &["-layout", "-enc", "UTF-8", path_s, "-"]);
    assert!(out.status.success(), "pdftotext: {}", String::from_utf8_lossy(&out.stderr));
    assert!(out.stderr.is_empty(), "poppler complains: {}", String::from_utf8_lossy(&out.stderr));
    let text = String::from_utf8(out.stdout).expect("utf-8");
    assert!(text.contains(NAME), "the name with its accents: {text}");
    assert!(
        text.contains("Relevé de consommation")
            && text.contains("Saint-Étienne")
            && text.contains("12 rue de l'Église")
    );
    let total: f64 = (1..=31).map(usage).sum();
    assert!(text.contains(&format!("{} m³", fr(total))), "total");
    for d in 1..=31 {
        let day = format!("{d:02}/12/2025");
        let line = text.lines().find(|l| l.trim_start().starts_with(&day)).unwrap_or_else(|| panic!("row {day}"));
        let cells: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(&cells[1..3], &[fr(index(d - 1)).as_str(), fr(usage(d)).as_str()], "row {day}: {line}");
        assert_eq!(line.contains("fuite"), (10..=12).contains(&d), "alarm column of {day}");
    }
    assert!(text.contains("Page 1 sur 2") && text.contains("Page 2 sur 2"));
    // Chart labels are real text too (vector chart, Liberation Sans).
    assert!(text.contains("Consommation (m³)") && text.contains("15/12"), "chart text: {text}");

    let png = p.dir.path().join("page");
    let out = tool("pdftoppm", &["-png", "-r", "60", "-f", "1", "-l", "1", path_s, png.to_str().expect("path")]);
    assert!(out.status.success() && out.stderr.is_empty(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
    let first = std::fs::read_dir(p.dir.path())
        .expect("dir")
        .filter_map(|e| e.ok().map(|e| e.path()))
        .find(|f| f.extension().is_some_and(|x| x == "png"))
        .expect("a PNG of page 1");
    let bytes = std::fs::read(&first).expect("png");
    assert!(bytes.starts_with(b"\x89PNG") && bytes.len() > 5_000, "a rendered page");
    keep("page-1.png", &bytes);
}

/// Parse a message with Python's `email` package: recipient, subject, text, and each
/// attachment's content type and file name, its decoded bytes written to `dir`.
const PARSE: &str = r#"
import email, email.policy, json, os, sys
msg = email.message_from_binary_file(open(sys.argv[1], 'rb'), policy=email.policy.default)
out = {'to': str(msg['To']), 'subject': str(msg['Subject']), 'type': msg.get_content_type(), 'text': '', 'files': []}
for part in msg.walk():
    if part.is_multipart():
        continue
    if part.get_filename():
        data = part.get_payload(decode=True)
        path = os.path.join(sys.argv[2], part.get_filename())
        open(path, 'wb').write(data)
        out['files'].append({'type': part.get_content_type(), 'name': part.get_filename(),
                             'encoding': part['Content-Transfer-Encoding'], 'path': path})
    elif part.get_content_type() == 'text/plain':
        out['text'] = part.get_content()
print(json.dumps(out))
"#;

fn parse_message(message: &Path, dir: &Path) -> serde_json::Value {
    let out = Command::new("python3").args(["-c", PARSE]).arg(message).arg(dir).output().expect("python3");
    assert!(out.status.success(), "parse: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).expect("json")
}

fn channels(p: &Park, port: u16) {
    let s = ChannelSettings {
        smtp_host: "127.0.0.1".into(),
        smtp_port: port,
        smtp_from: "releve@example.com".into(),
        smtp_tls: "none".into(),
        ..Default::default()
    };
    notify::notify_settings(&p.store, &p.manager, &s, NOW).expect("settings");
}

#[test]
fn email_reaches_the_customer_with_the_pdf_attached() {
    let p = park();
    let smtp = Smtp::start(p.dir.path());
    channels(&p, smtp.port);
    let req = december(p.meter, Format::Pdf);

    let viewer = Session { permissions: vec![Permission::View], ..p.clerk.clone() };
    let err = consumer_report::consumer_report_email(&p.store, &viewer, &req, None, NOW).expect_err("view only");
    assert_eq!(err.code(), "forbidden");
    let mailer = Session { permissions: vec![Permission::View, Permission::Export, Permission::SendMail], ..p.clerk.clone() };
    let err = consumer_report::consumer_report_email(&p.store, &mailer, &december(p.silent, Format::Pdf), None, NOW)
        .expect_err("no address");
    assert_eq!(err.code(), "no_email");
    assert!(err.to_string().contains("C01-0043"), "{err}");

    let sent = consumer_report::consumer_report_email(&p.store, &mailer, &req, None, NOW).expect("sent");
    assert_eq!(sent.sent_to, EMAIL);
    let messages = smtp.message_files();
    assert_eq!(messages.len(), 1, "one message delivered");
    let parsed_dir = p.dir.path().join("parsed");
    std::fs::create_dir_all(&parsed_dir).expect("dir");
    let m = parse_message(&messages[0], &parsed_dir);
    assert_eq!(m["to"], EMAIL);
    assert_eq!(m["type"], "multipart/mixed");
    assert_eq!(m["subject"], "Votre relevé de consommation du 01/12/2025 au 31/12/2025");
    let text = m["text"].as_str().expect("text part");
    assert!(text.contains(&format!("Bonjour {NAME},")) && text.contains("12345678"), "{text}");
    let files = m["files"].as_array().expect("files");
    assert_eq!(files.len(), 1);
    assert_eq!(files[0]["type"], "application/pdf");
    assert_eq!(files[0]["name"], "consommation-12345678-2025-12-01_2025-12-31.pdf");
    assert_eq!(files[0]["encoding"], "base64");
    let attached = std::fs::read(files[0]["path"].as_str().expect("path")).expect("attachment");
    let ReportFile { bytes, .. } = consumer_report::consumer_report(&p.store, &p.clerk, &req, NOW).expect("report");
    assert!(attached == bytes, "the attachment decodes to the report's bytes");
    check_pdf(&attached, p.dir.path());

    // Another address, and HTML; each sending is in the audit log with its recipient.
    let mut html = december(p.meter, Format::Html);
    html.locale = Some(Locale::En);
    let sent = consumer_report::consumer_report_email(&p.store, &mailer, &html, Some("office@example.org"), NOW)
        .expect("sent");
    assert_eq!(sent.sent_to, "office@example.org");
    assert_eq!(smtp.message_files().len(), 2);
    let audit = store::audit::latest(&p.store.writer(), 10).expect("audit");
    let sent: Vec<&str> =
        audit.iter().filter(|e| e.event == "consumer_report_sent").map(|e| e.details.as_str()).collect();
    assert_eq!(sent.len(), 2, "{audit:?}");
    assert!(sent[0].ends_with("to office@example.org") && sent[0].starts_with("consumption-12345678-"), "{}", sent[0]);
    assert!(sent[1].ends_with(&format!("to {EMAIL}")), "{}", sent[1]);
    assert!(audit.iter().any(|e| e.event == "consumer_report_sent" && e.user == "clerk"));
}

/// The utility's letterhead saved by a manager (a clerk may not; a GIF or oversized logo is
/// refused naming the field), then on the PDF in French and English: the logo as an image
/// (`pdfimages`), the name, address, contact and legal text (`pdftotext`), the title
/// metadata with its dash and the customer's accents (`pdfinfo`), the same period last
/// year with its change; page 1 rendered by `pdftoppm` (kept with RELEVE_REPORT_OUT).
#[test]
fn letterhead_logo_title_and_last_year_are_in_the_pdf() {
    use base64::Engine;
    use releve_core::consumer_report::letterhead::{self, Letterhead};
    let p = park();
    // December 2024: 5 m³ between the readings of 30 November and 31 December.
    {
        let conn = p.store.writer();
        let dec1_2024 = DEC1 - 365 * DAY;
        for (ts, value) in [(dec1_2024 - DAY + 12 * HOUR, 50.0), (dec1_2024 + 30 * DAY + 12 * HOUR, 55.0)] {
            let r = store::readings::Reading { meter_id: p.meter, register: 1, ts, value, telegram_id: None };
            assert!(store::readings::insert(&conn, &r, 0).expect("reading"));
        }
    }
    let logo = std::fs::read(Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/logo.png")).expect("logo");
    let b64 = |b: &[u8]| base64::engine::general_purpose::STANDARD.encode(b);
    let head = Letterhead {
        name: "Régie des eaux de Saint-Chamond".into(),
        address: "Hôtel de ville — 1 place de la Liberté\n42400 Saint-Chamond".into(),
        contact: "04 77 31 00 00 · releve@saint-chamond.example".into(),
        legal: "Régie dotée de l’autonomie financière — SIRET 214 202 079 00017 — Facture à régler sous 30 jours.".into(),
        logo_base64: b64(&logo),
    };
    let e = letterhead::letterhead_set(&p.store, &p.clerk, &head, NOW).expect_err("a clerk may not");
    assert_eq!(e.code(), "forbidden");
    let gif = Letterhead { logo_base64: b64(b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"), ..head.clone() };
    let e = letterhead::letterhead_set(&p.store, &p.manager, &gif, NOW).expect_err("not PNG or JPEG");
    assert_eq!((e.code(), e.params()["field"].as_str(), e.params()["reason"].as_str()), ("bad_input", Some("logo"), Some("unreadable")));
    let mut big = logo.clone();
    big.resize(letterhead::MAX_LOGO_BYTES + 1, 0);
    let e = letterhead::letterhead_set(&p.store, &p.manager, &Letterhead { logo_base64: b64(&big), ..head.clone() }, NOW)
        .expect_err("too large");
    assert_eq!((e.params()["field"].as_str(), e.params()["reason"].as_str()), (Some("logo"), Some("out_of_range")));
    let saved = letterhead::letterhead_set(&p.store, &p.manager, &head, NOW).expect("saved");
    assert_eq!(letterhead::letterhead(&p.store, &p.clerk).expect("read"), saved);

    let current: f64 = (1..=31).map(usage).sum();
    // (pdftotext gives the no-break space before "%" as a plain space.)
    let change = (current - 5.0) / 5.0 * 100.0;
    for (locale, title, last, pct, page) in [
        (Locale::Fr, "Relevé de consommation 12345678 — du 01/12/2025 au 31/12/2025", "Même période l'an dernier (du 01/12/2024 au 31/12/2024)", format!("5,000 m³ (évolution +{} %)", Locale::Fr.number(change, 1)), "Page 1 sur 2"),
        (Locale::En, "Consumption report 12345678 — from 1 Dec 2025 to 31 Dec 2025", "Same period last year (from 1 Dec 2024 to 31 Dec 2024)", format!("5.000 m³ (change +{}%)", Locale::En.number(change, 1)), "Page 1 of 2"),
    ] {
        let mut req = december(p.meter, Format::Pdf);
        req.locale = Some(locale);
        let file = consumer_report::consumer_report(&p.store, &p.clerk, &req, NOW).expect("report");
        check_pdf(&file.bytes, p.dir.path());
        let path = p.dir.path().join(format!("letterhead-{}.pdf", locale.code()));
        std::fs::write(&path, &file.bytes).expect("write");
        keep(&format!("letterhead-{}.pdf", locale.code()), &file.bytes);
        let path_s = path.to_str().expect("path");

        let info = String::from_utf8_lossy(&tool("pdfinfo", &["-enc", "UTF-8", path_s]).stdout).into_owned();
        assert!(info.lines().any(|l| l.starts_with("Title:") && l.ends_with(title)), "title with its dash: {info}");
        let images = String::from_utf8_lossy(&tool("pdfimages", &["-list", path_s]).stdout).into_owned();
        let rows: Vec<&str> = images.lines().skip(2).collect();
        assert_eq!(rows.len(), 1, "one image, the logo: {images}");
        let cells: Vec<&str> = rows[0].split_whitespace().collect();
        assert_eq!((cells[0], cells[3], cells[4]), ("1", "160", "64"), "the logo on page 1, 160 × 64 px: {images}");

        let out = tool("pdftotext", &["-layout", "-enc", "UTF-8", path_s, "-"]);
        let text = String::from_utf8(out.stdout).expect("utf-8");
        for want in [
            NAME,
            "Régie des eaux de Saint-Chamond",
            "Hôtel de ville — 1 place de la Liberté",
            "42400 Saint-Chamond",
            "04 77 31 00 00 · releve@saint-chamond.example",
            "SIRET 214 202 079 00017",
            last,
            pct.as_str(),
            page,
        ] {
            assert!(text.contains(want), "{want:?} in the {} PDF: {text}", locale.code());
        }
        assert_eq!(text.matches("Régie dotée de l’autonomie financière").count(), 2, "legal text on both pages");

        let png = p.dir.path().join(format!("lh-{}", locale.code()));
        let out = tool("pdftoppm", &["-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", path_s, png.to_str().expect("path")]);
        assert!(out.status.success() && out.stderr.is_empty(), "pdftoppm: {}", String::from_utf8_lossy(&out.stderr));
        let bytes = std::fs::read(png.with_extension("png")).expect("png");
        keep(&format!("letterhead-{}.png", locale.code()), &bytes);
    }

    // HTML: the logo inline, the comparison.
    let html = consumer_report::consumer_report(&p.store, &p.clerk, &december(p.meter, Format::Html), NOW).expect("html");
    let html = String::from_utf8(html.bytes).expect("utf-8");
    assert!(html.contains(&format!("src=\"data:image/png;base64,{}\"", b64(&logo))), "logo inline");
    assert!(html.contains("Même période l&apos;an dernier") && html.contains("id=\"last-year\""), "comparison");
}

/// No reading a year before: the comparison says so rather than showing zero.
#[test]
fn last_year_without_readings_says_so() {
    let p = park();
    let file = consumer_report::consumer_report(&p.store, &p.clerk, &december(p.meter, Format::Html), NOW).expect("html");
    let html = String::from_utf8(file.bytes).expect("utf-8");
    assert!(html.contains("pas de relevé comparable"), "{html}");
}
