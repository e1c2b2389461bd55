//! The count laid out on A4 pages: heading (title with the year, the municipality, the
//! subject, the dates), the total, the list of objects continued on further pages with its
//! header repeated, the counts by brand and model, the signature block; every page has a
//! footer "Page i of n".

use super::Count;
use crate::consumer_report::pdf::{fit, page_footer, text_width, wrap, Align, Document, Font, Page, Rgb, A4, ACCENT, INK, MUTED, PALE, RULE, STRIPE};

const MARGIN: f64 = 42.0;
const WIDTH: f64 = A4.0 - 2.0 * MARGIN;
/// Tables stop above this (the footer is below).
const BOTTOM: f64 = A4.1 - 58.0;
const ROW: f64 = 13.0;
const HEADER: f64 = 24.0;
const SIZE: f64 = 8.0;

const HEAD: Rgb = Rgb(0xE4, 0xE7, 0xEC);

/// Widths of the list's columns: brand, model, DevEUI, address, commune, commissioning.
const WIDTHS: [f64; 6] = [68.0, 98.0, 84.0, 127.0, 72.0, 62.0];

fn column_x(i: usize) -> f64 {
    MARGIN + WIDTHS[..i].iter().sum::<f64>()
}

pub(super) fn render(c: &Count) -> crate::error::Result<Vec<u8>> {
    let mut doc = Document {
        title: c.title(),
        created: chrono::DateTime::from_timestamp(c.now, 0).map(|t| t.format("D:%Y%m%d%H%M%SZ").to_string()).unwrap_or_default(),
        ..Default::default()
    };
    let mut y = heading(doc.new_page(), c);
    y = objects_table(&mut doc, c, y + 14.0);
    y = counts_table(&mut doc, c, y + 22.0);
    signatures(&mut doc, c, y + 24.0);
    let count = doc.pages.len();
    for (i, page) in doc.pages.iter_mut().enumerate() {
        footer(page, c, i + 1, count);
    }
    doc.to_bytes()
}

/// Title, municipality, subject, dates, total; returns where the list starts.
fn heading(page: &mut Page, c: &Count) -> f64 {
    let mut y = 54.0;
    let title = wrap(Font::Bold, 16.0, &c.title(), WIDTH - 12.0, 2);
    page.fill_color(ACCENT);
    page.fill_rect(MARGIN, 38.0, 4.0, 20.0 * title.len() as f64 + 2.0);
    page.fill_color(INK);
    for line in &title {
        page.text(MARGIN + 12.0, y, Font::Bold, 16.0, Align::Left, line);
        y += 20.0;
    }
    y += 8.0;
    page.text(MARGIN, y, Font::Bold, 12.0, Align::Left, &fit(Font::Bold, 12.0, c.municipality(), WIDTH));
    y += 20.0;
    for line in wrap(Font::Regular, 9.5, &c.subject(), WIDTH, 4) {
        page.text(MARGIN, y, Font::Regular, 9.5, Align::Left, &line);
        y += 12.5;
    }
    y += 4.0;
    page.fill_color(MUTED);
    page.text(MARGIN, y, Font::Regular, 9.5, Align::Left, &c.dates_line());
    y += 12.0;
    // The total in a pale band.
    page.fill_color(PALE);
    page.fill_rect(MARGIN, y, WIDTH, 30.0);
    page.fill_color(ACCENT);
    page.fill_rect(MARGIN, y, 3.0, 30.0);
    page.fill_color(INK);
    page.text(MARGIN + 14.0, y + 19.5, Font::Bold, 12.0, Align::Left, &c.total_text());
    y + 30.0
}

/// The small heading of a continuation page; returns where the table goes on.
fn continued(page: &mut Page, c: &Count) -> f64 {
    page.fill_color(MUTED);
    let title = format!("{} ({}) — {}", c.title(), c.words().continued, c.municipality());
    page.text(MARGIN, 48.0, Font::Regular, 9.0, Align::Left, &fit(Font::Regular, 9.0, &title, WIDTH));
    page.stroke_color(RULE);
    page.line_width(0.6);
    page.line(MARGIN, 56.0, MARGIN + WIDTH, 56.0);
    66.0
}

/// A page to go on with: the current one if `needed` points fit below `y`, else a new one.
fn room(doc: &mut Document, c: &Count, y: f64, needed: f64) -> f64 {
    if y + needed <= BOTTOM {
        return y;
    }
    continued(doc.new_page(), c)
}

fn last(doc: &mut Document) -> &mut Page {
    let i = doc.pages.len() - 1;
    &mut doc.pages[i]
}

fn list_header(page: &mut Page, c: &Count, top: f64) -> f64 {
    let w = c.words();
    page.fill_color(HEAD);
    page.fill_rect(MARGIN, top, WIDTH, HEADER);
    page.fill_color(INK);
    let titles = [w.brand, w.model, w.dev_eui, w.address, w.city, w.commissioned_short];
    for (i, title) in titles.iter().enumerate() {
        let lines = wrap(Font::Bold, SIZE, title, WIDTHS[i] - 8.0, 2);
        let first = if lines.len() == 1 { top + 15.0 } else { top + 10.0 };
        for (k, line) in lines.iter().enumerate() {
            page.text(column_x(i) + 4.0, first + 9.0 * k as f64, Font::Bold, SIZE, Align::Left, line);
        }
    }
    top + HEADER
}

fn objects_table(doc: &mut Document, c: &Count, top: f64) -> f64 {
    let mut y = room(doc, c, top, HEADER + 3.0 * ROW);
    y = list_header(last(doc), c, y);
    if c.objects.is_empty() {
        let page = last(doc);
        page.fill_color(MUTED);
        page.text(MARGIN + 4.0, y + 14.0, Font::Regular, 9.0, Align::Left, c.words().none);
        return y + ROW + 4.0;
    }
    for (i, o) in c.objects.iter().enumerate() {
        if y + ROW > BOTTOM {
            y = continued(doc.new_page(), c);
            y = list_header(last(doc), c, y);
        }
        let page = last(doc);
        if i % 2 == 1 {
            page.fill_color(STRIPE);
            page.fill_rect(MARGIN, y, WIDTH, ROW);
        }
        page.fill_color(INK);
        let cells = [c.brand_or_none(&o.brand), &o.model, &o.dev_eui, &o.address, &o.city, &c.day(&o.commissioned)];
        for (k, cell) in cells.iter().enumerate() {
            let room = WIDTHS[k] - 8.0;
            if k == 2 {
                // A DevEUI is never cut: a wide one is set smaller.
                let size = (SIZE * room / text_width(Font::Regular, SIZE, cell)).min(SIZE);
                page.text(column_x(k) + 4.0, y + 9.2, Font::Regular, size, Align::Left, cell);
                continue;
            }
            let text = fit(Font::Regular, SIZE, cell, room);
            page.text(column_x(k) + 4.0, y + 9.2, Font::Regular, SIZE, Align::Left, &text);
        }
        y += ROW;
    }
    let page = last(doc);
    page.stroke_color(INK);
    page.line_width(0.8);
    page.line(MARGIN, y, MARGIN + WIDTH, y);
    y
}

/// Brand, model and count columns of the counts table.
const COUNT_BRAND: f64 = MARGIN + 4.0;
const COUNT_MODEL: f64 = MARGIN + 190.0;
const COUNT_N: f64 = MARGIN + 380.0;

fn counts_header(page: &mut Page, c: &Count, top: f64) -> f64 {
    let w = c.words();
    page.fill_color(HEAD);
    page.fill_rect(MARGIN, top, COUNT_N - MARGIN + 8.0, ROW + 4.0);
    page.fill_color(INK);
    page.text(COUNT_BRAND, top + 11.5, Font::Bold, SIZE, Align::Left, w.brand);
    page.text(COUNT_MODEL, top + 11.5, Font::Bold, SIZE, Align::Left, w.model);
    page.text(COUNT_N, top + 11.5, Font::Bold, SIZE, Align::Right, w.objects_col);
    top + ROW + 4.0
}

fn counts_table(doc: &mut Document, c: &Count, top: f64) -> f64 {
    let w = c.words();
    let mut y = room(doc, c, top, 30.0 + ROW * 4.0);
    let page = last(doc);
    page.fill_color(INK);
    page.text(MARGIN, y + 10.0, Font::Bold, 11.0, Align::Left, w.by_brand);
    y = counts_header(page, c, y + 18.0);
    let mut rows: Vec<(String, String, u64, bool)> = Vec::new();
    for b in &c.brands {
        let brand = c.brand_or_none(&b.brand).to_string();
        for m in &b.models {
            rows.push((brand.clone(), m.model.clone(), m.objects, false));
        }
        if b.models.len() > 1 {
            rows.push((brand, w.all_models.to_string(), b.objects, true));
        }
    }
    for (brand, model, n, subtotal) in rows {
        if y + ROW > BOTTOM {
            y = continued(doc.new_page(), c);
            y = counts_header(last(doc), c, y);
        }
        let page = last(doc);
        let font = if subtotal { Font::Bold } else { Font::Regular };
        if subtotal {
            page.fill_color(STRIPE);
            page.fill_rect(MARGIN, y, COUNT_N - MARGIN + 8.0, ROW);
        }
        page.fill_color(INK);
        page.text(COUNT_BRAND, y + 9.2, font, SIZE, Align::Left, &fit(font, SIZE, &brand, COUNT_MODEL - COUNT_BRAND - 8.0));
        page.text(COUNT_MODEL, y + 9.2, font, SIZE, Align::Left, &fit(font, SIZE, &model, COUNT_N - COUNT_MODEL - 50.0));
        page.text(COUNT_N, y + 9.2, font, SIZE, Align::Right, &c.count_text(n));
        y += ROW;
    }
    y = room(doc, c, y, ROW + 6.0);
    let page = last(doc);
    page.stroke_color(INK);
    page.line_width(0.8);
    page.line(MARGIN, y + 1.0, COUNT_N + 8.0, y + 1.0);
    page.fill_color(INK);
    page.text(COUNT_BRAND, y + 13.0, Font::Bold, 9.5, Align::Left, w.total);
    page.text(COUNT_N, y + 13.0, Font::Bold, 9.5, Align::Right, &c.count_text(c.objects.len() as u64));
    y += ROW + 6.0;
    if let Some(note) = c.undated_text() {
        y = room(doc, c, y, 2.0 * ROW + 6.0);
        let page = last(doc);
        page.fill_color(MUTED);
        for line in wrap(Font::Regular, 8.5, &note, WIDTH, 2) {
            y += 12.0;
            page.text(MARGIN, y, Font::Regular, 8.5, Align::Left, &line);
        }
    }
    y
}

/// "Fait à ____ le ____ :" and the two parties, each above room for a signature; kept on
/// one page.
fn signatures(doc: &mut Document, c: &Count, top: f64) {
    let w = c.words();
    let y = room(doc, c, top, 120.0);
    let page = last(doc);
    page.fill_color(INK);
    let colon = if c.locale == crate::consumer_report::Locale::Fr { " :" } else { ":" };
    let line = format!("{} ____________________ {} ____________________{colon}", w.signed_at, w.on);
    page.text(MARGIN, y + 12.0, Font::Regular, 10.0, Align::Left, &line);
    let half = WIDTH / 2.0;
    for (i, party) in [c.municipality(), c.operator()].into_iter().enumerate() {
        let x = MARGIN + half * i as f64;
        let name = fit(Font::Bold, 10.0, party, half - 20.0);
        page.text(x, y + 44.0, Font::Bold, 10.0, Align::Left, &name);
        let underline = text_width(Font::Bold, 10.0, &name);
        page.stroke_color(INK);
        page.line_width(0.6);
        page.line(x, y + 46.5, x + underline, y + 46.5);
        page.stroke_color(RULE);
        page.stroke_rect(x, y + 54.0, half - 20.0, 56.0);
    }
}

fn footer(page: &mut Page, c: &Count, number: usize, count: usize) {
    let w = c.words();
    let left = format!("{} · {}", c.title(), c.municipality());
    page_footer(page, MARGIN, &left, &format!("{} {number} {} {count}", w.page, w.of));
}
