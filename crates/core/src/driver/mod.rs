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
        if r.function != Function::Instantaneous || r.tariff != 0 {
            continue;
        }
        let Some(register) = (driver.register)(&t.address, r) else { continue };
        let v = match (&r.value, register) {
            (Value::Text(date), Register::TargetDate) => match days_since_epoch(date) {
                Some(days) => days,
                None => continue,
            },
            (Value::Number(v), _) if v.is_finite() && register != Register::TargetDate => *v,
            _ => continue,
        };
        if !out.iter().any(|(reg, _)| *reg == register) {
            out.push((register, v));
        }
    }
    out
}

/// A date record's text "YYYY-MM-DD" as days since 1970-01-01 (how register `target_date`
/// stores the date of the target values); `None` for an unset or impossible date.
pub fn days_since_epoch(date: &str) -> Option<f64> {
    let d = chrono::NaiveDate::parse_from_str(date.get(..10)?, "%Y-%m-%d").ok()?;
    let epoch = chrono::NaiveDate::from_ymd_opt(1970, 1, 1)?;
    Some((d - epoch).num_days() as f64)
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
    fn a_target_date_is_stored_as_days_since_1970() {
        assert_eq!(days_since_epoch("1970-01-02"), Some(1.0));
        assert_eq!(days_since_epoch("2025-02-01"), Some(20120.0));
        assert_eq!(days_since_epoch("2000-00-00"), None);
        let mut target = record(Quantity::Date, 1, 0);
        target.value = Value::Text("2025-02-01".into());
        let t = Telegram {
            address: address("KAM", DeviceType::Water),
            access_number: 0,
            status: 0,
            security: mbus::Security { mode: mbus::SecurityMode::None, status: mbus::SecurityStatus::Ok },
            records: vec![record(Quantity::Volume, 0, 0), target],
            info_codes: Vec::new(),
        };
        assert_eq!(readings(&t), vec![(Register::Volume, 1.0), (Register::TargetDate, 20120.0)]);
    }

    #[test]
    fn drivers_are_listed_alphabetically_with_the_generic_one_last() {
        let names: Vec<&str> = DRIVERS.iter().map(|d| d.name).collect();
        let (generic, rest) = names.split_last().expect("drivers");
        assert_eq!(*generic, "oms");
        assert!(rest.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    }
}
