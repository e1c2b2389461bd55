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

#[cfg(test)]
mod tests {
    use crate::{test_manager, Clock, Ctx};
    use serde_json::json;
    use std::sync::Arc;

    /// 2026-02-01T00:00 in Paris.
    const NOW: i64 = 1_769_900_400;

    /// Filters, pages without gap or repeat, the lists of choices, and an export that is
    /// itself one audit entry naming its filters.
    #[test]
    fn the_log_is_filtered_paged_and_exported() {
        let dir = tempfile::tempdir().expect("tmp");
        let clock: Clock = Arc::new(|| NOW);
        let ctx = Ctx::open_with_clock(&dir.path().join("a.db"), clock).expect("open");
        let t = test_manager(&ctx, "fr", NOW);
        {
            let conn = ctx.store().writer();
            for i in 0..120 {
                let (event, user) = if i % 4 == 0 { ("park_import", "anne") } else { ("export_readings", "bob") };
                releve_core::store::audit::record(&conn, NOW - 86_400 * 40 + i * 3_600, event, user, "PC-7", &format!("n°{i}")).expect("record");
            }
        }
        let call = |name: &str, args: serde_json::Value| ctx.call(Some(&t), name, args);
        let first = call("audit_log", json!({"event": "park_import", "limit": 20})).expect("page");
        assert_eq!(first["entries"].as_array().map(Vec::len), Some(20));
        assert!(first["choices"]["events"].as_array().is_some_and(|e| e.contains(&json!("park_import")) && e.contains(&json!("export_readings"))));
        assert_eq!(first["choices"]["computers"].as_array().map(|c| c.contains(&json!("PC-7"))), Some(true));
        let second = call("audit_log", json!({"event": "park_import", "limit": 20, "before": first["next"]})).expect("page 2");
        assert_eq!(second["entries"].as_array().map(Vec::len), Some(10));
        assert!(second["next"].is_null() && second.get("choices").is_none());
        let ids: Vec<i64> = [&first, &second].iter().flat_map(|p| p["entries"].as_array().into_iter().flatten().map(|e| e["id"].as_i64().unwrap_or(0))).collect();
        let mut unique = ids.clone();
        unique.sort_unstable();
        unique.dedup();
        assert_eq!(unique.len(), 30, "no gap, no repeat");

        let csv = call("audit_log_export", json!({"user": "anne", "from": "2025-12-23", "to": "2025-12-23"})).expect("export");
        let content = csv["content"].as_str().expect("content");
        let lines: Vec<&str> = content.trim_start_matches('\u{feff}').lines().collect();
        assert_eq!(lines[0], "time;event;user;computer;details");
        assert_eq!((lines.len() as u64 - 1, csv["rows"].as_u64()), (6, Some(6)), "anne every 4 hours that day");
        assert!(lines[1..].iter().all(|l| l.starts_with("2025-12-23 ") && l.contains(";park_import;anne;PC-7;")), "{lines:?}");
        let own = call("audit_log", json!({"event": "audit_log_exported"})).expect("own entry");
        let entries = own["entries"].as_array().expect("entries");
        assert_eq!(entries.len(), 1);
        assert_eq!(entries[0]["user"], "m");
        assert!(entries[0]["details"].as_str().is_some_and(|d| d.contains("user anne") && d.contains("from 2025-12-23")), "{own}");
    }
}
