//! Building Kamstrup-style telegrams: extended link layer II (CI 8D) encrypted with
//! AES-128-CTR, carrying a full frame (CI 78, records with their DIF/VIF) or a compact frame
//! (CI 79, values only, named by the format signature of the full frame's layout). Used by
//! the demo data and tests; the inverse of `ell`, `compact` and the ELL path of `decode`.

use crate::compact::signature;
use crate::crc::crc16_en13757;
use crate::encode::{link_header, FrameSpec};
use crate::key::AesKey;
use crate::security::ctr_apply;

/// One record: its DIF/DIFE/VIF/VIFE bytes and its data bytes.
#[derive(Debug, Clone, PartialEq)]
pub struct Field<'a> {
    pub dif_vif: &'a [u8],
    pub data: &'a [u8],
}

/// The record layout of `fields` (what a compact frame's signature names).
pub fn layout(fields: &[Field<'_>]) -> Vec<u8> {
    fields
        .iter()
        .flat_map(|f| f.dif_vif.iter().copied())
        .collect()
}

/// A full frame: CI 78 and every record with its DIF/VIF.
pub fn kamstrup_full_frame(
    spec: &FrameSpec,
    fields: &[Field<'_>],
    session: u32,
    key: &AesKey,
) -> Vec<u8> {
    let mut payload = vec![0x78];
    for f in fields {
        payload.extend_from_slice(f.dif_vif);
        payload.extend_from_slice(f.data);
    }
    ell_ctr_frame(spec, &payload, session, key)
}

/// A compact frame: CI 79, the layout's format signature, a CRC of the full records, and the
/// values alone.
pub fn kamstrup_compact_frame(
    spec: &FrameSpec,
    fields: &[Field<'_>],
    session: u32,
    key: &AesKey,
) -> Vec<u8> {
    let full: Vec<u8> = fields
        .iter()
        .flat_map(|f| f.dif_vif.iter().chain(f.data).copied())
        .collect();
    let mut payload = vec![0x79];
    payload.extend_from_slice(&signature(&layout(fields)).to_le_bytes());
    payload.extend_from_slice(&crc16_en13757(&full).to_le_bytes());
    for f in fields {
        payload.extend_from_slice(f.data);
    }
    ell_ctr_frame(spec, &payload, session, key)
}

/// L, C=44, M, A, then ELL-II (CI 8D: CC, access number, session number with encryption
/// mode 1) and the payload CRC + payload, AES-128-CTR encrypted with IV = M A CC SN 0 0 0.
fn ell_ctr_frame(spec: &FrameSpec, payload: &[u8], session: u32, key: &AesKey) -> Vec<u8> {
    let (m, a) = spec.link_address();
    let cc = 0x20; // bidirectional off, synchronous frame: what Kamstrup meters send
    let sn = ((session & 0x1fff_ffff) | (1 << 29)).to_le_bytes();
    let mut iv = [0u8; 16];
    iv[..2].copy_from_slice(&m);
    iv[2..8].copy_from_slice(&a);
    iv[8] = cc;
    iv[9..13].copy_from_slice(&sn);
    let mut plain = crc16_en13757(payload).to_le_bytes().to_vec();
    plain.extend_from_slice(payload);
    let secret = ctr_apply(key, &iv, &plain);
    let mut frame = link_header(spec, secret.len() + 7);
    frame.extend_from_slice(&[0x8d, cc, spec.access_number]);
    frame.extend_from_slice(&sn);
    frame.extend_from_slice(&secret);
    frame[0] = (frame.len() - 1).min(255) as u8;
    frame
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{
        decode, decode_with_formats, DeviceType, FormatCache, Quantity, SecurityMode,
        SecurityStatus, Value,
    };

    fn spec() -> FrameSpec<'static> {
        FrameSpec {
            manufacturer: "KAM",
            id: "76348799",
            version: 0x1b,
            device_type: DeviceType::ColdWater,
            access_number: 9,
            status: 0,
        }
    }

    fn fields(litres: &[u8; 4]) -> Vec<Field<'_>> {
        vec![
            Field {
                dif_vif: &[0x04, 0x13],
                data: litres,
            },
            Field {
                dif_vif: &[0x44, 0x13],
                data: &[0x10, 0x27, 0, 0],
            },
            Field {
                dif_vif: &[0x02, 0xff, 0x20],
                data: &[0x01, 0x00],
            },
        ]
    }

    fn volume(t: &crate::Telegram) -> f64 {
        let r = t
            .records
            .iter()
            .find(|r| r.quantity == Quantity::Volume && r.storage == 0)
            .expect("volume");
        match r.value {
            Value::Number(v) => v,
            Value::Text(_) => f64::NAN,
        }
    }

    #[test]
    fn full_frame_round_trip_and_wrong_key() {
        let key = AesKey::from_bytes([3; 16]);
        let frame = kamstrup_full_frame(&spec(), &fields(&6408u32.to_le_bytes()), 0x42, &key);
        let t = decode(&frame, Some(&key)).expect("decodes");
        assert_eq!(
            (t.security.mode, t.security.status),
            (SecurityMode::EllCtr, SecurityStatus::Ok)
        );
        assert_eq!(t.address.id, "76348799");
        assert!((volume(&t) - 6.408).abs() < 1e-9);
        assert!(t.info_codes.contains(&crate::InfoCode::Dry));
        let wrong = decode(&frame, Some(&AesKey::from_bytes([4; 16]))).expect("header decodes");
        assert_eq!(wrong.security.status, SecurityStatus::WrongKey);
        assert!(wrong.records.is_empty());
    }

    #[test]
    fn compact_frame_decodes_with_the_layout_of_its_full_frame() {
        let key = AesKey::from_bytes([5; 16]);
        let full = kamstrup_full_frame(&spec(), &fields(&1000u32.to_le_bytes()), 7, &key);
        let compact = kamstrup_compact_frame(&spec(), &fields(&1234u32.to_le_bytes()), 8, &key);
        assert!(compact.len() < full.len());
        let unknown = decode_with_formats(&compact, Some(&key), &FormatCache::new());
        assert_eq!(unknown.map_err(|e| e.code()).err(), Some("unknown_format"));
        let mut formats = FormatCache::new();
        formats.learn(&full, Some(&key)).expect("layout learned");
        let t = decode_with_formats(&compact, Some(&key), &formats).expect("compact decodes");
        assert!((volume(&t) - 1.234).abs() < 1e-9);
    }
}
