//! A plotters `DrawingBackend` that writes PDF path and text operators onto a page, so the
//! chart stays vector in the PDF. Backend units are `unit` points, placed from `origin`
//! (top-left of the chart on the page); text is Liberation Sans, measured as krilla sets it.

use super::pdf::{text_width, Font, Page, Rgb};
use plotters_backend::text_anchor::{HPos, VPos};
use plotters_backend::{
    BackendColor, BackendCoord, BackendStyle, BackendTextStyle, DrawingBackend, DrawingErrorKind, FontStyle,
    FontTransform,
};
use std::convert::Infallible;

/// plotters sizes text in "size" units; a font's em is `size / 1.24` (as plotters' SVG does).
const EM_PER_SIZE: f64 = 1.0 / 1.24;

pub struct PdfCanvas<'a> {
    pub page: &'a mut Page,
    /// Top-left of the drawing on the page, points.
    pub origin: (f64, f64),
    /// Points per backend unit.
    pub unit: f64,
    /// Size in backend units.
    pub size: (u32, u32),
}

type Outcome = Result<(), DrawingErrorKind<Infallible>>;

/// A colour with its transparency mixed into white (the chart is drawn on white).
fn rgb(c: BackendColor) -> Rgb {
    let a = c.alpha.clamp(0.0, 1.0);
    let mix = |v: u8| (f64::from(v) * a + 255.0 * (1.0 - a)).round() as u8;
    Rgb(mix(c.rgb.0), mix(c.rgb.1), mix(c.rgb.2))
}

impl PdfCanvas<'_> {
    fn at(&self, p: BackendCoord) -> (f64, f64) {
        (self.origin.0 + f64::from(p.0) * self.unit, self.origin.1 + f64::from(p.1) * self.unit)
    }

    fn stroke<S: BackendStyle>(&mut self, style: &S) {
        self.page.stroke_color(rgb(style.color()));
        self.page.line_width(f64::from(style.stroke_width().max(1)) * self.unit);
    }
}

impl DrawingBackend for PdfCanvas<'_> {
    type ErrorType = Infallible;

    fn get_size(&self) -> (u32, u32) {
        self.size
    }

    fn ensure_prepared(&mut self) -> Outcome {
        Ok(())
    }

    fn present(&mut self) -> Outcome {
        Ok(())
    }

    fn draw_pixel(&mut self, point: BackendCoord, color: BackendColor) -> Outcome {
        if color.alpha > 0.0 {
            let (x, y) = self.at(point);
            self.page.fill_color(rgb(color));
            self.page.fill_rect(x, y, self.unit, self.unit);
        }
        Ok(())
    }

    fn draw_line<S: BackendStyle>(&mut self, from: BackendCoord, to: BackendCoord, style: &S) -> Outcome {
        if style.color().alpha > 0.0 {
            self.stroke(style);
            let ((x1, y1), (x2, y2)) = (self.at(from), self.at(to));
            self.page.line(x1, y1, x2, y2);
        }
        Ok(())
    }

    fn draw_rect<S: BackendStyle>(
        &mut self,
        upper_left: BackendCoord,
        bottom_right: BackendCoord,
        style: &S,
        fill: bool,
    ) -> Outcome {
        if style.color().alpha == 0.0 {
            return Ok(());
        }
        let ((x1, y1), (x2, y2)) = (self.at(upper_left), self.at(bottom_right));
        let (x, y, w, h) = (x1.min(x2), y1.min(y2), (x2 - x1).abs(), (y2 - y1).abs());
        if fill {
            self.page.fill_color(rgb(style.color()));
            self.page.fill_rect(x, y, w, h);
        } else {
            self.stroke(style);
            self.page.stroke_rect(x, y, w, h);
        }
        Ok(())
    }

    fn draw_path<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, path: I, style: &S) -> Outcome {
        if style.color().alpha > 0.0 {
            let points: Vec<(f64, f64)> = path.into_iter().map(|p| self.at(p)).collect();
            self.stroke(style);
            self.page.path(&points, false);
        }
        Ok(())
    }

    fn fill_polygon<S: BackendStyle, I: IntoIterator<Item = BackendCoord>>(&mut self, vert: I, style: &S) -> Outcome {
        if style.color().alpha > 0.0 {
            let points: Vec<(f64, f64)> = vert.into_iter().map(|p| self.at(p)).collect();
            self.page.fill_color(rgb(style.color()));
            self.page.path(&points, true);
        }
        Ok(())
    }

    fn draw_circle<S: BackendStyle>(&mut self, center: BackendCoord, radius: u32, style: &S, fill: bool) -> Outcome {
        if style.color().alpha > 0.0 {
            let (x, y) = self.at(center);
            if fill {
                self.page.fill_color(rgb(style.color()));
            } else {
                self.stroke(style);
            }
            self.page.circle(x, y, f64::from(radius) * self.unit, fill);
        }
        Ok(())
    }

    fn draw_text<S: BackendTextStyle>(&mut self, text: &str, style: &S, pos: BackendCoord) -> Outcome {
        let color = style.color();
        if color.alpha == 0.0 {
            return Ok(());
        }
        let font = if matches!(style.style(), FontStyle::Bold) { Font::Bold } else { Font::Regular };
        let em = style.size() * EM_PER_SIZE;
        let width = text_width(font, em, text);
        // Offsets in the text's own frame (y down), like plotters' SVG backend places text.
        let dx = match style.anchor().h_pos {
            HPos::Left => 0.0,
            HPos::Center => -width / 2.0,
            HPos::Right => -width,
        };
        let dy = match style.anchor().v_pos {
            VPos::Top => 0.76 * em,
            VPos::Center => 0.26 * em,
            VPos::Bottom => -0.26 * em,
        };
        // Clockwise turn on screen (plotters' and SVG's sense).
        let turn: f64 = match style.transform() {
            FontTransform::Rotate90 => 90.0,
            FontTransform::Rotate180 => 180.0,
            FontTransform::Rotate270 => 270.0,
            _ => 0.0,
        };
        let (sin, cos) = turn.to_radians().sin_cos();
        let (ox, oy) = (dx * cos - dy * sin, dx * sin + dy * cos);
        let x = self.origin.0 + (f64::from(pos.0) + ox) * self.unit;
        let y = self.origin.1 + (f64::from(pos.1) + oy) * self.unit;
        self.page.fill_color(rgb(color));
        // On the page y grows upwards, so a clockwise turn is a negative angle.
        self.page.text_at(x, y, font, em * self.unit, -turn, text);
        Ok(())
    }

    fn estimate_text_size<S: BackendTextStyle>(
        &self,
        text: &str,
        style: &S,
    ) -> Result<(u32, u32), DrawingErrorKind<Infallible>> {
        let font = if matches!(style.style(), FontStyle::Bold) { Font::Bold } else { Font::Regular };
        let em = style.size() * EM_PER_SIZE;
        Ok((text_width(font, em, text).ceil() as u32, em.ceil() as u32))
    }
}
