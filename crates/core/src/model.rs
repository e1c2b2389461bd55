//! Domain vocabulary shared by the store, import, reports and export: registers, info codes, ids.

use serde::Serialize;

/// Row id of a meter in the store.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct MeterId(pub i64);

/// A measured quantity of a meter, stored as a small integer in `readings.register`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Register {
    Volume = 1,
    Energy = 2,
    APlus = 3,
    AMinus = 4,
    PPlus = 5,
    PMinus = 6,
    Power = 7,
    Flow = 8,
    FlowTemp = 9,
    ReturnTemp = 10,
    TargetVolume = 11,
    TargetEnergy = 12,
    Hca = 13,
    /// The date of the target (billing-date) values, as days since 1970-01-01 (local date).
    TargetDate = 14,
    /// Imported active energy of tariff 1 (OBIS 1.8.1), kWh.
    APlusT1 = 15,
    /// Imported active energy of tariff 2 (OBIS 1.8.2), kWh.
    APlusT2 = 16,
    /// Exported active energy of tariff 1 (OBIS 2.8.1), kWh.
    AMinusT1 = 17,
    /// Exported active energy of tariff 2 (OBIS 2.8.2), kWh.
    AMinusT2 = 18,
    /// Heat cost allocator units at the target (billing) date: the previous period's total.
    TargetHca = 19,
}

impl Register {
    pub const ALL: [Register; 19] = [
        Register::Volume,
        Register::Energy,
        Register::APlus,
        Register::AMinus,
        Register::PPlus,
        Register::PMinus,
        Register::Power,
        Register::Flow,
        Register::FlowTemp,
        Register::ReturnTemp,
        Register::TargetVolume,
        Register::TargetEnergy,
        Register::Hca,
        Register::TargetDate,
        Register::APlusT1,
        Register::APlusT2,
        Register::AMinusT1,
        Register::AMinusT2,
        Register::TargetHca,
    ];

    pub fn code(self) -> i64 {
        self as i64
    }

    pub fn from_code(code: i64) -> Option<Register> {
        Register::ALL.into_iter().find(|r| r.code() == code)
    }

    /// The string id used at the boundary (`volume`, `a_plus`, ...).
    pub fn id(self) -> &'static str {
        match self {
            Register::Volume => "volume",
            Register::Energy => "energy",
            Register::APlus => "a_plus",
            Register::AMinus => "a_minus",
            Register::PPlus => "p_plus",
            Register::PMinus => "p_minus",
            Register::Power => "power",
            Register::Flow => "flow",
            Register::FlowTemp => "flow_temp",
            Register::ReturnTemp => "return_temp",
            Register::TargetVolume => "target_volume",
            Register::TargetEnergy => "target_energy",
            Register::Hca => "hca",
            Register::TargetDate => "target_date",
            Register::APlusT1 => "a_plus_t1",
            Register::APlusT2 => "a_plus_t2",
            Register::AMinusT1 => "a_minus_t1",
            Register::AMinusT2 => "a_minus_t2",
            Register::TargetHca => "target_hca",
        }
    }

    pub fn from_id(id: &str) -> Option<Register> {
        Register::ALL.into_iter().find(|r| r.id() == id)
    }

    pub fn unit(self) -> &'static str {
        match self {
            Register::Volume | Register::TargetVolume => "m3",
            Register::Energy
            | Register::APlus
            | Register::AMinus
            | Register::TargetEnergy
            | Register::APlusT1
            | Register::APlusT2
            | Register::AMinusT1
            | Register::AMinusT2 => "kWh",
            Register::PPlus | Register::PMinus | Register::Power => "W",
            Register::Flow => "m3/h",
            Register::FlowTemp | Register::ReturnTemp => "C",
            Register::Hca | Register::TargetHca => "hca",
            Register::TargetDate => "",
        }
    }

    /// English label (the UI translates ids itself).
    pub fn label(self) -> &'static str {
        match self {
            Register::Volume => "Volume",
            Register::Energy => "Energy",
            Register::APlus => "Active energy A+",
            Register::AMinus => "Active energy A-",
            Register::PPlus => "Active power P+",
            Register::PMinus => "Active power P-",
            Register::Power => "Power",
            Register::Flow => "Flow",
            Register::FlowTemp => "Flow temperature",
            Register::ReturnTemp => "Return temperature",
            Register::TargetVolume => "Volume at billing date",
            Register::TargetEnergy => "Energy at billing date",
            Register::Hca => "Heat cost allocator units",
            Register::TargetDate => "Billing date of the target values",
            Register::APlusT1 => "Active energy A+ tariff 1",
            Register::APlusT2 => "Active energy A+ tariff 2",
            Register::AMinusT1 => "Active energy A- tariff 1",
            Register::AMinusT2 => "Active energy A- tariff 2",
            Register::TargetHca => "Heat cost allocator units at billing date",
        }
    }

    /// Index registers grow over time: their histogram shows differences.
    pub fn is_index(self) -> bool {
        matches!(
            self,
            Register::Volume
                | Register::Energy
                | Register::APlus
                | Register::AMinus
                | Register::Hca
                | Register::APlusT1
                | Register::APlusT2
                | Register::AMinusT1
                | Register::AMinusT2
        )
    }

    /// The register a histogram shows by default for a device type.
    pub fn default_for(device_type: &str) -> Register {
        match device_type {
            "heat" | "heat_cooling" | "heat_inlet" | "cooling_inlet" | "cooling_outlet" => {
                Register::Energy
            }
            "electricity" => Register::APlus,
            "heat_cost_allocator" => Register::Hca,
            _ => Register::Volume,
        }
    }

    /// Electricity by the register's id, so that tariff registers (`a_plus_t1`, ...) follow
    /// their total's rules: cumulative energy imported (`a_plus*`) or exported (`a_minus*`).
    pub fn energy_flow(self) -> Option<EnergyFlow> {
        let id = self.id();
        if id.starts_with("a_plus") {
            Some(EnergyFlow::Import)
        } else if id.starts_with("a_minus") {
            Some(EnergyFlow::Export)
        } else {
            None
        }
    }

    /// Registers that count up (an index, A+ and A- and their tariffs): a bucket, a report
    /// or a billing file shows their growth.
    pub fn is_cumulative(self) -> bool {
        self.is_index() || self.energy_flow().is_some()
    }

    /// Instantaneous values (power, flow, temperatures): a bucket holds their mean and
    /// maximum, never a difference, and they are never summed into a consumption.
    pub fn is_instantaneous(self) -> bool {
        !self.is_cumulative() && !self.id().starts_with("target_")
    }

    /// Electricity power (P+, P-): stored in W, shown, exported and reported in kW.
    pub fn is_electric_power(self) -> bool {
        let id = self.id();
        id.starts_with("p_plus") || id.starts_with("p_minus")
    }

    /// The unit a clerk sees (screens, exports, reports): kW for electricity power.
    pub fn shown_unit(self) -> &'static str {
        if self.is_electric_power() {
            "kW"
        } else {
            self.unit()
        }
    }

    /// A stored value in `shown_unit` (W -> kW for electricity power).
    pub fn shown(self, stored: f64) -> f64 {
        if self.is_electric_power() {
            stored / 1000.0
        } else {
            stored
        }
    }
}

/// Which way electricity went through a meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum EnergyFlow {
    /// Taken from the grid (A+).
    Import,
    /// Given to the grid (A-), e.g. a solar prosumer's surplus.
    Export,
}

/// Info codes (alarms) Relevé tracks; stored as strings in events and as bits on meters.
/// Append only (a code's place is its bit). `silent` is Relevé's own: a meter not heard for
/// its class's period (the network check); the others come from the meters.
pub const INFO_CODES: [&str; 9] = [
    "leak",
    "burst",
    "dry",
    "reverse",
    "tamper",
    "low_battery",
    "permanent_error",
    "temporary_error",
    "silent",
];

/// Bit of an info code in `meters.info_codes`.
pub fn info_code_bit(code: &str) -> i64 {
    INFO_CODES.iter().position(|c| *c == code).map_or(0, |i| 1 << i)
}

/// Codes set in a bit mask, in `INFO_CODES` order.
pub fn info_codes_of_mask(mask: i64) -> Vec<&'static str> {
    INFO_CODES.iter().enumerate().filter(|(i, _)| mask & (1 << i) != 0).map(|(_, c)| *c).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn register_ids_round_trip() {
        for r in Register::ALL {
            assert_eq!(Register::from_id(r.id()), Some(r));
            assert_eq!(Register::from_code(r.code()), Some(r));
        }
    }

    #[test]
    fn electricity_registers_by_id() {
        assert_eq!(Register::APlus.energy_flow(), Some(EnergyFlow::Import));
        assert_eq!(Register::AMinus.energy_flow(), Some(EnergyFlow::Export));
        assert_eq!(Register::PPlus.energy_flow(), None);
        assert!(Register::PPlus.is_instantaneous() && Register::PMinus.is_instantaneous() && Register::Power.is_instantaneous());
        assert!(!Register::APlus.is_instantaneous() && !Register::Volume.is_instantaneous());
        assert!(!Register::TargetDate.is_instantaneous() && !Register::TargetVolume.is_instantaneous());
        assert_eq!((Register::PPlus.shown_unit(), Register::PPlus.shown(2500.0)), ("kW", 2.5));
        assert_eq!((Register::PMinus.shown_unit(), Register::AMinus.shown_unit()), ("kW", "kWh"));
        assert_eq!((Register::Power.shown_unit(), Register::Power.shown(2500.0)), ("W", 2500.0));
    }

    #[test]
    fn info_code_mask_round_trip() {
        let mask = info_code_bit("leak") | info_code_bit("low_battery");
        assert_eq!(info_codes_of_mask(mask), vec!["leak", "low_battery"]);
        assert_eq!(info_code_bit("nonsense"), 0);
    }
}
