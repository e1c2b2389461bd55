//! Info codes (alarms): from the OMS status byte and from Kamstrup's manufacturer-specific records.

use serde::Serialize;

use crate::records::ParsedRecord;

/// An alarm or error condition reported by the meter.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum InfoCode {
    Dry,
    Reverse,
    Leak,
    Burst,
    Tamper,
    LowBattery,
    PermanentError,
    TemporaryError,
}

/// OMS / EN 13757-7 transport-layer status byte: bit 2 "power low", bit 3 "permanent error",
/// bit 4 "temporary error" (bits 0-1 application status, 5-7 manufacturer specific).
/// Source: EN 13757-7:2018 table "Status field"; Kamstrup "Technical Description Wired M-Bus
/// flowIQ 2101/3100" (55121944) §8.3: 04h = power low, 10h = temporary error.
pub const STATUS_LOW_BATTERY: u8 = 0x04;
pub const STATUS_PERMANENT_ERROR: u8 = 0x08;
pub const STATUS_TEMPORARY_ERROR: u8 = 0x10;

/// Kamstrup MULTICAL 21 / flowIQ 2101/3100 info register, sent as record `02 FF 20` (16 bits):
/// bits 0-3 are the active info codes DRY, REVERSE, LEAK, BURST; bits 4-15 are four 3-bit
/// "how long it has been active" counters (DRY 4-6, REVERSE 7-9, LEAK 10-12, BURST 13-15).
/// Source: Kamstrup "Technical Description MULTICAL 21 & flowIQ 2101" (5512-897, §11.4 Info register)
/// and "Technical Description flowIQ 3100" (5512-1242, §10.4).
pub const KAM_INFO_DRY: u16 = 0x0001;
pub const KAM_INFO_REVERSE: u16 = 0x0002;
pub const KAM_INFO_LEAK: u16 = 0x0004;
pub const KAM_INFO_BURST: u16 = 0x0008;

/// Kamstrup MULTICAL 302/403/603 info code, sent as record `04 FF 22` (bit values as in the
/// technical descriptions, e.g. MULTICAL 403 5512-1689 §7.7.1 "Bit format"): 1 no voltage supply,
/// 2 low battery, 4 external alarm, 8/16 t1/t2 above range or disconnected, 32/64 t1/t2 below
/// range or short-circuited, 128 invalid temperature difference, 256 V1 air, 512 V1 wrong flow
/// direction, 2048 V1 above qs for more than an hour, 4096/8192 leakage on pulse input A/B,
/// 16384/32768 external alarm on pulse input A/B.
pub const KAM_HEAT_LOW_BATTERY: u32 = 2;
pub const KAM_HEAT_SENSOR_ERRORS: u32 = 8 | 16 | 32 | 64;
pub const KAM_HEAT_V1_AIR: u32 = 256;
pub const KAM_HEAT_V1_REVERSE: u32 = 512;
pub const KAM_HEAT_LEAK_INPUTS: u32 = 4096 | 8192;

/// Info codes of a Kamstrup heat meter `04 FF 22` value: low battery, V1 air (as Dry: no water
/// in the flow sensor), wrong flow direction (Reverse), leakage on a pulse input (Leak), and a
/// temperature sensor fault (TemporaryError: it clears when the sensor is back in range).
pub fn from_kamstrup_heat_info(bits: u32) -> Vec<InfoCode> {
    [
        (KAM_HEAT_V1_AIR, InfoCode::Dry),
        (KAM_HEAT_V1_REVERSE, InfoCode::Reverse),
        (KAM_HEAT_LEAK_INPUTS, InfoCode::Leak),
        (KAM_HEAT_LOW_BATTERY, InfoCode::LowBattery),
        (KAM_HEAT_SENSOR_ERRORS, InfoCode::TemporaryError),
    ]
    .into_iter()
    .filter(|(bit, _)| bits & bit != 0)
    .map(|(_, c)| c)
    .collect()
}

/// Info codes announced by the transport-layer status byte.
pub fn from_status(status: u8) -> Vec<InfoCode> {
    let mut v = Vec::new();
    if status & STATUS_LOW_BATTERY != 0 {
        v.push(InfoCode::LowBattery);
    }
    if status & STATUS_PERMANENT_ERROR != 0 {
        v.push(InfoCode::PermanentError);
    }
    if status & STATUS_TEMPORARY_ERROR != 0 {
        v.push(InfoCode::TemporaryError);
    }
    v
}

/// Info codes active in a Kamstrup `02 FF 20` info register value.
pub fn from_kamstrup_info(bits: u16) -> Vec<InfoCode> {
    [
        (KAM_INFO_DRY, InfoCode::Dry),
        (KAM_INFO_REVERSE, InfoCode::Reverse),
        (KAM_INFO_LEAK, InfoCode::Leak),
        (KAM_INFO_BURST, InfoCode::Burst),
    ]
    .into_iter()
    .filter(|(bit, _)| bits & bit != 0)
    .map(|(_, c)| c)
    .collect()
}

/// All info codes of a telegram: status byte, then manufacturer records; sorted, no duplicates.
#[cfg_attr(not(test), allow(dead_code))]
pub(crate) fn collect(manufacturer: &str, status: u8, records: &[ParsedRecord]) -> Vec<InfoCode> {
    if status & (STATUS_LOW_BATTERY | STATUS_PERMANENT_ERROR | STATUS_TEMPORARY_ERROR) == 0
        && manufacturer != "KAM"
    {
        return Vec::new();
    }
    let mut codes = from_status(status);
    if manufacturer == "KAM" {
        for r in records {
            // Current info register: DIF 02 (16-bit, storage 0), VIF FF, VIFE 20.
            if r.dif == 0x02 && r.vif_bytes.get() == Some(&[0xFF, 0x20][..]) {
                if let Some(&[lo, hi]) = r.data.get() {
                    codes.extend(from_kamstrup_info(u16::from_le_bytes([lo, hi])));
                }
            }
            // Heat meters' current info code: DIF 04 (32-bit, storage 0), VIF FF, VIFE 22.
            if r.dif == 0x04 && r.vif_bytes.get() == Some(&[0xFF, 0x22][..]) {
                if let Some(&[a, b, c, d]) = r.data.get() {
                    codes.extend(from_kamstrup_heat_info(u32::from_le_bytes([a, b, c, d])));
                }
            }
        }
    }
    codes.sort();
    codes.dedup();
    codes
}

/// The Kamstrup info registers of a payload's current records, gathered as the records are
/// read (see [`collect`] for which records): the bits of every such record, or-ed together.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub(crate) struct KamRegisters {
    /// `02 FF 20` (water meters' info register).
    pub info: u16,
    /// `04 FF 22` (heat meters' info code).
    pub heat: u32,
}

impl KamRegisters {
    /// Look at one record's DIF, VIF/VIFE bytes and data field.
    #[inline]
    pub(crate) fn see(&mut self, dif: u8, vif_bytes: &[u8], data: &[u8]) {
        match (dif, vif_bytes, data) {
            (0x02, [0xFF, 0x20], &[lo, hi]) => self.info |= u16::from_le_bytes([lo, hi]),
            (0x04, [0xFF, 0x22], &[a, b, c, d]) => self.heat |= u32::from_le_bytes([a, b, c, d]),
            _ => {}
        }
    }
}

/// [`collect`] from the registers gathered while reading: the same codes (the code lists are
/// monotone in the bits, so or-ing the registers first gives their union).
pub(crate) fn collect_registers(
    manufacturer: &str,
    status: u8,
    kam: &KamRegisters,
) -> Vec<InfoCode> {
    if status & (STATUS_LOW_BATTERY | STATUS_PERMANENT_ERROR | STATUS_TEMPORARY_ERROR) == 0
        && (manufacturer != "KAM" || (kam.info == 0 && kam.heat == 0))
    {
        return Vec::new();
    }
    let mut codes = from_status(status);
    if manufacturer == "KAM" {
        codes.extend(from_kamstrup_info(kam.info));
        codes.extend(from_kamstrup_heat_info(kam.heat));
    }
    codes.sort();
    codes.dedup();
    codes
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(status: u8, kam: u16, expected: &[InfoCode]) {
        let mut got = from_status(status);
        got.extend(from_kamstrup_info(kam));
        assert_eq!(got, expected);
    }

    #[test]
    fn bits() {
        use InfoCode::*;
        check(0x00, 0x0000, &[]);
        check(0x14, 0x0000, &[LowBattery, TemporaryError]);
        check(0x08, 0x0071, &[PermanentError, Dry]);
        check(0x00, 0x000F, &[Dry, Reverse, Leak, Burst]);
        check(0x03, 0xFFF0, &[]);
    }

    #[test]
    fn heat_bits() {
        use InfoCode::*;
        assert_eq!(from_kamstrup_heat_info(0), vec![]);
        assert_eq!(
            from_kamstrup_heat_info(2 | 256 | 512),
            vec![Dry, Reverse, LowBattery]
        );
        assert_eq!(
            from_kamstrup_heat_info(8192 | 32),
            vec![Leak, TemporaryError]
        );
        assert_eq!(from_kamstrup_heat_info(1 | 4 | 2048 | 16384), vec![]);
    }

    #[test]
    fn registers_gathered_while_reading_give_the_same_codes() {
        let payloads = [
            "02FF2001000413B4180000",
            "02FF2004000402FF200800",
            "04FF220201000002FF200300",
            "04FF2200000000",
            "02FF20010004FF2000000000",
            "0413B4180000",
        ];
        for hex_payload in payloads {
            let bytes = hex::decode(hex_payload).expect("hex");
            let (parsed, _) = crate::records::parse_lenient(&bytes, false);
            let (read, _) = crate::records::read(&bytes, false);
            for m in ["KAM", "DWZ"] {
                for status in [0x00, 0x04, 0x18] {
                    assert_eq!(
                        collect_registers(m, status, &read.kam),
                        collect(m, status, &parsed),
                        "{hex_payload} {m} {status:02X}"
                    );
                }
            }
        }
    }

    #[test]
    fn serde_names() {
        assert_eq!(
            serde_json::to_string(&InfoCode::LowBattery).ok().as_deref(),
            Some("\"low_battery\"")
        );
    }
}
