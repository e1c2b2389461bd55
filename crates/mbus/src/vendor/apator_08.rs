//! Apator 08 water meters (radio modules sending manufacturer APT, version 03 / device type 03
//! or version 0F / device type 0F) with Apator's own application layer after CI A0.
//!
//! Layout (learned from the public wmbusmeters driver `apator08` and its test telegrams):
//! the four bytes after the CI field are the volume counter, least significant byte first,
//! counting thirds of a litre (the module counts the three pulses of each litre of the
//! register's pointer separately). What follows (status bytes, in longer telegrams a monthly
//! history of the same counter) has no published layout and is not read.

use super::apator_util::{maker, number, APT};
use super::{Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::key::AesKey;
use crate::record::{Quantity, Unit};
use crate::trace::Trace;

/// CI of Apator's own application layer on these modules.
pub(crate) const CI_APATOR: u8 = 0xA0;

pub(crate) const FAMILY: Family = Family {
    name: "apator_08",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

fn detect(m: &Meter<'_>) -> bool {
    let [.., version, device] = m.raw.1;
    m.ci == CI_APATOR && matches!((version, device), (0x03, 0x03) | (0x0F, 0x0F)) && maker(m.raw.0) == APT
}

/// The volume counter at the start of the application layer: `units_per_m3` counter steps
/// make one cubic metre. Shared with Apator 172, which counts in thirds of a cubic metre.
pub(crate) fn read_counter(
    after_ci: &[u8],
    units_per_m3: f64,
    what: &'static str,
    ci: u8,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    let Some(&[a, b, c, d]) = after_ci.get(..4) else {
        return Err(DecodeError::TooShort { len: after_ci.len() + 1, needed: 5, what });
    };
    let raw = u32::from_le_bytes([a, b, c, d]);
    let m3 = f64::from(raw) / units_per_m3;
    trace.note("vendor", Some(ci), || {
        format!(
            "volume counter {raw} (bytes 1-4 after the CI, {units_per_m3} steps per m3) = {m3:.6} m3; \
             the {} bytes after it are not read (no published layout)",
            after_ci.len() - 4
        )
    });
    Ok(Decoded {
        records: vec![number(Quantity::Volume, m3, Unit::M3, 0)],
        ..Decoded::default()
    })
}

fn application(
    m: &Meter<'_>,
    after_ci: &[u8],
    _key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    read_counter(after_ci, 3000.0, "Apator 08 volume counter", m.ci, trace)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Value;

    fn frame(version: u8, device: u8, body: &[u8]) -> Vec<u8> {
        let mut f = vec![0, 0x44, 0x14, 0x86, 0x06, 0x9C, 0x14, 0x00, version, device, 0xA0];
        f.extend_from_slice(body);
        f[0] = (f.len() - 1) as u8;
        f
    }

    #[test]
    fn counter_in_thirds_of_a_litre() {
        // 3 * 12345 litres = 37035 steps.
        let body = [0xAB, 0x90, 0x00, 0x00, 0x00, 0x40, 0x03, 0x00];
        let t = crate::decode(&frame(0x0F, 0x0F, &body), None).expect("decodes");
        assert_eq!(t.records.len(), 1);
        assert_eq!(t.records[0].quantity, Quantity::Volume);
        assert_eq!(t.records[0].value, Value::Number(37035.0 / 3000.0));
        let t = crate::decode(&frame(0x03, 0x03, &body[..4]), None).expect("decodes");
        assert_eq!(t.records[0].value, Value::Number(37035.0 / 3000.0));
    }

    #[test]
    fn short_or_other_versions_are_refused() {
        assert!(matches!(
            crate::decode(&frame(0x0F, 0x0F, &[1, 2, 3]), None),
            Err(DecodeError::TooShort { .. })
        ));
        // Another version: not this family, and CI A0 stays unsupported.
        assert!(matches!(
            crate::decode(&frame(0x05, 0x0F, &[1, 2, 3, 4]), None),
            Err(DecodeError::UnsupportedCi { ci: 0xA0 })
        ));
    }
}
