//! The `releve` command as a user runs it: demo, keys, import, decode, export, and the REST
//! API of `releve serve` over a real socket.

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_releve");

fn releve(args: &[&str]) -> Output {
    Command::new(BIN).args(args).env_remove("RELEVE_PASSWORD").output().expect("run releve")
}

fn text(o: &Output) -> String {
    format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr))
}

fn vectors() -> PathBuf {
    let p = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../../shared/vectors");
    assert!(p.is_dir(), "test vectors missing: {} (shared/ must sit beside the repository)", p.display());
    p
}

#[test]
fn decode_prints_json_and_errors_as_json() {
    let smoke: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("smoke_vectors.json")).expect("smoke")).expect("json");
    let kam = &smoke[0];
    let o = releve(&["decode", "--key", kam["key"].as_str().expect("key"), kam["telegram"].as_str().expect("hex")]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON out");
    assert_eq!(v["manufacturer"], "KAM");
    assert_eq!(v["id"], "76348799");
    assert_eq!(v["security"]["mode"], "ell-ctr");
    assert_eq!(v["security"]["status"], "ok");
    let volume = v["records"].as_array().expect("records").iter().find(|r| r["quantity"] == "volume").expect("volume");
    assert_eq!((volume["value"].as_f64(), volume["unit"].as_str()), (Some(6.408), Some("m3")));
    assert!(v["info_codes"].as_array().expect("codes").iter().any(|c| c == "dry"));

    let wrong = releve(&["decode", "--key", "000102030405060708090A0B0C0D0E0F", kam["telegram"].as_str().expect("hex")]);
    let w: serde_json::Value = serde_json::from_slice(&wrong.stdout).expect("JSON out");
    assert_eq!(w["security"]["status"], "wrong-key", "{w}");
    assert_eq!(w["records"].as_array().map(Vec::len), Some(0), "no values with a wrong key");

    let bad = releve(&["decode", "12zz"]);
    assert!(!bad.status.success());
    let e: serde_json::Value = serde_json::from_slice(&bad.stdout).expect("JSON error");
    assert_eq!(e["error"]["code"], "bad_input");
    assert!(e["error"]["message"].as_str().expect("message").contains("hexadecimal"));
}

#[test]
fn demo_import_export_round_trip_as_a_user() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("demo.db");
    let db_s = db.to_str().expect("utf8");
    let o = releve(&["demo", "--db", db_s, "--meters", "40", "--seed", "3", "--now", "2026-11-20"]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("Demo ready"), "{}", text(&o));

    // A plaintext telegram of a meter nobody knows, a garbage line, and a truncated one.
    // C=44, KAM, id 12345678, version 1B, water; CI 7A, no encryption; volume 4242 litres.
    let body = format!("442d2c785634121b077a010000000413{}", hex::encode(4242u32.to_le_bytes()));
    let good = format!("{:02x}{body}", body.len() / 2);
    let file = dir.path().join("drive.txt");
    std::fs::write(&file, format!("{good}\nnot a telegram\n1e442d2c78\n")).expect("write");
    let file_s = file.to_str().expect("utf8");
    let o = releve(&["import", "--db", db_s, file_s]);
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("1 telegrams stored") && out.contains("2 rejected") && out.contains("1 new meters"), "{out}");
    assert!(out.contains("line 2: 'n' at column 1 is not a hexadecimal digit"), "{out}");
    assert!(out.contains("line 3: telegram too short"), "{out}");
    let again = text(&releve(&["import", "--db", db_s, file_s]));
    assert!(again.contains("0 telegrams stored (0 with values, 0 kept without values), 1 duplicates"), "{again}");

    let clerk = releve(&["import", "--db", db_s, "--user", "clerk", file_s]);
    assert!(!clerk.status.success());
    assert!(text(&clerk).contains("permission 'import' is needed"), "{}", text(&clerk));

    let keys = dir.path().join("keys.csv");
    std::fs::write(&keys, "serial;key\n12345678;000102030405060708090A0B0C0D0E0F\n87654321;XYZ\n").expect("write");
    let k = text(&releve(&["keys", "import", "--db", db_s, keys.to_str().expect("utf8")]));
    assert!(k.contains("1 keys imported") && k.contains("line 3: meter 87654321"), "{k}");

    let csv = dir.path().join("out.csv");
    let o = releve(&[
        "export", "--db", db_s, "--from", "2026-11-01", "--to", "2026-11-19", "--out", csv.to_str().expect("utf8"),
        "--columns", "meter_serial,timestamp,register,value", "--user", "clerk",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let content = std::fs::read_to_string(&csv).expect("csv");
    let mut lines = content.lines();
    assert_eq!(lines.next(), Some("meter_serial;timestamp;register;value"));
    let rows: Vec<&str> = lines.collect();
    assert!(rows.len() > 40 * 19, "at least a daily reading per meter: {} rows", rows.len());
    assert!(text(&o).contains(&format!("{} readings written", rows.len())));
    assert!(rows.iter().all(|r| r.split(';').count() == 4 && r[9..].starts_with("2026-11-")), "{:?}", &rows[..3]);
}

/// One HTTP/1.1 request over a plain socket: (status, JSON body).
fn post(addr: &str, path: &str, token: Option<&str>, body: &str) -> (u16, serde_json::Value) {
    let mut s = std::net::TcpStream::connect(addr).expect("connect");
    let auth = token.map(|t| format!("Authorization: Bearer {t}\r\n")).unwrap_or_default();
    write!(
        s,
        "POST {path} HTTP/1.1\r\nHost: {addr}\r\nContent-Type: application/json\r\n{auth}Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut resp = String::new();
    s.read_to_string(&mut resp).expect("read");
    let status = resp[9..12].parse().expect("status");
    let body = resp.split("\r\n\r\n").nth(1).unwrap_or("");
    (status, serde_json::from_str(body).unwrap_or(serde_json::Value::Null))
}

#[test]
fn rest_api_logs_in_lists_meters_and_refuses_without_a_token() {
    let dir = tempfile::tempdir().expect("tmp");
    let db = dir.path().join("demo.db");
    let db_s = db.to_str().expect("utf8");
    assert!(releve(&["demo", "--db", db_s, "--meters", "20", "--seed", "5", "--now", "2026-11-20"]).status.success());
    let port = std::net::TcpListener::bind("127.0.0.1:0").expect("port").local_addr().expect("addr").port();
    let addr = format!("127.0.0.1:{port}");
    let mut server = Command::new(BIN).args(["serve", "--db", db_s, "--addr", &addr]).env("RELEVE_NIGHTLY_RETENTION", "off").spawn().expect("serve");
    let up = (0..100).any(|_| {
        std::thread::sleep(std::time::Duration::from_millis(100));
        std::net::TcpStream::connect(&addr).is_ok()
    });
    assert!(up, "server listens");

    let (status, e) = post(&addr, "/api/meters_list", None, "{}");
    assert_eq!((status, e["error"]["code"].as_str()), (401, Some("not_logged_in")));
    let (status, e) = post(&addr, "/api/login", None, r#"{"login":"clerk","password":"wrong"}"#);
    assert_eq!((status, e["error"]["code"].as_str()), (401, Some("wrong_password")));
    let (status, s) = post(&addr, "/api/login", None, r#"{"login":"clerk","password":"clerk"}"#);
    assert_eq!(status, 200, "{s}");
    let token = s["token"].as_str().expect("token").to_string();
    assert_eq!(s["user"]["role"], "user");
    let (status, page) = post(&addr, "/api/meters_list", Some(&token), r#"{"limit":5,"sort":"serial"}"#);
    assert_eq!(status, 200);
    assert_eq!(page["total"], 20);
    let rows = page["rows"].as_array().expect("rows");
    assert_eq!(rows.len(), 5);
    let serials: Vec<&str> = rows.iter().map(|r| r["serial"].as_str().expect("serial")).collect();
    assert!(serials.windows(2).all(|w| w[0] <= w[1]), "sorted: {serials:?}");
    let (status, e) = post(&addr, "/api/import_start", Some(&token), r#"{"files":[{"name":"a","content":"00"}]}"#);
    assert_eq!((status, e["error"]["code"].as_str()), (403, Some("forbidden")));
    let (status, e) = post(&addr, "/api/meter_histogram", Some(&token), r#"{"id":2,"resolution":"week","from":"2026-01-01","to":"2026-01-02"}"#);
    assert_eq!((status, e["error"]["code"].as_str()), (400, Some("bad_input")));
    assert!(e["error"]["message"].as_str().expect("msg").contains("'week' is not one of"));
    let (status, h) = post(&addr, "/api/meter_histogram", Some(&token), r#"{"id":2,"resolution":"month","from":"2025-11-01","to":"2026-11-19"}"#);
    assert_eq!(status, 200, "{h}");
    assert!(h["buckets"].as_array().expect("buckets").iter().filter(|b| b["value"].as_f64().is_some_and(|v| v > 0.0)).count() >= 12);
    let _ = server.kill();
    let _ = server.wait();
}

#[test]
fn decode_explains_layers_and_uses_previous_full_frames() {
    let smoke: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(vectors().join("smoke_vectors.json")).expect("smoke")).expect("json");
    let kam = &smoke[0];
    let o = releve(&["decode", "--explain", kam["telegram"].as_str().expect("hex")]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON out");
    assert_eq!(v["security"]["status"], "no-key");
    let steps = v["explain"]["steps"].as_array().expect("steps");
    assert!(steps.iter().any(|s| s["layer"] == "link"), "{steps:?}");
    assert!(steps.last().expect("a step")["detail"].as_str().expect("detail").contains("no key"), "{steps:?}");

    let pair = smoke
        .as_array()
        .expect("array")
        .iter()
        .find(|x| x["preceding_telegrams"].as_array().is_some_and(|p| !p.is_empty()))
        .expect("a compact frame");
    let o = releve(&[
        "decode",
        "--previous",
        pair["preceding_telegrams"][0].as_str().expect("full"),
        pair["telegram"].as_str().expect("compact"),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON out");
    let energy = v["records"].as_array().expect("records").iter().find(|r| r["quantity"] == "energy" && r["storage"] == 0).expect("energy");
    let want = pair["expected"]["total_energy_consumption_kwh"].as_f64().expect("want");
    assert!((energy["value"].as_f64().expect("number") - want).abs() < 1e-3, "{energy}");

    // A manufacturer's own layer: the explanation names the family that read it, and where
    // it stopped when it could not (a Techem frame of a version whose layout is unknown).
    let rows: Vec<serde_json::Value> = std::fs::read_to_string(vectors().join("wmbusmeters_vectors.jsonl"))
        .expect("vectors")
        .lines()
        .map(|l| serde_json::from_str(l).expect("json"))
        .collect();
    let izar = rows.iter().find(|r| r["driver"] == "izarv2").expect("an IZAR vector");
    let o = releve(&["decode", "--explain", izar["telegram"].as_str().expect("hex")]);
    assert!(o.status.success(), "{}", text(&o));
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON out");
    let steps = v["explain"]["steps"].as_array().expect("steps");
    assert!(steps.iter().any(|s| s["layer"] == "vendor" && s["detail"].as_str().is_some_and(|d| d.contains("driver diehl"))), "{steps:?}");
    assert!(v["records"].as_array().expect("records").iter().any(|r| r["quantity"] == "volume"), "{v}");
    let mk = rows.iter().find(|r| r["driver"] == "mkradio3").expect("an MK Radio 3 vector");
    let mut frame = hex::decode(mk["telegram"].as_str().expect("hex")).expect("bytes");
    frame[8] = 0x01; // version 01: no Techem layout known for it
    let o = releve(&["decode", "--explain", &hex::encode_upper(&frame)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON out");
    let steps = v["explain"]["steps"].as_array().expect("steps");
    assert!(
        steps.iter().any(|s| s["layer"] == "vendor" && s["detail"].as_str().is_some_and(|d| d.contains("techem") && d.contains("stopped"))),
        "{v}"
    );

    frame[9] = 0x01; // device type 01: no Techem family reads it
    let o = releve(&["decode", "--explain", &hex::encode_upper(&frame)]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("JSON out");
    assert!(v["explain"].to_string().contains("no driver reads it for manufacturer TCH"), "{v}");

    let bad = releve(&["decode", "--explain", "1e442d2c785634121b077a0100"]);
    assert!(!bad.status.success());
    let e: serde_json::Value = serde_json::from_slice(&bad.stdout).expect("JSON error");
    assert!(e["error"]["code"].is_string() && e["explain"]["steps"].is_array(), "{e}");
}

/// Before: a file whose telegrams were all kept without values (no key) made 9 meters and
/// ended with exit status 1 and "no telegram could be read". Now the devices wait in the
/// heard list, and the command says so and succeeds; a file of which nothing could be read
/// fails and says that.
#[test]
fn an_import_says_what_it_committed() {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("d.db");
    let db_s = db.to_str().expect("utf8");
    let o = releve(&["demo", "--db", db_s, "--meters", "20", "--now", "2026-11-20"]);
    assert!(o.status.success(), "{}", text(&o));
    let lines: Vec<String> = (1..=9u32)
        .map(|i| {
            let serial = format!("{:08}", 55_000_000 + i);
            let spec = mbus::encode::FrameSpec {
                manufacturer: "KAM",
                id: &serial,
                version: 0x1b,
                device_type: mbus::DeviceType::Water,
                access_number: i as u8,
                status: 0,
            };
            let raw = mbus::encode::wmbus_frame(&spec, &[0x04, 0x13, 1, 2, 3, 4], Some(&mbus::AesKey::from_bytes([7; 16])));
            format!("T1;1;1;2026-11-19 10:0{i}:00.000;80;;;0x{}", hex::encode(raw))
        })
        .collect();
    let file = dir.path().join("nokeys.txt");
    std::fs::write(&file, lines.join("\n")).expect("write");
    let meters_before = releve_meters(db_s);
    let o = Command::new(BIN).args(["import", "--db", db_s, file.to_str().expect("utf8")]).env("RELEVE_PASSWORD", "manager").output().expect("run");
    let out = text(&o);
    assert!(o.status.success(), "{out}");
    assert!(out.contains("9 lines, 0 telegrams stored") && out.contains("9 telegrams of 9 devices not in the park kept in the heard-devices list"), "{out}");
    assert_eq!(releve_meters(db_s), meters_before, "no meter created");

    let garbage = dir.path().join("garbage.txt");
    std::fs::write(&garbage, "not a telegram\nnor this\n").expect("write");
    let o = Command::new(BIN).args(["import", "--db", db_s, garbage.to_str().expect("utf8")]).env("RELEVE_PASSWORD", "manager").output().expect("run");
    assert!(!o.status.success());
    assert!(text(&o).contains("nothing was stored from") && text(&o).contains("every line was rejected"), "{}", text(&o));
}

/// How many meters the park holds.
fn releve_meters(db: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row("SELECT count(*) FROM meters", [], |r| r.get(0)).expect("count")
}

/// Every CLI command that changes or exports data asks the same permission as the API command
/// it does: the clerk (view and export) is refused in words, and nothing reaches the database.
#[test]
fn cli_commands_are_refused_as_the_api_refuses_them() {
    let dir = tempfile::tempdir().expect("dir");
    let db = dir.path().join("demo.db");
    let db_s = db.to_str().expect("utf8");
    let o = releve(&["demo", "--db", db_s, "--meters", "8"]);
    assert!(o.status.success(), "{}", text(&o));
    let file = dir.path().join("input.txt");
    std::fs::write(&file, "serial;key\n12345678;000102030405060708090A0B0C0D0E0F\n").expect("write");
    let f = file.to_str().expect("utf8");
    let audit = || -> i64 {
        let conn = rusqlite::Connection::open(&db).expect("open");
        conn.query_row("SELECT count(*) FROM audit_log WHERE event NOT IN ('login', 'login_failed')", [], |r| r.get(0)).expect("count")
    };
    let before = audit();
    let cases: [(&[&str], &str); 8] = [
        (&["import", f], "import"),
        (&["keys", "import", f], "manage_keys"),
        (&["sources", "add", "--name", "x", "--kind", "http", "--format", "lines"], "settings"),
        (&["sources", "remove", "--name", "x"], "settings"),
        (&["lorawan", "devices", "import", f], "settings"),
        (&["park", "import-folder"], "edit_meters"),
        (&["c806", "sdp", "--ean", "541234567890123456"], "settings"),
        (&["report", "consumer", "--meter", "x", "--from", "2026-01-01", "--to", "2026-01-31", "--email"], "send_mail"),
    ];
    for (args, permission) in cases {
        let mut full: Vec<&str> = args.to_vec();
        full.extend(["--db", db_s, "--user", "clerk"]);
        let o = releve(&full);
        assert!(!o.status.success(), "clerk ran {args:?}: {}", text(&o));
        assert!(text(&o).contains(&format!("permission '{permission}' is needed")), "{args:?}: {}", text(&o));
    }
    assert_eq!(audit(), before, "nothing refused reached the audit log");
}
