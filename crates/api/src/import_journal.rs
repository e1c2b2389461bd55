//! The import journal's commands (`import_journal`, `import_rejects_csv`): argument shapes
//! and one call into `releve_core::import_journal` each. See COMMANDS.md, "Import".

use crate::bounds::{id, range, Bounded};
use crate::commands::{date, ok, parse};
use crate::ApiError;
use releve_core::access::Session;
use releve_core::import_journal::{self, JournalQuery, RejectsWording, MAX_PAGE};
use releve_core::Store;
use serde::Deserialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// The command names this module answers.
pub(crate) const NAMES: [&str; 2] = ["import_journal", "import_rejects_csv"];

#[derive(Deserialize, Default)]
struct JournalArgs {
    /// Local dates `YYYY-MM-DD`, both included.
    from: Option<String>,
    to: Option<String>,
    user: Option<String>,
    source: Option<String>,
    #[serde(default)]
    with_rejects: bool,
    page: Option<i64>,
    limit: Option<i64>,
}

impl Bounded for JournalArgs {
    fn check(&self) -> Result<(), ApiError> {
        if let Some(p) = self.page {
            range("page", p, 0, 1_000_000)?;
        }
        if let Some(l) = self.limit {
            range("limit", l, 1, MAX_PAGE)?;
        }
        for (field, v) in [("user", &self.user), ("source", &self.source), ("from", &self.from), ("to", &self.to)] {
            if v.as_ref().is_some_and(|s| s.chars().count() > 200) {
                return Err(ApiError::new("bad_input", format!("{field}: at most 200 characters"))
                    .with_params(serde_json::json!({"field": field, "reason": "too_long", "max": 200})));
            }
        }
        Ok(())
    }
}

#[derive(Deserialize)]
struct RejectsArgs {
    import_id: i64,
    /// The file's five column titles in the clerk's language.
    titles: Option<[String; 5]>,
    /// The words of each reason code in the clerk's language.
    #[serde(default)]
    labels: BTreeMap<String, String>,
}

/// At most this many reason codes worded, each code and its words at most 200 characters.
const MAX_LABELS: usize = 200;

impl Bounded for RejectsArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("import_id", self.import_id)?;
        if self.labels.len() > MAX_LABELS {
            return Err(ApiError::new("bad_input", format!("labels: at most {MAX_LABELS} codes"))
                .with_params(serde_json::json!({"field": "labels", "reason": "too_many", "max": MAX_LABELS})));
        }
        let texts = self.titles.iter().flatten().map(|t| ("titles", t));
        for (field, text) in texts.chain(self.labels.iter().flat_map(|(k, v)| [("labels", k), ("labels", v)])) {
            if text.chars().count() > 200 {
                return Err(ApiError::new("bad_input", format!("{field}: at most 200 characters"))
                    .with_params(serde_json::json!({"field": field, "reason": "too_long", "max": 200})));
            }
        }
        Ok(())
    }
}

pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "import_journal" => {
                let a: JournalArgs = parse(args)?;
                let day = |field: &str, v: &Option<String>| v.as_deref().filter(|s| !s.trim().is_empty()).map(|s| date(field, s)).transpose();
                let q = JournalQuery {
                    from: day("from", &a.from)?,
                    to: day("to", &a.to)?,
                    user: a.user.clone(),
                    source: a.source.clone(),
                    with_rejects: a.with_rejects,
                    page: a.page.unwrap_or(0),
                    limit: a.limit.unwrap_or(50),
                };
                ok(import_journal::import_journal(store, session, &q)?)
            }
            _ => {
                let a: RejectsArgs = parse(args)?;
                let wording = RejectsWording { titles: a.titles, labels: a.labels };
                ok(import_journal::import_rejects_csv(store, session, a.import_id, &wording)?)
            }
        }
    };
    NAMES.contains(&name).then(run)
}
