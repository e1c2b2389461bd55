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
//!   payload: the family turns the block into more records, next to the standard ones;
//! - `record`: the data of a manufacturer-specific record (VIF 7F/FF) inside a standard
//!   payload (Qundis' walk-by data set `0D FF 5F`): its records join the standard ones, and a
//!   family that finds the record encrypted says so in `Decoded::security`.
//!
//! Like the rest of the decoder: pure, no IO, and no panic on any input (every read is
//! checked; a family that cannot read a telegram returns an error and says why in the trace).

mod apator_08;
mod apator_162;
mod apator_172;
mod apator_b6;
mod apator_eitn;
mod apator_na1;
mod apator_util;
mod bfw;
mod bmeters_rfmtx1;
mod diehl;
mod engelmann_faw;
mod qundis;
mod techem;
mod techem_compact5;
mod techem_fhkv;
mod techem_mkradio;
mod techem_vario;
mod zenner_b_one;

use crate::address::Address;
use crate::error::DecodeError;
use crate::info::InfoCode;
use crate::key::AesKey;
use crate::record::Record;
use crate::telegram::Security;
use crate::trace::Trace;
use crate::tplsec::RawAddress;


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
    /// The bytes after the CI field (what `application` is given; empty for `block`): lets
    /// `detect` look at a header byte, e.g. a configuration field's security mode.
    pub head: &'a [u8],
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
    /// The meter's address as the maker codes it, when it differs from the link layer's (e.g.
    /// Diehl PRIOS frames send version and device type before the id): replaces it.
    pub address: Option<Address>,
}

/// One manufacturer family.
pub(crate) struct Family {
    /// The name `explain` shows ("diehl_izar").
    pub name: &'static str,
    /// Does this family read this meter's telegram opened by this CI?
    pub detect: fn(&Meter<'_>) -> bool,
    /// Reads an application layer of the maker's own: the bytes after the CI field.
    pub application: Option<ReadApplication>,
    /// Reads the manufacturer block after DIF 0F/1F of a standard payload, given the
    /// standard records before it; what it returns is added to them.
    pub block: Option<ReadBlock>,
    /// Reads a manufacturer-specific record (VIF 7F/FF) of a standard payload: given its VIF
    /// and VIFE bytes, its data field (without LVAR), the meter key and the standard records;
    /// what it returns is added to them. `Decoded::security` with `NoKey`/`WrongKey` (an
    /// encrypted record that cannot be opened) makes the whole telegram so, without records.
    pub record: Option<ReadRecord>,
}

/// `Family::application`: the meter, the bytes after the CI, the key, the trace.
pub(crate) type ReadApplication =
    fn(&Meter<'_>, &[u8], Option<&AesKey>, &mut Trace) -> Result<Decoded, DecodeError>;
/// `Family::block`: the meter, the block, the standard records before it, the trace.
pub(crate) type ReadBlock = fn(&Meter<'_>, &[u8], &[Record], &mut Trace) -> Result<Decoded, DecodeError>;
/// `Family::record`: the meter, VIF+VIFE bytes, data, the key, the standard records, the trace.
pub(crate) type ReadRecord =
    fn(&Meter<'_>, &[u8], &[u8], Option<&AesKey>, &[Record], &mut Trace) -> Result<Decoded, DecodeError>;

/// Every family, alphabetically by name.
pub(crate) const FAMILIES: &[Family] = &[
    apator_08::FAMILY,
    apator_162::FAMILY,
    apator_172::FAMILY,
    apator_b6::FAMILY,
    apator_eitn::FAMILY,
    apator_na1::FAMILY,
    bfw::FAMILY,
    bmeters_rfmtx1::FAMILY,
    diehl::FAMILY,
    engelmann_faw::FAMILY,
    qundis::FAMILY,
    techem_compact5::FAMILY,
    techem_fhkv::FAMILY,
    techem_mkradio::FAMILY,
    techem_vario::FAMILY,
    zenner_b_one::FAMILY,
];

/// The family that reads this meter's application layer, if any.
pub(crate) fn for_application(m: &Meter<'_>) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.application.is_some() && (f.detect)(m))
}

/// The family that reads this meter's manufacturer block, if any.
pub(crate) fn for_block(m: &Meter<'_>) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.block.is_some() && (f.detect)(m))
}

/// The address a family reads for this meter when it differs from the link layer's (read
/// without a key: families set it whether or not they can decrypt), for `peek_address`.
pub(crate) fn address_of(m: &Meter<'_>) -> Option<Address> {
    let read = for_application(m)?.application?;
    read(m, m.head, None, &mut Trace::off()).ok()?.address
}

/// The family that reads this meter's manufacturer-specific records, if any.
pub(crate) fn for_record(m: &Meter<'_>) -> Option<&'static Family> {
    FAMILIES.iter().find(|f| f.record.is_some() && (f.detect)(m))
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
