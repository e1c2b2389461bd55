//! The report laid out on A4 pages: heading, customer and meter, the total, the chart
//! (vector, through `PdfCanvas`), the alarm periods, then the table, continued on further
//! pages with its header repeated; every page has a footer "Page i of n".

use super::chart;
use super::pdf::{fit, page_footer, page_heading_at, wrap, Align, Document, Font, Page, Rgb, A4, ACCENT, INK, MUTED, PALE, RULE, STRIPE};
use super::pdf_canvas::PdfCanvas;
use super::Report;
use crate::error::Result;
use plotters::prelude::IntoDrawingArea;

const MARGIN: f64 = 42.0;
const WIDTH: f64 = A4.0 - 2.0 * MARGIN;
/// The table stops above this (the footer, and the letterhead's legal text, are below).
fn bottom(r: &Report) -> f64 {
    A4.1 - 58.0 - LEGAL_LINE * legal_lines(r).len() as f64
}

/// The legal text's line height and size, and its lines (at most 4).
const LEGAL_LINE: f64 = 9.0;
const LEGAL_SIZE: f64 = 7.0;

fn legal_lines(r: &Report) -> Vec<String> {
    let legal = r.letterhead.legal.split_whitespace().collect::<Vec<_>>().join(" ");
    if legal.is_empty() {
        return Vec::new();
    }
    wrap(Font::Regular, LEGAL_SIZE, &legal, WIDTH, 4)
}
const ROW: f64 = 14.0;
/// The chart is drawn this many backend units per CSS pixel.
const FINE: f64 = 4.0;


/// Column edges of the table: period (left), index and consumption (right-aligned), the
/// export of an electricity meter that has one (right-aligned), alarms.
struct Columns {
    period: f64,
    index: f64,
    consumption: f64,
    export: f64,
    alarms: f64,
}

const COLS: Columns = Columns {
    period: MARGIN + 6.0,
    index: MARGIN + WIDTH * 0.50,
    consumption: MARGIN + WIDTH * 0.72,
    export: 0.0,
    alarms: MARGIN + WIDTH * 0.77,
};

const COLS_EXPORT: Columns = Columns {
    period: MARGIN + 6.0,
    index: MARGIN + WIDTH * 0.40,
    consumption: MARGIN + WIDTH * 0.58,
    export: MARGIN + WIDTH * 0.76,
    alarms: MARGIN + WIDTH * 0.80,
};

fn cols(r: &Report) -> &'static Columns {
    if r.has_export() {
        &COLS_EXPORT
    } else {
        &COLS
    }
}

pub fn render(r: &Report) -> Result<Vec<u8>> {
    let w = r.words();
    let mut doc = Document {
        title: format!("{} {} — {}", w.title, r.meter.serial, r.locale.period(r.from, r.to)),
        created: chrono::DateTime::from_timestamp(r.generated_at, 0)
            .map(|t| t.format("D:%Y%m%d%H%M%SZ").to_string())
            .unwrap_or_default(),
        ..Default::default()
    };
    let page = doc.new_page();
    let mut y = heading(page, r);
    y = parties(page, r, y);
    y = total(page, r, y, r.words().total, &r.total_text());
    if r.has_export() {
        y = total(page, r, y + 6.0, r.words().total_export, &r.export_total_text());
    }
    if let Some((label, value)) = r.last_year_text() {
        y = comparison(page, y + 6.0, &label, &value);
    }
    y = chart_block(page, r, y)?;
    y = legend(page, r, y);
    table(&mut doc, r, y + 10.0);
    let count = doc.pages.len();
    for (i, page) in doc.pages.iter_mut().enumerate() {
        footer(page, r, i + 1, count);
    }
    doc.to_bytes()
}

fn heading(page: &mut Page, r: &Report) -> f64 {
    let shift = letterhead(page, r);
    page_heading_at(page, MARGIN, shift, r.words().title, &r.subtitle(), &r.generated_text());
    82.0 + shift
}

/// The utility's letterhead at the top of the first page: the logo on the left (in a box of
/// 150 by 46 points, its proportions kept), the name, address and contact on the right.
/// Returns how far the heading moves down (0 without a letterhead).
fn letterhead(page: &mut Page, r: &Report) -> f64 {
    const TOP: f64 = 28.0;
    let l = &r.letterhead;
    if l.is_empty() {
        return 0.0;
    }
    let mut logo_bottom = TOP;
    if let Some(logo) = &r.logo {
        let (bw, bh) = (150.0, 46.0);
        let scale = (bw / f64::from(logo.width)).min(bh / f64::from(logo.height));
        let (w, h) = (f64::from(logo.width) * scale, f64::from(logo.height) * scale);
        page.image(MARGIN, TOP, w, h, logo);
        logo_bottom = TOP + h;
    }
    let right = MARGIN + WIDTH;
    let room = WIDTH - if r.logo.is_some() { 170.0 } else { 0.0 };
    let mut y = TOP + 9.0;
    if !l.name.is_empty() {
        page.fill_color(INK);
        page.text(right, y, Font::Bold, 11.0, Align::Right, &fit(Font::Bold, 11.0, &l.name, room));
        y += 12.0;
    }
    page.fill_color(MUTED);
    for line in l.address_lines().into_iter().take(4) {
        page.text(right, y, Font::Regular, 8.5, Align::Right, &fit(Font::Regular, 8.5, line, room));
        y += 10.5;
    }
    if !l.contact.is_empty() {
        page.text(right, y, Font::Regular, 8.5, Align::Right, &fit(Font::Regular, 8.5, &l.contact, room));
        y += 10.5;
    }
    let bottom = logo_bottom.max(y - 8.0);
    (bottom - TOP + 14.0).max(0.0)
}

/// The same period last year, in a lighter band under the total.
fn comparison(page: &mut Page, top: f64, label: &str, value: &str) -> f64 {
    page.fill_color(STRIPE);
    page.fill_rect(MARGIN, top, WIDTH, 26.0);
    page.fill_color(MUTED);
    page.text(MARGIN + 14.0, top + 16.5, Font::Regular, 9.5, Align::Left, &fit(Font::Regular, 9.5, label, WIDTH * 0.55));
    page.fill_color(INK);
    page.text(MARGIN + WIDTH - 12.0, top + 17.0, Font::Bold, 11.0, Align::Right, value);
    top + 26.0
}

/// Customer on the left, meter on the right.
fn parties(page: &mut Page, r: &Report, top: f64) -> f64 {
    let w = r.words();
    let half = WIDTH / 2.0;
    let mut y = top + 18.0;
    page.fill_color(MUTED);
    page.text(MARGIN, y, Font::Bold, 8.0, Align::Left, &w.customer.to_uppercase());
    page.text(MARGIN + half, y, Font::Bold, 8.0, Align::Left, &w.meter.to_uppercase());
    y += 15.0;
    let left_end = {
        let mut ly = y;
        for (i, line) in r.customer_lines().iter().enumerate() {
            page.fill_color(INK);
            let (font, size) = if i == 0 { (Font::Bold, 11.5) } else { (Font::Regular, 9.5) };
            for part in wrap(font, size, line, half - 12.0, 2) {
                page.text(MARGIN, ly, font, size, Align::Left, &part);
                ly += if i == 0 { 14.0 } else { 12.0 };
            }
        }
        ly
    };
    let mut ry = y;
    for (i, (label, value)) in r.meter_lines().into_iter().enumerate() {
        page.fill_color(MUTED);
        page.text(MARGIN + half, ry, Font::Regular, 9.0, Align::Left, &label);
        page.fill_color(INK);
        let font = if i == 0 { Font::Bold } else { Font::Regular };
        for line in wrap(font, 9.5, &value, half - 100.0, 2) {
            page.text(MARGIN + half + 100.0, ry, font, 9.5, Align::Left, &line);
            ry += 12.0;
        }
    }
    left_end.max(ry) + 4.0
}

/// A total in a pale band.
fn total(page: &mut Page, _r: &Report, top: f64, label: &str, value: &str) -> f64 {
    page.fill_color(PALE);
    page.fill_rect(MARGIN, top, WIDTH, 34.0);
    page.fill_color(ACCENT);
    page.fill_rect(MARGIN, top, 3.0, 34.0);
    page.fill_color(INK);
    page.text(MARGIN + 14.0, top + 21.5, Font::Regular, 11.0, Align::Left, label);
    page.text(MARGIN + WIDTH - 12.0, top + 23.0, Font::Bold, 16.0, Align::Right, value);
    top + 34.0
}

fn chart_block(page: &mut Page, r: &Report, top: f64) -> Result<f64> {
    let unit = WIDTH / (f64::from(chart::WIDTH) * FINE);
    let size = ((f64::from(chart::WIDTH) * FINE) as u32, (f64::from(chart::HEIGHT) * FINE) as u32);
    let top = top + 12.0;
    let canvas = PdfCanvas { page, origin: (MARGIN, top), unit, size };
    let area = canvas.into_drawing_area();
    chart::draw(&area, r, "Helvetica", FINE)?;
    Ok(top + f64::from(size.1) * unit)
}

/// Alarm periods and meter exchanges under the chart (at most `LEGEND` alarm lines).
fn legend(page: &mut Page, r: &Report, top: f64) -> f64 {
    const LEGEND: usize = 6;
    let mut y = top + 4.0;
    if r.has_export() {
        let w = r.words();
        y += 13.0;
        let mut x = MARGIN + 6.0;
        for (color, label) in [(chart::BAR, w.imported), (chart::EXPORT_BAR, w.exported)] {
            page.fill_color(rgb(color));
            page.fill_rect(x, y - 8.0, 14.0, 9.0);
            page.fill_color(INK);
            page.text(x + 20.0, y, Font::Regular, 9.0, Align::Left, label);
            x += 140.0;
        }
    }
    for a in r.alarms.iter().take(LEGEND) {
        y += 13.0;
        page.fill_color(rgb(chart::ALARM_BAND));
        page.fill_rect(MARGIN + 6.0, y - 8.0, 14.0, 9.0);
        page.stroke_color(rgb(chart::ALARM_EDGE));
        page.line_width(0.5);
        page.stroke_rect(MARGIN + 6.0, y - 8.0, 14.0, 9.0);
        page.fill_color(INK);
        page.text(MARGIN + 26.0, y, Font::Regular, 9.0, Align::Left, &r.alarm_text(a));
    }
    if r.alarms.len() > LEGEND {
        y += 13.0;
        let more = format!("+ {} {}", r.alarms.len() - LEGEND, r.words().more_periods);
        page.text(MARGIN + 26.0, y, Font::Regular, 9.0, Align::Left, &more);
    }
    for e in &r.exchanges {
        y += 13.0;
        page.fill_color(rgb(chart::EXCHANGE));
        page.fill_rect(MARGIN + 12.0, y - 9.0, 2.0, 11.0);
        page.fill_color(INK);
        page.text(MARGIN + 26.0, y, Font::Regular, 9.0, Align::Left, &r.exchange_text(e));
    }
    if let Some(until) = r.partial_until() {
        y += 13.0;
        page.fill_color(rgb(chart::PARTIAL_BAR));
        page.fill_rect(MARGIN + 6.0, y - 8.0, 14.0, 9.0);
        page.fill_color(INK);
        page.text(MARGIN + 26.0, y, Font::Regular, 9.0, Align::Left, &r.partial_text(until));
    }
    y
}

fn table_header(page: &mut Page, r: &Report, top: f64) -> f64 {
    let w = r.words();
    let unit = r.unit_label();
    page.fill_color(Rgb(0xE4, 0xE7, 0xEC));
    page.fill_rect(MARGIN, top, WIDTH, ROW + 4.0);
    page.fill_color(INK);
    let y = top + 12.5;
    let period = if r.resolution == crate::meters::Resolution::Month { w.month } else { w.day };
    let c = cols(r);
    page.text(c.period, y, Font::Bold, 9.0, Align::Left, period);
    page.text(c.index, y, Font::Bold, 9.0, Align::Right, &format!("{} ({unit})", w.index_start));
    page.text(c.consumption, y, Font::Bold, 9.0, Align::Right, &format!("{} ({unit})", r.import_heading()));
    if r.has_export() {
        page.text(c.export, y, Font::Bold, 9.0, Align::Right, &format!("{} ({unit})", w.exported));
    }
    page.text(c.alarms, y, Font::Bold, 9.0, Align::Left, w.alarms);
    top + ROW + 4.0
}

fn table(doc: &mut Document, r: &Report, top: f64) {
    let w = r.words();
    let cols = cols(r);
    let mut page_index = doc.pages.len() - 1;
    let mut y = top;
    if y + 3.0 * ROW > bottom(r) {
        doc.new_page();
        page_index += 1;
        y = continued(&mut doc.pages[page_index], r);
    }
    y = table_header(&mut doc.pages[page_index], r, y);
    for (i, row) in r.rows.iter().enumerate() {
        if y + ROW > bottom(r) {
            doc.new_page();
            page_index += 1;
            let page = &mut doc.pages[page_index];
            y = continued(page, r);
            y = table_header(page, r, y);
        }
        let page = &mut doc.pages[page_index];
        if i % 2 == 1 {
            page.fill_color(STRIPE);
            page.fill_rect(MARGIN, y, WIDTH, ROW);
        }
        let base = y + 10.0;
        page.fill_color(INK);
        page.text(cols.period, base, Font::Regular, 9.0, Align::Left, &r.row_label(row));
        let cell = |v: Option<f64>| v.map(|v| r.quantity(v)).unwrap_or_else(|| w.no_reading.to_string());
        page.text(cols.index, base, Font::Regular, 9.0, Align::Right, &cell(row.index_start));
        page.text(cols.consumption, base, Font::Regular, 9.0, Align::Right, &cell(row.consumption));
        if r.has_export() {
            page.text(cols.export, base, Font::Regular, 9.0, Align::Right, &cell(row.export));
        }
        if !row.codes.is_empty() {
            page.fill_color(rgb(chart::ALARM_EDGE));
            let codes = fit(Font::Regular, 8.5, &r.codes_text(row), MARGIN + WIDTH - cols.alarms);
            page.text(cols.alarms, base, Font::Regular, 8.5, Align::Left, &codes);
        }
        y += ROW;
    }
    if y + ROW + 4.0 > bottom(r) {
        doc.new_page();
        page_index += 1;
        y = continued(&mut doc.pages[page_index], r);
    }
    let page = &mut doc.pages[page_index];
    page.stroke_color(INK);
    page.line_width(0.8);
    page.line(MARGIN, y + 1.0, MARGIN + WIDTH, y + 1.0);
    page.fill_color(INK);
    page.text(cols.period, y + 14.0, Font::Bold, 9.5, Align::Left, w.total);
    let total = r.total.map(|t| r.quantity(t)).unwrap_or_else(|| w.no_reading.to_string());
    page.text(cols.consumption, y + 14.0, Font::Bold, 9.5, Align::Right, &total);
    if r.has_export() {
        let export = r.export_total.map(|t| r.quantity(t)).unwrap_or_default();
        page.text(cols.export, y + 14.0, Font::Bold, 9.5, Align::Right, &export);
    }
}

/// The small heading of a continuation page; returns where the table goes on.
fn continued(page: &mut Page, r: &Report) -> f64 {
    page.fill_color(MUTED);
    let title = format!("{} — {} — {}", r.words().title, r.meter.serial, r.locale.period(r.from, r.to));
    page.text(MARGIN, 48.0, Font::Regular, 9.0, Align::Left, &title);
    page.stroke_color(RULE);
    page.line_width(0.6);
    page.line(MARGIN, 56.0, MARGIN + WIDTH, 56.0);
    66.0
}

fn footer(page: &mut Page, r: &Report, number: usize, count: usize) {
    let w = r.words();
    let who = r.customer.as_ref().map(|c| c.name.as_str()).unwrap_or("");
    let left = [who, r.meter.serial.as_str()].iter().filter(|s| !s.is_empty()).copied().collect::<Vec<_>>().join(" · ");
    page_footer(page, MARGIN, &left, &format!("{} {number} {} {count}", w.page, w.of));
    let lines = legal_lines(r);
    page.fill_color(MUTED);
    let first = A4.1 - 46.0 - LEGAL_LINE * (lines.len() as f64 - 1.0);
    for (i, line) in lines.iter().enumerate() {
        page.text(MARGIN, first + LEGAL_LINE * i as f64, Font::Regular, LEGAL_SIZE, Align::Left, line);
    }
}

fn rgb(c: plotters::style::RGBColor) -> Rgb {
    Rgb(c.0, c.1, c.2)
}
