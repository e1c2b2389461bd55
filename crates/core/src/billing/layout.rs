//! Export layouts: the saved description of a billing file (variables, order, CSV or fixed
//! width options, header and trailer records) and its check before use.

use super::encoding::Encoding;
use crate::error::{Error, Result};
use crate::model::Register;
use serde::{Deserialize, Serialize};

/// A billing-export layout as saved in `export_layouts.definition` (JSON).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Layout {
    pub name: String,
    #[serde(default)]
    pub format: Format,
    /// The file's character set ("utf-8" or "windows-1252"); fixed widths count characters,
    /// which are bytes in windows-1252.
    #[serde(default)]
    pub encoding: Encoding,
    #[serde(default)]
    pub csv: CsvOptions,
    #[serde(default)]
    pub fixed: FixedOptions,
    #[serde(default = "default_date_format")]
    pub date_format: String,
    #[serde(default = "default_datetime_format")]
    pub datetime_format: String,
    #[serde(default)]
    pub billing: BillingOptions,
    #[serde(default)]
    pub group_id: Option<i64>,
    pub fields: Vec<Field>,
    #[serde(default)]
    pub header: Vec<Field>,
    #[serde(default)]
    pub trailer: Vec<Field>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Format {
    #[default]
    Csv,
    Fixed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct CsvOptions {
    pub separator: char,
    pub quote: Quote,
    /// Decimal mark of numbers (also used by fixed-width fields without implied decimals).
    pub decimal: char,
    /// A line of column labels (after the header record, if any).
    pub header: bool,
    pub line_end: LineEnd,
}

impl Default for CsvOptions {
    fn default() -> Self {
        CsvOptions { separator: ';', quote: Quote::Necessary, decimal: ',', header: true, line_end: LineEnd::Crlf }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Quote {
    #[default]
    Necessary,
    Always,
    Never,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct FixedOptions {
    pub line_end: LineEnd,
    /// Decimal mark of numbers written without implied decimals.
    pub decimal: char,
}

impl Default for FixedOptions {
    fn default() -> Self {
        FixedOptions { line_end: LineEnd::Crlf, decimal: ',' }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LineEnd {
    #[default]
    Crlf,
    Lf,
}

impl LineEnd {
    pub fn as_str(self) -> &'static str {
        match self {
            LineEnd::Crlf => "\r\n",
            LineEnd::Lf => "\n",
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(default, deny_unknown_fields)]
pub struct BillingOptions {
    /// A reading this close to the billing date (either side) is its value.
    pub tolerance_hours: u32,
    /// Without a reading close enough: interpolate between the readings around the date.
    pub interpolate: bool,
}

impl Default for BillingOptions {
    fn default() -> Self {
        BillingOptions { tolerance_hours: 48, interpolate: true }
    }
}

/// One field of a record: a variable and how it is written.
#[derive(Debug, Clone, PartialEq, Default, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Field {
    pub var: Var,
    /// Register id (`volume`, `energy`, ...) for register-bound variables; none = the
    /// meter's main register.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub register: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub label: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub width: Option<usize>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub align: Option<Align>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pad: Option<char>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub decimals: Option<u8>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub implied_decimals: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub date_format: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub text: Option<String>,
}

impl Field {
    pub fn new(var: Var) -> Field {
        Field { var, ..Field::default() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Align {
    Left,
    Right,
}

/// What a field holds. Data records use the meter variables; header and trailer records the
/// file variables (`record_count`, totals) and the common ones (`text`, period, export date).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Var {
    CustomerNumber,
    CustomerName,
    CustomerEmail,
    CustomerPhone,
    MeterSerial,
    Manufacturer,
    DeviceType,
    Address,
    PostalCode,
    City,
    Latitude,
    Longitude,
    ValueStart,
    ValueEnd,
    Consumption,
    ReadingTimeStart,
    ReadingTimeEnd,
    SourceStart,
    SourceEnd,
    Unit,
    InfoCodes,
    InfoCodesNow,
    ExchangeDate,
    ExchangeOldSerial,
    ExchangeOldFinal,
    ExchangeNewInitial,
    #[default]
    Text,
    RowNumber,
    PeriodFrom,
    PeriodTo,
    ExportDate,
    RecordCount,
    TotalConsumption,
    TotalValueEnd,
}

/// What kind of value a variable holds: decides default alignment and formatting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Kind {
    Text,
    Number,
    Integer,
    Date,
    DateTime,
}

/// Where a variable may be used.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Scope {
    Record,
    Header,
    Trailer,
}

/// A variable as `export_variables` lists it.
#[derive(Debug, Clone, Serialize)]
pub struct VarInfo {
    pub id: &'static str,
    pub label_en: &'static str,
    pub label_fr: &'static str,
    pub kind: Kind,
    pub register_bound: bool,
    /// The registers a register-bound variable may read (index registers, electricity's
    /// A+ and A- and their tariffs), for the editor; empty for the others.
    pub registers: Vec<&'static str>,
    pub scopes: Vec<Scope>,
}

impl Var {
    pub const ALL: [Var; 34] = [
        Var::CustomerNumber,
        Var::CustomerName,
        Var::CustomerEmail,
        Var::CustomerPhone,
        Var::MeterSerial,
        Var::Manufacturer,
        Var::DeviceType,
        Var::Address,
        Var::PostalCode,
        Var::City,
        Var::Latitude,
        Var::Longitude,
        Var::ValueStart,
        Var::ValueEnd,
        Var::Consumption,
        Var::ReadingTimeStart,
        Var::ReadingTimeEnd,
        Var::SourceStart,
        Var::SourceEnd,
        Var::Unit,
        Var::InfoCodes,
        Var::InfoCodesNow,
        Var::ExchangeDate,
        Var::ExchangeOldSerial,
        Var::ExchangeOldFinal,
        Var::ExchangeNewInitial,
        Var::Text,
        Var::RowNumber,
        Var::PeriodFrom,
        Var::PeriodTo,
        Var::ExportDate,
        Var::RecordCount,
        Var::TotalConsumption,
        Var::TotalValueEnd,
    ];

    /// The id used in layouts (`value_end`, ...).
    pub fn id(self) -> &'static str {
        self.info_parts().0
    }

    /// (id, English label, French label, kind).
    fn info_parts(self) -> (&'static str, &'static str, &'static str, Kind) {
        use Kind::*;
        match self {
            Var::CustomerNumber => ("customer_number", "Customer number", "N° client", Text),
            Var::CustomerName => ("customer_name", "Customer name", "Nom du client", Text),
            Var::CustomerEmail => ("customer_email", "Customer e-mail", "E-mail du client", Text),
            Var::CustomerPhone => ("customer_phone", "Customer phone", "Téléphone du client", Text),
            Var::MeterSerial => ("meter_serial", "Meter serial", "N° de compteur", Text),
            Var::Manufacturer => ("manufacturer", "Manufacturer", "Fabricant", Text),
            Var::DeviceType => ("device_type", "Meter type", "Type de compteur", Text),
            Var::Address => ("address", "Installation address", "Adresse du point de comptage", Text),
            Var::PostalCode => ("postal_code", "Postal code", "Code postal", Text),
            Var::City => ("city", "City", "Ville", Text),
            Var::Latitude => ("latitude", "Latitude", "Latitude", Number),
            Var::Longitude => ("longitude", "Longitude", "Longitude", Number),
            Var::ValueStart => ("value_start", "Value at start date", "Index au début", Number),
            Var::ValueEnd => ("value_end", "Value at billing date", "Index à la date de facturation", Number),
            Var::Consumption => ("consumption", "Consumption in the period", "Consommation de la période", Number),
            Var::ReadingTimeStart => ("reading_time_start", "Reading time (start)", "Date du relevé (début)", DateTime),
            Var::ReadingTimeEnd => ("reading_time_end", "Reading time (end)", "Date du relevé (fin)", DateTime),
            Var::SourceStart => ("source_start", "Source of start value", "Origine de l'index de début", Text),
            Var::SourceEnd => ("source_end", "Source of end value", "Origine de l'index de fin", Text),
            Var::Unit => ("unit", "Unit", "Unité", Text),
            Var::InfoCodes => ("info_codes", "Info codes in the period", "Codes info de la période", Text),
            Var::InfoCodesNow => ("info_codes_now", "Active info codes", "Codes info actifs", Text),
            Var::ExchangeDate => ("exchange_date", "Meter exchange date", "Date d'échange du compteur", DateTime),
            Var::ExchangeOldSerial => ("exchange_old_serial", "Replaced meter serial", "N° du compteur déposé", Text),
            Var::ExchangeOldFinal => ("exchange_old_final", "Replaced meter final index", "Index de dépose", Number),
            Var::ExchangeNewInitial => ("exchange_new_initial", "New meter initial index", "Index de pose", Number),
            Var::Text => ("text", "Fixed text", "Texte fixe", Text),
            Var::RowNumber => ("row_number", "Row number", "N° de ligne", Integer),
            Var::PeriodFrom => ("period_from", "Period start", "Début de période", Date),
            Var::PeriodTo => ("period_to", "Period end (billing date)", "Fin de période (date de facturation)", Date),
            Var::ExportDate => ("export_date", "Export date", "Date d'export", Date),
            Var::RecordCount => ("record_count", "Record count", "Nombre d'enregistrements", Integer),
            Var::TotalConsumption => ("total_consumption", "Total consumption", "Consommation totale", Number),
            Var::TotalValueEnd => ("total_value_end", "Total of end values", "Total des index de fin", Number),
        }
    }

    pub fn kind(self) -> Kind {
        self.info_parts().3
    }

    /// Variables that read one register of the meter.
    pub fn register_bound(self) -> bool {
        matches!(
            self,
            Var::ValueStart
                | Var::ValueEnd
                | Var::Consumption
                | Var::ReadingTimeStart
                | Var::ReadingTimeEnd
                | Var::SourceStart
                | Var::SourceEnd
                | Var::Unit
                | Var::ExchangeOldFinal
                | Var::ExchangeNewInitial
                | Var::TotalConsumption
                | Var::TotalValueEnd
        )
    }

    pub fn scopes(self) -> Vec<Scope> {
        match self {
            Var::Text | Var::PeriodFrom | Var::PeriodTo | Var::ExportDate => {
                vec![Scope::Record, Scope::Header, Scope::Trailer]
            }
            Var::RecordCount | Var::TotalConsumption | Var::TotalValueEnd => vec![Scope::Header, Scope::Trailer],
            _ => vec![Scope::Record],
        }
    }

    pub fn info(self) -> VarInfo {
        let (id, label_en, label_fr, kind) = self.info_parts();
        let registers = if self.register_bound() { billable_registers() } else { Vec::new() };
        VarInfo { id, label_en, label_fr, kind, register_bound: self.register_bound(), registers, scopes: self.scopes() }
    }
}

/// The registers a billing file may read: those that count up (`Register::is_cumulative`).
pub fn billable_registers() -> Vec<&'static str> {
    Register::ALL.into_iter().filter(|r| r.is_cumulative()).map(Register::id).collect()
}

/// Every variable, for the layout editor.
pub fn variables() -> Vec<VarInfo> {
    Var::ALL.into_iter().map(Var::info).collect()
}

fn default_date_format() -> String {
    "%d/%m/%Y".into()
}

fn default_datetime_format() -> String {
    "%d/%m/%Y %H:%M".into()
}

impl Layout {
    /// A layout with the given fields and every option at its default.
    pub fn new(name: &str, format: Format, fields: Vec<Field>) -> Layout {
        Layout {
            name: name.into(),
            format,
            encoding: Encoding::Utf8,
            csv: CsvOptions::default(),
            fixed: FixedOptions::default(),
            date_format: default_date_format(),
            datetime_format: default_datetime_format(),
            billing: BillingOptions::default(),
            group_id: None,
            fields,
            header: Vec::new(),
            trailer: Vec::new(),
        }
    }

    /// Parse a layout from its JSON definition.
    pub fn from_json(json: &str) -> Result<Layout> {
        serde_json::from_str(json).map_err(|e| Error::bad_input("layout", e.to_string()))
    }

    pub fn to_json(&self) -> String {
        serde_json::to_string(self).unwrap_or_default()
    }

    /// Check the layout before saving or running it: a name, at least one field, variables
    /// in their scope, known registers, fixed widths, valid date formats, distinct marks.
    pub fn check(&self) -> Result<()> {
        if self.name.trim().is_empty() {
            return Err(Error::bad_input("layout name", "a layout needs a name"));
        }
        if self.fields.is_empty() {
            return Err(Error::bad_input("layout fields", "choose at least one variable"));
        }
        check_date_format("date_format", &self.date_format)?;
        check_date_format("datetime_format", &self.datetime_format)?;
        if self.format == Format::Csv {
            let c = &self.csv;
            if c.separator == c.decimal {
                return Err(Error::bad_input("csv", "the separator and the decimal mark must differ"));
            }
            if !c.separator.is_ascii() || c.separator == '"' || c.separator == '\n' || c.separator == '\r' {
                return Err(Error::bad_input("csv separator", format!("'{}' cannot separate fields", c.separator)));
            }
        }
        for (record, fields, scope) in [
            ("field", &self.fields, Scope::Record),
            ("header field", &self.header, Scope::Header),
            ("trailer field", &self.trailer, Scope::Trailer),
        ] {
            for (i, f) in fields.iter().enumerate() {
                let at = || format!("{record} {} ({})", i + 1, f.var.id());
                if !f.var.scopes().contains(&scope) {
                    return Err(Error::bad_input(at(), format!("'{}' cannot be used in this record", f.var.id())));
                }
                if let Some(r) = &f.register {
                    if !f.var.register_bound() {
                        return Err(Error::bad_input(at(), "this variable does not read a register"));
                    }
                    match Register::from_id(r) {
                        None => return Err(Error::bad_input(at(), format!("unknown register '{r}'"))),
                        Some(reg) if reg.is_instantaneous() => {
                            return Err(Error::bad_input(
                                at(),
                                format!("'{r}' is a value at an instant ({}), not an index: a billing file reads {}", reg.shown_unit(), billable_registers().join(", ")),
                            ))
                        }
                        Some(_) => {}
                    }
                }
                if self.format == Format::Fixed {
                    match f.width {
                        None | Some(0) => return Err(Error::bad_input(at(), "a fixed-width field needs a width")),
                        Some(w) if w > 1000 => return Err(Error::bad_input(at(), "a width above 1000")),
                        Some(_) => {}
                    }
                }
                if f.decimals.is_some_and(|d| d > 9) {
                    return Err(Error::bad_input(at(), "at most 9 decimals"));
                }
                if let Some(p) = f.pad {
                    if p.is_control() {
                        return Err(Error::bad_input(at(), "the padding character must be printable"));
                    }
                }
                if let Some(df) = &f.date_format {
                    check_date_format(&at(), df)?;
                }
                for t in [&f.label, &f.text].into_iter().flatten() {
                    if let Some(c) = self.encoding.unwritable(t) {
                        return Err(Error::bad_input(
                            at(),
                            format!("'{c}' cannot be written in {}", self.encoding.id()),
                        ));
                    }
                }
            }
        }
        Ok(())
    }
}

/// A strftime pattern chrono can write (an unknown specifier would fail while writing).
fn check_date_format(field: &str, pattern: &str) -> Result<()> {
    use chrono::format::{Item, StrftimeItems};
    if StrftimeItems::new(pattern).any(|i| matches!(i, Item::Error)) {
        return Err(Error::bad_input(field, format!("'{pattern}' is not a valid date format")));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn variable_ids_round_trip_through_json() {
        for v in Var::ALL {
            let json = serde_json::to_string(&v).expect("serialise");
            assert_eq!(json, format!("\"{}\"", v.id()));
            let back: Var = serde_json::from_str(&json).expect("parse");
            assert_eq!(back, v);
        }
    }

    #[test]
    fn a_minimal_layout_takes_the_defaults() {
        let l = Layout::from_json(r#"{"name":"Eau","fields":[{"var":"meter_serial"},{"var":"value_end"}]}"#)
            .expect("parse");
        assert_eq!(l.format, Format::Csv);
        assert_eq!(l.csv.separator, ';');
        assert_eq!(l.csv.decimal, ',');
        assert!(l.billing.interpolate);
        assert_eq!(l.billing.tolerance_hours, 48);
        l.check().expect("valid");
    }

    #[test]
    fn check_refuses_what_cannot_be_written() {
        let mut l = Layout::new("x", Format::Fixed, vec![Field::new(Var::MeterSerial)]);
        assert!(l.check().is_err(), "fixed width without width");
        l.fields[0].width = Some(8);
        l.check().expect("valid");
        l.trailer.push(Field::new(Var::MeterSerial));
        assert!(l.check().is_err(), "meter variable in a trailer");
        l.trailer = vec![Field { width: Some(4), ..Field::new(Var::RecordCount) }];
        l.check().expect("valid trailer");
        l.date_format = "%Q".into();
        assert!(l.check().is_err(), "bad date format");
        assert!(Layout::from_json(r#"{"name":"x","fields":[{"var":"nonsense"}]}"#).is_err());
    }
}
