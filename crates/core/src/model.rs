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
}

impl Register {
    pub const ALL: [Register; 18] = [
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
            Register::Hca => "hca",
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
    fn info_code_mask_round_trip() {
        let mask = info_code_bit("leak") | info_code_bit("low_battery");
        assert_eq!(info_codes_of_mask(mask), vec!["leak", "low_battery"]);
        assert_eq!(info_code_bit("nonsense"), 0);
    }
}
