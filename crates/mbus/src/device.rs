//! Device type (medium) codes of EN 13757-7 / OMS, with their names.

use serde::{Serialize, Serializer};

/// The meter's device type (the "medium" byte of the address).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum DeviceType {
    Other,
    Oil,
    Electricity,
    Gas,
    Heat,
    Steam,
    WarmWater,
    Water,
    HeatCostAllocator,
    CompressedAir,
    CoolingOutlet,
    CoolingInlet,
    HeatInlet,
    HeatCooling,
    BusSystem,
    Unknown,
    HotWater,
    ColdWater,
    DualWater,
    Pressure,
    AdConverter,
    SmokeDetector,
    RoomSensor,
    GasDetector,
    /// Any code without a name here; carries the raw code.
    Reserved(u8),
}

/// (code, variant, serde name) for every named device type.
const TABLE: [(u8, DeviceType, &str); 24] = [
    (0x00, DeviceType::Other, "other"),
    (0x01, DeviceType::Oil, "oil"),
    (0x02, DeviceType::Electricity, "electricity"),
    (0x03, DeviceType::Gas, "gas"),
    (0x04, DeviceType::Heat, "heat"),
    (0x05, DeviceType::Steam, "steam"),
    (0x06, DeviceType::WarmWater, "warm_water"),
    (0x07, DeviceType::Water, "water"),
    (0x08, DeviceType::HeatCostAllocator, "heat_cost_allocator"),
    (0x09, DeviceType::CompressedAir, "compressed_air"),
    (0x0A, DeviceType::CoolingOutlet, "cooling_outlet"),
    (0x0B, DeviceType::CoolingInlet, "cooling_inlet"),
    (0x0C, DeviceType::HeatInlet, "heat_inlet"),
    (0x0D, DeviceType::HeatCooling, "heat_cooling"),
    (0x0E, DeviceType::BusSystem, "bus_system"),
    (0x0F, DeviceType::Unknown, "unknown"),
    (0x15, DeviceType::HotWater, "hot_water"),
    (0x16, DeviceType::ColdWater, "cold_water"),
    (0x17, DeviceType::DualWater, "dual_water"),
    (0x18, DeviceType::Pressure, "pressure"),
    (0x19, DeviceType::AdConverter, "ad_converter"),
    (0x1A, DeviceType::SmokeDetector, "smoke_detector"),
    (0x1B, DeviceType::RoomSensor, "room_sensor"),
    (0x1C, DeviceType::GasDetector, "gas_detector"),
];

impl DeviceType {
    /// The one-byte code as sent in the telegram.
    pub fn code(&self) -> u8 {
        match self {
            DeviceType::Reserved(c) => *c,
            named => TABLE
                .iter()
                .find(|(_, d, _)| d == named)
                .map(|(c, _, _)| *c)
                .unwrap_or(0x0F),
        }
    }

    /// The device type for a code; unnamed codes become `Reserved(code)`.
    pub fn from_code(code: u8) -> Self {
        TABLE
            .iter()
            .find(|(c, _, _)| *c == code)
            .map(|(_, d, _)| *d)
            .unwrap_or(DeviceType::Reserved(code))
    }

    /// The snake_case name used in JSON ("water", "heat_cost_allocator", "reserved").
    pub fn name(&self) -> &'static str {
        match self {
            DeviceType::Reserved(_) => "reserved",
            named => TABLE
                .iter()
                .find(|(_, d, _)| d == named)
                .map(|(_, _, n)| *n)
                .unwrap_or("reserved"),
        }
    }
}

impl Serialize for DeviceType {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(code: u8, expected: DeviceType, name: &str) {
        let d = DeviceType::from_code(code);
        assert_eq!(d, expected);
        assert_eq!(d.code(), code);
        assert_eq!(d.name(), name);
    }

    #[test]
    fn codes_round_trip() {
        check(0x07, DeviceType::Water, "water");
        check(0x04, DeviceType::Heat, "heat");
        check(0x08, DeviceType::HeatCostAllocator, "heat_cost_allocator");
        check(0x16, DeviceType::ColdWater, "cold_water");
        check(0x37, DeviceType::Reserved(0x37), "reserved");
        for c in 0..=255u8 {
            assert_eq!(DeviceType::from_code(c).code(), c);
        }
    }
}
