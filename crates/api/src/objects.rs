//! The connected-object commands (`report_objects`, `report_objects_count`,
//! `objects_settings`, `objects_settings_set`): argument shapes and one
//! call into `releve_core::reports::objects` each. See COMMANDS.md, "Connected objects".

use crate::bounds::{range, Bounded};
use crate::commands::{ok, parse};
use crate::ApiError;
use base64::Engine;
use releve_core::access::Session;
use releve_core::consumer_report::Locale;
use releve_core::reports::objects::{self, Format, ObjectsRequest, ObjectsSettings, YEARS};
use releve_core::Store;
use serde::Deserialize;
use serde_json::{json, Value};

/// The command names this module answers.
pub(crate) const NAMES: [&str; 4] = ["objects_settings", "objects_settings_set", "report_objects", "report_objects_count"];

#[derive(Deserialize)]
struct YearArgs {
    year: i32,
    #[serde(default = "pdf")]
    format: String,
    /// "fr" | "en"; default: the session user's language.
    locale: Option<String>,
}

fn pdf() -> String {
    "pdf".into()
}

impl Bounded for YearArgs {
    fn check(&self) -> Result<(), ApiError> {
        range("year", self.year, *YEARS.start(), *YEARS.end())
    }
}

impl Bounded for ObjectsSettings {
    fn check(&self) -> Result<(), ApiError> {
        match self.joined_year {
            Some(y) => range("joined_year", y, *YEARS.start(), *YEARS.end()),
            None => Ok(()),
        }
    }
}

/// Run connected-object command `name`; None if `name` is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "report_objects" => {
                let a: YearArgs = parse(args)?;
                let req = ObjectsRequest {
                    year: a.year,
                    format: Format::parse(&a.format)?,
                    locale: a.locale.as_deref().filter(|l| !l.is_empty()).map(Locale::parse).transpose()?,
                };
                let file = objects::report_objects(store, session, &req, now)?;
                ok(json!({
                    "file_name": file.file_name,
                    "content_type": file.content_type,
                    "content_base64": base64::engine::general_purpose::STANDARD.encode(&file.bytes),
                }))
            }
            "report_objects_count" => {
                let a: YearArgs = parse(args)?;
                ok(objects::report_objects_count(store, session, a.year)?)
            }
            "objects_settings" => ok(objects::objects_settings(store, session)?),
            _ => {
                let a: ObjectsSettings = parse(args)?;
                ok(objects::objects_settings_set(store, session, &a, now)?)
            }
        }
    };
    NAMES.contains(&name).then(run)
}

#[cfg(test)]
mod tests {
    use crate::Ctx;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn the_count_comes_as_a_file_and_the_year_is_bounded() {
        let dir = tempfile::tempdir().expect("dir");
        let now = 1_796_515_200; // 2026-12-06
        let ctx = Ctx::open_with_clock(&dir.path().join("o.db"), Arc::new(move || now)).expect("open");
        let token = crate::test_manager(&ctx, "en", now);
        let set = json!({"municipality": "Ville de Saint-Chamond", "operator": "SIEL-TE", "network": "ROC42",
            "access": "simple", "joined_year": 2023, "deliberation": "2023-05-15"});
        let saved = ctx.call(Some(&token), "objects_settings_set", set).expect("settings");
        assert_eq!(saved["access"], "simple");
        let file = ctx.call(Some(&token), "report_objects", json!({"year": 2026, "format": "csv"})).expect("csv");
        assert_eq!(file["file_name"], "connected-object-count-2026.csv");
        assert_eq!(file["content_type"], "text/csv; charset=utf-8");
        let e = ctx.call(Some(&token), "report_objects", json!({"year": 20260})).expect_err("year");
        assert_eq!((e.code.as_str(), e.params.get("field").cloned()), ("bad_input", Some(json!("year"))));
        let e = ctx.call(Some(&token), "report_objects", json!({"year": 2026, "format": "docx"})).expect_err("format");
        assert_eq!(e.code, "bad_input");
    }
}
