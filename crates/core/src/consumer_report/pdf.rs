//! A small PDF 1.4 writer: A4 pages drawn with the built-in Helvetica and Helvetica-Bold
//! (WinAnsiEncoding, so French accents need no embedded font), text, lines, rectangles,
//! paths and RGB colours. Content streams are left uncompressed; the cross-reference table
//! holds the byte offset of every object.
//!
//! Page coordinates are points from the TOP-left corner (y grows downwards, like the
//! layout code thinks); the writer turns them into PDF's bottom-up space.

use std::fmt::Write;

/// A4 portrait in points.
pub const A4: (f64, f64) = (595.28, 841.89);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Font {
    Regular,
    Bold,
}

impl Font {
    fn resource(self) -> &'static str {
        match self {
            Font::Regular => "F1",
            Font::Bold => "F2",
        }
    }

    fn base_font(self) -> &'static str {
        match self {
            Font::Regular => "Helvetica",
            Font::Bold => "Helvetica-Bold",
        }
    }

    /// Advance widths (1/1000 em) of WinAnsi codes 32..=255, from Adobe's AFM files.
    fn widths(self) -> &'static [u16; 224] {
        match self {
            Font::Regular => &HELVETICA,
            Font::Bold => &HELVETICA_BOLD,
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

/// The WinAnsi (cp1252) byte of a character; `?` for the ones it lacks.
pub fn win_ansi(c: char) -> u8 {
    let u = c as u32;
    match u {
        0x20..=0x7E | 0xA0..=0xFF => u as u8,
        _ => match c {
            '€' => 0x80,
            '‚' => 0x82,
            '„' => 0x84,
            '…' => 0x85,
            '‰' => 0x89,
            'Š' => 0x8A,
            '‹' => 0x8B,
            'Œ' => 0x8C,
            'Ž' => 0x8E,
            '‘' => 0x91,
            '’' => 0x92,
            '“' => 0x93,
            '”' => 0x94,
            '•' => 0x95,
            '–' => 0x96,
            '—' => 0x97,
            '™' => 0x99,
            'š' => 0x9A,
            '›' => 0x9B,
            'œ' => 0x9C,
            'ž' => 0x9E,
            'Ÿ' => 0x9F,
            // Narrow and thin no-break spaces (French number groups): a no-break space.
            '\u{202F}' | '\u{2009}' => 0xA0,
            _ => b'?',
        },
    }
}

/// Width of `text` in points.
pub fn text_width(font: Font, size: f64, text: &str) -> f64 {
    let widths = font.widths();
    let units: u32 = text.chars().map(|c| u32::from(widths[usize::from(win_ansi(c).max(32)) - 32])).sum();
    f64::from(units) * size / 1000.0
}

/// A PDF literal string of `text` in WinAnsi: `(`, `)` and `\` escaped, other bytes outside
/// printable ASCII as octal, so content streams stay 7-bit.
fn literal(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('(');
    for c in text.chars() {
        match win_ansi(c) {
            b @ (b'(' | b')' | b'\\') => {
                out.push('\\');
                out.push(char::from(b));
            }
            b @ 0x20..=0x7E => out.push(char::from(b)),
            b => {
                let _ = write!(out, "\\{b:03o}");
            }
        }
    }
    out.push(')');
    out
}

/// A number as PDF writes it: at most 3 decimals, no trailing zeros.
fn num(v: f64) -> String {
    let s = format!("{v:.3}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" || s.is_empty() {
        "0".into()
    } else {
        s.to_string()
    }
}

/// How text is placed horizontally relative to its x.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    Left,
    Right,
}

/// One page's content stream.
#[derive(Debug, Default)]
pub struct Page {
    ops: String,
}

impl Page {
    fn y(y: f64) -> f64 {
        A4.1 - y
    }

    fn op(&mut self, s: &str) {
        self.ops.push_str(s);
        self.ops.push('\n');
    }

    pub fn fill_color(&mut self, c: Rgb) {
        let f = |v: u8| num(f64::from(v) / 255.0);
        self.op(&format!("{} {} {} rg", f(c.0), f(c.1), f(c.2)));
    }

    pub fn stroke_color(&mut self, c: Rgb) {
        let f = |v: u8| num(f64::from(v) / 255.0);
        self.op(&format!("{} {} {} RG", f(c.0), f(c.1), f(c.2)));
    }

    pub fn line_width(&mut self, w: f64) {
        self.op(&format!("{} w", num(w)));
    }

    /// A rectangle from its top-left corner, filled with the fill colour.
    pub fn fill_rect(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.op(&format!("{} {} {} {} re f", num(x), num(Self::y(y + h)), num(w), num(h)));
    }

    /// A rectangle's outline in the stroke colour.
    pub fn stroke_rect(&mut self, x: f64, y: f64, w: f64, h: f64) {
        self.op(&format!("{} {} {} {} re S", num(x), num(Self::y(y + h)), num(w), num(h)));
    }

    pub fn line(&mut self, x1: f64, y1: f64, x2: f64, y2: f64) {
        self.op(&format!("{} {} m {} {} l S", num(x1), num(Self::y(y1)), num(x2), num(Self::y(y2))));
    }

    /// A path through `points`; `fill` closes and fills it, otherwise it is stroked open.
    pub fn path(&mut self, points: &[(f64, f64)], fill: bool) {
        let mut s = String::new();
        for (i, (x, y)) in points.iter().enumerate() {
            let _ = write!(s, "{} {} {} ", num(*x), num(Self::y(*y)), if i == 0 { "m" } else { "l" });
        }
        if s.is_empty() {
            return;
        }
        s.push_str(if fill { "h f" } else { "S" });
        self.op(&s);
    }

    /// A circle (four Bézier quarters), filled or stroked.
    pub fn circle(&mut self, cx: f64, cy: f64, r: f64, fill: bool) {
        const K: f64 = 0.552_284_75;
        let (cx, cy) = (cx, Self::y(cy));
        let k = K * r;
        let mut s = format!("{} {} m ", num(cx + r), num(cy));
        let quarters = [
            (cx + r, cy + k, cx + k, cy + r, cx, cy + r),
            (cx - k, cy + r, cx - r, cy + k, cx - r, cy),
            (cx - r, cy - k, cx - k, cy - r, cx, cy - r),
            (cx + k, cy - r, cx + r, cy - k, cx + r, cy),
        ];
        for (a, b, c, d, e, f) in quarters {
            let _ = write!(s, "{} {} {} {} {} {} c ", num(a), num(b), num(c), num(d), num(e), num(f));
        }
        s.push_str(if fill { "f" } else { "S" });
        self.op(&s);
    }

    /// Text with its baseline at `y`, in the fill colour.
    pub fn text(&mut self, x: f64, y: f64, font: Font, size: f64, align: Align, text: &str) {
        let w = text_width(font, size, text);
        let x = match align {
            Align::Left => x,
            Align::Right => x - w,
        };
        self.text_at(x, y, font, size, 0.0, text);
    }

    /// Text starting at (x, y) on its baseline, turned `degrees` counter-clockwise.
    pub fn text_at(&mut self, x: f64, y: f64, font: Font, size: f64, degrees: f64, text: &str) {
        let (sin, cos) = degrees.to_radians().sin_cos();
        self.op(&format!(
            "BT /{} {} Tf {} {} {} {} {} {} Tm {} Tj ET",
            font.resource(),
            num(size),
            num(cos),
            num(sin),
            num(-sin),
            num(cos),
            num(x),
            num(Self::y(y)),
            literal(text)
        ));
    }
}

/// A document of A4 pages.
#[derive(Debug, Default)]
pub struct Document {
    pub pages: Vec<Page>,
    pub title: String,
    /// `D:YYYYMMDDHHmmSSZ`, or empty.
    pub created: String,
}

impl Document {
    pub fn new_page(&mut self) -> &mut Page {
        self.pages.push(Page::default());
        let last = self.pages.len() - 1;
        &mut self.pages[last]
    }

    /// The file: header, objects, cross-reference table with their byte offsets, trailer.
    pub fn to_bytes(&self) -> Vec<u8> {
        // Objects 1 catalog, 2 page tree, 3-4 fonts, 5 info, then a page and its content each.
        let page_ids: Vec<usize> = (0..self.pages.len()).map(|i| 6 + 2 * i).collect();
        let mut objects: Vec<Vec<u8>> = Vec::new();
        objects.push(b"<< /Type /Catalog /Pages 2 0 R >>".to_vec());
        let kids: Vec<String> = page_ids.iter().map(|id| format!("{id} 0 R")).collect();
        objects.push(format!("<< /Type /Pages /Kids [{}] /Count {} >>", kids.join(" "), self.pages.len()).into_bytes());
        for font in [Font::Regular, Font::Bold] {
            objects.push(
                format!("<< /Type /Font /Subtype /Type1 /BaseFont /{} /Encoding /WinAnsiEncoding >>", font.base_font())
                    .into_bytes(),
            );
        }
        let mut info = format!("<< /Title {} /Producer {}", literal(&self.title), literal("Relevé"));
        if !self.created.is_empty() {
            let _ = write!(info, " /CreationDate {}", literal(&self.created));
        }
        info.push_str(" >>");
        objects.push(info.into_bytes());
        for (page, id) in self.pages.iter().zip(&page_ids) {
            objects.push(
                format!(
                    "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {} {}] /Resources << /Font << /F1 3 0 R /F2 4 0 R >> >> /Contents {} 0 R >>",
                    num(A4.0),
                    num(A4.1),
                    id + 1
                )
                .into_bytes(),
            );
            let mut stream = format!("<< /Length {} >>\nstream\n", page.ops.len()).into_bytes();
            stream.extend_from_slice(page.ops.as_bytes());
            stream.extend_from_slice(b"\nendstream");
            objects.push(stream);
        }
        let mut out: Vec<u8> = b"%PDF-1.4\n%\xE2\xE3\xCF\xD3\n".to_vec();
        let mut offsets = Vec::with_capacity(objects.len());
        for (i, body) in objects.iter().enumerate() {
            offsets.push(out.len());
            out.extend_from_slice(format!("{} 0 obj\n", i + 1).as_bytes());
            out.extend_from_slice(body);
            out.extend_from_slice(b"\nendobj\n");
        }
        let xref = out.len();
        let mut table = format!("xref\n0 {}\n0000000000 65535 f \n", objects.len() + 1);
        for o in &offsets {
            let _ = writeln!(table, "{o:010} 00000 n ");
        }
        let _ = write!(
            table,
            "trailer\n<< /Size {} /Root 1 0 R /Info 5 0 R >>\nstartxref\n{xref}\n%%EOF\n",
            objects.len() + 1
        );
        out.extend_from_slice(table.as_bytes());
        out
    }
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
    let width = A4.0 - 2.0 * margin;
    page.fill_color(ACCENT);
    page.fill_rect(margin, 36.0, 4.0, 34.0);
    page.fill_color(INK);
    page.text(margin + 12.0, 54.0, Font::Bold, 19.0, Align::Left, title);
    page.fill_color(MUTED);
    page.text(margin + 12.0, 68.0, Font::Regular, 10.5, Align::Left, subtitle);
    page.text(margin + width, 54.0, Font::Regular, 8.5, Align::Right, generated);
    page.stroke_color(RULE);
    page.line_width(0.6);
    page.line(margin, 82.0, margin + width, 82.0);
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

const HELVETICA: [u16; 224] = [
    278, 278, 355, 556, 556, 889, 667, 191, 333, 333, 389, 584, 278, 333, 278, 278, //
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 278, 278, 584, 584, 584, 556, //
    1015, 667, 667, 722, 722, 667, 611, 778, 722, 278, 500, 667, 556, 833, 722, 778, //
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 278, 278, 278, 469, 556, //
    333, 556, 556, 500, 556, 556, 278, 556, 556, 222, 222, 500, 222, 833, 556, 556, //
    556, 556, 333, 500, 278, 556, 500, 722, 500, 500, 500, 334, 260, 334, 584, 350, //
    556, 350, 222, 556, 333, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350, //
    350, 222, 222, 333, 333, 350, 556, 1000, 333, 1000, 500, 333, 944, 350, 500, 667, //
    278, 333, 556, 556, 556, 556, 260, 556, 333, 737, 370, 556, 584, 333, 737, 333, //
    400, 584, 333, 333, 333, 556, 537, 278, 333, 333, 365, 556, 834, 834, 834, 611, //
    667, 667, 667, 667, 667, 667, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, //
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, //
    556, 556, 556, 556, 556, 556, 889, 500, 556, 556, 556, 556, 278, 278, 278, 278, //
    556, 556, 556, 556, 556, 556, 556, 584, 611, 556, 556, 556, 556, 500, 556, 500, //
];

const HELVETICA_BOLD: [u16; 224] = [
    278, 333, 474, 556, 556, 889, 722, 238, 333, 333, 389, 584, 278, 333, 278, 278, //
    556, 556, 556, 556, 556, 556, 556, 556, 556, 556, 333, 333, 584, 584, 584, 611, //
    975, 722, 722, 722, 722, 667, 611, 778, 722, 278, 556, 722, 611, 833, 722, 778, //
    667, 778, 722, 667, 611, 722, 667, 944, 667, 667, 611, 333, 278, 333, 584, 556, //
    333, 556, 611, 556, 611, 556, 333, 611, 611, 278, 278, 556, 278, 889, 611, 611, //
    611, 611, 389, 556, 333, 611, 556, 778, 556, 556, 500, 389, 280, 389, 584, 350, //
    556, 350, 278, 556, 500, 1000, 556, 556, 333, 1000, 667, 333, 1000, 350, 611, 350, //
    350, 278, 278, 500, 500, 350, 556, 1000, 333, 1000, 556, 333, 944, 350, 500, 667, //
    278, 333, 556, 556, 556, 556, 280, 556, 333, 737, 370, 556, 584, 333, 737, 333, //
    400, 584, 333, 333, 333, 611, 556, 278, 333, 333, 365, 556, 834, 834, 834, 611, //
    722, 722, 722, 722, 722, 722, 1000, 722, 667, 667, 667, 667, 278, 278, 278, 278, //
    722, 722, 778, 778, 778, 778, 778, 584, 778, 722, 722, 722, 722, 667, 667, 611, //
    556, 556, 556, 556, 556, 556, 889, 556, 556, 556, 556, 556, 278, 278, 278, 278, //
    611, 611, 611, 611, 611, 611, 611, 584, 611, 611, 611, 611, 611, 556, 611, 556, //
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accents_are_win_ansi_octal_and_parentheses_escaped() {
        assert_eq!(literal("Relevé (n°1) à ç \\"), "(Relev\\351 \\(n\\2601\\) \\340 \\347 \\\\)");
        assert_eq!(literal("€ – œ ☃"), "(\\200 \\226 \\234 ?)");
    }

    #[test]
    fn widths_follow_the_afm_files() {
        // Helvetica: "Aé" = 667 + 556; Helvetica-Bold: "m3" = 889 + 556.
        assert!((text_width(Font::Regular, 10.0, "Aé") - 12.23).abs() < 1e-9);
        assert!((text_width(Font::Bold, 1000.0, "m3") - 1445.0).abs() < 1e-9);
    }

    #[test]
    fn xref_offsets_point_at_their_objects() {
        let mut doc = Document { title: "Test é".into(), ..Default::default() };
        doc.new_page().text(10.0, 20.0, Font::Bold, 12.0, Align::Left, "Hé (1)");
        doc.new_page().fill_rect(1.0, 2.0, 3.0, 4.0);
        let bytes = doc.to_bytes();
        assert!(bytes.starts_with(b"%PDF-1.4\n"));
        // Latin-1 keeps one char per byte, so string offsets are byte offsets.
        let text: String = bytes.iter().map(|&b| char::from(b)).collect();
        let tail = text.rsplit("startxref\n").next().expect("startxref");
        let start: usize = tail.lines().next().and_then(|s| s.parse().ok()).expect("offset");
        let at = |i: usize| text.char_indices().nth(i).map(|(b, _)| b).expect("in file");
        assert!(text[at(start)..].starts_with("xref\n0 10\n"));
        let entries: Vec<String> = text[at(start)..].lines().skip(3).take(9).map(str::to_string).collect();
        for (i, e) in entries.iter().enumerate() {
            let offset: usize = e[..10].parse().expect("offset");
            assert!(text[at(offset)..].starts_with(&format!("{} 0 obj", i + 1)), "object {}", i + 1);
        }
    }
}
