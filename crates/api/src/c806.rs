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
