//! What a LoRaWAN payload carries, by the registry's payload format: `wmbus-app` (an M-Bus
//! application layer from its CI byte, as Kamstrup's native LoRaWAN meters send it, wrapped
//! here in a wireless M-Bus link layer so it takes the one decoding path), `wmbus-lobaro`
//! (wireless M-Bus telegrams forwarded by a Lobaro bridge, whole or in parts, and the
//! bridge's daily status). Pure.

/// The registry's payload formats.
pub const PAYLOADS: [&str; 3] = ["wmbus-app", "wmbus-lobaro", "raw"];

/// The link-layer identity a `wmbus-app` payload without a long header is sent under.
#[derive(Debug, Clone, PartialEq)]
pub struct LinkIdentity {
    /// Three letters (KAM, ...).
    pub manufacturer: String,
    /// The meter's 8-digit number.
    pub serial: String,
    pub version: u8,
    pub device_type: u8,
}

/// CI fields an M-Bus application layer may begin with that the decoder reads: long (72),
/// short (7A) and no (78) transport header, Kamstrup compact frames (79), extended link
/// layers (8C-8F) and the authentication and fragmentation layer (90).
const APPLICATION_CI: [u8; 9] = [0x72, 0x7A, 0x78, 0x79, 0x8C, 0x8D, 0x8E, 0x8F, 0x90];
/// The C field of the frame built around an application layer: SND_NR, as meters send.
const C_SND_NR: u8 = 0x44;

/// A wireless M-Bus frame (L C M A, no CRCs) around an application layer `app` that begins
/// with its CI byte. A long header (CI 72) names its meter; otherwise `identity` gives the
/// link address (the IV of an encrypted short header is made from it).
pub fn app_frame(app: &[u8], identity: Option<&LinkIdentity>) -> Result<Vec<u8>, String> {
    let Some(&ci) = app.first() else { return Err("an empty payload".into()) };
    if !APPLICATION_CI.contains(&ci) {
        return Err(format!("not an M-Bus application layer: it begins with {ci:02X} (72, 7A or 78 expected)"));
    }
    if app.len() > 255 - 9 {
        return Err(format!("an application layer of {} bytes does not fit a wireless M-Bus frame", app.len()));
    }
    let (m, a) = if ci == 0x72 {
        // CI, id (4), manufacturer (2), version, device type, access number, status, config.
        let header = app.get(1..9).ok_or_else(|| format!("a long header cut short ({} bytes)", app.len()))?;
        ([header[4], header[5]], [header[0], header[1], header[2], header[3], header[6], header[7]])
    } else {
        let id = identity.ok_or("the registry names no meter for this device (serial and manufacturer)")?;
        let m = mbus::manufacturer_code(&id.manufacturer)
            .ok_or_else(|| format!("manufacturer '{}' is not three letters", id.manufacturer))?
            .to_le_bytes();
        let serial = id_bytes(&id.serial).ok_or_else(|| format!("serial '{}' is not the meter's 8 digits", id.serial))?;
        (m, [serial[0], serial[1], serial[2], serial[3], id.version, id.device_type])
    };
    let mut frame = Vec::with_capacity(app.len() + 10);
    frame.push(u8::try_from(app.len() + 9).map_err(|_| "too long".to_string())?);
    frame.push(C_SND_NR);
    frame.extend_from_slice(&m);
    frame.extend_from_slice(&a);
    frame.extend_from_slice(app);
    Ok(frame)
}

/// A meter number of 8 digits as the link layer sends it (least significant pair first).
fn id_bytes(serial: &str) -> Option<[u8; 4]> {
    let s = serial.trim();
    if s.len() != 8 || !s.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    u32::from_str_radix(s, 16).ok().map(u32::to_le_bytes)
}

/// The device type a meter of this brand and model most likely sends, when nothing better is
/// known (no telegram of it with a long header yet): Kamstrup flowIQ and MULTICAL 21 are
/// water meters, other MULTICALs heat meters, OMNIPOWER electricity meters.
pub fn likely_device_type(model: &str) -> u8 {
    let m = model.to_ascii_lowercase();
    if m.contains("flowiq") || m.contains("multical 21") || m.contains("multical21") || m.contains("water") || m.contains("eau") {
        0x07
    } else if m.contains("multical") || m.contains("heat") || m.contains("chaleur") {
        0x04
    } else if m.contains("omnipower") || m.contains("electric") {
        0x02
    } else {
        0x00
    }
}

/// The manufacturer code of a brand's name (or of a three-letter code given as the brand).
pub fn manufacturer_of_brand(brand: &str) -> Option<String> {
    const BRANDS: &[(&str, &str)] = &[
        ("kamstrup", "KAM"),
        ("diehl", "DME"),
        ("sappel", "SAP"),
        ("hydrometer", "HYD"),
        ("itron", "ITW"),
        ("sensus", "SEN"),
        ("elster", "ELS"),
        ("honeywell", "ELS"),
        ("landis", "LUG"),
        ("zenner", "ZRI"),
        ("apator", "APA"),
        ("techem", "TCH"),
        ("qundis", "QDS"),
        ("engelmann", "EFE"),
        ("sontex", "SON"),
        ("axioma", "AXI"),
        ("b meters", "BMT"),
        ("bmeters", "BMT"),
        ("maddalena", "MAD"),
        ("lobaro", "LOB"),
    ];
    let b = brand.trim();
    if b.len() == 3 && b.bytes().all(|c| c.is_ascii_alphabetic()) {
        return Some(b.to_ascii_uppercase());
    }
    let lower = b.to_ascii_lowercase();
    BRANDS.iter().find(|(name, _)| lower.starts_with(name)).map(|(_, code)| (*code).to_string())
}

/// What an uplink of a Lobaro wireless M-Bus bridge is, by its port.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Lobaro {
    /// Port 1: the daily status.
    Status,
    /// A telegram or a part of one: format 0 (port 10 x part + parts), 1 (port 101) or 2
    /// (port 102, with the RSSI).
    Part(PartKind),
    /// Another port: not a telegram.
    Other,
}

/// Where a part sits in its telegram.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct PartKind {
    pub format: u8,
    pub first: bool,
    pub last: bool,
    /// Format 0: (part, parts), from 1.
    pub index: Option<(u8, u8)>,
}

/// The kind of a Lobaro uplink on `port` carrying `data`.
pub fn lobaro(port: u8, data: &[u8]) -> Lobaro {
    match port {
        1 => Lobaro::Status,
        11..=99 => {
            let (part, parts) = (port / 10, port % 10);
            if parts == 0 || part > parts {
                return Lobaro::Other;
            }
            Lobaro::Part(PartKind { format: 0, first: part == 1, last: part == parts, index: Some((part, parts)) })
        }
        101 | 102 => match data.first() {
            Some(flags) => Lobaro::Part(PartKind { format: port - 100, first: flags & 1 != 0, last: flags & 2 != 0, index: None }),
            None => Lobaro::Other,
        },
        _ => Lobaro::Other,
    }
}

/// A part's bytes that belong to the telegram (formats 1 and 2: after the flags byte).
pub fn part_bytes(kind: PartKind, data: &[u8]) -> &[u8] {
    if kind.format == 0 {
        data
    } else {
        data.get(1..).unwrap_or(&[])
    }
}

/// A telegram a Lobaro bridge forwarded, out of its reassembled payload.
#[derive(Debug, Clone, PartialEq)]
pub struct Forwarded {
    /// From its L field, data-link CRCs removed (L made to count what is there).
    pub telegram: Vec<u8>,
    /// When the bridge received it (formats 1 and 2).
    pub time: Option<i64>,
    /// The bridge's RSSI (format 2), dBm.
    pub rssi: Option<i64>,
}

/// The telegram of a whole payload of `format`: format 0 the telegram alone, format 1 a
/// 5-byte big-endian Unix time then the telegram, format 2 the time, the negated RSSI, then
/// the telegram.
pub fn forwarded(format: u8, payload: &[u8]) -> Result<Forwarded, String> {
    let head = match format {
        0 => 0,
        1 => 5,
        _ => 6,
    };
    let (time, rssi) = if format == 0 {
        (None, None)
    } else {
        let t = payload.get(..5).ok_or_else(|| format!("{} bytes where a format {format} payload begins with 5 bytes of time", payload.len()))?;
        let time = t.iter().fold(0i64, |acc, b| (acc << 8) | i64::from(*b));
        let rssi = if format == 2 { payload.get(5).map(|r| -i64::from(*r)) } else { None };
        (Some(time), rssi)
    };
    let telegram = payload.get(head..).unwrap_or(&[]);
    if telegram.len() < 11 {
        return Err(format!("a telegram of {} bytes (a wireless M-Bus telegram has at least 11)", telegram.len()));
    }
    let telegram = mbus::frame_without_crcs(telegram).unwrap_or_else(|| telegram.to_vec());
    Ok(Forwarded { telegram, time, rssi })
}

/// The daily status of a Lobaro bridge (port 1).
#[derive(Debug, Clone, PartialEq, serde::Serialize)]
pub struct BridgeStatus {
    pub firmware: String,
    pub battery_mv: u16,
    /// `None` where the hardware has no sensor (0xFFFF).
    pub temperature_c: Option<f64>,
}

/// Read a status payload: firmware version (3 bytes), battery (mV, 16 bits little-endian),
/// temperature (0.1 °C, signed 16 bits little-endian).
pub fn bridge_status(data: &[u8]) -> Option<BridgeStatus> {
    let [a, b, c, v0, v1, t0, t1] = <[u8; 7]>::try_from(data).ok()?;
    let raw = i16::from_le_bytes([t0, t1]);
    Some(BridgeStatus {
        firmware: format!("{a}.{b}.{c}"),
        battery_mv: u16::from_le_bytes([v0, v1]),
        temperature_c: (raw != -1).then(|| f64::from(raw) / 10.0),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lobaro_ports() {
        let p = |first, last, index| Lobaro::Part(PartKind { format: 0, first, last, index });
        assert_eq!(lobaro(11, &[1]), p(true, true, Some((1, 1))));
        assert_eq!(lobaro(12, &[1]), p(true, false, Some((1, 2))));
        assert_eq!(lobaro(22, &[1]), p(false, true, Some((2, 2))));
        assert_eq!(lobaro(23, &[1]), p(false, false, Some((2, 3))));
        assert_eq!(lobaro(10, &[1]), Lobaro::Other);
        assert_eq!(lobaro(32, &[1]), Lobaro::Other);
        assert_eq!(lobaro(1, &[1]), Lobaro::Status);
        assert_eq!(lobaro(101, &[3, 9]), Lobaro::Part(PartKind { format: 1, first: true, last: true, index: None }));
        assert_eq!(lobaro(102, &[0, 9]), Lobaro::Part(PartKind { format: 2, first: false, last: false, index: None }));
        assert_eq!(lobaro(101, &[]), Lobaro::Other);
        assert_eq!(lobaro(7, &[1]), Lobaro::Other);
    }

    #[test]
    fn lobaro_documented_samples() {
        // Lobaro's documentation: an uplink of 21 bytes on port 101, 22 on port 102, their
        // telegram the dummy 0102...0f.
        let one = hex::decode("03005e53f31a0102030405060708090a0b0c0d0e0f").expect("hex");
        let Lobaro::Part(kind) = lobaro(101, &one) else { panic!("a part") };
        assert!(kind.first && kind.last);
        let f = forwarded(1, part_bytes(kind, &one)).expect("forwarded");
        assert_eq!(f.time, Some(0x005e53f31a), "2020-02-24T16:03:38Z");
        assert_eq!((f.rssi, f.telegram.len()), (None, 15));
        let two = hex::decode("03005e53f31a3f0102030405060708090a0b0c0d0e0f").expect("hex");
        let f = forwarded(2, part_bytes(kind, &two)).expect("forwarded");
        assert_eq!((f.time, f.rssi), (Some(1_582_560_026), Some(-63)));
        assert_eq!(f.telegram[0], 0x01);
        assert!(forwarded(1, &[0, 1, 2]).expect_err("short").contains("5 bytes of time"));
        assert!(forwarded(0, &[9; 5]).expect_err("short").contains("at least 11"));
    }

    #[test]
    fn bridge_status_of_port_1() {
        let s = bridge_status(&[0, 3, 1, 0xBC, 0x0B, 0xD7, 0x00]).expect("status");
        assert_eq!(s, BridgeStatus { firmware: "0.3.1".into(), battery_mv: 3004, temperature_c: Some(21.5) });
        assert_eq!(bridge_status(&[1, 0, 0, 0xBC, 0x0B, 0xFF, 0xFF]).expect("status").temperature_c, None);
        assert_eq!(bridge_status(&[1, 2, 3]), None);
    }

    #[test]
    fn brands_and_models() {
        assert_eq!(manufacturer_of_brand("Kamstrup A/S").as_deref(), Some("KAM"));
        assert_eq!(manufacturer_of_brand("kaw").as_deref(), Some("KAW"));
        assert_eq!(manufacturer_of_brand("Adeunis"), None);
        assert_eq!(likely_device_type("flowIQ 2200"), 0x07);
        assert_eq!(likely_device_type("MULTICAL 403"), 0x04);
        assert_eq!(likely_device_type("Field Test Device"), 0x00);
    }

    fn kamstrup() -> LinkIdentity {
        LinkIdentity { manufacturer: "KAW".into(), serial: "53885758".into(), version: 0x3c, device_type: 0x16 }
    }

    fn volume(t: &mbus::Telegram, storage: u32) -> Option<f64> {
        t.records.iter().find_map(|r| match (r.quantity, r.storage, &r.value) {
            (mbus::Quantity::Volume, s, mbus::Value::Number(v)) if s == storage => Some(*v),
            _ => None,
        })
    }

    /// Kamstrup flowIQ 2200 payloads of The Things Network's device repository
    /// (vendor/kamstrup/mbusparser.yaml): CI 78, 7A and 72 on fPort 1.
    #[test]
    fn kamstrup_application_layers_decode_with_their_values() {
        // 78, no transport header: the midnight log, 0.236 m3 on 2023-10-19 00:00.
        let app = hex::decode("78446D0020F32A4413EC00000052FF25100042FF1C0500623B0000523B0000615B80515B80").expect("hex");
        let t = mbus::decode(&app_frame(&app, Some(&kamstrup())).expect("frame"), None).expect("decodes");
        assert_eq!((t.address.id.as_str(), t.address.manufacturer.as_str()), ("53885758", "KAW"));
        assert_eq!(volume(&t, 1), Some(0.236));
        assert!(t.records.iter().any(|r| r.value == mbus::Value::Text("2023-10-19T00:00".into())), "{:?}", t.records);
        // 7A, a short header (access number 08, no encryption): 7,842.497 m3.
        let app = hex::decode("7A08000000446D002CFD284413C1AA77004D931318620127012201220126012201220121012701220122012701").expect("hex");
        let t = mbus::decode(&app_frame(&app, Some(&kamstrup())).expect("frame"), None).expect("decodes");
        assert_eq!(volume(&t, 1), Some(7842.497));
        assert_eq!(t.access_number, 8);
        // 72, a long header: it names the meter itself (KAW 53885758, cold water, version 3C),
        // whatever the registry says.
        let app = hex::decode("72585788533 72C3C16D610080004FF16BF587000".replace(' ', "")).expect("hex");
        let t = mbus::decode(&app_frame(&app, None).expect("frame"), None).expect("decodes");
        assert_eq!((t.address.id.as_str(), t.address.manufacturer.as_str(), t.address.version), ("53885758", "KAW", 0x3c));
        assert_eq!(t.address.device_type, mbus::DeviceType::ColdWater);
    }

    /// An encrypted short header (OMS mode 5): the IV is made of the link address, so the
    /// frame built from the registry's identity decrypts with the meter's key.
    #[test]
    fn an_encrypted_short_header_decrypts_under_the_registry_address() {
        let key = mbus::AesKey::from_hex("000102030405060708090A0B0C0D0E0F").expect("key");
        let spec = mbus::encode::FrameSpec {
            manufacturer: "KAM",
            id: "12345678",
            version: 0x1b,
            device_type: mbus::DeviceType::Water,
            access_number: 0x42,
            status: 0,
        };
        let payload = [0x04, 0x13, 0x39, 0x30, 0x00, 0x00]; // 12.345 m3
        let sent = mbus::encode::wmbus_frame(&spec, &payload, Some(&key));
        let app = &sent[10..]; // what the LoRaWAN module sends: from the CI byte
        assert_eq!(app[0], 0x7A);
        let id = LinkIdentity { manufacturer: "KAM".into(), serial: "12345678".into(), version: 0x1b, device_type: 0x07 };
        let frame = app_frame(app, Some(&id)).expect("frame");
        assert_eq!(frame, sent, "the same frame the meter would send by radio");
        let t = mbus::decode(&frame, Some(&key)).expect("decodes");
        assert_eq!(t.security.status, mbus::SecurityStatus::Ok);
        assert_eq!(volume(&t, 0), Some(12.345));
        // Another manufacturer: another IV, the 2F2F check fails. (Another serial, version or
        // device type would only garble the first block's bytes 2 to 7: the registry and
        // the park must know the meter's true address.)
        let wrong = LinkIdentity { manufacturer: "KAW".into(), ..id };
        let t = mbus::decode(&app_frame(app, Some(&wrong)).expect("frame"), Some(&key)).expect("decodes");
        assert_eq!(t.security.status, mbus::SecurityStatus::WrongKey);
    }

    #[test]
    fn app_frames_refused_in_words() {
        let id = LinkIdentity { manufacturer: "KAM".into(), serial: "12345678".into(), version: 0x1b, device_type: 7 };
        assert!(app_frame(&[], Some(&id)).expect_err("empty").contains("empty"));
        assert!(app_frame(&[0x12, 0], Some(&id)).expect_err("ci").contains("begins with 12"));
        assert!(app_frame(&[0x78, 0x04, 0x13, 1, 0, 0, 0], None).expect_err("nobody").contains("registry"));
        let bad = LinkIdentity { serial: "1234".into(), ..id.clone() };
        assert!(app_frame(&[0x78, 0x04, 0x13, 1, 0, 0, 0], Some(&bad)).expect_err("serial").contains("8 digits"));
        assert!(app_frame(&[0x72, 1, 2], Some(&id)).expect_err("cut").contains("cut short"));
        assert!(app_frame(&vec![0x78; 250], Some(&id)).expect_err("long").contains("does not fit"));
        let f = app_frame(&[0x78, 0x04, 0x13, 1, 0, 0, 0], Some(&id)).expect("frame");
        assert_eq!(f[..10], [16, 0x44, 0x2D, 0x2C, 0x78, 0x56, 0x34, 0x12, 0x1b, 7]);
    }
}
