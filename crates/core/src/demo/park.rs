//! The demo park: which meters, where, whose, with which consumption and info codes.

use super::DAY;
use crate::store::customers::Customer;
use mbus::{DeviceType, InfoCode};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) enum Kind {
    KamWater,
    KamHeat,
    KamElectricity,
    OtherWater(&'static str, &'static str),
    OtherHeat(&'static str, &'static str),
}

impl Kind {
    pub(super) fn manufacturer(self) -> &'static str {
        match self {
            Kind::KamWater | Kind::KamHeat | Kind::KamElectricity => "KAM",
            Kind::OtherWater(m, _) | Kind::OtherHeat(m, _) => m,
        }
    }
    pub(super) fn model(self) -> &'static str {
        match self {
            Kind::KamWater => "MULTICAL 21",
            Kind::KamHeat => "MULTICAL 403",
            Kind::KamElectricity => "OMNIPOWER",
            Kind::OtherWater(_, model) | Kind::OtherHeat(_, model) => model,
        }
    }
    pub(super) fn device_type(self) -> DeviceType {
        match self {
            Kind::KamWater | Kind::OtherWater(..) => DeviceType::Water,
            Kind::KamHeat | Kind::OtherHeat(..) => DeviceType::Heat,
            Kind::KamElectricity => DeviceType::Electricity,
        }
    }
    pub(super) fn version(self) -> u8 {
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

pub(super) struct Plan {
    pub(super) kind: Kind,
    pub(super) serial: String,
    pub(super) key: [u8; 16],
    pub(super) hourly: bool,
    /// Minutes past midnight (daily) or past the hour (hourly) of its telegrams.
    pub(super) minute: i64,
    pub(super) mean: f64,
    pub(super) initial: f64,
    pub(super) customer: Customer,
    pub(super) lat: f64,
    pub(super) lon: f64,
    pub(super) street: String,
    pub(super) groups: Vec<&'static str>,
    pub(super) gap: Option<(i64, i64)>,
    pub(super) events: Vec<(InfoCode, i64, i64)>,
    /// Readings only within [active_from, active_to) (meter exchange).
    pub(super) active_from: i64,
    pub(super) active_to: i64,
    pub(super) replaces: Option<usize>,
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

pub(super) fn plan_park(rng: &mut ChaCha8Rng, meters: u32, start: i64, end: i64) -> Vec<Plan> {
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

