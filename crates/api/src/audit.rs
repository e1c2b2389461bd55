//! The audit log screen's commands (`audit_log`, `audit_log_export`): argument shapes and one
//! call into `releve_core::audit_log` each. See COMMANDS.md, "Audit log".

use crate::bounds::{range, Bounded, MAX_ID};
use crate::commands::{date, ok, parse};
use crate::ApiError;
use releve_core::access::Session;
use releve_core::audit_log::{self, AuditQuery, Cursor, MAX_PAGE};
use releve_core::Store;
use serde::Deserialize;
use serde_json::Value;

/// The command names this module answers.
pub(crate) const NAMES: [&str; 2] = ["audit_log", "audit_log_export"];

#[derive(Deserialize, Default)]
struct AuditArgs {
    /// Local dates `YYYY-MM-DD`, both included.
    from: Option<String>,
    to: Option<String>,
    event: Option<String>,
    user: Option<String>,
    computer: Option<String>,
    /// The `next` of the page before.
    before: Option<Cursor>,
    limit: Option<i64>,
}

impl Bounded for AuditArgs {
    fn check(&self) -> Result<(), ApiError> {
        if let Some(c) = &self.before {
            range("before.id", c.id, 0, MAX_ID)?;
        }
        if let Some(l) = self.limit {
            range("limit", l, 1, MAX_PAGE)?;
        }
        for (field, v) in [("event", &self.event), ("user", &self.user), ("computer", &self.computer)] {
            if v.as_ref().is_some_and(|s| s.chars().count() > 2_000) {
                return Err(ApiError::new("bad_input", format!("{field}: at most 2000 characters"))
                    .with_params(serde_json::json!({"field": field, "reason": "too_long", "max": 2000})));
            }
        }
        Ok(())
    }
}

impl AuditArgs {
    fn query(&self) -> Result<AuditQuery, ApiError> {
        let day = |field: &str, v: &Option<String>| v.as_deref().filter(|s| !s.trim().is_empty()).map(|s| date(field, s)).transpose();
        Ok(AuditQuery {
            from: day("from", &self.from)?,
            to: day("to", &self.to)?,
            event: self.event.clone(),
            user: self.user.clone(),
            computer: self.computer.clone(),
            before: self.before,
            limit: self.limit.unwrap_or(50),
        })
    }
}

pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        let a: AuditArgs = parse(args)?;
        let q = a.query()?;
        match name {
            "audit_log" => ok(audit_log::audit_log(store, session, &q)?),
            _ => ok(audit_log::audit_log_export(store, session, &q, now)?),
        }
    };
    NAMES.contains(&name).then(run)
}
