//! The demo's LoRaWAN connected objects: a registry of sensors and meter bridges in
//! Saint-Chamond and two neighbouring communes, put in service over the last years (a few
//! taken out, two without a date), and the settings of the yearly count (the ROC42
//! convention between the town and the SIEL-TE).

use crate::access::Session;
use crate::error::Result;
use crate::reports::objects::{objects_settings_set, ObjectsSettings};
use crate::store::{self, lorawan::NewDevice, Store};
use chrono::{Datelike, NaiveDate};
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;

/// (brand, model, payload format, OUI prefix of the DevEUI, how many).
const KINDS: [(&str, &str, &str, &str, usize); 6] = [
    ("Kamstrup", "flowIQ 2200", "wmbus-app", "0004A30B", 18),
    ("Lobaro", "Wireless M-Bus Bridge V2", "wmbus-lobaro", "70B3D5E7", 8),
    ("Adeunis", "TEMP 3", "raw", "0018B200", 10),
    ("Elsys", "ERS CO2", "raw", "A81758FF", 9),
    ("Dragino", "LDDS75", "raw", "A84041C1", 6),
    ("Milesight", "EM300-TH", "raw", "24E12482", 7),
];

const STREETS: [&str; 10] = [
    "rue de la République",
    "avenue Antoine Pinay",
    "place de la Liberté",
    "rue Gambetta",
    "boulevard Waldeck-Rousseau",
    "rue Victor Hugo",
    "rue du Gier",
    "allée des Tilleuls",
    "rue Jean Jaurès",
    "chemin de la Varizelle",
];

const CITIES: [&str; 3] = ["Saint-Chamond", "L'Horme", "La Grand-Croix"];

pub(super) fn lorawan_objects(store: &Store, system: &Session, seed: u64, now: i64) -> Result<()> {
    let mut rng = ChaCha8Rng::seed_from_u64(seed ^ 0x10_4A_A0);
    let today = chrono::DateTime::from_timestamp(now, 0).map(|t| t.date_naive()).unwrap_or_default();
    let first = NaiveDate::from_ymd_opt(today.year() - 3, 3, 1).unwrap_or(today);
    let span = (today - first).num_days().max(1);
    let conn = store.writer();
    let mut n = 0usize;
    for (brand, model, payload, oui, count) in KINDS {
        for i in 0..count {
            n += 1;
            let dev_eui = format!("{oui}{:08X}", 0x0010_0000 + (n as u32) * 7919 + i as u32);
            let city = CITIES[if n.is_multiple_of(5) { 1 } else if n.is_multiple_of(7) { 2 } else { 0 }];
            let address = format!("{} {}", rng.gen_range(1..90), STREETS[rng.gen_range(0..STREETS.len())]);
            let commissioned = first + chrono::Duration::days(rng.gen_range(0..span));
            // Two objects not dated yet; every eleventh taken out some months after it came.
            let commissioned = (!n.is_multiple_of(23)).then(|| commissioned.to_string());
            let decommissioned = n.is_multiple_of(11)
                .then(|| first + chrono::Duration::days(rng.gen_range(0..span)))
                .filter(|d| commissioned.as_deref().is_some_and(|c| d.to_string().as_str() > c))
                .map(|d| d.to_string());
            let serial = if payload == "raw" { String::new() } else { format!("{:08}", 67_000_000 + n) };
            let manufacturer = match payload {
                "wmbus-app" => "KAM",
                "wmbus-lobaro" => "LOB",
                _ => "",
            };
            let device = NewDevice {
                dev_eui: dev_eui.clone(),
                serial,
                manufacturer: manufacturer.into(),
                brand: brand.into(),
                model: model.into(),
                payload: payload.into(),
                address,
                city: city.into(),
                commissioned: commissioned.clone(),
                decommissioned: decommissioned.clone(),
            };
            store::lorawan::upsert(&conn, &device, now)?;
            if decommissioned.is_none() && commissioned.is_some() {
                let uplinks = rng.gen_range(40..2_000);
                let last = now - rng.gen_range(60..(if n.is_multiple_of(13) { 12 * 86_400 } else { 7_200 }));
                store::objects::set_uplinks(&conn, &dev_eui, uplinks, Some(last))?;
            }
        }
    }
    drop(conn);
    let settings = ObjectsSettings {
        municipality: "Ville de Saint-Chamond".into(),
        operator: "SIEL-TE".into(),
        network: "ROC42".into(),
        access: "advanced".into(),
        joined_year: Some(2023),
        deliberation: Some("2023-05-15".into()),
    };
    objects_settings_set(store, system, &settings, now)?;
    Ok(())
}
