//! The C8/06 messages, pure: the aFRR message (header MT, HV, BV, GID, CTS, EKV, SID and the
//! encrypted body of one or, when catching up, up to 15 four-second values), the key
//! request, the platform's ENCRYPTIONKEY and HEARTBEAT messages and the heartbeat's answer.
//! Times are ticks: milliseconds since 2019-01-01 00:00 UTC.

use super::crypto;
use crate::error::{Error, Result};
use crate::store::c806::{Key, Value};
use base64::Engine;
use serde_json::{json, Map, Value as Json};

/// 2019-01-01 00:00:00 UTC in Unix milliseconds.
pub const EPOCH_MS: i64 = 1_546_300_800_000;
pub const HEADER_VERSION: i64 = 1;
pub const BODY_VERSION: i64 = 1;
pub const MT_AFRR: &str = "AFRR";
/// The most four-second values one message carries (one minute), when catching up only.
pub const MAX_GROUP: usize = 15;

pub fn ticks(unix_ms: i64) -> i64 {
    unix_ms - EPOCH_MS
}

pub fn unix_ms(ticks: i64) -> i64 {
    ticks + EPOCH_MS
}

const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;

/// Who sends: the header's SID and GID.
#[derive(Debug, Clone)]
pub struct Sender<'a> {
    pub sid: &'a str,
    pub gid: &'a str,
}

/// The plaintext body: a JSON array of the values (SDP, DPM, DPB, AS, PS, MTS).
pub fn body(values: &[Value]) -> String {
    let items: Vec<Json> = values
        .iter()
        .map(|v| json!({"DPM": round6(v.dpm), "DPB": round6(v.dpb), "AS": v.afrr, "PS": round6(v.ps), "MTS": ticks(v.mts), "SDP": v.sdp}))
        .collect();
    Json::Array(items).to_string()
}

/// MW with 6 decimals (1 W): what a meter's watts give, without binary noise in the JSON.
fn round6(mw: f64) -> f64 {
    (mw * 1e6).round() / 1e6
}

/// The aFRR message of `values` (one, or up to 15 of one SDP when catching up), its body
/// encrypted under `key`, created at `now_ms`.
pub fn afrr(sender: &Sender<'_>, key: &Key, values: &[Value], now_ms: i64) -> String {
    let sealed = crypto::encrypt(&key.key, body(values).as_bytes());
    json!({
        "MT": MT_AFRR, "HV": HEADER_VERSION, "BV": BODY_VERSION, "GID": sender.gid, "CTS": ticks(now_ms),
        "EKV": key.version, "SID": sender.sid, "Body": B64.encode(sealed),
    })
    .to_string()
}

pub fn key_request() -> String {
    json!({"MT": "ENCRYPTIONKEYREQUEST"}).to_string()
}

/// What the platform sends the gateway.
#[derive(Debug, Clone, PartialEq)]
pub enum Incoming {
    Key(Key),
    /// A heartbeat: its MID and whether it asks for a clock synchronisation (TS) and for the
    /// versions (GWV).
    Heartbeat { mid: i64, ts: bool, gwv: bool },
    Other(String),
}

/// A member `name` of a JSON body that may be an object or a string holding one.
fn object(v: Option<&Json>) -> Option<Map<String, Json>> {
    match v? {
        Json::Object(m) => Some(m.clone()),
        Json::String(s) => match serde_json::from_str::<Json>(s) {
            Ok(Json::Object(m)) => Some(m),
            _ => None,
        },
        _ => None,
    }
}

fn int(m: &Map<String, Json>, names: &[&str]) -> Option<i64> {
    names.iter().find_map(|n| match m.get(*n)? {
        Json::Number(x) => x.as_i64().or_else(|| x.as_f64().map(|f| f as i64)),
        Json::String(s) => s.trim().parse().ok(),
        _ => None,
    })
}

fn text(m: &Map<String, Json>, names: &[&str]) -> Option<String> {
    names.iter().find_map(|n| m.get(*n).and_then(Json::as_str).map(str::to_string))
}

/// Read a message from the platform. A key message is decrypted with `private` (the
/// gateway's key): its body is either the base64 of the RSA-encrypted JSON key description
/// (KEY, KV, KT, VF, VT, MT), or that description with only KEY RSA-encrypted. The key
/// itself is 16 bytes, in base64 or hex inside the plaintext, or the raw 16 bytes. The error
/// says in words why a key message cannot be used.
pub fn incoming(payload: &[u8], private: Option<&crypto::PrivateKey>) -> Result<Incoming> {
    let bad = |reason: String| Error::bad_input("message", reason);
    let msg: Json = serde_json::from_slice(payload).map_err(|e| bad(format!("not JSON: {e}")))?;
    let top = msg.as_object().ok_or_else(|| bad("not a JSON object".into()))?;
    let mt = text(top, &["MT"]).unwrap_or_default();
    match mt.replace(' ', "").trim().to_ascii_uppercase().as_str() {
        "HEARTBEAT" => {
            let mid = int(top, &["MID"]).ok_or_else(|| bad("a heartbeat without its MID".into()))?;
            let body = object(top.get("Body")).unwrap_or_default();
            let asked = |k: &str| body.get(k).is_some_and(|v| v != &Json::Null && v != &json!(0));
            Ok(Incoming::Heartbeat { mid, ts: asked("TS"), gwv: asked("GWV") })
        }
        "ENCRYPTIONKEY" => {
            let private = private.ok_or_else(|| bad("a key message, but the gateway has no certificate imported".into()))?;
            let rsa_open = |b64: &str| -> Result<Vec<u8>> {
                let cipher = B64.decode(b64.split_whitespace().collect::<String>()).map_err(|e| bad(format!("the encrypted key is not base64: {e}")))?;
                private
                    .decrypt(&cipher)
                    .map(|(p, _)| p)
                    .ok_or_else(|| bad(format!("the key does not decrypt with this gateway's private key ({} tried)", crypto::PADDINGS.join(", "))))
            };
            let (desc, raw_key) = match top.get("Body") {
                Some(Json::String(s)) if object(top.get("Body")).is_none() => {
                    let plain = rsa_open(s)?;
                    match serde_json::from_slice::<Json>(&plain) {
                        Ok(Json::Object(m)) => (m, None),
                        _ => (Map::new(), Some(plain)),
                    }
                }
                Some(_) => {
                    let m = object(top.get("Body")).ok_or_else(|| bad("the key message's Body is neither a key description nor an encrypted key".into()))?;
                    let enc = text(&m, &["KEY", "Key", "CLE", "CLÉ", "CLÉ"]).ok_or_else(|| bad("the key message names no KEY".into()))?;
                    let plain = rsa_open(&enc)?;
                    (m, Some(plain))
                }
                None => return Err(bad("a key message without a Body".into())),
            };
            let field_int = |names: &[&str]| int(&desc, names).or_else(|| int(top, names));
            let key_bytes = match raw_key {
                Some(raw) => raw,
                None => text(&desc, &["KEY", "Key", "CLE", "CLÉ"]).map(String::into_bytes).ok_or_else(|| bad("the decrypted key description names no KEY".into()))?,
            };
            let key = key16(&key_bytes).ok_or_else(|| bad(format!("the key is not 16 bytes (AES-128): {} bytes", key_bytes.len())))?;
            let version = field_int(&["KV"]).ok_or_else(|| bad("the key message has no version (KV)".into()))?;
            let vf = field_int(&["VF"]).ok_or_else(|| bad(format!("key {version} has no start of validity (VF)")))?;
            let vt = field_int(&["VT"]).ok_or_else(|| bad(format!("key {version} has no end of validity (VT)")))?;
            if vt <= vf {
                return Err(bad(format!("key {version} ends (VT {vt}) before it starts (VF {vf})")));
            }
            let key_type = text(&desc, &["KT"]).or_else(|| text(top, &["KT"])).unwrap_or_else(|| "AES".into());
            if !key_type.to_ascii_uppercase().contains("AES") && !key_type.to_ascii_uppercase().contains("RIJNDAEL") {
                return Err(bad(format!("key {version} is of type '{key_type}': only AES/Rijndael is known")));
            }
            let mt = text(&desc, &["MT"]).filter(|m| !m.eq_ignore_ascii_case("ENCRYPTIONKEY")).unwrap_or_else(|| MT_AFRR.into());
            Ok(Incoming::Key(Key { version, mt, key, key_type, valid_from: unix_ms(vf), valid_to: unix_ms(vt) }))
        }
        _ => Ok(Incoming::Other(mt)),
    }
}

/// 16 key bytes from raw bytes, base64 or hex text.
fn key16(b: &[u8]) -> Option<[u8; 16]> {
    if b.len() == 16 && std::str::from_utf8(b).map_or(true, |s| B64.decode(s.trim()).map_or(true, |d| d.len() != 16)) {
        return b.try_into().ok();
    }
    let s = std::str::from_utf8(b).ok()?.trim().trim_matches('"');
    if let Ok(d) = B64.decode(s) {
        if d.len() == 16 {
            return d.try_into().ok();
        }
    }
    hex::decode(s).ok().and_then(|d| d.try_into().ok())
}

/// The answer to heartbeat `mid`: MID, MT, GID, CTS, and the versions (SV, FWV) in Body when asked.
pub fn heartbeat_answer(mid: i64, gid: &str, now_ms: i64, versions: Option<(&str, &str)>) -> String {
    let mut m = json!({"MID": mid, "MT": "HEARTBEAT", "GID": gid, "CTS": ticks(now_ms)});
    if let Some((sv, fwv)) = versions {
        m["Body"] = Json::String(json!({"SV": sv, "FWV": fwv}).to_string());
    }
    m.to_string()
}

/// The key to encrypt with at `now_ms`: of the keys valid then, the one valid from the
/// latest (in the 12 hours two keys overlap, the new one), the higher version on a tie.
pub fn current_key(keys: &[Key], now_ms: i64) -> Option<&Key> {
    keys.iter().filter(|k| k.valid_from <= now_ms && now_ms < k.valid_to).max_by_key(|k| (k.valid_from, k.version))
}

/// What to send next from the outgoing buffer `pending` (oldest first): when more is
/// waiting than one slot of `sdps` values (catching up), up to 15 consecutive values of the
/// oldest value's SDP within one minute; otherwise the oldest value alone.
pub fn next_batch(pending: &[Value], sdps: usize) -> Vec<Value> {
    let Some(first) = pending.first() else { return Vec::new() };
    if pending.len() <= sdps.max(1) {
        return vec![first.clone()];
    }
    pending.iter().filter(|v| v.sdp == first.sdp && v.mts < first.mts + 60_000).take(MAX_GROUP).cloned().collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn v(seq: i64, sdp: &str, mts: i64) -> Value {
        Value { seq, sdp: sdp.into(), mts, dpm: 0.123, dpb: 0.987, afrr: 1, ps: 0.0, sent_at: None }
    }

    #[test]
    fn ticks_count_from_2019() {
        assert_eq!(ticks(EPOCH_MS), 0);
        assert_eq!(ticks(1_546_300_800_000 + 33_496_996_088), 33_496_996_088);
        assert_eq!(unix_ms(ticks(1_767_225_600_000)), 1_767_225_600_000);
    }

    #[test]
    fn an_afrr_message_has_its_header_and_an_encrypted_body() {
        let key = Key { version: 7, mt: "AFRR".into(), key: [3; 16], key_type: "AES".into(), valid_from: 0, valid_to: i64::MAX };
        let msg = afrr(&Sender { sid: "84V-UOU-40P", gid: "SN4589674" }, &key, &[v(1, "541122334455667788", EPOCH_MS)], EPOCH_MS + 33_496_996_088);
        let m: Json = serde_json::from_str(&msg).expect("json");
        assert_eq!((m["MT"].as_str(), m["HV"].as_i64(), m["BV"].as_i64(), m["EKV"].as_i64()), (Some("AFRR"), Some(1), Some(1), Some(7)));
        assert_eq!((m["GID"].as_str(), m["SID"].as_str(), m["CTS"].as_i64()), (Some("SN4589674"), Some("84V-UOU-40P"), Some(33_496_996_088)));
        let plain = crypto::decrypt(&[3; 16], &B64.decode(m["Body"].as_str().expect("body")).expect("b64")).expect("opens");
        let body: Json = serde_json::from_slice(&plain).expect("body json");
        assert_eq!(body, json!([{"DPM":0.123,"DPB":0.987,"AS":1,"PS":0.0,"MTS":0,"SDP":"541122334455667788"}]));
    }

    #[test]
    fn heartbeats_in_every_shape_of_the_specification() {
        for (msg, ts, gwv) in [
            (r#"{"MID":36,"MT":"HEARTBEAT"}"#, false, false),
            (r#"{"MID":36,"MT":"HEARTBEAT","Body":"{\"TS\":1}"}"#, true, false),
            (r#"{"MID":36,"MT":"HEARTBEAT","Body":"{\"GWV\":1}"}"#, false, true),
            (r#"{"MID":36,"MT":"HEARTBEAT","Body":{"TS":1,"GWV":1}}"#, true, true),
        ] {
            assert_eq!(incoming(msg.as_bytes(), None).expect(msg), Incoming::Heartbeat { mid: 36, ts, gwv }, "{msg}");
        }
        let answer: Json = serde_json::from_str(&heartbeat_answer(36, "123-ABCD", EPOCH_MS + 29_666_589_696, Some(("1.2", "1.74")))).expect("json");
        assert_eq!(answer["CTS"], 29_666_589_696i64);
        assert_eq!(answer["Body"], r#"{"FWV":"1.74","SV":"1.2"}"#);
        let plain: Json = serde_json::from_str(&heartbeat_answer(36, "123-ABCD", EPOCH_MS, None)).expect("json");
        assert!(plain.get("Body").is_none());
    }

    #[test]
    fn the_newest_valid_key_and_groups_only_when_catching_up() {
        let k = |version, from, to| Key { version, mt: "AFRR".into(), key: [0; 16], key_type: "AES".into(), valid_from: from, valid_to: to };
        let h = 3_600_000;
        let keys = [k(1, 0, 36 * h), k(2, 24 * h, 60 * h)];
        assert_eq!(current_key(&keys, 10 * h).map(|k| k.version), Some(1));
        assert_eq!(current_key(&keys, 30 * h).map(|k| k.version), Some(2), "the overlap uses the new key");
        assert_eq!(current_key(&keys, 61 * h), None);
        let live = [v(1, "A", 0), v(2, "B", 0)];
        assert_eq!(next_batch(&live, 2).len(), 1);
        let backlog: Vec<Value> = (0..40).map(|i| v(i, if i % 2 == 0 { "A" } else { "B" }, (i / 2) * 4000)).collect();
        let batch = next_batch(&backlog, 2);
        assert_eq!(batch.len(), 15);
        assert!(batch.iter().all(|b| b.sdp == "A") && batch.last().map(|b| b.mts) == Some(56_000));
    }

    #[test]
    fn key_messages_in_both_shapes_and_a_key_that_does_not_decrypt() {
        use rsa::pkcs8::EncodePrivateKey;
        let mut rng = rand::thread_rng();
        let der = |k: &rsa::RsaPrivateKey| k.to_pkcs8_der().expect("der").as_bytes().to_vec();
        let mine = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("key");
        let other = rsa::RsaPrivateKey::new(&mut rng, 2048).expect("key");
        let private = crypto::PrivateKey::from_pkcs8(&der(&mine)).expect("pkcs8");
        let public = private.public();
        let key = [9u8; 16];
        // The whole description encrypted (OAEP-SHA256), the key in base64 inside.
        let desc = json!({"MT": "AFRR", "KEY": B64.encode(key), "KV": 4, "KT": "AES", "VF": 1000, "VT": 130_000_000});
        let sealed = public.encrypt(&mut rng, rsa::Oaep::new::<sha2::Sha256>(), desc.to_string().as_bytes()).expect("encrypt");
        let msg = json!({"MT": "ENCRYPTIONKEY", "Body": B64.encode(&sealed)}).to_string();
        let want = Key { version: 4, mt: "AFRR".into(), key, key_type: "AES".into(), valid_from: unix_ms(1000), valid_to: unix_ms(130_000_000) };
        assert_eq!(incoming(msg.as_bytes(), Some(&private)).expect("opens"), Incoming::Key(want.clone()));
        // Only the key encrypted (PKCS#1 v1.5, the raw 16 bytes), the rest in clear.
        let sealed = public.encrypt(&mut rng, rsa::Pkcs1v15Encrypt, &key).expect("encrypt");
        let msg = json!({"MT": "ENCRYPTION KEY", "Body": {"KEY": B64.encode(&sealed), "KV": 4, "KT": "AES", "VF": 1000, "VT": 130_000_000}}).to_string();
        assert_eq!(incoming(msg.as_bytes(), Some(&private)).expect("opens"), Incoming::Key(want));
        // Encrypted for another certificate: said, nothing taken.
        let sealed = other.to_public_key().encrypt(&mut rng, rsa::Oaep::new::<sha1::Sha1>(), desc.to_string().as_bytes()).expect("encrypt");
        let msg = json!({"MT": "ENCRYPTIONKEY", "Body": B64.encode(&sealed)}).to_string();
        let e = incoming(msg.as_bytes(), Some(&private)).expect_err("not ours").to_string();
        assert!(e.contains("does not decrypt"), "{e}");
        let e = incoming(br#"{"MT":"ENCRYPTIONKEY","Body":"not base64!"}"#, Some(&private)).expect_err("garbage").to_string();
        assert!(e.contains("base64"), "{e}");
        let e = incoming(br#"{"MT":"ENCRYPTIONKEY"}"#, None).expect_err("no certificate").to_string();
        assert!(e.contains("no certificate"), "{e}");
    }
}
