//! A LoRaWAN network server's event as it is published (MQTT) or posted (HTTP): ChirpStack v4
//! (camelCase JSON; v3's `devEUI`/`gatewayID`/`loRaSNR` also read) and The Things Stack v3
//! (snake_case JSON). Fields at their default value may be missing (fCnt 0, fPort 0, no
//! payload, no gateway); events that are not uplinks (join, status, ack, log, location, ...)
//! published on the same topics are told apart and skipped. Pure: bytes in, an [`Event`] out.

use serde_json::{Map, Value};

/// The largest FRMPayload taken (LoRaWAN's largest is 242 bytes).
pub const MAX_PAYLOAD: usize = 256;
/// The most gateways one uplink may name.
pub const MAX_GATEWAYS: usize = 64;
/// The largest event read (ChirpStack's and The Things Stack's are a few kilobytes).
pub const MAX_EVENT: usize = 256 << 10;
/// A gateway's own time is believed when within this many seconds of the event's time.
const GATEWAY_CLOCK_TOLERANCE: i64 = 3600;

/// What a network server's event is.
#[derive(Debug, Clone, PartialEq)]
pub enum Event {
    Uplink(Uplink),
    /// Not an uplink (join, status, ack, log, location, ...): nothing to keep.
    Other,
}

/// One uplink of one device, as the network server delivered it.
#[derive(Debug, Clone, PartialEq)]
pub struct Uplink {
    /// 16 upper-case hexadecimal digits.
    pub dev_eui: String,
    pub f_cnt: u32,
    pub f_port: u8,
    /// The FRMPayload, decrypted by the network server.
    pub data: Vec<u8>,
    /// When the network server received it (Unix seconds), if it says.
    pub time: Option<i64>,
    /// Every gateway that heard it.
    pub gateways: Vec<GatewayReception>,
}

/// One gateway's reception of an uplink.
#[derive(Debug, Clone, PartialEq)]
pub struct GatewayReception {
    /// The gateway's EUI (16 upper-case hexadecimal digits) or, without one, its id.
    pub gateway: String,
    pub at: Option<i64>,
    pub rssi: Option<i64>,
    pub snr: Option<f64>,
}

/// Read one event in `format` (`chirpstack` or `tts`); `Err` says in words why it is not one.
pub fn parse(format: &str, body: &[u8]) -> Result<Event, String> {
    if body.len() > MAX_EVENT {
        return Err(format!("an event of {} bytes (at most {MAX_EVENT})", body.len()));
    }
    let text = std::str::from_utf8(body).map_err(|e| format!("not UTF-8 text: {e}"))?;
    let text = text.trim_start_matches('\u{feff}').trim();
    let value: Value = serde_json::from_str(text).map_err(|e| format!("not JSON: {e}"))?;
    let Value::Object(object) = value else {
        return Err("not a JSON object".into());
    };
    match format {
        "tts" if object.contains_key("deviceInfo") => Err("a ChirpStack event (deviceInfo): this source's format is tts".into()),
        "tts" => tts(&object),
        _ if object.contains_key("end_device_ids") => Err("a The Things Stack event (end_device_ids): this source's format is chirpstack".into()),
        _ => chirpstack(&object),
    }
}

/// Fields only events other than `up` carry at their top level (ChirpStack v4 and v3).
const NOT_UP: &[&str] = &[
    "fCntDown",
    "acknowledged",
    "margin",
    "batteryLevel",
    "batteryLevelUnavailable",
    "externalPowerSource",
    "level",
    "description",
    "location",
    "integrationName",
    "queueItemId",
    "downlinkId",
    "error",
    "type",
];
/// Fields an `up` event carries (some may be missing when at their default value).
const UP: &[&str] = &["data", "fPort", "fCnt", "rxInfo", "txInfo", "dr", "adr", "confirmed"];

fn chirpstack(o: &Map<String, Value>) -> Result<Event, String> {
    if NOT_UP.iter().any(|k| o.contains_key(*k)) || !UP.iter().any(|k| o.contains_key(*k)) {
        return Ok(Event::Other);
    }
    let info = o.get("deviceInfo").and_then(Value::as_object);
    let dev_eui = info
        .and_then(|i| i.get("devEui"))
        .or_else(|| o.get("devEui"))
        .or_else(|| o.get("devEUI"))
        .ok_or("no DevEUI (deviceInfo.devEui)")?;
    let dev_eui = eui("DevEUI", dev_eui)?;
    let time = time_field(o, "time")?;
    let mut gateways = Vec::new();
    for rx in array(o, "rxInfo")? {
        let Some(rx) = rx.as_object() else { return Err("an rxInfo entry is not an object".into()) };
        let id = rx.get("gatewayId").or_else(|| rx.get("gatewayID")).ok_or("an rxInfo entry without gatewayId")?;
        let gateway = gateway_name(id)?;
        let at = believable(time_field(rx, "gwTime")?, time).or(time_field(rx, "nsTime")?).or(time_field(rx, "time")?);
        let snr = number(rx, "snr")?.or(number(rx, "loRaSNR")?);
        gateways.push(GatewayReception { gateway, at, rssi: rssi(rx)?, snr });
    }
    Ok(Event::Uplink(Uplink {
        dev_eui,
        f_cnt: counter(o, "fCnt")?,
        f_port: port(o, "fPort")?,
        data: payload(o, "data")?,
        time,
        gateways,
    }))
}

fn tts(o: &Map<String, Value>) -> Result<Event, String> {
    let Some(up) = o.get("uplink_message") else { return Ok(Event::Other) };
    let Some(up) = up.as_object() else { return Err("uplink_message is not an object".into()) };
    let ids = o.get("end_device_ids").and_then(Value::as_object);
    let dev_eui = ids.and_then(|i| i.get("dev_eui")).ok_or("no DevEUI (end_device_ids.dev_eui)")?;
    let dev_eui = eui("DevEUI", dev_eui)?;
    let time = match time_field(o, "received_at")? {
        Some(t) => Some(t),
        None => time_field(up, "received_at")?,
    };
    let mut gateways = Vec::new();
    for rx in array(up, "rx_metadata")? {
        let Some(rx) = rx.as_object() else { return Err("an rx_metadata entry is not an object".into()) };
        let ids = rx.get("gateway_ids").and_then(Value::as_object).ok_or("an rx_metadata entry without gateway_ids")?;
        let id = ids.get("eui").or_else(|| ids.get("gateway_id")).ok_or("an rx_metadata entry without gateway_ids.eui or gateway_id")?;
        let gateway = gateway_name(id)?;
        let at = believable(time_field(rx, "time")?, time).or(time_field(rx, "received_at")?);
        let rssi = match rssi(rx)? {
            Some(r) => Some(r),
            None => number(rx, "channel_rssi")?.and_then(crate::import::line::rssi_value),
        };
        gateways.push(GatewayReception { gateway, at, rssi, snr: number(rx, "snr")? });
    }
    Ok(Event::Uplink(Uplink {
        dev_eui,
        f_cnt: counter(up, "f_cnt")?,
        f_port: port(up, "f_port")?,
        data: payload(up, "frm_payload")?,
        time,
        gateways,
    }))
}

/// An EUI: 16 hexadecimal digits (ChirpStack v3 also sent it as the base64 of its 8 bytes).
fn eui(what: &str, v: &Value) -> Result<String, String> {
    let Some(s) = v.as_str().map(str::trim) else { return Err(format!("{what} {v} is not text")) };
    if s.len() == 16 && s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Ok(s.to_ascii_uppercase());
    }
    if s.len() == 12 && s.ends_with('=') {
        if let Ok(bytes) = base64_decode(s) {
            if bytes.len() == 8 {
                return Ok(hex::encode_upper(bytes));
            }
        }
    }
    let shown: String = s.chars().take(40).collect();
    Err(format!("{what} '{shown}' is not 16 hexadecimal digits"))
}

/// A gateway's name: its EUI in upper case, else its id as given (at most 64 characters).
fn gateway_name(v: &Value) -> Result<String, String> {
    if let Ok(e) = eui("gateway EUI", v) {
        return Ok(e);
    }
    let s = v.as_str().map(str::trim).unwrap_or_default();
    if s.is_empty() || s.chars().count() > 64 {
        return Err(format!("gateway id {v} is not 1 to 64 characters of text"));
    }
    Ok(s.to_string())
}

fn array<'a>(o: &'a Map<String, Value>, key: &str) -> Result<&'a [Value], String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(&[]),
        Some(Value::Array(a)) if a.len() > MAX_GATEWAYS => Err(format!("{} {key} entries (at most {MAX_GATEWAYS})", a.len())),
        Some(Value::Array(a)) => Ok(a),
        Some(other) => Err(format!("{key} is not a list: {}", short(other))),
    }
}

fn number(o: &Map<String, Value>, key: &str) -> Result<Option<f64>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::Number(n)) => Ok(n.as_f64().filter(|f| f.is_finite())),
        Some(Value::String(s)) => s.trim().parse::<f64>().map(Some).map_err(|_| format!("{key} '{s}' is not a number")),
        Some(other) => Err(format!("{key} is not a number: {}", short(other))),
    }
}

fn rssi(o: &Map<String, Value>) -> Result<Option<i64>, String> {
    Ok(number(o, "rssi")?.and_then(crate::import::line::rssi_value))
}

/// A whole number field within `max` (missing: 0, its default).
fn whole(o: &Map<String, Value>, key: &str, max: u64) -> Result<u64, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(0),
        Some(v) => {
            let n = match v {
                Value::Number(n) => n.as_u64(),
                Value::String(s) => s.trim().parse::<u64>().ok(),
                _ => None,
            };
            n.filter(|n| *n <= max).ok_or_else(|| format!("{key} {} is not a whole number from 0 to {max}", short(v)))
        }
    }
}

fn counter(o: &Map<String, Value>, key: &str) -> Result<u32, String> {
    whole(o, key, u64::from(u32::MAX)).map(|n| n as u32)
}

fn port(o: &Map<String, Value>, key: &str) -> Result<u8, String> {
    whole(o, key, 255).map(|n| n as u8)
}

fn payload(o: &Map<String, Value>, key: &str) -> Result<Vec<u8>, String> {
    let text = match o.get(key) {
        None | Some(Value::Null) => return Ok(Vec::new()),
        Some(Value::String(s)) => s.trim(),
        Some(other) => return Err(format!("{key} is not base64 text: {}", short(other))),
    };
    if text.len() > MAX_PAYLOAD.div_ceil(3) * 4 + 4 {
        return Err(format!("a payload of more than {MAX_PAYLOAD} bytes ({} base64 characters)", text.len()));
    }
    let bytes = base64_decode(text).map_err(|e| format!("{key} is not base64: {e}"))?;
    if bytes.len() > MAX_PAYLOAD {
        return Err(format!("a payload of {} bytes (at most {MAX_PAYLOAD})", bytes.len()));
    }
    Ok(bytes)
}

fn base64_decode(text: &str) -> Result<Vec<u8>, base64::DecodeError> {
    use base64::Engine;
    base64::engine::general_purpose::STANDARD.decode(text)
}

/// An RFC 3339 time (nanoseconds allowed) as Unix seconds; a missing one is `None`.
fn time_field(o: &Map<String, Value>, key: &str) -> Result<Option<i64>, String> {
    match o.get(key) {
        None | Some(Value::Null) => Ok(None),
        Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
        Some(Value::String(s)) => chrono::DateTime::parse_from_rfc3339(s.trim())
            .map(|t| Some(t.timestamp()))
            .map_err(|_| format!("{key} '{}' is not an RFC 3339 time", s.chars().take(40).collect::<String>())),
        Some(other) => Err(format!("{key} is not a time: {}", short(other))),
    }
}

/// A gateway's own clock, when it agrees with the server's within an hour.
fn believable(gateway: Option<i64>, server: Option<i64>) -> Option<i64> {
    match (gateway, server) {
        (Some(g), Some(s)) if (g - s).abs() <= GATEWAY_CLOCK_TOLERANCE => Some(g),
        (Some(g), None) => Some(g),
        _ => None,
    }
}

fn short(v: &Value) -> String {
    let s = v.to_string();
    if s.chars().count() > 40 {
        format!("{}...", s.chars().take(40).collect::<String>())
    } else {
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// ChirpStack's documented `up` event (chirpstack-docs, integrations/events.md), verbatim.
    pub(crate) const CHIRPSTACK_UP: &str = r#"{
	"deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d",
	"time": "2022-07-18T09:34:15.775023242+00:00",
	"deviceInfo": {
		"tenantId": "52f14cd4-c6f1-4fbd-8f87-4025e1d49242",
		"tenantName": "ChirpStack",
		"applicationId": "17c82e96-be03-4f38-aef3-f83d48582d97",
		"applicationName": "Test application",
		"deviceProfileId": "14855bf7-d10d-4aee-b618-ebfcb64dc7ad",
		"deviceProfileName": "Test device-profile",
		"deviceName": "Test device",
		"devEui": "0101010101010101",
		"tags": {
			"key": "value"
		}
	},
	"devAddr": "00189440",
	"dr": 1,
	"fPort": 1,
	"data": "qg==",
	"rxInfo": [{
		"gatewayId": "0016c001f153a14c",
		"uplinkId": 4217106255,
		"rssi": -36,
		"snr": 10.5,
		"context": "E3OWOQ==",
		"metadata": {
			"region_name": "eu868",
			"region_common_name": "EU868"
		}
	}],
	"txInfo": {
		"frequency": 867100000,
		"modulation": {
			"lora": {
				"bandwidth": 125000,
				"spreadingFactor": 11,
				"codeRate": "CR_4_5"
			}
		}
	}
}"#;

    /// The Things Stack's documented uplink (lorawan-stack-docs, integrations/mqtt), verbatim.
    pub(crate) const TTS_UP: &str = r#"{
  "end_device_ids": {
    "device_id": "dev1",
    "application_ids": {
      "application_id": "app1"
    },
    "dev_eui": "4200000000000000",
    "join_eui": "4200000000000000",
    "dev_addr": "01DA1F15"
  },
  "correlation_ids": [
    "gs:conn:01D2CSNX7FJVKQPCVG612QF1TX",
    "gs:uplink:01D2CV8HF62ME0D7MZWE38HHH8",
    "ns:uplink:01D2CV8HF6FYJHKZ45YY1DB3MR",
    "rpc:/ttn.lorawan.v3.GsNs/HandleUplink:01D2CV8HF6XR7ZFVK768PDG3J4",
    "as:up:01D2CV8HNGJ57G25BW0FCZNY07"
  ],
  "uplink_message": {
    "session_key_id": "AWiZpAyXrAfEkUNkBljRoA==",
    "f_port": 15,
    "frm_payload": "VGVtcGVyYXR1cmUgPSAwLjA=",
    "rx_metadata": [
      {
        "gateway_ids": {
          "gateway_id": "eui-0242020000247803",
          "eui": "0242020000247803"
        },
        "time": "2019-01-29T13:02:34.981Z",
        "timestamp": 1283325000,
        "rssi": -35,
        "snr": 5,
        "uplink_token": "CiIKIAoUZXVpLTAyNDIwMjAwMDAyNDc4MDMSCAJCAgAAJHgDEMj49+ME"
      }
    ],
    "settings": {
      "data_rate": {
        "lora": {
          "bandwidth": 125000,
          "spreading_factor": 7
        }
      },
      "coding_rate": "4/6",
      "frequency": "868500000",
      "gateway_channel_index": 2,
      "device_channel_index": 2
    }
  }
}"#;

    fn uplink(format: &str, body: &str) -> Uplink {
        match parse(format, body.as_bytes()) {
            Ok(Event::Uplink(u)) => u,
            other => panic!("an uplink from {body}: {other:?}"),
        }
    }

    fn bad(format: &str, body: &str) -> String {
        match parse(format, body.as_bytes()) {
            Err(reason) => reason,
            other => panic!("refused: {body}: {other:?}"),
        }
    }

    #[test]
    fn chirpstack_documented_up_event() {
        let u = uplink("chirpstack", CHIRPSTACK_UP);
        assert_eq!(u.dev_eui, "0101010101010101");
        assert_eq!((u.f_cnt, u.f_port, u.data.clone()), (0, 1, vec![0xaa]), "fCnt missing: its default 0");
        assert_eq!(u.time, Some(1_658_136_855), "2022-07-18T09:34:15.775023242Z");
        assert_eq!(
            u.gateways,
            vec![GatewayReception { gateway: "0016C001F153A14C".into(), at: None, rssi: Some(-36), snr: Some(10.5) }]
        );
    }

    #[test]
    fn chirpstack_with_every_default_missing_and_gateway_times() {
        let u = uplink(
            "chirpstack",
            r#"{"time":"2026-11-19T10:00:00Z","deviceInfo":{"devEui":"a1b2c3d4e5f60708"},"txInfo":{"frequency":868100000}}"#,
        );
        assert_eq!((u.dev_eui.as_str(), u.f_cnt, u.f_port, u.data.len(), u.gateways.len()), ("A1B2C3D4E5F60708", 0, 0, 0, 0));
        let u = uplink(
            "chirpstack",
            r#"{"time":"2026-11-19T10:00:00.5Z","deviceInfo":{"devEui":"A1B2C3D4E5F60708"},"fCnt":4294967295,"fPort":101,"data":"AQI=",
                "rxInfo":[{"gatewayId":"aa555a0000000001","rssi":-101,"snr":-7.25,"gwTime":"2026-11-19T09:59:59.9Z"},
                          {"gatewayId":"aa555a0000000002","rssi":-95,"gwTime":"1980-01-06T00:00:00Z","nsTime":"2026-11-19T10:00:00.1Z"}]}"#,
        );
        assert_eq!((u.f_cnt, u.f_port, u.data.clone()), (u32::MAX, 101, vec![1, 2]));
        assert_eq!(u.gateways[0].at, Some(1_795_082_399), "the gateway's own time");
        assert_eq!(u.gateways[1].at, Some(1_795_082_400), "a gateway clock far off: the server's time");
        assert_eq!(u.gateways[1].snr, None);
        // ChirpStack v3's JSON: DevEUI in base64, gatewayID, loRaSNR.
        let u = uplink("chirpstack", r#"{"devEUI":"AgICAgICAgI=","fCnt":10,"fPort":5,"data":"AQ==","rxInfo":[{"gatewayID":"0303030303030303","rssi":-48,"loRaSNR":9}]}"#);
        assert_eq!((u.dev_eui.as_str(), u.gateways[0].snr, u.time), ("0202020202020202", Some(9.0), None));
    }

    #[test]
    fn chirpstack_events_that_are_not_uplinks_are_skipped() {
        let device = r#""deviceInfo":{"devEui":"0101010101010101"},"time":"2022-07-18T09:34:15Z""#;
        for other in [
            format!(r#"{{{device},"devAddr":"00189440"}}"#),                                       // join
            format!(r#"{{{device},"margin":6,"externalPowerSource":false,"batteryLevel":75.5}}"#), // status
            format!(r#"{{{device},"queueItemId":"x","acknowledged":true,"fCntDown":7}}"#),          // ack
            format!(r#"{{{device},"downlinkId":1,"queueItemId":"x","fCntDown":7,"gatewayId":"01","txInfo":{{}}}}"#), // txack
            format!(r#"{{{device},"level":"ERROR","code":"UPLINK_CODEC","description":"x"}}"#),    // log
            format!(r#"{{{device},"location":{{"latitude":1.0,"longitude":2.0}}}}"#),               // location
            format!(r#"{{{device},"integrationName":"loracloud","eventType":"x","object":{{}}}}"#), // integration
        ] {
            assert_eq!(parse("chirpstack", other.as_bytes()), Ok(Event::Other), "{other}");
        }
    }

    #[test]
    fn the_things_stack_documented_uplink() {
        let u = uplink("tts", TTS_UP);
        assert_eq!((u.dev_eui.as_str(), u.f_cnt, u.f_port), ("4200000000000000", 0, 15), "f_cnt omitted: 0");
        assert_eq!(u.data, b"Temperature = 0.0");
        assert_eq!(u.time, None, "this sample has no received_at");
        assert_eq!(u.gateways, vec![GatewayReception { gateway: "0242020000247803".into(), at: Some(1_548_766_954), rssi: Some(-35), snr: Some(5.0) }]);
    }

    #[test]
    fn the_things_stack_variants() {
        let u = uplink(
            "tts",
            r#"{"end_device_ids":{"device_id":"d","dev_eui":"70b3d57ed0000001"},"received_at":"2026-11-19T10:00:00.123456789Z",
                "uplink_message":{"f_cnt":42,"rx_metadata":[{"gateway_ids":{"gateway_id":"packetbroker"},"channel_rssi":-110.4}]}}"#,
        );
        assert_eq!((u.f_cnt, u.f_port, u.data.len(), u.time), (42, 0, 0, Some(1_795_082_400)), "empty fields omitted");
        assert_eq!(u.gateways[0].gateway, "packetbroker");
        assert_eq!(u.gateways[0].rssi, Some(-110));
        for other in [
            r#"{"end_device_ids":{"dev_eui":"70B3D57ED0000001"},"join_accept":{"session_key_id":"x"}}"#,
            r#"{"end_device_ids":{"dev_eui":"70B3D57ED0000001"},"downlink_ack":{"f_port":1}}"#,
            r#"{"end_device_ids":{"dev_eui":"70B3D57ED0000001"},"location_solved":{}}"#,
            r#"{"end_device_ids":{"dev_eui":"70B3D57ED0000001"},"service_data":{}}"#,
        ] {
            assert_eq!(parse("tts", other.as_bytes()), Ok(Event::Other), "{other}");
        }
    }

    #[test]
    fn malformed_events_say_why() {
        assert!(bad("chirpstack", r#"{"deviceInfo":{"devEui":"01"#).starts_with("not JSON"));
        assert!(bad("tts", "[1,2]").contains("not a JSON object"));
        assert!(bad("chirpstack", r#"{"deviceInfo":{"devEui":"0101010101010101"},"fPort":1,"data":"q*=="}"#).contains("not base64"));
        assert!(bad("tts", r#"{"end_device_ids":{"dev_eui":"4200000000000000"},"uplink_message":{"frm_payload":"%%%"}}"#).contains("not base64"));
        assert!(bad("chirpstack", r#"{"deviceInfo":{"devEui":"01010101010101"},"fPort":1}"#).contains("not 16 hexadecimal digits"));
        assert!(bad("chirpstack", r#"{"deviceInfo":{"devEui":"010101010101010G"},"fPort":1}"#).contains("not 16 hexadecimal digits"));
        assert!(bad("chirpstack", r#"{"fPort":1,"data":"qg=="}"#).contains("no DevEUI"));
        assert!(bad("tts", r#"{"end_device_ids":{"device_id":"abp-1"},"uplink_message":{}}"#).contains("no DevEUI"));
        assert!(bad("chirpstack", r#"{"deviceInfo":{"devEui":"0101010101010101"},"fPort":300}"#).contains("fPort"));
        assert!(bad("chirpstack", r#"{"deviceInfo":{"devEui":"0101010101010101"},"fCnt":-1}"#).contains("fCnt"));
        assert!(bad("chirpstack", r#"{"deviceInfo":{"devEui":"0101010101010101"},"fPort":1,"time":"yesterday"}"#).contains("RFC 3339"));
        let big = {
            use base64::Engine;
            base64::engine::general_purpose::STANDARD.encode(vec![0u8; 257])
        };
        assert!(bad("chirpstack", &format!(r#"{{"deviceInfo":{{"devEui":"0101010101010101"}},"data":"{big}"}}"#)).contains("at most 256"));
        let many = vec![r#"{"gatewayId":"0016c001f153a14c"}"#; 65].join(",");
        assert!(bad("chirpstack", &format!(r#"{{"deviceInfo":{{"devEui":"0101010101010101"}},"rxInfo":[{many}]}}"#)).contains("65 rxInfo"));
        assert!(bad("chirpstack", TTS_UP).contains("format is chirpstack"));
        assert!(bad("tts", CHIRPSTACK_UP).contains("format is tts"));
        assert!(bad("tts", &" ".repeat(MAX_EVENT + 1)).contains("at most"));
        assert!(bad("chirpstack", r#"{"deviceInfo":{"devEui":"0101010101010101"},"rxInfo":[{"rssi":-3}]}"#).contains("gatewayId"));
    }
}
