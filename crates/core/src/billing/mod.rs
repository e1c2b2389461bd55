//! Billing exports: saved layouts producing one row per meter for a billing period, as CSV
//! or fixed width, with header and trailer records, validated (nothing is silently cut),
//! previewed, dry-run against the last file and run.

pub mod layout;

pub use layout::{Align, BillingOptions, CsvOptions, Field, FixedOptions, Format, Kind, Layout, LineEnd, Quote, Scope, Var, VarInfo};

use crate::access::Session;
use crate::error::{Error, Result};
use crate::store::Store;
use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

/// A billing period: two local dates, `to` included. Values "at the start" are at `from`
/// 00:00 local time, values "at the billing date" at `to + 1 day` 00:00... see `Period::end`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Period {
    pub from: NaiveDate,
    pub to: NaiveDate,
}

impl Period {
    pub fn new(from: NaiveDate, to: NaiveDate) -> Result<Period> {
        if to < from {
            return Err(Error::bad_input("period", format!("the end {to} is before the start {from}")));
        }
        Ok(Period { from, to })
    }
}

/// A produced billing file.
#[derive(Debug, Clone, Serialize)]
pub struct ExportOutput {
    pub file_name: String,
    pub bytes: Vec<u8>,
    /// Data records (header and trailer not counted).
    pub rows: u64,
    /// Hex SHA-256 of `bytes`.
    pub sha256: String,
    pub warnings: Vec<Warning>,
}

/// Something the file holds that a person should look at (an interpolated or missing value).
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Warning {
    pub meter: String,
    pub field: String,
    pub message: String,
}

/// The first lines of a layout's file on real data, and every problem of the whole file.
#[derive(Debug, Clone, Serialize)]
pub struct Preview {
    pub lines: Vec<String>,
    pub total_rows: u64,
    pub warnings: Vec<Warning>,
    /// Values that do not fit (the run would refuse): each names the meter and the field.
    pub errors: Vec<String>,
}

/// What a run would export compared with the last file of the layout.
#[derive(Debug, Clone, Serialize)]
pub struct DryRun {
    pub rows: u64,
    pub added: u64,
    pub removed: u64,
    pub changed: Vec<Changed>,
    pub unchanged: u64,
    pub added_lines: Vec<MeterLine>,
    pub removed_lines: Vec<MeterLine>,
    pub warnings: Vec<Warning>,
    pub last_run: Option<LastRun>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Changed {
    pub meter: String,
    pub old: String,
    pub new: String,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct MeterLine {
    pub meter: String,
    pub line: String,
}

/// The last real run of a layout.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct LastRun {
    pub at: i64,
    pub from: String,
    pub to: String,
    pub file_name: String,
    pub rows: u64,
    pub sha256: String,
}

/// A saved layout in a list.
#[derive(Debug, Clone, Serialize)]
pub struct LayoutSummary {
    pub id: i64,
    pub name: String,
    pub format: Format,
    pub fields: usize,
    pub updated_at: i64,
    pub last_run: Option<LastRun>,
}

/// Run the saved layout `name` over `period`: the file, kept as the layout's last file.
pub fn layout_run(store: &Store, session: &Session, name: &str, period: Period, now: i64) -> Result<ExportOutput> {
    let _ = (store, session, name, period, now);
    Err(Error::not_found("billing export engine"))
}

/// The first `limit` lines of `layout`'s file (header included) and all its problems.
pub fn layout_preview(store: &Store, session: &Session, layout: &Layout, period: Period, limit: usize, now: i64) -> Result<Preview> {
    let _ = (store, session, layout, period, limit, now);
    Err(Error::not_found("billing export engine"))
}

/// What `layout_run` would produce, compared with the layout's last file.
pub fn layout_dry_run(store: &Store, session: &Session, name: &str, period: Period, now: i64) -> Result<DryRun> {
    let _ = (store, session, name, period, now);
    Err(Error::not_found("billing export engine"))
}
