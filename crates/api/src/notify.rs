//! The notification commands (`notify_*`): argument shapes and one call into
//! `releve_core::notify` per command, with the same name. See COMMANDS.md, "Notifications".

use crate::commands::{IdArgs, ok, parse};
use crate::ApiError;
use crate::bounds::{MAX_LIMIT, range, Bounded};
use releve_core::access::Session;
use releve_core::notify::{self, ChannelSettings};
use releve_core::store::notify::Rule;
use releve_core::Store;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct PreviewArgs {
    rule: Rule,
}

impl Bounded for PreviewArgs {
    fn check(&self) -> Result<(), ApiError> {
        self.rule.check()
    }
}

#[derive(Deserialize)]
struct TestEmailArgs {
    to: String,
}

impl Bounded for TestEmailArgs {
    fn check(&self) -> Result<(), ApiError> {
        Ok(())
    }
}

#[derive(Deserialize)]
struct LogArgs {
    limit: Option<i64>,
}

impl Bounded for LogArgs {
    fn check(&self) -> Result<(), ApiError> {
        self.limit.map_or(Ok(()), |l| range("limit", l, 1, MAX_LIMIT))
    }
}

/// Run notification command `name`; None if `name` is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "notify_rules_list" => ok(notify::notify_rules_list(store, session)?),
            "notify_rule_save" => {
                let r: Rule = parse(args)?;
                ok(notify::notify_rule_save(store, session, &r, now)?)
            }
            "notify_rule_delete" => {
                let a: IdArgs = parse(args)?;
                notify::notify_rule_delete(store, session, a.id, now)?;
                ok(json!({}))
            }
            "notify_settings_get" => ok(notify::notify_settings_get(store, session)?),
            "notify_settings" => {
                let s: ChannelSettings = parse(args)?;
                ok(notify::notify_settings(store, session, &s, now)?)
            }
            "notify_test_email" => {
                let a: TestEmailArgs = parse(args)?;
                ok(json!({"sent_to": notify::notify_test_email(store, session, &a.to, now)?}))
            }
            "notify_preview" => {
                let a: PreviewArgs = parse(args)?;
                ok(notify::notify_preview(store, session, &a.rule, now)?)
            }
            "notify_log" => {
                let a: LogArgs = parse(args)?;
                ok(notify::notify_log(store, session, a.limit.unwrap_or(200))?)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    name.starts_with("notify_").then(run)
}
