//! Value information block (EN 13757-3 §6.4 and annex): VIF, the FB/FD extension tables,
//! plain-text and manufacturer-specific VIFs, and the combinable VIFE chain.
//! Every entry says how to bring the value to the crate's canonical unit.

use crate::cursor::Cursor;
use crate::record::{Quantity, Unit};

/// EN 13757-3 allows at most 10 VIFEs.
const MAX_VIFE: usize = 10;

/// How the data of a record is turned into a value.
#[derive(Debug, Clone, Copy, PartialEq)]
pub(crate) enum Interp {
    /// value = raw x 10^exp x mul (signed integers).
    Scaled { exp: i32, mul: f64 },
    /// Degrees Fahrenheit x 10^exp, converted to Celsius (`diff`: a temperature difference, to kelvin).
    Fahrenheit { exp: i32, diff: bool },
    /// Date (type G) or date and time (types F, I), or time of day (type J): ISO text.
    DateTime,
    /// Kept as is: unsigned numbers, BCD as its decimal number, text, or hex.
    Raw,
}

/// The decoded meaning of a VIB.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct VifInfo {
    pub quantity: Quantity,
    pub unit: Unit,
    pub interp: Interp,
    /// True when a manufacturer-specific VIF or VIFE is involved.
    pub manufacturer_specific: bool,
}

fn scaled(quantity: Quantity, unit: Unit, exp: i32, mul: f64) -> (Quantity, Unit, Interp) {
    (quantity, unit, Interp::Scaled { exp, mul })
}

fn raw(quantity: Quantity) -> (Quantity, Unit, Interp) {
    (quantity, Unit::None, Interp::Raw)
}

/// Seconds in the time unit nn (0 s, 1 min, 2 h, 3 days).
fn time_unit(nn: u8) -> f64 {
    match nn & 0x03 {
        0 => 1.0,
        1 => 60.0,
        2 => 3600.0,
        _ => 86400.0,
    }
}

/// Primary VIF table (without the extension bit).
fn primary(v: u8) -> (Quantity, Unit, Interp) {
    let n = i32::from(v & 0x07);
    let nn = i32::from(v & 0x03);
    match v {
        0x00..=0x07 => scaled(Quantity::Energy, Unit::KWh, n - 6, 1.0), // 10^(n-3) Wh
        0x08..=0x0F => scaled(Quantity::Energy, Unit::KWh, n - 6, 1.0 / 3.6), // 10^n J
        0x10..=0x17 => scaled(Quantity::Volume, Unit::M3, n - 6, 1.0),
        0x18..=0x1F => scaled(Quantity::Mass, Unit::Kg, n - 3, 1.0),
        0x20..=0x23 => scaled(Quantity::OnTime, Unit::S, 0, time_unit(v)),
        0x24..=0x27 => scaled(Quantity::OperatingTime, Unit::S, 0, time_unit(v)),
        0x28..=0x2F => scaled(Quantity::Power, Unit::W, n - 3, 1.0),
        0x30..=0x37 => scaled(Quantity::Power, Unit::W, n, 1.0 / 3600.0), // 10^n J/h
        0x38..=0x3F => scaled(Quantity::VolumeFlow, Unit::M3PerH, n - 6, 1.0),
        0x40..=0x47 => scaled(Quantity::VolumeFlow, Unit::M3PerH, n - 7, 60.0), // m3/min
        0x48..=0x4F => scaled(Quantity::VolumeFlow, Unit::M3PerH, n - 9, 3600.0), // m3/s
        0x50..=0x57 => scaled(Quantity::MassFlow, Unit::KgPerH, n - 3, 1.0),
        0x58..=0x5B => scaled(Quantity::FlowTemperature, Unit::C, nn - 3, 1.0),
        0x5C..=0x5F => scaled(Quantity::ReturnTemperature, Unit::C, nn - 3, 1.0),
        0x60..=0x63 => scaled(Quantity::TemperatureDifference, Unit::K, nn - 3, 1.0),
        0x64..=0x67 => scaled(Quantity::ExternalTemperature, Unit::C, nn - 3, 1.0),
        0x68..=0x6B => scaled(Quantity::Pressure, Unit::Bar, nn - 3, 1.0),
        0x6C => (Quantity::Date, Unit::None, Interp::DateTime),
        0x6D => (Quantity::DateTime, Unit::None, Interp::DateTime),
        0x6E => scaled(Quantity::HcaUnits, Unit::Hca, 0, 1.0),
        0x70..=0x73 => scaled(Quantity::AveragingDuration, Unit::S, 0, time_unit(v)),
        0x74..=0x77 => scaled(Quantity::ActualityDuration, Unit::S, 0, time_unit(v)),
        0x78 => raw(Quantity::FabricationNumber),
        0x79 => raw(Quantity::EnhancedId),
        0x7A => raw(Quantity::BusAddress),
        _ => raw(Quantity::Other),
    }
}

/// First extension table, VIF = FD (EN 13757-3 table 14).
fn table_fd(v: u8) -> (Quantity, Unit, Interp) {
    let nnnn = i32::from(v & 0x0F);
    match v {
        0x08 => raw(Quantity::AccessNumber),
        0x09 => raw(Quantity::Medium),
        0x0A => raw(Quantity::Manufacturer),
        0x0B => raw(Quantity::ParameterSet),
        0x0C => raw(Quantity::ModelVersion),
        0x0D => raw(Quantity::HardwareVersion),
        0x0E => raw(Quantity::FirmwareVersion),
        0x0F => raw(Quantity::SoftwareVersion),
        0x10 => raw(Quantity::CustomerLocation),
        0x11 => raw(Quantity::Customer),
        0x17 => raw(Quantity::ErrorFlags),
        0x1A => raw(Quantity::DigitalOutput),
        0x1B => raw(Quantity::DigitalInput),
        0x24..=0x27 => scaled(Quantity::StorageInterval, Unit::S, 0, time_unit(v)),
        0x2C..=0x2F => scaled(Quantity::DurationSinceReadout, Unit::S, 0, time_unit(v)),
        0x3A => scaled(Quantity::Dimensionless, Unit::None, 0, 1.0),
        0x40..=0x4F => scaled(Quantity::Voltage, Unit::V, nnnn - 9, 1.0),
        0x50..=0x5F => scaled(Quantity::Current, Unit::A, nnnn - 12, 1.0),
        0x60 => raw(Quantity::ResetCounter),
        0x61 => raw(Quantity::CumulationCounter),
        0x63 => raw(Quantity::DayOfWeek),
        0x64 => raw(Quantity::WeekNumber),
        0x6C => scaled(Quantity::OperatingTimeBattery, Unit::S, 0, 3600.0),
        0x6D => scaled(Quantity::OperatingTimeBattery, Unit::S, 0, 86400.0),
        0x70 => (Quantity::BatteryChangeDate, Unit::None, Interp::DateTime),
        0x71 => scaled(Quantity::Rssi, Unit::Dbm, 0, 1.0),
        0x74 => scaled(Quantity::RemainingBatteryLife, Unit::S, 0, 86400.0),
        _ => raw(Quantity::Other),
    }
}

/// Second extension table, VIF = FB (EN 13757-3 table 12).
fn table_fb(v: u8) -> (Quantity, Unit, Interp) {
    let n = i32::from(v & 0x01);
    let nn = i32::from(v & 0x03);
    match v {
        0x00..=0x01 => scaled(Quantity::Energy, Unit::KWh, n + 2, 1.0), // 10^(n-1) MWh
        0x02..=0x03 => scaled(Quantity::ReactiveEnergy, Unit::None, n, 1.0), // 10^n kvarh
        0x08..=0x09 => scaled(Quantity::Energy, Unit::KWh, n + 2, 1.0 / 3.6), // 10^(n-1) GJ
        0x0C..=0x0F => scaled(Quantity::Energy, Unit::KWh, nn - 1, 1.163), // 10^(nn-1) Mcal
        0x10..=0x11 => scaled(Quantity::Volume, Unit::M3, n + 2, 1.0),
        0x14..=0x17 => scaled(Quantity::ReactivePower, Unit::None, nn - 3, 1.0), // kvar
        0x18..=0x19 => scaled(Quantity::Mass, Unit::Kg, n + 5, 1.0),             // 10^(n+2) t
        0x1A..=0x1B => scaled(Quantity::RelativeHumidity, Unit::Percent, n - 1, 1.0),
        0x20 => scaled(Quantity::Volume, Unit::M3, 0, 0.028_316_846_592),
        0x21 => scaled(Quantity::Volume, Unit::M3, -1, 0.028_316_846_592),
        0x28..=0x29 => scaled(Quantity::Power, Unit::W, n + 5, 1.0), // 10^(n-1) MW
        0x2C..=0x2F => scaled(Quantity::Frequency, Unit::Hz, nn - 3, 1.0),
        0x30..=0x31 => scaled(Quantity::Power, Unit::W, n + 8, 1.0 / 3600.0), // 10^(n-1) GJ/h
        0x58..=0x5B => (
            Quantity::FlowTemperature,
            Unit::C,
            Interp::Fahrenheit {
                exp: nn - 3,
                diff: false,
            },
        ),
        0x5C..=0x5F => (
            Quantity::ReturnTemperature,
            Unit::C,
            Interp::Fahrenheit {
                exp: nn - 3,
                diff: false,
            },
        ),
        0x60..=0x63 => (
            Quantity::TemperatureDifference,
            Unit::K,
            Interp::Fahrenheit {
                exp: nn - 3,
                diff: true,
            },
        ),
        0x64..=0x67 => (
            Quantity::ExternalTemperature,
            Unit::C,
            Interp::Fahrenheit {
                exp: nn - 3,
                diff: false,
            },
        ),
        _ => raw(Quantity::Other),
    }
}

/// Read a VIF and its VIFEs. Errors are static reasons for `BadRecord`.
#[inline]
pub(crate) fn read_vib(cur: &mut Cursor<'_>) -> Result<VifInfo, &'static str> {
    const SHORT: &str = "VIFE missing at end of data";
    let vif = cur.u8().ok_or("missing VIF")?;
    let mut ext = vif & 0x80 != 0;
    let mut manufacturer_specific = false;
    let (mut quantity, mut unit, mut interp) = match vif & 0x7F {
        0x7B | 0x7D if ext => {
            let code = cur.u8().ok_or(SHORT)?;
            ext = code & 0x80 != 0;
            if vif & 0x7F == 0x7B {
                table_fb(code & 0x7F)
            } else {
                table_fd(code & 0x7F)
            }
        }
        0x7C => {
            // Plain-text unit: LVIF then that many ASCII bytes (the unit's name, reversed).
            let len = cur.u8().ok_or("plain-text VIF cut off")?;
            let text = cur.take(usize::from(len)).ok_or("plain-text VIF cut off")?;
            let _ = text;
            raw(Quantity::Other)
        }
        0x7F => {
            manufacturer_specific = true;
            raw(Quantity::Other)
        }
        v => primary(v),
    };
    let mut count = 0usize;
    while ext {
        count += 1;
        if count > MAX_VIFE {
            return Err("more than 10 VIFE bytes");
        }
        let vife = cur.u8().ok_or(SHORT)?;
        ext = vife & 0x80 != 0;
        if manufacturer_specific {
            continue;
        }
        apply_vife(
            vife & 0x7F,
            &mut quantity,
            &mut unit,
            &mut interp,
            &mut manufacturer_specific,
        );
    }
    // A manufacturer-specific VIFE may change what the value means, so the record becomes Other,
    // except after voltage and current, where meters use it to name the phase (e.g. `FD C9 FF 01`).
    // (libmbus and real electricity, heat and water meters agree: `AB FF 01` is power on phase 1,
    // `93 7F` a volume register of the maker's choosing; the number keeps its quantity and unit.)
    let keeps_meaning = vif & 0x7F != 0x7F && quantity != Quantity::Other;
    if manufacturer_specific && !keeps_meaning {
        quantity = Quantity::Other;
        unit = Unit::None;
        interp = Interp::Raw;
    }
    Ok(VifInfo {
        quantity,
        unit,
        interp,
        manufacturer_specific,
    })
}

/// Combinable (orthogonal) VIFE, EN 13757-3 table 15.
fn apply_vife(
    code: u8,
    quantity: &mut Quantity,
    unit: &mut Unit,
    interp: &mut Interp,
    manufacturer_specific: &mut bool,
) {
    let make_other = |q: &mut Quantity, u: &mut Unit, i: &mut Interp| {
        *q = Quantity::Other;
        *u = Unit::None;
        *i = Interp::Raw;
    };
    match code {
        // Accumulation only if negative contributions (backward flow / produced energy).
        0x3C => match *quantity {
            Quantity::Volume => *quantity = Quantity::VolumeBackward,
            Quantity::Energy => *quantity = Quantity::EnergyBackward,
            Quantity::Power => *quantity = Quantity::PowerBackward,
            _ => make_other(quantity, unit, interp),
        },
        // Accumulation only if positive, uncorrected unit, value at base conditions: same quantity.
        0x3A | 0x3B | 0x3E => {}
        // Record error code "none" (codes 00-1F are error codes from the meter): the value stands.
        0x00 => {}
        // Multiplicative correction factor 10^(nnn-6).
        0x70..=0x77 => {
            let k = i32::from(code & 0x07) - 6;
            match interp {
                Interp::Scaled { exp, .. } | Interp::Fahrenheit { exp, .. } => *exp += k,
                _ => {}
            }
        }
        // Multiplicative correction factor 10^3.
        0x7D => match interp {
            Interp::Scaled { exp, .. } | Interp::Fahrenheit { exp, .. } => *exp += 3,
            _ => {}
        },
        // Additive correction constant: rarely used, the unit stays the same; ignored.
        0x78..=0x7B => {}
        // Manufacturer-specific VIFEs follow.
        0x7F => *manufacturer_specific = true,
        // Everything else (per-time/per-unit rates, limits, durations, dates of events, error codes,
        // future values) changes what the number means: keep it, but not as the plain quantity.
        _ => make_other(quantity, unit, interp),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(input: &[u8], expected: (Quantity, Unit, Interp, usize)) {
        let mut c = Cursor::new(input);
        let v = read_vib(&mut c).expect("vib");
        assert_eq!(
            (v.quantity, v.unit, v.interp, c.pos()),
            expected,
            "input {input:02X?}"
        );
    }

    fn s(exp: i32) -> Interp {
        Interp::Scaled { exp, mul: 1.0 }
    }

    #[test]
    fn primary_table() {
        check(&[0x13], (Quantity::Volume, Unit::M3, s(-3), 1));
        check(&[0x06], (Quantity::Energy, Unit::KWh, s(0), 1));
        check(&[0x03], (Quantity::Energy, Unit::KWh, s(-3), 1));
        check(
            &[0x0E],
            (
                Quantity::Energy,
                Unit::KWh,
                Interp::Scaled {
                    exp: 0,
                    mul: 1.0 / 3.6,
                },
                1,
            ),
        );
        check(&[0x3B], (Quantity::VolumeFlow, Unit::M3PerH, s(-3), 1));
        check(&[0x59], (Quantity::FlowTemperature, Unit::C, s(-2), 1));
        check(&[0x5D], (Quantity::ReturnTemperature, Unit::C, s(-2), 1));
        check(&[0x67], (Quantity::ExternalTemperature, Unit::C, s(0), 1));
        check(
            &[0x6D],
            (Quantity::DateTime, Unit::None, Interp::DateTime, 1),
        );
        check(&[0x2B], (Quantity::Power, Unit::W, s(0), 1));
    }

    #[test]
    fn extensions() {
        check(
            &[0x93, 0x3C],
            (Quantity::VolumeBackward, Unit::M3, s(-3), 2),
        );
        check(&[0x93, 0x74], (Quantity::Volume, Unit::M3, s(-5), 2));
        check(&[0xFD, 0x48], (Quantity::Voltage, Unit::V, s(-1), 2));
        check(&[0xFD, 0x59], (Quantity::Current, Unit::A, s(-3), 2));
        check(
            &[0xFB, 0x0D],
            (
                Quantity::Energy,
                Unit::KWh,
                Interp::Scaled { exp: 0, mul: 1.163 },
                2,
            ),
        );
        check(&[0xFF, 0x20], (Quantity::Other, Unit::None, Interp::Raw, 2));
        check(
            &[0xDB, 0xFF, 0x0F],
            (Quantity::FlowTemperature, Unit::C, s(0), 3),
        );
        check(
            &[0x7C, 0x03, b'R', b'C', b'H'],
            (Quantity::Other, Unit::None, Interp::Raw, 5),
        );
        check(&[0x93, 0x22], (Quantity::Other, Unit::None, Interp::Raw, 2));
        check(&[0x84, 0x00], (Quantity::Energy, Unit::KWh, s(-2), 2));
        check(&[0x84, 0x08], (Quantity::Other, Unit::None, Interp::Raw, 2));
        check(&[0xAB, 0x3C], (Quantity::PowerBackward, Unit::W, s(0), 2));
        check(&[0xBB, 0x3C], (Quantity::Other, Unit::None, Interp::Raw, 2));
        check(
            &[0xFD, 0xC9, 0xFF, 0x01],
            (Quantity::Voltage, Unit::V, s(0), 4),
        );
        check(
            &[0xFF, 0xC9, 0x01],
            (Quantity::Other, Unit::None, Interp::Raw, 3),
        );
        let mut c = Cursor::new(&[0x93]);
        assert_eq!(read_vib(&mut c), Err("VIFE missing at end of data"));
        let mut c = Cursor::new(&[
            0x93, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF,
        ]);
        assert_eq!(read_vib(&mut c), Err("more than 10 VIFE bytes"));
    }
}
