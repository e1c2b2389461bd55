//! Manufacturer-specific families: meters whose reading is not (only) in EN 13757-3 records.
//!
//! A family is one file: its detection (manufacturer, version, device type and the CI that
//! opens its application layer), its field mapping to typed [`Record`]s in canonical units,
//! its status bits as [`InfoCode`]s where the maker documents them, and its tests. Families
//! are listed alphabetically in [`FAMILIES`]; the first whose `detect` answers yes reads the
//! telegram. They plug into the pipeline at two places:
//! - `application`: a CI the standard leaves to the maker (A0-B7, or one it does not define
//!   for this maker): the family reads everything after the CI field;
//! - `block`: the manufacturer-specific data after DIF 0F/1F at the end of a standard
//!   payload: the family turns the block into more records, next to the standard ones.
//!
//! Like the rest of the decoder: pure, no IO, and no panic on any input (every read is
//! checked; a family that cannot read a telegram returns an error and says why in the trace).

use crate::address::Address;
use crate::error::DecodeError;
use crate::info::InfoCode;
use crate::key::AesKey;
use crate::record::Record;
use crate::telegram::Security;
use crate::trace::Trace;
use crate::tplsec::RawAddress;

mod bmeters_rfmtx1;
mod engelmann_faw;

/// The meter and the CI that opened the part a family is asked to read.
pub(crate) struct Meter<'a> {
    /// The meter's address (the transport layer's when it has one, else the link layer's).
    pub address: &'a Address,
    /// The same address as sent (manufacturer 2 bytes, id 4 bytes, version, device type):
    /// what initialisation vectors and key derivations are built from.
    pub raw: RawAddress,
    /// The link layer's address as sent, when wireless (it may differ from `raw`).
    pub link: Option<RawAddress>,
    /// The CI of the application layer: the maker's own, or the transport layer's (72, 7A, 78)
    /// when a family reads a manufacturer block.
    pub ci: u8,
    /// The link layer's C field.
    pub c_field: u8,
}

/// What a family read from its part of the telegram.
#[derive(Debug, Default)]
pub(crate) struct Decoded {
    pub records: Vec<Record>,
    pub info_codes: Vec<InfoCode>,
    /// The application layer's status byte when it has one in OMS's meaning (bit 2 power
    /// low, 3 permanent error, 4 temporary error), else 0.
    pub status: u8,
    pub access_number: u8,
    /// `None`: not encrypted.
    pub security: Option<Security>,
    /// The meter's address when the family read one of its own (e.g. a long transport
    /// header inside the maker's layer); `None`: the link layer's.
    pub address: Option<Address>,
}

/// One manufacturer family.
pub(crate) struct Family {
    /// The name `explain` shows ("diehl_izar").
    pub name: &'static str,
    /// Does this family read this meter's telegram opened by this CI?
    pub detect: fn(&Meter<'_>) -> bool,
    /// Reads an application layer of the maker's own: the bytes after the CI field.
    pub application: Option<fn(&Meter<'_>, &[u8], Option<&AesKey>, &mut Trace) -> Result<Decoded, DecodeError>>,
    /// Reads the manufacturer block after DIF 0F/1F of a standard payload, given the
    /// standard records before it; what it returns is added to them.
    pub block: Option<fn(&Meter<'_>, &[u8], &[Record], &mut Trace) -> Result<Decoded, DecodeError>>,
}

/// Every family, alphabetically by name.
pub(crate) const FAMILIES: &[Family] = &[
    bmeters_rfmtx1::FAMILY,
    engelmann_faw::FAMILY,
];

/// The family that reads this meter's application layer, if any.
pub(crate) fn for_application(m: &Meter<'_>) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.application.is_some() && (f.detect)(m))
}

/// The family that reads this meter's manufacturer block, if any.
pub(crate) fn for_block(m: &Meter<'_>) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.block.is_some() && (f.detect)(m))
}

/// Names of every family, in order (for tests and documentation).
pub fn family_names() -> Vec<&'static str> {
    FAMILIES.iter().map(|f| f.name).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn families_are_listed_alphabetically() {
        let names = family_names();
        assert!(names.windows(2).all(|w| w[0] < w[1]), "{names:?}");
    }
}
