//! `releve optical read` against the simulated meter (`releve_sim::optical`) behind a socat
//! pty pair and behind TCP, and `releve import` of handheld capture files: the baud-rate
//! switch really happens on the reader's line, readings land once, bad meters and bad
//! readouts are clear errors that store nothing.

#[path = "support/releve.rs"]
mod releve;

use releve::BIN;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Output, Stdio};
use std::time::{Duration, Instant};

/// A socat pty pair: `reader` for `releve`, `meter` for the simulator; killed on drop.
struct PtyPair {
    child: Child,
    reader: PathBuf,
    meter: PathBuf,
}

impl Drop for PtyPair {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

fn pty_pair(dir: &Path) -> PtyPair {
    let (reader, meter) = (dir.join("reader"), dir.join("meter"));
    let child = Command::new("socat")
        .args([format!("pty,raw,echo=0,link={}", reader.display()), format!("pty,raw,echo=0,link={}", meter.display())])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat (scripts/install-deps)");
    let deadline = Instant::now() + Duration::from_secs(10);
    while !(reader.exists() && meter.exists()) {
        assert!(Instant::now() < deadline, "socat made no pty pair");
        std::thread::sleep(Duration::from_millis(20));
    }
    PtyPair { child, reader, meter }
}

/// A database with the demo accounts and a few meters.
fn database(dir: &Path) -> String {
    let db = dir.join("optical.db").to_string_lossy().into_owned();
    let o = Command::new(BIN).args(["demo", "--db", &db, "--meters", "3", "--now", "2026-11-20"]).output().expect("demo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    db
}

fn releve(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env("RELEVE_PASSWORD", "manager").output().expect("run releve")
}

fn read_json(args: &[&str]) -> serde_json::Value {
    let mut all = vec!["optical", "read", "--json"];
    all.extend_from_slice(args);
    let o = releve(&all);
    assert!(o.status.success(), "releve {all:?}: {}", String::from_utf8_lossy(&o.stderr));
    serde_json::from_slice(&o.stdout).expect("json report")
}

/// The failure of a read that must fail: (code, message).
fn read_error(args: &[&str]) -> String {
    let mut all = vec!["optical", "read"];
    all.extend_from_slice(args);
    let o = releve(&all);
    assert!(!o.status.success(), "releve {all:?} should fail: {}", String::from_utf8_lossy(&o.stdout));
    String::from_utf8_lossy(&o.stderr).into_owned()
}

fn sim(list: &[&str]) -> releve_sim::optical::Running {
    releve_sim::optical::spawn(releve_sim::optical::args(list).expect("sim args")).expect("simulator")
}

fn count(db: &str, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row(sql, [], |r| r.get(0)).expect(sql)
}

fn register(report: &serde_json::Value, id: &str) -> Option<f64> {
    report["registers"].as_array()?.iter().find(|r| r["register"] == id)?["value"].as_f64()
}

#[test]
fn mode_c_on_a_pty_switches_300_to_9600_and_stores_the_readout_once() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database(dir.path());
    let pair = pty_pair(dir.path());
    let meter = pair.meter.to_string_lossy().into_owned();
    let reader = pair.reader.to_string_lossy().into_owned();
    let running = sim(&["--pty", &meter, "--peer", &reader, "--clock", "2026-11-19 14:30:05"]);

    let r = read_json(&["--db", &db, "--serial", &reader, "--meter", "87654321"]);
    assert_eq!((r["mode"].as_str(), r["baud"].as_u64(), r["switched"].as_bool()), (Some("C"), Some(9600), Some(true)));
    assert_eq!(r["serial"], "87654321");
    assert_eq!(r["manufacturer"], "LGZ");
    assert_eq!(r["meter_time"], "2026-11-19 14:30:05");
    assert_eq!(register(&r, "a_plus"), Some(12345.678));
    assert_eq!(register(&r, "a_plus_t1"), Some(7716.049));
    assert_eq!(register(&r, "a_minus"), Some(42.1));
    assert_eq!(register(&r, "p_plus"), Some(1234.0), "kW -> W");
    assert_eq!(register(&r, "p_minus"), Some(0.0));
    assert!(r["unknown"].as_u64() >= Some(10), "voltages, currents, F.F, history kept: {}", r["unknown"]);
    let listed: Vec<&str> = r["data_sets"].as_array().expect("sets").iter().filter_map(|d| d["address"].as_str()).collect();
    assert!(listed.contains(&"32.7") && listed.contains(&"F.F") && listed.contains(&"1.8.0*01"), "{listed:?}");
    assert_eq!(r["import"]["readings"], 6);
    assert_eq!(r["import"]["new_meters"], 1);

    // The simulator saw the reader's line at 300 baud for the identification, at 9600 for the data.
    let log = running.log.lock().expect("log").clone();
    assert!(log.iter().any(|l| l.contains("at 300 baud, reader at 300")), "{log:?}");
    assert!(log.iter().any(|l| l.contains("at 9600 baud, reader at 9600")), "{log:?}");

    // Stored: an electricity meter of LGZ, the readout raw as its telegram, the readings.
    assert_eq!(count(&db, "SELECT count(*) FROM meters WHERE serial = '87654321' AND manufacturer = 'LGZ' AND device_type = 'electricity'"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM telegrams t JOIN meters m ON m.id = t.meter_id WHERE m.serial = '87654321' AND substr(t.raw, 1, 5) = CAST('/LGZ5' AS BLOB)"), 1);
    let conn = rusqlite::Connection::open(&db).expect("open");
    let regs: String = conn
        .query_row("SELECT group_concat(register) FROM (SELECT r.register FROM readings r JOIN meters m ON m.id = r.meter_id WHERE m.serial = '87654321' ORDER BY r.register)", [], |row| row.get(0))
        .expect("registers");
    assert_eq!(regs, "3,4,5,6,15,16", "a_plus, a_minus, p_plus, p_minus, a_plus_t1, a_plus_t2");

    // A second readout: the same meter (matched by serial), a new telegram, A+ grown by 0.125.
    let r = read_json(&["--db", &db, "--serial", &reader]);
    assert_eq!(register(&r, "a_plus"), Some(12345.803));
    assert_eq!(r["import"]["new_meters"], 0);
    assert_eq!(count(&db, "SELECT count(*) FROM meters WHERE serial = '87654321'"), 1);
    assert_eq!(count(&db, "SELECT count(*) FROM telegrams t JOIN meters m ON m.id = t.meter_id WHERE m.serial = '87654321'"), 2);
    // The human-readable report says what was read.
    let o = releve(&["optical", "read", "--db", &db, "--serial", &reader]);
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(text.contains("LGZ meter 87654321") && text.contains("9600 baud (line switched)") && text.contains("unknown      32.7(230*V)"), "{text}");
}

#[test]
fn over_tcp_the_line_stays_and_modes_a_and_b_are_read_only() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database(dir.path());
    let running = sim(&["--listen", "127.0.0.1:0", "--serial", "11112222", "--flag", "ISk", "--ident", "\\2MT382-1000"]);
    let address = running.address.expect("address").to_string();
    let r = read_json(&["--db", &db, "--tcp", &address]);
    assert_eq!((r["baud"].as_u64(), r["switched"].as_bool(), r["manufacturer"].as_str()), (Some(9600), Some(false), Some("ISK")));
    assert_eq!(r["serial"], "11112222");

    // Mode B on a pty: no acknowledgement, the reader switches to 4800 by itself.
    let pair = pty_pair(dir.path());
    let (meter, reader) = (pair.meter.to_string_lossy().into_owned(), pair.reader.to_string_lossy().into_owned());
    let running = sim(&["--pty", &meter, "--peer", &reader, "--mode", "b", "--baud", "4800", "--serial", "33334444"]);
    let r = read_json(&["--db", &db, "--serial", &reader]);
    assert_eq!((r["mode"].as_str(), r["baud"].as_u64(), r["switched"].as_bool()), (Some("B"), Some(4800), Some(true)));
    let log = running.log.lock().expect("log").clone();
    assert!(log.iter().any(|l| l.contains("at 4800 baud, reader at 4800")), "{log:?}");

    // A meter answering only its device address: the sign-on names it.
    let running = sim(&["--listen", "127.0.0.1:0", "--no-pace", "--address", "4711", "--serial", "47114711"]);
    let r = read_json(&["--db", &db, "--tcp", &running.address.expect("address").to_string(), "--address", "4711"]);
    assert_eq!(r["serial"], "47114711");

    // A head that echoes the sign-on and the acknowledgement.
    let running = sim(&["--listen", "127.0.0.1:0", "--no-pace", "--echo", "--serial", "36363636"]);
    let r = read_json(&["--db", &db, "--tcp", &running.address.expect("address").to_string()]);
    assert_eq!((r["serial"].as_str(), r["attempts"].as_u64()), (Some("36363636"), Some(1)));

    // Mode A: 300 baud throughout.
    let running = sim(&["--listen", "127.0.0.1:0", "--mode", "a", "--no-pace", "--serial", "55556666"]);
    let r = read_json(&["--db", &db, "--tcp", &running.address.expect("address").to_string()]);
    assert_eq!((r["mode"].as_str(), r["baud"].as_u64(), r["switched"].as_bool()), (Some("A"), Some(300), Some(false)));
    assert_eq!(count(&db, "SELECT count(*) FROM meters WHERE serial IN ('11112222', '33334444', '55556666') AND device_type = 'electricity'"), 3);
}

#[test]
fn bad_meters_are_clear_errors_naming_the_line_and_store_nothing() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database(dir.path());
    let telegrams = || count(&db, "SELECT count(*) FROM telegrams");
    let before = telegrams();
    let tcp = |list: &[&str]| {
        let mut all = vec!["--listen", "127.0.0.1:0", "--no-pace"];
        all.extend_from_slice(list);
        sim(&all).address.expect("address").to_string()
    };

    let a = tcp(&["--wrong-bcc"]);
    let e = read_error(&["--db", &db, "--tcp", &a]);
    assert!(e.contains("(optical_wrong_bcc)") && e.contains(&format!("tcp {a}")) && e.contains("wrong BCC"), "{e}");

    let a = tcp(&["--unknown-baud"]);
    let e = read_error(&["--db", &db, "--tcp", &a]);
    assert!(e.contains("(optical_unknown_baud)") && e.contains("'9'"), "{e}");

    let a = tcp(&["--stop-mid-block"]);
    let e = read_error(&["--db", &db, "--tcp", &a]);
    assert!(e.contains("(optical_truncated)") && e.contains("stops after"), "{e}");

    let a = tcp(&["--serial", "99990000"]);
    let e = read_error(&["--db", &db, "--tcp", &a, "--meter", "12121212"]);
    assert!(e.contains("(optical_wrong_meter)") && e.contains("99990000") && e.contains("12121212"), "{e}");
    assert_eq!(telegrams(), before, "nothing stored");

    // A battery meter hears nothing without its wake-up, and answers after it.
    let a = tcp(&["--wake", "--serial", "77778888"]);
    let e = read_error(&["--db", &db, "--tcp", &a]);
    assert!(e.contains("(optical_no_answer)"), "{e}");
    assert_eq!(telegrams(), before, "nothing stored");
    let r = read_json(&["--db", &db, "--tcp", &a, "--wake"]);
    assert_eq!(r["serial"], "77778888");

    // A wrong BCC once: the second attempt is read.
    let a = tcp(&["--wrong-bcc-once", "--serial", "44443333"]);
    let r = read_json(&["--db", &db, "--tcp", &a]);
    assert_eq!((r["attempts"].as_u64(), r["serial"].as_str()), (Some(2), Some("44443333")));
    assert_eq!(telegrams(), before + 2);
}

/// A data message as a meter sends it.
fn message(ident: &str, lines: &[&str]) -> Vec<u8> {
    mbus::iec62056::readout_bytes(ident, lines)
}

#[test]
fn a_capture_file_with_a_broken_readout_imports_the_others_once() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database(dir.path());
    let mut file = b"# PSION handheld, round 12\r\n/?!\r\n".to_vec(); // lines 1-2
    // Line 3: a good Landis+Gyr readout (lines 3-9 and ETX BCC on 10).
    file.extend(message("/LGZ5ZMD3104407.B32", &["C.1.0(10000001)", "1.8.0(0000100.500*kWh)", "2.8.0(0000001.250*kWh)", "0.9.1(101500)", "0.9.2(261115)"]));
    file.extend_from_slice(b"\r\n");
    // Line 11: a wrong BCC.
    let mut bad = message("/LGZ5ZMD3104407.B32", &["C.1.0(10000002)", "1.8.0(0000200.500*kWh)"]);
    let last = bad.len() - 1;
    bad[last] ^= 0x10;
    file.extend(bad);
    file.extend_from_slice(b"\r\n");
    // Line 16: a good Iskra readout with medium and channel, several data sets a line.
    file.extend(message("/ISk5\\2MT382-1000", &["1-0:0.0.0(20000003)", "1-0:1.8.1(000300.000*kWh)1-0:1.8.2(000050.000*kWh)", "1-0:1.7.0(0.420*kW)"]));
    file.extend_from_slice(b"\r\n");
    // Line 22: a broken data set on line 24.
    file.extend(message("/LGZ5ZMD", &["C.1.0(10000004)", "1.8.0(0000400.500*kWh"]));
    file.extend_from_slice(b"\r\n");
    // Line 28: a DSMR telegram (no STX, CRC after `!`): the heat one of ndokter/dsmr_parser.
    file.extend_from_slice(b"/NWA-WARMTELINK\r\n\r\n1-3:0.2.8(50)\r\n0-0:1.0.0(260215200523W)\r\n0-0:96.1.1(ADC3100000158491)\r\n0-0:96.13.1()\r\n0-0:96.13.0()\r\n0-1:24.1.0(004)\r\n0-1:96.1.0(621848012D2C0B0C)\r\n0-1:24.2.1(260215200523W)(240.860*GJ)\r\n!B9F\r\n");
    let path = dir.path().join("round12.txt");
    std::fs::write(&path, &file).expect("write");
    let name = path.to_string_lossy().into_owned();

    let o = releve(&["import", "--db", &db, &name]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(o.status.success(), "{out}{}", String::from_utf8_lossy(&o.stderr));
    assert!(out.contains(&format!("{name}, line 11: readout starting at line 11: wrong BCC")), "{out}");
    assert!(out.contains(&format!("{name}, line 24: readout starting at line 22: unreadable data set '1.8.0(0000400.500*kWh'")), "{out}");
    assert!(out.contains("3 telegrams stored"), "{out}");
    assert_eq!(count(&db, "SELECT count(*) FROM meters WHERE serial IN ('10000001', '20000003', 'ADC3100000158491')"), 3);
    assert_eq!(count(&db, "SELECT count(*) FROM meters WHERE serial IN ('10000002', '10000004')"), 0, "nothing of a broken readout");
    let value = |serial: &str, register: i64| -> f64 {
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.query_row(
            "SELECT r.value FROM readings r JOIN meters m ON m.id = r.meter_id WHERE m.serial = ?1 AND r.register = ?2",
            rusqlite::params![serial, register],
            |row| row.get(0),
        )
        .expect("reading")
    };
    assert_eq!(value("10000001", 3), 100.5);
    assert_eq!(value("10000001", 4), 1.25);
    assert_eq!(value("20000003", 15), 300.0, "a_plus_t1");
    assert_eq!(value("20000003", 16), 50.0, "a_plus_t2");
    assert_eq!(value("20000003", 5), 420.0, "p_plus in W");
    let readings = count(&db, "SELECT count(*) FROM readings");

    // The stored readout decodes again into its data sets, mapped or not.
    let conn = rusqlite::Connection::open(&db).expect("open");
    let raw: Vec<u8> = conn
        .query_row("SELECT t.raw FROM telegrams t JOIN meters m ON m.id = t.meter_id WHERE m.serial = '20000003'", [], |row| row.get(0))
        .expect("raw readout");
    assert!(raw.starts_with(b"/ISk5\\2MT382-1000\r\n\x02"), "stored as read");
    let o = releve(&["decode", &hex::encode(&raw)]);
    let decoded: serde_json::Value = serde_json::from_slice(&o.stdout).expect("decode json");
    let roles: Vec<_> = decoded["data_sets"].as_array().expect("sets").iter().map(|d| d["role"].as_str().unwrap_or("-").to_string()).collect();
    assert_eq!(roles, ["serial", "a_plus_t1", "a_plus_t2", "p_plus"]);

    // Importing the file again stores nothing twice.
    let o = releve(&["import", "--db", &db, &name]);
    let out = String::from_utf8_lossy(&o.stdout);
    assert!(out.contains("0 telegrams stored") && out.contains("3 duplicates"), "{out}");
    assert_eq!(count(&db, "SELECT count(*) FROM readings"), readings);
}

#[test]
fn optical_read_is_a_command_of_the_api_needing_import_and_audited() {
    let dir = tempfile::tempdir().expect("dir");
    let db = database(dir.path());
    let ctx = releve_api::Ctx::open(Path::new(&db)).expect("ctx");
    let login = |who: &str| -> String {
        let s = ctx.call(None, "login", serde_json::json!({"login": who, "password": who})).expect("login");
        s["token"].as_str().expect("token").to_string()
    };
    let running = sim(&["--listen", "127.0.0.1:0", "--no-pace", "--serial", "61616161"]);
    let address = running.address.expect("address").to_string();
    let clerk = login("clerk");
    let e = ctx.call(Some(&clerk), "optical_read", serde_json::json!({"tcp": address})).expect_err("a clerk may not import");
    assert_eq!(e.code, "forbidden");
    let manager = login("manager");
    let e = ctx.call(Some(&manager), "optical_read", serde_json::json!({})).expect_err("no line");
    assert_eq!(e.code, "bad_input");
    let e = ctx.call(Some(&manager), "optical_read", serde_json::json!({"tcp": address, "address": "../x"})).expect_err("address");
    assert_eq!(e.code, "bad_input");
    let r = ctx.call(Some(&manager), "optical_read", serde_json::json!({"tcp": address, "meter": "61616161"})).expect("read");
    assert_eq!((r["serial"].as_str(), r["import"]["readings"].as_u64()), (Some("61616161"), Some(6)));
    let e = ctx.call(Some(&manager), "optical_read", serde_json::json!({"tcp": address, "meter": "1"})).expect_err("wrong meter");
    assert_eq!(e.code, "optical_wrong_meter");
    assert_eq!(e.params.get("port").and_then(|p| p.as_str()), Some(format!("tcp {address}").as_str()));
    assert_eq!(count(&db, &format!("SELECT count(*) FROM audit_log WHERE event = 'import' AND user = 'manager' AND details LIKE 'optical tcp {address}:%'")), 1);
}
