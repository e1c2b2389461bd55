//! What names a meter and its consumer wherever one is listed (meter list, info-code
//! overview, notices, reports, billing and per-reading exports): one struct, one column
//! list, one row mapping.

use serde::Serialize;

/// A meter's serial and installation with its customer (none: `None`s). Row types embed it
/// with `#[serde(flatten)]`, so their JSON keeps these fields at the top level.
#[derive(Debug, Clone, Default, PartialEq, Serialize)]
pub struct MeterLabel {
    pub serial: String,
    pub customer_number: Option<String>,
    pub customer_name: Option<String>,
    pub address: String,
    pub postal_code: String,
    pub city: String,
}

/// The columns `MeterLabel::from_row` reads, in its order, for queries over
/// `meters m LEFT JOIN customers c ON c.id = m.customer_id`.
pub const LABEL_COLUMNS: &str = "m.serial, c.number, c.name, m.address, m.postal_code, m.city";

impl MeterLabel {
    /// Header ids of the customer-and-address columns that the contact CSVs (info codes,
    /// consumption report) start with; `contact_values` gives a row's values.
    pub const CONTACT_COLUMNS: [&'static str; 5] = ["customer_number", "customer_name", "address", "postal_code", "city"];

    /// The values of `CONTACT_COLUMNS`, in that order (empty for no customer).
    pub fn contact_values(&self) -> [String; 5] {
        [
            self.customer_number.clone().unwrap_or_default(),
            self.customer_name.clone().unwrap_or_default(),
            self.address.clone(),
            self.postal_code.clone(),
            self.city.clone(),
        ]
    }

    /// The label in the `LABEL_COLUMNS` of `r` that start at column `first`.
    pub fn from_row(r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<MeterLabel> {
        let mut label = MeterLabel::default();
        label.read_row(r, first)?;
        Ok(label)
    }

    /// `from_row` into `self`, reusing its strings (a query that refills one label a row).
    pub fn read_row(&mut self, r: &rusqlite::Row<'_>, first: usize) -> rusqlite::Result<()> {
        text_into(r, first, &mut self.serial)?;
        self.customer_number = r.get(first + 1)?;
        self.customer_name = r.get(first + 2)?;
        text_into(r, first + 3, &mut self.address)?;
        text_into(r, first + 4, &mut self.postal_code)?;
        text_into(r, first + 5, &mut self.city)
    }
}

/// Replace `out` with the text of column `i`, reusing its allocation.
pub(super) fn text_into(r: &rusqlite::Row<'_>, i: usize, out: &mut String) -> rusqlite::Result<()> {
    let v = r.get_ref(i)?;
    let text = v.as_str().map_err(|e| rusqlite::Error::FromSqlConversionFailure(i, v.data_type(), Box::new(e)))?;
    out.clear();
    out.push_str(text);
    Ok(())
}
