//! Techem vario 4 heat meters (type 4.5.1, version 27): the compact V's own application layer
//! (`techem_compact5`: billing date, reading at that date, consumption since) after CI A2 (A0
//! and A1 accepted too), with the energies counted in MJ (thousandths of a GJ) instead of kWh.
//!
//! Source: wmbusmeters' `vario451` driver and its test telegram, which reads the same byte
//! positions as the compact V and scales them as GJ/1000. wmbusmeters reads the two values
//! as 16 bits; they are read here as 24 bits like the compact V's (the third byte is 0 in the
//! known telegram; 16 bits of MJ would overflow at 65.5 GJ, a few years of one flat's heat).
//! Converted to kWh: 1 MJ = 1/3.6 kWh. The vario 4 sending standard OMS telegrams (CI 7A,
//! wmbusmeters `vario451mid`) is read by the standard path.

use super::techem::{self, own_layer};
use super::techem_compact5::{read_heat, HEAT_TYPES};
use super::{Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::key::AesKey;
use crate::trace::Trace;

pub(crate) const FAMILY: Family = Family {
    name: "techem_vario",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

/// The vario 4's version in the address.
pub(crate) const VERSION: u8 = 0x27;

/// MJ per kWh.
const MJ_PER_KWH: f64 = 3.6;

fn detect(m: &Meter<'_>) -> bool {
    techem::version(m) == VERSION && HEAT_TYPES.contains(&techem::device_type(m)) && own_layer(m)
}

fn application(
    m: &Meter<'_>,
    p: &[u8],
    _key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    read_heat(m, p, "vario 4", MJ_PER_KWH, "MJ", trace)
}

#[cfg(test)]
mod tests {
    use crate::decode;
    use crate::record::{Quantity, Unit, Value};
    use crate::vendor::techem_compact5::tests::frame;

    #[test]
    fn vario_counts_mj() {
        // Billing date 2018-12-31, reading 36 000 MJ (0x008CA0) = 10 000 kWh, 7 200 MJ since.
        let p = [
            0x12, 0x9F, 0x25, 0xA0, 0x8C, 0x00, 0xA8, 0x20, 0x1C, 0x00, 0x00, 0x82, 0x00,
        ];
        for ty in [0x04, 0xC3, 0x43] {
            let t = decode(&frame(0x27, ty, 0xA2, &p), None).expect("decodes");
            let got: Vec<_> = t
                .records
                .iter()
                .map(|r| (r.quantity, r.storage, r.value.clone(), r.unit))
                .collect();
            assert_eq!(
                got,
                vec![
                    (Quantity::Energy, 0, Value::Number(12_000.0), Unit::KWh),
                    (Quantity::Energy, 1, Value::Number(10_000.0), Unit::KWh),
                    (
                        Quantity::Date,
                        1,
                        Value::Text("2018-12-31".into()),
                        Unit::None
                    ),
                ]
            );
        }
        let x = crate::explain(&frame(0x27, 0x04, 0xA2, &p), None, None);
        assert!(
            x.steps
                .iter()
                .any(|s| s.detail.contains("vario 4") && s.detail.contains("43200 MJ")),
            "{:?}",
            x.steps
        );
    }
}
