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
                        "content_base64": base64::engine::general_purpose::STANDARD.encode(reg.pdf(tz)?),
                    })),
                }
            }
        }
    };
    NAMES.contains(&name).then(run)
}

#[cfg(test)]
mod tests {
    use crate::Ctx;
    use base64::Engine;
    use releve_core::store;
    use serde_json::json;
    use std::sync::Arc;

    #[test]
    fn subject_access_comes_as_a_zip_and_a_move_out_answers_with_the_new_customer() {
        let dir = tempfile::tempdir().expect("dir");
        let now = 1_796_515_200; // 2026-12-06
        let ctx = Ctx::open_with_clock(&dir.path().join("p.db"), Arc::new(move || now)).expect("open");
        let token = crate::test_manager(&ctx, "en", now);
        let customer = {
            let conn = ctx.store().writer();
            let c = store::customers::Customer {
                number: "C9".into(),
                name: "Anne Roux".into(),
                address: String::new(),
                postal_code: String::new(),
                city: String::new(),
                email: None,
                phone: None,
            };
            let id = store::customers::insert(&conn, &c).expect("customer");
            let m = store::meters::NewMeter {
                serial: "12121212".into(),
                manufacturer: "KAM".into(),
                device_type: "water".into(),
                status: "active".into(),
                customer_id: Some(id),
                ..Default::default()
            };
            let meter = store::meters::insert(&conn, &m, 0).expect("meter");
            let r = store::readings::Reading { meter_id: meter, register: 1, ts: now - 86_400, value: 3.5, telegram_id: None };
            store::readings::insert(&conn, &r, 0).expect("reading");
            id
        };
        let r = ctx.call(Some(&token), "customer_subject_access", json!({"customer_id": customer})).expect("access");
        assert_eq!(r["content_type"], "application/zip");
        assert_eq!(r["file_name"], "personal-data-C9-2026-12-06.zip");
        assert_eq!(r["summary"]["meters"], 1);
        let bytes = base64::engine::general_purpose::STANDARD.decode(r["content_base64"].as_str().expect("b64")).expect("base64");
        let files = releve_core::personal::zip::read_all(&bytes).expect("zip");
        assert!(files.iter().any(|(n, b)| n == "customer.csv" && String::from_utf8_lossy(b).contains("Anne Roux")));

        let e = ctx.call(Some(&token), "customer_move_out", json!({"customer_id": customer, "date": "2026-13-01"})).expect_err("date");
        assert_eq!(e.code, "bad_input");
        let moved = ctx
            .call(Some(&token), "customer_move_out", json!({"customer_id": customer, "date": "2026-12-01", "new_occupant": {"name": "Marc Petit"}}))
            .expect("move out");
        assert_eq!(moved["pseudonym"], "former_occupant");
        assert_eq!(moved["new_customer_number"], "C9-20261201");
        let meter = ctx.call(Some(&token), "meter_get", json!({"id": 1})).expect("meter");
        assert_eq!(meter["customer"]["name"], "Marc Petit");
        assert_eq!(meter["occupants"][0]["pseudonym"], "former_occupant");

        let reg = ctx.call(Some(&token), "gdpr_register", json!({"format": "pdf", "locale": "fr"})).expect("register");
        assert_eq!(reg["file_name"], "registre-traitements-2026-12-06.pdf");
        assert_eq!(reg["content_type"], "application/pdf");
    }
}
