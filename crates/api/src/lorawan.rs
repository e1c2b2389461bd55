//! The LoRaWAN registry commands (`lorawan_*`): argument shapes and one call into
//! `releve_core::lorawan` per command, with the same name. See COMMANDS.md, "LoRaWAN".

use crate::bounds::{page, range, Bounded};
use crate::commands::{ok, parse};
use crate::{ApiError, Ctx};
use releve_core::access::Session;
use releve_core::lorawan::{self, DeviceInput};
use releve_core::store::lorawan::{DeviceQuery, UplinkQuery};
use serde::Deserialize;
use serde_json::Value;

/// The largest registry file taken (a million devices is about 100 MB).
const MAX_REGISTRY_BYTES: u64 = 256 << 20;

#[derive(Deserialize)]
struct DevicesArgs {
    search: Option<String>,
    payload: Option<String>,
    #[serde(default)]
    offset: i64,
    limit: Option<i64>,
}

impl Bounded for DevicesArgs {
    fn check(&self) -> Result<(), ApiError> {
        page(self.offset, self.limit)?;
        self.limit.map_or(Ok(()), |l| range("limit", l, 1, 1000))
    }
}

impl Bounded for DeviceInput {}

/// The registry's CSV file: its `content` (the desktop window) or an `upload` id (the browser).
#[derive(Deserialize)]
struct ImportArgs {
    name: String,
    content: Option<String>,
    upload: Option<String>,
}

impl Bounded for ImportArgs {}

#[derive(Deserialize)]
struct UplinksArgs {
    outcome: Option<String>,
    dev_eui: Option<String>,
    #[serde(default)]
    offset: i64,
    limit: Option<i64>,
}

impl Bounded for UplinksArgs {
    fn check(&self) -> Result<(), ApiError> {
        page(self.offset, self.limit)?;
        self.limit.map_or(Ok(()), |l| range("limit", l, 1, 1000))
    }
}

/// Run LoRaWAN command `name`; None if `name` is not one.
pub(crate) fn call(ctx: &Ctx, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let store = ctx.store();
    let run = || -> Result<Value, ApiError> {
        match name {
            "lorawan_devices" => {
                let a: DevicesArgs = parse(args)?;
                let q = DeviceQuery { search: a.search.as_deref(), payload: a.payload.as_deref(), offset: a.offset, limit: a.limit.unwrap_or(100) };
                ok(lorawan::lorawan_devices(store, session, &q)?)
            }
            "lorawan_device_set" => {
                let a: DeviceInput = parse(args)?;
                ok(lorawan::lorawan_device_set(store, session, &a, now)?)
            }
            "lorawan_devices_import" => {
                let a: ImportArgs = parse(args)?;
                let content = match (a.content, a.upload) {
                    (Some(content), None) => content.into_bytes(),
                    (None, Some(id)) => {
                        let upload = ctx.uploads.take(session.user_id, &id)?;
                        let size = std::fs::metadata(&upload.path).map_or(0, |m| m.len());
                        if size > MAX_REGISTRY_BYTES {
                            let _ = std::fs::remove_file(&upload.path);
                            return Err(crate::too_large(MAX_REGISTRY_BYTES));
                        }
                        let read = std::fs::read(&upload.path);
                        let _ = std::fs::remove_file(&upload.path);
                        read.map_err(|e| ApiError::new("io", format!("cannot read the uploaded file: {e}")))?
                    }
                    _ => return Err(ApiError::bad_input("content", "give either content or upload")),
                };
                ok(lorawan::lorawan_devices_import(store, session, &a.name, &content, now)?)
            }
            "lorawan_uplinks" => {
                let a: UplinksArgs = parse(args)?;
                let q = UplinkQuery { outcome: a.outcome.as_deref(), dev_eui: a.dev_eui.as_deref(), offset: a.offset, limit: a.limit.unwrap_or(100) };
                ok(lorawan::lorawan_uplinks(store, session, &q)?)
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    name.starts_with("lorawan_").then(run)
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    #[test]
    fn the_registry_through_the_boundary() {
        let dir = tempfile::tempdir().expect("dir");
        let now = 1_795_082_400;
        let ctx = crate::Ctx::open_with_clock(&dir.path().join("t.db"), std::sync::Arc::new(move || now)).expect("ctx");
        let token = crate::test_manager(&ctx, "fr", now);
        let call = |name: &str, args: serde_json::Value| ctx.call(Some(&token), name, args);
        let csv = "dev_eui;serial;brand;model;payload;address;city;commissioned\n70b3d5e75e00a1b2;12345678;Kamstrup;flowIQ 2200;wmbus-app;1 rue A;Saint-Chamond;2026-01-15\n";
        let r = call("lorawan_devices_import", json!({"name": "objets.csv", "content": csv})).expect("import");
        assert_eq!((r["rows"].as_u64(), r["created"].as_u64()), (Some(1), Some(1)), "{r}");
        let d = call("lorawan_device_set", json!({"dev_eui": "70B3D5E75E00A1B3", "brand": "Lobaro", "payload": "wmbus-lobaro", "city": "Saint-Chamond"})).expect("set");
        assert_eq!(d["manufacturer"], "LOB");
        let page = call("lorawan_devices", json!({"search": "kamstrup"})).expect("list");
        assert_eq!((page["total"].as_i64(), page["devices"][0]["manufacturer"].as_str()), (Some(1), Some("KAM")), "{page}");
        let e = call("lorawan_device_set", json!({"dev_eui": "XYZ"})).expect_err("bad");
        assert_eq!(e.code, "bad_input");
        assert!(e.message.contains("dev_eui"), "{}", e.message);
        let e = call("lorawan_devices_import", json!({"name": "x.csv", "content": "dev_eui;serial;brand;model;payload;address;city;commissioned\nzz;1;b;m;raw;a;c;\n"})).expect_err("bad");
        assert_eq!(e.code, "bad_lines");
        assert_eq!(e.params["lines"][0]["line"], 2);
        assert_eq!(call("lorawan_uplinks", json!({"outcome": "dropped"})).expect("uplinks")["total"], 0);
        assert_eq!(call("lorawan_uplinks", json!({"limit": 0})).expect_err("bounds").code, "bad_input");
        assert_eq!(call("lorawan_uplinks", json!({"outcome": "lost"})).expect_err("outcome").code, "bad_input");
        let audited: i64 = ctx
            .store()
            .reader()
            .expect("r")
            .query_row("SELECT count(*) FROM audit_log WHERE event LIKE 'lorawan_%'", [], |r| r.get(0))
            .expect("audit");
        assert_eq!(audited, 2);
    }
}
