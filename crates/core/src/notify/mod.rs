//! Alarm notifications: rules say which ongoing info codes (where, after how long, outside
//! which quiet hours) are sent to whom by e-mail and SMS. `notify_run` is called by the app
//! on a timer (and by `releve notify run`): one notice per ongoing event, rule, channel and
//! recipient, recorded in `notices`; failures are recorded with their reason and retried at
//! the next run. Rules on `gateway_silent` send one notice per gateway silence (the
//! notice's `meter_id` then holds the gateway's id). `notify_preview` tells what a rule would have sent over the last 12 months.

pub mod email;
pub mod rules;
pub mod sms;

pub use rules::{notify_rule_delete, notify_rule_save, notify_rules_list};

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::gateways::SilenceEvent;
use crate::store::notify::{Candidate, Notice, NoticeKey, Rule};
use crate::store::{self, Store};
use chrono::TimeZone;
use chrono_tz::Tz;
use serde::{Deserialize, Serialize};

const SETTINGS_KEY: &str = "notify.channels";

/// The preview looks back this far.
pub const PREVIEW_DAYS: i64 = 365;

/// How notices leave: the SMTP server and the SMS gateway.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct ChannelSettings {
    #[serde(default)]
    pub smtp_host: String,
    #[serde(default = "default_port")]
    pub smtp_port: u16,
    #[serde(default)]
    pub smtp_from: String,
    #[serde(default)]
    pub smtp_user: Option<String>,
    /// Never returned by `notify_settings_get`. On save, None keeps the stored one.
    #[serde(default)]
    pub smtp_password: Option<String>,
    /// "none", "starttls" or "tls".
    #[serde(default = "default_tls")]
    pub smtp_tls: String,
    /// e.g. "http://127.0.0.1:9000/send?to={to}&text={text}".
    #[serde(default)]
    pub sms_url_template: String,
}

fn default_port() -> u16 {
    25
}

fn default_tls() -> String {
    "none".into()
}

/// The channel settings as shown: the password only as "is set".
#[derive(Debug, Serialize)]
pub struct ChannelSettingsView {
    #[serde(flatten)]
    pub settings: ChannelSettings,
    pub smtp_password_set: bool,
}

pub(crate) fn load_settings(conn: &rusqlite::Connection) -> Result<ChannelSettings> {
    match store::settings::get(conn, SETTINGS_KEY)? {
        None => Ok(ChannelSettings { smtp_port: 25, smtp_tls: default_tls(), ..Default::default() }),
        Some(json) => serde_json::from_str(&json)
            .map_err(|e| Error::bad_input("notify settings", format!("stored settings unreadable: {e}"))),
    }
}

/// The channel settings, without the password.
pub fn notify_settings_get(store: &Store, session: &Session) -> Result<ChannelSettingsView> {
    session.permit(Permission::Settings)?;
    let mut settings = load_settings(&*store.reader()?)?;
    let set = settings.smtp_password.as_deref().is_some_and(|p| !p.is_empty());
    settings.smtp_password = None;
    Ok(ChannelSettingsView { settings, smtp_password_set: set })
}

/// Save the channel settings (a None password keeps the stored one, "" clears it).
pub fn notify_settings(store: &Store, session: &Session, s: &ChannelSettings, now: i64) -> Result<ChannelSettingsView> {
    let permit = session.permit(Permission::Settings)?;
    if !["none", "starttls", "tls"].contains(&s.smtp_tls.as_str()) {
        return Err(Error::bad_input("smtp_tls", format!("'{}' is not one of none, starttls, tls", s.smtp_tls)));
    }
    let t = s.sms_url_template.trim();
    let web = t.starts_with("http://") || t.starts_with("https://");
    if !t.is_empty() && !web {
        return Err(Error::bad_input("sms_url_template", "the SMS gateway URL starts with http:// or https://"));
    }
    let placeholders = t.contains("{to}") && t.contains("{text}");
    if !t.is_empty() && !placeholders {
        return Err(Error::bad_input("sms_url_template", "the SMS gateway URL needs {to} and {text}"));
    }
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let old = load_settings(&tx)?;
    let mut new = s.clone();
    new.smtp_host = new.smtp_host.trim().to_string();
    new.smtp_from = new.smtp_from.trim().to_string();
    new.sms_url_template = t.to_string();
    if new.smtp_password.is_none() {
        new.smtp_password = old.smtp_password;
    }
    let json = serde_json::to_string(&new).map_err(|e| Error::bad_input("notify settings", e.to_string()))?;
    store::settings::set(&tx, SETTINGS_KEY, &json)?;
    let details = format!("smtp {}:{} ({}), sms {}", new.smtp_host, new.smtp_port, new.smtp_tls, new.sms_url_template);
    store::audit::record_permit(&tx, permit, now, "notify_settings_changed", &details)?;
    tx.commit()?;
    drop(conn);
    notify_settings_get(store, session)
}

/// Send a test message to `to` through the saved SMTP settings, so a manager sees the mail
/// server work before a scheduled export or an alarm depends on it. Needs `settings`;
/// audited `notify_test_email`. `not_configured` `{setting: "smtp"}` without a server,
/// `send` when the server refuses.
pub fn notify_test_email(store: &Store, session: &Session, to: &str, now: i64) -> Result<String> {
    let permit = session.permit(Permission::Settings)?;
    let to = to.trim();
    if !to.contains('@') {
        return Err(Error::bad_input("to", format!("'{to}' is not an e-mail address")));
    }
    let settings = load_settings(&*store.reader()?)?;
    let fr = session.locale != "en";
    let (subject, body) = if fr {
        ("Relevé : e-mail de test", "Ceci est un e-mail de test envoyé depuis Relevé : le serveur d'envoi fonctionne.\n")
    } else {
        ("Relevé: test e-mail", "This is a test e-mail sent from Relevé: the mail server works.\n")
    };
    email::send(&settings, to, subject, body)?;
    store::audit::record_permit(&store.writer(), permit, now, "notify_test_email", &format!("to {to} via {}", settings.smtp_host))?;
    Ok(to.to_string())
}

/// The latest notices (at most `limit`, up to 1,000), newest first.
pub fn notify_log(store: &Store, session: &Session, limit: i64) -> Result<Vec<Notice>> {
    session.permit(Permission::View)?;
    store::notify::notices(&*store.reader()?, limit.clamp(1, 1000))
}

fn french(conn: &rusqlite::Connection) -> Result<bool> {
    Ok(store::settings::get(conn, "locale")?.as_deref() != Some("en"))
}

pub(crate) fn code_words(code: &str, fr: bool) -> &str {
    let (f, e) = match code {
        "leak" => ("fuite", "leak"),
        "burst" => ("rupture", "burst"),
        "dry" => ("compteur à sec", "dry"),
        "reverse" => ("retour d'eau", "reverse flow"),
        "tamper" => ("fraude", "tamper"),
        "low_battery" => ("pile faible", "low battery"),
        "permanent_error" => ("erreur permanente", "permanent error"),
        "temporary_error" => ("erreur temporaire", "temporary error"),
        "silent" => ("compteur muet", "silent meter"),
        "gateway_silent" => ("passerelle muette", "silent gateway"),
        o => (o, o),
    };
    if fr {
        f
    } else {
        e
    }
}

/// Subject, body and SMS text of a notice.
pub fn message(c: &Candidate, rule: &str, tz: Tz, fr: bool) -> (String, String, String) {
    let since = tz.timestamp_opt(c.started_at, 0).single().map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
    let code = code_words(&c.code, fr);
    let customer = match (&c.label.customer_number, &c.label.customer_name) {
        (Some(n), Some(m)) => format!("{m} ({n})"),
        (Some(n), None) => n.clone(),
        (None, Some(m)) => m.clone(),
        (None, None) => "-".into(),
    };
    let address = [c.label.address.as_str(), c.label.postal_code.as_str(), c.label.city.as_str()]
        .iter()
        .filter(|s| !s.is_empty())
        .copied()
        .collect::<Vec<_>>()
        .join(" ");
    if fr {
        let subject = format!("Alarme {code} : compteur {}", c.label.serial);
        let body = format!(
            "Règle : {rule}\nCompteur : {}\nClient : {customer}\nAdresse : {address}\nCode : {code}\nDepuis : {since}\n",
            c.label.serial
        );
        let sms = format!("Releve: {code} compteur {} depuis {since}, {address}", c.label.serial);
        (subject, body, sms)
    } else {
        let subject = format!("Alarm {code}: meter {}", c.label.serial);
        let body = format!(
            "Rule: {rule}\nMeter: {}\nCustomer: {customer}\nAddress: {address}\nCode: {code}\nSince: {since}\n",
            c.label.serial
        );
        let sms = format!("Releve: {code} meter {} since {since}, {address}", c.label.serial);
        (subject, body, sms)
    }
}

/// Subject, body and SMS text of a gateway's silence notice.
pub fn gateway_message(g: &SilenceEvent, rule: &str, tz: Tz, fr: bool) -> (String, String, String) {
    let at = |ts: i64| tz.timestamp_opt(ts, 0).single().map(|d| d.format("%Y-%m-%d %H:%M").to_string()).unwrap_or_default();
    let (since, last) = (at(g.started_at), at(g.last_contact));
    let name = if g.label.is_empty() { g.name.clone() } else { format!("{} ({})", g.name, g.label) };
    if fr {
        let subject = format!("Alarme passerelle muette : {name}");
        let body = format!("Règle : {rule}\nPasserelle : {name}\nDernière trame : {last}\nMuette depuis : {since}\n");
        (subject, body, format!("Releve: passerelle {name} muette depuis {since} (derniere trame {last})"))
    } else {
        let subject = format!("Alarm silent gateway: {name}");
        let body = format!("Rule: {rule}\nGateway: {name}\nLast frame: {last}\nSilent since: {since}\n");
        (subject, body, format!("Releve: gateway {name} silent since {since} (last frame {last})"))
    }
}

/// An ongoing event a rule selects: its subject (a meter, or a gateway for
/// `gateway_silent`), code, start, and the notice's subject, body and SMS text.
struct Due {
    subject_id: i64,
    code: String,
    started_at: i64,
    text: (String, String, String),
}

/// What one run did.
#[derive(Debug, Default, Serialize, PartialEq, Eq)]
pub struct RunReport {
    pub sent: u64,
    pub failed: u64,
    /// Notices due but held back by quiet hours.
    pub held: u64,
}

/// Send the notices that are due at `now` and were not sent yet. Sending happens outside
/// the writer lock; each attempt is recorded right after it.
pub fn notify_run(store: &Store, now: i64) -> Result<RunReport> {
    let (rules, settings, tz, fr) = {
        let conn = store.reader()?;
        (store::notify::rules(&conn)?, load_settings(&conn)?, crate::settings::timezone(&conn)?, french(&conn)?)
    };
    let mut report = RunReport::default();
    for rule in rules.iter().filter(|r| r.enabled) {
        let Some(rule_id) = rule.id else { continue };
        let quiet = rules::quiet_hours(rule)?;
        // Meter events by meter id; gateway events by gateway id under their own code.
        let mut events: Vec<Due> = Vec::new();
        for c in store::notify::candidates(&*store.reader()?, rule, None, now)? {
            let text = message(&c, &rule.name, tz, fr);
            events.push(Due { subject_id: c.meter_id, code: c.code, started_at: c.started_at, text });
        }
        if rule.codes.iter().any(|c| c == "gateway_silent") {
            for g in store::gateways::silences(&*store.reader()?, None, now)? {
                let text = gateway_message(&g, &rule.name, tz, fr);
                events.push(Due { subject_id: g.gateway_id, code: "gateway_silent".to_string(), started_at: g.started_at, text });
            }
        }
        for Due { subject_id, code, started_at, text: (subject, body, text) } in events {
            if now - started_at < rule.min_duration_minutes * 60 {
                continue;
            }
            let targets = rule.email_to.iter().map(|r| ("email", r)).chain(rule.sms_to.iter().map(|r| ("sms", r)));
            let mut due = Vec::new();
            {
                let conn = store.reader()?;
                for (channel, recipient) in targets {
                    let key = NoticeKey { rule_id, meter_id: subject_id, code: &code, started_at, channel, recipient };
                    if !store::notify::was_sent(&conn, &key)? {
                        due.push((channel, recipient));
                    }
                }
            }
            if due.is_empty() {
                continue;
            }
            if rules::is_quiet(tz, quiet, now) {
                report.held += due.len() as u64;
                continue;
            }
            for (channel, recipient) in due {
                let result = match channel {
                    "email" => email::send(&settings, recipient, &subject, &body),
                    _ => sms::send(&settings.sms_url_template, recipient, &text),
                };
                let error = match &result {
                    Ok(()) => None,
                    Err(Error::Send { reason, .. }) => Some(reason.clone()),
                    Err(e) => Some(e.to_string()),
                };
                let key = NoticeKey { rule_id, meter_id: subject_id, code: &code, started_at, channel, recipient };
                store::notify::record(&store.writer(), &key, now, error.as_deref())?;
                if error.is_some() {
                    report.failed += 1;
                } else {
                    report.sent += 1;
                }
            }
        }
    }
    Ok(report)
}

/// One notice the rule would have sent.
#[derive(Debug, Serialize)]
pub struct PreviewRow {
    #[serde(flatten)]
    pub event: Candidate,
    /// When it would have been sent (after the minimum duration and any quiet hours).
    pub fire_at: i64,
}

#[derive(Debug, Serialize)]
pub struct Preview {
    /// Events that would have given notices (each to every recipient).
    pub count: usize,
    pub from: i64,
    pub to: i64,
    /// The first 200, oldest first.
    pub rows: Vec<PreviewRow>,
}

/// What `rule` would have sent over the last 12 months: events whose duration reached the
/// minimum while still ongoing, at the first moment outside quiet hours. Sends nothing.
pub fn notify_preview(store: &Store, session: &Session, rule: &Rule, now: i64) -> Result<Preview> {
    session.permit(Permission::View)?;
    let mut rule = rules::validate(&Rule { email_to: vec!["preview@example.invalid".into()], ..rule.clone() })?;
    rule.id = None;
    let conn = store.reader()?;
    let tz = crate::settings::timezone(&conn)?;
    let quiet = rules::quiet_hours(&rule)?;
    let from = now - PREVIEW_DAYS * 86_400;
    let mut rows = Vec::new();
    let mut count = 0;
    let mut events = store::notify::candidates(&conn, &rule, Some(from), now)?;
    if rule.codes.iter().any(|c| c == "gateway_silent") {
        // A gateway's silence as a notice names it: its id and name in the meter's fields.
        for g in store::gateways::silences(&conn, Some(from), now)? {
            let label = store::MeterLabel { serial: g.name, ..Default::default() };
            events.push(Candidate { meter_id: g.gateway_id, label, code: "gateway_silent".into(), started_at: g.started_at, ended_at: g.ended_at });
        }
        events.sort_by_key(|c| (c.started_at, c.meter_id));
    }
    for c in events {
        let due = c.started_at + rule.min_duration_minutes * 60;
        let fire_at = rules::release_time(tz, quiet, due);
        let still_on = !matches!(c.ended_at, Some(e) if e < fire_at);
        if fire_at < from || fire_at > now || !still_on {
            continue;
        }
        count += 1;
        if rows.len() < 200 {
            rows.push(PreviewRow { event: c, fire_at });
        }
    }
    Ok(Preview { count, from, to: now, rows })
}
