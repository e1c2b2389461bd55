//! Notification rules: list, save (validated), delete; the quiet-hours arithmetic.
//! Changes need the permission `settings` and are audited.

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::info_codes::parse_codes;

/// Codes of gateway events a rule may select besides the meters' info codes: a gateway
/// silent for its hours (`silence`).
pub const GATEWAY_CODES: [&str; 1] = ["gateway_silent"];
use crate::store::{self, notify::Rule, Store};
use chrono::{NaiveTime, TimeZone, Timelike};
use chrono_tz::Tz;

/// Every rule, enabled or not.
pub fn notify_rules_list(store: &Store, session: &Session) -> Result<Vec<Rule>> {
    session.permit(Permission::View)?;
    store::notify::rules(&*store.reader()?)
}

/// A "HH:MM" time of day.
pub fn parse_hhmm(field: &str, s: &str) -> Result<NaiveTime> {
    NaiveTime::parse_from_str(s.trim(), "%H:%M")
        .map_err(|_| Error::bad_input(field, format!("'{s}' is not a time like 22:00")))
}

fn clean_list(field: &str, list: &[String], ok: impl Fn(&str) -> bool) -> Result<Vec<String>> {
    let mut out: Vec<String> = Vec::new();
    for x in list.iter().map(|x| x.trim()).filter(|x| !x.is_empty()) {
        if !ok(x) {
            return Err(Error::bad_input(field, format!("'{x}' is not a valid recipient")));
        }
        if !out.iter().any(|o| o == x) {
            out.push(x.to_string());
        }
    }
    Ok(out)
}

/// The rule cleaned up and checked (codes known, times valid, at least one recipient).
pub fn validate(r: &Rule) -> Result<Rule> {
    let name = r.name.split_whitespace().collect::<Vec<_>>().join(" ");
    if name.is_empty() || name.chars().count() > 80 {
        return Err(Error::bad_input("name", "a rule needs a name of at most 80 characters"));
    }
    // Meter info codes in severity order, then the gateways' codes.
    let (gateway, meter): (Vec<String>, Vec<String>) = r.codes.iter().cloned().partition(|c| GATEWAY_CODES.contains(&c.as_str()));
    let mut codes: Vec<String> = parse_codes(&meter)?.into_iter().map(str::to_string).collect();
    codes.extend(GATEWAY_CODES.iter().filter(|g| gateway.iter().any(|c| c == *g)).map(|g| g.to_string()));
    if codes.is_empty() {
        return Err(Error::bad_input("codes", "choose at least one info code"));
    }
    if !(0..=525_600).contains(&r.min_duration_minutes) {
        return Err(Error::bad_input("min_duration_minutes", "between 0 and 525600 minutes"));
    }
    let opt = |s: &Option<String>| s.as_ref().map(|x| x.trim().to_string()).filter(|x| !x.is_empty());
    let (quiet_from, quiet_to) = (opt(&r.quiet_from), opt(&r.quiet_to));
    match (&quiet_from, &quiet_to) {
        (Some(f), Some(t)) => {
            parse_hhmm("quiet_from", f)?;
            parse_hhmm("quiet_to", t)?;
        }
        (None, None) => {}
        _ => return Err(Error::bad_input("quiet_from", "quiet hours need a start and an end")),
    }
    let email_to = clean_list("email_to", &r.email_to, |x| x.contains('@') && !x.contains(char::is_whitespace))?;
    let sms_to = clean_list("sms_to", &r.sms_to, |x| {
        x.chars().all(|c| c.is_ascii_digit() || c == '+' || c == ' ') && x.chars().any(|c| c.is_ascii_digit())
    })?;
    if email_to.is_empty() && sms_to.is_empty() {
        return Err(Error::bad_input("email_to", "give at least one e-mail address or phone number"));
    }
    Ok(Rule {
        id: r.id,
        name,
        codes,
        group_id: r.group_id,
        customer_class: opt(&r.customer_class),
        min_duration_minutes: r.min_duration_minutes,
        quiet_from,
        quiet_to,
        email_to,
        sms_to,
        enabled: r.enabled,
    })
}

/// Create (no id) or update a rule; returns it as stored.
pub fn notify_rule_save(store: &Store, session: &Session, rule: &Rule, now: i64) -> Result<Rule> {
    let permit = session.permit(Permission::Settings)?;
    let mut r = validate(rule)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if let Some(id) = r.id {
        store::notify::rule(&tx, id)?.ok_or_else(|| Error::not_found(format!("notification rule {id}")))?;
    }
    if let Some(g) = r.group_id {
        store::groups::name_of(&tx, g)?.ok_or_else(|| Error::not_found(format!("group {g}")))?;
    }
    let event = if r.id.is_some() { "notify_rule_changed" } else { "notify_rule_created" };
    let id = store::notify::save_rule(&tx, &r, now)?;
    r.id = Some(id);
    store::audit::record_permit(&tx, permit, now, event, &format!("{} (#{id}): {}", r.name, r.codes.join(",")))?;
    tx.commit()?;
    Ok(r)
}

/// Delete a rule; its notices stay in the log.
pub fn notify_rule_delete(store: &Store, session: &Session, id: i64, now: i64) -> Result<()> {
    let permit = session.permit(Permission::Settings)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let r = store::notify::rule(&tx, id)?.ok_or_else(|| Error::not_found(format!("notification rule {id}")))?;
    store::notify::delete_rule(&tx, id)?;
    store::audit::record_permit(&tx, permit, now, "notify_rule_deleted", &format!("{} (#{id})", r.name))?;
    tx.commit()?;
    Ok(())
}

/// Quiet hours of a rule, if any: (from, to) local times; from > to wraps over midnight.
pub fn quiet_hours(r: &Rule) -> Result<Option<(NaiveTime, NaiveTime)>> {
    match (&r.quiet_from, &r.quiet_to) {
        (Some(f), Some(t)) => Ok(Some((parse_hhmm("quiet_from", f)?, parse_hhmm("quiet_to", t)?))),
        _ => Ok(None),
    }
}

fn inside(t: NaiveTime, from: NaiveTime, to: NaiveTime) -> bool {
    if from <= to {
        t >= from && t < to
    } else {
        t >= from || t < to
    }
}

/// The first time at or after `at` outside the quiet hours (`at` itself when outside).
pub fn release_time(tz: Tz, quiet: Option<(NaiveTime, NaiveTime)>, at: i64) -> i64 {
    let Some((from, to)) = quiet else { return at };
    let Some(local) = tz.timestamp_opt(at, 0).single() else { return at };
    if from == to || !inside(local.time(), from, to) {
        return at;
    }
    // Seconds from the local time of day to `to`, wrapping over midnight.
    let now_s = i64::from(local.time().num_seconds_from_midnight());
    let to_s = i64::from(to.num_seconds_from_midnight());
    let wait = (to_s - now_s).rem_euclid(86_400);
    let guess = at + wait;
    // A change of UTC offset inside the quiet hours shifts the end by the difference.
    let offset = |t: i64| tz.timestamp_opt(t, 0).single().map(|d| d.naive_local().and_utc().timestamp() - t).unwrap_or(0);
    guess + (offset(at) - offset(guess))
}

/// True when `at` falls inside the quiet hours.
pub fn is_quiet(tz: Tz, quiet: Option<(NaiveTime, NaiveTime)>, at: i64) -> bool {
    release_time(tz, quiet, at) != at
}
