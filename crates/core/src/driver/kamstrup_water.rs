//! Kamstrup water meters (MULTICAL 21, flowIQ 2101/3100): volume, volume at the target
//! (billing) date in storage 1, flow, water and external temperature. Info codes
//! (`02 FF 20`: dry, reverse, leak, burst) are read by the decoder.

use super::{is_kamstrup, Driver};
use crate::model::Register;
use mbus::{Address, DeviceType, Quantity, Record};

pub const DRIVER: Driver = Driver { name: "kamstrup_water", detect, register };

fn detect(a: &Address) -> bool {
    is_kamstrup(a)
        && matches!(a.device_type, DeviceType::Water | DeviceType::ColdWater | DeviceType::WarmWater | DeviceType::HotWater)
}

fn register(_: &Address, r: &Record) -> Option<Register> {
    match (r.quantity, r.storage, r.subunit) {
        (Quantity::Volume, 0, 0) => Some(Register::Volume),
        (Quantity::Volume, 1, 0) => Some(Register::TargetVolume),
        (Quantity::Date, 1, 0) => Some(Register::TargetDate),
        (Quantity::VolumeFlow, 0, _) => Some(Register::Flow),
        (Quantity::FlowTemperature, 0, _) => Some(Register::FlowTemp),
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
    fn volume_now_and_at_the_target_date() {
        assert_eq!(register(&a(), &record(Quantity::Volume, 0, 0)), Some(Register::Volume));
        assert_eq!(register(&a(), &record(Quantity::Volume, 1, 0)), Some(Register::TargetVolume));
        assert_eq!(register(&a(), &record(Quantity::Date, 1, 0)), Some(Register::TargetDate));
        assert_eq!(register(&a(), &record(Quantity::Energy, 0, 0)), None);
    }
}
