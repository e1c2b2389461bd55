//! The report as one self-contained HTML file: inline CSS, the chart as inline SVG drawn by
//! plotters' SVG backend, no script and no outside resource.

use super::chart;
use super::Report;
use crate::error::Result;
use plotters::prelude::{IntoDrawingArea, SVGBackend};
use std::fmt::Write;

const STYLE: &str = "
:root { color-scheme: light; }
body { margin: 0; background: #f3f4f6; color: #222; font: 15px/1.45 Helvetica, Arial, 'Liberation Sans', sans-serif; }
main { max-width: 820px; margin: 24px auto; background: #fff; padding: 32px 40px 24px; box-shadow: 0 1px 4px rgba(0,0,0,.12); }
header { border-left: 4px solid #2f6db5; padding-left: 12px; display: flex; justify-content: space-between; align-items: flex-start; gap: 16px; }
h1 { font-size: 26px; margin: 0; }
.subtitle { color: #6b6b6b; margin: 2px 0 0; }
.issued { color: #6b6b6b; font-size: 12px; white-space: nowrap; margin-top: 8px; }
.parties { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; border-top: 1px solid #ccc; margin-top: 16px; padding-top: 14px; }
.parties h2 { font-size: 11px; letter-spacing: .06em; text-transform: uppercase; color: #6b6b6b; margin: 0 0 6px; }
.parties p { margin: 0; }
.name { font-weight: bold; font-size: 17px; }
.parties dl { display: grid; grid-template-columns: max-content 1fr; gap: 2px 14px; margin: 0; }
.parties dt { color: #6b6b6b; }
.parties dd { margin: 0; }
.total { display: flex; justify-content: space-between; align-items: baseline; background: #eaf1fa; border-left: 3px solid #2f6db5; padding: 10px 14px; margin: 18px 0 8px; }
.total strong { font-size: 22px; }
figure { margin: 8px 0; }
figure svg { width: 100%; height: auto; display: block; }
.legend { list-style: none; padding: 0; margin: 4px 0 12px; font-size: 13px; }
.legend li { display: flex; align-items: center; gap: 8px; margin: 2px 0; }
.swatch { width: 16px; height: 10px; background: #fadbd8; border: 1px solid #c0392b; }
.swatch.import { background: #2f6db5; border-color: #2f6db5; }
.swatch.export { background: #2e9e5b; border-color: #2e9e5b; }
.swatch.partial { background: #A9C6E8; border-color: #A9C6E8; }
.swatch.exchange { width: 3px; height: 14px; background: #444; border: 0; margin: 0 6px; }
table { width: 100%; border-collapse: collapse; font-size: 13.5px; margin-top: 8px; }
th { background: #e4e7ec; text-align: left; padding: 5px 8px; }
td { padding: 3px 8px; }
tbody tr:nth-child(even) { background: #f5f6f8; }
.num { text-align: right; font-variant-numeric: tabular-nums; }
.codes { color: #c0392b; font-size: 12.5px; }
tfoot td { font-weight: bold; border-top: 1.5px solid #222; padding-top: 6px; }
.letterhead { display: flex; justify-content: space-between; align-items: flex-start; gap: 16px; margin-bottom: 14px; }
.letterhead img { max-width: 200px; max-height: 64px; }
.letterhead address { font-style: normal; text-align: right; color: #6b6b6b; font-size: 12.5px; }
.letterhead address strong { color: #222; font-size: 15px; }
.total.last-year { background: #f5f6f8; border-left-color: #ccc; font-size: 14px; }
.legal { color: #6b6b6b; font-size: 11px; }
footer { color: #6b6b6b; font-size: 12px; border-top: 1px solid #ccc; margin-top: 20px; padding-top: 8px; }
@media print { body { background: #fff; } main { box-shadow: none; margin: 0; max-width: none; } }
";

pub fn render(r: &Report) -> Result<String> {
    let w = r.words();
    let svg = svg(r)?;
    let mut out = String::with_capacity(svg.len() + 16_000);
    let title = format!("{} {} — {}", w.title, r.meter.serial, r.locale.period(r.from, r.to));
    let _ = write!(
        out,
        "<!DOCTYPE html>\n<html lang=\"{}\">\n<head>\n<meta charset=\"utf-8\">\n<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n<title>{}</title>\n<style>{STYLE}</style>\n</head>\n<body>\n<main>\n",
        r.locale.code(),
        esc(&title)
    );
    letterhead(&mut out, r);
    let _ = writeln!(
        out,
        "<header><div><h1>{}</h1><p class=\"subtitle\">{}</p></div><p class=\"issued\">{}</p></header>",
        esc(w.title),
        esc(&r.subtitle()),
        esc(&r.generated_text())
    );
    out.push_str("<section class=\"parties\">\n<div>");
    let _ = write!(out, "<h2>{}</h2>", esc(w.customer));
    for (i, line) in r.customer_lines().iter().enumerate() {
        let class = if i == 0 { " class=\"name\"" } else { "" };
        let _ = write!(out, "<p{class}>{}</p>", esc(line));
    }
    let _ = write!(out, "</div>\n<div><h2>{}</h2><dl>", esc(w.meter));
    for (label, value) in r.meter_lines() {
        let _ = write!(out, "<dt>{}</dt><dd>{}</dd>", esc(&label), esc(&value));
    }
    out.push_str("</dl></div>\n</section>\n");
    let _ = writeln!(
        out,
        "<p class=\"total\"><span>{}</span><strong id=\"total\">{}</strong></p>",
        esc(w.total),
        esc(&r.total_text())
    );
    if r.has_export() {
        let _ = writeln!(
            out,
            "<p class=\"total\"><span>{}</span><strong id=\"export-total\">{}</strong></p>",
            esc(w.total_export),
            esc(&r.export_total_text())
        );
    }
    if let Some((label, value)) = r.last_year_text() {
        let _ = writeln!(
            out,
            "<p class=\"total last-year\"><span>{}</span><strong id=\"last-year\">{}</strong></p>",
            esc(&label),
            esc(&value)
        );
    }
    let _ = writeln!(out, "<figure>{svg}</figure>");
    if r.has_export() || !r.alarms.is_empty() || !r.exchanges.is_empty() || r.partial_until().is_some() {
        let _ = write!(out, "<ul class=\"legend\" aria-label=\"{}\">", esc(w.alarm_periods));
        if r.has_export() {
            let _ = write!(
                out,
                "<li><span class=\"swatch import\"></span>{}</li><li><span class=\"swatch export\"></span>{}</li>",
                esc(w.imported),
                esc(w.exported)
            );
        }
        for a in &r.alarms {
            let _ = write!(out, "<li><span class=\"swatch\"></span>{}</li>", esc(&r.alarm_text(a)));
        }
        for e in &r.exchanges {
            let _ = write!(out, "<li><span class=\"swatch exchange\"></span>{}</li>", esc(&r.exchange_text(e)));
        }
        if let Some(until) = r.partial_until() {
            let _ = write!(out, "<li><span class=\"swatch partial\"></span>{}</li>", esc(&r.partial_text(until)));
        }
        out.push_str("</ul>\n");
    }
    table(&mut out, r);
    let who = r.customer.as_ref().map(|c| c.name.as_str()).unwrap_or("");
    let _ = writeln!(out, "<footer>{} · {} · {}</footer>", esc(who), esc(&r.meter.serial), esc(&r.generated_text()));
    if !r.letterhead.legal.is_empty() {
        let _ = writeln!(out, "<p class=\"legal\">{}</p>", esc(&r.letterhead.legal));
    }
    out.push_str("</main>\n</body>\n</html>\n");
    Ok(out)
}

/// The utility's logo (inline) and its name, address and contact.
fn letterhead(out: &mut String, r: &Report) {
    let l = &r.letterhead;
    if l.is_empty() {
        return;
    }
    out.push_str("<div class=\"letterhead\">");
    if r.logo.is_some() {
        let _ = write!(out, "<img alt=\"{}\" src=\"data:{};base64,{}\">", esc(&l.name), l.logo_type(), l.logo_base64);
    } else {
        out.push_str("<span></span>");
    }
    out.push_str("<address>");
    if !l.name.is_empty() {
        let _ = write!(out, "<strong>{}</strong><br>", esc(&l.name));
    }
    for line in l.address_lines() {
        let _ = write!(out, "{}<br>", esc(line));
    }
    if !l.contact.is_empty() {
        let _ = write!(out, "{}", esc(&l.contact));
    }
    out.push_str("</address></div>\n");
}

fn table(out: &mut String, r: &Report) {
    let w = r.words();
    let unit = esc(r.unit_label());
    let period = if r.resolution == crate::meters::Resolution::Month { w.month } else { w.day };
    let export_head = if r.has_export() { format!("<th class=\"num\">{} ({unit})</th>", esc(w.exported)) } else { String::new() };
    let _ = write!(
        out,
        "<table>\n<thead><tr><th>{}</th><th class=\"num\">{} ({unit})</th><th class=\"num\">{} ({unit})</th>{export_head}<th>{}</th></tr></thead>\n<tbody>\n",
        esc(period),
        esc(w.index_start),
        esc(r.import_heading()),
        esc(w.alarms)
    );
    let cell = |v: Option<f64>| esc(&v.map(|v| r.quantity(v)).unwrap_or_else(|| w.no_reading.to_string()));
    let export_cell =
        |v: Option<f64>| if r.has_export() { format!("<td class=\"num\">{}</td>", cell(v)) } else { String::new() };
    for row in &r.rows {
        let _ = writeln!(
            out,
            "<tr><td>{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td>{}<td class=\"codes\">{}</td></tr>",
            esc(&r.row_label(row)),
            cell(row.index_start),
            cell(row.consumption),
            export_cell(row.export),
            esc(&r.codes_text(row))
        );
    }
    let _ = write!(
        out,
        "</tbody>\n<tfoot><tr><td>{}</td><td></td><td class=\"num\">{}</td>{}<td></td></tr></tfoot>\n</table>\n",
        esc(w.total),
        cell(r.total),
        export_cell(r.export_total)
    );
}

/// The chart as an `<svg>` element that scales with the page.
fn svg(r: &Report) -> Result<String> {
    let mut svg = String::new();
    {
        let area = SVGBackend::with_string(&mut svg, (chart::WIDTH, chart::HEIGHT)).into_drawing_area();
        chart::draw(&area, r, "Helvetica, Arial, sans-serif", 1.0)?;
    }
    let label = format!("{} ({})", r.subtitle(), r.unit_label());
    let open =
        format!("<svg role=\"img\" aria-label=\"{}\" viewBox=\"0 0 {} {}\" ", esc(&label), chart::WIDTH, chart::HEIGHT);
    Ok(svg.replacen("<svg ", &open, 1))
}

/// Text for HTML content and attribute values (the XML escaping of the GPX files).
fn esc(s: &str) -> String {
    crate::selection::xml(s)
}
