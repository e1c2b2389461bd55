//! The configured buses: their settings (needs `settings`, audited), their meters by primary
//! or secondary address, reading them (needs `import`: now, on schedule, or all from cron; a
//! failed meter is tried once more after the others and reported, the others are read),
//! scans kept as each bus's last scan, and found slaves added to the bus and to the park.

use super::read::{self, Slave};
use super::scan::{self, Found, ScanProgress};
use super::{Bus as Line, LineConfig};
use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::port::{self, LineSettings, Target, BAUD_RATES};
use crate::store::mbus::{self as table, Bus, BusMeter};
use crate::store::{self, Store};
use serde::{Deserialize, Serialize};
use std::time::Duration;

/// A bus as the screen edits it (id 0: a new one).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BusInput {
    #[serde(default)]
    pub id: i64,
    pub name: String,
    pub transport: String,
    pub target: String,
    pub baud: u32,
    #[serde(default)]
    pub latency_ms: u32,
    #[serde(default)]
    pub echo: bool,
    pub schedule: String,
    #[serde(default = "yes")]
    pub enabled: bool,
}

fn yes() -> bool {
    true
}

pub const MAX_LATENCY_MS: u32 = 5000;

/// A bus with its meters (and their last answers) and its last scan.
#[derive(Debug, Clone, Serialize)]
pub struct BusView {
    #[serde(flatten)]
    pub bus: Bus,
    pub meters: Vec<BusMeter>,
    pub last_scan: Option<table::Scan>,
}

pub fn list(store: &Store, session: &Session) -> Result<Vec<BusView>> {
    session.permit(Permission::View)?;
    let conn = store.reader()?;
    table::list(&conn)?
        .into_iter()
        .map(|bus| Ok(BusView { meters: table::meters_of(&conn, bus.id)?, last_scan: table::last_scan(&conn, bus.id)?, bus }))
        .collect()
}

fn check(b: &BusInput) -> Result<()> {
    if b.name.trim().is_empty() || b.name.len() > 100 {
        return Err(Error::bad_input("name", "a bus needs a name (at most 100 characters)"));
    }
    match b.transport.as_str() {
        "serial" if !b.target.trim().is_empty() => {}
        "tcp" if b.target.rsplit_once(':').is_some_and(|(h, p)| !h.is_empty() && p.parse::<u16>().is_ok_and(|p| p > 0)) => {}
        "serial" => return Err(Error::bad_input("target", "the serial device (/dev/ttyUSB0, COM3)")),
        "tcp" => return Err(Error::bad_input("target", format!("'{}': host:port of the gateway", b.target))),
        _ => return Err(Error::bad_input("transport", "serial or tcp")),
    }
    if !BAUD_RATES.contains(&b.baud) {
        return Err(Error::bad_input("baud", format!("{}: one of 300, 600, 1200, 2400, 4800, 9600, 19200, 38400", b.baud)));
    }
    if b.latency_ms > MAX_LATENCY_MS {
        return Err(Error::bad_input("latency_ms", "0 to 5000 ms"));
    }
    if !matches!(b.schedule.as_str(), "hourly" | "daily" | "off") {
        return Err(Error::bad_input("schedule", "hourly, daily or off"));
    }
    Ok(())
}

pub fn save(store: &Store, session: &Session, b: &BusInput, now: i64) -> Result<Bus> {
    let permit = session.permit(Permission::Settings)?;
    check(b)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    if let Some(other) = table::id_of_name(&tx, b.name.trim())? {
        if other != b.id {
            return Err(Error::bad_input("name", format!("a bus named '{}' exists already", b.name.trim())));
        }
    }
    if b.id != 0 && table::get(&tx, b.id)?.is_none() {
        return Err(Error::not_found(format!("bus {}", b.id)));
    }
    let bus = Bus {
        id: b.id,
        name: b.name.trim().to_string(),
        transport: b.transport.clone(),
        target: b.target.trim().to_string(),
        baud: b.baud,
        latency_ms: b.latency_ms,
        echo: b.echo,
        schedule: b.schedule.clone(),
        enabled: b.enabled,
        last_slot: None,
    };
    let id = table::save(&tx, &bus, now)?;
    let details = format!("bus {} ({} {}, {} baud, schedule {})", bus.name, bus.transport, bus.target, bus.baud, bus.schedule);
    store::audit::record_permit(&tx, permit, now, "mbus_bus_save", &details)?;
    let saved = table::get(&tx, id)?.ok_or_else(|| Error::not_found(format!("bus {id}")))?;
    tx.commit()?;
    Ok(saved)
}

pub fn delete(store: &Store, session: &Session, id: i64, now: i64) -> Result<()> {
    let permit = session.permit(Permission::Settings)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let bus = table::get(&tx, id)?.ok_or_else(|| Error::not_found(format!("bus {id}")))?;
    table::delete(&tx, id)?;
    store::audit::record_permit(&tx, permit, now, "mbus_bus_delete", &format!("bus {}", bus.name))?;
    tx.commit()?;
    Ok(())
}

/// A found slave to put on the bus (and in the park when its identity is known).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FoundInput {
    /// `5` (read by primary address) or 16 characters (by secondary address).
    pub address: String,
    pub id: Option<String>,
    pub manufacturer: Option<String>,
    pub version: Option<u8>,
    pub medium: Option<u8>,
}

/// Add found slaves to a bus, and to the park (a new meter unless one with that serial and
/// manufacturer is there). Returns the bus meters' row ids.
pub fn add_found(store: &Store, session: &Session, bus_id: i64, found: &[FoundInput], now: i64) -> Result<Vec<i64>> {
    let permit = session.permit(Permission::Settings)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let bus = table::get(&tx, bus_id)?.ok_or_else(|| Error::not_found(format!("bus {bus_id}")))?;
    let mut ids = Vec::with_capacity(found.len());
    for f in found {
        let slave = Slave::parse(&f.address)?;
        let meter_id = match (&f.id, &f.manufacturer) {
            (Some(serial), Some(manufacturer)) if !serial.is_empty() && manufacturer.len() == 3 => {
                match store::meters::find(&tx, serial, Some(manufacturer))? {
                    Some(id) => Some(id),
                    None => {
                        let device = mbus::DeviceType::from_code(f.medium.unwrap_or(0));
                        let m = store::meters::NewMeter {
                            serial: serial.clone(),
                            manufacturer: manufacturer.clone(),
                            version: i64::from(f.version.unwrap_or(0)),
                            device_type: crate::driver::device_type_name(&device),
                            model: String::new(),
                            status: "active".into(),
                            customer_id: None,
                            address: String::new(),
                            postal_code: String::new(),
                            city: String::new(),
                            lat: None,
                            lon: None,
                            installed_at: None,
                        };
                        Some(store::meters::insert(&tx, &m, now)?)
                    }
                }
            }
            _ => None,
        };
        ids.push(table::add_meter(&tx, bus_id, &slave.label(), meter_id)?);
    }
    let addresses: Vec<&str> = found.iter().map(|f| f.address.as_str()).collect();
    store::audit::record_permit(&tx, permit, now, "mbus_add_found", &format!("bus {}: {}", bus.name, addresses.join(", ")))?;
    tx.commit()?;
    Ok(ids)
}

/// Remove a meter from a bus (the park's meter stays).
pub fn remove_meter(store: &Store, session: &Session, bus_id: i64, address: &str, now: i64) -> Result<()> {
    let permit = session.permit(Permission::Settings)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let bus = table::get(&tx, bus_id)?.ok_or_else(|| Error::not_found(format!("bus {bus_id}")))?;
    if !table::remove_meter(&tx, bus_id, address)? {
        return Err(Error::not_found(format!("address {address} on bus {}", bus.name)));
    }
    store::audit::record_permit(&tx, permit, now, "mbus_remove_meter", &format!("bus {}: {address}", bus.name))?;
    tx.commit()?;
    Ok(())
}

/// One meter's read: what was stored, or why not (code and words).
#[derive(Debug, Clone, Serialize)]
pub struct MeterRead {
    pub bus: String,
    pub address: String,
    pub telegrams: usize,
    pub readings: u64,
    pub error: Option<ReadError>,
    /// It failed first and was tried again.
    pub retried: bool,
}

#[derive(Debug, Clone, Serialize)]
pub struct ReadError {
    pub code: String,
    pub message: String,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct ReadReport {
    pub meters: Vec<MeterRead>,
}

impl ReadReport {
    pub fn failed(&self) -> usize {
        self.meters.iter().filter(|m| m.error.is_some()).count()
    }
}

/// The buses a scan or a read of this process is using: one at a time on a line (a second
/// master on the same wires would only make collisions).
static BUSY: std::sync::Mutex<Vec<i64>> = std::sync::Mutex::new(Vec::new());

/// Holds bus `id` for one scan or read; released on drop.
struct Hold(i64);

impl Hold {
    fn take(bus: &Bus) -> Result<Hold> {
        let mut busy = BUSY.lock().unwrap_or_else(|p| p.into_inner());
        if busy.contains(&bus.id) {
            return Err(Error::bad_input("bus", format!("the bus {} is in use by a scan or a read: wait until it ends", bus.name)));
        }
        busy.push(bus.id);
        Ok(Hold(bus.id))
    }
}

impl Drop for Hold {
    fn drop(&mut self) {
        BUSY.lock().unwrap_or_else(|p| p.into_inner()).retain(|b| *b != self.0);
    }
}

fn target_of(bus: &Bus) -> Target {
    if bus.transport == "tcp" {
        Target::Tcp(bus.target.clone())
    } else {
        Target::Serial(bus.target.clone())
    }
}

fn config_of(bus: &Bus) -> LineConfig {
    LineConfig { baud: bus.baud, latency_ms: bus.latency_ms, echo: bus.echo, retries: 1 }
}

/// Read the meters of bus `bus_id` (all, or only `address`): each answer stored, the failed
/// ones tried once more after the others; every meter's last answer kept.
pub fn read_bus(store: &Store, session: &Session, bus_id: i64, address: Option<&str>, now: i64) -> Result<ReadReport> {
    read_bus_with(store, session, bus_id, address, now, &mut |_, _| {})
}

/// `read_bus`, telling `progress` (meters read, meters to read) after each meter of the first
/// pass, for a progress bar.
pub fn read_bus_with(
    store: &Store,
    session: &Session,
    bus_id: i64,
    address: Option<&str>,
    now: i64,
    progress: &mut dyn FnMut(usize, usize),
) -> Result<ReadReport> {
    let permit = session.permit(Permission::Import)?;
    let (bus, meters) = {
        let conn = store.reader()?;
        let bus = table::get(&conn, bus_id)?.ok_or_else(|| Error::not_found(format!("bus {bus_id}")))?;
        let meters: Vec<BusMeter> = table::meters_of(&conn, bus_id)?.into_iter().filter(|m| address.is_none_or(|a| m.address == a)).collect();
        (bus, meters)
    };
    if let Some(a) = address {
        if meters.is_empty() {
            return Err(Error::not_found(format!("address {a} on bus {}", bus.name)));
        }
    }
    let _hold = Hold::take(&bus)?;
    let mut port = port::open(&target_of(&bus), LineSettings::mbus(bus.baud), Duration::from_secs(5))?;
    let mut line = Line::new(port.as_mut(), config_of(&bus), bus.name.clone());
    let mut report = ReadReport::default();
    let mut failed = Vec::new();
    progress(0, meters.len());
    for m in &meters {
        let outcome = read_one(store, permit, &mut line, m, now)?;
        if outcome.error.is_some() {
            failed.push((m, report.meters.len()));
        }
        report.meters.push(outcome);
        progress(report.meters.len(), meters.len());
    }
    for (m, i) in failed {
        let mut again = read_one(store, permit, &mut line, m, now)?;
        again.retried = true;
        report.meters[i] = again;
    }
    Ok(report)
}

/// Read one bus meter and keep its answer; a bus-level failure (the port) is an error, a
/// meter's is in the result.
fn read_one(store: &Store, permit: crate::access::Permit<'_>, line: &mut Line<'_>, m: &BusMeter, now: i64) -> Result<MeterRead> {
    let slave = Slave::parse(&m.address)?;
    let mut outcome = MeterRead { bus: line.name.clone(), address: m.address.clone(), telegrams: 0, readings: 0, error: None, retried: false };
    match read::read(line, &slave) {
        Ok(telegrams) => {
            let name = format!("mbus {} address {}", line.name, m.address);
            let report = read::store_answer(store, permit, &name, &telegrams, now)?;
            let frames: Vec<String> = telegrams.iter().map(hex::encode_upper).collect();
            let serial = telegrams.first().and_then(|t| mbus::master::identity(t).ok()).map(|w| (w.id, w.manufacturer));
            let mut conn = store.writer();
            let tx = conn.transaction()?;
            let meter_id = match serial {
                Some((id, man)) => store::meters::find(&tx, &id, Some(&man))?,
                None => None,
            };
            table::set_answer(&tx, m.id, now, Some(&frames), meter_id, None)?;
            tx.commit()?;
            outcome.telegrams = telegrams.len();
            outcome.readings = report.readings;
        }
        Err(e @ Error::Mbus { .. }) => {
            let (code, message) = (e.code().to_string(), e.to_string());
            table::set_answer(&store.writer(), m.id, now, None, None, Some((&code, &message)))?;
            outcome.error = Some(ReadError { code, message });
        }
        Err(e) => return Err(e),
    }
    Ok(outcome)
}

/// Read every enabled bus (from cron): a bus whose line cannot be opened is reported for
/// each of its meters, the other buses are read.
pub fn read_all(store: &Store, session: &Session, now: i64) -> Result<ReadReport> {
    session.permit(Permission::Import)?;
    let buses = table::list(&*store.reader()?)?;
    let mut report = ReadReport::default();
    for bus in buses.iter().filter(|b| b.enabled) {
        read_into(store, session, bus, now, &mut report)?;
    }
    Ok(report)
}

fn read_into(store: &Store, session: &Session, bus: &Bus, now: i64, report: &mut ReadReport) -> Result<()> {
    match read_bus(store, session, bus.id, None, now) {
        Ok(r) => report.meters.extend(r.meters),
        Err(e @ (Error::Port { .. } | Error::BadInput { .. })) => {
            for m in table::meters_of(&*store.reader()?, bus.id)? {
                let error = Some(ReadError { code: e.code().into(), message: e.to_string() });
                report.meters.push(MeterRead { bus: bus.name.clone(), address: m.address, telegrams: 0, readings: 0, error, retried: false });
            }
        }
        Err(e) => return Err(e),
    }
    Ok(())
}

/// The scheduler's part: read the buses whose hourly or daily slot has come and was not read
/// yet (claimed in the store, so the app and cron never read a slot twice). A daily slot
/// starts at local midnight in the utility's time zone (setting `timezone`), so the day's
/// reading is the clerk's day, also across clock changes.
pub fn read_due(store: &Store, session: &Session, now: i64) -> Result<ReadReport> {
    session.permit(Permission::Import)?;
    let (buses, tz) = {
        let conn = store.reader()?;
        (table::list(&conn)?, crate::settings::timezone(&conn)?)
    };
    let mut report = ReadReport::default();
    for bus in buses.iter().filter(|b| b.enabled) {
        let slot = match bus.schedule.as_str() {
            "hourly" => now - now.rem_euclid(3600),
            "daily" => daily_slot(tz, now)?,
            _ => continue,
        };
        if !table::claim_slot(&store.writer(), bus.id, slot)? {
            continue;
        }
        read_into(store, session, bus, now, &mut report)?;
    }
    Ok(report)
}

/// The start (Unix time) of the local day holding `now` in `tz`.
fn daily_slot(tz: chrono_tz::Tz, now: i64) -> Result<i64> {
    let day = chrono::DateTime::from_timestamp(now, 0)
        .ok_or_else(|| Error::bad_input("now", format!("{now} is not a time")))?
        .with_timezone(&tz)
        .date_naive();
    crate::settings::local_midnight(tz, day)
}

/// Scan bus `bus_id` (primary 0..=250, or secondary) and keep what was found as its last
/// scan. `progress` hears of each step and each find.
pub fn scan_bus(store: &Store, session: &Session, bus_id: i64, secondary: bool, now: i64, progress: &mut dyn FnMut(ScanProgress, Option<&Found>)) -> Result<Vec<Found>> {
    session.permit(Permission::Import)?;
    let bus = table::get(&*store.reader()?, bus_id)?.ok_or_else(|| Error::not_found(format!("bus {bus_id}")))?;
    let kind = if secondary { "secondary" } else { "primary" };
    let _hold = Hold::take(&bus)?;
    table::scan_started(&store.writer(), bus_id, kind, now)?;
    let outcome = (|| -> Result<Vec<Found>> {
        let mut port = port::open(&target_of(&bus), LineSettings::mbus(bus.baud), Duration::from_secs(5))?;
        let mut line = Line::new(port.as_mut(), config_of(&bus), bus.name.clone());
        if secondary {
            scan::secondary(&mut line, progress)
        } else {
            scan::primary(&mut line, 0, mbus::master::MAX_PRIMARY, progress)
        }
    })();
    let finished = now;
    match &outcome {
        Ok(found) => {
            let values: Vec<serde_json::Value> = found.iter().filter_map(|f| serde_json::to_value(f).ok()).collect();
            table::scan_finished(&store.writer(), bus_id, finished, &values, None)?;
        }
        Err(e) => table::scan_finished(&store.writer(), bus_id, finished, &[], Some(&e.to_string()))?,
    }
    outcome
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input(name: &str, target: &str, baud: u32) -> BusInput {
        BusInput {
            id: 0,
            name: name.into(),
            transport: "tcp".into(),
            target: target.into(),
            baud,
            latency_ms: 0,
            echo: false,
            schedule: "hourly".into(),
            enabled: true,
        }
    }

    #[test]
    fn buses_are_checked_audited_and_their_found_meters_go_into_the_park() {
        let dir = tempfile::tempdir().expect("dir");
        let store = Store::open(&dir.path().join("t.db")).expect("store");
        let manager = Session::system("test");
        let e = save(&store, &manager, &input("A", "gateway", 2400), 10).expect_err("no port");
        assert!(e.to_string().contains("host:port"), "{e}");
        let e = save(&store, &manager, &input("A", "gw:10001", 1234), 10).expect_err("baud");
        assert!(e.to_string().contains("1234"), "{e}");
        let bus = save(&store, &manager, &input("A", "gw:10001", 2400), 10).expect("saved");
        let e = save(&store, &manager, &input("A", "gw:10002", 2400), 10).expect_err("same name");
        assert!(e.to_string().contains("exists already"), "{e}");
        let clerk = Session { permissions: vec![Permission::View, Permission::Import], ..Session::system("test") };
        assert_eq!(save(&store, &clerk, &input("B", "gw:1", 2400), 10).expect_err("clerk").code(), "forbidden");

        let found = [
            FoundInput { address: "5".into(), id: Some("12345678".into()), manufacturer: Some("GWF".into()), version: Some(0x35), medium: Some(7) },
            FoundInput { address: "87654321FFFFFFFF".into(), id: None, manufacturer: None, version: None, medium: None },
        ];
        add_found(&store, &manager, bus.id, &found, 20).expect("added");
        let e = add_found(&store, &manager, bus.id, &[FoundInput { address: "251".into(), id: None, manufacturer: None, version: None, medium: None }], 20);
        assert_eq!(e.expect_err("251").code(), "bad_input");
        let listed = list(&store, &clerk).expect("list");
        assert_eq!(listed.len(), 1);
        let meters = &listed[0].meters;
        assert_eq!(meters.iter().map(|m| m.address.as_str()).collect::<Vec<_>>(), vec!["5", "87654321FFFFFFFF"]);
        assert_eq!(meters[0].serial.as_deref(), Some("12345678"), "put in the park");
        assert_eq!(meters[1].meter_id, None);
        // A bus in use by a scan or a read is not used twice at once.
        let held = Hold::take(&table::get(&store.reader().expect("r"), bus.id).expect("get").expect("bus")).expect("hold");
        let e = read_bus(&store, &manager, bus.id, None, 20).expect_err("busy");
        assert!(e.to_string().contains("the bus A is in use"), "{e}");
        drop(held);
        // A daily slot is the local day: 2026-07-01 00:30 in Paris is still 2026-06-30 22:30 UTC.
        let paris: chrono_tz::Tz = "Europe/Paris".parse().expect("tz");
        assert_eq!(daily_slot(paris, 1_782_858_600).expect("slot"), 1_782_856_800, "midnight of 1 July in Paris");
        assert_eq!(daily_slot(paris, 1_782_856_799).expect("slot"), 1_782_770_400, "a second earlier: 30 June");
        // The scheduler's slot is claimed once.
        assert!(table::claim_slot(&store.writer(), bus.id, 3600).expect("claim"));
        assert!(!table::claim_slot(&store.writer(), bus.id, 3600).expect("again"));
        delete(&store, &manager, bus.id, 30).expect("deleted");
        assert!(list(&store, &manager).expect("list").is_empty());
        let audit: i64 = store
            .reader()
            .expect("reader")
            .query_row("SELECT count(*) FROM audit_log WHERE event LIKE 'mbus_%'", [], |r| r.get(0))
            .expect("audit");
        assert_eq!(audit, 3);
    }
}
