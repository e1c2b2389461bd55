//! The rate of calls of each API key: a token bucket per key holding `rate_per_minute` calls,
//! refilled continuously. In memory: a restart gives every key a full bucket.

use crate::ApiError;
use releve_core::access::Session;
use std::collections::HashMap;
use std::sync::Mutex;
use std::time::Instant;

#[derive(Default)]
pub(crate) struct Limiter {
    /// key id -> (calls left, when counted).
    buckets: Mutex<HashMap<i64, (f64, Instant)>>,
}

impl Limiter {
    /// Take one call from the bucket of the session's key (users are not limited here).
    pub(crate) fn take(&self, session: &Session) -> Result<(), ApiError> {
        let Some(key) = &session.key else { return Ok(()) };
        let capacity = key.rate_per_minute.max(1) as f64;
        let per_second = capacity / 60.0;
        let now = Instant::now();
        let mut buckets = self.buckets.lock().unwrap_or_else(|p| p.into_inner());
        let (left, at) = buckets.entry(key.id).or_insert((capacity, now));
        *left = (*left + now.duration_since(*at).as_secs_f64() * per_second).min(capacity);
        *at = now;
        if *left >= 1.0 {
            *left -= 1.0;
            return Ok(());
        }
        let retry_after = ((1.0 - *left) / per_second).ceil().max(1.0) as i64;
        Err(releve_core::Error::Refused(releve_core::problem::Problem::RateLimited { key: key.name.clone(), retry_after }).into())
    }
}
