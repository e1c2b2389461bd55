//! The AES key commands (`keys_import`, `keys_status`, `keys_export`, `meter_key_set`):
//! argument shapes and one call into `releve_core::keys` per command, with the same name.
//! See COMMANDS.md, "AES keys". No command returns a stored key, except `keys_export`
//! (the manager's, audited).

use crate::bounds::{id, Bounded};
use crate::commands::{ok, parse};
use crate::{ApiError, Ctx};
use base64::Engine;
use releve_core::access::{Permission, Session};
use releve_core::keys;
use serde::Deserialize;
use serde_json::{json, Value};

pub(crate) const NAMES: &[&str] = &["keys_export", "keys_import", "keys_status", "meter_key_set"];

/// The largest key file taken (a million keys in CSV is about 50 MB).
const MAX_KEY_FILE_BYTES: u64 = 64 << 20;

/// A key file: its text `content`, its bytes in `content_base64` (a KEM2 is a ZIP), or an
/// `upload` id (the browser); `password` opens a KEM/KEM2.
#[derive(Deserialize)]
struct ImportArgs {
    name: String,
    content: Option<String>,
    content_base64: Option<String>,
    upload: Option<String>,
    password: Option<String>,
}

impl Bounded for ImportArgs {}

#[derive(Deserialize)]
struct NoArgs {}

impl Bounded for NoArgs {}

#[derive(Deserialize)]
struct MeterKeyArgs {
    meter_id: i64,
    key: String,
}

impl Bounded for MeterKeyArgs {
    fn check(&self) -> Result<(), ApiError> {
        id("meter_id", self.meter_id)
    }
}

/// Run key command `name`; None if `name` is not one.
pub(crate) fn call(ctx: &Ctx, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let store = ctx.store();
    let run = || -> Result<Value, ApiError> {
        match name {
            "keys_import" => {
                let a: ImportArgs = parse(args)?;
                let bytes = match (a.content, a.content_base64, a.upload) {
                    (Some(content), None, None) => content.into_bytes(),
                    (None, Some(b64), None) => base64::engine::general_purpose::STANDARD
                        .decode(b64.trim())
                        .map_err(|e| ApiError::bad_input("content_base64", format!("not base64: {e}")))?,
                    (None, None, Some(id)) => {
                        let upload = ctx.uploads.take(session.user_id, &id)?;
                        let size = std::fs::metadata(&upload.path).map_or(0, |m| m.len());
                        let read = if size > MAX_KEY_FILE_BYTES { None } else { Some(std::fs::read(&upload.path)) };
                        let _ = std::fs::remove_file(&upload.path);
                        match read {
                            None => return Err(crate::too_large(MAX_KEY_FILE_BYTES)),
                            Some(r) => r.map_err(|e| ApiError::new("io", format!("cannot read the uploaded file: {e}")))?,
                        }
                    }
                    _ => return Err(ApiError::bad_input("content", "give one of content, content_base64 or upload")),
                };
                let permit = session.permit(Permission::ManageKeys)?;
                ok(keys::import_key_file(store, permit, &a.name, &bytes, a.password.as_deref(), now)?)
            }
            "keys_status" => {
                let _: NoArgs = parse(args)?;
                ok(keys::keys_status(store, session)?)
            }
            "keys_export" => {
                let _: NoArgs = parse(args)?;
                ok(json!({ "name": "keys.csv", "content": keys::keys_export(store, session, now)? }))
            }
            "meter_key_set" => {
                let a: MeterKeyArgs = parse(args)?;
                ok(keys::meter_key_set(store, session, a.meter_id, &a.key, now)?)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    NAMES.contains(&name).then(run)
}
