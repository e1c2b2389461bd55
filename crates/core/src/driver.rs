//! Maps a decoded telegram to Relevé's registers and info codes. (One generic mapping for
//! this cut; meter families get their own files as drivers grow.)

use crate::model::Register;
use mbus::{Function, InfoCode, Quantity, Record, Telegram, Value};

/// The readings a telegram carries: (register, value), at most one per register.
pub fn readings(t: &Telegram) -> Vec<(Register, f64)> {
    let device = device_type_id(t);
    let electricity = device == "electricity";
    let heat = Register::default_for(device) == Register::Energy;
    let mut out: Vec<(Register, f64)> = Vec::new();
    for r in &t.records {
        let Value::Number(v) = r.value else { continue };
        if r.function != Function::Instantaneous || r.tariff != 0 || !v.is_finite() {
            continue;
        }
        let Some(register) = register_of(r, electricity, heat) else { continue };
        if !out.iter().any(|(reg, _)| *reg == register) {
            out.push((register, v));
        }
    }
    out
}

fn register_of(r: &Record, electricity: bool, heat: bool) -> Option<Register> {
    let now = r.storage == 0;
    let billing = r.storage == 1;
    match r.quantity {
        Quantity::Energy if electricity && now && r.subunit == 0 => Some(Register::APlus),
        Quantity::Energy if electricity && now && r.subunit == 1 => Some(Register::AMinus),
        Quantity::Power if electricity && now && r.subunit == 0 => Some(Register::PPlus),
        Quantity::Power if electricity && now && r.subunit == 1 => Some(Register::PMinus),
        Quantity::Energy if now && r.subunit == 0 => Some(Register::Energy),
        Quantity::Energy if billing && heat => Some(Register::TargetEnergy),
        Quantity::Volume if now && r.subunit == 0 => Some(Register::Volume),
        Quantity::Volume if billing && !heat => Some(Register::TargetVolume),
        Quantity::Power if now => Some(Register::Power),
        Quantity::VolumeFlow if now => Some(Register::Flow),
        Quantity::FlowTemperature if now => Some(Register::FlowTemp),
        Quantity::ReturnTemperature if now => Some(Register::ReturnTemp),
        _ => None,
    }
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
pub fn device_type_id(t: &Telegram) -> &'static str {
    t.address.device_type.name()
}

pub fn device_type_name(d: &mbus::DeviceType) -> String {
    d.name().to_string()
}
