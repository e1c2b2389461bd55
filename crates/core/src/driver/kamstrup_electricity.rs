//! Kamstrup electricity meters (OMNIPOWER): active energy imported A+ and exported A-
//! (subunit 1 or a backward-accumulation VIFE), active power P+ and P-.

use super::{is_kamstrup, Driver};
use crate::model::Register;
use mbus::{Address, DeviceType, Quantity, Record};

pub const DRIVER: Driver = Driver { name: "kamstrup_electricity", detect, register };

fn detect(a: &Address) -> bool {
    is_kamstrup(a) && a.device_type == DeviceType::Electricity
}

pub(super) fn register(_: &Address, r: &Record) -> Option<Register> {
    match (r.quantity, r.storage, r.subunit) {
        (Quantity::Energy, 0, 0) => Some(Register::APlus),
        (Quantity::Energy, 0, 1) | (Quantity::EnergyBackward, 0, _) => Some(Register::AMinus),
        (Quantity::Power, 0, 0) => Some(Register::PPlus),
        (Quantity::Power, 0, 1) | (Quantity::PowerBackward, 0, _) => Some(Register::PMinus),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::super::tests::record;
    use super::*;

    fn a() -> Address {
        super::super::tests::address("KAM", DeviceType::Electricity)
    }

    #[test]
    fn import_and_export() {
        assert_eq!(register(&a(), &record(Quantity::Energy, 0, 0)), Some(Register::APlus));
        assert_eq!(register(&a(), &record(Quantity::Energy, 0, 1)), Some(Register::AMinus));
        assert_eq!(register(&a(), &record(Quantity::EnergyBackward, 0, 0)), Some(Register::AMinus));
        assert_eq!(register(&a(), &record(Quantity::PowerBackward, 0, 0)), Some(Register::PMinus));
    }
}
