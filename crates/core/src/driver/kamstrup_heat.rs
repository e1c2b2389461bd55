//! Kamstrup heat and cooling meters (MULTICAL 302/403/603): energy, volume, power, flow,
//! flow and return temperatures, energy and volume at the target date (storage 1).

use super::{is_kamstrup, Driver};
use crate::model::Register;
use mbus::{Address, DeviceType, Quantity, Record};

pub const DRIVER: Driver = Driver { name: "kamstrup_heat", detect, register };

fn detect(a: &Address) -> bool {
    is_kamstrup(a)
        && matches!(
            a.device_type,
            DeviceType::Heat | DeviceType::HeatInlet | DeviceType::HeatCooling | DeviceType::CoolingInlet | DeviceType::CoolingOutlet
        )
}

fn register(_: &Address, r: &Record) -> Option<Register> {
    match (r.quantity, r.storage, r.subunit) {
        (Quantity::Energy, 0, 0) => Some(Register::Energy),
        (Quantity::Energy, 1, 0) => Some(Register::TargetEnergy),
        (Quantity::Date, 1, 0) => Some(Register::TargetDate),
        (Quantity::Volume, 0, 0) => Some(Register::Volume),
        (Quantity::Volume, 1, 0) => Some(Register::TargetVolume),
        (Quantity::Power, 0, _) => Some(Register::Power),
        (Quantity::VolumeFlow, 0, _) => Some(Register::Flow),
        (Quantity::FlowTemperature, 0, _) => Some(Register::FlowTemp),
        (Quantity::ReturnTemperature, 0, _) => Some(Register::ReturnTemp),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::record;
    use super::*;

    fn a() -> Address {
        super::super::tests::address("KAM", DeviceType::Water)
    }

    #[test]
    fn energy_and_temperatures() {
        assert_eq!(register(&a(), &record(Quantity::Energy, 0, 0)), Some(Register::Energy));
        assert_eq!(register(&a(), &record(Quantity::Energy, 1, 0)), Some(Register::TargetEnergy));
        assert_eq!(register(&a(), &record(Quantity::ReturnTemperature, 0, 0)), Some(Register::ReturnTemp));
    }
}
