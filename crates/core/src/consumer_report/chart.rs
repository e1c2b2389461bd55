//! The report's bar chart, drawn with plotters on any backend (SVG for HTML, our PDF canvas
//! for PDF): one bar per day or month, the alarm periods as pale red bands behind the bars,
//! meter exchanges as dark vertical lines. An electricity meter's export (A-) hangs below
//! the axis in green, its import (A+) stands above it.

use super::Report;
use crate::error::{Error, Result};
use plotters::coord::Shift;
use plotters::prelude::*;

/// The chart's size in CSS pixels; the PDF canvas draws it `scale` times finer.
pub const WIDTH: u32 = 720;
pub const HEIGHT: u32 = 300;

pub const BAR: RGBColor = RGBColor(0x2F, 0x6D, 0xB5);
/// A bucket not over yet (the current month): the bar, lighter.
pub const PARTIAL_BAR: RGBColor = RGBColor(0xA9, 0xC6, 0xE8);
pub const EXPORT_BAR: RGBColor = RGBColor(0x2E, 0x9E, 0x5B);
pub const ALARM_BAND: RGBColor = RGBColor(0xFA, 0xDB, 0xD8);
pub const ALARM_EDGE: RGBColor = RGBColor(0xC0, 0x39, 0x2B);
pub const EXCHANGE: RGBColor = RGBColor(0x44, 0x44, 0x44);
const GRID: RGBColor = RGBColor(0xDD, 0xDD, 0xDD);
const AXIS: RGBColor = RGBColor(0x88, 0x88, 0x88);
const LABEL: RGBColor = RGBColor(0x33, 0x33, 0x33);

/// Draw the chart on `area` (already sized `WIDTH * scale` by `HEIGHT * scale`).
pub fn draw<DB: DrawingBackend>(area: &DrawingArea<DB, Shift>, r: &Report, family: &str, scale: f64) -> Result<()> {
    let fail = |e: String| Error::Render { what: "chart", reason: e };
    let px = |v: f64| (v * scale).round() as i32;
    area.fill(&WHITE).map_err(|e| fail(e.to_string()))?;
    let n = r.rows.len().max(1);
    let mut values: Vec<f64> = r.rows.iter().filter_map(|row| row.consumption).collect();
    values.extend(r.rows.iter().filter_map(|row| row.export).map(|v| -v));
    let top = values.iter().copied().fold(0.0_f64, f64::max);
    let bottom = values.iter().copied().fold(0.0_f64, f64::min);
    let (bottom, top) = if top - bottom < 1e-9 { (bottom, bottom + 1.0) } else { (bottom, top) };
    let span = top - bottom;
    let (y0, y1) = (if bottom < 0.0 { bottom - span * 0.06 } else { 0.0 }, top + span * 0.08);
    let label_style = (family, 13.0 * scale).into_font().color(&LABEL);
    let mut chart = ChartBuilder::on(area)
        .margin(px(8.0))
        .margin_right(px(16.0))
        .x_label_area_size(px(30.0))
        .y_label_area_size(px(64.0))
        .build_cartesian_2d(-0.5..n as f64 - 0.5, y0..y1)
        .map_err(|e| fail(e.to_string()))?;
    chart
        .draw_series(r.alarms.iter().map(|a| {
            let (mut x0, mut x1) = (r.x_of(a.start), r.x_of(a.end));
            if x1 - x0 < 0.1 {
                (x0, x1) = (x0 - 0.05, x1 + 0.05);
            }
            Rectangle::new([(x0, y0), (x1, y1)], ALARM_BAND.filled())
        }))
        .map_err(|e| fail(e.to_string()))?;
    let step = span / 6.0;
    let decimals = if step >= 1.0 {
        0
    } else if step >= 0.1 {
        1
    } else if step >= 0.01 {
        2
    } else {
        3
    };
    // Export bars hang below the axis; their labels read as quantities, without a sign.
    let y_fmt = |v: &f64| r.locale.number(if r.has_export() { v.abs() } else { *v }, decimals);
    let x_fmt = |x: &f64| {
        let i = x.round();
        match r.rows.get(i as usize) {
            Some(row) if (x - i).abs() < 1e-6 && i >= 0.0 => r.bar_label(row),
            _ => String::new(),
        }
    };
    let y_desc = if r.has_export() {
        format!("A+ / A- ({})", r.unit_label())
    } else {
        format!("{} ({})", r.words().consumption, r.unit_label())
    };
    chart
        .configure_mesh()
        .disable_x_mesh()
        .x_labels(n.min(16))
        .y_labels(6)
        .x_label_formatter(&x_fmt)
        .y_label_formatter(&y_fmt)
        .y_desc(y_desc)
        .label_style(label_style.clone())
        .axis_desc_style(label_style)
        .bold_line_style(GRID.stroke_width(px(1.0).max(1) as u32))
        .light_line_style(TRANSPARENT)
        .axis_style(AXIS.stroke_width(px(1.0).max(1) as u32))
        .set_all_tick_mark_size(px(4.0))
        .draw()
        .map_err(|e| fail(e.to_string()))?;
    let half = if n > 60 { 0.45 } else { 0.36 };
    chart
        .draw_series(r.rows.iter().enumerate().filter_map(|(i, row)| {
            let v = row.consumption?;
            let x = i as f64;
            let color = if row.partial_until.is_some() { PARTIAL_BAR } else { BAR };
            Some(Rectangle::new([(x - half, 0.0), (x + half, v)], color.filled()))
        }))
        .map_err(|e| fail(e.to_string()))?;
    chart
        .draw_series(r.rows.iter().enumerate().filter_map(|(i, row)| {
            let v = row.export?;
            let x = i as f64;
            Some(Rectangle::new([(x - half, 0.0), (x + half, -v)], EXPORT_BAR.filled()))
        }))
        .map_err(|e| fail(e.to_string()))?;
    chart
        .draw_series(r.exchanges.iter().map(|e| {
            let x = r.x_of(e.at);
            PathElement::new(vec![(x, y0), (x, y1)], EXCHANGE.stroke_width(px(2.0).max(1) as u32))
        }))
        .map_err(|e| fail(e.to_string()))?;
    if values.is_empty() {
        let style = (family, 15.0 * scale).into_font().color(&AXIS).pos(plotters_backend::text_anchor::Pos::new(
            plotters_backend::text_anchor::HPos::Center,
            plotters_backend::text_anchor::VPos::Center,
        ));
        chart
            .draw_series(std::iter::once(Text::new(
                r.words().no_data.to_string(),
                ((n as f64 - 1.0) / 2.0, (y0 + y1) / 2.0),
                style,
            )))
            .map_err(|e| fail(e.to_string()))?;
    }
    area.present().map_err(|e| fail(e.to_string()))?;
    Ok(())
}
