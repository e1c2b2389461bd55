//! The registry of LoRaWAN objects: listed, edited one at a time, or imported from a CSV file
//! `dev_eui;serial;brand;model;payload;address;city;commissioned` (a header row, `;`, UTF-8
//! with or without BOM, dates YYYY-MM-DD). A file with a bad line stores nothing and names
//! every bad line and its field; importing a file again updates the devices it names.

use super::payload::{manufacturer_of_brand, PAYLOADS};
use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::store::lorawan::{Device, DeviceQuery, NewDevice};
use crate::store::{self, Store};
use serde::{Deserialize, Serialize};

/// The columns of the registry's CSV file, in order.
pub const CSV_COLUMNS: [&str; 8] = ["dev_eui", "serial", "brand", "model", "payload", "address", "city", "commissioned"];
/// The longest text a field takes.
const MAX_TEXT: usize = 200;
/// At most this many bad lines are listed when a file is refused.
const MAX_LISTED: usize = 100;

/// A device as a clerk gives it (`lorawan_device_set`).
#[derive(Debug, Clone, Default, Deserialize)]
pub struct DeviceInput {
    pub dev_eui: String,
    #[serde(default)]
    pub serial: String,
    /// Three letters; empty: from the brand when it is a known one.
    #[serde(default)]
    pub manufacturer: String,
    #[serde(default)]
    pub brand: String,
    #[serde(default)]
    pub model: String,
    /// `wmbus-app`, `wmbus-lobaro` or `raw` (the default).
    #[serde(default)]
    pub payload: Option<String>,
    #[serde(default)]
    pub address: String,
    #[serde(default)]
    pub city: String,
    #[serde(default)]
    pub commissioned: Option<String>,
    #[serde(default)]
    pub decommissioned: Option<String>,
}

/// A device checked: (field, reason) of the first field that is wrong.
fn checked(d: &DeviceInput) -> std::result::Result<NewDevice, (&'static str, String)> {
    let dev_eui = d.dev_eui.trim();
    if dev_eui.len() != 16 || !dev_eui.bytes().all(|b| b.is_ascii_hexdigit()) {
        return Err(("dev_eui", format!("'{}' is not 16 hexadecimal digits", cut(dev_eui))));
    }
    let text = |field: &'static str, v: &str| -> std::result::Result<String, (&'static str, String)> {
        let v = v.trim();
        if v.chars().count() > MAX_TEXT || v.chars().any(char::is_control) {
            return Err((field, format!("at most {MAX_TEXT} characters, no control characters")));
        }
        Ok(v.to_string())
    };
    let serial = text("serial", &d.serial)?;
    if serial.chars().count() > 32 {
        return Err(("serial", "at most 32 characters".into()));
    }
    let brand = text("brand", &d.brand)?;
    let manufacturer = match d.manufacturer.trim() {
        "" => manufacturer_of_brand(&brand).unwrap_or_default(),
        m if m.len() == 3 && m.bytes().all(|b| b.is_ascii_alphabetic()) => m.to_ascii_uppercase(),
        m => return Err(("manufacturer", format!("'{}' is not three letters (KAM, DME, ...)", cut(m)))),
    };
    let payload = d.payload.as_deref().map(str::trim).filter(|p| !p.is_empty()).unwrap_or("raw").to_ascii_lowercase();
    if !PAYLOADS.contains(&payload.as_str()) {
        return Err(("payload", format!("'{}' is not one of {}", cut(&payload), PAYLOADS.join(", "))));
    }
    let date = |field: &'static str, v: &Option<String>| -> std::result::Result<Option<String>, (&'static str, String)> {
        match v.as_deref().map(str::trim).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => chrono::NaiveDate::parse_from_str(v, "%Y-%m-%d")
                .ok()
                .filter(|d| (1970..=2200).contains(&chrono::Datelike::year(d)))
                .map(|d| Some(d.format("%Y-%m-%d").to_string()))
                .ok_or_else(|| (field, format!("'{}' is not a date like 2025-01-31", cut(v)))),
        }
    };
    let commissioned = date("commissioned", &d.commissioned)?;
    let decommissioned = date("decommissioned", &d.decommissioned)?;
    if let (Some(c), Some(x)) = (&commissioned, &decommissioned) {
        if x < c {
            return Err(("decommissioned", format!("{x} is before the commissioning date {c}")));
        }
    }
    Ok(NewDevice {
        dev_eui: dev_eui.to_ascii_uppercase(),
        serial,
        manufacturer,
        model: text("model", &d.model)?,
        brand,
        payload,
        address: text("address", &d.address)?,
        city: text("city", &d.city)?,
        commissioned,
        decommissioned,
    })
}

fn cut(s: &str) -> String {
    s.chars().take(40).collect()
}

#[derive(Debug, Clone, Serialize)]
pub struct DevicesPage {
    pub devices: Vec<Device>,
    pub total: i64,
}

/// A page of the registry, by DevEUI, filtered by text (DevEUI, serial, brand, model,
/// address, commune) and payload format.
pub fn lorawan_devices(store: &Store, session: &Session, q: &DeviceQuery<'_>) -> Result<DevicesPage> {
    session.permit(Permission::View)?;
    let (total, devices) = store::lorawan::list(&*store.reader()?, q)?;
    Ok(DevicesPage { devices, total })
}

/// Add or change one device (needs `settings`, audited).
pub fn lorawan_device_set(store: &Store, session: &Session, d: &DeviceInput, now: i64) -> Result<Device> {
    let permit = session.permit(Permission::Settings)?;
    let new = checked(d).map_err(|(field, reason)| Error::bad_input(field, reason))?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let created = store::lorawan::upsert(&tx, &new, now)?;
    let details = format!("{} {}: {} {} {} {}, {}", if created { "added" } else { "changed" }, new.dev_eui, new.payload, new.brand, new.model, new.serial, new.city);
    store::audit::record_permit(&tx, permit, now, "lorawan_device_set", &details)?;
    let device = store::lorawan::get(&tx, &new.dev_eui)?.ok_or_else(|| Error::not_found(format!("device {}", new.dev_eui)))?;
    tx.commit()?;
    Ok(device)
}

#[derive(Debug, Clone, Default, Serialize, PartialEq)]
pub struct DevicesImport {
    pub name: String,
    pub rows: u64,
    pub created: u64,
    pub updated: u64,
}

/// Import the registry's CSV file `name` (needs `settings`, audited): every line checked
/// first; one bad line and nothing is stored (`bad_lines`, each bad line with its field).
/// A device already registered is updated; its manufacturer, when set, and its
/// decommissioning date are kept.
pub fn lorawan_devices_import(store: &Store, session: &Session, name: &str, content: &[u8], now: i64) -> Result<DevicesImport> {
    let permit = session.permit(Permission::Settings)?;
    let rows = parse_csv(name, content)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let mut report = DevicesImport { name: name.to_string(), rows: rows.len() as u64, ..DevicesImport::default() };
    for mut row in rows {
        if let Some(old) = store::lorawan::get(&tx, &row.dev_eui)? {
            if !old.manufacturer.is_empty() {
                row.manufacturer = old.manufacturer;
            }
            row.decommissioned = old.decommissioned;
        }
        if store::lorawan::upsert(&tx, &row, now)? {
            report.created += 1;
        } else {
            report.updated += 1;
        }
    }
    let details = format!("{name}: {} devices, {} added, {} updated", report.rows, report.created, report.updated);
    store::audit::record_permit(&tx, permit, now, "lorawan_devices_import", &details)?;
    tx.commit()?;
    Ok(report)
}

/// The devices of a registry CSV file, or every bad line (line, `field: reason`).
fn parse_csv(name: &str, content: &[u8]) -> Result<Vec<NewDevice>> {
    let content = crate::import::text::utf8(name, content)?;
    let text = std::str::from_utf8(&content).map_err(|e| {
        let line = 1 + content[..e.valid_up_to()].iter().filter(|b| **b == b'\n').count() as u64;
        Error::BadLines { source_name: name.to_string(), lines: vec![(line, "not UTF-8 text (save the file as UTF-8)".into())], count: 1 }
    })?;
    let mut reader = csv::ReaderBuilder::new().delimiter(b';').has_headers(false).flexible(true).from_reader(text.as_bytes());
    let mut bad: Vec<(u64, crate::import::line::LineProblem)> = Vec::new();
    let mut devices: Vec<(u64, NewDevice)> = Vec::new();
    let mut header_seen = false;
    for record in reader.records() {
        let record = record?;
        let line = record.position().map_or(0, |p| p.line());
        let fields: Vec<&str> = record.iter().map(str::trim).collect();
        if fields.iter().all(|f| f.is_empty()) {
            continue;
        }
        if !header_seen {
            header_seen = true;
            let header: Vec<String> = fields.iter().map(|f| f.to_ascii_lowercase()).collect();
            if header != CSV_COLUMNS {
                bad.push((line, format!("the header row is not {}", CSV_COLUMNS.join(";")).into()));
                break;
            }
            continue;
        }
        if fields.len() != CSV_COLUMNS.len() {
            bad.push((line, format!("{} fields where a row has {} ({})", fields.len(), CSV_COLUMNS.len(), CSV_COLUMNS.join(";")).into()));
            continue;
        }
        let input = DeviceInput {
            dev_eui: fields[0].to_string(),
            serial: fields[1].to_string(),
            manufacturer: String::new(),
            brand: fields[2].to_string(),
            model: fields[3].to_string(),
            payload: Some(fields[4].to_string()),
            address: fields[5].to_string(),
            city: fields[6].to_string(),
            commissioned: Some(fields[7].to_string()),
            decommissioned: None,
        };
        match checked(&input) {
            Ok(d) => match devices.iter().find(|(_, o)| o.dev_eui == d.dev_eui) {
                Some((first, _)) => bad.push((line, format!("dev_eui: {} is already on line {first}", d.dev_eui).into())),
                None => devices.push((line, d)),
            },
            Err((field, reason)) => bad.push((line, format!("{field}: {reason}").into())),
        }
    }
    if !header_seen {
        bad.push((1, format!("an empty file (a header row {} then one device a line)", CSV_COLUMNS.join(";")).into()));
    }
    if !bad.is_empty() {
        let count = bad.len();
        return Err(Error::BadLines { source_name: name.to_string(), lines: bad.into_iter().take(MAX_LISTED).collect(), count });
    }
    Ok(devices.into_iter().map(|(_, d)| d).collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(content: &str) -> Vec<(u64, String)> {
        match parse_csv("objets.csv", content.as_bytes()) {
            Err(Error::BadLines { lines, .. }) => lines.into_iter().map(|(n, r)| (n, r.to_string())).collect(),
            other => panic!("refused: {other:?}"),
        }
    }

    #[test]
    fn a_registry_file_with_bom_and_header() {
        let file = "\u{feff}dev_eui;serial;brand;model;payload;address;city;commissioned\r\n\
                    70b3d5e75e00a1b2;12345678;Kamstrup;flowIQ 2200;wmbus-app;3 rue de la Paix;Saint-Chamond;2024-03-01\r\n\
                    \r\n\
                    70B3D5E75E00A1B3;;Lobaro;wMBus Bridge;wmbus-lobaro;Place de la Liberté;Saint-Chamond;\r\n";
        let d = parse_csv("objets.csv", file.as_bytes()).expect("file");
        assert_eq!(d.len(), 2);
        assert_eq!((d[0].dev_eui.as_str(), d[0].manufacturer.as_str(), d[0].commissioned.as_deref()), ("70B3D5E75E00A1B2", "KAM", Some("2024-03-01")));
        assert_eq!((d[1].payload.as_str(), d[1].address.as_str(), d[1].commissioned.as_deref()), ("wmbus-lobaro", "Place de la Liberté", None));
    }

    #[test]
    fn bad_lines_name_their_line_and_field() {
        let head = "dev_eui;serial;brand;model;payload;address;city;commissioned\n";
        let file = format!(
            "{head}70B3D5E75E00A1B2;1;K;M;raw;a;c;2024-02-30\n70B3D5E75E00A1;1;K;M;raw;a;c;\n70B3D5E75E00A1B4;1;K;M;lora;a;c;\n70B3D5E75E00A1B5;1;K\n70B3D5E75E00A1B6;1;K;M;raw;a;c;\n70b3d5e75e00a1b6;1;K;M;raw;a;c;\n"
        );
        let bad = lines(&file);
        assert_eq!(bad.len(), 5, "{bad:?}");
        assert!(bad[0].0 == 2 && bad[0].1.starts_with("commissioned:"), "{bad:?}");
        assert!(bad[1].0 == 3 && bad[1].1.starts_with("dev_eui:"), "{bad:?}");
        assert!(bad[2].0 == 4 && bad[2].1.starts_with("payload:"), "{bad:?}");
        assert!(bad[3].0 == 5 && bad[3].1.contains("3 fields"), "{bad:?}");
        assert!(bad[4].0 == 7 && bad[4].1.contains("already on line 6"), "{bad:?}");
        assert!(lines("serial;dev_eui\n")[0].1.contains("header"));
        assert!(lines("")[0].1.contains("empty file"));
    }
}
