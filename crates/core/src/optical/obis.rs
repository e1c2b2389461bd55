//! An electricity meter's readout (IEC 62056-21 / DSMR data sets) mapped to Relevé's
//! registers: A+ 1.8.0, A- 2.8.0 and their tariffs 1 and 2 (kWh), P+ 1.7.0 and P- 2.7.0 (W),
//! the meter's serial (96.1.0 = C.1.0, 0.0.0, 96.1.1) and clock (0.9.1 + 0.9.2, DSMR 1.0.0).
//! Pure. Every data set is listed, mapped or not: the raw readout is kept as the telegram.

use crate::model::Register;
use mbus::iec62056::{DataSet, Obis, Readout};
use serde::Serialize;

/// What a readout gives the store and the screens.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Mapped {
    /// The manufacturer's three letters (upper case) from the identification.
    pub manufacturer: String,
    /// The meter's identification (type) as sent.
    pub ident: String,
    pub serial: Option<String>,
    /// The meter's clock (a local time), when it sends a readable one.
    #[serde(skip)]
    pub meter_time: Option<chrono::NaiveDateTime>,
    pub meter_time_text: Option<String>,
    /// (register, value in canonical units), at most one per register.
    #[serde(skip)]
    pub readings: Vec<(Register, f64)>,
    pub data_sets: Vec<SetView>,
}

/// One data set as read, and what Relevé made of it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct SetView {
    pub line: usize,
    pub address: String,
    /// The OBIS code in full form (`1-0:1.8.0`) when the address is one.
    pub obis: Option<String>,
    pub values: Vec<ValueView>,
    /// The register it fills (`a_plus`), or what else it tells (`serial`, `date`, `time`,
    /// `timestamp`); `None` for a code Relevé does not map (kept in the raw readout).
    pub role: Option<&'static str>,
    /// The value in the register's unit (W for power, kWh for energy).
    pub value: Option<f64>,
    pub unit: Option<&'static str>,
}

#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ValueView {
    pub value: String,
    pub unit: Option<String>,
}

/// Map a readout's data sets.
pub fn map(readout: &Readout) -> Mapped {
    let mut readings: Vec<(Register, f64)> = Vec::new();
    let mut serials: Vec<(u8, String)> = Vec::new();
    let (mut date, mut time, mut stamp) = (None, None, None);
    let mut data_sets = Vec::with_capacity(readout.data_sets.len());
    for d in &readout.data_sets {
        let mut role = None;
        let mut value = None;
        let mut unit = None;
        if let Some(o) = d.obis.filter(Obis::is_current) {
            if let Some((register, v)) = register_value(&o, d) {
                if !readings.iter().any(|(r, _)| *r == register) {
                    readings.push((register, v));
                    role = Some(register.id());
                    value = Some(v);
                    unit = Some(register.unit());
                }
            } else if let Some(rank) = serial_rank(&o) {
                if let Some(s) = d.values.first().and_then(|v| serial_text(&v.text, rank >= 2)) {
                    serials.push((rank, s));
                    role = Some("serial");
                }
            } else if abstract_or_electricity(&o) {
                let text = d.values.first().map(|v| v.text.as_str()).unwrap_or_default();
                match o.cde() {
                    (0, 9, 1) => {
                        time = parse_time(text);
                        role = time.map(|_| "time");
                    }
                    (0, 9, 2) => {
                        date = parse_date(text);
                        role = date.map(|_| "date");
                    }
                    (1, 0, 0) if o.a == Some(0) => {
                        stamp = parse_stamp(text);
                        role = stamp.map(|_| "timestamp");
                    }
                    _ => {}
                }
            }
        }
        data_sets.push(SetView {
            line: d.line,
            address: d.address.clone(),
            obis: d.obis.map(|o| full_form(&o)),
            values: d.values.iter().map(|v| ValueView { value: v.text.clone(), unit: v.unit.clone() }).collect(),
            role,
            value,
            unit,
        });
    }
    serials.sort_by_key(|(rank, _)| *rank);
    let meter_time = stamp.or_else(|| Some(date?.and_time(time?)));
    Mapped {
        manufacturer: readout.identification.manufacturer.clone(),
        ident: readout.identification.ident.clone(),
        serial: serials.into_iter().next().map(|(_, s)| s),
        meter_time_text: meter_time.map(|t| t.format("%Y-%m-%d %H:%M:%S").to_string()),
        meter_time,
        readings,
        data_sets,
    }
}

/// `1-0:1.8.0` also when the meter wrote `1.8.0` (electricity, channel 0).
fn full_form(o: &Obis) -> String {
    let a = o.a.unwrap_or(if o.c >= 96 || o.c == 0 { 0 } else { 1 });
    let b = o.b.unwrap_or(0);
    let mut s = format!("{a}-{b}:{}.{}", o.c, o.d);
    if let Some(e) = o.e {
        s.push_str(&format!(".{e}"));
    }
    if let Some(f) = o.f.filter(|f| *f != 255) {
        s.push_str(&format!("*{f}"));
    }
    s
}

/// Electricity (A = 1) on channel 0 or 1, or an address without `A-B:`.
fn electricity(o: &Obis) -> bool {
    matches!(o.a, None | Some(1)) && matches!(o.b, None | Some(0) | Some(1))
}

/// Abstract (A = 0) or electricity data of the meter itself (channel 0).
fn abstract_or_electricity(o: &Obis) -> bool {
    matches!(o.a, None | Some(0) | Some(1)) && matches!(o.b, None | Some(0))
}

/// The register a data set fills and its value in the register's unit.
fn register_value(o: &Obis, d: &DataSet) -> Option<(Register, f64)> {
    if !electricity(o) {
        return None;
    }
    let register = match o.cde() {
        (1, 8, 0) => Register::APlus,
        (1, 8, 1) => Register::APlusT1,
        (1, 8, 2) => Register::APlusT2,
        (2, 8, 0) => Register::AMinus,
        (2, 8, 1) => Register::AMinusT1,
        (2, 8, 2) => Register::AMinusT2,
        (1, 7, 0) => Register::PPlus,
        (2, 7, 0) => Register::PMinus,
        _ => return None,
    };
    let v = d.values.iter().find_map(|v| Some((v.number()?, v.unit.as_deref())))?;
    let factor = if register.unit() == "W" {
        // Power: kW when no unit is written.
        match v.1.map(str::to_ascii_lowercase).as_deref() {
            None | Some("kw") => 1000.0,
            Some("w") => 1.0,
            Some("mw") if v.1 == Some("MW") => 1_000_000.0,
            _ => return None,
        }
    } else {
        // Energy: kWh when no unit is written.
        match v.1 {
            None | Some("kWh") | Some("KWH") | Some("kwh") => 1.0,
            Some("Wh") | Some("WH") | Some("wh") => 0.001,
            Some("MWh") | Some("MWH") => 1000.0,
            _ => return None,
        }
    };
    // Scaled values are kept to a millionth of the unit (no binary fraction noise).
    let value = if factor == 1.0 { v.0 } else { (v.0 * factor * 1e6).round() / 1e6 };
    Some((register, value))
}

/// Where a data set naming the meter's serial stands: 96.1.0 (C.1.0) first, then 0.0.0 (the
/// device address, often the serial), then 96.1.1 (DSMR's equipment identifier).
fn serial_rank(o: &Obis) -> Option<u8> {
    if !abstract_or_electricity(o) {
        return None;
    }
    match o.cde() {
        (96, 1, 0) => Some(0),
        (0, 0, 0) => Some(1),
        (96, 1, e) if e <= 9 => Some(2 + e),
        _ => None,
    }
}

/// A serial as written: printable, at most 32 characters. DSMR's equipment identifier
/// (96.1.1, `equipment`) is the hexadecimal of its ASCII text, which is read back.
fn serial_text(text: &str, equipment: bool) -> Option<String> {
    let t = text.trim();
    if t.is_empty() || t.len() > 64 || !t.bytes().all(|b| b.is_ascii_graphic()) {
        return None;
    }
    if equipment && t.len() >= 16 && t.len().is_multiple_of(2) {
        if let Ok(bytes) = hex::decode(t) {
            if bytes.iter().all(u8::is_ascii_alphanumeric) {
                return String::from_utf8(bytes).ok();
            }
        }
    }
    (t.len() <= 32).then(|| t.to_string())
}

fn digits(text: &str) -> String {
    text.chars().filter(char::is_ascii_digit).collect()
}

/// 0.9.1: `hhmmss` or `hh:mm:ss`.
fn parse_time(text: &str) -> Option<chrono::NaiveTime> {
    let d = digits(text);
    let d = d.get(d.len().checked_sub(6)?..)?;
    chrono::NaiveTime::from_hms_opt(d.get(0..2)?.parse().ok()?, d.get(2..4)?.parse().ok()?, d.get(4..6)?.parse().ok()?)
}

/// 0.9.2: `YYMMDD`, with a leading digit some meters add (`0YYMMDD`), or `YY-MM-DD`.
fn parse_date(text: &str) -> Option<chrono::NaiveDate> {
    let d = digits(text);
    let d = match d.len() {
        6 => d.as_str(),
        7 => d.get(1..)?,
        8 => return chrono::NaiveDate::parse_from_str(&d, "%Y%m%d").ok(),
        _ => return None,
    };
    chrono::NaiveDate::from_ymd_opt(2000 + d.get(0..2)?.parse::<i32>().ok()?, d.get(2..4)?.parse().ok()?, d.get(4..6)?.parse().ok()?)
}

/// DSMR 0-0:1.0.0: `YYMMDDhhmmss` and `S`/`W` (summer, winter time).
fn parse_stamp(text: &str) -> Option<chrono::NaiveDateTime> {
    let t = text.trim().trim_end_matches(['S', 'W']);
    if t.len() != 12 || !t.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    Some(parse_date(t.get(0..6)?)?.and_time(parse_time(t.get(6..12)?)?))
}

#[cfg(test)]
mod tests {
    use super::*;
    use mbus::iec62056::parse_readout;

    fn mapped(text: &str) -> Mapped {
        map(&parse_readout(text.as_bytes()).expect("readout"))
    }

    #[test]
    fn registers_units_serial_and_clock() {
        let m = mapped(concat!(
            "/LGZ5ZMD3104407.B32\r\n",
            "F.F(00000000)\r\n0.0.0(12345678)\r\nC.1.0(87654321)\r\n",
            "1.8.0(0012345.678*kWh)\r\n1.8.1(0008000001*Wh)1.8.2(4.345677*MWh)\r\n1.8.3(1*kWh)\r\n",
            "2.8.0(0000042.100*kWh)\r\n1.7.0(01.234*kW)\r\n2.7.0(0000*W)\r\n1.8.0*01(0011111.000*kWh)\r\n",
            "0.9.1(143005)\r\n0.9.2(1260215)\r\n!\r\n"
        ));
        assert_eq!(m.manufacturer, "LGZ");
        assert_eq!(m.serial.as_deref(), Some("87654321"), "C.1.0 before 0.0.0");
        let get = |r: Register| m.readings.iter().find(|(x, _)| *x == r).map(|(_, v)| *v);
        assert_eq!(get(Register::APlus), Some(12345.678), "the current value, not the billing period's");
        assert_eq!(get(Register::APlusT1), Some(8000.001));
        assert_eq!(get(Register::APlusT2), Some(4345.677));
        assert_eq!(get(Register::AMinus), Some(42.1));
        assert_eq!(get(Register::PPlus), Some(1234.0));
        assert_eq!(get(Register::PMinus), Some(0.0));
        assert_eq!(m.readings.len(), 6);
        assert_eq!(m.meter_time_text.as_deref(), Some("2026-02-15 14:30:05"));
        let unknown: Vec<_> = m.data_sets.iter().filter(|d| d.role.is_none()).map(|d| d.address.as_str()).collect();
        assert_eq!(unknown, ["F.F", "1.8.3", "1.8.0*01"]);
        assert_eq!(m.data_sets[3].obis.as_deref(), Some("1-0:1.8.0"));
    }

    #[test]
    fn a_dsmr_telegram() {
        let m = mapped(concat!(
            "/ISk5\\2MT382-1000\r\n\r\n",
            "1-3:0.2.8(50)\r\n0-0:1.0.0(260215200523W)\r\n0-0:96.1.1(4B384547303034303436333935353037)\r\n",
            "1-0:1.8.1(000671.578*kWh)\r\n1-0:1.8.2(000842.472*kWh)\r\n1-0:2.8.1(000000.000*kWh)\r\n",
            "1-0:1.7.0(00.333*kW)\r\n0-1:96.1.0(3232323241424344313233343536373839)\r\n0-1:24.2.1(101209112500W)(12785.123*m3)\r\n!\r\n"
        ));
        assert_eq!(m.serial.as_deref(), Some("K8EG004046395507"), "the meter's, not the gas meter's on channel 1");
        assert_eq!(m.meter_time_text.as_deref(), Some("2026-02-15 20:05:23"));
        assert_eq!(m.readings, vec![(Register::APlusT1, 671.578), (Register::APlusT2, 842.472), (Register::AMinusT1, 0.0), (Register::PPlus, 333.0)]);
    }

    #[test]
    fn odd_units_and_clocks_are_not_guessed() {
        let m = mapped("/ABC5X\r\n1.8.0(12*V)\r\n1.7.0(5)\r\n0.9.1(99)\r\n0.9.2(261399)\r\n!\r\n");
        assert_eq!(mapped("/ABC5X\r\n0.0.0(44443333)\r\n!\r\n").serial.as_deref(), Some("44443333"), "digits are no hex text");
        assert_eq!(m.readings, vec![(Register::PPlus, 5000.0)], "no unit: kW; a volt is no energy");
        assert_eq!(m.meter_time, None);
        assert_eq!(m.serial, None);
    }
}
