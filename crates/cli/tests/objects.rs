//! `releve report objects` on a demo database: the yearly count of connected objects as CSV
//! and as PDF, the PDF read back with poppler's `pdftotext` (title, parties, every DevEUI of
//! the CSV, the counts by brand and model, the total, the page footer), in French and in
//! English; a file name that is neither .pdf nor .csv is refused.

#[path = "support/releve.rs"]
mod releve;

use releve::{demo_db, BIN};
use std::collections::BTreeMap;
use std::path::Path;
use std::process::Command;

fn report(db: &Path, year: &str, out: &Path, more: &[&str]) -> std::process::Output {
    Command::new(BIN)
        .args(["report", "objects", "--db", db.to_str().expect("utf8"), "--year", year, "--out", out.to_str().expect("utf8")])
        .args(more)
        .output()
        .expect("releve")
}

fn pdftotext(pdf: &Path) -> String {
    let o = Command::new("pdftotext").args(["-layout", pdf.to_str().expect("utf8"), "-"]).output().expect("pdftotext (poppler-utils)");
    assert!(o.status.success(), "pdftotext: {}", String::from_utf8_lossy(&o.stderr));
    String::from_utf8(o.stdout).expect("utf-8")
}

#[test]
fn the_yearly_count_as_csv_and_pdf() {
    let (dir, db) = demo_db();
    let csv_path = dir.path().join("objets-2026.csv");
    let o = report(&db, "2026", &csv_path, &["--user", "clerk"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let bytes = std::fs::read(&csv_path).expect("csv");
    assert!(bytes.starts_with(b"\xEF\xBB\xBF"), "BOM");
    let csv = String::from_utf8(bytes[3..].to_vec()).expect("utf-8");
    let mut lines = csv.lines();
    assert_eq!(
        lines.next(),
        Some("Marque de l'objet;Modèle d'objet;DevEUI;Adresse;Commune;Date de mise en service de l'objet connecté;Date de retrait")
    );
    let rows: Vec<Vec<&str>> = lines.map(|l| l.split(';').collect()).collect();
    assert!(rows.len() > 20, "{} objects in service in 2026", rows.len());
    let mut by_model: BTreeMap<(String, String), usize> = BTreeMap::new();
    for r in &rows {
        assert_eq!(r.len(), 7, "{r:?}");
        assert!(r[2].len() == 16 && r[2].chars().all(|c| c.is_ascii_hexdigit()), "DevEUI {}", r[2]);
        assert!(r[5] <= "2026-12-31", "commissioned {} by the end of 2026", r[5]);
        assert!(r[6].is_empty() || r[6] >= "2026-01-01", "not taken out before 2026: {}", r[6]);
        *by_model.entry((r[0].to_string(), r[1].to_string())).or_default() += 1;
    }
    // Sorted by commune, then brand, then DevEUI.
    let keys: Vec<(&str, &str, &str)> = rows.iter().map(|r| (r[4], r[0], r[2])).collect();
    let mut sorted = keys.clone();
    sorted.sort_by(|a, b| (a.0.replace("L'", "L"), a.1, a.2).cmp(&(b.0.replace("L'", "L"), b.1, b.2)));
    assert_eq!(keys, sorted);

    let pdf_path = dir.path().join("objets-2026.pdf");
    let o = report(&db, "2026", &pdf_path, &["--user", "clerk"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    assert!(String::from_utf8_lossy(&o.stdout).contains("decompte-objets-connectes-2026.pdf written to"));
    let text = pdftotext(&pdf_path);
    assert!(text.contains("Procès-verbal de décompte d'objets connectés – Année 2026"), "{text}");
    assert!(text.contains("Ville de Saint-Chamond") && text.contains("SIEL-TE"), "the two parties");
    assert!(text.contains("ROC42") && text.contains("15/05/2023") && text.contains("Année d'adhésion : 2023"));
    assert!(text.contains(&format!("{} objets connectés en service en 2026", rows.len())), "the total");
    for r in &rows {
        assert!(text.contains(r[2]), "DevEUI {} in the PDF", r[2]);
    }
    // The counts: a line "brand  model  n" per model.
    for ((brand, model), n) in &by_model {
        let found = text.lines().any(|l| {
            let l = l.trim();
            l.starts_with(brand.as_str()) && l.contains(model.as_str()) && l.ends_with(&format!(" {n}"))
        });
        assert!(found, "count {brand} {model} = {n} in\n{text}");
    }
    let total_line = text.lines().find(|l| l.trim_start().starts_with("Total")).expect("total line");
    assert!(total_line.trim_end().ends_with(&format!(" {}", rows.len())), "{total_line}");
    assert!(text.contains("Fait à") && text.contains("Page 1 sur"));

    // English on request; a year without objects; a wrong extension.
    let en_path = dir.path().join("objects-2026-en.pdf");
    let o = report(&db, "2026", &en_path, &["--locale", "en"]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let en = pdftotext(&en_path);
    assert!(en.contains("Connected object count report – Year 2026") && en.contains("Count by brand and model"), "{en}");
    assert!(en.contains(&format!("{} connected objects in service in 2026", rows.len())));
    let empty = dir.path().join("2001.pdf");
    assert!(report(&db, "2001", &empty, &[]).status.success());
    assert!(pdftotext(&empty).contains("Aucun objet connecté en service cette année-là."));
    let o = report(&db, "2026", &dir.path().join("objets.xlsx"), &[]);
    assert!(!o.status.success());
    assert!(String::from_utf8_lossy(&o.stderr).contains("ends with .pdf or .csv"), "{}", String::from_utf8_lossy(&o.stderr));
}
