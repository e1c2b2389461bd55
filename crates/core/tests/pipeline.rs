//! End to end through the core: a generated drive-by file -> import -> store -> CSV export,
//! checked value by value; idempotence; bad input; atomicity; permissions and audit.

use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::{AesKey, DeviceType};
use releve_core::access::{self, Permission};
use releve_core::export::{export_readings, ExportSpec};
use releve_core::import::import_drive_by;
use releve_core::store::{self, Store};
use std::collections::HashMap;
use users::Fixture;

#[path = "support/users.rs"]
mod users;

const NOW: i64 = 1_767_571_200; // 2026-01-05T00:00:00Z, after every reception time of the files

fn key_of(serial: &str) -> [u8; 16] {
    let mut k = [0u8; 16];
    for (i, b) in serial.bytes().enumerate() {
        k[i] = b;
        k[15 - i] ^= b.wrapping_mul(7);
    }
    k
}

fn volume_frame(serial: &str, access_number: u8, litres: u32, key: Option<[u8; 16]>) -> Vec<u8> {
    let mut payload = vec![0x04, 0x13];
    payload.extend_from_slice(&litres.to_le_bytes());
    let spec = FrameSpec {
        manufacturer: "KAM",
        id: serial,
        version: 0x1b,
        device_type: DeviceType::Water,
        access_number,
        status: 0,
    };
    wmbus_frame(&spec, &payload, key.map(AesKey::from_bytes).as_ref())
}

fn fixture() -> Fixture {
    users::fixture(NOW)
}

/// (serial, local time "YYYY-MM-DD HH:MM:SS", m3) of every reading written to the file.
type Expected = Vec<(String, String, f64)>;

/// 20 meters x 48 hours, in the three line formats, keys registered for all.
fn drive_by_file(f: &Fixture) -> (String, Expected) {
    let mut keys = String::from("serial;key\n");
    let mut lines = String::new();
    let mut expected = Vec::new();
    for m in 0..20u32 {
        let serial = format!("{:08}", 30_000_000 + m * 17);
        keys.push_str(&format!("{serial};{}\n", hex::encode_upper(key_of(&serial))));
        for h in 0..48u32 {
            let litres = 1000 * m + h * 13 + 7;
            let frame = hex::encode_upper(volume_frame(&serial, h as u8, litres, Some(key_of(&serial))));
            // Local (Europe/Paris, UTC+1 in January) reception time.
            let local = format!("2026-01-{:02} {:02}:05:00", 1 + h / 24, h % 24);
            lines.push_str(&match h % 3 {
                0 => format!("T1;1;1;{local}.000;87;140;90;0x{frame}\n"),
                1 => format!("C1;1;1;{local}.000;-71;;;0x{}\n", frame.to_lowercase()),
                _ => format!("T1;1;1;{local}.000;77;;;0x{frame}\n"),
            });
            expected.push((serial.clone(), local, f64::from(litres) / 1000.0));
        }
    }
    let permit = f.manager.permit(Permission::ManageKeys).expect("manager");
    let r = releve_core::keys::import_keys(&f.store, permit, "keys.csv", &keys, NOW).expect("keys");
    assert_eq!((r.imported, r.rejected.len()), (20, 0));
    (lines, expected)
}

#[test]
fn drive_by_import_then_csv_export_value_by_value() {
    let f = fixture();
    let (file, expected) = drive_by_file(&f);
    let permit = f.manager.permit(Permission::Import).expect("manager imports");
    let mut calls = 0;
    let r = import_drive_by(&f.store, permit, "drive.txt", file.as_bytes(), NOW, &mut |_, _| calls += 1).expect("import");
    assert_eq!((r.lines, r.telegrams, r.stored, r.duplicates, r.rejected_count), (960, 960, 960, 0, 0));
    assert_eq!((r.readings, r.new_meters), (960, 20), "unknown meters are created, never dropped");
    assert!(calls >= 1, "progress is reported");

    let spec = ExportSpec {
        separator: b',',
        decimal: '.',
        ..ExportSpec::new("2026-01-01".parse().expect("d"), "2026-01-02".parse().expect("d"))
    };
    let mut out = Vec::new();
    let rows = export_readings(&f.store, &f.manager, &spec, &mut out, NOW).expect("export");
    assert_eq!(rows, 960);
    let mut reader = csv::Reader::from_reader(out.as_slice());
    let header: Vec<String> = reader.headers().expect("header").iter().map(str::to_string).collect();
    let col = |name: &str| header.iter().position(|h| h == name).expect("column");
    let mut got: HashMap<(String, String), f64> = HashMap::new();
    for rec in reader.records() {
        let rec = rec.expect("row");
        assert_eq!(&rec[col("register")], "volume");
        assert_eq!(&rec[col("unit")], "m3");
        assert_eq!(&rec[col("device_type")], "water");
        let value: f64 = rec[col("value")].parse().expect("number");
        got.insert((rec[col("meter_serial")].to_string(), rec[col("timestamp")].to_string()), value);
    }
    assert_eq!(got.len(), expected.len());
    for (serial, local, m3) in &expected {
        let v = got.get(&(serial.clone(), local.clone())).unwrap_or_else(|| panic!("no row for {serial} at {local}"));
        assert!((v - m3).abs() < 1e-9, "{serial} at {local}: exported {v}, sent {m3}");
    }

    // The same file again stores nothing new.
    let again = import_drive_by(&f.store, permit, "drive-again.txt", file.as_bytes(), NOW, &mut |_, _| {}).expect("import");
    assert_eq!((again.stored, again.duplicates, again.readings, again.new_meters), (0, 960, 0, 0));
    let conn = f.store.reader().expect("reader");
    assert_eq!(store::telegrams::count(&conn).expect("count"), 960);
    assert_eq!(store::readings::count(&conn).expect("count"), 960);
    let raw_kept: i64 = conn
        .query_row("SELECT count(*) FROM readings r JOIN telegrams t ON t.meter_id = r.meter_id AND t.id = r.telegram_id", [], |r| r.get(0))
        .expect("join");
    assert_eq!(raw_kept, 960, "every reading points at its raw telegram");
}

#[test]
fn french_export_uses_semicolons_and_decimal_commas() {
    let f = fixture();
    let (file, _) = drive_by_file(&f);
    let permit = f.manager.permit(Permission::Import).expect("manager");
    import_drive_by(&f.store, permit, "d.txt", file.as_bytes(), NOW, &mut |_, _| {}).expect("import");
    let spec = ExportSpec::new("2026-01-01".parse().expect("d"), "2026-01-01".parse().expect("d"));
    let mut out = Vec::new();
    let rows = export_readings(&f.store, &f.manager, &spec, &mut out, NOW).expect("export");
    assert_eq!(rows, 20 * 24, "only the first day");
    let text = String::from_utf8(out).expect("utf8");
    let first = text.lines().nth(1).expect("a row");
    assert!(first.contains(";30000000;") && first.contains(";0,007;"), "row: {first}");
}

#[test]
fn bad_lines_are_reported_with_line_numbers_and_good_ones_kept() {
    let f = fixture();
    let (good, _) = drive_by_file(&f);
    let good: Vec<&str> = good.lines().take(3).collect();
    let wrong_key = hex::encode(volume_frame("30000000", 200, 5, Some([9u8; 16])));
    let no_key = hex::encode(volume_frame("99999999", 1, 5, Some([9u8; 16])));
    let plain_unknown = hex::encode(volume_frame("88888888", 1, 4242, None));
    let truncated = &hex::encode(volume_frame("30000017", 77, 5, Some(key_of("30000017"))))[..30];
    // Manufacturer field 0x0000 is no valid 3-letter code.
    let mut unknown_maker = volume_frame("30000034", 1, 5, None);
    unknown_maker[2] = 0;
    unknown_maker[3] = 0;
    let file = [
        good[0],
        "this is not a telegram",
        truncated,
        &wrong_key,
        good[1],
        &hex::encode(unknown_maker),
        &no_key,
        "0x12345",
        &plain_unknown,
        good[2],
    ]
    .join("\n");
    let permit = f.manager.permit(Permission::Import).expect("manager");
    let r = import_drive_by(&f.store, permit, "bad.txt", file.as_bytes(), NOW, &mut |_, _| {}).expect("import");
    let lines: Vec<(u64, &str)> = r.rejected.iter().map(|x| (x.line, x.code.as_str())).collect();
    assert_eq!(lines[0], (2, "bad_line"));
    assert_eq!(lines[1].0, 3, "truncated telegram");
    assert_eq!(lines[2], (4, "wrong_key"));
    assert_eq!(lines[3], (6, "unknown_manufacturer"));
    assert_eq!(lines[4], (8, "bad_line"));
    assert_eq!(lines.len(), 5, "line 7 (no key, meter not in the park) is a heard device, not a reject");
    assert_eq!((r.heard, r.heard_devices), (1, 1));
    assert!(r.rejected[2].reason.contains("wrong AES key for meter 30000000"), "{}", r.rejected[2].reason);
    assert!(r.rejected[0].reason.contains("'t' at column 1"), "{}", r.rejected[0].reason);
    assert_eq!(r.stored, 5, "three good lines, the plaintext telegram of an unknown meter, the wrong-key one");
    assert_eq!(r.kept_undecoded, 1, "the wrong-key telegram of a park meter is kept for later");
    let conn = f.store.reader().expect("reader");
    let unassigned: String = conn
        .query_row("SELECT status FROM meters WHERE serial = '88888888'", [], |r| r.get(0))
        .expect("unknown meter created");
    assert_eq!(unassigned, "unassigned");
    let v: f64 = conn
        .query_row(
            "SELECT value FROM readings r JOIN meters m ON m.id = r.meter_id WHERE m.serial = '88888888'",
            [],
            |r| r.get(0),
        )
        .expect("reading of the unknown meter");
    assert!((v - 4.242).abs() < 1e-9);
    let listed: i64 = conn
        .query_row("SELECT count(*) FROM import_rejects", [], |r| r.get(0))
        .expect("rejects stored");
    assert_eq!(listed, 5);
    let heard: (String, i64, bool) = conn
        .query_row("SELECT serial, times_heard, encrypted FROM heard_devices", [], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?)))
        .expect("heard device");
    assert_eq!(heard.1, 1);
    assert!(heard.2, "its telegram is encrypted");
    let in_park: i64 =
        conn.query_row("SELECT count(*) FROM meters WHERE serial = ?1", [&heard.0], |r| r.get(0)).expect("count");
    assert_eq!(in_park, 0, "a device whose telegram does not decode stays out of the park");
}

/// A file is committed a batch (100,000 lines) at a time, each in slices: another connection
/// sees it grow, the import's row says how far it has come, and at the end the counts are
/// the file's.
#[test]
fn an_import_commits_in_chunks_and_records_its_progress() {
    let f = fixture();
    let (file, _) = drive_by_file(&f);
    let lines: Vec<&str> = file.lines().collect();
    let file = lines.iter().cycle().take(250_000).cloned().collect::<Vec<_>>().join("\n");
    let permit = f.manager.permit(Permission::Import).expect("manager");
    let path = f.store.path().to_path_buf();
    let mut seen: Vec<(i64, String, i64)> = Vec::new();
    let r = import_drive_by(&f.store, permit, "d.txt", file.as_bytes(), NOW, &mut |done, total| {
        if done < total {
            let other = rusqlite::Connection::open(&path).expect("second connection");
            seen.push(
                other
                    .query_row("SELECT (SELECT count(*) FROM telegrams), state, next_line FROM imports ORDER BY id DESC LIMIT 1", [], |r| {
                        Ok((r.get(0)?, r.get(1)?, r.get(2)?))
                    })
                    .expect("count"),
            );
        }
    })
    .expect("import");
    assert_eq!((r.stored, r.duplicates), (960, 250_000 - 960));
    assert!(seen.iter().all(|(_, state, _)| state == "running"), "{seen:?}");
    assert!(seen.iter().any(|(telegrams, _, next)| *telegrams > 0 && *next > 1), "chunks committed while the file runs: {seen:?}");
    let conn = f.store.reader().expect("reader");
    let row: (String, i64, i64, i64) = conn
        .query_row("SELECT state, next_line, stored, duplicates FROM imports WHERE id = ?1", [r.import_id], |r| {
            Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?))
        })
        .expect("import row");
    assert_eq!(row, ("done".to_string(), 250_001, 960, 250_000 - 960));
}

#[test]
fn a_user_may_view_and_export_but_not_import_and_changes_are_audited() {
    let f = fixture();
    let (file, _) = drive_by_file(&f);
    let clerk = access::login(&f.store, "clerk", "pw", "desk-7", "local", NOW).expect("clerk");
    let err = clerk.permit(Permission::Import).expect_err("user may not import");
    assert_eq!(err.code(), "forbidden");
    assert!(clerk.permit(Permission::Export).is_ok());
    assert_eq!(access::login(&f.store, "clerk", "nope", "desk-7", "local", NOW).expect_err("bad pw").code(), "wrong_password");

    let permit = f.manager.permit(Permission::Import).expect("manager");
    import_drive_by(&f.store, permit, "d.txt", file.as_bytes(), NOW + 5, &mut |_, _| {}).expect("import");
    let spec = ExportSpec::new("2026-01-01".parse().expect("d"), "2026-01-02".parse().expect("d"));
    export_readings(&f.store, &clerk, &spec, &mut Vec::new(), NOW + 9).expect("clerk exports");
    let log = store::audit::latest(&f.store.reader().expect("r"), 20).expect("audit");
    let import = log.iter().find(|e| e.event == "import").expect("import audited");
    assert_eq!((import.user.as_str(), import.computer.as_str(), import.at), ("manager", "pc", NOW + 5));
    assert!(import.details.contains("960 stored"), "{}", import.details);
    let export = log.iter().find(|e| e.event == "export").expect("export audited");
    assert_eq!((export.user.as_str(), export.computer.as_str()), ("clerk", "desk-7"));
    assert!(log.iter().any(|e| e.event == "login_failed" && e.user == "clerk"));
}

#[test]
fn telegrams_kept_without_a_key_are_decoded_when_the_key_arrives() {
    let f = fixture();
    let frames: Vec<String> = (0..3)
        .map(|i| {
            let frame = hex::encode(volume_frame("77777777", i, 1000 + u32::from(i), Some([7u8; 16])));
            format!("T1;1;1;2026-01-0{} 10:00:00.000;80;;;0x{frame}", i + 1)
        })
        .collect();
    let permit = f.manager.permit(Permission::Import).expect("manager");
    let r = import_drive_by(&f.store, permit, "d.txt", frames.join("\n").as_bytes(), NOW, &mut |_, _| {}).expect("import");
    assert_eq!((r.stored, r.heard, r.heard_devices, r.readings, r.rejected_count, r.new_meters), (0, 3, 1, 0, 0, 0));

    let keys = format!("77777777;{}\n", hex::encode([7u8; 16]));
    let k = releve_core::keys::import_keys(&f.store, f.manager.permit(Permission::ManageKeys).expect("m"), "k.csv", &keys, NOW)
        .expect("keys");
    assert_eq!((k.imported, k.adopted, k.redecoded, k.readings), (1, 1, 3, 3), "the key file names the heard device: into the park");
    let conn = f.store.reader().expect("reader");
    let values: Vec<f64> = conn
        .prepare("SELECT value FROM readings ORDER BY value")
        .expect("q")
        .query_map([], |r| r.get(0))
        .expect("rows")
        .collect::<Result<_, _>>()
        .expect("values");
    assert_eq!(values, vec![1.0, 1.001, 1.002]);
    let pending: i64 = conn.query_row("SELECT count(*) FROM telegrams WHERE status <> 'decoded'", [], |r| r.get(0)).expect("n");
    assert_eq!(pending, 0);
}

fn smoke_vectors() -> serde_json::Value {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/vectors/smoke_vectors.json");
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("test vectors missing at {path}: {e}"));
    serde_json::from_str(&text).expect("smoke vectors are JSON")
}

#[test]
fn a_compact_frame_decodes_in_a_later_file_with_the_layout_learned_from_a_full_frame() {
    let f = fixture();
    let v = smoke_vectors();
    let pair = v
        .as_array()
        .expect("array")
        .iter()
        .find(|x| x["telegram"].as_str().is_some_and(|t| t.contains("8D20")) && x["preceding_telegrams"].as_array().is_some_and(|p| !p.is_empty()))
        .expect("a compact frame with its full frame");
    let full = pair["preceding_telegrams"][0].as_str().expect("full");
    let compact = pair["telegram"].as_str().expect("compact");
    let permit = f.manager.permit(Permission::Import).expect("manager");
    let a = import_drive_by(&f.store, permit, "a.txt", format!("T1;1;1;2026-01-01 10:00:00.000;80;;;0x{full}\n").as_bytes(), NOW, &mut |_, _| {})
        .expect("import a");
    assert_eq!((a.stored, a.rejected_count), (1, 0), "{:?}", a.rejected);
    let learned: i64 = f.store.reader().expect("r").query_row("SELECT count(*) FROM compact_formats", [], |r| r.get(0)).expect("n");
    assert!(learned >= 1, "the full frame's layout is kept in the store");

    // A later session: the store opened again, the compact frame in another file.
    let path = f.store.path().to_path_buf();
    drop(f.store);
    let store = Store::open(&path).expect("reopen");
    let b = import_drive_by(&store, permit, "b.txt", format!("T1;1;1;2026-01-01 11:00:00.000;80;;;0x{compact}\n").as_bytes(), NOW, &mut |_, _| {})
        .expect("import b");
    assert_eq!((b.stored, b.rejected_count), (1, 0), "{:?}", b.rejected);
    let energy: f64 = store
        .reader()
        .expect("r")
        .query_row("SELECT value FROM readings WHERE register = 2 ORDER BY ts DESC LIMIT 1", [], |r| r.get(0))
        .expect("energy from the compact frame");
    let expected = pair["expected"]["total_energy_consumption_kwh"].as_f64().expect("expected energy");
    assert!((energy - expected).abs() < 1e-3, "{energy} vs {expected}");
}
