//! Apator 172 water meters (the AT-WMBUS-17-2 radio module: manufacturer APT, version 04,
//! device type 11) with Apator's own application layer after CI A0.
//!
//! Layout (learned from the public wmbusmeters driver `apator172`, its test telegrams and
//! the meter reports in wmbusmeters issue 316): the four bytes after the CI field are the
//! volume counter, least significant byte first, in thirds of a cubic metre. The module sends
//! device type 11 (not a water code), so the family is recognised by version and type together.

use super::apator_08::{read_counter, CI_APATOR};
use super::apator_util::{maker, APT};
use super::{Decoded, Family, Meter};
use crate::error::DecodeError;
use crate::key::AesKey;
use crate::trace::Trace;

pub(crate) const FAMILY: Family = Family {
    name: "apator_172",
    detect,
    application: Some(application),
    block: None,
    record: None,
};

fn detect(m: &Meter<'_>) -> bool {
    let [.., version, device] = m.raw.1;
    m.ci == CI_APATOR && version == 0x04 && device == 0x11 && maker(m.raw.0) == APT
}

fn application(
    m: &Meter<'_>,
    after_ci: &[u8],
    _key: Option<&AesKey>,
    trace: &mut Trace,
) -> Result<Decoded, DecodeError> {
    read_counter(after_ci, 3.0, "Apator 172 volume counter", m.ci, trace)
}

#[cfg(test)]
mod tests {
    use crate::record::{Quantity, Value};

    #[test]
    fn counter_in_thirds_of_a_cubic_metre() {
        let mut f = vec![0, 0x44, 0x14, 0x86, 0x07, 0xA8, 0x14, 0x00, 0x04, 0x11, 0xA0];
        f.extend_from_slice(&[0x1E, 0x00, 0x00, 0x00, 0x08, 0x40]);
        f[0] = (f.len() - 1) as u8;
        let t = crate::decode(&f, None).expect("decodes");
        assert_eq!(t.records.len(), 1);
        assert_eq!(t.records[0].quantity, Quantity::Volume);
        assert_eq!(t.records[0].value, Value::Number(10.0));
    }
}
