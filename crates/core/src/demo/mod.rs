//! Demo database: a realistic meter park around Saint-Chamond (Loire) whose 13 months of
//! readings enter through the real import path as real AES-encrypted telegrams.
//! `park` plans the meters, customers and events; `telegrams` writes what the meters send;
//! `objects` fills the LoRaWAN registry of connected objects.

mod objects;
mod park;
mod telegrams;

use crate::access::{self, Permission, Role, Session};
use crate::error::Result;
use crate::import::{self, FileReport};
use crate::store::{self, meters::NewMeter, Store};
use park::{plan_park, Plan};
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

pub(crate) const DAY: i64 = 86_400;
pub(crate) const HOUR: i64 = 3_600;
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
    let water_group = register_park(store, &system, &plans, now, &mut report)?;

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
    objects::lorawan_objects(store, &system, spec.seed, now)?;
    billing_examples(store, &system, water_group, now)?;
    store.checkpoint()?;
    progress("readings", total, total);
    Ok(report)
}

/// The demo's group of water meters (the billing layouts' meters).
pub const WATER_GROUP: &str = "Compteurs d'eau";

/// Register the meters, their customers, groups and keys; returns the water group's id.
fn register_park(store: &Store, system: &Session, plans: &[Plan], now: i64, report: &mut DemoReport) -> Result<i64> {
    let permit = system.permit(Permission::EditMeters)?;
    let mut conn = store.writer();
    let tx = conn.transaction()?;
    let mut group_ids: std::collections::HashMap<&str, i64> = std::collections::HashMap::new();
    let mut customer_ids = Vec::with_capacity(plans.len());
    let mut water = Vec::new();
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
        if p.kind.device_type() == mbus::DeviceType::Water {
            water.push(id);
        }
        let sealed = store.vault().seal(&p.serial, "", &p.key)?;
        store::keys::upsert(&tx, &p.serial, "", &sealed, now, "demo key file")?;
    }
    // Made after the plans' groups, so that theirs keep their ids.
    let water_group = store::groups::create(&tx, WATER_GROUP, now)?;
    for id in water {
        store::groups::add_member(&tx, water_group, id)?;
    }
    store::audit::record_permit(&tx, permit, now, "demo_created", &format!("{} meters", plans.len()))?;
    tx.commit()?;
    Ok(water_group)
}

/// The demo's billing layouts: "Facturation eau (CSV)" and "Facturation eau (largeur fixe)".
pub const LAYOUT_CSV: &str = "Facturation eau (CSV)";
pub const LAYOUT_FIXED: &str = "Facturation eau (largeur fixe)";
/// The demo's scheduled export (disabled: it writes nothing until a clerk enables it).
pub const JOB: &str = "Facturation eau mensuelle";

/// Two billing layouts a water utility uses (a CSV file for a spreadsheet or a billing system
/// that reads CSV, a fixed-width file for an older one) and a monthly export of the CSV into
/// `<database folder>/exports`, saved through the core's functions (audited as the system);
/// `<database folder>/exports` and `<database folder>/import` are the allowed folders.
fn billing_examples(store: &Store, system: &Session, water_group: i64, now: i64) -> Result<()> {
    use crate::billing::{self, Encoding, Field, Format, Layout, Var};
    let titled = |var: Var, label: &str| Field { label: Some(label.into()), ..Field::new(var) };
    let text = |t: &str| Field { text: Some(t.into()), width: Some(t.chars().count()), ..Field::new(Var::Text) };
    let mut csv = Layout::new(
        LAYOUT_CSV,
        Format::Csv,
        vec![
            titled(Var::CustomerNumber, "N° client"),
            titled(Var::CustomerName, "Nom"),
            titled(Var::MeterSerial, "N° compteur"),
            titled(Var::Address, "Adresse"),
            titled(Var::PostalCode, "Code postal"),
            titled(Var::City, "Ville"),
            titled(Var::ValueStart, "Index début (m3)"),
            titled(Var::ValueEnd, "Index facturation (m3)"),
            titled(Var::Consumption, "Consommation (m3)"),
            titled(Var::InfoCodes, "Codes info"),
        ],
    );
    csv.group_id = Some(water_group);
    csv.trailer = vec![
        Field { width: None, ..text("TOTAL") },
        Field::new(Var::RecordCount),
        Field::new(Var::TotalConsumption),
    ];
    billing::layout_save(store, system, &csv, now)?;

    // 84 characters: D, customer, meter, start and end index and consumption in litres
    // (zero-padded, 3 implied decimals), date of the end index, name.
    let w = |var: Var, width: usize| Field { width: Some(width), ..Field::new(var) };
    let litres = |var: Var, width: usize| Field { pad: Some('0'), implied_decimals: true, ..w(var, width) };
    let ymd = |var: Var| Field { date_format: Some("%Y%m%d".into()), ..w(var, 8) };
    let mut fixed = Layout::new(
        LAYOUT_FIXED,
        Format::Fixed,
        vec![
            text("D"),
            w(Var::CustomerNumber, 10),
            w(Var::MeterSerial, 8),
            litres(Var::ValueStart, 10),
            litres(Var::ValueEnd, 10),
            litres(Var::Consumption, 9),
            ymd(Var::ReadingTimeEnd),
            w(Var::CustomerName, 28),
        ],
    );
    fixed.group_id = Some(water_group);
    fixed.encoding = Encoding::Windows1252;
    fixed.header = vec![text("H"), ymd(Var::PeriodFrom), ymd(Var::PeriodTo), ymd(Var::ExportDate)];
    fixed.trailer =
        vec![text("T"), Field { pad: Some('0'), ..w(Var::RecordCount, 6) }, litres(Var::TotalConsumption, 12)];
    billing::layout_save(store, system, &fixed, now)?;

    // Next to the database, absolute: the job may be run from another working directory.
    let dir = store.path().parent().filter(|d| !d.as_os_str().is_empty()).unwrap_or(std::path::Path::new("."));
    let dir = std::fs::canonicalize(dir).unwrap_or_else(|_| dir.to_path_buf());
    let folder = dir.join("exports");
    // A scheduled export's folder must exist when the job is saved.
    std::fs::create_dir_all(&folder).map_err(|e| crate::Error::io(&folder, e))?;
    // Exports and watched folders go only into allowed folders: these two, beside the database.
    let allowed = [folder.clone(), dir.join("import")].map(|f| f.to_string_lossy().into_owned());
    crate::folders::folders_allowed_set(store, system, &allowed, now)?;
    let job = store::export_jobs::Job {
        // Disabled: the demo writes nothing until the clerk turns it on ("Run now" works).
        enabled: false,
        ..store::export_jobs::Job::monthly_to_folder(JOB, LAYOUT_CSV, &folder.to_string_lossy())
    };
    crate::jobs::export_job_save(store, system, &job, now)?;
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
        store::meters::id_of_serial(&tx, serial)?.ok_or_else(|| crate::Error::not_found(format!("meter {serial}")))
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

