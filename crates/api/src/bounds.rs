//! Bounds of the commands' numeric arguments. Every argument shape says its own
//! ([`Bounded`]) and `commands::parse` checks them, so a hostile number (negative, zero,
//! `i64::MAX`, a period of a billion days) is a `bad_input` naming the field and its range,
//! never an overflow, a 500 or a silently empty answer. A shape without numbers says so
//! with an empty `impl Bounded`.

use crate::ApiError;
use std::fmt::Display;

/// The range of every id: 1 to the largest integer a browser holds exactly (2^53 - 1).
pub const MAX_ID: i64 = (1 << 53) - 1;
/// A page starts at most this far in.
pub const MAX_OFFSET: i64 = 100_000_000;
/// A page holds at most this many rows.
pub const MAX_LIMIT: i64 = 100_000;
/// A period in days: at most 100 years.
pub const MAX_DAYS: i64 = 36_600;
/// A meter index, a threshold or a consumption: at most 10^15 in absolute value.
pub const MAX_AMOUNT: f64 = 1e15;

/// The bounds of an argument shape, checked after it is read.
pub(crate) trait Bounded {
    fn check(&self) -> Result<(), ApiError> {
        Ok(())
    }
}

/// `value` within `min..=max`, or a `bad_input` naming `field` and the range.
/// Its params: `{field, reason: "out_of_range", value, min, max}`.
pub(crate) fn range<T: PartialOrd + Display + Copy + serde::Serialize>(field: &str, value: T, min: T, max: T) -> Result<(), ApiError> {
    if (min..=max).contains(&value) {
        Ok(())
    } else {
        Err(ApiError::new("bad_input", format!("{field}: {value} is not between {min} and {max}"))
            .with_params(serde_json::json!({"field": field, "reason": "out_of_range", "value": value, "min": min, "max": max})))
    }
}

pub(crate) fn id(field: &str, value: i64) -> Result<(), ApiError> {
    range(field, value, 1, MAX_ID)
}

pub(crate) fn opt_id(field: &str, value: Option<i64>) -> Result<(), ApiError> {
    value.map_or(Ok(()), |v| id(field, v))
}

pub(crate) fn ids(field: &str, values: &[i64]) -> Result<(), ApiError> {
    values.iter().try_for_each(|v| id(field, *v))
}

/// A page: `offset` from 0, `limit` (when given) from 1.
pub(crate) fn page(offset: i64, limit: Option<i64>) -> Result<(), ApiError> {
    range("offset", offset, 0, MAX_OFFSET)?;
    limit.map_or(Ok(()), |l| range("limit", l, 1, MAX_LIMIT))
}

pub(crate) fn amount(field: &str, value: f64) -> Result<(), ApiError> {
    range(field, value, -MAX_AMOUNT, MAX_AMOUNT)
}

pub(crate) fn opt_amount(field: &str, value: Option<f64>) -> Result<(), ApiError> {
    value.map_or(Ok(()), |v| amount(field, v))
}

impl Bounded for releve_core::store::export_jobs::Job {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("id", self.id)
    }
}

impl Bounded for releve_core::store::notify::Rule {
    fn check(&self) -> Result<(), ApiError> {
        opt_id("id", self.id)?;
        opt_id("group_id", self.group_id)?;
        range("min_duration_minutes", self.min_duration_minutes, 0, 525_600)
    }
}

impl Bounded for releve_core::notify::ChannelSettings {}

#[cfg(test)]
mod tests {
    #[test]
    fn a_value_out_of_range_names_its_field_and_the_range() {
        assert!(super::range("limit", 5, 1, 10).is_ok());
        let e = super::range("period_days", i64::MAX, 1, super::MAX_DAYS).expect_err("out");
        assert_eq!(e.code, "bad_input");
        assert_eq!(e.message, format!("period_days: {} is not between 1 and 36600", i64::MAX));
        assert!(super::amount("above", f64::NAN).is_err());
        assert!(super::amount("above", 1e308).is_err());
    }
}
