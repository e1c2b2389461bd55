//! Drivers map a decoded telegram to Relevé's registers. One meter family per file, each
//! with its detection, its mapping and its tests, listed alphabetically in `DRIVERS`; the
//! generic OMS driver, last, takes every meter no other driver claims.

mod kamstrup_electricity;
mod kamstrup_heat;
mod kamstrup_water;
mod oms;

use crate::model::Register;
use mbus::{Address, Function, InfoCode, Record, Telegram, Value};

/// A meter family.
pub struct Driver {
    pub name: &'static str,
    /// Does this family read telegrams of this meter?
    pub detect: fn(&Address) -> bool,
    /// The register a record of this meter fills, if any (records reaching it are
    /// instantaneous values of tariff 0).
    pub register: fn(&Address, &Record) -> Option<Register>,
}

/// Every driver, alphabetically, the generic one last.
pub const DRIVERS: &[Driver] =
    &[kamstrup_electricity::DRIVER, kamstrup_heat::DRIVER, kamstrup_water::DRIVER, oms::DRIVER];

/// The driver of a meter.
pub fn driver_for(address: &Address) -> &'static Driver {
    DRIVERS.iter().find(|d| (d.detect)(address)).unwrap_or(&oms::DRIVER)
}

/// The readings a telegram carries: (register, value), at most one per register.
pub fn readings(t: &Telegram) -> Vec<(Register, f64)> {
    let driver = driver_for(&t.address);
    let mut out: Vec<(Register, f64)> = Vec::new();
    for r in &t.records {
        let Value::Number(v) = r.value else { continue };
        if r.function != Function::Instantaneous || r.tariff != 0 || !v.is_finite() {
            continue;
        }
        let Some(register) = (driver.register)(&t.address, r) else { continue };
        if !out.iter().any(|(reg, _)| *reg == register) {
            out.push((register, v));
        }
    }
    out
}

/// Relevé's id of an info code.
pub fn info_code_id(code: &InfoCode) -> &'static str {
    match code {
        InfoCode::Dry => "dry",
        InfoCode::Reverse => "reverse",
        InfoCode::Leak => "leak",
        InfoCode::Burst => "burst",
        InfoCode::Tamper => "tamper",
        InfoCode::LowBattery => "low_battery",
        InfoCode::PermanentError => "permanent_error",
        InfoCode::TemporaryError => "temporary_error",
    }
}

/// The device type as Relevé stores it (`water`, `heat`, ...): the decoder's name.
pub fn device_type_name(d: &mbus::DeviceType) -> String {
    d.name().to_string()
}

fn is_kamstrup(a: &Address) -> bool {
    a.manufacturer == "KAM" || a.manufacturer == "KAW"
}

#[cfg(test)]
mod tests {
    use super::*;
    use mbus::{DeviceType, Quantity, Unit};

    pub(super) fn address(manufacturer: &str, device_type: DeviceType) -> Address {
        Address { manufacturer: manufacturer.into(), id: "12345678".into(), version: 1, device_type }
    }

    pub(super) fn record(quantity: Quantity, storage: u32, subunit: u32) -> Record {
        Record {
            quantity,
            value: Value::Number(1.0),
            unit: Unit::None,
            storage,
            tariff: 0,
            subunit,
            function: Function::Instantaneous,
        }
    }

    #[test]
    fn each_meter_gets_its_family_driver() {
        let check = |m: &str, d: DeviceType, name: &str| assert_eq!(driver_for(&address(m, d)).name, name, "{m} {d:?}");
        check("KAM", DeviceType::Water, "kamstrup_water");
        check("KAM", DeviceType::ColdWater, "kamstrup_water");
        check("KAM", DeviceType::Heat, "kamstrup_heat");
        check("KAM", DeviceType::Electricity, "kamstrup_electricity");
        check("DME", DeviceType::Water, "oms");
        check("LUG", DeviceType::Heat, "oms");
    }

    #[test]
    fn drivers_are_listed_alphabetically_with_the_generic_one_last() {
        let names: Vec<&str> = DRIVERS.iter().map(|d| d.name).collect();
        let (generic, rest) = names.split_last().expect("drivers");
        assert_eq!(*generic, "oms");
        assert!(rest.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    }
}
