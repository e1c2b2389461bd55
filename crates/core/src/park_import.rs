//! Customers-and-meters import: a CSV from the billing system, read through a saved column
//! mapping (a profile, see `park_profiles`). Customers match by number, meters by serial
//! (+ manufacturer when given); a meter line attaches the meter to its customer. The whole
//! file is one transaction; a bad line is reported (line, column, reason) and skipped.

use crate::access::{require, Permission, Permit};
use crate::error::{Error, Result};
use crate::problem::Reason;
use crate::store::customers::Customer;
use crate::store::profiles::Profile;
use crate::store::{self, Store};
use rusqlite::Connection;
use serde::Serialize;
use std::collections::HashMap;

/// Every field a profile may map, in the order the UI shows them.
pub const FIELDS: &[&str] = &[
    "customer_number",
    "customer_name",
    "address",
    "postal_code",
    "city",
    "email",
    "phone",
    "meter_serial",
    "manufacturer",
    "device_type",
    "installation_address",
    "latitude",
    "longitude",
    "groups",
];

#[derive(Debug, Clone, Serialize, PartialEq)]
pub struct ParkRejected {
    pub line: u64,
    /// The CSV column as the file names it (its header), or its number from 1.
    pub column: String,
    /// The mapped field (`customer_number`, ...).
    pub field: String,
    /// Why, as a code (`required`, `unknown_device_type`, `out_of_range`, ...) and the values
    /// to word it with (the UI's words); `reason` is the English wording.
    pub code: &'static str,
    pub params: serde_json::Map<String, serde_json::Value>,
    pub reason: String,
}

impl ParkRejected {
    fn new(line: u64, column: String, field: &str, reason: Reason) -> ParkRejected {
        ParkRejected { line, column, field: field.into(), code: reason.code(), params: reason.params(field), reason: reason.to_string() }
    }
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ParkReport {
    pub name: String,
    pub lines: u64,
    pub customers_added: u64,
    pub customers_changed: u64,
    pub customers_unchanged: u64,
    pub meters_added: u64,
    pub meters_changed: u64,
    pub meters_unchanged: u64,
    /// Meters a telegram import had created ('unassigned'), now active with their customer.
    pub meters_adopted: u64,
    pub rejected: Vec<ParkRejected>,
}

/// Text of a file: UTF-8 with or without BOM, else Latin-1 (old billing systems).
pub fn decode_text(bytes: &[u8]) -> String {
    let bytes = bytes.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(bytes);
    match std::str::from_utf8(bytes) {
        Ok(s) => s.to_string(),
        Err(_) => bytes.iter().map(|&b| b as char).collect(),
    }
}

/// The device types a file may name (the decoder's names: `water`, `heat`, ...).
pub fn device_types() -> Vec<&'static str> {
    (0u8..=0x1F)
        .map(mbus::DeviceType::from_code)
        .filter(|d| !matches!(d, mbus::DeviceType::Reserved(_)))
        .map(|d| d.name())
        .collect()
}

/// The device type a file names, in English (`water`, `heat_cost_allocator`, as the M-Bus
/// names them) or in French (`eau`, `électricité`, `chaleur`, `froid`, `gaz`, ...), whatever
/// the case and accents; None when unknown.
pub fn device_type_of(raw: &str) -> Option<&'static str> {
    let folded: String = raw
        .trim()
        .to_lowercase()
        .chars()
        .map(|c| match c {
            'à' | 'â' | 'ä' => 'a',
            'é' | 'è' | 'ê' | 'ë' => 'e',
            'î' | 'ï' => 'i',
            'ô' | 'ö' => 'o',
            'ù' | 'û' | 'ü' => 'u',
            'ç' => 'c',
            ' ' | '-' | '\'' | '’' => '_',
            c => c,
        })
        .collect();
    let folded = folded.replace("œ", "oe");
    let french = match folded.as_str() {
        "eau" | "eau_potable" => "water",
        "eau_froide" => "cold_water",
        "eau_chaude" | "eau_chaude_sanitaire" | "ecs" => "warm_water",
        "electricite" | "elec" => "electricity",
        "gaz" | "gaz_naturel" => "gas",
        "chaleur" | "calorimetre" | "energie_thermique" => "heat",
        "froid" | "frigories" | "energie_frigorifique" => "cooling_outlet",
        "chaud_froid" | "chaleur_froid" | "chaleur_et_froid" => "heat_cooling",
        "fioul" | "fuel" | "mazout" => "oil",
        "vapeur" => "steam",
        "repartiteur" | "repartiteur_de_frais_de_chauffage" => "heat_cost_allocator",
        "air_comprime" => "compressed_air",
        "pression" => "pressure",
        "detecteur_de_fumee" => "smoke_detector",
        "detecteur_de_gaz" => "gas_detector",
        "sonde_d_ambiance" | "capteur_d_ambiance" => "room_sensor",
        "autre" => "other",
        "inconnu" => "unknown",
        _ => "",
    };
    if !french.is_empty() {
        return Some(french);
    }
    device_types().into_iter().find(|d| *d == folded)
}

/// Import `content` (a file's bytes) through the profile named `profile`, in one transaction.
pub fn park_import(store: &Store, permit: Permit<'_>, profile: &str, name: &str, content: &[u8], now: i64) -> Result<ParkReport> {
    require(permit, Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let p = store::profiles::by_name(&tx, profile)?.ok_or_else(|| Error::not_found(format!("import profile '{profile}'")))?;
    let report = import_with(&tx, &p, name, content, now)?;
    let details = format!(
        "{name} ({profile}): customers {} added, {} changed; meters {} added, {} changed ({} adopted); {} rejected",
        report.customers_added,
        report.customers_changed,
        report.meters_added,
        report.meters_changed,
        report.meters_adopted,
        report.rejected.len()
    );
    store::audit::record_permit(&tx, permit, now, "park_import", &details)?;
    tx.commit()?;
    Ok(report)
}

/// One parsed CSV record with what is needed to name its columns.
struct Line<'a> {
    number: u64,
    cells: &'a csv::StringRecord,
    headers: &'a [String],
    mapping: &'a std::collections::BTreeMap<String, usize>,
}

impl Line<'_> {
    fn column(&self, field: &str) -> String {
        match self.mapping.get(field) {
            Some(&i) => self.headers.get(i).cloned().filter(|h| !h.is_empty()).unwrap_or_else(|| format!("{}", i + 1)),
            None => field.to_string(),
        }
    }
    /// The trimmed cell mapped to `field`, None when unmapped or empty.
    fn get(&self, field: &str) -> Option<String> {
        let i = *self.mapping.get(field)?;
        self.cells.get(i).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
    }
    fn reject(&self, field: &str, reason: Reason) -> ParkRejected {
        ParkRejected::new(self.number, self.column(field), field, reason)
    }
}

/// A line's values once checked.
struct Parsed {
    customer_number: String,
    serial: Option<String>,
    manufacturer: Option<String>,
    device_type: Option<String>,
    lat: Option<f64>,
    lon: Option<f64>,
    groups: Vec<String>,
}

fn coordinate(line: &Line<'_>, field: &str, limit: f64, errors: &mut Vec<ParkRejected>) -> Option<f64> {
    let raw = line.get(field)?;
    match raw.replace(',', ".").parse::<f64>() {
        Ok(v) if v.is_finite() && v.abs() <= limit => Some(v),
        Ok(v) => {
            errors.push(line.reject(field, Reason::OutOfRange { value: v, min: -limit, max: limit }));
            None
        }
        Err(_) => {
            errors.push(line.reject(field, Reason::NotANumber { value: raw }));
            None
        }
    }
}

fn check(line: &Line<'_>) -> std::result::Result<Parsed, Vec<ParkRejected>> {
    let mut errors = Vec::new();
    let customer_number = line.get("customer_number").unwrap_or_default();
    if customer_number.is_empty() {
        errors.push(line.reject("customer_number", Reason::Required));
    }
    let raw_type = line.get("device_type");
    let device_type = raw_type.as_deref().and_then(device_type_of).map(str::to_string);
    if let (Some(raw), None) = (&raw_type, &device_type) {
        let allowed = device_types().into_iter().map(str::to_string).collect();
        errors.push(line.reject("device_type", Reason::Unknown { value: raw.clone(), allowed }));
    }
    let lat = coordinate(line, "latitude", 90.0, &mut errors);
    let lon = coordinate(line, "longitude", 180.0, &mut errors);
    if errors.is_empty() && lat.is_some() != lon.is_some() {
        let missing = if lat.is_some() { "longitude" } else { "latitude" };
        let other = if lat.is_some() { "latitude" } else { "longitude" };
        errors.push(line.reject(missing, Reason::NeededWith { other: other.into() }));
    }
    let serial = line.get("meter_serial").map(|s| crate::keys::normalise_serial(&s));
    if serial.is_none() && (line.get("manufacturer").is_some() || device_type.is_some()) {
        let other = if device_type.is_some() { "device_type" } else { "manufacturer" };
        errors.push(line.reject("meter_serial", Reason::NeededWith { other: other.into() }));
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Parsed {
        customer_number,
        serial,
        manufacturer: line.get("manufacturer").map(|m| m.to_uppercase()),
        device_type,
        lat,
        lon,
        groups: line
            .get("groups")
            .map(|g| g.split('|').map(str::trim).filter(|s| !s.is_empty()).map(str::to_string).collect())
            .unwrap_or_default(),
    })
}

#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
enum Outcome {
    Unchanged,
    Changed,
    Added,
}

/// The import itself, inside the caller's transaction.
pub(crate) fn import_with(conn: &Connection, p: &Profile, name: &str, content: &[u8], now: i64) -> Result<ParkReport> {
    let text = decode_text(content);
    let delimiter = p.separator.as_bytes().first().copied().unwrap_or(b';');
    let mut reader = csv::ReaderBuilder::new()
        .delimiter(delimiter)
        .has_headers(false)
        .flexible(true)
        .from_reader(text.as_bytes());
    let mut report = ParkReport { name: name.to_string(), ..ParkReport::default() };
    let mut headers: Vec<String> = Vec::new();
    let mut customers: HashMap<String, Outcome> = HashMap::new();
    let mut meters: HashMap<i64, Outcome> = HashMap::new();
    let mut record = csv::StringRecord::new();
    let mut first = true;
    loop {
        let number = reader.position().line();
        match reader.read_record(&mut record) {
            Ok(false) => break,
            Ok(true) => {}
            Err(e) => {
                report.lines += 1;
                report.rejected.push(ParkRejected::new(number, String::new(), "", Reason::Unreadable { detail: e.to_string() }));
                continue;
            }
        }
        let number = record.position().map(|pos| pos.line()).unwrap_or(number);
        if std::mem::take(&mut first) && p.has_header {
            headers = record.iter().map(|h| h.trim().to_string()).collect();
            continue;
        }
        if record.iter().all(|c| c.trim().is_empty()) {
            continue;
        }
        report.lines += 1;
        let line = Line { number, cells: &record, headers: &headers, mapping: &p.mapping };
        match check(&line) {
            Err(errors) => report.rejected.extend(errors),
            // A customer who moved out is a pseudonym: an old file naming it again must not
            // bring its name, address or meters back.
            Ok(parsed) if store::occupancies::moved_out_number(conn, &parsed.customer_number)?.is_some() => {
                report.rejected.push(line.reject(
                    "customer_number",
                    crate::problem::Reason::MovedOut { number: parsed.customer_number.clone() },
                ));
            }
            Ok(parsed) => {
                let (customer_id, outcome) = apply_customer(conn, &line, &parsed)?;
                let best = customers.entry(parsed.customer_number.clone()).or_insert(outcome);
                *best = (*best).max(outcome);
                if let Some((meter_id, outcome, adopted)) = apply_meter(conn, &line, &parsed, customer_id, now)? {
                    report.meters_adopted += adopted as u64;
                    let best = meters.entry(meter_id).or_insert(outcome);
                    *best = (*best).max(outcome);
                }
            }
        }
    }
    fn count<K>(m: &HashMap<K, Outcome>, o: Outcome) -> u64 {
        m.values().filter(|&&x| x == o).count() as u64
    }
    report.customers_added = count(&customers, Outcome::Added);
    report.customers_changed = count(&customers, Outcome::Changed);
    report.customers_unchanged = count(&customers, Outcome::Unchanged);
    report.meters_added = count(&meters, Outcome::Added);
    report.meters_changed = count(&meters, Outcome::Changed);
    report.meters_unchanged = count(&meters, Outcome::Unchanged);
    Ok(report)
}

/// Set `slot` to the line's value of `field` when mapped and not empty; true if it changed.
fn take(line: &Line<'_>, field: &str, slot: &mut String) -> bool {
    match line.get(field) {
        Some(v) if v != *slot => {
            *slot = v;
            true
        }
        _ => false,
    }
}

fn take_opt(line: &Line<'_>, field: &str, slot: &mut Option<String>) -> bool {
    match line.get(field) {
        Some(v) if slot.as_deref() != Some(v.as_str()) => {
            *slot = Some(v);
            true
        }
        _ => false,
    }
}

fn apply_customer(conn: &Connection, line: &Line<'_>, parsed: &Parsed) -> Result<(i64, Outcome)> {
    let existing = store::customers::by_number(conn, &parsed.customer_number)?;
    let (id, mut c) = existing.clone().unwrap_or_else(|| {
        (0, Customer {
            number: parsed.customer_number.clone(),
            name: String::new(),
            address: String::new(),
            postal_code: String::new(),
            city: String::new(),
            email: None,
            phone: None,
        })
    });
    let mut changed = take(line, "customer_name", &mut c.name);
    changed |= take(line, "address", &mut c.address);
    changed |= take(line, "postal_code", &mut c.postal_code);
    changed |= take(line, "city", &mut c.city);
    changed |= take_opt(line, "email", &mut c.email);
    changed |= take_opt(line, "phone", &mut c.phone);
    if existing.is_none() {
        return Ok((store::customers::insert(conn, &c)?, Outcome::Added));
    }
    if changed {
        store::customers::update(conn, id, &c)?;
        return Ok((id, Outcome::Changed));
    }
    Ok((id, Outcome::Unchanged))
}

/// (meter id, outcome, adopted) of the line's meter, None when the line names no meter.
fn apply_meter(conn: &Connection, line: &Line<'_>, parsed: &Parsed, customer_id: i64, now: i64) -> Result<Option<(i64, Outcome, bool)>> {
    let Some(serial) = parsed.serial.as_deref() else { return Ok(None) };
    let address = line.get("installation_address").or_else(|| line.get("address"));
    let Some(id) = store::meters::find(conn, serial, parsed.manufacturer.as_deref())? else {
        let new = store::meters::NewMeter {
            serial: serial.to_string(),
            manufacturer: parsed.manufacturer.clone().unwrap_or_default(),
            device_type: parsed.device_type.clone().unwrap_or_else(|| "unknown".into()),
            model: String::new(),
            status: "active".into(),
            customer_id: Some(customer_id),
            address: address.unwrap_or_default(),
            postal_code: line.get("postal_code").unwrap_or_default(),
            city: line.get("city").unwrap_or_default(),
            lat: parsed.lat,
            lon: parsed.lon,
            ..Default::default()
        };
        let id = store::meters::insert(conn, &new, now)?;
        add_to_groups(conn, id, &parsed.groups, now)?;
        return Ok(Some((id, Outcome::Added, false)));
    };
    let mut m = store::meters::get(conn, id)?.ok_or_else(|| Error::not_found(format!("meter {id}")))?;
    let adopted = m.status == "unassigned";
    let mut changed = adopted || m.customer_id != Some(customer_id);
    if adopted {
        m.status = "active".into();
    }
    m.customer_id = Some(customer_id);
    if let Some(d) = &parsed.device_type {
        changed |= *d != m.device_type;
        m.device_type = d.clone();
    }
    if let Some(a) = address {
        changed |= a != m.address;
        m.address = a;
    }
    changed |= take(line, "postal_code", &mut m.postal_code);
    changed |= take(line, "city", &mut m.city);
    if parsed.lat.is_some() {
        changed |= m.lat != parsed.lat || m.lon != parsed.lon;
        m.lat = parsed.lat;
        m.lon = parsed.lon;
    }
    if changed {
        store::meters::set_installation(conn, &m)?;
    }
    changed |= add_to_groups(conn, id, &parsed.groups, now)?;
    Ok(Some((id, if changed { Outcome::Changed } else { Outcome::Unchanged }, adopted)))
}

/// Put the meter in the named groups (created when missing); true if it joined any.
fn add_to_groups(conn: &Connection, meter_id: i64, names: &[String], now: i64) -> Result<bool> {
    if names.is_empty() {
        return Ok(false);
    }
    let current: Vec<String> = store::groups::of_meter(conn, meter_id)?.into_iter().map(|(_, n)| n).collect();
    let mut joined = false;
    for name in names {
        if current.contains(name) {
            continue;
        }
        let gid = match store::groups::by_name(conn, name)? {
            Some(g) => g,
            None => store::groups::create(conn, name, now)?,
        };
        store::groups::add_member(conn, gid, meter_id)?;
        joined = true;
    }
    Ok(joined)
}
