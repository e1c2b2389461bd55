//! The Elia C8/06 aFRR gateway's commands (`c806_gateway_get`, `c806_gateway_save`,
//! `c806_pfx_import`, `c806_sdp_list`, `c806_sdp_save`, `c806_sdp_delete`, `c806_setpoints`,
//! `c806_status`, `c806_fallback`): argument shapes and one call into `releve_core::c806`
//! each. See COMMANDS.md, "C8/06 gateway".

use crate::bounds::{id, range, Bounded};
use crate::commands::{ok, parse, IdArgs};
use crate::ApiError;
use base64::Engine;
use releve_core::access::Session;
use releve_core::c806::{self, GatewayEdit, SdpEdit, Setpoints};
use releve_core::Store;
use serde::Deserialize;
use serde_json::{json, Value};

/// The command names of this file.
pub(crate) const NAMES: [&str; 9] = [
    "c806_fallback",
    "c806_gateway_get",
    "c806_gateway_save",
    "c806_pfx_import",
    "c806_sdp_delete",
    "c806_sdp_list",
    "c806_sdp_save",
    "c806_setpoints",
    "c806_status",
];

/// The largest PFX file taken (a certificate chain and a key are a few kilobytes).
pub const MAX_PFX_BYTES: usize = 1 << 20;

#[derive(Deserialize)]
struct NoArgs {}

impl Bounded for NoArgs {}
impl Bounded for GatewayEdit {}

impl Bounded for SdpEdit {
    fn check(&self) -> Result<(), ApiError> {
        self.id.map_or(Ok(()), |v| id("id", v))?;
        self.meter_id.map_or(Ok(()), |v| id("meter_id", v))
    }
}

impl Bounded for Setpoints {
    fn check(&self) -> Result<(), ApiError> {
        for (field, v) in [("dpm_mw", self.dpm_mw), ("dpb_mw", self.dpb_mw), ("ps_mw", self.ps_mw)] {
            if let Some(v) = v {
                range(field, v, -c806::MAX_MW, c806::MAX_MW)?;
            }
        }
        Ok(())
    }
}

/// A PFX file: its bytes in base64 (`data`) or its path on the computer running Relevé.
#[derive(Deserialize)]
struct PfxArgs {
    #[serde(default)]
    data: Option<String>,
    #[serde(default)]
    path: Option<String>,
    password: String,
}

impl Bounded for PfxArgs {}

#[derive(Deserialize)]
struct FallbackArgs {
    from: i64,
    to: i64,
}

impl Bounded for FallbackArgs {
    fn check(&self) -> Result<(), ApiError> {
        range("from", self.from, 0, 253_402_300_799)?;
        range("to", self.to, 0, 253_402_300_799)
    }
}

/// Run C8/06 command `name`; None if `name` is not one.
pub(crate) fn call(store: &Store, session: &Session, name: &str, args: Value, now: i64) -> Option<Result<Value, ApiError>> {
    let run = || -> Result<Value, ApiError> {
        match name {
            "c806_gateway_get" => {
                let _: NoArgs = parse(args)?;
                ok(c806::gateway_get(store, session)?)
            }
            "c806_gateway_save" => {
                let e: GatewayEdit = parse(args)?;
                ok(c806::gateway_save(store, session, &e, now)?)
            }
            "c806_pfx_import" => {
                let a: PfxArgs = parse(args)?;
                let bytes = match (a.data, a.path) {
                    (Some(data), None) => base64::engine::general_purpose::STANDARD
                        .decode(data.trim())
                        .map_err(|e| ApiError::bad_input("data", format!("the PFX file is not base64: {e}")))?,
                    (None, Some(path)) => std::fs::read(&path).map_err(|e| ApiError::bad_input("path", format!("cannot read {path}: {e}")))?,
                    _ => return Err(ApiError::bad_input("data", "give the PFX file's data or its path (one of them)")),
                };
                if bytes.len() > MAX_PFX_BYTES {
                    return Err(ApiError::bad_input("data", format!("a PFX file of at most {MAX_PFX_BYTES} bytes")));
                }
                ok(c806::pfx_import(store, session, &bytes, &a.password, now)?)
            }
            "c806_sdp_list" => {
                let _: NoArgs = parse(args)?;
                ok(c806::sdp_list(store, session)?)
            }
            "c806_sdp_save" => {
                let e: SdpEdit = parse(args)?;
                ok(c806::sdp_save(store, session, &e, now)?)
            }
            "c806_sdp_delete" => {
                let a: IdArgs = parse(args)?;
                c806::sdp_delete(store, session, a.id, now)?;
                ok(json!({"deleted": a.id}))
            }
            "c806_setpoints" => {
                let s: Setpoints = parse(args)?;
                ok(c806::setpoints(store, session, &s, now)?)
            }
            "c806_status" => {
                let _: NoArgs = parse(args)?;
                ok(c806::status(store, session, now)?)
            }
            "c806_fallback" => {
                let a: FallbackArgs = parse(args)?;
                ok(json!({"csv": c806::fallback(store, session, a.from, a.to, now)?}))
            }
            _ => Err(ApiError::new("unknown_command", format!("unknown command '{name}'"))),
        }
    };
    NAMES.contains(&name).then(run)
}

#[cfg(test)]
mod tests {
    use crate::Ctx;
    use releve_core::access::{Permission, Role, Session};
    use serde_json::json;

    #[test]
    fn settings_need_the_permission_are_checked_and_audited() {
        let dir = tempfile::tempdir().expect("tmp");
        let ctx = Ctx::open(&dir.path().join("t.db")).expect("open");
        let token = crate::test_manager(&ctx, "en", 0);
        let call = |name: &str, args: serde_json::Value| ctx.call(Some(&token), name, args);
        let gw = json!({"broker_url": "mqtt://127.0.0.1:1883", "gid": "GW1", "sid": "S1", "enabled": true});
        let e = call("c806_gateway_save", gw).expect_err("plain MQTT");
        assert!(e.code == "bad_input" && e.message.contains("MQTTS"), "{e:?}");
        let e = call("c806_gateway_save", json!({"broker_url": "mqtts://h:8883", "gid": "GW/1", "sid": "S1"})).expect_err("a topic level in the GID");
        assert!(e.message.contains("gid"), "{e:?}");
        let e = call("c806_pfx_import", json!({"data": "AAAA", "password": "x"})).expect_err("before the settings");
        assert_eq!(e.code, "bad_input");
        let saved = call("c806_gateway_save", json!({"broker_url": "mqtts://h:8883", "gid": "GW1", "sid": "S1"})).expect("save");
        assert_eq!(saved["config"]["topic_up"], "devices/GW1/messages/events/");
        assert_eq!(saved["config"]["topic_down"], "devices/GW1/messages/devicebound/#");
        let e = call("c806_pfx_import", json!({"data": "AAAA", "password": "x"})).expect_err("not a PFX");
        assert!(e.message.contains("PFX"), "{e:?}");
        let e = call("c806_sdp_save", json!({"ean": "5414"})).expect_err("short EAN");
        assert!(e.message.contains("18 digits"), "{e:?}");
        let e = call("c806_sdp_save", json!({"ean": "541449000000000017", "meter_id": 999})).expect_err("no such meter");
        assert!(e.code == "not_found" && e.message.contains("541449000000000017"), "{e:?}");
        call("c806_sdp_save", json!({"ean": "541449000000000017"})).expect("feed SDP");
        let e = call("c806_sdp_save", json!({"ean": "541449000000000017"})).expect_err("twice");
        assert!(e.message.contains("already"), "{e:?}");
        let e = call("c806_setpoints", json!({"ean": "541449000000000017", "dpm_mw": 1e9})).expect_err("W sent as MW");
        assert_eq!(e.code, "bad_input");
        let sdp = call("c806_setpoints", json!({"ean": "541449000000000017", "dpm_mw": 1.5, "afrr_active": true})).expect("set-points");
        assert_eq!((sdp["feed_mw"].as_f64(), sdp["afrr_active"].as_bool()), (Some(1.5), Some(true)));
        let audit = releve_core::store::audit::latest(&ctx.store().reader().expect("reader"), 20).expect("audit");
        for event in ["c806_gateway_save", "c806_sdp_save", "c806_setpoints"] {
            assert!(audit.iter().any(|a| a.event == event && a.user == "m"), "{event} audited");
        }

        // A user may look, not change.
        let system = Session::system("test");
        let permit = system.permit(Permission::ManageUsers).expect("system");
        let user = releve_core::store::users::NewUser { salt: None, login: "u", name: "U", role: Role::User, password: "pw", locale: "en" };
        releve_core::access::create_user(ctx.store(), permit, &user, 0).expect("user");
        let login = ctx.call(None, "login", json!({"login": "u", "password": "pw"})).expect("login");
        let user_token = login["token"].as_str().expect("token").to_string();
        let status = ctx.call(Some(&user_token), "c806_status", json!({})).expect("status");
        assert_eq!(status["sdps"][0]["ean"], "541449000000000017");
        let e = ctx.call(Some(&user_token), "c806_gateway_save", json!({"broker_url": "mqtts://h:8883", "gid": "GW2", "sid": "S1"})).expect_err("forbidden");
        assert_eq!(e.code, "forbidden");
        let e = ctx.call(Some(&user_token), "c806_gateway_get", json!({})).expect_err("forbidden");
        assert_eq!(e.code, "forbidden");
    }
}
