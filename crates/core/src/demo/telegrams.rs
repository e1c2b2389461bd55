//! What the demo meters send: their records, framed as Kamstrup ELL AES-CTR (full and
//! compact frames) or OMS mode 5, written as rtl-wmbus lines of concentrator files.

use super::park::{Kind, Plan};
use super::{DAY, HOUR};
use chrono::{Offset, TimeZone};
use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::encode_ell::{kamstrup_compact_frame, kamstrup_full_frame, Field};
use mbus::{AesKey, InfoCode};
use rand::Rng;
use rand_chacha::ChaCha8Rng;

impl Plan {
    pub(super) fn step(&self) -> i64 {
        if self.hourly {
            HOUR
        } else {
            DAY
        }
    }

    pub(super) fn expected_lines(&self, start: i64, end: i64) -> u64 {
        let from = self.active_from.max(start);
        let to = self.active_to.min(end);
        ((to - from).max(0) / self.step()) as u64
    }

    fn codes_at(&self, t: i64) -> Vec<InfoCode> {
        self.events.iter().filter(|(_, s, e)| *s <= t && t < *e).map(|(c, _, _)| *c).collect()
    }

    /// Append this meter's telegrams as rtl-wmbus lines; returns how many.
    pub(super) fn write_lines(&self, rng: &mut ChaCha8Rng, tz: chrono_tz::Tz, start: i64, end: i64, out: &mut Vec<u8>) -> usize {
        use std::io::Write;
        let key = AesKey::from_bytes(self.key);
        let step = self.step();
        let mut t = self.active_from.max(start);
        t -= t.rem_euclid(step);
        let mut index = self.initial;
        let mut access: u8 = rng.gen();
        let mut count = 0;
        let mut billing = index;
        let mut billing_month = 0;
        // The 1st of the month whose index `billing` holds; unset (type G 0) until the meter
        // has passed a month boundary on the 1st.
        let mut billing_date = [0u8; 2];
        // A solar prosumer's exported energy (kWh) and the powers of the last telegram (W).
        let mut exported = self.initial * 0.15;
        let mut electric = Electric::default();
        while t < self.active_to.min(end) {
            let at = t + self.minute * 60;
            t += step;
            if at >= end {
                break; // not yet sent
            }
            let used = self.consumption(rng, at, step);
            index += used;
            if self.kind == Kind::KamElectricity {
                let (export, p_minus) = self.solar(at, step);
                exported += export;
                let hours = step as f64 / HOUR as f64;
                electric = Electric {
                    p_plus: used / hours * 1000.0,
                    export: self.prosumer().then_some((exported, p_minus)),
                };
            }
            let local = tz.timestamp_opt(at, 0).single();
            let month = local.map_or(0, |l| chrono::Datelike::month(&l));
            if month != billing_month {
                billing_month = month;
                billing = index;
                billing_date = match local {
                    Some(l) if chrono::Datelike::day(&l) == 1 => {
                        mbus::encode::date_g(chrono::Datelike::year(&l).clamp(2000, 2127) as u16, month as u8, 1)
                    }
                    _ => [0, 0],
                };
            }
            if self.gap.is_some_and(|(a, b)| a <= at && at < b) {
                continue;
            }
            let codes = self.codes_at(at);
            let status = if codes.contains(&InfoCode::LowBattery) { 0x04 } else { 0x00 };
            let records = self.records(index, (billing, billing_date), &codes, local, electric);
            access = access.wrapping_add(1);
            let spec = FrameSpec {
                manufacturer: self.kind.manufacturer(),
                id: &self.serial,
                version: self.kind.version(),
                device_type: self.kind.device_type(),
                access_number: access,
                status,
            };
            let frame = self.frame(&spec, &records, count, &key);
            // Local time with its offset: the two 02:30 of an autumn night are two times.
            let stamp = local.map(|l| l.format("%Y-%m-%d %H:%M:%S.000%:z").to_string()).unwrap_or_default();
            let rssi = rng.gen_range(60..120);
            let _ = writeln!(out, "C1;1;1;{stamp};{rssi};;;0x{}", hex::encode(&frame));
            count += 1;
        }
        count
    }

    /// Consumption over `step` seconds ending at `at`, with daily and seasonal rhythm.
    fn consumption(&self, rng: &mut ChaCha8Rng, at: i64, step: i64) -> f64 {
        let hour = (at.rem_euclid(DAY) / HOUR + 1) % 24; // about local time (UTC+1)
        let day_of_year = (at / DAY).rem_euclid(365) as f64;
        let winter = ((day_of_year + 10.0) / 365.0 * std::f64::consts::TAU).cos(); // 1 in January
        let codes = self.codes_at(at);
        let base = match self.kind {
            Kind::KamWater | Kind::OtherWater(..) => {
                if codes.contains(&InfoCode::Dry) {
                    return 0.0;
                }
                let profile = [0.2, 0.1, 0.1, 0.1, 0.2, 0.6, 1.8, 2.6, 1.9, 1.2, 1.0, 1.1, 1.4, 1.2, 0.9, 0.8, 0.9, 1.1, 1.6, 2.2, 2.0, 1.5, 0.9, 0.5];
                let f = if step == HOUR { profile[hour as usize] } else { 1.0 };
                let leak = if codes.contains(&InfoCode::Leak) { 0.012 } else { 0.0 };
                let burst = if codes.contains(&InfoCode::Burst) { 0.9 } else { 0.0 };
                self.mean * f + leak + burst
            }
            Kind::KamHeat | Kind::OtherHeat(..) => self.mean * (1.0 + 0.85 * winter).max(0.08),
            Kind::KamElectricity => {
                let f = if step == HOUR { [0.5, 0.4, 0.4, 0.4, 0.4, 0.6, 1.2, 1.5, 1.1, 0.9, 0.9, 1.0, 1.2, 1.0, 0.9, 0.9, 1.0, 1.3, 1.8, 2.0, 1.8, 1.4, 1.0, 0.7][hour as usize] } else { 1.0 };
                self.mean * f * (1.0 + 0.3 * winter)
            }
        };
        let steps = step as f64 / HOUR as f64;
        (base * steps * rng.gen_range(0.55..1.45)).max(0.0)
    }

    /// One electricity meter in three is a solar prosumer (by its serial, so the demo's
    /// random draws stay as they were): it exports (A-, P-) on sunny hours.
    pub(super) fn prosumer(&self) -> bool {
        self.kind == Kind::KamElectricity && self.serial.bytes().map(u64::from).sum::<u64>() % 3 == 0
    }

    /// A prosumer's export over `step` seconds ending at `at` (kWh) and its export power at
    /// `at` (W): panels of 3 to 6 kWp, a day curve from 6:00 to 20:00, more in summer, a
    /// cloud factor from a hash of the time (no random draw). Nothing for the others.
    fn solar(&self, at: i64, step: i64) -> (f64, f64) {
        if !self.prosumer() {
            return (0.0, 0.0);
        }
        let peak = 3.0 + (self.serial.bytes().map(u64::from).sum::<u64>() % 4) as f64; // kW
        let day_of_year = (at / DAY).rem_euclid(365) as f64;
        let summer = 1.0 - 0.6 * ((day_of_year + 10.0) / 365.0 * std::f64::consts::TAU).cos().max(0.0);
        let cloud = |t: i64| {
            let h = (t as u64 ^ 0x0005_DEEC_E66D).wrapping_mul(0x9E37_79B9_7F4A_7C15);
            0.35 + 0.65 * ((h >> 40) as f64 / (1u64 << 24) as f64)
        };
        // Export power (kW) at a time: the panels' output less what the house uses then.
        let power = |t: i64| {
            let hour = ((t.rem_euclid(DAY) + HOUR) as f64 / HOUR as f64) % 24.0; // about local time
            let sun = (std::f64::consts::PI * (hour - 6.0) / 14.0).sin().max(0.0);
            (peak * summer * sun * cloud(t / HOUR) - self.mean * 0.8).max(0.0)
        };
        let samples = (step / HOUR).max(1);
        let energy: f64 = (0..samples).map(|k| power(at - k * HOUR - HOUR / 2)).sum();
        (energy, power(at) * 1000.0)
    }

    /// The telegram's records (DIF/VIF bytes, data bytes), in the meter family's usual layout.
    /// `billing`: the index at the billing (target) date and that date as type G.
    fn records(&self, index: f64, billing: (f64, [u8; 2]), codes: &[InfoCode], local: Option<chrono::DateTime<chrono_tz::Tz>>, electric: Electric) -> Vec<(&'static [u8], Vec<u8>)> {
        let (billing, billing_date) = billing;
        let u32le = |v: f64| (v.round().clamp(0.0, u32::MAX as f64) as u32).to_le_bytes().to_vec();
        let mut r: Vec<(&'static [u8], Vec<u8>)> = match self.kind {
            Kind::KamWater | Kind::OtherWater(..) => vec![
                (&[0x04, 0x13], u32le(index * 1000.0)),   // volume, litres
                (&[0x44, 0x13], u32le(billing * 1000.0)), // volume at the billing date (storage 1)
                (&[0x42, 0x6c], billing_date.to_vec()),   // the billing (target) date, type G
            ],
            Kind::KamHeat | Kind::OtherHeat(..) => vec![
                (&[0x04, 0x05], u32le(index * 10.0)), // energy, 100 Wh
                (&[0x44, 0x05], u32le(billing * 10.0)),
                (&[0x42, 0x6c], billing_date.to_vec()), // the billing (target) date, type G
                (&[0x04, 0x14], u32le(index * 0.012 * 100.0)), // volume, 10 l
            ],
            Kind::KamElectricity => {
                let mut r: Vec<(&'static [u8], Vec<u8>)> = vec![
                    (&[0x04, 0x05], u32le(index * 10.0)),    // A+, 100 Wh
                    (&[0x04, 0x2b], u32le(electric.p_plus)), // P+, W
                ];
                if let Some((exported, p_minus)) = electric.export {
                    r.push((&[0x84, 0x40, 0x05], u32le(exported * 10.0))); // A- (subunit 1), 100 Wh
                    r.push((&[0x84, 0x40, 0x2b], u32le(p_minus))); // P- (subunit 1), W
                }
                r
            }
        };
        if self.kind == Kind::KamWater {
            r.push((&[0x02, 0xff, 0x20], mbus::encode::kamstrup_info_bits(codes).to_le_bytes().to_vec()));
        }
        if let Some(l) = local {
            r.push((&[0x04, 0x6d], type_f(l.naive_local(), l.offset().fix().local_minus_utc() != 3600).to_vec()));
        }
        r
    }

    /// The telegram as the meter sends it: Kamstrup water meters use ELL AES-CTR with a full
    /// frame every eighth telegram and compact frames in between; the others OMS mode 5.
    fn frame(&self, spec: &FrameSpec, records: &[(&'static [u8], Vec<u8>)], sequence: usize, key: &AesKey) -> Vec<u8> {
        if self.kind == Kind::KamWater {
            let fields: Vec<Field<'_>> = records.iter().map(|(dv, d)| Field { dif_vif: dv, data: d }).collect();
            let session = sequence as u32;
            return if sequence.is_multiple_of(8) {
                kamstrup_full_frame(spec, &fields, session, key)
            } else {
                kamstrup_compact_frame(spec, &fields, session, key)
            };
        }
        let payload: Vec<u8> = records.iter().flat_map(|(dv, d)| dv.iter().chain(d).copied()).collect();
        wmbus_frame(spec, &payload, Some(key))
    }
}

/// What an electricity meter sends beside its import index: its import power (W) and, for a
/// prosumer, its export index (kWh) and export power (W).
#[derive(Clone, Copy, Default)]
struct Electric {
    p_plus: f64,
    export: Option<(f64, f64)>,
}

/// EN 13757-3 date-time type F (minute, hour, day, month, year; summer-time flag).
fn type_f(t: chrono::NaiveDateTime, summer: bool) -> [u8; 4] {
    use chrono::{Datelike, Timelike};
    let year = (t.year() - 2000).clamp(0, 127) as u8;
    [
        t.minute() as u8 & 0x3f,
        (t.hour() as u8 & 0x1f) | if summer { 0x80 } else { 0 },
        (t.day() as u8 & 0x1f) | ((year & 0x07) << 5),
        (t.month() as u8 & 0x0f) | ((year & 0x78) << 1),
    ]
}
