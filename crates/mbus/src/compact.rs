//! Compact frames (CI 79): the data of a full frame without its DIF/VIF bytes. The receiver must
//! know the record layout ("format") from an earlier full frame; the frame names it by its format
//! signature, the CRC-16/EN-13757 of the full frame's DIF/DIFE/VIF/VIFE bytes in order.

use std::collections::BTreeMap;

use crate::crc::crc16_en13757;
use crate::cursor::Cursor;
use crate::dif::{self, DifKind};
use crate::error::DecodeError;
use crate::records::ParsedRecord;
use crate::vif;

/// Record layouts known for compact frames, keyed by format signature.
/// Fill it with [`FormatCache::learn`] from full frames (every 8th Kamstrup frame is a full one).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct FormatCache {
    formats: BTreeMap<u16, Vec<u8>>,
}

impl FormatCache {
    /// An empty cache.
    pub fn new() -> Self {
        FormatCache::default()
    }

    /// Remember a record layout (the DIF/VIF bytes of every record, in order); returns its signature.
    pub fn insert(&mut self, format: Vec<u8>) -> u16 {
        let sig = signature(&format);
        self.formats.insert(sig, format);
        sig
    }

    /// Every known layout as plain data, `(signature, layout bytes)` in signature order, so that a
    /// store can persist what was learned and restore it later with [`FormatCache::insert_entry`]
    /// or [`FormatCache::from_entries`].
    pub fn entries(&self) -> Vec<(u16, Vec<u8>)> {
        self.formats.iter().map(|(k, v)| (*k, v.clone())).collect()
    }

    /// Restore one persisted entry. The signature is a checksum of the layout: an entry whose
    /// signature does not match its bytes (corrupted storage) is refused and `false` returned.
    pub fn insert_entry(&mut self, sig: u16, layout: Vec<u8>) -> bool {
        if signature(&layout) != sig || layout.is_empty() {
            return false;
        }
        self.formats.insert(sig, layout);
        true
    }

    /// A cache holding the given persisted entries (mismatching ones are skipped).
    pub fn from_entries<I: IntoIterator<Item = (u16, Vec<u8>)>>(entries: I) -> Self {
        let mut c = FormatCache::new();
        for (sig, layout) in entries {
            c.insert_entry(sig, layout);
        }
        c
    }

    /// Decode a full frame and remember its record layout. Returns the signature, or `None`
    /// when the frame does not decode to records (e.g. no key for an encrypted frame).
    pub fn learn(&mut self, frame: &[u8], key: Option<&crate::AesKey>) -> Option<u16> {
        let (_, parsed) = crate::decode::decode_parsed(
            frame,
            key,
            Some(self),
            true,
            &mut crate::trace::Trace::off(),
        )
        .ok()?;
        let format = format_of(&parsed);
        if format.is_empty() {
            return None;
        }
        Some(self.insert(format))
    }

    /// The layout with this signature, if known.
    pub fn get(&self, signature: u16) -> Option<&[u8]> {
        self.formats.get(&signature).map(Vec::as_slice)
    }

    /// Number of known layouts.
    pub fn len(&self) -> usize {
        self.formats.len()
    }

    /// True when no layout is known.
    pub fn is_empty(&self) -> bool {
        self.formats.is_empty()
    }
}

/// Record layouts (DIF/VIF bytes in order) that Kamstrup meters send in their full frames, so that
/// their compact frames decode even before a full frame was seen: MULTICAL 21, MULTICAL 302 (two
/// configurations), MULTICAL 403, MULTICAL 602 / heat meters, flowIQ 2200, OMNIPOWER and a pressure
/// sensor, plus the MULTICAL 21 / flowIQ layouts C412, 61EB, D2F7, DD34, 7C0E, 36D4 and A9F3 that
/// public decoders list for compact frames sent before any full frame, and the MULTICAL 303
/// (version 30, device type 0C, heat at the inlet) layout 52C2: energy in MJ (03 0E), energy at
/// the target date (43 0E), volume in litres (03 13), target date (42 6C), power (02 2D) and the
/// info byte (01 FF 21), as its full frames send them (wmbusmeters' kamheat test "30,0c": a
/// compact frame naming 52C2, whose data CRC is the CRC of these records). Each is found by
/// computing its signature, so a wrong entry can never match a frame.
const KNOWN_LAYOUTS: [&str; 18] = [
    "02FF20041392013BA1015B8101E7FF0F",
    "02FF2004134413A1015B8101E7FF0F",
    "02FF2004134413615B5167",
    "02FF2004134413",
    "02FF200413523B",
    "02FF2004134413426C523B615B616751678101E7FF0F06FF1B",
    "04FF2304134413426C023B92013BA2013B06FF1BA1015B91015BA10167",
    "02FF2004134413615B6167",
    "030F430F0314426C022D01FF21",
    "030643060314426C022D01FF21",
    "040404843C042B04AB3C",
    "22691269026905FF0905FF0A02FD17",
    "04FF234413523B06FF1B426C61675167023B04138101E7FF0F",
    "040604FF0704FF080414043B0259025D04FF22026C44064414426C",
    "02F9FF15040604EEFF0704EEFF0804148440148480401402FD17026C426C44064414C44014C4804014043B0259025D",
    "040E04FF0704FF08041384401484804014043B0259025D142D84100E84200E04FF22026C440E4413C44014C4804014426C",
    "040F04FF0704FF08041484401484804014043B0259025D142D84100F84200F04FF22026C440F4414C44014C4804014426C",
    "030E430E0313426C022D01FF21",
];

/// A built-in layout with this signature.
pub(crate) fn builtin(sig: u16) -> Option<Vec<u8>> {
    KNOWN_LAYOUTS
        .iter()
        .filter_map(|h| hex::decode(h).ok())
        .find(|f| signature(f) == sig)
}

/// The signatures of the built-in layouts (for documentation and the CLI).
pub fn builtin_signatures() -> Vec<u16> {
    KNOWN_LAYOUTS
        .iter()
        .filter_map(|h| hex::decode(h).ok())
        .map(|f| signature(&f))
        .collect()
}

/// Format signature of a record layout.
pub(crate) fn signature(format: &[u8]) -> u16 {
    crc16_en13757(format)
}

/// The layout of decoded records (manufacturer data blocks excluded).
pub(crate) fn format_of(parsed: &[ParsedRecord]) -> Vec<u8> {
    parsed
        .iter()
        .filter(|p| !p.vif_bytes.is_empty())
        .flat_map(|p| p.format.iter().copied())
        .collect()
}

/// Split the body of a CI 79 frame: format signature (LE), data CRC (LE), data.
pub(crate) fn split(body: &[u8]) -> Result<(u16, &[u8]), DecodeError> {
    match body {
        [s0, s1, _c0, _c1, data @ ..] => Ok((u16::from_le_bytes([*s0, *s1]), data)),
        _ => Err(DecodeError::TooShort {
            len: body.len() + 1,
            needed: 5,
            what: "compact frame header",
        }),
    }
}

/// Rebuild full records by putting each record's DIF/VIF bytes in front of its data.
pub(crate) fn expand(format: &[u8], data: &[u8]) -> Result<Vec<u8>, DecodeError> {
    expand_parts(format, data).map(|(out, _)| out)
}

/// [`expand`], and the length of the rebuilt records before any trailing data (the bytes the
/// compact frame's data CRC covers: the records as a full frame would send them).
pub(crate) fn expand_parts(format: &[u8], data: &[u8]) -> Result<(Vec<u8>, usize), DecodeError> {
    let mut fmt = Cursor::new(format);
    let mut dat = Cursor::new(data);
    let mut out = Vec::with_capacity(format.len() + data.len());
    while !fmt.is_empty() {
        let start = fmt.pos();
        let bad = |reason: &'static str| DecodeError::BadRecord {
            offset: dat.pos(),
            reason,
        };
        let kind = dif::read_dib(&mut fmt).map_err(bad)?;
        let info = match kind {
            DifKind::Data(info) => info,
            _ => {
                out.extend_from_slice(format.get(start..fmt.pos()).unwrap_or(&[]));
                continue;
            }
        };
        vif::read_vib(&mut fmt).map_err(bad)?;
        out.extend_from_slice(format.get(start..fmt.pos()).unwrap_or(&[]));
        let d0 = dat.pos();
        dif::read_data(&mut dat, info.coding).map_err(|_| DecodeError::BadRecord {
            offset: d0,
            reason: "compact frame shorter than its format says",
        })?;
        out.extend_from_slice(data.get(d0..dat.pos()).unwrap_or(&[]));
    }
    // Anything after the formatted records (e.g. manufacturer data) is kept as such.
    let records_len = out.len();
    let rest = dat.rest();
    if !rest.is_empty() {
        out.push(0x0F);
        out.extend_from_slice(rest);
    }
    Ok((out, records_len))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(format: &str, data: &str, expected: Result<&str, DecodeError>) {
        let f = hex::decode(format).expect("hex");
        let d = hex::decode(data).expect("hex");
        assert_eq!(
            expand(&f, &d).map(hex::encode_upper),
            expected.map(String::from)
        );
    }

    #[test]
    fn signature_and_expand() {
        // Kamstrup MULTICAL 21 layout; its signature A8ED is what its compact frames carry (bytes ED A8).
        let f = hex::decode("02FF200413441361 5B6167".replace(' ', "")).expect("hex");
        assert_eq!(signature(&f), 0xA8ED);
        check(
            "02FF2004134413615B6167",
            "710008190000081900007F13",
            Ok("02FF207100041308190000441308190000615B7F616713"),
        );
        assert_eq!(
            builtin(0xA8ED).map(hex::encode_upper).as_deref(),
            Some("02FF2004134413615B6167")
        );
        assert_eq!(builtin(0x1234), None);
        for h in KNOWN_LAYOUTS {
            let f = hex::decode(h).expect("hex");
            assert_eq!(
                expand(&f, &[0; 400]).map(|v| v.len() > f.len()),
                Ok(true),
                "layout {h} parses"
            );
        }
        check(
            "0413",
            "0102",
            Err(DecodeError::BadRecord {
                offset: 0,
                reason: "compact frame shorter than its format says",
            }),
        );
        check("0413", "0102030405", Ok("0413010203040F05"));
        for sig in [0xC412, 0x61EB, 0xD2F7, 0xDD34, 0x7C0E, 0x36D4, 0xA9F3, 0x52C2] {
            assert!(builtin(sig).is_some(), "{sig:04X}");
        }
        assert_eq!(builtin_signatures().len(), KNOWN_LAYOUTS.len());
    }

    #[test]
    fn multical303_mj_compact_frame_without_a_full_frame() {
        use crate::encode::FrameSpec;
        use crate::encode_ell::{kamstrup_compact_frame, Field};
        use crate::record::{Quantity, Value};
        let spec = FrameSpec {
            manufacturer: "KAM",
            id: "12345678",
            version: 0x30,
            device_type: crate::DeviceType::HeatInlet,
            access_number: 5,
            status: 0,
        };
        let fields = [
            Field { dif_vif: &[0x03, 0x0E], data: &[0x10, 0x27, 0x00] },
            Field { dif_vif: &[0x43, 0x0E], data: &[0x88, 0x13, 0x00] },
            Field { dif_vif: &[0x03, 0x13], data: &[0x40, 0x42, 0x0F] },
            Field { dif_vif: &[0x42, 0x6C], data: &crate::encode::date_g(2024, 3, 31) },
            Field { dif_vif: &[0x02, 0x2D], data: &[0x0C, 0x00] },
            Field { dif_vif: &[0x01, 0xFF, 0x21], data: &[0x00] },
        ];
        assert_eq!(signature(&crate::encode_ell::layout(&fields)), 0x52C2);
        let key = crate::AesKey::from_bytes([4; 16]);
        let frame = kamstrup_compact_frame(&spec, &fields, 7, &key);
        let t = crate::decode(&frame, Some(&key)).expect("decodes with the built-in layout");
        let find = |q: Quantity, storage: u32| {
            t.records.iter().find(|r| r.quantity == q && r.storage == storage).map(|r| r.value.clone())
        };
        // 10000 MJ = 2777.78 kWh; 1000 m3.
        match find(Quantity::Energy, 0) {
            Some(Value::Number(kwh)) => assert!((kwh - 10_000.0 / 3.6).abs() < 1e-6, "{kwh}"),
            other => panic!("{other:?}"),
        }
        assert_eq!(find(Quantity::Volume, 0), Some(Value::Number(1000.0)));
        assert_eq!(find(Quantity::Date, 1), Some(Value::Text("2024-03-31".into())));
    }

    #[test]
    fn persist_entries() {
        let mut c = FormatCache::new();
        let sig = c.insert(hex::decode("02FF2004134413").expect("hex"));
        assert_eq!(sig, 0xDD34);
        let saved = c.entries();
        assert_eq!(
            saved,
            vec![(0xDD34, hex::decode("02FF2004134413").expect("hex"))]
        );
        let restored = FormatCache::from_entries(saved);
        assert_eq!(restored, c);
        let mut d = FormatCache::new();
        assert!(!d.insert_entry(0x1234, vec![0x04, 0x13]));
        assert!(d.is_empty());
    }
}
