//! Writing records: a cell per field, formatted per the field (decimals, implied decimals,
//! dates), then joined as CSV (separator, quoting) or padded to fixed widths. A value that
//! does not fit is a `FieldError` naming the record and the field: nothing is cut.

use super::encoding::Encoding;
use super::layout::{Align, Field, Format, Kind, Layout, Quote, Var};
use chrono::{NaiveDate, TimeZone};
use chrono_tz::Tz;
use serde::Serialize;
use std::borrow::Cow;
use std::fmt::Write as _;

/// The value of a field before formatting.
#[derive(Debug, Clone, PartialEq)]
pub enum Cell<'a> {
    Empty,
    Text(Cow<'a, str>),
    Number(f64),
    /// An exact decimal: `units / 10^scale` (totals).
    Scaled(i128, u8),
    Int(i64),
    Date(NaiveDate),
    /// Unix time, written in the layout's time zone.
    Time(i64),
}

/// Which record of the file a value is in.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Place {
    Header,
    /// The data record of a meter (`row`: 1-based among the data records).
    Data { meter: String, row: u64 },
    Trailer,
}

impl Place {
    /// Header and trailer concern the whole file.
    pub fn is_file_level(&self) -> bool {
        !matches!(self, Place::Data { .. })
    }
}

impl std::fmt::Display for Place {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Place::Header => f.write_str("header"),
            Place::Data { meter, .. } => write!(f, "meter {meter}"),
            Place::Trailer => f.write_str("trailer"),
        }
    }
}

/// Why a value cannot be written. Serialized as `problem` with its own details beside it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "problem", rename_all = "snake_case")]
pub enum Problem {
    /// Longer than the fixed-width field.
    TooWide { width: usize },
    /// Holds a character the layout's encoding cannot write.
    NotEncodable { character: char, encoding: Encoding },
    /// CSV without quoting: holds the separator or a line break.
    UnquotedSeparator { separator: char },
    /// Fixed width: holds a line break or another control character.
    ControlCharacter,
}

impl std::fmt::Display for Problem {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Problem::TooWide { width } => write!(f, "does not fit in {width} characters"),
            Problem::NotEncodable { character, encoding } => {
                write!(f, "has '{character}', which {} cannot write", encoding.id())
            }
            Problem::UnquotedSeparator { separator } => {
                write!(f, "contains the separator '{separator}' or a line break, and quoting is off")
            }
            Problem::ControlCharacter => f.write_str("contains a line break or a control character"),
        }
    }
}

/// A value that cannot be written in its field. As JSON: `{record: "header"|"data"|"trailer",
/// meter?, row?, field, var, value, problem: "too_wide"|"not_encodable"|"unquoted_separator"|
/// "control_character", width?, character?, encoding?, separator?, message}` (`message`: the
/// English sentence, also the `Display`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    pub place: Place,
    /// 1-based position of the field in its record.
    pub field: usize,
    pub var: &'static str,
    pub value: String,
    pub problem: Problem,
}

impl std::fmt::Display for FieldError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}, field {} ({}): \"{}\" {}", self.place, self.field, self.var, self.value, self.problem)
    }
}

impl Serialize for FieldError {
    fn serialize<S: serde::Serializer>(&self, s: S) -> std::result::Result<S::Ok, S::Error> {
        #[derive(Serialize)]
        struct Wire<'a> {
            #[serde(flatten)]
            place: &'a Place,
            field: usize,
            var: &'a str,
            value: &'a str,
            #[serde(flatten)]
            problem: &'a Problem,
            message: String,
        }
        Wire {
            place: &self.place,
            field: self.field,
            var: self.var,
            value: &self.value,
            problem: &self.problem,
            message: self.to_string(),
        }
        .serialize(s)
    }
}

impl FieldError {
    /// The core error of a refused export: `errors` (all of the file's, not empty), of which
    /// the error keeps the first [`crate::error::MAX_FIELD_ERRORS`].
    pub fn into_error(mut errors: Vec<FieldError>) -> crate::Error {
        let count = errors.len();
        errors.truncate(crate::error::MAX_FIELD_ERRORS);
        crate::Error::FieldValues { errors, count }
    }
}

/// Default decimals of a number field.
pub fn default_decimals(var: Var) -> u8 {
    match var {
        Var::Latitude | Var::Longitude => 6,
        _ => 3,
    }
}

/// Writes the records of one layout.
pub struct RecordWriter<'l> {
    layout: &'l Layout,
    tz: Tz,
    decimal: char,
    line_end: &'static str,
    scratch: String,
}

impl<'l> RecordWriter<'l> {
    pub fn new(layout: &'l Layout, tz: Tz) -> RecordWriter<'l> {
        let (decimal, line_end) = match layout.format {
            Format::Csv => (layout.csv.decimal, layout.csv.line_end.as_str()),
            Format::Fixed => (layout.fixed.decimal, layout.fixed.line_end.as_str()),
        };
        RecordWriter { layout, tz, decimal, line_end, scratch: String::new() }
    }

    pub fn line_end(&self) -> &'static str {
        self.line_end
    }

    /// The CSV line of column labels (without line end).
    pub fn labels(&mut self, out: &mut String) {
        let fields = &self.layout.fields;
        for (i, f) in fields.iter().enumerate() {
            if i > 0 {
                out.push(self.layout.csv.separator);
            }
            let label = f.label.as_deref().unwrap_or(f.var.id());
            self.push_csv(out, label);
        }
    }

    /// Append one record (without line end) to `out`. Values that do not fit are written
    /// whole (the line is then longer: a preview shows it) and reported in `errors`.
    pub fn record(
        &mut self,
        out: &mut String,
        place: &dyn Fn() -> Place,
        fields: &[Field],
        cells: &[Cell<'_>],
        errors: &mut Vec<FieldError>,
    ) {
        for (i, (f, cell)) in fields.iter().zip(cells).enumerate() {
            let mut text = std::mem::take(&mut self.scratch);
            text.clear();
            self.cell_text(&mut text, f, cell);
            let error = |problem: Problem| FieldError {
                place: place(),
                field: i + 1,
                var: f.var.id(),
                value: text.clone(),
                problem,
            };
            match self.layout.format {
                Format::Csv => {
                    if i > 0 {
                        out.push(self.layout.csv.separator);
                    }
                    let sep = self.layout.csv.separator;
                    if let Some(c) = self.layout.encoding.unwritable(&text) {
                        errors.push(error(Problem::NotEncodable { character: c, encoding: self.layout.encoding }));
                    }
                    if self.layout.csv.quote == Quote::Never && text.contains([sep, '\r', '\n']) {
                        errors.push(error(Problem::UnquotedSeparator { separator: sep }));
                    }
                    self.push_csv(out, &text);
                }
                Format::Fixed => {
                    let width = f.width.unwrap_or(0);
                    if let Some(c) = self.layout.encoding.unwritable(&text) {
                        errors.push(error(Problem::NotEncodable { character: c, encoding: self.layout.encoding }));
                    }
                    let len = text.chars().count();
                    if text.chars().any(char::is_control) {
                        errors.push(error(Problem::ControlCharacter));
                    }
                    if len > width {
                        errors.push(error(Problem::TooWide { width }));
                        out.push_str(&text);
                    } else {
                        pad(out, &text, len, width, f, cell);
                    }
                }
            }
            self.scratch = text;
        }
    }

    fn push_csv(&self, out: &mut String, text: &str) {
        let sep = self.layout.csv.separator;
        let quote = match self.layout.csv.quote {
            Quote::Always => true,
            Quote::Never => false,
            Quote::Necessary => text.contains([sep, '"', '\r', '\n']),
        };
        if quote {
            out.push('"');
            for c in text.chars() {
                if c == '"' {
                    out.push('"');
                }
                out.push(c);
            }
            out.push('"');
        } else {
            out.push_str(text);
        }
    }

    /// The field's text, before padding or quoting.
    fn cell_text(&self, out: &mut String, f: &Field, cell: &Cell<'_>) {
        let kind = f.var.kind();
        match cell {
            Cell::Empty => {}
            Cell::Text(t) => out.push_str(t),
            Cell::Int(i) => {
                let _ = write!(out, "{i}");
            }
            Cell::Number(v) => {
                let d = if kind == Kind::Integer { 0 } else { f.decimals.unwrap_or(default_decimals(f.var)) };
                let units = (v * 10f64.powi(i32::from(d))).round() as i128;
                push_scaled(out, units, d, self.decimal, f.implied_decimals);
            }
            Cell::Scaled(units, d) => push_scaled(out, *units, *d, self.decimal, f.implied_decimals),
            Cell::Date(d) => {
                let pattern = f.date_format.as_deref().unwrap_or(&self.layout.date_format);
                let _ = write!(out, "{}", d.format(pattern));
            }
            Cell::Time(ts) => {
                let pattern = f.date_format.as_deref().unwrap_or(&self.layout.datetime_format);
                if let Some(t) = self.tz.timestamp_opt(*ts, 0).single() {
                    let _ = write!(out, "{}", t.format(pattern));
                }
            }
        }
    }
}

/// `units / 10^scale` with the decimal mark, or without it (implied decimals).
pub fn push_scaled(out: &mut String, units: i128, scale: u8, mark: char, implied: bool) {
    if units < 0 {
        out.push('-');
    }
    let abs = units.unsigned_abs();
    let div = 10u128.pow(u32::from(scale));
    let _ = write!(out, "{}", abs / div);
    if scale > 0 {
        if !implied {
            out.push(mark);
        }
        let _ = write!(out, "{:0width$}", abs % div, width = usize::from(scale));
    }
}

/// Pad `text` (`len` characters) to `width`: numbers right-aligned, text left-aligned by
/// default; a zero-padded negative number keeps its sign first. An empty value is blank.
fn pad(out: &mut String, text: &str, len: usize, width: usize, f: &Field, cell: &Cell<'_>) {
    let numeric = matches!(cell, Cell::Number(_) | Cell::Scaled(..) | Cell::Int(_));
    let align = f.align.unwrap_or(if numeric { Align::Right } else { Align::Left });
    let fill = if text.is_empty() { ' ' } else { f.pad.unwrap_or(' ') };
    let n = width - len;
    match align {
        Align::Left => {
            out.push_str(text);
            out.extend(std::iter::repeat_n(fill, n));
        }
        Align::Right => {
            let (sign, digits) = match text.strip_prefix('-') {
                Some(rest) if numeric && fill == '0' => ("-", rest),
                _ => ("", text),
            };
            out.push_str(sign);
            out.extend(std::iter::repeat_n(fill, n));
            out.push_str(digits);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::billing::layout::{Field, Layout, Var};

    fn check(layout: &Layout, cells: &[Cell<'_>], expected: &str) {
        let mut w = RecordWriter::new(layout, chrono_tz::Europe::Paris);
        let (mut out, mut errors) = (String::new(), Vec::new());
        w.record(&mut out, &|| data("1"), &layout.fields, cells, &mut errors);
        assert!(errors.is_empty(), "{errors:?}");
        assert_eq!(out, expected);
    }

    fn data(meter: &str) -> Place {
        Place::Data { meter: meter.into(), row: 1 }
    }

    fn fixed(fields: Vec<Field>) -> Layout {
        Layout::new("t", Format::Fixed, fields)
    }

    #[test]
    fn numbers_round_and_take_the_mark_or_imply_it() {
        let l = Layout::new("t", Format::Csv, vec![Field::new(Var::ValueEnd); 3]);
        check(&l, &[Cell::Number(123.4567), Cell::Number(-0.0001), Cell::Number(2.0)], "123,457;0,000;2,000");
        let f = Field { width: Some(8), pad: Some('0'), implied_decimals: true, ..Field::new(Var::ValueEnd) };
        let l = fixed(vec![f.clone(), Field { decimals: Some(1), ..f.clone() }, f]);
        check(&l, &[Cell::Number(123.456), Cell::Number(-12.34), Cell::Number(-1.5)], "00123456-0000123-0001500");
    }

    #[test]
    fn fixed_fields_pad_by_kind_and_blank_when_empty() {
        let w = |var, width| Field { width: Some(width), ..Field::new(var) };
        let l = fixed(vec![w(Var::MeterSerial, 10), w(Var::ValueEnd, 9), w(Var::ValueStart, 4), w(Var::City, 3)]);
        check(
            &l,
            &[Cell::Text("123".into()), Cell::Number(1.5), Cell::Empty, Cell::Text("Pau".into())],
            "123           1,500    Pau",
        );
        let right = Field { align: Some(Align::Right), pad: Some('*'), ..w(Var::Text, 5) };
        check(&fixed(vec![right]), &[Cell::Text("ab".into())], "***ab");
    }

    #[test]
    fn csv_quotes_what_needs_it() {
        let mut l = Layout::new("t", Format::Csv, vec![Field::new(Var::Address); 3]);
        check(&l, &[Cell::Text("1; rue \"A\"".into()), Cell::Text("x".into()), Cell::Empty], "\"1; rue \"\"A\"\"\";x;");
        l.csv.quote = Quote::Always;
        check(&l, &[Cell::Text("a".into()), Cell::Empty, Cell::Int(3)], "\"a\";\"\";\"3\"");
    }

    #[test]
    fn a_value_too_wide_is_an_error_naming_meter_and_field() {
        let l = fixed(vec![
            Field { width: Some(3), ..Field::new(Var::MeterSerial) },
            Field { width: Some(8), ..Field::new(Var::ValueEnd) },
        ]);
        let mut w = RecordWriter::new(&l, chrono_tz::Europe::Paris);
        let (mut out, mut errors) = (String::new(), Vec::new());
        w.record(
            &mut out,
            &|| data("12345678"),
            &l.fields,
            &[Cell::Text("abc".into()), Cell::Number(1234567.89)],
            &mut errors,
        );
        assert_eq!(errors.len(), 1);
        assert_eq!(
            errors[0].to_string(),
            "meter 12345678, field 2 (value_end): \"1234567,890\" does not fit in 8 characters"
        );
        assert_eq!(
            serde_json::to_value(&errors[0]).expect("json"),
            serde_json::json!({
                "record": "data", "meter": "12345678", "row": 1, "field": 2, "var": "value_end",
                "value": "1234567,890", "problem": "too_wide", "width": 8,
                "message": "meter 12345678, field 2 (value_end): \"1234567,890\" does not fit in 8 characters"
            })
        );
    }

    #[test]
    fn never_quoted_csv_refuses_a_separator_in_a_value() {
        let mut l = Layout::new("t", Format::Csv, vec![Field::new(Var::Address)]);
        l.csv.quote = Quote::Never;
        let mut w = RecordWriter::new(&l, chrono_tz::Europe::Paris);
        let (mut out, mut errors) = (String::new(), Vec::new());
        w.record(&mut out, &|| data("1"), &l.fields, &[Cell::Text("a;b".into())], &mut errors);
        assert_eq!(errors.len(), 1, "{out}");
        assert_eq!(errors[0].problem, Problem::UnquotedSeparator { separator: ';' });
    }

    #[test]
    fn header_errors_name_the_record_and_what_the_encoding_lacks() {
        let mut l = fixed(vec![Field { width: Some(4), text: Some("Łódź".into()), ..Field::new(Var::Text) }]);
        l.encoding = Encoding::Windows1252;
        let mut w = RecordWriter::new(&l, chrono_tz::Europe::Paris);
        let (mut out, mut errors) = (String::new(), Vec::new());
        w.record(&mut out, &|| Place::Header, &l.fields, &[Cell::Text("Łódź".into())], &mut errors);
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0].to_string(), "header, field 1 (text): \"Łódź\" has 'Ł', which windows-1252 cannot write");
        let json = serde_json::to_value(&errors[0]).expect("json");
        assert_eq!(json["record"], "header");
        assert_eq!((json["problem"].as_str(), json["character"].as_str()), (Some("not_encodable"), Some("Ł")));
        assert_eq!(json["encoding"], "windows-1252");
        assert!(json.get("meter").is_none(), "{json}");
    }
}
