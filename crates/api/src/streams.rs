//! Files streamed to the client instead of carried in a JSON answer: the quick export's CSV
//! (`export_readings`) goes row by row to the HTTP response (`Accept: text/csv`) or to the
//! file the desktop window's clerk chose, in bounded memory, followed by a
//! [`Progress`](releve_core::export::Progress) (rows written of rows expected, cancel).
//! The same session check, permission and audit entry as the command's JSON answer.

use crate::commands::{export_spec, parse, ExportArgs};
use crate::{ApiError, Ctx};
use releve_core::access;
use releve_core::export::{self, Progress};
use serde_json::{json, Value};
use std::io::Write;

/// The commands whose file can be streamed.
pub const STREAMED: &[&str] = &["export_readings"];

/// The file a streamed command writes: its name and media type (known from its arguments,
/// before anything runs).
pub struct StreamFile {
    pub file_name: String,
    pub content_type: &'static str,
}

impl Ctx {
    /// Whether `name`'s file can be streamed ([`Ctx::call_stream`]).
    pub fn streams(name: &str) -> bool {
        STREAMED.contains(&name)
    }

    /// The file `name` will write with `args` (a `bad_input` when they cannot be read).
    pub fn stream_file(name: &str, args: &Value) -> Result<StreamFile, ApiError> {
        match name {
            "export_readings" => {
                let a: ExportArgs = parse(args.clone())?;
                let spec = export_spec(&a)?;
                let content_type = match spec.encoding {
                    releve_core::billing::Encoding::Windows1252 => "text/csv; charset=windows-1252",
                    _ => "text/csv; charset=utf-8",
                };
                Ok(StreamFile { file_name: spec.file_name(), content_type })
            }
            _ => Err(ApiError::new("unknown_command", format!("'{name}' has no streamed file"))),
        }
    }

    /// Run the streamed command `name` for the session `token`: its file goes
    /// to `out` as it is made, `progress` says how far it is and carries the cancel.
    /// Answers `{file_name, rows}`; a cancelled run is `cancelled` (`params.rows`).
    pub fn call_stream(
        &self,
        token: Option<&str>,
        name: &str,
        args: Value,
        out: &mut dyn Write,
        progress: &Progress,
    ) -> Result<Value, ApiError> {
        let session = self.session(token)?;
        access::authorize(&session, name)?;
        match name {
            "export_readings" => {
                let a: ExportArgs = parse(args)?;
                let spec = export_spec(&a)?;
                let rows = export::export_readings_watched(self.store(), &session, &spec, out, self.now(), Some(progress))?;
                Ok(json!({"file_name": spec.file_name(), "rows": rows}))
            }
            _ => Err(ApiError::new("unknown_command", format!("'{name}' has no streamed file"))),
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::{test_manager, Clock, Ctx};
    use releve_core::access::{Permission, Role, Session};
    use releve_core::export::Progress;
    use releve_core::store;
    use serde_json::json;
    use std::sync::Arc;

    /// 2026-02-01T00:00 in Paris.
    const NOW: i64 = 1_769_900_400;

    /// A manager's token, a clerk's (role user: daily values only), and 3,000 hourly readings
    /// of one meter in January.
    fn setup() -> (tempfile::TempDir, Ctx, String, String) {
        let dir = tempfile::tempdir().expect("tmp");
        let clock: Clock = Arc::new(|| NOW);
        let ctx = Ctx::open_with_clock(&dir.path().join("s.db"), clock).expect("open");
        let manager = test_manager(&ctx, "fr", NOW);
        {
            let conn = ctx.store().writer();
            let m = store::meters::NewMeter { serial: "76193787".into(), manufacturer: "KAM".into(), device_type: "water".into(), status: "active".into(), ..Default::default() };
            let id = store::meters::insert(&conn, &m, NOW).expect("meter");
            for k in 0..3_000i64 {
                let r = store::readings::Reading { meter_id: id, register: 1, ts: NOW - 31 * 86_400 + k * 600, value: k as f64, telegram_id: None };
                store::readings::insert(&conn, &r, 0).expect("reading");
            }
        }
        let system = Session::system("test");
        let user = store::users::NewUser { salt: None, login: "clerk", name: "C", role: Role::User, password: "clerkclerk", locale: "fr" };
        releve_core::access::create_user(ctx.store(), system.permit(Permission::ManageUsers).expect("permit"), &user, NOW).expect("user");
        let login = ctx.call(None, "login", json!({"login": "clerk", "password": "clerkclerk"})).expect("login");
        let clerk = login["token"].as_str().expect("token").to_string();
        (dir, ctx, manager, clerk)
    }

    #[test]
    fn the_streamed_file_is_the_json_answers_content() {
        let (_dir, ctx, manager, _) = setup();
        let args = json!({"from": "2026-01-01", "to": "2026-01-31", "columns": ["meter_serial", "timestamp", "value"]});
        let answer = ctx.call(Some(&manager), "export_readings", args.clone()).expect("json");
        let progress = Progress::default();
        let mut out = Vec::new();
        let done = ctx.call_stream(Some(&manager), "export_readings", args.clone(), &mut out, &progress).expect("stream");
        assert_eq!(answer["content"].as_str(), std::str::from_utf8(&out).ok());
        assert_eq!((done["rows"].as_u64(), progress.rows(), progress.expected()), (Some(3_000), 3_000, 3_000));
        assert_eq!(done["file_name"], answer["filename"]);
        assert_eq!(Ctx::stream_file("export_readings", &args).expect("file").file_name, "releve-2026-01-01_2026-01-31.csv");
    }

    #[test]
    fn a_stream_is_refused_as_the_command_is() {
        let (_dir, ctx, _, clerk) = setup();
        let args = json!({"from": "2026-01-01", "to": "2026-01-31", "granularity": "readings"});
        let mut out = Vec::new();
        let e = ctx.call_stream(Some(&clerk), "export_readings", args.clone(), &mut out, &Progress::default()).expect_err("intervals");
        assert_eq!((e.code.as_str(), e.http_status()), ("intervals_not_allowed", 403));
        let e = ctx.call_stream(None, "export_readings", args, &mut out, &Progress::default()).expect_err("nobody");
        assert_eq!(e.code, "not_logged_in");
        assert!(out.is_empty());
        // A clerk gets one row a day.
        let days = json!({"from": "2026-01-01", "to": "2026-01-31"});
        let progress = Progress::default();
        let done = ctx.call_stream(Some(&clerk), "export_readings", days, &mut out, &progress).expect("days");
        assert_eq!(done["rows"].as_u64(), Some(21));
        assert_eq!(progress.expected(), 21);
    }

    /// Issue 15: a character Windows-1252 cannot hold, on a meter whose rows come after the
    /// first 64 KiB chunk, is refused before the first byte (the usual JSON error, naming the
    /// line, column and meter), never a file cut halfway.
    #[test]
    fn a_character_windows_1252_lacks_is_refused_before_the_first_byte() {
        let (_dir, ctx, manager, _) = setup();
        {
            let conn = ctx.store().writer();
            let m = store::meters::NewMeter { serial: "99999999".into(), manufacturer: "KAM".into(), device_type: "water".into(), status: "active".into(), city: "Łódź".into(), ..Default::default() };
            let id = store::meters::insert(&conn, &m, NOW).expect("meter");
            for k in 0..10i64 {
                let r = store::readings::Reading { meter_id: id, register: 1, ts: NOW - 31 * 86_400 + k * 600, value: k as f64, telegram_id: None };
                store::readings::insert(&conn, &r, 0).expect("reading");
            }
        }
        let args = json!({"from": "2026-01-01", "to": "2026-01-31", "encoding": "windows-1252", "french": true});
        let file = Ctx::stream_file("export_readings", &args).expect("file");
        assert_eq!(file.content_type, "text/csv; charset=windows-1252");
        let mut out = Vec::new();
        let e = ctx.call_stream(Some(&manager), "export_readings", args.clone(), &mut out, &Progress::default()).expect_err("refused");
        assert_eq!(e.code, "not_encodable");
        assert_eq!((e.params["line"].as_u64(), e.params["column"].as_str(), e.params["meter"].as_str()), (Some(3_002), Some("city"), Some("99999999")));
        assert!(out.is_empty(), "{} bytes written before the refusal", out.len());
        // Without that meter's city the same file streams, in Windows-1252 with French titles.
        let args = json!({"from": "2026-01-01", "to": "2026-01-31", "encoding": "windows-1252", "french": true, "columns": ["meter_serial", "timestamp", "value"]});
        let done = ctx.call_stream(Some(&manager), "export_readings", args, &mut out, &Progress::default()).expect("stream");
        assert_eq!(done["rows"].as_u64(), Some(3_010));
        assert!(out.starts_with(b"N\xB0 de compteur;Date du relev\xE9;Valeur"), "{:?}", &out[..40]);
    }

    #[test]
    fn a_cancelled_stream_is_cancelled_and_audited() {
        let (_dir, ctx, manager, _) = setup();
        let progress = Progress::default();
        progress.cancel();
        let args = json!({"from": "2026-01-01", "to": "2026-01-31"});
        let e = ctx.call_stream(Some(&manager), "export_readings", args, &mut Vec::new(), &progress).expect_err("cancelled");
        assert_eq!((e.code.as_str(), e.http_status(), e.params.get("rows")), ("cancelled", 499, Some(&json!(0))));
        let log = ctx.call(Some(&manager), "audit_log", json!({"event": "export"})).expect("audit");
        assert_eq!(log["entries"][0]["details"], "readings 2026-01-01 to 2026-01-31: cancelled after 0 rows");
    }
}
