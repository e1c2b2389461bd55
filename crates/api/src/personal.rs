//! The personal data commands (`customer_subject_access`, `customer_move_out`,
//! `gdpr_register`): argument shapes and one call into `releve_core::personal` each. See
//! COMMANDS.md, "Personal data".

use crate::bounds::{id, Bounded};
use crate::commands::{date, ok, parse};
use crate::ApiError;
use base64::Engine;
use releve_core::access::Session;
use releve_core::consumer_report::Locale;
use releve_core::personal::{self, register, MoveOut, NewOccupant};
use releve_core::Store;
use serde::Deserialize;
use serde_json::{json, Value};

/// The command names of this file.
pub(crate) const NAMES: [&str; 3] = ["customer_move_out", "customer_subject_access", "gdpr_register"];

#[derive(Deserialize)]
struct CustomerArgs {
    customer_id: i64,
}

impl Bounded for CustomerArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("customer_id", self.customer_id)
    }
}

#[derive(Deserialize)]
struct MoveOutArgs {
    customer_id: i64,
    /// `YYYY-MM-DD`: the first day that is no longer the customer's.
    date: String,
    new_occupant: Option<NewOccupant>,
}

impl Bounded for MoveOutArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("customer_id", self.customer_id)
    }
}

#[derive(Deserialize)]
struct RegisterArgs {
    #[serde(default = "json_format")]
    format: String,
    locale: Option<String>,
}

impl Bounded for RegisterArgs {}

fn json_format() -> String {
    "json".into()
}

/// Run personal data command `name`; None if `name` is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "customer_subject_access" => {
                let a: CustomerArgs = parse(args)?;
                let mut zip = Vec::new();
                let summary = personal::customer_subject_access(store, session, a.customer_id, &mut zip, now)?;
                Ok(json!({
                    "file_name": summary.file_name,
                    "content_type": "application/zip",
                    "content_base64": base64::engine::general_purpose::STANDARD.encode(&zip),
                    "summary": summary,
                }))
            }
            "customer_move_out" => {
                let a: MoveOutArgs = parse(args)?;
                let req = MoveOut { customer_id: a.customer_id, date: date("date", &a.date)?, new_occupant: a.new_occupant };
                ok(personal::customer_move_out(store, session, &req, now)?)
            }
            _ => {
                let a: RegisterArgs = parse(args)?;
                let format = register::RegisterFormat::parse(&a.format)?;
                let locale = a.locale.as_deref().filter(|l| !l.is_empty()).map(Locale::parse).transpose()?;
                let reg = register::gdpr_register(store, session, locale, now)?;
                let tz = releve_core::settings::timezone(&*store.reader()?)?;
                match format {
                    register::RegisterFormat::Json => ok(reg),
                    register::RegisterFormat::Html => Ok(json!({
                        "file_name": reg.file_name(tz, "html"),
                        "content_type": "text/html; charset=utf-8",
                        "content_base64": base64::engine::general_purpose::STANDARD.encode(reg.html(tz)),
                    })),
                    register::RegisterFormat::Pdf => Ok(json!({
                        "file_name": reg.file_name(tz, "pdf"),
                        "content_type": "application/pdf",
                        "content_base64": base64::engine::general_purpose::STANDARD.encode(reg.pdf(tz)),
                    })),
                }
            }
        }
    };
    NAMES.contains(&name).then(run)
}
