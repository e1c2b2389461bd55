//! The consumer report commands (`consumer_report`, `consumer_report_email`, and the
//! letterhead's `consumer_report_letterhead`, `consumer_report_letterhead_set`): argument
//! shapes and one call into `releve_core::consumer_report` each. See COMMANDS.md,
//! "Consumer report".

use crate::commands::{date, parse};
use crate::ApiError;
use crate::bounds::{id, Bounded};
use base64::Engine;
use releve_core::access::Session;
use releve_core::consumer_report::letterhead::{self, Letterhead};
use releve_core::consumer_report::{self, ConsumerReportRequest, Format, Locale};
use releve_core::meters::Resolution;
use releve_core::Store;
use serde::Deserialize;
use serde_json::{json, Value};

#[derive(Deserialize)]
struct ReportArgs {
    meter_id: i64,
    from: String,
    to: String,
    #[serde(default = "day")]
    resolution: String,
    #[serde(default = "pdf")]
    format: String,
    /// "fr" | "en"; default: the session user's language.
    locale: Option<String>,
    /// `consumer_report_email` only: the recipient (default: the customer's address). Not
    /// `to`, which ends the period.
    email_to: Option<String>,
}

impl Bounded for ReportArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("meter_id", self.meter_id)
    }
}

impl Bounded for Letterhead {
    fn check(&self) -> Result<(), ApiError> {
        Ok(())
    }
}

fn day() -> String {
    "day".into()
}

fn pdf() -> String {
    "pdf".into()
}

fn request(a: &ReportArgs) -> Result<ConsumerReportRequest, ApiError> {
    Ok(ConsumerReportRequest {
        meter_id: a.meter_id,
        from: date("from", &a.from)?,
        to: date("to", &a.to)?,
        resolution: Resolution::parse(&a.resolution)?,
        format: Format::parse(&a.format)?,
        locale: a.locale.as_deref().filter(|l| !l.is_empty()).map(Locale::parse).transpose()?,
    })
}

/// Run consumer report command `name`; None if `name` is not one.
pub(crate) fn call(
    store: &Store,
    session: &Session,
    name: &str,
    args: Value,
    now: i64,
) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "consumer_report_letterhead" => return Ok(json!(letterhead::letterhead(store, session)?)),
            "consumer_report_letterhead_set" => {
                let l: Letterhead = parse(args)?;
                return Ok(json!(letterhead::letterhead_set(store, session, &l, now)?));
            }
            _ => {}
        }
        let a: ReportArgs = parse(args)?;
        let req = request(&a)?;
        match name {
            "consumer_report" => {
                let file = consumer_report::consumer_report(store, session, &req, now)?;
                Ok(json!({
                    "file_name": file.file_name,
                    "content_type": file.content_type,
                    "content_base64": base64::engine::general_purpose::STANDARD.encode(&file.bytes),
                }))
            }
            _ => {
                let sent = consumer_report::consumer_report_email(store, session, &req, a.email_to.as_deref(), now)?;
                Ok(json!({"sent_to": sent.sent_to, "file_name": sent.file_name}))
            }
        }
    };
    matches!(
        name,
        "consumer_report" | "consumer_report_email" | "consumer_report_letterhead" | "consumer_report_letterhead_set"
    )
    .then(run)
}
