//! MQTT sources as a utility runs them: a mosquitto broker started by the test on a free
//! port (its configuration written here), sources made with `releve sources add --kind mqtt`,
//! `releve serve` receiving, messages published with `mosquitto_pub`. What was published is
//! stored once, whatever stops on the way (`releve serve` killed, the broker restarted);
//! an unreadable message is logged and does not block the others; TLS with a client
//! certificate and a password works, and a wrong password is said in the source's state.

#[path = "support/releve.rs"]
mod releve;

use releve::{demo_db, drive_by, serve, BIN, run_ok as releve};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port()
}

/// A mosquitto on a free port, its configuration and persistence in `dir`; stopped on drop.
struct Broker {
    child: Option<Child>,
    conf: PathBuf,
    port: u16,
}

impl Broker {
    /// `extra`: more configuration lines (TLS, passwords); anonymous clients allowed without.
    fn start(dir: &Path, extra: &str) -> Broker {
        let port = free_port();
        let conf = dir.join("mosquitto.conf");
        let data = dir.join("broker");
        std::fs::create_dir_all(&data).expect("broker dir");
        let anonymous = if extra.contains("password_file") { "false" } else { "true" };
        // Run as the test's own user (as root, mosquitto would become `mosquitto`, who cannot
        // read the test's private temporary folder).
        let me = Command::new("id").arg("-un").output().expect("id");
        let me = String::from_utf8_lossy(&me.stdout).trim().to_string();
        let text = format!(
            "user {me}\nlistener {port} 127.0.0.1\nallow_anonymous {anonymous}\npersistence true\npersistence_location {}/\n\
             max_inflight_messages 10000\nmax_queued_messages 1000000\nlog_dest file {}/mosquitto.log\n{extra}\n",
            data.display(),
            data.display()
        );
        std::fs::write(&conf, text).expect("conf");
        let mut broker = Broker { child: None, conf, port };
        broker.run();
        broker
    }

    fn run(&mut self) {
        let child = Command::new("mosquitto").arg("-c").arg(&self.conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("mosquitto");
        self.child = Some(child);
        wait("mosquitto listening", Duration::from_secs(20), || std::net::TcpStream::connect(("127.0.0.1", self.port)).is_ok());
    }

    /// Stop as an administrator does (SIGTERM: it saves its sessions and queued messages).
    fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = Command::new("kill").arg("-TERM").arg(child.id().to_string()).status();
            let _ = child.wait();
        }
    }

    fn url(&self) -> String {
        format!("mqtt://127.0.0.1:{}", self.port)
    }

    /// `mosquitto_pub -l` at QoS 1 of every line of `file` as one message to `topic`, in the
    /// background. In pieces of 50,000 lines: mosquitto_pub's message ids wrap at 65,535 and
    /// it stops early when a later message has the last one's id.
    fn publish(&self, topic: &str, file: &Path, args: &[&str]) -> std::thread::JoinHandle<()> {
        let text = std::fs::read_to_string(file).expect("messages");
        let lines: Vec<&str> = text.lines().collect();
        let mut pieces = Vec::new();
        for (i, piece) in lines.chunks(50_000).enumerate() {
            let path = file.with_extension(format!("part{i}"));
            std::fs::write(&path, piece.join("\n") + "\n").expect("piece");
            pieces.push(path);
        }
        let mut command: Vec<String> = ["-h", "127.0.0.1", "-p", &self.port.to_string(), "-q", "1", "-t", topic, "-l"].iter().map(|s| s.to_string()).collect();
        command.extend(args.iter().map(|s| s.to_string()));
        std::thread::spawn(move || {
            for piece in pieces {
                let o = Command::new("mosquitto_pub")
                    .args(&command)
                    .stdin(std::fs::File::open(&piece).expect("piece"))
                    .output()
                    .expect("mosquitto_pub");
                assert!(o.status.success(), "mosquitto_pub: {}", String::from_utf8_lossy(&o.stderr));
            }
        })
    }

    fn publish_all(&self, topic: &str, file: &Path, args: &[&str]) {
        self.publish(topic, file, args).join().expect("published");
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }
}

fn wait(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let deadline = Instant::now() + limit;
    while !done() {
        assert!(Instant::now() < deadline, "waited {limit:?} for {what}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn count(db: &Path, sql: &str) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.busy_timeout(Duration::from_secs(10)).expect("busy");
    conn.query_row(sql, [], |r| r.get(0)).expect(sql)
}

fn telegrams(db: &Path) -> i64 {
    count(db, "SELECT count(*) FROM telegrams")
}

fn readings(db: &Path) -> i64 {
    count(db, "SELECT count(*) FROM readings")
}

/// A source's (state, state_code) as `releve sources list` shows it.
fn state(db: &Path, name: &str) -> (String, String) {
    let listed = releve(&["sources", "list", "--db", db.to_str().expect("utf8")]);
    let s: serde_json::Value = listed
        .lines()
        .filter_map(|l| serde_json::from_str::<serde_json::Value>(l).ok())
        .find(|s| s["name"] == name)
        .unwrap_or_else(|| panic!("no source {name} in {listed}"));
    assert!(s.get("password").is_none(), "the password is never shown: {s}");
    (s["state"].as_str().unwrap_or("").to_string(), s["state_code"].as_str().unwrap_or("").to_string())
}

fn add_mqtt(db: &Path, name: &str, url: &str, topic: &str, format: &str, extra: &[&str]) {
    let db = db.to_str().expect("utf8");
    let args = [&["sources", "add", "--db", db, "--name", name, "--kind", "mqtt", "--url", url, "--topic", topic, "--format", format][..], extra].concat();
    let out = releve(&args);
    assert!(out.contains("made"), "{out}");
}

/// `lines` rtl-wmbus lines of `meters` meters from serial `first`, written one a line to `file`.
fn lines_file(file: &Path, first: u32, meters: u32, lines: u32) {
    std::fs::write(file, drive_by(first, meters, lines)).expect("messages");
}

/// The same telegrams as `{"telegram": hex, "time": "..."}` lines.
fn jsonl_file(file: &Path, first: u32, meters: u32, lines: u32) {
    let text = String::from_utf8(drive_by(first, meters, lines)).expect("utf8");
    let json: String = text
        .lines()
        .map(|l| {
            let f: Vec<&str> = l.split(';').collect();
            format!("{}\n", serde_json::json!({"telegram": f[7], "time": f[3].trim_end_matches(".000")}))
        })
        .collect();
    std::fs::write(file, json).expect("messages");
}

#[test]
fn lines_and_jsonl_messages_are_stored_and_an_unreadable_one_is_logged() {
    let (dir, db) = demo_db();
    let broker = Broker::start(dir.path(), "");
    add_mqtt(&db, "gw-lines", &broker.url(), "releve/lines/#", "lines", &[]);
    add_mqtt(&db, "gw-json", &broker.url(), "releve/+/json", "jsonl", &[]);
    let (t0, r0) = (telegrams(&db), readings(&db));
    let _server = serve(db.to_str().expect("utf8"));
    wait("both sources running", Duration::from_secs(30), || state(&db, "gw-lines").0 == "running" && state(&db, "gw-json").0 == "running");

    let lines = dir.path().join("lines.txt");
    lines_file(&lines, 72_000_000, 50, 300);
    broker.publish_all("releve/lines/nord", &lines, &[]);
    let json = dir.path().join("json.txt");
    jsonl_file(&json, 73_000_000, 20, 100);
    // Two unreadable messages among them: odd hex, and no JSON at all.
    let mut text = std::fs::read_to_string(&json).expect("json");
    text.insert_str(0, "{\"telegram\":\"0A0\"}\n");
    text.push_str("not json at all\n");
    std::fs::write(&json, text).expect("json");
    broker.publish_all("releve/sud/json", &json, &[]);

    wait("400 telegrams stored", Duration::from_secs(60), || telegrams(&db) == t0 + 400);
    wait("two refusals logged", Duration::from_secs(30), || count(&db, "SELECT count(*) FROM source_log") == 2);
    assert_eq!(readings(&db), r0 + 400, "one reading a telegram");
    let log = count(&db, "SELECT count(*) FROM source_log l JOIN sources s ON s.id = l.source_id WHERE s.name = 'gw-json' AND l.code = 'bad_lines'");
    assert_eq!(log, 2, "both refusals are the JSON source's, as unreadable lines");
    let conn = rusqlite::Connection::open(&db).expect("open");
    let details: Vec<String> =
        conn.prepare("SELECT message || ' / ' || detail FROM source_log ORDER BY id").expect("log").query_map([], |r| r.get(0)).expect("rows").map(|r| r.expect("row")).collect();
    assert!(details[0].contains("odd") && details[0].contains("releve/sud/json: {\"telegram\":\"0A0\"}"), "{details:?}");
    assert!(details[1].contains("JSON") && details[1].contains("not json at all"), "{details:?}");
    let (code, total): (String, i64) =
        conn.query_row("SELECT last_error_code, telegrams_total FROM sources WHERE name = 'gw-json'", [], |r| Ok((r.get(0)?, r.get(1)?))).expect("source");
    assert_eq!((code.as_str(), total), ("bad_lines", 100), "the last refusal is shown; the readable ones counted");
    let imports = count(&db, "SELECT count(*) FROM imports WHERE source LIKE 'gw-%: mqtt'");
    assert!((2..100).contains(&imports), "messages are stored in batches, not one import each: {imports}");

    // A removed source's session is ended at the broker (a clean-session connection under
    // its client id), so the broker stops keeping messages for it.
    releve(&["sources", "remove", "--db", db.to_str().expect("utf8"), "--name", "gw-lines"]);
    let log = dir.path().join("broker").join("mosquitto.log");
    wait("the session ended", Duration::from_secs(30), || {
        let text = std::fs::read_to_string(&log).unwrap_or_default();
        text.lines().any(|l| l.contains("as releve-gw-lines-") && l.contains(" c1,"))
    });

    // A source that cannot be made: named with its field.
    for (args, words) in [
        (vec!["--url", "http://127.0.0.1:1883", "--topic", "a/#"], "url"),
        (vec!["--url", &broker.url(), "--topic", "a/#/b"], "topic"),
        (vec!["--url", "mqtts://127.0.0.1:8883", "--topic", "a", "--ca", "/nowhere/ca.pem"], "ca_file"),
    ] {
        let o = Command::new(BIN)
            .args(["sources", "add", "--db", db.to_str().expect("utf8"), "--name", "bad", "--kind", "mqtt", "--format", "lines"])
            .args(&args)
            .env("RELEVE_PASSWORD", "manager")
            .output()
            .expect("releve");
        let err = String::from_utf8_lossy(&o.stderr);
        assert!(!o.status.success() && err.contains(words), "{args:?}: {err}");
    }
}

#[test]
fn a_persistent_session_keeps_what_was_published_while_serve_was_down_and_a_broker_restart_loses_nothing() {
    let (dir, db) = demo_db();
    let mut broker = Broker::start(dir.path(), "");
    add_mqtt(&db, "gw", &broker.url(), "releve/up", "lines", &[]);
    let t0 = telegrams(&db);
    let server = serve(db.to_str().expect("utf8"));
    wait("running", Duration::from_secs(30), || state(&db, "gw").0 == "running");
    drop(server);

    // Published while Relevé is down: the broker keeps them for its session.
    let file = dir.path().join("down.txt");
    lines_file(&file, 74_000_000, 100, 1_000);
    broker.publish_all("releve/up", &file, &[]);
    assert_eq!(telegrams(&db), t0);
    let server = serve(db.to_str().expect("utf8"));
    wait("the 1,000 kept messages", Duration::from_secs(60), || telegrams(&db) == t0 + 1_000);
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(telegrams(&db), t0 + 1_000, "each once");
    drop(server);

    // 20,000 wait at the broker; it restarts while Relevé takes them.
    let file = dir.path().join("restart.txt");
    lines_file(&file, 75_000_000, 1_000, 20_000);
    broker.publish_all("releve/up", &file, &[]);
    let _server = serve(db.to_str().expect("utf8"));
    wait("the stream started", Duration::from_secs(60), || telegrams(&db) > t0 + 1_000);
    broker.stop();
    let during = telegrams(&db);
    broker.run();
    wait("all 21,000", Duration::from_secs(120), || telegrams(&db) == t0 + 21_000);
    assert!(during < t0 + 21_000, "the broker stopped in the middle of the stream ({} of 21,000 stored)", during - t0);
    wait("running again", Duration::from_secs(30), || state(&db, "gw").0 == "running");
    std::thread::sleep(Duration::from_secs(2));
    assert_eq!(telegrams(&db), t0 + 21_000, "nothing twice");
    assert_eq!(count(&db, "SELECT count(*) FROM readings WHERE meter_id IN (SELECT id FROM meters WHERE serial LIKE '75%')"), 20_000);
}

#[test]
fn serve_killed_in_the_middle_of_a_stream_stores_every_telegram_once() {
    let (dir, db) = demo_db();
    let broker = Broker::start(dir.path(), "");
    add_mqtt(&db, "gw", &broker.url(), "releve/up", "lines", &[]);
    let (t0, r0) = (telegrams(&db), readings(&db));
    let server = serve(db.to_str().expect("utf8"));
    wait("running", Duration::from_secs(30), || state(&db, "gw").0 == "running");

    let file = dir.path().join("stream.txt");
    lines_file(&file, 76_000_000, 2_000, 100_000);
    let publisher = broker.publish("releve/up", &file, &[]);
    wait("the stream started", Duration::from_secs(120), || telegrams(&db) > t0 + 10_000);
    drop(server); // SIGKILL: batches gathered, committed or not, acknowledged or not
    let at_kill = telegrams(&db) - t0;
    let _server = serve(db.to_str().expect("utf8"));
    publisher.join().expect("published");
    wait("all 100,000", Duration::from_secs(300), || telegrams(&db) == t0 + 100_000);
    std::thread::sleep(Duration::from_secs(3));
    assert_eq!(telegrams(&db), t0 + 100_000, "every telegram once (killed at {at_kill})");
    assert_eq!(readings(&db), r0 + 100_000, "every reading once");
    assert!(at_kill < 100_000, "killed in the middle ({at_kill} stored)");
}

/// `openssl` with `args`, in `dir`.
fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
    assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

#[test]
fn mqtts_with_a_client_certificate_and_a_password_and_a_wrong_password_said_in_words() {
    let (dir, db) = demo_db();
    let pki = dir.path().join("pki");
    std::fs::create_dir_all(&pki).expect("pki");
    openssl(&pki, &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Releve test CA", "-keyout", "ca.key", "-out", "ca.pem"]);
    for (name, ext) in [("server", "subjectAltName=IP:127.0.0.1,DNS:localhost"), ("client", "extendedKeyUsage=clientAuth")] {
        openssl(&pki, &["req", "-newkey", "rsa:2048", "-nodes", "-subj", &format!("/CN={name}"), "-keyout", &format!("{name}.key"), "-out", &format!("{name}.csr")]);
        std::fs::write(pki.join(format!("{name}.ext")), format!("{ext}\n")).expect("ext");
        openssl(&pki, &["x509", "-req", "-in", &format!("{name}.csr"), "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2",
            "-extfile", &format!("{name}.ext"), "-out", &format!("{name}.pem")]);
    }
    let passwords = pki.join("passwd");
    std::fs::write(&passwords, "").expect("passwd");
    let o = Command::new("mosquitto_passwd").args(["-b", passwords.to_str().expect("utf8"), "releve", "s3cret-pw"]).output().expect("mosquitto_passwd");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let p = |f: &str| pki.join(f).display().to_string();
    let tls = format!(
        "cafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\npassword_file {}\n",
        p("ca.pem"),
        p("server.pem"),
        p("server.key"),
        passwords.display()
    );
    let broker = Broker::start(dir.path(), &tls);
    let url = format!("mqtts://127.0.0.1:{}", broker.port);
    let files = [p("ca.pem"), p("client.pem"), p("client.key")];
    let secure = ["--ca", &files[0], "--cert", &files[1], "--key", &files[2]];
    add_mqtt(&db, "gw-tls", &url, "releve/tls", "jsonl", &[&secure[..], &["--username", "releve", "--password", "s3cret-pw"]].concat());
    add_mqtt(&db, "gw-wrong", &url, "releve/tls", "jsonl", &[&secure[..], &["--username", "releve", "--broker-password", "not-it"]].concat());
    let t0 = telegrams(&db);
    let _server = serve(db.to_str().expect("utf8"));
    wait("the TLS source running", Duration::from_secs(30), || state(&db, "gw-tls").0 == "running");

    let file = dir.path().join("tls.txt");
    jsonl_file(&file, 77_000_000, 10, 50);
    let auth = ["--cafile", &files[0], "--cert", &files[1], "--key", &files[2], "-u", "releve", "-P", "s3cret-pw"];
    broker.publish_all("releve/tls", &file, &auth);
    wait("50 telegrams over TLS", Duration::from_secs(60), || telegrams(&db) == t0 + 50);

    wait("the wrong password said", Duration::from_secs(30), || state(&db, "gw-wrong") == ("reconnecting".to_string(), "mqtt_refused_login".to_string()));
    let message = count_text(&db, "SELECT state_message FROM sources WHERE name = 'gw-wrong'");
    assert!(message.contains("refused"), "the broker's words are kept: {message}");
    let listed = releve(&["sources", "list", "--db", db.to_str().expect("utf8")]);
    assert!(!listed.contains("s3cret-pw") && !listed.contains("not-it"), "passwords are never shown: {listed}");
}

fn count_text(db: &Path, sql: &str) -> String {
    let conn = rusqlite::Connection::open(db).expect("open");
    conn.query_row(sql, [], |r| r.get(0)).expect(sql)
}

/// A ChirpStack v4 `up` event (JSON on one line, as its MQTT integration publishes it).
fn chirpstack_up(dev_eui: &str, f_cnt: u32, data: &[u8], at: i64, gateways: &[(&str, i64, f64)]) -> String {
    use base64::Engine;
    let time = chrono::DateTime::from_timestamp(at, 0).expect("time").format("%Y-%m-%dT%H:%M:%S.123456789+00:00").to_string();
    let rx: Vec<serde_json::Value> =
        gateways.iter().map(|(g, rssi, snr)| serde_json::json!({"gatewayId": g, "uplinkId": 1, "rssi": rssi, "snr": snr, "nsTime": time})).collect();
    serde_json::json!({
        "deduplicationId": "3ac7e3c4-4401-4b8d-9386-a5c902f9202d", "time": time,
        "deviceInfo": {"tenantName": "ChirpStack", "applicationName": "Compteurs", "deviceName": "d", "devEui": dev_eui.to_lowercase()},
        "devAddr": "00189440", "dr": 5, "fCnt": f_cnt, "fPort": 1,
        "data": base64::engine::general_purpose::STANDARD.encode(data), "rxInfo": rx,
    })
    .to_string()
}

/// LoRaWAN over MQTT: ChirpStack `up` events of a registered Kamstrup meter (an M-Bus
/// application layer, CI 78) heard by two gateways, an unknown DevEUI's uplink and an event
/// with bad base64, published on ChirpStack's topics: the meter's telegrams are stored once
/// with two receptions each, the unknown device is kept, the bad event is logged.
#[test]
fn chirpstack_events_over_mqtt_are_decoded_kept_or_logged() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");
    let csv = dir.path().join("objets.csv");
    std::fs::write(&csv, "dev_eui;serial;brand;model;payload;address;city;commissioned\n70B3D5E75E00A1B2;61234567;Kamstrup;flowIQ 2200;wmbus-app;12 rue Gambetta;Saint-Chamond;2026-02-01\n").expect("csv");
    releve(&["lorawan", "devices", "import", "--db", db_s, csv.to_str().expect("utf8")]);
    let broker = Broker::start(dir.path(), "");
    add_mqtt(&db, "chirpstack", &broker.url(), "application/+/device/+/event/up", "chirpstack", &[]);
    let t0 = telegrams(&db);
    let _server = serve(db_s);
    wait("the source running", Duration::from_secs(30), || state(&db, "chirpstack").0 == "running");

    let now = chrono::Utc::now().timestamp();
    let mut events = String::new();
    for i in 0..300u32 {
        let mut payload = vec![0x78, 0x04, 0x13];
        payload.extend_from_slice(&(1_000_000 + i * 10).to_le_bytes());
        let at = now - 3_600 + i64::from(i) * 10;
        events.push_str(&chirpstack_up("70B3D5E75E00A1B2", i + 1, &payload, at, &[("0016c001f153a14c", -98, 6.5), ("0016c001f153a15d", -112, -4.0)]));
        events.push('\n');
    }
    let file = dir.path().join("up.jsonl");
    std::fs::write(&file, events).expect("events");
    broker.publish_all("application/17c82e96/device/70b3d5e75e00a1b2/event/up", &file, &[]);
    let odd = dir.path().join("odd.jsonl");
    let unknown = chirpstack_up("A84041000181B365", 7, &[0xCA, 0xFE], now - 30, &[("0016c001f153a14c", -80, 9.0)]);
    let bad = chirpstack_up("A84041000181B366", 8, &[1], now - 20, &[]).replace("\"data\":\"AQ==\"", "\"data\":\"@@not base64@@\"");
    std::fs::write(&odd, format!("{unknown}\n{bad}\n")).expect("events");
    broker.publish_all("application/17c82e96/device/a84041000181b365/event/up", &odd, &[]);

    wait("300 telegrams stored", Duration::from_secs(60), || telegrams(&db) == t0 + 300);
    wait("the bad event logged", Duration::from_secs(30), || count(&db, "SELECT count(*) FROM source_log") == 1);
    let meter = "(SELECT id FROM meters WHERE serial = '61234567' AND manufacturer = 'KAM')";
    assert_eq!(count(&db, &format!("SELECT count(*) FROM receptions WHERE meter_id = {meter}")), 600, "two gateways heard each");
    assert_eq!(count(&db, &format!("SELECT count(*) FROM readings WHERE meter_id = {meter} AND register = (SELECT register FROM readings WHERE meter_id = {meter} LIMIT 1)")), 300);
    assert_eq!(count(&db, &format!("SELECT CAST(max(value) * 1000 AS INTEGER) FROM readings WHERE meter_id = {meter}")), 1_002_990);
    assert_eq!(count(&db, "SELECT count(*) FROM lorawan_uplinks WHERE dev_eui = 'A84041000181B365' AND outcome = 'unknown-device'"), 1);
    assert_eq!(count(&db, "SELECT uplinks FROM lorawan_devices WHERE dev_eui = '70B3D5E75E00A1B2'"), 300);
    let log = count_text(&db, "SELECT message FROM source_log");
    assert!(log.contains("base64"), "{log}");
    let imports = count(&db, "SELECT count(*) FROM imports WHERE source = 'chirpstack: mqtt'");
    assert!(imports < 300, "events stored in batches: {imports} imports");
}
