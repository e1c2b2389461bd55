//! Zenner EDC B.One water meter modules (manufacturer ZRI, version 0B, device type 16 cold water
//! or 07 water), "scenario 322": the payload (usually OMS mode 5, opened by the standard
//! transport layer) is 2F2F then DIF 0F and a manufacturer block of three 32-bit little-endian
//! numbers. Facts from wmbusmeters' zenner0b driver and its pull request #1652 (Zenner EDC
//! B.One, scenario 322) and issue #2032 (the same layout on device type 07):
//!
//! | block bytes | content |
//! |---|---|
//! | 0-3 | status according to #1652 (values seen look like readings: not decoded) |
//! | 4-7 | consumption of the current month according to #1652 (not decoded: no canonical quantity) |
//! | 8-11 | total volume, in 1/256000 m3 |
//! | 12 | filler (optional) |
//!
//! Records: the total volume (storage 0, m3).

use crate::error::DecodeError;
use crate::record::{Function, Quantity, Record, Unit, Value};
use crate::trace::Trace;
use crate::vendor::{Decoded, Family, Meter};

/// Manufacturer code of ZRI as a 16-bit number.
const ZRI: u16 = 0x6A49;
/// Volume unit of the block: 1/256000 m3.
const PER_M3: f64 = 256_000.0;

pub(crate) const FAMILY: Family = Family {
    name: "zenner_b_one",
    detect,
    application: None,
    block: Some(read_block),
    record: None,
};

fn detect(m: &Meter<'_>) -> bool {
    let [.., version, device] = m.raw.1;
    version == 0x0B && matches!(device, 0x16 | 0x07) && u16::from_le_bytes(m.raw.0) == ZRI
}

fn read_block(m: &Meter<'_>, block: &[u8], _standard: &[Record], trace: &mut Trace) -> Result<Decoded, DecodeError> {
    let total = match block.get(8..12) {
        Some(&[a, b, c, d]) => u32::from_le_bytes([a, b, c, d]),
        _ => return Err(DecodeError::TooShort { len: block.len(), needed: 12, what: "Zenner B.One block after DIF 0F" }),
    };
    let m3 = f64::from(total) / PER_M3;
    trace.note("vendor", Some(m.ci), || {
        format!("Zenner B.One block: total volume {m3} m3 (bytes 8-11 in 1/256000 m3); bytes 0-7 not decoded")
    });
    Ok(Decoded {
        records: vec![Record {
            quantity: Quantity::Volume,
            value: Value::Number(m3),
            unit: Unit::M3,
            storage: 0,
            tariff: 0,
            subunit: 0,
            function: Function::Instantaneous,
        }],
        ..Decoded::default()
    })
}

#[cfg(test)]
pub(crate) mod tests {
    use crate::encode::{wmbus_frame, FrameSpec};
    use crate::record::{Quantity, Value};
    use crate::{decode, AesKey, DeviceType, SecurityStatus};

    /// The payload: 0F and the block with `total` in 1/256000 m3.
    pub(crate) fn payload(total: u32) -> Vec<u8> {
        let mut p = vec![0x0F];
        p.extend(0x0012_3456u32.to_le_bytes());
        p.extend(0x0001_0000u32.to_le_bytes());
        p.extend(total.to_le_bytes());
        p.push(0x00);
        p
    }

    pub(crate) fn spec() -> FrameSpec<'static> {
        FrameSpec {
            manufacturer: "ZRI",
            id: "50087367",
            version: 0x0B,
            device_type: DeviceType::from_code(0x16),
            access_number: 0xD8,
            status: 0,
        }
    }

    #[test]
    fn total_in_256000ths_of_a_cubic_metre() {
        let key = AesKey::from_bytes([9; 16]);
        let f = wmbus_frame(&spec(), &payload(4_367_872), Some(&key));
        let t = decode(&f, Some(&key)).expect("decodes");
        let v = t.records.iter().find(|r| r.quantity == Quantity::Volume && r.storage == 0).map(|r| r.value.clone());
        assert_eq!(v, Some(Value::Number(17.062)));
        assert_eq!(decode(&f, None).expect("decodes").security.status, SecurityStatus::NoKey);
    }

    #[test]
    fn a_short_block_adds_nothing() {
        let f = wmbus_frame(&spec(), &payload(1)[..9], None);
        let t = decode(&f, None).expect("decodes");
        assert!(t.records.iter().all(|r| r.quantity != Quantity::Volume));
    }
}
