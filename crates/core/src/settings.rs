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

/// Unix time of local midnight starting `date` in `tz`.
pub fn local_midnight(tz: Tz, date: chrono::NaiveDate) -> Result<i64> {
    use chrono::TimeZone;
    date.and_hms_opt(0, 0, 0)
        .and_then(|n| tz.from_local_datetime(&n).earliest())
        .map(|t| t.timestamp())
        .ok_or_else(|| Error::bad_input("date", format!("{date} has no midnight in {tz}")))
}

/// Unix time of a local date and time in the store's time zone (the earlier one when the
/// clock change makes it twice; an hour later when it does not exist).
pub fn local_time(store: &crate::store::Store, local: chrono::NaiveDateTime) -> Result<i64> {
    use chrono::TimeZone;
    let tz = timezone(&*store.reader()?)?;
    let at = |n: chrono::NaiveDateTime| tz.from_local_datetime(&n).earliest().map(|t| t.timestamp());
    at(local)
        .or_else(|| at(local + chrono::Duration::hours(1)))
        .ok_or_else(|| Error::bad_input("time", format!("{local} is not a time in {tz}")))
}
