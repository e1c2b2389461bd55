//! Generic OMS meters of every other brand: registers chosen by device type (electricity:
//! A+/A-/P+/P-; heat and cooling: energy; water and gas: volume; heat cost allocators: units).

use super::Driver;
use crate::model::Register;
use mbus::{Address, DeviceType, Quantity, Record};

pub const DRIVER: Driver = Driver { name: "oms", detect, register };

fn detect(_: &Address) -> bool {
    true
}

fn register(a: &Address, r: &Record) -> Option<Register> {
    if a.device_type == DeviceType::Electricity {
        // Electricity records read the same for every brand.
        return super::kamstrup_electricity::register(a, r);
    }
    match (r.quantity, r.storage, r.subunit) {
        (Quantity::Energy, 0, 0) => Some(Register::Energy),
        (Quantity::Energy, 1, 0) => Some(Register::TargetEnergy),
        (Quantity::Volume, 0, 0) => Some(Register::Volume),
        (Quantity::Volume, 1, 0) => Some(Register::TargetVolume),
        (Quantity::Date, 1, 0) => Some(Register::TargetDate),
        (Quantity::Power, 0, 0) => Some(Register::Power),
        (Quantity::VolumeFlow, 0, _) => Some(Register::Flow),
        (Quantity::FlowTemperature, 0, _) => Some(Register::FlowTemp),
        (Quantity::ReturnTemperature, 0, _) => Some(Register::ReturnTemp),
        (Quantity::HcaUnits, 0, _) => Some(Register::Hca),
        (Quantity::HcaUnits, 1, _) => Some(Register::TargetHca),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::{address, record};
    use super::*;

    #[test]
    fn registers_follow_the_device_type() {
        let water = address("DME", DeviceType::Water);
        let power = address("EMH", DeviceType::Electricity);
        let hca = address("QDS", DeviceType::HeatCostAllocator);
        assert_eq!(register(&water, &record(Quantity::Volume, 0, 0)), Some(Register::Volume));
        assert_eq!(register(&power, &record(Quantity::Energy, 0, 0)), Some(Register::APlus));
        assert_eq!(register(&power, &record(Quantity::EnergyBackward, 0, 0)), Some(Register::AMinus));
        assert_eq!(register(&hca, &record(Quantity::HcaUnits, 0, 0)), Some(Register::Hca));
        assert_eq!(register(&hca, &record(Quantity::HcaUnits, 1, 0)), Some(Register::TargetHca));
    }
}
