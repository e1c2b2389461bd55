//! Decoding throughput, on one core, in one run:
//! - ours (`mbus::decode`: link layer with its CRC checks, ELL/transport layers, decryption,
//!   typed records in canonical units, info codes) on plaintext OMS, OMS mode 5, Kamstrup
//!   plaintext and ELL AES-CTR telegrams;
//! - the `m-bus-parser` crate 0.5.3 (dev-dependency with features std + decryption, used only
//!   here) on the same telegrams: its full decode (`decode_bytes`: its output model, decrypting
//!   mode 5 with the key), its lazy low-level parse (`MbusData::try_from`, then its record
//!   iterator walked: every record's value and value information) and its header parse alone
//!   (records not read). It does not read the Kamstrup ELL-I frame (CI 8C);
//! - one telegram per wmbusmeters driver and manufacturer family, read from ../shared/vectors at
//!   bench time (the first of the driver's vectors that decodes to records, per family of ours
//!   that reads them: `[standard]` when no family does), next to the plaintext OMS rate, with
//!   the ratio; drivers not decoded print "not decoded".
//!
//! Plain timing loops (no external harness). Rates are per second of this thread's CPU time
//! (from /proc/thread-self/schedstat), so other processes sharing the machine do not lower them;
//! each is the median of 5 rounds. `MBUS_BENCH_ONLY=text` runs only the cases naming `text`.

use std::hint::black_box;
use std::time::{Duration, Instant};

use m_bus_parser::mbus_data::MbusData;
use m_bus_parser::{decode_bytes, DecodeOptions, WirelessFrame};
use mbus::{decode, decode_with_formats, AesKey, FormatCache, Telegram};

fn hex(s: &str) -> Vec<u8> {
    hex::decode(s).unwrap_or_default()
}

/// Nanoseconds this thread has run on a CPU (Linux), to report per-core rates that do not depend
/// on other processes sharing the machine; `None` elsewhere.
fn cpu_ns() -> Option<u64> {
    let s = std::fs::read_to_string("/proc/thread-self/schedstat").ok()?;
    s.split_whitespace().next()?.parse().ok()
}

/// Runs `f` in batches of 1000 for `budget` of wall time, in 5 rounds; returns the median
/// round's (per CPU second, per wall second). The median damps the noise of a shared machine
/// (another process's work evicting our caches during one round).
fn measure(budget: Duration, mut f: impl FnMut()) -> (f64, f64) {
    // Warm up caches and branch predictors.
    for _ in 0..1000 {
        f();
    }
    let mut rounds: Vec<(f64, f64)> = (0..5)
        .map(|_| {
            let mut n: u64 = 0;
            let cpu0 = cpu_ns();
            let start = Instant::now();
            while start.elapsed() < budget / 5 {
                for _ in 0..1000 {
                    f();
                }
                n += 1000;
            }
            let secs = start.elapsed().as_secs_f64();
            let cpu = cpu_ns()
                .zip(cpu0)
                .map(|(b, a)| b.saturating_sub(a) as f64 / 1e9)
                .filter(|c| *c > 0.0)
                .unwrap_or(secs);
            (n as f64 / cpu, n as f64 / secs)
        })
        .collect();
    rounds.sort_by(|a, b| a.0.total_cmp(&b.0));
    rounds[2]
}

/// `MBUS_BENCH_ONLY=text` runs only the cases whose name contains it (for profiling one case).
fn wanted(name: &str) -> bool {
    std::env::var("MBUS_BENCH_ONLY").map_or(true, |f| name.contains(&f))
}

fn print(name: &str, (cpu, wall): (f64, f64), what: &str) {
    println!(
        "{name:<60} {cpu:>10.0} telegrams/s/core on CPU time ({:.3} us each; {wall:.0}/s wall clock){what}",
        1e6 / cpu
    );
}

const BUDGET: Duration = Duration::from_millis(1500);

/// Our `decode`: the telegram must decode to records.
fn ours(name: &str, frame: &[u8], key: Option<&AesKey>) -> f64 {
    let n = decode(frame, key).map(|t| t.records.len()).unwrap_or(0);
    assert!(n > 0, "{name}: the bench telegram must decode");
    if !wanted(name) {
        return 1.0;
    }
    let r = measure(BUDGET, || {
        let t = decode(black_box(frame), black_box(key));
        black_box(&t);
    });
    print(name, r, &format!("; {n} typed records"));
    r.0
}

/// m-bus-parser's lazy low-level parse: frame and transport header (`MbusData::try_from`), then
/// its lazy record iterator walked to the end: every record parsed with its value and value
/// information (units and labels walked), as its own full-decode bench does. No decryption.
fn theirs_lazy(frame: &[u8]) -> usize {
    let Ok(parsed) = MbusData::<WirelessFrame>::try_from(frame) else {
        return 0;
    };
    let mut n = 0;
    if let Some(records) = parsed.data_records {
        for record in records.flatten() {
            if let Some(info) = record.value_information() {
                for label in info.labels() {
                    black_box(label);
                }
                for unit in info.units() {
                    black_box(unit);
                }
                black_box((info.decimal_scale_exponent, info.decimal_offset_exponent));
            }
            black_box(record.value());
            black_box(&record);
            n += 1;
        }
    }
    black_box(&parsed.user_data);
    n
}

/// m-bus-parser's header parse alone: frame and transport header; the records are not read.
fn theirs_header(frame: &[u8]) -> bool {
    match MbusData::<WirelessFrame>::try_from(frame) {
        Ok(parsed) => {
            let ok = parsed.user_data.is_some();
            black_box(parsed);
            ok
        }
        Err(e) => {
            black_box(e);
            false
        }
    }
}

/// m-bus-parser's full decode (`decode_bytes`, feature `std` + `decryption`): its output model
/// with every record's value, unit and quantity names, decrypting with the key when given;
/// enrichment (names looked up for display) off, as ours has none.
fn theirs_full(frame: &[u8], key: Option<&[u8; 16]>) -> usize {
    let options = DecodeOptions {
        key: key.copied(),
        include_enrichment: false,
    };
    match decode_bytes(frame, &options) {
        Ok(out) => {
            let n = out.records.len();
            black_box(out);
            n
        }
        Err(e) => {
            black_box(e);
            0
        }
    }
}

/// m-bus-parser's rates on one telegram (per CPU second): full decode, lazy parse, header only
/// (the last two only without a key, as they do not decrypt).
#[derive(Default)]
struct Theirs {
    full: Option<f64>,
    lazy: Option<f64>,
    header: Option<f64>,
}

fn theirs(name: &str, frame: &[u8], key: Option<&[u8; 16]>) -> Theirs {
    let mut out = Theirs::default();
    if !wanted(&format!("m-bus-parser {name}")) {
        return out;
    }
    let n = theirs_full(frame, key);
    if n == 0 {
        println!(
            "{:<60} no records",
            format!("m-bus-parser full decode, {name}")
        );
    } else {
        let r = measure(BUDGET, || {
            black_box(theirs_full(black_box(frame), key));
        });
        print(
            &format!("m-bus-parser full decode, {name}"),
            r,
            &format!("; {n} records"),
        );
        out.full = Some(r.0);
    }
    if key.is_some() {
        return out;
    }
    let n = theirs_lazy(frame);
    if n == 0 {
        println!(
            "{:<60} no records",
            format!("m-bus-parser lazy parse, {name}")
        );
        return out;
    }
    let r = measure(BUDGET, || {
        black_box(theirs_lazy(black_box(frame)));
    });
    print(
        &format!("m-bus-parser lazy parse, {name}"),
        r,
        &format!("; {n} records"),
    );
    out.lazy = Some(r.0);
    let r = measure(BUDGET, || {
        black_box(theirs_header(black_box(frame)));
    });
    print(
        &format!("m-bus-parser header only, {name}"),
        r,
        "; records not read",
    );
    out.header = Some(r.0);
    out
}

/// The wmbusmeters drivers whose rate is printed: the standard OMS ones used as references,
/// then every driver read by one of our manufacturer families (`mbus::family_names`). A driver
/// whose vectors go to more than one family (or to a family and the standard path) gets one
/// line per family.
const FAMILIES: &[&str] = &[
    "hydrodigit",
    "waterstarm",
    "apator08",
    "apator162",
    "apator172",
    "apatoreitn",
    "apatorna1",
    "bfw240radio",
    "rfmtx1",
    "hydrus",
    "izar",
    "izarv2",
    "sharky",
    "engelmann-faw",
    "qcaloric",
    "qheatv2",
    "qwater",
    "qwaterv2",
    "compact5",
    "fhkvdataiii",
    "mkradio3",
    "mkradio3a",
    "mkradio4",
    "vario451",
    "zenner0b",
];

struct Vector {
    name: String,
    /// The manufacturer family that reads it ("standard" when none), from `explain`'s steps.
    family: String,
    frame: Vec<u8>,
    key: Option<AesKey>,
    formats: FormatCache,
}

fn decode_vector(v: &Vector) -> Option<Telegram> {
    decode_with_formats(&v.frame, v.key.as_ref(), &v.formats)
        .ok()
        .filter(|t| !t.records.is_empty())
}

/// The driver's vectors from the shared wmbusmeters file; the first that decodes to records
/// is benched (or the first one, which then shows as not decoded).
fn vectors(rows: &[serde_json::Value], driver: &str) -> Vec<Vector> {
    rows.iter()
        .filter(|r| r["driver"].as_str() == Some(driver))
        .filter_map(|r| {
            let frame = hex::decode(r["telegram"].as_str()?.trim()).ok()?;
            let key = r["key"]
                .as_str()
                .or(r["implicit_default_key"].as_str())
                .and_then(|k| AesKey::from_hex(k).ok());
            let mut formats = FormatCache::new();
            for p in r["preceding_telegrams"].as_array().into_iter().flatten() {
                if let Some(full) = p.as_str().and_then(|s| hex::decode(s.trim()).ok()) {
                    formats.learn(&full, key.as_ref());
                }
            }
            let name = format!("{driver}/{}", r["name"].as_str().unwrap_or("?"));
            let family = mbus::explain(&frame, key.as_ref(), Some(&formats))
                .steps
                .iter()
                .filter(|s| s.layer == "vendor")
                .find_map(|s| {
                    let d = s.detail.strip_prefix("driver ")?;
                    Some(d.split([':', ' ']).next()?.to_string())
                })
                .unwrap_or_else(|| "standard".to_string());
            Some(Vector {
                name,
                family,
                frame,
                key,
                formats,
            })
        })
        .collect()
}

fn families(plain_oms: f64, plain_records: usize) {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../../shared/vectors/wmbusmeters_vectors.jsonl"
    );
    let Ok(text) = std::fs::read_to_string(path) else {
        println!("per-family rates: {path} not found, skipped");
        return;
    };
    let rows: Vec<serde_json::Value> = text
        .lines()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect();
    println!("\nPer wmbusmeters driver family, one vector each (ratio to plaintext OMS at {plain_oms:.0}/s, {plain_records} records; per record: records/s against its records/s):");
    let mut worst: Option<(f64, String)> = None;
    for driver in FAMILIES {
        if !wanted(driver) {
            continue;
        }
        let vs = vectors(&rows, driver);
        let decoded: Vec<&Vector> = vs.iter().filter(|v| decode_vector(v).is_some()).collect();
        if decoded.is_empty() {
            let name = vs
                .first()
                .map_or(format!("{driver} (no vector)"), |v| v.name.clone());
            println!("  {name:<40} not decoded");
            continue;
        }
        // The first decoded vector of each family this driver's vectors go to.
        let mut families_seen: Vec<&str> = Vec::new();
        for v in decoded {
            if families_seen.contains(&v.family.as_str()) {
                continue;
            }
            families_seen.push(&v.family);
            let n = decode_vector(v).map_or(0, |t| t.records.len());
            let (cpu, _) = measure(Duration::from_millis(500), || {
                let t =
                    decode_with_formats(black_box(&v.frame), black_box(v.key.as_ref()), &v.formats);
                black_box(&t);
            });
            let ratio = cpu / plain_oms;
            // Records per second against the plaintext OMS telegram's: what a telegram with
            // more records costs per record (1.0 = the same cost per record).
            let per_record = (cpu * n as f64) / (plain_oms * plain_records.max(1) as f64);
            let label = format!("{} [{}]", v.name, v.family);
            println!(
                "  {label:<56} {cpu:>10.0} telegrams/s/core ({:.3} us; {n} records; {} bytes)  x{ratio:.2}, per record x{per_record:.2}{}",
                1e6 / cpu,
                v.frame.len(),
                if ratio < 0.5 { "  < half" } else { "" }
            );
            if worst.as_ref().is_none_or(|(w, _)| ratio < *w) {
                worst = Some((ratio, label));
            }
        }
    }
    if let Some((w, name)) = worst {
        println!("  slowest decoded family: {name} at x{w:.2} of plaintext OMS");
    }
}

fn main() {
    // DWZ WaterStar M (OMS mode 5), from the public wmbusmeters test suite, with its key.
    let mode5 = hex("3944FA122162092002067A3600202567C94D48D00DC47B11213E23383DB51968A705AAFA60C60E263D50CD259D7C9A03FD0C08000002FD0B0011");
    let k5 = AesKey::from_hex("BEDB81B52C29B5C143388CBB0D15A051").ok();
    // The same telegram in plaintext: the decrypted payload, configuration field 0000 (no
    // security), so both decoders read the same link layer, CI 7A header and 6 records.
    let oms_plain = hex("3944FA122162092002067A360000002F2F046D282A9E2704136A00000002FD17000004933C000000002F2F2F2F2F2F03FD0C08000002FD0B0011");
    // Kamstrup MULTICAL 21 (ELL-II AES-128-CTR).
    let ell = hex(
        "2A442D2C998734761B168D2091D37CAC21E1D68CDAFFCD3DC452BD802913FF7B1706CA9E355D6C2701CC24",
    );
    let kell = AesKey::from_hex("28F64A24988064A079AA2C807D6102AE").ok();
    // The same MULTICAL 21 payload in plaintext (CI 78 behind an unencrypted ELL-I).
    let kam_plain =
        hex("24442D2C998734761B168C2091782F2F02FF2000000413B41800004413B4180000615B7F616713");
    println!("Ours: mbus::decode = link layer, ELL/TPL headers, decryption, typed records (canonical units), info codes");
    let plain_oms = ours("ours, plaintext OMS water (DWZ, CI 7A)", &oms_plain, None);
    let mode5_rate = ours(
        "ours, OMS mode 5 water (DWZ, CI 7A, AES-CBC)",
        &mode5,
        k5.as_ref(),
    );
    ours(
        "ours, plaintext water (Kamstrup, ELL-I, CI 78)",
        &kam_plain,
        None,
    );
    ours(
        "ours, ELL AES-CTR water (Kamstrup MULTICAL 21)",
        &ell,
        kell.as_ref(),
    );
    println!("\nm-bus-parser 0.5.3: full decode = decode_bytes (output model, decrypts with the key); lazy parse = frame + header + its record iterator walked (values, VIB); header only = frame + header");
    let key5 = k5.as_ref().map(|k| *k.as_bytes());
    let t_plain = theirs("plaintext OMS water (DWZ, CI 7A)", &oms_plain, None);
    let t_mode5 = theirs(
        "OMS mode 5 water (DWZ, CI 7A, AES-CBC)",
        &mode5,
        key5.as_ref(),
    );
    theirs("plaintext water (Kamstrup, ELL-I, CI 78)", &kam_plain, None);
    println!("\nSame run, the DWZ telegram (6 records):");
    let vs = |what: &str, ours: f64, theirs: Option<f64>| {
        if let Some(t) = theirs.filter(|_| ours > 1.0) {
            println!("  {what:<74} x{:.2}", ours / t);
        }
    };
    vs(
        "ours plaintext / m-bus-parser full decode, plaintext",
        plain_oms,
        t_plain.full,
    );
    vs(
        "ours plaintext / m-bus-parser lazy parse, plaintext",
        plain_oms,
        t_plain.lazy,
    );
    vs(
        "ours plaintext / m-bus-parser header only (records not read)",
        plain_oms,
        t_plain.header,
    );
    vs(
        "ours mode 5 (decrypt + records) / m-bus-parser full decode, mode 5",
        mode5_rate,
        t_mode5.full,
    );
    vs(
        "ours mode 5 (decrypt + records) / m-bus-parser lazy parse, plaintext",
        mode5_rate,
        t_plain.lazy,
    );
    vs(
        "ours mode 5 (decrypt + records) / m-bus-parser header only, plaintext",
        mode5_rate,
        t_plain.header,
    );
    let plain_records = decode(&oms_plain, None).map_or(0, |t| t.records.len());
    families(plain_oms, plain_records);
}
