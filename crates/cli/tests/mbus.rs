//! The real `releve mbus` against the slave simulator (`releve_sim::mbus`), over a socat pty
//! pair and over TCP: primary scan with a collision worded, secondary search finding two
//! meters that share a primary address, a multi-telegram read stored as one reading set
//! with every frame raw, a meter stopping mid-answer (nothing stored), an echoing line, and
//! `read-all` from the database reporting the silent and garbage meters by address while
//! the others are read.

#[path = "support/releve.rs"]
mod releve;

use releve::BIN;
use releve_sim::mbus::{Behaviour, Config, MeterConfig};
use std::collections::HashMap;
use std::path::Path;
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// Real wired frames from the libmbus test suite (../shared/vectors), by name.
fn frames() -> HashMap<String, String> {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors/libmbus_vectors.jsonl");
    let text = std::fs::read_to_string(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    text.lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .filter_map(|v| Some((v["name"].as_str()?.to_string(), v["frame_hex"].as_str()?.to_string())))
        .collect()
}

fn meter(primary: u8, id: &str, frames: &[&str]) -> MeterConfig {
    let all = self::frames();
    MeterConfig {
        primary,
        id: Some(id.to_string()),
        frames: frames.iter().map(|n| all.get(*n).unwrap_or_else(|| panic!("no vector {n}")).clone()).collect(),
        ..MeterConfig::default()
    }
}

/// The bus of these tests: a plain meter at 1, a 3-telegram meter at 2, two meters at 3, a
/// silent one at 5, one answering garbage at 6, a fixed-format one at 7, one that stops
/// after its first telegram at 8.
fn bus(baud: u32, echo: bool) -> Config {
    let mut silent = meter(5, "55555555", &["GWF-MTKcoder"]);
    silent.behaviour = Behaviour::Silent;
    let mut garbage = meter(6, "66666666", &["GWF-MTKcoder"]);
    garbage.behaviour = Behaviour::Garbage;
    let mut stops = meter(8, "88888888", &["sontex_supercal_531_telegram1", "svm_f22_telegram1", "EFE_Engelmann-WaterStar"]);
    stops.stop_after = Some(1);
    Config {
        baud,
        echo,
        meters: vec![
            meter(1, "00182007", &["GWF-MTKcoder"]),
            meter(2, "22222222", &["sontex_supercal_531_telegram1", "svm_f22_telegram1", "EFE_Engelmann-WaterStar"]),
            meter(3, "33333331", &["kamstrup_382_005"]),
            meter(3, "33333332", &["nzr_dhz_5_63"]),
            silent,
            garbage,
            meter(7, "12345678", &["manual_frame2"]),
            stops,
        ],
    }
}

struct Socat(Child);

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

/// A pty pair; the simulator serves one end, `releve` gets the other.
fn pty_bus(dir: &Path, config: &Config) -> (Socat, String) {
    let a = dir.join("master").to_string_lossy().into_owned();
    let b = dir.join("bus").to_string_lossy().into_owned();
    let child = Command::new("socat")
        .args(["-d", "-d", &format!("pty,raw,echo=0,link={a}"), &format!("pty,raw,echo=0,link={b}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat is installed (scripts/install-deps)");
    let started = Instant::now();
    while !(Path::new(&a).exists() && Path::new(&b).exists()) {
        assert!(started.elapsed() < Duration::from_secs(5), "socat made no ptys");
        std::thread::sleep(Duration::from_millis(20));
    }
    releve_sim::mbus::start_serial(config, &b).expect("simulator on the pty");
    (Socat(child), a)
}

fn releve(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("RELEVE_PASSWORD").output().expect("run releve")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

/// The JSON lines of a scan.
fn found(o: &Output) -> Vec<serde_json::Value> {
    String::from_utf8_lossy(&o.stdout).lines().map(|l| serde_json::from_str(l).unwrap_or_else(|e| panic!("{l}: {e}"))).collect()
}

fn demo_db(dir: &Path) -> String {
    let db = dir.join("r.db").to_string_lossy().into_owned();
    let o = releve(&["demo", "--db", &db, "--meters", "5"]);
    assert!(o.status.success(), "{}", text(&o));
    db
}

#[test]
fn a_primary_scan_over_tcp_finds_the_slaves_and_words_the_collision() {
    let address = releve_sim::mbus::start_tcp(&bus(38400, false)).expect("simulator").to_string();
    let o = releve(&["mbus", "scan", "--tcp", &address, "--baud", "38400", "--retries", "0"]);
    assert!(o.status.success(), "{}", text(&o));
    let found = found(&o);
    let at: HashMap<u64, &serde_json::Value> = found.iter().map(|f| (f["primary"].as_u64().expect("primary"), f)).collect();
    let mut addresses: Vec<u64> = at.keys().copied().collect();
    addresses.sort_unstable();
    // 5 is silent: not found; every other address of the bus is.
    assert_eq!(addresses, vec![1, 2, 3, 6, 7, 8], "{}", text(&o));
    assert_eq!(at[&1]["id"], "00182007");
    assert_eq!(at[&1]["manufacturer"], "GWF");
    assert_eq!(at[&1]["problem"], serde_json::Value::Null);
    assert_eq!(at[&2]["id"], "22222222");
    assert_eq!(at[&7]["id"], "12345678", "the fixed-format meter: {}", text(&o));
    assert_eq!(at[&3]["problem"], "collision");
    assert_eq!(at[&6]["problem"], "checksum");
    let words = String::from_utf8_lossy(&o.stderr);
    assert!(words.contains("address 3: collision (several answers at once"), "{words}");
}

#[test]
fn a_secondary_search_over_a_pty_finds_every_meter_also_two_at_one_primary_address() {
    let dir = tempfile::tempdir().expect("dir");
    let (_socat, device) = pty_bus(dir.path(), &bus(38400, false));
    let o = releve(&["mbus", "scan", "--serial", &device, "--baud", "38400", "--secondary", "--retries", "0"]);
    assert!(o.status.success(), "{}", text(&o));
    let found = found(&o);
    let ok: HashMap<&str, u64> = found
        .iter()
        .filter(|f| f["problem"].is_null())
        .map(|f| (f["id"].as_str().expect("id"), f["primary"].as_u64().expect("primary")))
        .collect();
    for (id, primary) in [("00182007", 1), ("22222222", 2), ("33333331", 3), ("33333332", 3), ("12345678", 7), ("88888888", 8)] {
        assert_eq!(ok.get(id), Some(&primary), "{id} at {primary}: {}", text(&o));
    }
    assert!(!ok.contains_key("55555555"), "the silent meter answers nothing");
    // The garbage meter answers its selection, then data with a wrong checksum.
    let garbage = found.iter().find(|f| f["mask"].as_str().is_some_and(|m| m.starts_with('6'))).expect("garbage meter reported");
    assert_eq!(garbage["problem"], "checksum");
    let secondary = found.iter().find(|f| f["id"] == "33333332").and_then(|f| f["secondary"].as_str()).expect("secondary");
    assert_eq!(secondary.len(), 16);
}

#[test]
fn a_multi_telegram_read_is_one_reading_set_with_every_frame_raw_and_a_broken_one_stores_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let db = demo_db(dir.path());
    let (_socat, device) = pty_bus(dir.path(), &bus(9600, false));
    let o = releve(&["mbus", "read", "--db", &db, "--serial", &device, "--baud", "9600", "--address", "2"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("3 telegrams, 3 stored"), "{}", text(&o));
    let printed: Vec<Vec<u8>> = String::from_utf8_lossy(&o.stdout)
        .lines()
        .filter_map(|l| l.strip_prefix("  "))
        .map(|h| hex::decode(h).expect("hex"))
        .collect();
    assert_eq!(printed.len(), 3);
    assert_eq!(mbus::master::more_records_follow(&printed[0]), Ok(true));
    assert_eq!(mbus::master::more_records_follow(&printed[2]), Ok(false));

    let conn = rusqlite::Connection::open(&db).expect("db");
    let meter: i64 = conn.query_row("SELECT id FROM meters WHERE serial = '22222222'", [], |r| r.get(0)).expect("meter created");
    let mut st = conn.prepare("SELECT raw FROM telegrams WHERE meter_id = ?1 ORDER BY received_at, id").expect("sql");
    let raws: Vec<Vec<u8>> = st.query_map([meter], |r| r.get(0)).expect("q").collect::<Result<_, _>>().expect("rows");
    assert_eq!(raws.len(), 3, "every telegram kept raw");
    for p in &printed {
        assert!(raws.contains(p), "frame {} kept as read", hex::encode_upper(p));
    }
    let times: Vec<i64> = conn
        .prepare("SELECT DISTINCT ts FROM readings WHERE meter_id = ?1")
        .expect("sql")
        .query_map([meter], |r| r.get(0))
        .expect("q")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(times.len(), 1, "one reading set: one reading time, {times:?}");
    let readings: i64 = conn.query_row("SELECT count(*) FROM readings WHERE meter_id = ?1", [meter], |r| r.get(0)).expect("count");
    assert!(readings >= 2, "{readings} readings");

    // The meter at 8 stops after its first telegram: an error naming the bus and the
    // address, and nothing of its answer stored.
    let o = releve(&["mbus", "read", "--db", &db, "--serial", &device, "--baud", "9600", "--address", "8", "--retries", "0"]);
    assert!(!o.status.success());
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(err.contains(&format!("{device}, address 8: the meter stopped answering")), "{err}");
    assert!(err.contains("(timeout)"), "{err}");
    let stored: i64 = conn.query_row("SELECT count(*) FROM meters WHERE serial = '88888888'", [], |r| r.get(0)).expect("count");
    assert_eq!(stored, 0, "nothing half-stored");

    // The bus switched to 2,400 baud through meter 1's acknowledgement, then read there.
    let o = releve(&["mbus", "set-baud", "--serial", &device, "--baud", "9600", "--address", "1", "--to", "2400"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("address 1: now at 2400 baud"), "{}", text(&o));
    let o = releve(&["mbus", "read", "--db", &db, "--serial", &device, "--baud", "2400", "--address", "1"]);
    assert!(o.status.success(), "{}", text(&o));
}

#[test]
fn an_echoing_line_is_read_with_the_echo_option_and_not_without() {
    let address = releve_sim::mbus::start_tcp(&bus(38400, true)).expect("simulator").to_string();
    let o = releve(&["mbus", "scan", "--tcp", &address, "--baud", "38400", "--echo", "--retries", "0", "--last", "3"]);
    assert!(o.status.success(), "{}", text(&o));
    let ids: Vec<String> = found(&o).iter().filter_map(|f| f["id"].as_str().map(str::to_string)).collect();
    assert_eq!(ids, vec!["00182007", "22222222"], "{}", text(&o));
    // Without the option the master hears its own request before the answer.
    let o = releve(&["mbus", "scan", "--tcp", &address, "--baud", "38400", "--retries", "0", "--first", "1", "--last", "1"]);
    let found = found(&o);
    assert_eq!(found.len(), 1, "{}", text(&o));
    assert_eq!(found[0]["problem"], "collision");
}

#[test]
fn read_all_reads_every_configured_bus_and_reports_the_silent_and_garbage_meters_by_address() {
    let dir = tempfile::tempdir().expect("dir");
    let db = demo_db(dir.path());
    let address = releve_sim::mbus::start_tcp(&bus(19200, false)).expect("simulator").to_string();
    {
        use releve_core::mbus_master::buses::{self, BusInput, FoundInput};
        let store = releve_core::Store::open(Path::new(&db)).expect("store");
        let session = releve_core::access::login(&store, "manager", "manager", "test", "local", 1_800_000_000).expect("login");
        let input = BusInput {
            id: 0,
            name: "Chaufferie".into(),
            transport: "tcp".into(),
            target: address.clone(),
            baud: 19200,
            latency_ms: 0,
            echo: false,
            schedule: "daily".into(),
            enabled: true,
        };
        let saved = buses::save(&store, &session, &input, 1_800_000_000).expect("bus");
        let at = |a: &str| FoundInput { address: a.into(), id: None, manufacturer: None, version: None, medium: None };
        let found = [at("1"), at("2"), at("5"), at("6"), at("33333332FFFFFFFF"), at("7")];
        buses::add_found(&store, &session, saved.id, &found, 1_800_000_000).expect("meters");
    }
    let o = releve(&["mbus", "read-all", "--db", &db]);
    assert!(!o.status.success(), "two meters failed: {}", text(&o));
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("Chaufferie 1: 1 telegrams"), "{out}");
    assert!(out.contains("Chaufferie 2: 3 telegrams"), "{out}");
    assert!(out.contains("Chaufferie 33333332FFFFFFFF: 1 telegrams"), "{out}");
    assert!(out.contains("Chaufferie 5: FAILED Chaufferie, address 5: no answer"), "{out}");
    assert!(out.contains("Chaufferie 6: FAILED Chaufferie, address 6: checksum error"), "{out}");
    assert!(out.contains("Chaufferie 7: 1 telegrams"), "the fixed-format meter: {out}");
    assert!(out.contains("4 meters read, 2 failed"), "{out}");
    // Each meter's last answer is kept: frames for the good ones, the error for the others.
    let conn = rusqlite::Connection::open(&db).expect("db");
    let rows: Vec<(String, String, Option<String>)> = conn
        .prepare("SELECT address, frames, error_code FROM mbus_bus_meters ORDER BY id")
        .expect("sql")
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("q")
        .collect::<Result<_, _>>()
        .expect("rows");
    assert_eq!(rows[1].1.lines().count(), 3, "three frames of meter 2");
    assert_eq!(rows[2].2.as_deref(), Some("no_answer"));
    assert_eq!(rows[3].2.as_deref(), Some("checksum"));
    // The fixed-format (CI 73) answer is kept raw under its meter, with its two counters.
    let fixed: i64 = conn
        .query_row("SELECT count(*) FROM telegrams t JOIN meters m ON m.id = t.meter_id WHERE m.serial = '12345678'", [], |r| r.get(0))
        .expect("fixed");
    assert_eq!(fixed, 1);
    let audit: i64 = conn.query_row("SELECT count(*) FROM audit_log WHERE event IN ('mbus_bus_save', 'mbus_add_found')", [], |r| r.get(0)).expect("audit");
    assert_eq!(audit, 2);
}

/// The demo bus `scripts/run-demo` starts (`releve-sim mbus --demo`): seven meters found at
/// their addresses, the silent one not, and the two-telegram heat meter read as one set.
#[test]
fn the_demo_bus_is_found_and_its_heat_meter_read_in_two_telegrams() {
    let mut config = releve_sim::mbus::demo_config().expect("demo bus");
    config.baud = 38400;
    let address = releve_sim::mbus::start_tcp(&config).expect("simulator").to_string();
    let o = releve(&["mbus", "scan", "--tcp", &address, "--baud", "38400", "--retries", "0", "--last", "30"]);
    assert!(o.status.success(), "{}", text(&o));
    let mut ids: Vec<String> = found(&o).iter().filter_map(|f| f["id"].as_str().map(str::to_string)).collect();
    ids.sort();
    assert_eq!(ids, ["61010001", "61010002", "61010003", "61010004", "72020010", "72020011", "83030020"], "{}", text(&o));

    let dir = tempfile::tempdir().expect("dir");
    let db = demo_db(dir.path());
    let o = releve(&["mbus", "read", "--db", &db, "--tcp", &address, "--baud", "38400", "--address", "10"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("2 telegrams, 2 stored"), "{}", text(&o));
    let conn = rusqlite::Connection::open(&db).expect("db");
    let meter: i64 = conn.query_row("SELECT id FROM meters WHERE serial = '72020010'", [], |r| r.get(0)).expect("meter created");
    let mut st = conn.prepare("SELECT register, value FROM readings WHERE meter_id = ?1 ORDER BY register").expect("sql");
    let values: Vec<(i64, f64)> = st.query_map([meter], |r| Ok((r.get(0)?, r.get(1)?))).expect("q").collect::<Result<_, _>>().expect("rows");
    // volume 512.771 m3, energy 18,432 kWh, flow 65.2 C, return 48.1 C (register codes 1, 2, 9, 10).
    assert_eq!(values, vec![(1, 512.771), (2, 18_432.0), (9, 65.2), (10, 48.1)], "{values:?}");
}
