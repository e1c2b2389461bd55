//! Demo database: a realistic meter park around Saint-Chamond (Loire) whose 13 months of
//! readings enter through the real import path as real AES-encrypted telegrams.

use crate::access::{self, Permission, Role, Session};
use crate::error::Result;
use crate::import::{self, FileReport};
use crate::store::{self, customers::Customer, meters::NewMeter, Store};
use chrono::{Offset, TimeZone};
use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::encode_ell::{kamstrup_compact_frame, kamstrup_full_frame, Field};
use mbus::{AesKey, DeviceType, InfoCode};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::Serialize;

pub struct DemoSpec {
    pub meters: u32,
    pub seed: u64,
}

#[derive(Debug, Default, Serialize)]
pub struct DemoReport {
    pub meters: u64,
    pub customers: u64,
    pub telegrams: u64,
    pub readings: u64,
    pub hourly_meters: u64,
}

/// Progress of the demo build: (step, done, total).
pub type Progress<'a> = &'a mut dyn FnMut(&str, u64, u64);

/// The demo's login accounts: (login, name, role); the password is the login.
pub const ACCOUNTS: [(&str, &str, Role); 3] = [
    ("manager", "Martine Ferrand", Role::Manager),
    ("superuser", "Sylvain Roche", Role::Superuser),
    ("clerk", "Claire Dumas", Role::User),
];

const DAY: i64 = 86_400;
const HOUR: i64 = 3_600;
/// Lines handed to one import call (each call is one transaction).
const LINES_PER_IMPORT: usize = 400_000;

/// Build the demo into an empty store. Same spec, same `now`: same database.
pub fn build_demo(store: &Store, spec: &DemoSpec, now: i64, progress: Progress<'_>) -> Result<DemoReport> {
    let system = Session::system("demo");
    let permit = system.permit(Permission::ManageUsers)?;
    if store::meters::count(&*store.reader()?)? > 0 {
        return Err(crate::Error::bad_input("database", "the demo needs an empty database"));
    }
    let mut rng = ChaCha8Rng::seed_from_u64(spec.seed);
    for (login, name, role) in ACCOUNTS {
        let user = store::users::NewUser { login, name, role, password: login, locale: "fr", salt: Some(rng.gen()) };
        access::create_user(store, permit, &user, now)?;
    }
    let end = now - now.rem_euclid(HOUR);
    let start = end - 395 * DAY;
    let plans = plan_park(&mut rng, spec.meters, start, end);
    let mut report = DemoReport { meters: plans.len() as u64, ..DemoReport::default() };
    register_park(store, &system, &plans, now, &mut report)?;

    let importer = Session::system("demo");
    let import_permit = importer.permit(Permission::Import)?;
    let tz = crate::settings::timezone(&*store.reader()?)?;
    let total: u64 = plans.iter().map(|p| p.expected_lines(start, end)).sum();
    report.hourly_meters = plans.iter().filter(|p| p.hourly).count() as u64;
    // One thread writes the concentrator files while this one imports the previous one.
    std::thread::scope(|scope| -> Result<()> {
        let (send, receive) = std::sync::mpsc::sync_channel::<(Vec<u8>, u64)>(1);
        let plans = &plans;
        scope.spawn(move || {
            let mut lines: Vec<u8> = Vec::with_capacity(LINES_PER_IMPORT * 120);
            let mut in_batch = 0usize;
            for plan in plans {
                in_batch += plan.write_lines(&mut rng, tz, start, end, &mut lines);
                if in_batch >= LINES_PER_IMPORT {
                    let full = std::mem::replace(&mut lines, Vec::with_capacity(LINES_PER_IMPORT * 120));
                    if send.send((full, in_batch as u64)).is_err() {
                        return; // the importer stopped on an error
                    }
                    in_batch = 0;
                }
            }
            if in_batch > 0 {
                let _ = send.send((lines, in_batch as u64));
            }
        });
        let mut done = 0u64;
        for (batch, (lines, count)) in receive.into_iter().enumerate() {
            let name = format!("demo-concentrator-{:03}.log", batch + 1);
            let r: FileReport = import::import_drive_by(store, import_permit, &name, &lines, now, &mut |d, _| {
                progress("readings", done + d, total)
            })?;
            report.telegrams += r.stored;
            report.readings += r.readings;
            done += count;
        }
        Ok(())
    })?;
    record_exchange(store, &plans, &system, now)?;
    store.checkpoint()?;
    progress("readings", total, total);
    Ok(report)
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum Kind {
    KamWater,
    KamHeat,
    KamElectricity,
    OtherWater(&'static str, &'static str),
    OtherHeat(&'static str, &'static str),
}

impl Kind {
    fn manufacturer(self) -> &'static str {
        match self {
            Kind::KamWater | Kind::KamHeat | Kind::KamElectricity => "KAM",
            Kind::OtherWater(m, _) | Kind::OtherHeat(m, _) => m,
        }
    }
    fn model(self) -> &'static str {
        match self {
            Kind::KamWater => "MULTICAL 21",
            Kind::KamHeat => "MULTICAL 403",
            Kind::KamElectricity => "OMNIPOWER",
            Kind::OtherWater(_, model) | Kind::OtherHeat(_, model) => model,
        }
    }
    fn device_type(self) -> DeviceType {
        match self {
            Kind::KamWater | Kind::OtherWater(..) => DeviceType::Water,
            Kind::KamHeat | Kind::OtherHeat(..) => DeviceType::Heat,
            Kind::KamElectricity => DeviceType::Electricity,
        }
    }
    fn version(self) -> u8 {
        match self {
            Kind::KamWater => 0x1b,
            Kind::KamHeat => 0x35,
            Kind::KamElectricity => 0x30,
            Kind::OtherWater(..) => 0x14,
            Kind::OtherHeat(..) => 0x0a,
        }
    }
    /// Mean consumption per hour (m3 for water, kWh for heat and electricity).
    fn mean_per_hour(self, rng: &mut ChaCha8Rng) -> f64 {
        match self {
            Kind::KamWater | Kind::OtherWater(..) => rng.gen_range(35.0..220.0) / 8760.0,
            Kind::KamHeat | Kind::OtherHeat(..) => rng.gen_range(4_000.0..14_000.0) / 8760.0,
            Kind::KamElectricity => rng.gen_range(2_000.0..7_500.0) / 8760.0,
        }
    }
}

struct Plan {
    kind: Kind,
    serial: String,
    key: [u8; 16],
    hourly: bool,
    /// Minutes past midnight (daily) or past the hour (hourly) of its telegrams.
    minute: i64,
    mean: f64,
    initial: f64,
    customer: Customer,
    lat: f64,
    lon: f64,
    street: String,
    groups: Vec<&'static str>,
    gap: Option<(i64, i64)>,
    events: Vec<(InfoCode, i64, i64)>,
    /// Readings only within [active_from, active_to) (meter exchange).
    active_from: i64,
    active_to: i64,
    replaces: Option<usize>,
}

const FIRST_NAMES: [&str; 24] = [
    "Jean", "Marie", "Pierre", "Nathalie", "Michel", "Isabelle", "Philippe", "Sylvie", "Alain", "Catherine",
    "Patrick", "Françoise", "Nicolas", "Sandrine", "Christophe", "Valérie", "Laurent", "Céline", "Julien",
    "Aurélie", "Thierry", "Sophie", "Éric", "Camille",
];
const LAST_NAMES: [&str; 30] = [
    "Martin", "Bernard", "Thomas", "Petit", "Robert", "Richard", "Durand", "Dubois", "Moreau", "Laurent",
    "Simon", "Michel", "Lefèvre", "Leroy", "Roux", "David", "Bertrand", "Morel", "Fournier", "Girard",
    "Bonnet", "Dupont", "Lambert", "Fontaine", "Rousseau", "Vincent", "Chevalier", "Garnier", "Faure", "Chapuis",
];
const STREETS: [&str; 24] = [
    "Rue de la République", "Avenue de la Libération", "Rue Victor Hugo", "Boulevard Waldeck-Rousseau",
    "Rue Gambetta", "Place de la Liberté", "Rue de Lyon", "Chemin de la Varizelle", "Rue Jean Jaurès",
    "Rue du Garat", "Route de Saint-Étienne", "Rue Benoît Malon", "Avenue Antoine Pinay", "Rue de la Charité",
    "Rue Émile Zola", "Rue Pierre Sémard", "Rue du Onze Novembre", "Allée des Tilleuls", "Rue de Fonsala",
    "Rue Ronsard", "Chemin du Coin", "Rue Louis Braille", "Rue de l'Industrie", "Rue Dugas-Montbel",
];
/// (postal code, town, latitude, longitude, share in %).
const TOWNS: [(&str, &str, f64, f64, u32); 4] = [
    ("42400", "Saint-Chamond", 45.4775, 4.5153, 78),
    ("42152", "L'Horme", 45.4897, 4.5375, 10),
    ("42740", "Saint-Paul-en-Jarez", 45.4853, 4.5703, 7),
    ("42400", "Izieux", 45.4667, 4.5000, 5),
];
const OTHER_WATER: [(&str, &str); 3] = [("DME", "Hydrus"), ("APA", "APT-MBUS-NA"), ("SEN", "iPERL")];

fn plan_park(rng: &mut ChaCha8Rng, meters: u32, start: i64, end: i64) -> Vec<Plan> {
    let n = meters.max(2) as usize;
    let hourly_every = 10; // one meter in ten sends hourly, capped below
    let hourly_cap = 1000;
    let mut hourly_count = 0;
    let mut plans: Vec<Plan> = Vec::with_capacity(n);
    for i in 0..n {
        let kind = match rng.gen_range(0..100) {
            0..=54 => Kind::KamWater,
            55..=69 => Kind::KamHeat,
            70..=79 => Kind::KamElectricity,
            80..=94 => {
                let (m, model) = OTHER_WATER[rng.gen_range(0..OTHER_WATER.len())];
                Kind::OtherWater(m, model)
            }
            _ => Kind::OtherHeat("LUG", "ULTRAHEAT T550"),
        };
        // The first meter is water, hourly, and gets exchanged half-way (the last plan replaces it).
        let kind = if i == 0 || i == n - 1 { Kind::KamWater } else { kind };
        let hourly = (i % hourly_every == 0 && hourly_count < hourly_cap) || i == n - 1;
        if hourly {
            hourly_count += 1;
        }
        // A bijection of i onto 8-digit serials (48271 is prime to 90,000,000).
        let serial = format!("{:08}", 10_000_000 + (i as u64 * 48_271 + 3_731_113) % 90_000_000);
        let mut key = [0u8; 16];
        rng.fill(&mut key);
        let pick = rng.gen_range(0..100);
        let mut acc = 0;
        let town = TOWNS
            .iter()
            .find(|t| {
                acc += t.4;
                pick < acc
            })
            .unwrap_or(&TOWNS[0]);
        let street = format!("{} {}", rng.gen_range(1..180), STREETS[rng.gen_range(0..STREETS.len())]);
        let name = format!(
            "{} {}",
            FIRST_NAMES[rng.gen_range(0..FIRST_NAMES.len())],
            LAST_NAMES[rng.gen_range(0..LAST_NAMES.len())]
        );
        let customer = Customer {
            number: format!("C{:07}", 100_000 + i),
            email: Some(format!("client{}@example.org", 100_000 + i)),
            phone: Some(format!("04 77 {:02} {:02} {:02}", rng.gen_range(10..99), rng.gen_range(10..99), rng.gen_range(10..99))),
            name,
            address: street.clone(),
            postal_code: town.0.into(),
            city: town.1.into(),
        };
        let spread = 0.012 + (n as f64).sqrt() * 0.0001;
        let lat = town.2 + (rng.gen::<f64>() - 0.5 + rng.gen::<f64>() - 0.5) * spread;
        let lon = town.3 + (rng.gen::<f64>() - 0.5 + rng.gen::<f64>() - 0.5) * spread * 1.4;
        let mut groups = vec![if lat >= 45.4775 { "Secteur Nord" } else { "Secteur Sud" }];
        if town.1 == "Saint-Chamond" && (lat - 45.4775).abs() < 0.004 && (lon - 4.5153).abs() < 0.006 {
            groups.push("Centre-ville");
        }
        let mean = kind.mean_per_hour(rng);
        if matches!(kind, Kind::KamWater | Kind::OtherWater(..)) && mean * 8760.0 > 190.0 {
            groups.push("Gros consommateurs");
        }
        groups.push(["Tournée 1", "Tournée 2", "Tournée 3", "Tournée 4"][i % 4]);
        let gap = (rng.gen_range(0..100) < 8).then(|| {
            let g0 = start + rng.gen_range(20..360) * DAY;
            (g0, g0 + rng.gen_range(2..20) * DAY)
        });
        let events = plan_events(rng, kind, start, end);
        plans.push(Plan {
            kind,
            serial,
            key,
            hourly,
            minute: rng.gen_range(0..60) + if hourly { 0 } else { 60 * rng.gen_range(0..6) },
            mean,
            initial: match kind {
                Kind::KamWater | Kind::OtherWater(..) => rng.gen_range(20.0..1500.0),
                _ => rng.gen_range(1_000.0..60_000.0),
            },
            customer,
            lat,
            lon,
            street,
            groups,
            gap,
            events,
            active_from: start,
            active_to: end,
            replaces: None,
        });
    }
    // Meter exchange: the last meter replaces the first one at the same installation.
    let at = start + 200 * DAY;
    let (first, rest) = plans.split_at_mut(1);
    if let (Some(old), Some(new)) = (first.first_mut(), rest.last_mut()) {
        old.active_to = at;
        new.active_from = at;
        new.initial = 0.0;
        new.mean = old.mean;
        new.customer = old.customer.clone();
        new.lat = old.lat;
        new.lon = old.lon;
        new.street = old.street.clone();
        new.groups = old.groups.clone();
        new.replaces = Some(0);
        new.gap = None;
    }
    plans
}

fn plan_events(rng: &mut ChaCha8Rng, kind: Kind, start: i64, end: i64) -> Vec<(InfoCode, i64, i64)> {
    let water = matches!(kind, Kind::KamWater | Kind::OtherWater(..));
    let roll = rng.gen_range(0..1000);
    let (code, len_days) = match roll {
        0..=29 if water => (InfoCode::Leak, rng.gen_range(2..40)),
        30..=39 if water => (InfoCode::Burst, 1),
        40..=54 if water => (InfoCode::Dry, rng.gen_range(1..10)),
        55..=64 if water => (InfoCode::Reverse, rng.gen_range(1..3)),
        // Kamstrup water meters' ELL frames carry no OMS status byte (no battery bit).
        75..=99 if kind != Kind::KamWater => (InfoCode::LowBattery, 400),
        _ => return Vec::new(),
    };
    // A third of the events are still going on at the end of the period.
    let ongoing = rng.gen_range(0..3) == 0 || code == InfoCode::LowBattery;
    let len = len_days * DAY;
    let s = if ongoing { end - rng.gen_range(1..20) * DAY } else { start + rng.gen_range(10..370) * DAY };
    vec![(code, s, if ongoing { end + DAY } else { s + len })]
}

fn register_park(store: &Store, system: &Session, plans: &[Plan], now: i64, report: &mut DemoReport) -> Result<()> {
    let permit = system.permit(Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let mut group_ids: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    let mut customer_ids = Vec::with_capacity(plans.len());
    for p in plans {
        let customer_id = match p.replaces {
            Some(old) => customer_ids.get(old).copied().unwrap_or_default(),
            None => {
                report.customers += 1;
                store::customers::insert(&tx, &p.customer)?
            }
        };
        customer_ids.push(customer_id);
        let id = store::meters::insert(
            &tx,
            &NewMeter {
                serial: p.serial.clone(),
                manufacturer: p.kind.manufacturer().into(),
                version: i64::from(p.kind.version()),
                device_type: crate::driver::device_type_name(&p.kind.device_type()),
                model: p.kind.model().into(),
                status: "active".into(),
                customer_id: Some(customer_id),
                address: p.street.clone(),
                postal_code: p.customer.postal_code.clone(),
                city: p.customer.city.clone(),
                lat: Some(p.lat),
                lon: Some(p.lon),
                installed_at: Some(p.active_from),
            },
            now,
        )?;
        for g in &p.groups {
            let gid = match group_ids.get(g) {
                Some(gid) => *gid,
                None => {
                    let gid = store::groups::create(&tx, g, now)?;
                    group_ids.insert(g, gid);
                    gid
                }
            };
            store::groups::add_member(&tx, gid, id)?;
        }
        store::keys::upsert(&tx, &p.serial, &p.key, now, "demo key file")?;
    }
    store::audit::record_permit(&tx, permit, now, "demo_created", &format!("{} meters", plans.len()))?;
    tx.commit()?;
    Ok(())
}

fn record_exchange(store: &Store, plans: &[Plan], system: &Session, now: i64) -> Result<()> {
    let (Some(old), Some(new)) = (plans.first(), plans.last()) else { return Ok(()) };
    if new.replaces != Some(0) {
        return Ok(());
    }
    let permit = system.permit(Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let id_of = |serial: &str| -> Result<i64> {
        Ok(tx.query_row("SELECT id FROM meters WHERE serial = ?1", [serial], |r| r.get(0))?)
    };
    let (old_id, new_id) = (id_of(&old.serial)?, id_of(&new.serial)?);
    let final_value =
        store::readings::last_before(&tx, old_id, crate::model::Register::Volume.code(), i64::MAX)?.map_or(0.0, |r| r.1);
    store::meters::insert_exchange(
        &tx,
        &store::meters::NewExchange {
            old_meter_id: old_id,
            new_meter_id: new_id,
            at: old.active_to,
            register: "volume",
            final_value,
            initial_value: new.initial,
            user: &system.login,
        },
    )?;
    store::meters::set_removed(&tx, old_id, old.active_to)?;
    let details = format!("{} replaced by {}", old.serial, new.serial);
    store::audit::record_permit(&tx, permit, now, "meter_exchange", &details)?;
    tx.commit()?;
    Ok(())
}

impl Plan {
    fn step(&self) -> i64 {
        if self.hourly {
            HOUR
        } else {
            DAY
        }
    }

    fn expected_lines(&self, start: i64, end: i64) -> u64 {
        let from = self.active_from.max(start);
        let to = self.active_to.min(end);
        ((to - from).max(0) / self.step()) as u64
    }

    fn codes_at(&self, t: i64) -> Vec<InfoCode> {
        self.events.iter().filter(|(_, s, e)| *s <= t && t < *e).map(|(c, _, _)| *c).collect()
    }

    /// Append this meter's telegrams as rtl-wmbus lines; returns how many.
    fn write_lines(&self, rng: &mut ChaCha8Rng, tz: chrono_tz::Tz, start: i64, end: i64, out: &mut Vec<u8>) -> usize {
        use std::io::Write;
        let key = AesKey::from_bytes(self.key);
        let step = self.step();
        let mut t = self.active_from.max(start);
        t -= t.rem_euclid(step);
        let mut index = self.initial;
        let mut access: u8 = rng.gen();
        let mut count = 0;
        let mut billing = index;
        let mut billing_month = 0;
        while t < self.active_to.min(end) {
            let at = t + self.minute * 60;
            t += step;
            index += self.consumption(rng, at, step);
            let local = tz.timestamp_opt(at, 0).single();
            let month = local.map_or(0, |l| chrono::Datelike::month(&l));
            if month != billing_month {
                billing_month = month;
                billing = index;
            }
            if self.gap.is_some_and(|(a, b)| a <= at && at < b) {
                continue;
            }
            let codes = self.codes_at(at);
            let status = if codes.contains(&InfoCode::LowBattery) { 0x04 } else { 0x00 };
            let records = self.records(index, billing, &codes, local);
            access = access.wrapping_add(1);
            let spec = FrameSpec {
                manufacturer: self.kind.manufacturer(),
                id: &self.serial,
                version: self.kind.version(),
                device_type: self.kind.device_type(),
                access_number: access,
                status,
            };
            let frame = self.frame(&spec, &records, count, &key);
            let stamp = local.map(|l| l.format("%Y-%m-%d %H:%M:%S.000").to_string()).unwrap_or_default();
            let rssi = rng.gen_range(60..120);
            let _ = writeln!(out, "C1;1;1;{stamp};{rssi};;;0x{}", hex::encode(&frame));
            count += 1;
        }
        count
    }

    /// Consumption over `step` seconds ending at `at`, with daily and seasonal rhythm.
    fn consumption(&self, rng: &mut ChaCha8Rng, at: i64, step: i64) -> f64 {
        let hour = (at.rem_euclid(DAY) / HOUR + 1) % 24; // about local time (UTC+1)
        let day_of_year = (at / DAY).rem_euclid(365) as f64;
        let winter = ((day_of_year + 10.0) / 365.0 * std::f64::consts::TAU).cos(); // 1 in January
        let codes = self.codes_at(at);
        let base = match self.kind {
            Kind::KamWater | Kind::OtherWater(..) => {
                if codes.contains(&InfoCode::Dry) {
                    return 0.0;
                }
                let profile = [0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 1.8, 2.6, 1.9, 1.2, 1.0, 1.1, 1.4, 1.2, 0.9, 0.8, 0.9, 1.1, 1.6, 2.2, 2.0, 1.5, 0.9, 0.5];
                let f = if step == HOUR { profile[hour as usize] } else { 1.0 };
                let leak = if codes.contains(&InfoCode::Leak) { 0.012 } else { 0.0 };
                let burst = if codes.contains(&InfoCode::Burst) { 0.9 } else { 0.0 };
                self.mean * f + leak + burst
            }
            Kind::KamHeat | Kind::OtherHeat(..) => self.mean * (1.0 + 0.85 * winter).max(0.08),
            Kind::KamElectricity => {
                let f = if step == HOUR { [0.5, 0.4, 0.4, 0.4, 0.4, 0.6, 1.2, 1.5, 1.1, 0.9, 0.9, 1.0, 1.2, 1.0, 0.9, 0.9, 1.0, 1.3, 1.8, 2.0, 1.8, 1.4, 1.0, 0.7][hour as usize] } else { 1.0 };
                self.mean * f * (1.0 + 0.3 * winter)
            }
        };
        let steps = step as f64 / HOUR as f64;
        (base * steps * rng.gen_range(0.55..1.45)).max(0.0)
    }

    /// The telegram's records (DIF/VIF bytes, data bytes), in the meter family's usual layout.
    fn records(&self, index: f64, billing: f64, codes: &[InfoCode], local: Option<chrono::DateTime<chrono_tz::Tz>>) -> Vec<(&'static [u8], Vec<u8>)> {
        let u32le = |v: f64| (v.round().clamp(0.0, u32::MAX as f64) as u32).to_le_bytes().to_vec();
        let mut r: Vec<(&'static [u8], Vec<u8>)> = match self.kind {
            Kind::KamWater | Kind::OtherWater(..) => vec![
                (&[0x04, 0x13], u32le(index * 1000.0)),   // volume, litres
                (&[0x44, 0x13], u32le(billing * 1000.0)), // volume at the billing date (storage 1)
            ],
            Kind::KamHeat | Kind::OtherHeat(..) => vec![
                (&[0x04, 0x05], u32le(index * 10.0)), // energy, 100 Wh
                (&[0x44, 0x05], u32le(billing * 10.0)),
                (&[0x04, 0x14], u32le(index * 0.012 * 100.0)), // volume, 10 l
            ],
            Kind::KamElectricity => vec![
                (&[0x04, 0x05], u32le(index * 10.0)),              // A+, 100 Wh
                (&[0x84, 0x40, 0x05], u32le(index * 0.04 * 10.0)), // A- (subunit 1)
                (&[0x04, 0x2b], u32le(self.mean * 1000.0)),        // P+, W
            ],
        };
        if self.kind == Kind::KamWater {
            r.push((&[0x02, 0xff, 0x20], mbus::encode::kamstrup_info_bits(codes).to_le_bytes().to_vec()));
        }
        if let Some(l) = local {
            r.push((&[0x04, 0x6d], type_f(l.naive_local(), l.offset().fix().local_minus_utc() != 3600).to_vec()));
        }
        r
    }

    /// The telegram as the meter sends it: Kamstrup water meters use ELL AES-CTR with a full
    /// frame every eighth telegram and compact frames in between; the others OMS mode 5.
    fn frame(&self, spec: &FrameSpec, records: &[(&'static [u8], Vec<u8>)], sequence: usize, key: &AesKey) -> Vec<u8> {
        if self.kind == Kind::KamWater {
            let fields: Vec<Field<'_>> = records.iter().map(|(dv, d)| Field { dif_vif: dv, data: d }).collect();
            let session = sequence as u32;
            return if sequence % 8 == 0 {
                kamstrup_full_frame(spec, &fields, session, key)
            } else {
                kamstrup_compact_frame(spec, &fields, session, key)
            };
        }
        let payload: Vec<u8> = records.iter().flat_map(|(dv, d)| dv.iter().chain(d).copied()).collect();
        wmbus_frame(spec, &payload, Some(key))
    }
}

/// EN 13757-3 date-time type F (minute, hour, day, month, year; summer-time flag).
fn type_f(t: chrono::NaiveDateTime, summer: bool) -> [u8; 4] {
    use chrono::{Datelike, Timelike};
    let year = (t.year() - 2000).clamp(0, 127) as u8;
    [
        t.minute() as u8 & 0x3f,
        (t.hour() as u8 & 0x1f) | if summer { 0x80 } else { 0 },
        (t.day() as u8 & 0x1f) | ((year & 0x07) << 5),
        (t.month() as u8 & 0x0f) | ((year & 0x78) << 1),
    ]
}
