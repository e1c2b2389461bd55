//! Deliveries: a due delivery is claimed in a short write (so two processes never send it
//! at once), POSTed with no lock held, and its outcome written in another short write. A 2xx
//! answer delivers it; anything else (another status, a refused connection, a time-out) is
//! retried after 30 s, 2 min, 10 min, 1 h and 6 h, then the delivery has `failed`.

use super::signature;
use crate::error::Result;
use crate::store::{self, Store};
use std::io::Read;
use std::time::Duration;

/// The wait after the 1st, 2nd, ... failed attempt; after the last one the delivery fails.
pub const BACKOFF: [i64; 5] = [30, 120, 600, 3600, 6 * 3600];

/// One attempt's limit (connection, request and answer).
pub const TIMEOUT: Duration = Duration::from_secs(10);

/// A claimed attempt is another process's for this long (then a dead claimer's attempt is due again).
const CLAIM: i64 = 60;

/// The start of an answer's body kept in the log (bytes read, characters kept).
const EXCERPT_BYTES: u64 = 2048;
const EXCERPT_CHARS: usize = 500;

/// Deliveries attempted per call of `deliver_due`.
const PER_CALL: i64 = 100;

/// What a call did.
#[derive(Debug, Default, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Report {
    pub delivered: usize,
    pub retried: usize,
    pub failed: usize,
}

/// When the attempt numbered `attempts` (1 = the first) failed at `now`: the next try, or
/// None when it was the last.
pub fn next_try(attempts: i64, now: i64) -> Option<i64> {
    usize::try_from(attempts - 1).ok().and_then(|i| BACKOFF.get(i)).map(|wait| now + wait)
}

/// Attempt every delivery due at `now` (of active endpoints). An endpoint that fails is not
/// tried again in the same call (its other deliveries wait for the next).
pub fn deliver_due(store: &Store, now: i64, client: &reqwest::blocking::Client) -> Result<Report> {
    let due = store::webhooks::due(&*store.reader()?, now, PER_CALL)?;
    let mut report = Report::default();
    let mut down: Vec<i64> = Vec::new();
    for d in due {
        if down.contains(&d.endpoint_id) {
            continue;
        }
        match attempt(store, &d, now, client)? {
            None => {}
            Some(Outcome::Delivered) => report.delivered += 1,
            Some(Outcome::Retried) => {
                report.retried += 1;
                down.push(d.endpoint_id);
            }
            Some(Outcome::Failed) => {
                report.failed += 1;
                down.push(d.endpoint_id);
            }
        }
    }
    Ok(report)
}

/// Attempt one pending delivery now, whether its endpoint is active or not (`webhook_test`).
pub(crate) fn deliver_one(store: &Store, id: i64, now: i64, client: &reqwest::blocking::Client) -> Result<()> {
    if let Some(d) = store::webhooks::pending(&*store.reader()?, id)? {
        attempt(store, &d, now, client)?;
    }
    Ok(())
}

enum Outcome {
    Delivered,
    Retried,
    Failed,
}

/// Claim, send, record; None when another process had claimed it.
fn attempt(store: &Store, d: &store::webhooks::Due, now: i64, client: &reqwest::blocking::Client) -> Result<Option<Outcome>> {
    if !store::webhooks::claim(&store.writer(), d, now, now + CLAIM)? {
        return Ok(None);
    }
    let attempts = d.attempts + 1;
    let sent = send(client, d, now);
    let (status, next, http_status, response, error) = match sent {
        Ok((code, excerpt)) if (200..300).contains(&code) => ("delivered", None, Some(code), Some(excerpt), None),
        Ok((code, excerpt)) => {
            let next = next_try(attempts, now);
            (if next.is_some() { "pending" } else { "failed" }, next, Some(code), Some(excerpt), Some(format!("HTTP {code}")))
        }
        Err(why) => {
            let next = next_try(attempts, now);
            (if next.is_some() { "pending" } else { "failed" }, next, None, None, Some(why))
        }
    };
    let outcome = store::webhooks::Outcome {
        status,
        next_try: next,
        http_status,
        response: response.as_deref(),
        error: error.as_deref(),
    };
    store::webhooks::record(&store.writer(), d.id, &outcome)?;
    Ok(Some(match status {
        "delivered" => Outcome::Delivered,
        "pending" => Outcome::Retried,
        _ => Outcome::Failed,
    }))
}

/// POST the body; the answer's status and the start of its body, or why nothing came back.
fn send(client: &reqwest::blocking::Client, d: &store::webhooks::Due, now: i64) -> std::result::Result<(u16, String), String> {
    let answer = client
        .post(&d.url)
        .timeout(TIMEOUT)
        .header(reqwest::header::CONTENT_TYPE, "application/json")
        .header("Releve-Event", &d.event)
        .header("Releve-Delivery", d.id.to_string())
        .header("Releve-Signature", signature::header(&d.secret, now, d.body.as_bytes()))
        .body(d.body.clone())
        .send()
        .map_err(|e| crate::http::reason(&e))?;
    let code = answer.status().as_u16();
    let mut bytes = Vec::new();
    // The excerpt is best effort: an answer cut short still has its status.
    let _ = answer.take(EXCERPT_BYTES).read_to_end(&mut bytes);
    Ok((code, String::from_utf8_lossy(&bytes).chars().take(EXCERPT_CHARS).collect()))
}

/// Forget the deliveries done (delivered or failed) more than the log's days ago; how many.
pub fn purge(store: &Store, now: i64) -> Result<usize> {
    let days = super::log_days(&*store.reader()?)?;
    store::webhooks::purge(&store.writer(), now - days * 86_400)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_then_failed() {
        let t = 1_000;
        let tries: Vec<_> = (1..=6).map(|n| next_try(n, t)).collect();
        assert_eq!(tries, [Some(1_030), Some(1_120), Some(1_600), Some(4_600), Some(22_600), None]);
    }
}
