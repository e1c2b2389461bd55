//! Every error a clerk reads reaches the fronts as `{code, message, params}`: one test per
//! code, through `Ctx::call` as the fronts call it, checking the code, the HTTP status and the
//! values the UI words it with.

use crate::{test_manager, Clock, Ctx};
use releve_core::store;
use serde_json::{json, Value};
use std::sync::Arc;

/// 2026-02-01T00:00 in Paris.
const NOW: i64 = 1_769_900_400;
const DAY: i64 = 86_400;

struct Setup {
    _dir: tempfile::TempDir,
    ctx: Ctx,
    token: String,
    meter: i64,
}

impl Setup {
    fn call(&self, name: &str, args: Value) -> Result<Value, crate::ApiError> {
        self.ctx.call(Some(&self.token), name, args)
    }
}

/// A manager and one water meter (serial 76193787) whose last reading is 1158.684 m3.
fn setup() -> Setup {
    let dir = tempfile::tempdir().expect("tmp");
    let clock: Clock = Arc::new(|| NOW);
    let ctx = Ctx::open_with_clock(&dir.path().join("e.db"), clock).expect("open");
    let token = test_manager(&ctx, "fr", NOW);
    let meter = {
        let conn = ctx.store().writer();
        let m = store::meters::NewMeter {
            serial: "76193787".into(),
            manufacturer: "KAM".into(),
            device_type: "water".into(),
            status: "active".into(),
            ..Default::default()
        };
        let id = store::meters::insert(&conn, &m, NOW - 100 * DAY).expect("meter");
        let r = store::readings::Reading { meter_id: id, register: 1, ts: NOW - 10 * DAY, value: 1158.684, telegram_id: None };
        assert!(store::readings::insert(&conn, &r, 0).expect("reading"));
        id
    };
    Setup { _dir: dir, ctx, token, meter }
}

fn params(e: &crate::ApiError) -> Value {
    Value::Object(e.params.clone())
}

#[test]
fn final_below_last_names_the_meter_and_both_readings() {
    let s = setup();
    let args = json!({"old_id": s.meter, "new_serial": "99990001", "at": "2026-01-30T10:00", "final_value": 1.0, "initial_value": 0.0});
    let e = s.call("meter_exchange", args).expect_err("below");
    assert_eq!((e.code.as_str(), e.http_status()), ("final_below_last", 400));
    assert_eq!(
        params(&e),
        json!({"meter": "76193787", "final": 1.0, "last": 1158.684, "last_at": NOW - 10 * DAY, "unit": "m3", "field": "final_value"})
    );
    assert_eq!(e.message, "meter 76193787: final reading 1.0 m3 is below its last reading 1158.684 m3");
    let args = json!({"old_id": s.meter, "new_serial": "99990001", "at": "2026-01-30T10:00", "final_value": 1200.0, "initial_value": -3.0});
    let e = s.call("meter_exchange", args).expect_err("negative");
    assert_eq!((e.code.as_str(), params(&e)), ("negative_reading", json!({"meter": "76193787", "field": "initial_value"})));
    let args = json!({"old_id": s.meter, "new_serial": "99990001", "at": "2026-03-01T10:00", "final_value": 1200.0, "initial_value": 0.0});
    let e = s.call("meter_exchange", args).expect_err("future");
    assert_eq!((e.code.as_str(), &params(&e)["meter"]), ("exchange_in_future", &json!("76193787")));
    let args = json!({"old_id": s.meter, "new_serial": "99990001", "at": "le 30 janvier", "final_value": 1200.0, "initial_value": 0.0});
    let e = s.call("meter_exchange", args).expect_err("no time");
    assert_eq!((e.code.as_str(), params(&e)), ("bad_input", json!({"field": "at", "reason": "not_a_time", "value": "le 30 janvier"})));
}

#[test]
fn group_names_empty_too_long_and_taken() {
    let s = setup();
    s.call("group_create", json!({"name": "Secteur Nord"})).expect("create");
    let e = s.call("group_create", json!({"name": " Secteur   Nord "})).expect_err("taken");
    assert_eq!((e.code.as_str(), e.http_status(), params(&e)), ("group_name_taken", 400, json!({"name": "Secteur Nord", "field": "name"})));
    let e = s.call("group_create", json!({"name": "  "})).expect_err("empty");
    assert_eq!((e.code.as_str(), params(&e)), ("group_name_empty", json!({"field": "name"})));
    let e = s.call("group_create", json!({"name": "é".repeat(81)})).expect_err("long");
    assert_eq!((e.code.as_str(), params(&e)), ("group_name_too_long", json!({"max": 80, "field": "name"})));
}

#[test]
fn api_key_refusals_name_the_field_and_the_expiry_is_local() {
    let s = setup();
    let key = |name: &str, expires_at: Value| s.call("api_key_create", json!({"name": name, "scopes": ["meters:read"], "expires_at": expires_at}));
    // A date is local midnight starting it, a local time is in the utility's zone (Paris, UTC+1).
    let k = key("ERP", json!("2026-02-02T08:30")).expect("create");
    assert_eq!(k["key"]["expires_at"], json!(NOW + DAY + 8 * 3600 + 1800));
    assert_eq!(key("ERP 2", json!("2026-02-03")).expect("create")["key"]["expires_at"], json!(NOW + 2 * DAY));
    assert_eq!(key("ERP 3", json!("2026-02-03T12:00:00Z")).expect("create")["key"]["expires_at"], json!(NOW + 2 * DAY + 13 * 3600));
    let e = key("ERP", Value::Null).expect_err("taken");
    assert_eq!((e.code.as_str(), e.http_status(), params(&e)), ("api_key_name_taken", 409, json!({"name": "ERP", "field": "name"})));
    let e = key("Old", json!("2026-02-01")).expect_err("now");
    assert_eq!((e.code.as_str(), params(&e)), ("bad_input", json!({"field": "expires_at", "reason": "not_in_future", "at": NOW})));
    let e = key("Old", json!("demain")).expect_err("unreadable");
    assert_eq!((e.code.as_str(), params(&e)), ("bad_input", json!({"field": "expires_at", "reason": "not_a_time", "value": "demain"})));
    let e = s.call("api_key_create", json!({"name": "P", "scopes": ["readings:read"], "customer": "C-404"})).expect_err("customer");
    assert_eq!((e.code.as_str(), params(&e)), ("bad_input", json!({"field": "customer", "reason": "unknown", "value": "C-404", "allowed": []})));
    let e = s.call("api_key_create", json!({"name": "P", "scopes": ["readings:read"], "rate_per_minute": 0})).expect_err("rate");
    assert_eq!((e.code.as_str(), params(&e)), ("bad_input", json!({"field": "rate_per_minute", "reason": "out_of_range", "value": 0, "min": 1, "max": 100_000})));
    let e = s.call("api_key_revoke", json!({"id": 999})).expect_err("unknown key");
    assert_eq!((e.code.as_str(), e.http_status()), ("not_found", 404));
}

#[test]
fn a_missing_smtp_server_is_a_4xx_naming_the_setting() {
    let s = setup();
    let args = json!({"meter_id": s.meter, "from": "2026-01-01", "to": "2026-01-31", "format": "html", "email_to": "anne@example.org"});
    let e = s.call("consumer_report_email", args).expect_err("no smtp");
    assert_eq!((e.code.as_str(), e.http_status(), params(&e)), ("not_configured", 409, json!({"setting": "smtp"})));
}

#[test]
fn bad_input_names_the_field_and_its_reason() {
    let s = setup();
    let e = s.call("meters_list", json!({"limit": 0})).expect_err("limit");
    assert_eq!((e.code.as_str(), params(&e)), ("bad_input", json!({"field": "limit", "reason": "out_of_range", "value": 0, "min": 1, "max": 100_000})));
    let e = s.call("audit_log", json!({"from": "2026-13-01"})).expect_err("date");
    assert_eq!(params(&e), json!({"field": "from", "reason": "not_a_date", "value": "2026-13-01"}));
    let e = s.call("audit_log", json!({"from": "2026-02-01", "to": "2026-01-01"})).expect_err("period");
    assert_eq!(params(&e), json!({"field": "to", "reason": "ends_before_start", "from": "2026-02-01", "to": "2026-01-01"}));
}

#[test]
fn park_import_rejections_carry_a_reason_code_per_line() {
    let s = setup();
    let mapping = json!({"customer_number": 0, "customer_name": 1, "meter_serial": 2, "device_type": 3, "latitude": 4, "longitude": 5});
    s.call("park_profile_save", json!({"name": "P", "separator": ";", "has_header": true, "mapping": mapping})).expect("profile");
    let content = "num;nom;compteur;type;lat;lon\nC1;Anne;11111111;Électricité;;\n;Bob;22222222;eau;;\nC3;Carl;33333333;grille-pain;;\nC4;Dora;44444444;chaleur;95;4\n";
    let r = s.call("park_import", json!({"profile": "P", "name": "clients.csv", "content": content})).expect("import");
    let rejected = r["rejected"].as_array().expect("rejected");
    let got: Vec<(u64, &str, &str)> =
        rejected.iter().map(|x| (x["line"].as_u64().unwrap_or(0), x["code"].as_str().unwrap_or(""), x["field"].as_str().unwrap_or(""))).collect();
    assert_eq!(got, [(3, "required", "customer_number"), (4, "unknown", "device_type"), (5, "out_of_range", "latitude")]);
    assert_eq!(rejected[1]["params"]["value"], "grille-pain");
    assert_eq!((rejected[2]["params"]["value"].as_f64(), rejected[2]["params"]["max"].as_f64()), (Some(95.0), Some(90.0)));
    assert_eq!(r["meters_added"], 1, "the French type was read: {r}");
}

#[test]
fn a_job_failure_is_stored_with_its_code_and_params() {
    let s = setup();
    let layout = json!({"name": "L", "format": "csv", "fields": [{"var": "meter_serial"}]});
    s.call("export_layout_save", json!({"layout": layout})).expect("layout");
    let job = json!({"name": "Mensuel", "layout": "L", "every": "monthly", "day": 1, "hour": 6,
        "period": "previous_month", "destination": "email", "email_to": ["compta@example.org"]});
    // Saving checks that a mail server is set; it is taken away afterwards, so the run fails.
    let smtp = |host: &str| json!({"smtp_host": host, "smtp_port": 25, "smtp_from": "releve@example.org", "smtp_tls": "none"});
    let e = s.call("export_job_save", job.clone()).expect_err("no mail server");
    assert_eq!(e.code, "not_configured");
    s.call("notify_settings", smtp("127.0.0.1")).expect("smtp");
    let saved = s.call("export_job_save", job);
    s.call("notify_settings", smtp("")).expect("smtp taken away");
    let Ok(saved) = saved else {
        panic!("job: {saved:?}");
    };
    let id = saved["id"].as_i64().expect("id");
    let run = s.call("export_job_run_now", json!({"id": id})).expect("ran");
    assert_eq!((run["status"].as_str(), run["error_code"].as_str()), (Some("failed"), Some("not_configured")), "{run}");
    assert_eq!(run["error_params"], json!({"setting": "smtp"}));
    let runs = s.call("export_runs_list", json!({})).expect("runs");
    assert_eq!(runs[0]["error_code"], "not_configured", "{runs}");
}
