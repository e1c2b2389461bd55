//! The typed data record: quantity, value in a canonical unit, storage/tariff/subunit and function.

use serde::Serialize;

/// One decoded data record.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Record {
    pub quantity: Quantity,
    pub value: Value,
    pub unit: Unit,
    /// Storage number: 0 = current value, 1.. = stored (historic) values.
    pub storage: u32,
    pub tariff: u32,
    pub subunit: u32,
    pub function: Function,
}

/// A record's value: a number in the record's canonical unit, or text
/// (dates/times as ISO text "2022-12-31T23:59", plain text, raw hex of manufacturer data).
#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(untagged)]
pub enum Value {
    Number(f64),
    Text(String),
}

impl Value {
    /// The number, if the value is one.
    pub fn as_f64(&self) -> Option<f64> {
        match self {
            Value::Number(n) => Some(*n),
            Value::Text(_) => None,
        }
    }
}

/// What a record measures.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Quantity {
    Volume,
    /// Volume accumulated only while the flow runs backwards (VIFE 3C).
    VolumeBackward,
    Energy,
    /// Energy accumulated only while the value is negative, e.g. produced energy (VIFE 3C).
    EnergyBackward,
    /// Reactive energy (kvarh, kept in the `None` unit as kvarh).
    ReactiveEnergy,
    Power,
    /// Power counted only while negative, e.g. power fed back by an electricity meter (VIFE 3C).
    PowerBackward,
    ReactivePower,
    VolumeFlow,
    MassFlow,
    FlowTemperature,
    ReturnTemperature,
    TemperatureDifference,
    ExternalTemperature,
    Pressure,
    OnTime,
    OperatingTime,
    AveragingDuration,
    ActualityDuration,
    DateTime,
    Date,
    HcaUnits,
    Voltage,
    Current,
    Frequency,
    Mass,
    RelativeHumidity,
    FabricationNumber,
    EnhancedId,
    BusAddress,
    AccessNumber,
    Medium,
    Manufacturer,
    ParameterSet,
    ModelVersion,
    HardwareVersion,
    FirmwareVersion,
    SoftwareVersion,
    CustomerLocation,
    Customer,
    ErrorFlags,
    DigitalOutput,
    DigitalInput,
    StorageInterval,
    DurationSinceReadout,
    ResetCounter,
    CumulationCounter,
    DayOfWeek,
    WeekNumber,
    RemainingBatteryLife,
    OperatingTimeBattery,
    BatteryChangeDate,
    Rssi,
    Dimensionless,
    /// Manufacturer-specific or unknown VIF; the value is kept raw.
    Other,
}

/// Canonical units; numbers are converted to these (litres -> m3, Wh/J -> kWh, minutes -> s...).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[non_exhaustive]
pub enum Unit {
    #[serde(rename = "m3")]
    M3,
    #[serde(rename = "kWh")]
    KWh,
    #[serde(rename = "W")]
    W,
    #[serde(rename = "m3/h")]
    M3PerH,
    #[serde(rename = "C")]
    C,
    #[serde(rename = "K")]
    K,
    #[serde(rename = "bar")]
    Bar,
    #[serde(rename = "V")]
    V,
    #[serde(rename = "A")]
    A,
    #[serde(rename = "Hz")]
    Hz,
    #[serde(rename = "s")]
    S,
    #[serde(rename = "hca")]
    Hca,
    #[serde(rename = "%")]
    Percent,
    #[serde(rename = "kg")]
    Kg,
    #[serde(rename = "kg/h")]
    KgPerH,
    #[serde(rename = "dBm")]
    Dbm,
    #[serde(rename = "")]
    None,
}

/// The DIF function field.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Function {
    Instantaneous,
    Maximum,
    Minimum,
    /// Value during error state (or a value the meter marks as erroneous).
    Error,
}
