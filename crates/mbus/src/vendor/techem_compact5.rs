//! Techem compact V / compact 5 heat meters (and the vario 3 sending the same layer): Techem's
//! own application layer after CI A1 or A2 (A0 accepted too, see `techem`).
//!
//! Layout after the CI field (FHEM `32_TechemWZ.pm`, "compact V" part; wmbusmeters `compact5`,
//! whose four test telegrams agree):
//! - byte 0: not published;
//! - bytes 1-2: the billing date that closed the previous period (see `techem`);
//! - bytes 3-5: the meter reading at that date, 24 bits little-endian;
//! - byte 6: bits 3-6 the month of the current values (not read: no year, and FHEM's day field
//!   is 0 in half the known telegrams);
//! - bytes 7-9: the consumption since the billing date, 24 bits little-endian;
//! - more bytes follow (their meaning is not published).
//!
//! The total is the reading at the billing date plus the consumption since, as the meter's
//! display shows it (FHEM: "meter: cumulative meter data"). Versions 22, 39 and 45 count kWh;
//! version 27 (vario 4, `techem_vario`) counts MJ in the same layout. Another version is refused
//! with `UnknownVariant`: its unit is not known.
//!
//! Records: energy (kWh) storage 0 = total; energy storage 1 = the reading at the billing date,
//! with its date (storage 1). No status bits are published.

use super::techem::{self, billing_date, date, need, number};
use super::{Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::key::AesKey;
use crate::record::{Quantity, Unit};
use crate::trace::Trace;

pub(crate) const FAMILY: Family = Family {
    name: "techem_compact5",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

/// Device types Techem's heat meters of this line send: 04 (heat), 43 and 45 (Techem's own
/// codes for the compact V, FHEM) and C3 (wmbusmeters).
pub(crate) const HEAT_TYPES: [u8; 4] = [0x04, 0x43, 0x45, 0xC3];

/// Versions counting kWh.
const KWH_VERSIONS: [u8; 3] = [0x22, 0x39, 0x45];

fn detect(m: &Meter<'_>) -> bool {
    HEAT_TYPES.contains(&techem::device_type(m))
        && techem::version(m) != super::techem_vario::VERSION
        && techem::own_layer(m)
}

fn application(
    m: &Meter<'_>,
    p: &[u8],
    _key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    if !KWH_VERSIONS.contains(&techem::version(m)) {
        return Err(DecodeError::UnknownVariant {
            family: FAMILY.name,
            version: techem::version(m),
            device_type: techem::device_type(m),
        });
    }
    read_heat(m, p, "compact V", 1.0, "kWh", trace)
}

/// Reads the heat meters' layout (see the module documentation); one raw unit is
/// `units_per_kwh`⁻¹ kWh (1 for kWh, 3.6 for MJ), named `unit` in the trace.
pub(crate) fn read_heat(
    m: &Meter<'_>,
    p: &[u8],
    model: &'static str,
    units_per_kwh: f64,
    unit: &'static str,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    need(
        p,
        10,
        "Techem heat meter layer (billing date, reading, consumption)",
    )?;
    let word = techem::le(p, 1, 2).unwrap_or(0);
    let at_billing = techem::le(p, 3, 3).unwrap_or(0);
    let since = techem::le(p, 7, 3).unwrap_or(0);
    let total = at_billing.saturating_add(since);
    let billing = billing_date(word);
    trace.note("vendor", Some(m.ci), || {
        format!(
            "Techem {model} (version {:02X}, device type {:02X}): reading {at_billing} {unit} at the billing date {}, {since} {unit} since: total {total} {unit}",
            techem::version(m),
            techem::device_type(m),
            techem::date_text(billing, word)
        )
    });
    let kwh = |raw: u32| f64::from(raw) / units_per_kwh;
    let mut records = vec![
        number(Quantity::Energy, kwh(total), Unit::KWh, 0),
        number(Quantity::Energy, kwh(at_billing), Unit::KWh, 1),
    ];
    records.extend(billing.map(|d| date(d, 1)));
    Ok(Decoded {
        records,
        ..Decoded::default()
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::record::{Quantity, Unit, Value};
    use crate::{decode, explain, DecodeError};

    /// A Techem frame without data-link CRCs: L C M A(id, version, type) CI payload.
    pub(crate) fn frame(version: u8, device_type: u8, ci: u8, payload: &[u8]) -> Vec<u8> {
        let mut f = vec![
            0,
            0x44,
            0x68,
            0x50,
            0x78,
            0x56,
            0x34,
            0x12,
            version,
            device_type,
            ci,
        ];
        f.extend_from_slice(payload);
        f[0] = (f.len() - 1) as u8;
        f
    }

    fn values(t: &crate::Telegram) -> Vec<(Quantity, u32, Value, Unit)> {
        t.records
            .iter()
            .map(|r| (r.quantity, r.storage, r.value.clone(), r.unit))
            .collect()
    }

    /// Billing date 2023-12-31 (word 2F9F), reading 0x01E240 = 123456, since 0x000929 = 2345.
    const PAYLOAD: [u8; 16] = [
        0x10, 0x9F, 0x2F, 0x40, 0xE2, 0x01, 0x60, 0x29, 0x09, 0x00, 0x00, 0x80, 1, 2, 3, 4,
    ];

    #[test]
    fn compact_v_counts_kwh() {
        for (version, ty, ci) in [
            (0x45, 0x43, 0xA1),
            (0x39, 0x43, 0xA2),
            (0x22, 0x43, 0xA2),
            (0x45, 0x04, 0xA2),
            (0x45, 0xC3, 0xA0),
        ] {
            let t = decode(&frame(version, ty, ci, &PAYLOAD), None).expect("decodes");
            assert_eq!(
                values(&t),
                vec![
                    (Quantity::Energy, 0, Value::Number(125_801.0), Unit::KWh),
                    (Quantity::Energy, 1, Value::Number(123_456.0), Unit::KWh),
                    (
                        Quantity::Date,
                        1,
                        Value::Text("2023-12-31".into()),
                        Unit::None
                    ),
                ]
            );
        }
        // With format A data-link CRCs too.
        let f = crate::encode::with_format_a_crcs(&frame(0x45, 0x43, 0xA1, &PAYLOAD));
        assert_eq!(decode(&f, None).map(|t| t.records.len()), Ok(3));
    }

    #[test]
    fn a_billing_word_that_is_no_date_gives_no_date_record() {
        let mut p = PAYLOAD;
        p[1] = 0;
        p[2] = 0;
        let t = decode(&frame(0x45, 0x43, 0xA2, &p), None).expect("decodes");
        assert_eq!(t.records.len(), 2);
    }

    #[test]
    fn unknown_versions_and_short_layers_are_refused() {
        let e = decode(&frame(0x46, 0x43, 0xA2, &PAYLOAD), None);
        assert_eq!(
            e,
            Err(DecodeError::UnknownVariant {
                family: "techem_compact5",
                version: 0x46,
                device_type: 0x43
            })
        );
        let x = explain(&frame(0x46, 0x43, 0xA2, &PAYLOAD), None, None);
        assert!(
            x.steps
                .iter()
                .any(|s| s.detail.contains("no known layout for version 46")),
            "{:?}",
            x.steps
        );
        let e = decode(&frame(0x45, 0x43, 0xA2, &PAYLOAD[..9]), None);
        assert!(
            matches!(
                e,
                Err(DecodeError::TooShort {
                    len: 9,
                    needed: 10,
                    ..
                })
            ),
            "{e:?}"
        );
        // Other CIs and other makers are not this family's.
        assert!(matches!(
            decode(&frame(0x45, 0x43, 0xA3, &PAYLOAD), None),
            Err(DecodeError::UnsupportedCi { ci: 0xA3 })
        ));
    }
}
