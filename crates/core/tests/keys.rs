//! AES keys: CSV and Kamstrup KEM/KEM2 files, keys sealed at rest (the database file holds
//! none), never returned once stored, the manager's export, the key status of the park and
//! stored telegrams decoded again when a key arrives.

use aes::cipher::{block_padding::NoPadding, BlockEncryptMut, KeyIvInit};
use base64::Engine;
use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::{AesKey, DeviceType};
use releve_core::access::{self, Permission, Role};
use releve_core::import::import_drive_by;
use releve_core::keys::{self, KeyStatus};
use releve_core::meters::{self, ListQuery};
use releve_core::store::{self, Store};
use std::io::Write;

#[path = "support/users.rs"]
mod users;

const NOW: i64 = 1_767_571_200; // 2026-01-05T00:00:00Z

fn key_of(serial: &str) -> [u8; 16] {
    let mut k = [0x5au8; 16];
    for (i, b) in serial.bytes().enumerate() {
        k[i] ^= b;
        k[15 - i] ^= b.wrapping_mul(13);
    }
    k
}

fn frame(serial: &str, access_number: u8, litres: u32, key: Option<[u8; 16]>) -> String {
    let mut payload = vec![0x04, 0x13];
    payload.extend_from_slice(&litres.to_le_bytes());
    let spec = FrameSpec { manufacturer: "KAM", id: serial, version: 0x1b, device_type: DeviceType::Water, access_number, status: 0 };
    hex::encode_upper(wmbus_frame(&spec, &payload, key.map(AesKey::from_bytes).as_ref()))
}

/// Telegrams of `serial` (encrypted with its key), one a day from 1 January 2026.
fn telegrams(serial: &str, n: u8) -> String {
    (0..n).map(|i| format!("T1;1;1;2026-01-0{} 10:00:00.000;80;;;0x{}\n", i + 1, frame(serial, i, 1000 + u32::from(i), Some(key_of(serial))))).collect()
}

/// A meter of the park (known before its telegrams come).
fn park_meter(store: &Store, serial: &str) -> i64 {
    let mut conn = store.writer();
    let tx = conn.transaction().expect("tx");
    let m = store::meters::NewMeter {
        serial: serial.into(),
        manufacturer: "KAM".into(),
        version: 0x1b,
        device_type: "water".into(),
        status: "active".into(),
        ..Default::default()
    };
    let id = store::meters::insert(&tx, &m, NOW).expect("meter");
    tx.commit().expect("commit");
    id
}

fn import(f: &users::Fixture, name: &str, lines: &str) -> releve_core::import::FileReport {
    let permit = f.manager.permit(Permission::Import).expect("import");
    import_drive_by(&f.store, permit, name, lines.as_bytes(), NOW, &mut |_, _| {}).expect("import")
}

/// A KEM file as Kamstrup's tools write it (W3C XML Encryption, AES-128-CBC, the IV first,
/// the password's bytes padded with zeros as the key), built here from the public format.
fn kem_file(meters: &[(&str, [u8; 16])], password: &str) -> String {
    let mut xml = String::from("<?xml version=\"1.0\" encoding=\"utf-8\"?>\n<MetersInOrder>");
    for (serial, key) in meters {
        xml.push_str(&format!(
            "<Meter><MeterName>MC21</MeterName><ConsumptionType>Water</ConsumptionType><MeterNo>{serial}</MeterNo><SerialNo>{serial}</SerialNo><VendorId>KAM</VendorId><ConfigNo>1</ConfigNo><TypeNo>021-01</TypeNo><DEK>{}</DEK></Meter>",
            hex::encode_upper(key)
        ));
    }
    xml.push_str("</MetersInOrder>");
    let mut data = xml.into_bytes();
    let pad = 16 - data.len() % 16;
    data.extend(std::iter::repeat_n(0u8, pad - 1));
    data.push(pad as u8);
    let mut key = [0u8; 16];
    key[..password.len()].copy_from_slice(password.as_bytes());
    let iv = [0x3cu8; 16];
    let len = data.len();
    cbc::Encryptor::<aes::Aes128>::new(&key.into(), &iv.into()).encrypt_padded_mut::<NoPadding>(&mut data, len).expect("blocks");
    let mut sealed = iv.to_vec();
    sealed.extend_from_slice(&data);
    format!(
        "<?xml version=\"1.0\"?>\n<EncryptedData Type=\"http://www.w3.org/2001/04/xmlenc#Element\" xmlns=\"http://www.w3.org/2001/04/xmlenc#\">\n  <EncryptionMethod Algorithm=\"http://www.w3.org/2001/04/xmlenc#aes128-cbc\" />\n  <CipherData>\n    <CipherValue>{}</CipherValue>\n  </CipherData>\n</EncryptedData>\n",
        base64::engine::general_purpose::STANDARD.encode(&sealed)
    )
}

#[test]
fn a_kem_file_imports_its_keys_and_decodes_the_telegrams_kept() {
    let f = users::fixture(NOW);
    let id = park_meter(&f.store, "61000001");
    let r = import(&f, "d1.txt", &telegrams("61000001", 3));
    assert_eq!((r.stored, r.kept_undecoded, r.readings), (3, 3, 0));
    let meter = meters::meter_get(&f.store, &f.manager, id).expect("meter");
    assert_eq!(meter.meter.key_status, KeyStatus::NoKey);
    // A device not in the park, heard before its key came.
    let r = import(&f, "d2.txt", &telegrams("61000002", 2));
    assert_eq!(r.heard, 2);

    let kem = kem_file(&[("61000001", key_of("61000001")), ("61000002", key_of("61000002"))], "Kamstrup-2026");
    let permit = f.manager.permit(Permission::ManageKeys).expect("keys");
    // A wrong password: refused in words, nothing stored.
    let e = keys::import_key_file(&f.store, permit, "park.kem", kem.as_bytes(), Some("kamstrup-2026"), NOW).expect_err("wrong password");
    assert_eq!(e.code(), "kem_wrong_password");
    assert!(e.to_string().contains("park.kem: the password does not open this KEM file"), "{e}");
    let e = keys::import_key_file(&f.store, permit, "park.kem", kem.as_bytes(), None, NOW).expect_err("no password");
    assert_eq!(e.code(), "kem_password_needed");
    assert_eq!(keys::keys_status(&f.store, &f.manager).expect("status").keys, 0, "nothing stored");

    let r = keys::import_key_file(&f.store, permit, "park.kem", kem.as_bytes(), Some("Kamstrup-2026"), NOW).expect("kem");
    assert_eq!(r.format, "kem");
    assert_eq!((r.imported, r.rejected.len(), r.adopted), (2, 0, 1), "{r:?}");
    assert_eq!((r.meters, r.redecoded, r.readings, r.still_failing), (2, 5, 5, 0), "the report: {r:?}");
    let meter = meters::meter_get(&f.store, &f.manager, id).expect("meter");
    assert_eq!(meter.meter.key_status, KeyStatus::Ok);
    assert!(meter.has_key);
    assert_eq!(meter.registers.len(), 1);

    // The same file in a ZIP archive (KEM2), compressed.
    let mut zipped = Vec::new();
    {
        let mut w = zip::ZipWriter::new(std::io::Cursor::new(&mut zipped));
        let options = zip::write::SimpleFileOptions::default().compression_method(zip::CompressionMethod::Deflated);
        w.start_file("Order 4711.kem2", options).expect("entry");
        w.write_all(kem_file(&[("61000003", key_of("61000003"))], "pw16charactersXX").as_bytes()).expect("write");
        w.finish().expect("zip");
    }
    let r = keys::import_key_file(&f.store, permit, "order.zip", &zipped, Some("pw16charactersXX"), NOW).expect("kem2");
    assert_eq!((r.format, r.imported), ("kem2", 1));
    let e = keys::import_key_file(&f.store, permit, "order.zip", &zipped, Some("pw16charactersXY"), NOW).expect_err("wrong");
    assert_eq!(e.code(), "kem_wrong_password");
    // Telegrams arriving after the import decode with the keys.
    let r = import(&f, "d3.txt", &telegrams("61000003", 2));
    assert_eq!((r.readings, r.kept_undecoded), (2, 0));
}

#[test]
fn csv_errors_name_the_file_and_line_and_a_wrong_key_is_a_status() {
    let f = users::fixture(NOW);
    let id = park_meter(&f.store, "62000001");
    import(&f, "d.txt", &telegrams("62000001", 3));
    let permit = f.manager.permit(Permission::ManageKeys).expect("keys");
    let csv = format!("serial;key\n62000001;{}\n62000002;ABC\n;{}\n", hex::encode([9u8; 16]), hex::encode([1u8; 16]));
    let r = keys::import_keys(&f.store, permit, "keys.csv", &csv, NOW).expect("csv");
    assert_eq!((r.imported, r.rejected.len()), (1, 2));
    assert!(r.rejected[0].reason.starts_with("keys.csv, line 3: meter 62000002"), "{:?}", r.rejected);
    assert!(r.rejected[1].reason.starts_with("keys.csv, line 4: no meter serial"), "{:?}", r.rejected);
    assert_eq!((r.meters, r.redecoded, r.still_failing), (1, 0, 3), "a wrong key decodes nothing: {r:?}");
    let status = |s: KeyStatus| {
        let q = ListQuery { limit: 50, key_status: Some(s.code()), ..Default::default() };
        meters::meters_list(&f.store, &f.manager, &q).expect("list")
    };
    assert_eq!(status(KeyStatus::WrongKey).rows.iter().map(|m| m.id).collect::<Vec<_>>(), vec![id]);
    assert_eq!(status(KeyStatus::Ok).total, 0);

    // The key entered on the meter page (after an exchange, say): decoded, never echoed.
    let clerk = access::login(&f.store, "clerk", "pw", "pc", "local", NOW).expect("clerk");
    let e = keys::meter_key_set(&f.store, &clerk, id, &hex::encode(key_of("62000001")), NOW).expect_err("a clerk may not");
    assert_eq!(e.code(), "forbidden");
    let set = keys::meter_key_set(&f.store, &f.manager, id, &hex::encode(key_of("62000001")), NOW).expect("set");
    assert_eq!((set.replaced, set.redecoded, set.readings, set.still_failing, set.key_status), (true, 3, 3, 0, KeyStatus::Ok));
    let json = serde_json::to_string(&set).expect("json");
    assert!(!json.to_lowercase().contains(&hex::encode(key_of("62000001"))), "{json}");
    assert_eq!(status(KeyStatus::Ok).rows.len(), 1);
    let counts = keys::keys_status(&f.store, &f.manager).expect("status");
    let ok = counts.counts.iter().find(|c| c.status == KeyStatus::Ok).expect("ok");
    assert_eq!((ok.meters, counts.keys), (1, 2), "the serial's key from the file and the meter's own");
    let audit: i64 = f
        .store
        .reader()
        .expect("reader")
        .query_row("SELECT count(*) FROM audit_log WHERE event = 'meter_key_set'", [], |r| r.get(0))
        .expect("audit");
    assert_eq!(audit, 1, "one audit entry, the refused call none");
}

/// Every form a key may take in a file: its bytes, and its hexadecimal text.
fn forms(key: &[u8; 16]) -> Vec<Vec<u8>> {
    vec![key.to_vec(), hex::encode(key).into_bytes(), hex::encode_upper(key).into_bytes()]
}

fn files_hold(db: &std::path::Path, key: &[u8; 16]) -> Option<String> {
    for suffix in ["", "-wal", "-journal"] {
        let mut p = db.as_os_str().to_owned();
        p.push(suffix);
        let Ok(bytes) = std::fs::read(&p) else { continue };
        for form in forms(key) {
            if bytes.windows(form.len()).any(|w| w == form.as_slice()) {
                return Some(format!("{} holds {}", std::path::Path::new(&p).display(), String::from_utf8_lossy(&form)));
            }
        }
    }
    None
}

#[test]
fn the_database_file_reveals_no_key_and_no_command_returns_one() {
    let f = users::fixture(NOW);
    let db = f.dir.path().join("t.db");
    let serials: Vec<String> = (0..50).map(|i| format!("{}", 63_000_000 + i)).collect();
    let ids: Vec<i64> = serials.iter().take(5).map(|s| park_meter(&f.store, s)).collect();
    let mut csv = String::from("manufacturer;serial;key\n");
    for s in &serials {
        csv.push_str(&format!("KAM;{s};{}\n", hex::encode_upper(key_of(s))));
    }
    let permit = f.manager.permit(Permission::ManageKeys).expect("keys");
    let r = keys::import_keys(&f.store, permit, "keys.csv", &csv, NOW).expect("csv");
    assert_eq!(r.imported, 50);
    keys::meter_key_set(&f.store, &f.manager, ids[0], &hex::encode([0xa7u8; 16]), NOW).expect("entered");
    import(&f, "d.txt", &telegrams(&serials[1], 2));
    for s in &serials {
        assert_eq!(files_hold(&db, &key_of(s)), None, "meter {s}");
    }
    assert_eq!(files_hold(&db, &[0xa7u8; 16]), None, "the key entered");
    f.store.checkpoint().expect("checkpoint");
    for s in &serials {
        assert_eq!(files_hold(&db, &key_of(s)), None, "meter {s}, after a checkpoint");
    }
    // Without the master key file, the database's keys are of no use.
    let copy = tempfile::tempdir().expect("dir");
    std::fs::copy(&db, copy.path().join("t.db")).expect("copy");
    let stolen = Store::open(&copy.path().join("t.db")).expect("open the copy");
    let e = stolen.keys().expect_err("no master key");
    assert_eq!(e.code(), "master_key_missing");

    // No command returns a key once stored.
    let mut answers = Vec::new();
    for id in &ids {
        answers.push(serde_json::to_string(&meters::meter_get(&f.store, &f.manager, *id).expect("meter")).expect("json"));
    }
    answers.push(serde_json::to_string(&keys::keys_status(&f.store, &f.manager).expect("status")).expect("json"));
    let q = ListQuery { limit: 500, ..Default::default() };
    answers.push(serde_json::to_string(&meters::meters_list(&f.store, &f.manager, &q).expect("list")).expect("json"));
    for answer in &answers {
        let answer = answer.to_lowercase();
        for s in &serials {
            assert!(!answer.contains(&hex::encode(key_of(s))), "a key of {s} in {answer}");
        }
    }

    // The export: the manager's only (not a superuser's), audited, read back by the import.
    users::create_users(&f.store, &[("super", Role::Superuser)], NOW);
    let superuser = access::login(&f.store, "super", "pw", "pc", "local", NOW).expect("login");
    let e = keys::keys_export(&f.store, &superuser, NOW).expect_err("superuser");
    assert_eq!(e.code(), "forbidden");
    let out = keys::keys_export(&f.store, &f.manager, NOW).expect("export");
    assert_eq!(out.lines().count(), 51);
    assert!(out.contains(&format!("{};{};KAM", serials[3], hex::encode_upper(key_of(&serials[3])))), "{out}");
    let again = keys::import_keys(&f.store, permit, "export.csv", &out, NOW).expect("re-import");
    assert_eq!((again.imported, again.replaced, again.rejected.len()), (50, 0, 0));
    let audit: i64 = f
        .store
        .reader()
        .expect("reader")
        .query_row("SELECT count(*) FROM audit_log WHERE event = 'keys_export'", [], |r| r.get(0))
        .expect("audit");
    assert_eq!(audit, 1);
}

/// A database of before keys at rest: its clear keys are sealed at the next opening, and
/// nothing of them stays in the file.
#[test]
fn clear_keys_of_an_older_database_are_sealed_at_opening() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("old.db");
    drop(Store::open(&db).expect("create"));
    let serials: Vec<String> = (0..200).map(|i| format!("{}", 64_000_000 + i)).collect();
    {
        // What migration 0026 leaves of an older database's keys.
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.execute_batch("CREATE TABLE meter_keys_clear (serial TEXT PRIMARY KEY, key BLOB NOT NULL, imported_at INTEGER NOT NULL, source TEXT NOT NULL) WITHOUT ROWID;")
            .expect("table");
        for s in &serials {
            conn.execute("INSERT INTO meter_keys_clear VALUES (?1, ?2, 0, 'old')", rusqlite::params![s, &key_of(s)[..]]).expect("key");
        }
        conn.execute_batch("PRAGMA wal_checkpoint(TRUNCATE);").expect("checkpoint");
    }
    assert!(files_hold(&db, &key_of(&serials[0])).is_some(), "the old file holds its keys in clear");
    let store = Store::open(&db).expect("upgrade");
    for s in &serials {
        assert_eq!(files_hold(&db, &key_of(s)), None, "meter {s}");
    }
    let keys = store.keys().expect("keys");
    assert_eq!(keys.len(), 200);
    assert_eq!(keys.get(&serials[7], "KAM"), Some(&key_of(&serials[7])), "a key without manufacturer serves any");
}
