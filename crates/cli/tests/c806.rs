//! The Elia C8/06 aFRR gateway as a BSP runs it: certificates made here with openssl (a CA,
//! the broker's, the gateway's exported as a PFX with a password and imported through
//! `releve c806 pfx-import`), mosquitto with TLS requiring client certificates, the real
//! `releve c806 run` (and `releve serve`) behind a TCP proxy the test can cut, and the
//! platform played with `mosquitto_pub`/`mosquitto_sub` and `openssl pkeyutl` (keys
//! encrypted with the gateway certificate's public key). Every message the platform gets is
//! decrypted and checked: header, body, the slots of each SDP all there and in order, at most
//! one message per gap, groups of at most 15 only when catching up.

#[path = "support/releve.rs"]
mod releve;

use aes::cipher::{block_padding::Pkcs7, BlockDecryptMut, KeyIvInit};
use base64::Engine;
use releve::{demo_db, BIN};
use serde_json::{json, Value};
use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::{Shutdown, TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

const EPOCH_MS: i64 = 1_546_300_800_000;
const B64: base64::engine::GeneralPurpose = base64::engine::general_purpose::STANDARD;
const SDP_METER: &str = "541449000000000017";
const SDP_FEED: &str = "541449000000000024";

fn now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

fn releve_out(db: &Path, args: &[&str]) -> std::process::Output {
    let mut all = vec![args[0], args[1], "--db", db.to_str().expect("utf8")];
    all.extend_from_slice(&args[2..]);
    Command::new(BIN).args(&all).env("RELEVE_PASSWORD", "manager").output().expect("releve")
}

fn releve(db: &Path, args: &[&str]) -> String {
    let o = releve_out(db, args);
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "releve {args:?}: {out}");
    out
}

fn status(db: &Path) -> Value {
    serde_json::from_str(releve(db, &["c806", "status"]).trim()).expect("status json")
}

fn wait(what: &str, limit: Duration, mut done: impl FnMut() -> bool) {
    let start = Instant::now();
    while !done() {
        assert!(start.elapsed() < limit, "{what}: not within {limit:?}");
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port()
}

fn openssl(dir: &Path, args: &[&str]) {
    let o = Command::new("openssl").args(args).current_dir(dir).output().expect("openssl");
    assert!(o.status.success(), "openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr));
}

/// A CA, the broker's certificate, the platform's client certificate and the gateway's
/// (exported as gateway.pfx with the password "pfx-pw"), and a second CA's gateway
/// certificate (stranger.pfx) the broker does not trust.
fn pki(dir: &Path) -> PathBuf {
    let pki = dir.join("pki");
    std::fs::create_dir_all(&pki).expect("pki");
    for ca in ["ca", "otherca"] {
        openssl(&pki, &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", &format!("/CN=Test {ca}"), "-keyout", &format!("{ca}.key"), "-out", &format!("{ca}.pem")]);
    }
    for (name, ca, ext) in [
        ("server", "ca", "subjectAltName=IP:127.0.0.1,DNS:localhost"),
        ("platform", "ca", "extendedKeyUsage=clientAuth"),
        ("gateway", "ca", "extendedKeyUsage=clientAuth"),
        ("stranger", "otherca", "extendedKeyUsage=clientAuth"),
    ] {
        openssl(&pki, &["req", "-newkey", "rsa:2048", "-nodes", "-subj", &format!("/CN={name}"), "-keyout", &format!("{name}.key"), "-out", &format!("{name}.csr")]);
        std::fs::write(pki.join(format!("{name}.ext")), format!("{ext}\n")).expect("ext");
        openssl(&pki, &["x509", "-req", "-in", &format!("{name}.csr"), "-CA", &format!("{ca}.pem"), "-CAkey", &format!("{ca}.key"), "-CAcreateserial",
            "-days", "2", "-extfile", &format!("{name}.ext"), "-out", &format!("{name}.pem")]);
    }
    for (name, ca) in [("gateway", "ca"), ("stranger", "otherca")] {
        openssl(&pki, &["pkcs12", "-export", "-inkey", &format!("{name}.key"), "-in", &format!("{name}.pem"), "-certfile", &format!("{ca}.pem"),
            "-out", &format!("{name}.pfx"), "-passout", "pass:pfx-pw"]);
        openssl(&pki, &["x509", "-in", &format!("{name}.pem"), "-pubkey", "-noout", "-out", &format!("{name}.pub")]);
    }
    pki
}

/// mosquitto with TLS requiring a client certificate of the test CA; stopped on drop.
struct Broker {
    child: Child,
    port: u16,
}

impl Broker {
    fn start(dir: &Path, pki: &Path) -> Broker {
        let port = free_port();
        let me = Command::new("id").arg("-un").output().expect("id");
        let me = String::from_utf8_lossy(&me.stdout).trim().to_string();
        let p = |f: &str| pki.join(f).display().to_string();
        let conf = dir.join("mosquitto.conf");
        std::fs::write(
            &conf,
            format!(
                "user {me}\nlistener {port} 127.0.0.1\nallow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\nlog_dest file {}\n",
                p("ca.pem"),
                p("server.pem"),
                p("server.key"),
                dir.join("mosquitto.log").display()
            ),
        )
        .expect("conf");
        let child = Command::new("mosquitto").arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("mosquitto");
        wait("mosquitto listening", Duration::from_secs(20), || TcpStream::connect(("127.0.0.1", port)).is_ok());
        Broker { child, port }
    }
}

impl Drop for Broker {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A TCP proxy to the broker that the test can cut: while cut, its connections are closed
/// and new ones closed at once.
struct Proxy {
    port: u16,
    cut: Arc<AtomicBool>,
    open: Arc<Mutex<Vec<TcpStream>>>,
}

impl Proxy {
    fn start(to: u16) -> Proxy {
        let listener = TcpListener::bind("127.0.0.1:0").expect("proxy");
        let port = listener.local_addr().expect("addr").port();
        let cut = Arc::new(AtomicBool::new(false));
        let open: Arc<Mutex<Vec<TcpStream>>> = Arc::default();
        let (c, o) = (cut.clone(), open.clone());
        std::thread::spawn(move || {
            for client in listener.incoming().flatten() {
                if c.load(Ordering::SeqCst) {
                    let _ = client.shutdown(Shutdown::Both);
                    continue;
                }
                let Ok(server) = TcpStream::connect(("127.0.0.1", to)) else { continue };
                let _ = client.set_nodelay(true);
                let _ = server.set_nodelay(true);
                for s in [&client, &server] {
                    if let Ok(s) = s.try_clone() {
                        o.lock().expect("lock").push(s);
                    }
                }
                for (mut from, mut into) in [(client.try_clone().expect("clone"), server.try_clone().expect("clone")), (server, client)] {
                    std::thread::spawn(move || {
                        let mut buf = [0u8; 16384];
                        while let Ok(n) = from.read(&mut buf) {
                            if n == 0 || into.write_all(&buf[..n]).is_err() {
                                break;
                            }
                        }
                        let _ = into.shutdown(Shutdown::Both);
                    });
                }
            }
        });
        Proxy { port, cut, open }
    }

    fn set_cut(&self, cut: bool) {
        self.cut.store(cut, Ordering::SeqCst);
        if cut {
            for s in self.open.lock().expect("lock").drain(..) {
                let _ = s.shutdown(Shutdown::Both);
            }
        }
    }
}

/// The platform: `mosquitto_sub` on the gateway's device-to-cloud topic (each message with
/// its arrival time), `mosquitto_pub` to its cloud-to-device topic.
struct Platform {
    sub: Child,
    out: PathBuf,
    port: u16,
    pki: PathBuf,
    gid: String,
}

impl Platform {
    fn start(dir: &Path, pki: &Path, port: u16, gid: &str) -> Platform {
        let out = dir.join(format!("platform-{gid}.txt"));
        let p = |f: &str| pki.join(f).display().to_string();
        let sub = Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--cafile", &p("ca.pem"), "--cert", &p("platform.pem"), "--key", &p("platform.key")])
            .args(["-q", "1", "-F", "%U %p", "-t", &format!("devices/{gid}/messages/events/")])
            .stdout(std::fs::File::create(&out).expect("out"))
            .stderr(Stdio::null())
            .spawn()
            .expect("mosquitto_sub");
        std::thread::sleep(Duration::from_millis(1500));
        Platform { sub, out, port, pki: pki.to_path_buf(), gid: gid.into() }
    }

    fn publish(&self, payload: &str) {
        let p = |f: &str| self.pki.join(f).display().to_string();
        let o = Command::new("mosquitto_pub")
            .args(["-h", "127.0.0.1", "-p", &self.port.to_string(), "--cafile", &p("ca.pem"), "--cert", &p("platform.pem"), "--key", &p("platform.key")])
            .args(["-q", "1", "-t", &format!("devices/{}/messages/devicebound/x", self.gid), "-m", payload])
            .output()
            .expect("mosquitto_pub");
        assert!(o.status.success(), "mosquitto_pub: {}", String::from_utf8_lossy(&o.stderr));
    }

    /// What arrived: (arrival Unix ms, message).
    fn received(&self) -> Vec<(i64, Value)> {
        let text = std::fs::read_to_string(&self.out).unwrap_or_default();
        text.lines()
            .filter_map(|l| {
                let (at, msg) = l.split_once(' ')?;
                let at: f64 = at.parse().ok()?;
                Some(((at * 1000.0) as i64, serde_json::from_str(msg).ok()?))
            })
            .collect()
    }

    fn of_type(&self, mt: &str) -> Vec<(i64, Value)> {
        self.received().into_iter().filter(|(_, m)| m["MT"] == mt).collect()
    }

    /// An ENCRYPTIONKEY message: the key description encrypted with `public` (`padding`: an
    /// `openssl pkeyutl` option set).
    fn key_message(&self, public: &str, key: &[u8; 16], version: i64, from_ms: i64, to_ms: i64, padding: &[&str]) -> String {
        let plain = json!({"MT": "AFRR", "KEY": B64.encode(key), "KV": version, "KT": "AES", "VF": from_ms - EPOCH_MS, "VT": to_ms - EPOCH_MS});
        let name = format!("key{version}-{}", rand_suffix());
        std::fs::write(self.pki.join(format!("{name}.json")), plain.to_string()).expect("plain");
        let mut args = vec!["pkeyutl", "-encrypt", "-pubin", "-inkey", public, "-in"];
        let (inp, out) = (format!("{name}.json"), format!("{name}.bin"));
        args.extend_from_slice(&[&inp, "-out", &out]);
        args.extend_from_slice(padding);
        openssl(&self.pki, &args);
        let cipher = std::fs::read(self.pki.join(&out)).expect("cipher");
        json!({"MT": "ENCRYPTIONKEY", "Body": B64.encode(cipher)}).to_string()
    }
}

fn rand_suffix() -> u128 {
    std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map_or(0, |d| d.as_nanos())
}

impl Drop for Platform {
    fn drop(&mut self) {
        let _ = self.sub.kill();
        let _ = self.sub.wait();
    }
}

/// `releve c806 run` (or `releve serve`), killed on drop.
struct Runner(Child);

impl Runner {
    fn c806(db: &Path, slot_ms: Option<i64>) -> Runner {
        let mut c = Command::new(BIN);
        c.args(["c806", "run", "--db", db.to_str().expect("utf8")]).stdout(Stdio::null()).stderr(Stdio::null());
        if let Some(ms) = slot_ms {
            c.env("RELEVE_C806_SLOT_MS", ms.to_string());
        }
        Runner(c.spawn().expect("releve c806 run"))
    }
}

impl Drop for Runner {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

const OAEP256: [&str; 4] = ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha256"];
const OAEP1: [&str; 4] = ["-pkeyopt", "rsa_padding_mode:oaep", "-pkeyopt", "rsa_oaep_md:sha1"];
const PKCS1: [&str; 2] = ["-pkeyopt", "rsa_padding_mode:pkcs1"];

/// An electricity meter with P+ 2.5 MW and P- 0.5 MW as its latest readings (DPM 2.0 MW);
/// its id.
fn electricity_meter(db: &Path) -> i64 {
    let conn = rusqlite::Connection::open(db).expect("db");
    conn.execute("INSERT INTO meters(serial, manufacturer, device_type, created_at) VALUES ('EL000017', 'KAM', 'electricity', 0)", []).expect("meter");
    let id = conn.last_insert_rowid();
    for (register, ts, w) in [(5, 100, 1_000_000.0), (5, 200, 2_500_000.0), (6, 200, 500_000.0)] {
        conn.execute("INSERT INTO readings(meter_id, register, ts, value) VALUES (?1, ?2, ?3, ?4)", rusqlite::params![id, register, ts, w]).expect("reading");
    }
    id
}

/// Make the gateway of `db`: broker, GID, SID, its PFX and two SDPs (one on a meter, one
/// on a power feed with set-points).
fn configure(db: &Path, pki: &Path, port: u16, gid: &str, pfx: &str) {
    let ca = pki.join("ca.pem").display().to_string();
    releve(db, &["c806", "gateway", "--broker", &format!("mqtts://127.0.0.1:{port}"), "--gid", gid, "--sid", "84V-UOU-40P", "--ca", &ca, "--enable"]);
    let pfx = pki.join(pfx).display().to_string();
    let wrong = releve_out(db, &["c806", "pfx-import", &pfx, "--pfx-password", "not-this"]);
    let said = String::from_utf8_lossy(&wrong.stderr).to_string() + &String::from_utf8_lossy(&wrong.stdout);
    assert!(!wrong.status.success() && said.contains("password"), "a wrong PFX password said in words: {said}");
    let out = releve(db, &["c806", "pfx-import", &pfx, "--pfx-password", "pfx-pw"]);
    assert!(out.contains("imported") && out.contains(gid), "{out}");
    let meter = electricity_meter(db);
    releve(db, &["c806", "sdp", "--ean", SDP_METER, "--meter", &meter.to_string()]);
    releve(db, &["c806", "sdp", "--ean", SDP_FEED]);
    releve(db, &["c806", "setpoints", "--ean", SDP_FEED, "--dpm", "1.5", "--dpb", "1.25", "--as", "1", "--ps", "0.2"]);
    let bad = releve_out(db, &["c806", "setpoints", "--ean", "541449000000009999", "--dpm", "1"]);
    assert!(!bad.status.success() && String::from_utf8_lossy(&bad.stderr).contains("541449000000009999"), "an unknown SDP named");
    let s = status(db);
    let dpm: BTreeMap<String, Option<f64>> = s["sdps"].as_array().expect("sdps").iter().map(|x| (x["ean"].as_str().unwrap_or_default().to_string(), x["dpm_mw"].as_f64())).collect();
    assert_eq!((dpm[SDP_METER], dpm[SDP_FEED]), (Some(2.0), Some(1.5)), "DPM: P+ 2.5 MW - P- 0.5 MW, and the feed: {s}");
    let shown = releve(db, &["c806", "status"]);
    assert!(!shown.contains("\"private_key\"") && !shown.contains("cert_chain") && !shown.contains("BEGIN"), "the key is never shown: {shown}");
}

/// An aFRR message opened: (EKV, CTS Unix ms, items).
fn open(msg: &Value, keys: &BTreeMap<i64, [u8; 16]>) -> (i64, i64, Vec<Value>) {
    assert_eq!((msg["HV"].as_i64(), msg["BV"].as_i64(), msg["SID"].as_str()), (Some(1), Some(1), Some("84V-UOU-40P")), "{msg}");
    let ekv = msg["EKV"].as_i64().expect("EKV");
    let key = keys.get(&ekv).unwrap_or_else(|| panic!("EKV {ekv} is no key the platform sent: {msg}"));
    let cipher = B64.decode(msg["Body"].as_str().expect("Body")).expect("base64");
    let plain = cbc::Decryptor::<aes::Aes128>::new(key.into(), key.into()).decrypt_padded_vec_mut::<Pkcs7>(&cipher).expect("decrypts with its key, IV = key");
    let items: Vec<Value> = serde_json::from_slice(&plain).expect("body JSON");
    (ekv, msg["CTS"].as_i64().expect("CTS") + EPOCH_MS, items)
}

#[test]
fn the_gateway_sends_every_slot_encrypted_buffers_a_cut_rolls_its_key_and_answers_heartbeats() {
    const SLOT: i64 = 400; // the test knob: a slot every 400 ms, a message every 100 ms at most
    const GAP: i64 = SLOT / 4;
    let (dir, db) = demo_db();
    let pki = pki(dir.path());
    let broker = Broker::start(dir.path(), &pki);
    let proxy = Proxy::start(broker.port);
    configure(&db, &pki, proxy.port, "GW1", "gateway.pfx");
    let platform = Platform::start(dir.path(), &pki, broker.port, "GW1");
    let public = pki.join("gateway.pub").display().to_string();
    let mut runner = Runner::c806(&db, Some(SLOT));

    // No key yet: the gateway asks for one and buffers its values meanwhile.
    wait("a key request", Duration::from_secs(30), || !platform.of_type("ENCRYPTIONKEYREQUEST").is_empty());
    wait("values buffered without a key", Duration::from_secs(10), || status(&db)["buffered"].as_i64().unwrap_or(0) >= 6);
    assert_eq!(status(&db)["gateway"]["state"], "connected");
    let mut keys = BTreeMap::new();
    let (k1, k2) = ([0x11u8; 16], [0x22u8; 16]);
    keys.insert(1, k1);
    keys.insert(2, k2);
    let t = now_ms();
    platform.publish(&platform.key_message(&public, &k1, 1, t - 3_600_000, t + 35 * 3_600_000, &OAEP256));
    wait("the buffer sent once the key came", Duration::from_secs(30), || status(&db)["buffered"].as_i64().unwrap_or(99) <= 2);
    let s = status(&db);
    assert_eq!((s["keys"][0]["version"].as_i64(), s["keys"][0]["current"].as_bool()), (Some(1), Some(true)), "{s}");

    // Heartbeats: with the clock and version questions, and without.
    platform.publish(r#"{"MID":36,"MT":"HEARTBEAT","Body":"{\"TS\":1,\"GWV\":1}"}"#);
    platform.publish(r#"{"MID":37,"MT":"HEARTBEAT"}"#);
    wait("two heartbeat answers", Duration::from_secs(10), || platform.of_type("HEARTBEAT").len() == 2);
    let answers = platform.of_type("HEARTBEAT");
    let (at36, a36) = &answers[0];
    assert_eq!((a36["MID"].as_i64(), a36["GID"].as_str()), (Some(36), Some("GW1")), "{a36}");
    assert!((a36["CTS"].as_i64().expect("CTS") + EPOCH_MS - at36).abs() < 2000, "CTS is the sending time: {a36}");
    let versions: Value = serde_json::from_str(a36["Body"].as_str().expect("SV/FWV asked")).expect("body");
    assert!(versions["SV"].is_string() && versions["FWV"].is_string(), "{versions}");
    assert!(answers[1].1.get("Body").is_none() && answers[1].1["MID"] == 37, "{}", answers[1].1);
    let s = status(&db);
    assert!(s["gateway"]["clock_sync_at"].is_i64(), "the clock synchronisation asked is shown: {s}");
    assert_eq!(s["heartbeats"][0]["mid"], 37);

    // A key message that does not decrypt: said, naming the gateway; the key kept.
    let stranger = pki.join("stranger.pub").display().to_string();
    platform.publish(&platform.key_message(&stranger, &[0x33; 16], 3, t, t + 36 * 3_600_000, &OAEP1));
    wait("the bad key said", Duration::from_secs(10), || status(&db)["gateway"]["key_error"].is_string());
    let s = status(&db);
    let said = s["gateway"]["key_error"].as_str().unwrap_or_default();
    assert!(said.contains("GW1") && said.contains("does not decrypt"), "{said}");
    assert_eq!(s["keys"].as_array().map(Vec::len), Some(1), "the key kept as it was: {s}");

    // The connection cut for 6 s: the values wait; the runner restarted in the middle (the
    // buffer is in the database); all sent in order after, grouped while catching up.
    proxy.set_cut(true);
    let cut_at = now_ms();
    wait("the cut said", Duration::from_secs(10), || status(&db)["gateway"]["state"] == "reconnecting");
    assert!(status(&db)["gateway"]["state_message"].as_str().is_some_and(|m| m.contains("GW1")));
    std::thread::sleep(Duration::from_millis(2500));
    drop(runner);
    let down_from = now_ms();
    std::thread::sleep(Duration::from_millis(500));
    runner = Runner::c806(&db, Some(SLOT));
    // The killed runner's claim on the gateway lasts 6 s: the new one takes over then.
    let down_to = now_ms() + 6000;
    std::thread::sleep(Duration::from_millis(9000));
    let buffered = status(&db)["buffered"].as_i64().unwrap_or(0);
    assert!(buffered >= 2 * (5000 / SLOT) - 4, "{buffered} values buffered during the cut");
    let s = status(&db);
    assert_eq!(s["gateway"]["state"], "reconnecting", "the new runner holds the gateway and says the cut: {s}");
    proxy.set_cut(false);
    let back_at = now_ms();
    wait("the buffer sent after the cut", Duration::from_secs(30), || status(&db)["buffered"].as_i64().unwrap_or(99) <= 2);

    // Key 2, valid from 2 s on (PKCS#1 v1.5 this time): the messages take it then.
    let vf2 = now_ms() + 2000;
    platform.publish(&platform.key_message(&public, &k2, 2, vf2, vf2 + 36 * 3_600_000, &PKCS1));
    wait("messages under key 2", Duration::from_secs(15), || platform.of_type("AFRR").iter().any(|(_, m)| m["EKV"] == 2));
    std::thread::sleep(Duration::from_millis(1500));
    drop(runner);
    let platform_key_requests = platform.of_type("ENCRYPTIONKEYREQUEST").len();
    assert_eq!(platform_key_requests, 1, "a key request only while no key is valid (not after the restart)");

    // Every message checked.
    let afrr = platform.of_type("AFRR");
    assert!(afrr.len() >= 20, "{} messages", afrr.len());
    let mut slots: BTreeMap<String, Vec<i64>> = BTreeMap::new();
    let mut last_cts = 0;
    let mut grouped = 0;
    for (_, msg) in &afrr {
        assert_eq!(msg["GID"], "GW1");
        let (ekv, cts, items) = open(msg, &keys);
        assert!(cts - last_cts >= GAP - 5, "at most one message per {GAP} ms: {} ms between two", cts - last_cts);
        last_cts = cts;
        if ekv == 1 {
            assert!(cts < vf2 + SLOT, "key 1 used after key 2 became valid");
        } else {
            assert!(cts >= vf2, "key 2 used before its start");
        }
        assert!((1..=15).contains(&items.len()), "{} values in one message", items.len());
        if items.len() > 1 {
            grouped += 1;
            assert!(items.iter().all(|i| i["SDP"] == items[0]["SDP"]), "a group is of one SDP");
            let span = items.last().map_or(0, |i| i["MTS"].as_i64().unwrap_or(0)) - items[0]["MTS"].as_i64().unwrap_or(0);
            assert!(span < 60_000, "a group spans at most a minute");
        }
        for item in &items {
            let sdp = item["SDP"].as_str().expect("SDP").to_string();
            let (dpm, dpb, active, ps) = if sdp == SDP_METER { (2.0, 2.0, 0, 0.0) } else { (1.5, 1.25, 1, 0.2) };
            assert_eq!((item["DPM"].as_f64(), item["DPB"].as_f64(), item["AS"].as_i64(), item["PS"].as_f64()), (Some(dpm), Some(dpb), Some(active), Some(ps)), "{item}");
            let mts = item["MTS"].as_i64().expect("MTS") + EPOCH_MS;
            assert_eq!(mts % SLOT, 0, "MTS on a slot: {item}");
            slots.entry(sdp).or_default().push(mts);
        }
    }
    assert!(grouped > 0, "values grouped while catching up");
    assert_eq!(slots.len(), 2, "both SDPs sent");
    for (sdp, mts) in &slots {
        // At least once: a message whose acknowledgement the cut took is sent again.
        let again = mts.windows(2).filter(|w| w[1] == w[0]).count();
        assert!(again <= 15, "SDP {sdp}: {again} values sent twice");
        let mut mts = mts.clone();
        mts.dedup();
        for w in mts.windows(2) {
            assert!(w[1] > w[0], "SDP {sdp}: slots in order ({} then {})", w[0], w[1]);
            if w[1] - w[0] != SLOT {
                // Only the restart (no runner holding the gateway) leaves slots without a value.
                assert!(w[0] >= down_from - 2 * SLOT && w[1] <= down_to + 2 * SLOT, "SDP {sdp}: slots {} to {} missing", w[0] + SLOT, w[1] - SLOT);
            }
        }
        assert!(mts.iter().any(|m| (cut_at..back_at).contains(m)), "SDP {sdp}: the cut's slots were sent after it");
    }

    // A fallback file holds the same values.
    let day = chrono::Utc::now().format("%Y-%m-%d").to_string();
    let csv = dir.path().join("fallback.csv");
    releve(&db, &["c806", "fallback", "--from", &day, "--to", &day, "--out", csv.to_str().expect("utf8")]);
    let text = std::fs::read_to_string(&csv).expect("csv");
    assert!(text.starts_with("SDP;MTS;MTS_UTC;DPM;DPB;AS;PS;SENT") && text.contains(SDP_FEED) && text.contains(";1.5;1.25;1;0.2;1"), "{}", &text[..text.len().min(400)]);
}

#[test]
fn a_broker_that_refuses_the_certificate_is_said_in_words() {
    let (dir, db) = demo_db();
    let pki = pki(dir.path());
    let broker = Broker::start(dir.path(), &pki);
    configure(&db, &pki, broker.port, "GW9", "stranger.pfx");
    let _server = releve::serve(db.to_str().expect("utf8")); // `releve serve` runs the gateway too
    wait("the refusal said", Duration::from_secs(30), || {
        let s = status(&db);
        s["gateway"]["state"] == "reconnecting" && s["buffered"].as_i64().unwrap_or(0) > 0
    });
    let s = status(&db);
    let code = s["gateway"]["state_code"].as_str().unwrap_or_default();
    let message = s["gateway"]["state_message"].as_str().unwrap_or_default();
    assert_eq!(code, "mqtt_tls", "{s}");
    assert!(message.contains("GW9") && message.contains("certificate"), "{message}");
    assert!(s["buffered"].as_i64().unwrap_or(0) > 0, "the values wait in the buffer: {s}");
}

#[test]
fn the_real_cadence_a_message_every_4_seconds_on_the_slot() {
    let (dir, db) = demo_db();
    let pki = pki(dir.path());
    let broker = Broker::start(dir.path(), &pki);
    configure(&db, &pki, broker.port, "GW4", "gateway.pfx");
    let platform = Platform::start(dir.path(), &pki, broker.port, "GW4");
    let key = [0x44u8; 16];
    let t = now_ms();
    let public = pki.join("gateway.pub").display().to_string();
    let _runner = Runner::c806(&db, None);
    // A second runner of the same database (as `releve serve` beside `releve c806 run`) sends nothing.
    let _second = Runner::c806(&db, None);
    wait("a key request", Duration::from_secs(30), || !platform.of_type("ENCRYPTIONKEYREQUEST").is_empty());
    platform.publish(&platform.key_message(&public, &key, 7, t - 1000, t + 36 * 3_600_000, &OAEP1));
    wait("the buffer sent", Duration::from_secs(30), || status(&db)["buffered"].as_i64().unwrap_or(99) == 0);
    let from = now_ms() + 4000;
    std::thread::sleep(Duration::from_secs(30));
    let keys = BTreeMap::from([(7, key)]);
    // (SDP, MTS, CTS, arrival) of the live messages, one value each.
    let live: Vec<(String, i64, i64, i64)> = platform
        .of_type("AFRR")
        .iter()
        .filter_map(|(at, m)| {
            let (_, cts, items) = open(m, &keys);
            let mts = items[0]["MTS"].as_i64().expect("MTS") + EPOCH_MS;
            (mts >= from).then(|| {
                assert_eq!(items.len(), 1, "one value a message when not catching up");
                (items[0]["SDP"].as_str().unwrap_or_default().to_string(), mts, cts, *at)
            })
        })
        .collect();
    assert!(live.len() >= 12, "{} messages in 30 s", live.len());
    for w in live.windows(2) {
        assert!(w[1].2 - w[0].2 >= 995, "at most one message a second: {} ms between two", w[1].2 - w[0].2);
    }
    for sdp in [SDP_METER, SDP_FEED] {
        let mine: Vec<&(String, i64, i64, i64)> = live.iter().filter(|l| l.0 == sdp).collect();
        assert!(mine.len() >= 6, "{sdp}: {} messages", mine.len());
        for w in mine.windows(2) {
            assert_eq!(w[1].1 - w[0].1, 4000, "{sdp}: every 4-second slot, in order, once");
        }
    }
    for (sdp, mts, cts, at) in &live {
        assert_eq!(mts % 4000, 0);
        // The slot's first SDP leaves on the slot, the second a second later (1 message/s).
        assert!((0..1250).contains(&(cts - mts)), "{sdp}: sent {} ms after its slot", cts - mts);
        assert!(at - mts < 2000, "{sdp}: arrived {} ms after its slot", at - mts);
    }
    let first: Vec<i64> = live.iter().filter(|l| l.2 - l.1 < 500).map(|l| l.2 - l.1).collect();
    assert!(first.len() >= live.len() / 2 - 1, "one message of each slot leaves on the slot: {first:?}");
    assert!(first.iter().all(|d| *d < 250), "{first:?}");
}
