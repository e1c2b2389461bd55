//! Techem FHKV data III radio heat-cost allocators (device type 80): Techem's own application
//! layer after CI A0 (A1 and A2 accepted too: wmbusmeters has a version 94 telegram with A2).
//!
//! Layout after the CI field (FHEM `32_TechemHKV.pm` "Funkheizkostenverteiler data III";
//! wmbusmeters `fhkvdataiii` and its three test telegrams):
//! - byte 0: not published;
//! - bytes 1-2: the billing date that closed the previous period (see `techem`);
//! - bytes 3-4: the units of the previous period (the sum over that period), 16 bits;
//! - bytes 5-6: the date of the current values (day and month, see `techem`);
//! - bytes 7-8: the units since the billing date, 16 bits;
//! - versions 69 and 94 only: the room temperature then the radiator surface temperature, 16 bits
//!   each in 0.01 °C, from byte 9 (version 69) or byte 10 (version 94, one byte more before
//!   them). Versions 61 and 64 send no temperatures (FHEM).
//!
//! Records: HCA units storage 0 = the current period's, date storage 0 = their date; HCA units
//! storage 1 = the previous period's with its billing date (storage 1); the room temperature as
//! `ExternalTemperature` and the radiator's as `FlowTemperature` (°C, storage 0) when sent.
//! Other versions are refused with `UnknownVariant`. No status bits are published.

use super::techem::{self, billing_date, current_date, date, need, number};
use super::{Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::key::AesKey;
use crate::record::{Quantity, Unit};
use crate::trace::Trace;

pub(crate) const FAMILY: Family = Family {
    name: "techem_fhkv",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

const ALLOCATOR: u8 = 0x80;

fn detect(m: &Meter<'_>) -> bool {
    techem::device_type(m) == ALLOCATOR && techem::own_layer(m)
}

/// Where the temperatures start, by version (`Some(None)`: none sent); `None`: unknown version.
fn temperatures_at(version: u8) -> Option<Option<usize>> {
    match version {
        0x61 | 0x64 => Some(None),
        0x69 => Some(Some(9)),
        0x94 => Some(Some(10)),
        _ => None,
    }
}

fn application(
    m: &Meter<'_>,
    p: &[u8],
    _key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    let version = techem::version(m);
    let temps_at = temperatures_at(version).ok_or(DecodeError::UnknownVariant {
        family: FAMILY.name,
        version,
        device_type: techem::device_type(m),
    })?;
    need(
        p,
        9,
        "Techem FHKV layer (billing date, previous units, date, current units)",
    )?;
    let billing_word = techem::le(p, 1, 2).unwrap_or(0);
    let previous = techem::le(p, 3, 2).unwrap_or(0);
    let current_word = techem::le(p, 5, 2).unwrap_or(0);
    let current = techem::le(p, 7, 2).unwrap_or(0);
    let billing = billing_date(billing_word);
    let today = billing.and_then(|b| current_date(current_word, b));
    let celsius = |at: usize| techem::le(p, at, 2).map(|v| f64::from(v) / 100.0);
    let temps = temps_at.map(|at| (celsius(at), celsius(at + 2)));
    trace.note("vendor", Some(m.ci), || {
        format!(
            "Techem FHKV data III (version {version:02X}): {previous} units in the period ended {}, {current} units since, on {}; temperatures {}",
            techem::date_text(billing, billing_word),
            techem::date_text(today, current_word),
            match temps {
                None => "not sent by this version".to_string(),
                Some((Some(room), Some(radiator))) => format!("room {room} °C, radiator {radiator} °C"),
                Some(_) => "cut off (telegram too short)".to_string(),
            }
        )
    });
    let mut records = vec![number(Quantity::HcaUnits, f64::from(current), Unit::Hca, 0)];
    records.extend(today.map(|d| date(d, 0)));
    records.push(number(
        Quantity::HcaUnits,
        f64::from(previous),
        Unit::Hca,
        1,
    ));
    records.extend(billing.map(|d| date(d, 1)));
    if let Some((room, radiator)) = temps {
        records.extend(room.map(|t| number(Quantity::ExternalTemperature, t, Unit::C, 0)));
        records.extend(radiator.map(|t| number(Quantity::FlowTemperature, t, Unit::C, 0)));
    }
    Ok(Decoded {
        records,
        ..Decoded::default()
    })
}

#[cfg(test)]
mod tests {
    use crate::record::{Quantity, Value};
    use crate::vendor::techem_compact5::tests::frame;
    use crate::{decode, DecodeError};

    fn values(f: &[u8]) -> Vec<(Quantity, u32, Value)> {
        let t = decode(f, None).expect("decodes");
        t.records
            .iter()
            .map(|r| (r.quantity, r.storage, r.value.clone()))
            .collect()
    }

    fn text(s: &str) -> Value {
        Value::Text(s.into())
    }

    /// Billing 2022-12-31 (word 2D9F), 987 units (0x03DB); 2023-03-15 (word 06F0), 54 units;
    /// then for version 69: 21.5 °C (0x0866), 40.07 °C (0x0FA7).
    const V69: [u8; 16] = [
        0x11, 0x9F, 0x2D, 0xDB, 0x03, 0xF0, 0x06, 0x36, 0x00, 0x66, 0x08, 0xA7, 0x0F, 0, 0, 0,
    ];

    fn expected(temps: bool) -> Vec<(Quantity, u32, Value)> {
        let mut v = vec![
            (Quantity::HcaUnits, 0, Value::Number(54.0)),
            (Quantity::Date, 0, text("2023-03-15")),
            (Quantity::HcaUnits, 1, Value::Number(987.0)),
            (Quantity::Date, 1, text("2022-12-31")),
        ];
        if temps {
            v.push((Quantity::ExternalTemperature, 0, Value::Number(21.5)));
            v.push((Quantity::FlowTemperature, 0, Value::Number(40.07)));
        }
        v
    }

    #[test]
    fn versions_69_and_94_send_temperatures() {
        assert_eq!(values(&frame(0x69, 0x80, 0xA0, &V69)), expected(true));
        let mut v94 = V69.to_vec();
        v94.insert(9, 0x11);
        assert_eq!(values(&frame(0x94, 0x80, 0xA2, &v94)), expected(true));
    }

    #[test]
    fn versions_61_and_64_do_not() {
        assert_eq!(values(&frame(0x61, 0x80, 0xA0, &V69)), expected(false));
        assert_eq!(values(&frame(0x64, 0x80, 0xA0, &V69[..9])), expected(false));
    }

    #[test]
    fn cut_temperatures_and_short_layers() {
        // The radiator temperature cut off: the room temperature alone.
        let got = values(&frame(0x69, 0x80, 0xA0, &V69[..12]));
        assert_eq!(got.len(), 5);
        assert_eq!(
            got[4],
            (Quantity::ExternalTemperature, 0, Value::Number(21.5))
        );
        assert!(matches!(
            decode(&frame(0x69, 0x80, 0xA0, &V69[..8]), None),
            Err(DecodeError::TooShort { needed: 9, .. })
        ));
        assert_eq!(
            decode(&frame(0x70, 0x80, 0xA0, &V69), None),
            Err(DecodeError::UnknownVariant {
                family: "techem_fhkv",
                version: 0x70,
                device_type: 0x80
            })
        );
    }
}
