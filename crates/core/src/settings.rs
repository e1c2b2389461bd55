//! Application settings read by features (time zone of the utility, ...).

use crate::error::{Error, Result};
use crate::store;
use chrono_tz::Tz;
use rusqlite::Connection;

/// The utility's time zone: local dates, histogram buckets and file times follow it.
pub fn timezone(conn: &Connection) -> Result<Tz> {
    let name = store::settings::get(conn, "timezone")?.unwrap_or_else(|| "Europe/Paris".into());
    name.parse::<Tz>().map_err(|_| Error::bad_input("timezone setting", format!("unknown time zone '{name}'")))
}
