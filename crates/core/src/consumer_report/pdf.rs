//! The reports' PDF pages, written by krilla: A4 pages drawn with Liberation Sans (regular
//! and bold, metric-compatible with Helvetica; embedded and subset, so any Unicode text —
//! accents, dashes, Greek or Cyrillic names — shows as written, and the metadata title too),
//! text, lines, rectangles, paths, RGB colours and raster images (the utility's logo).
//!
//! A `Page` records drawing operations; `Document::to_bytes` replays them into krilla.
//! Page coordinates are points from the TOP-left corner (y grows downwards), as krilla's.

use crate::error::{Error, Result};
use krilla::color::rgb;
use krilla::geom::{PathBuilder, Point, Rect, Size, Transform};
use krilla::metadata::{DateTime, Metadata};
use krilla::page::PageSettings;
use krilla::paint::{Fill, Stroke};
use krilla::surface::Surface;
use krilla::text::TextDirection;
use std::sync::{Arc, LazyLock};

/// A4 portrait in points.
pub const A4: (f64, f64) = (595.28, 841.89);

static REGULAR_TTF: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Regular.ttf");
static BOLD_TTF: &[u8] = include_bytes!("../../assets/fonts/LiberationSans-Bold.ttf");

/// The fonts parsed once, for measuring text as krilla shapes it (rustybuzz, kerning on).
static MEASURE: LazyLock<(Option<rustybuzz::Face<'static>>, Option<rustybuzz::Face<'static>>)> =
    LazyLock::new(|| (rustybuzz::Face::from_slice(REGULAR_TTF, 0), rustybuzz::Face::from_slice(BOLD_TTF, 0)));

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

impl Font {
    fn bytes(self) -> &'static [u8] {
        match self {
            Font::Regular => REGULAR_TTF,
            Font::Bold => BOLD_TTF,
        }
    }

    fn face(self) -> Option<&'static rustybuzz::Face<'static>> {
        match self {
            Font::Regular => MEASURE.0.as_ref(),
            Font::Bold => MEASURE.1.as_ref(),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Rgb(pub u8, pub u8, pub u8);

/// The reports' colours: text, secondary text, headings, a pale band, table stripes, rules.
pub const INK: Rgb = Rgb(0x22, 0x22, 0x22);
pub const MUTED: Rgb = Rgb(0x6B, 0x6B, 0x6B);
pub const ACCENT: Rgb = Rgb(0x2F, 0x6D, 0xB5);
pub const PALE: Rgb = Rgb(0xEA, 0xF1, 0xFA);
pub const STRIPE: Rgb = Rgb(0xF5, 0xF6, 0xF8);
pub const RULE: Rgb = Rgb(0xCC, 0xCC, 0xCC);

/// Width of `text` in points, as krilla will set it.
pub fn text_width(font: Font, size: f64, text: &str) -> f64 {
    let Some(face) = font.face() else {
        return 0.5 * size * text.chars().count() as f64;
    };
    let mut buffer = rustybuzz::UnicodeBuffer::new();
    buffer.push_str(text);
    let glyphs = rustybuzz::shape(face, &[], buffer);
    let units: i64 = glyphs.glyph_positions().iter().map(|p| i64::from(p.x_advance)).sum();
    units as f64 * size / f64::from(face.units_per_em().max(1))
}

/// How text is placed horizontally relative to its x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// A raster picture to place on a page (the utility's logo): PNG or JPEG bytes.
#[derive(Debug, Clone)]
pub struct Picture {
    bytes: Arc<Vec<u8>>,
    jpeg: bool,
    /// Pixels.
    pub width: u32,
    pub height: u32,
}

impl Picture {
    /// A PNG or JPEG file, told by its signature; `None` for anything else or a file krilla
    /// cannot decode.
    pub fn new(bytes: Vec<u8>) -> Option<Picture> {
        let jpeg = bytes.starts_with(&[0xFF, 0xD8, 0xFF]);
        if !jpeg && !bytes.starts_with(b"\x89PNG\r\n\x1a\n") {
            return None;
        }
        let mut p = Picture { bytes: Arc::new(bytes), jpeg, width: 0, height: 0 };
        let (w, h) = p.image()?.size();
        (p.width, p.height) = (w, h);
        (w > 0 && h > 0).then_some(p)
    }

    fn image(&self) -> Option<krilla::image::Image> {
        let data: Arc<dyn AsRef<[u8]> + Send + Sync> = self.bytes.clone();
        if self.jpeg {
            krilla::image::Image::from_jpeg(data.into(), true).ok()
        } else {
            krilla::image::Image::from_png(data.into(), true).ok()
        }
    }
}

#[derive(Debug, Clone)]
enum Op {
    Fill { points: Vec<(f64, f64)>, close: bool, color: Rgb },
    Stroke { points: Vec<(f64, f64)>, close: bool, color: Rgb, width: f64 },
    Rect { x: f64, y: f64, w: f64, h: f64, fill: Option<Rgb>, stroke: Option<(Rgb, f64)> },
    Circle { cx: f64, cy: f64, r: f64, fill: Option<Rgb>, stroke: Option<(Rgb, f64)> },
    Text { x: f64, y: f64, font: Font, size: f64, degrees: f64, text: String, color: Rgb },
    Image { x: f64, y: f64, w: f64, h: f64, picture: Picture },
}

/// One page's drawing, in order.
#[derive(Debug, Clone)]
pub struct Page {
    ops: Vec<Op>,
    fill: Rgb,
    stroke: Rgb,
    width: f64,
}

impl Default for Page {
    fn default() -> Self {
        Page { ops: Vec::new(), fill: Rgb(0, 0, 0), stroke: Rgb(0, 0, 0), width: 1.0 }
    }
}

impl Page {
    pub fn fill_color(&mut self, c: Rgb) {
        self.fill = c;
    }

    pub fn stroke_color(&mut self, c: Rgb) {
        self.stroke = c;
    }

    pub fn line_width(&mut self, w: f64) {
        self.width = w;
    }

    /// A rectangle from its top-left corner, filled with the fill colour.
    pub fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.ops.push(Op::Rect { x, y, w, h, fill: Some(self.fill), stroke: None });
    }

    /// A rectangle's outline in the stroke colour.
    pub fn stroke_rect(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.ops.push(Op::Rect { x, y, w, h, fill: None, stroke: Some((self.stroke, self.width)) });
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64) {
        self.ops.push(Op::Stroke { points: vec![(x1, y1), (x2, y2)], close: false, color: self.stroke, width: self.width });
    }

    /// A path through `points`; `fill` closes and fills it, otherwise it is stroked open.
    pub fn path(&mut self, points: &[(f64, f64)], fill: bool) {
        if points.is_empty() {
            return;
        }
        let points = points.to_vec();
        self.ops.push(if fill {
            Op::Fill { points, close: true, color: self.fill }
        } else {
            Op::Stroke { points, close: false, color: self.stroke, width: self.width }
        });
    }

    /// A circle, filled or stroked.
    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, fill: bool) {
        let (fill, stroke) = if fill { (Some(self.fill), None) } else { (None, Some((self.stroke, self.width))) };
        self.ops.push(Op::Circle { cx, cy, r, fill, stroke });
    }

    /// Text with its baseline at `y`, in the fill colour.
    pub fn text(&mut self, x: f64, y: f64, font: Font, size: f64, align: Align, text: &str) {
        let x = match align {
            Align::Left => x,
            Align::Right => x - text_width(font, size, text),
        };
        self.text_at(x, y, font, size, 0.0, text);
    }

    /// Text starting at (x, y) on its baseline, turned `degrees` counter-clockwise.
    pub fn text_at(&mut self, x: f64, y: f64, font: Font, size: f64, degrees: f64, text: &str) {
        if text.is_empty() {
            return;
        }
        self.ops.push(Op::Text { x, y, font, size, degrees, text: text.to_string(), color: self.fill });
    }

    /// `picture` drawn in the box at (x, y) (top-left), `w` by `h` points.
    pub fn image(&mut self, x: f64, y: f64, w: f64, h: f64, picture: &Picture) {
        self.ops.push(Op::Image { x, y, w, h, picture: picture.clone() });
    }

    fn draw(&self, surface: &mut Surface<'_>, fonts: &Fonts) {
        let color = |c: Rgb| rgb::Color::new(c.0, c.1, c.2);
        let fill_with = |s: &mut Surface<'_>, c: Option<Rgb>| {
            s.set_fill(c.map(|c| Fill { paint: color(c).into(), ..Default::default() }));
        };
        let stroke_with = |s: &mut Surface<'_>, c: Option<(Rgb, f64)>| {
            s.set_stroke(c.map(|(c, w)| Stroke { paint: color(c).into(), width: w as f32, ..Default::default() }));
        };
        for op in &self.ops {
            match op {
                Op::Fill { points, close, color } => {
                    if let Some(path) = polyline(points, *close) {
                        fill_with(surface, Some(*color));
                        stroke_with(surface, None);
                        surface.draw_path(&path);
                    }
                }
                Op::Stroke { points, close, color, width } => {
                    if let Some(path) = polyline(points, *close) {
                        fill_with(surface, None);
                        stroke_with(surface, Some((*color, *width)));
                        surface.draw_path(&path);
                    }
                }
                Op::Rect { x, y, w, h, fill, stroke } => {
                    let mut pb = PathBuilder::new();
                    if let Some(rect) = Rect::from_xywh(*x as f32, *y as f32, *w as f32, *h as f32) {
                        pb.push_rect(rect);
                    }
                    if let Some(path) = pb.finish() {
                        fill_with(surface, *fill);
                        stroke_with(surface, *stroke);
                        surface.draw_path(&path);
                    }
                }
                Op::Circle { cx, cy, r, fill, stroke } => {
                    if let Some(path) = circle(*cx, *cy, *r) {
                        fill_with(surface, *fill);
                        stroke_with(surface, *stroke);
                        surface.draw_path(&path);
                    }
                }
                Op::Text { x, y, font, size, degrees, text, color } => {
                    let Some(f) = fonts.get(*font) else { continue };
                    fill_with(surface, Some(*color));
                    stroke_with(surface, None);
                    let turned = *degrees != 0.0;
                    if turned {
                        surface.push_transform(&Transform::from_rotate_at(-*degrees as f32, *x as f32, *y as f32));
                    }
                    surface.draw_text(Point::from_xy(*x as f32, *y as f32), f, *size as f32, text, false, TextDirection::Auto);
                    if turned {
                        surface.pop();
                    }
                }
                Op::Image { x, y, w, h, picture } => {
                    let (Some(image), Some(size)) = (picture.image(), Size::from_wh(*w as f32, *h as f32)) else { continue };
                    surface.push_transform(&Transform::from_translate(*x as f32, *y as f32));
                    surface.draw_image(image, size);
                    surface.pop();
                }
            }
        }
    }
}

fn polyline(points: &[(f64, f64)], close: bool) -> Option<krilla::geom::Path> {
    let mut pb = PathBuilder::new();
    for (i, (x, y)) in points.iter().enumerate() {
        if i == 0 {
            pb.move_to(*x as f32, *y as f32);
        } else {
            pb.line_to(*x as f32, *y as f32);
        }
    }
    if close {
        pb.close();
    }
    pb.finish()
}

/// A circle as four Bézier quarters.
fn circle(cx: f64, cy: f64, r: f64) -> Option<krilla::geom::Path> {
    const K: f64 = 0.552_284_75;
    let k = K * r;
    let f = |v: f64| v as f32;
    let mut pb = PathBuilder::new();
    pb.move_to(f(cx + r), f(cy));
    pb.cubic_to(f(cx + r), f(cy + k), f(cx + k), f(cy + r), f(cx), f(cy + r));
    pb.cubic_to(f(cx - k), f(cy + r), f(cx - r), f(cy + k), f(cx - r), f(cy));
    pb.cubic_to(f(cx - r), f(cy - k), f(cx - k), f(cy - r), f(cx), f(cy - r));
    pb.cubic_to(f(cx + k), f(cy - r), f(cx + r), f(cy - k), f(cx + r), f(cy));
    pb.close();
    pb.finish()
}

struct Fonts {
    regular: Option<krilla::text::Font>,
    bold: Option<krilla::text::Font>,
}

impl Fonts {
    fn load() -> Fonts {
        let load = |f: Font| krilla::text::Font::new(f.bytes().into(), 0);
        Fonts { regular: load(Font::Regular), bold: load(Font::Bold) }
    }

    fn get(&self, font: Font) -> Option<krilla::text::Font> {
        match font {
            Font::Regular => self.regular.clone(),
            Font::Bold => self.bold.clone(),
        }
    }
}

/// A document of A4 pages.
#[derive(Debug, Default)]
pub struct Document {
    pub pages: Vec<Page>,
    pub title: String,
    /// `D:YYYYMMDDHHmmSSZ` (UTC), or empty.
    pub created: String,
}

impl Document {
    pub fn new_page(&mut self) -> &mut Page {
        self.pages.push(Page::default());
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// The PDF file.
    pub fn to_bytes(&self) -> Result<Vec<u8>> {
        let fonts = Fonts::load();
        let mut pdf = krilla::Document::new();
        let mut metadata = Metadata::new().title(self.title.clone()).producer("Relevé".into()).creator("Relevé".into());
        if let Some(date) = creation_date(&self.created) {
            metadata = metadata.creation_date(date);
        }
        pdf.set_metadata(metadata);
        let settings = PageSettings::from_wh(A4.0 as f32, A4.1 as f32)
            .ok_or_else(|| Error::Render { what: "pdf", reason: "page size".into() })?;
        for page in &self.pages {
            let mut p = pdf.start_page_with(settings.clone());
            let mut surface = p.surface();
            page.draw(&mut surface, &fonts);
            surface.finish();
            p.finish();
        }
        pdf.finish().map_err(|e| Error::Render { what: "pdf", reason: format!("{e:?}") })
    }
}

/// `D:YYYYMMDDHHmmSSZ` as krilla's date (UTC).
fn creation_date(s: &str) -> Option<DateTime> {
    let t = chrono::NaiveDateTime::parse_from_str(s.strip_prefix("D:")?.strip_suffix('Z')?, "%Y%m%d%H%M%S").ok()?;
    use chrono::{Datelike, Timelike};
    Some(
        DateTime::new(u16::try_from(t.year()).ok()?)
            .month(t.month() as u8)
            .day(t.day() as u8)
            .hour(t.hour() as u8)
            .minute(t.minute() as u8)
            .second(t.second() as u8)
            .utc_offset_hour(0)
            .utc_offset_minute(0),
    )
}

/// `text` in lines of at most `width` points, cut at spaces; at most `max` lines, the last
/// one cut with an ellipsis if need be.
pub fn wrap(font: Font, size: f64, text: &str, width: f64, max: usize) -> Vec<String> {
    let mut lines: Vec<String> = Vec::new();
    let mut current = String::new();
    for word in text.split(' ') {
        let candidate = if current.is_empty() { word.to_string() } else { format!("{current} {word}") };
        if text_width(font, size, &candidate) <= width || current.is_empty() {
            current = candidate;
        } else {
            lines.push(std::mem::replace(&mut current, word.to_string()));
        }
    }
    lines.push(current);
    if lines.len() > max {
        let rest = lines.split_off(max - 1).join(" ");
        lines.push(rest);
    }
    lines.into_iter().map(|l| fit(font, size, &l, width)).collect()
}

/// The head of a report's first page on A4 with `margin` points each side: an accent bar,
/// `title` in bold with `subtitle` under it, `generated` on the right, a rule below at 82 pt.
pub fn page_heading(page: &mut Page, margin: f64, title: &str, subtitle: &str, generated: &str) {
    page_heading_at(page, margin, 0.0, title, subtitle, generated);
}

/// `page_heading` moved down by `shift` points (under a letterhead): its rule at 82 + shift.
pub fn page_heading_at(page: &mut Page, margin: f64, shift: f64, title: &str, subtitle: &str, generated: &str) {
    let width = A4.0 - 2.0 * margin;
    page.fill_color(ACCENT);
    page.fill_rect(margin, 36.0 + shift, 4.0, 34.0);
    page.fill_color(INK);
    page.text(margin + 12.0, 54.0 + shift, Font::Bold, 19.0, Align::Left, title);
    page.fill_color(MUTED);
    page.text(margin + 12.0, 68.0 + shift, Font::Regular, 10.5, Align::Left, subtitle);
    page.text(margin + width, 54.0 + shift, Font::Regular, 8.5, Align::Right, generated);
    page.stroke_color(RULE);
    page.line_width(0.6);
    page.line(margin, 82.0 + shift, margin + width, 82.0 + shift);
}

/// The footer of an A4 page with `margin` points each side: a rule, then `left` (cut to fit)
/// and `right` (the page number) in small muted type.
pub fn page_footer(page: &mut Page, margin: f64, left: &str, right: &str) {
    let width = A4.0 - 2.0 * margin;
    let y = A4.1 - 30.0;
    page.stroke_color(RULE);
    page.line_width(0.6);
    page.line(margin, y - 12.0, margin + width, y - 12.0);
    page.fill_color(MUTED);
    page.text(margin, y, Font::Regular, 8.0, Align::Left, &fit(Font::Regular, 8.0, left, width - 90.0));
    page.text(margin + width, y, Font::Regular, 8.0, Align::Right, right);
}

/// `text` cut with an ellipsis to fit `width` points.
pub fn fit(font: Font, size: f64, text: &str, width: f64) -> String {
    if text_width(font, size, text) <= width {
        return text.to_string();
    }
    let mut s: String = text.to_string();
    while !s.is_empty() && text_width(font, size, &format!("{s}…")) > width {
        s.pop();
    }
    format!("{}…", s.trim_end())
}

