//! `releve-bench c806`: the Elia C8/06 gateway's runner (in this process, the real 4-second
//! cadence) against a mosquitto with TLS and client certificates it starts (certificates
//! made with openssl, the gateway's imported from a PFX), a `mosquitto_sub` playing the
//! platform. Two figures: the cadence over `seconds` (every 4-second slot sent? the delay
//! from the slot to the hand-over to the client and to the platform's arrival, p50/p99/max),
//! and the buffer replay after a simulated 1-hour cut (900 slots x SDPs waiting, then sent at
//! one message a second, 15 values a message: the theoretical time next to the measured).

use crate::mqtt::{free_port, wait_for, Killed};
use crate::push::Res;
use releve_core::access::Session;
use releve_core::c806::{self, message::EPOCH_MS, runner};
use releve_core::store::{c806 as db, Store};
use std::path::Path;
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn openssl(dir: &Path, args: &[&str]) -> Res {
    let o = Command::new("openssl").args(args).current_dir(dir).output()?;
    if !o.status.success() {
        return Err(format!("openssl {args:?}: {}", String::from_utf8_lossy(&o.stderr)).into());
    }
    Ok(())
}

fn pki(dir: &Path) -> Res {
    openssl(dir, &["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "2", "-subj", "/CN=Bench CA", "-keyout", "ca.key", "-out", "ca.pem"])?;
    for (name, ext) in [("server", "subjectAltName=IP:127.0.0.1"), ("gateway", "extendedKeyUsage=clientAuth"), ("platform", "extendedKeyUsage=clientAuth")] {
        openssl(dir, &["req", "-newkey", "rsa:2048", "-nodes", "-subj", &format!("/CN={name}"), "-keyout", &format!("{name}.key"), "-out", &format!("{name}.csr")])?;
        std::fs::write(dir.join(format!("{name}.ext")), format!("{ext}\n"))?;
        openssl(dir, &["x509", "-req", "-in", &format!("{name}.csr"), "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial", "-days", "2", "-extfile", &format!("{name}.ext"), "-out", &format!("{name}.pem")])?;
    }
    openssl(dir, &["pkcs12", "-export", "-inkey", "gateway.key", "-in", "gateway.pem", "-out", "gateway.pfx", "-passout", "pass:bench"])
}

fn percentile(sorted: &[i64], p: f64) -> i64 {
    if sorted.is_empty() {
        return 0;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

/// Arrival times at the platform (Unix ms) by (SDP, MTS Unix ms), and the messages' value counts.
fn arrivals(file: &Path, key: &[u8; 16]) -> (std::collections::HashMap<(String, i64), i64>, Vec<usize>) {
    use base64::Engine;
    let mut at = std::collections::HashMap::new();
    let mut sizes = Vec::new();
    for line in std::fs::read_to_string(file).unwrap_or_default().lines() {
        let Some((t, msg)) = line.split_once(' ') else { continue };
        let Ok(msg) = serde_json::from_str::<serde_json::Value>(msg) else { continue };
        if msg["MT"] != "AFRR" {
            continue;
        }
        let Some(body) = msg["Body"].as_str().and_then(|b| base64::engine::general_purpose::STANDARD.decode(b).ok()) else { continue };
        let Some(plain) = c806::crypto::decrypt(key, &body) else { continue };
        let items: Vec<serde_json::Value> = serde_json::from_slice(&plain).unwrap_or_default();
        sizes.push(items.len());
        let t = (t.parse::<f64>().unwrap_or(0.0) * 1000.0) as i64;
        for i in items {
            at.entry((i["SDP"].as_str().unwrap_or_default().to_string(), i["MTS"].as_i64().unwrap_or(0) + EPOCH_MS)).or_insert(t);
        }
    }
    (at, sizes)
}

pub fn run(seconds: u64, sdps: u32) -> Res {
    let dir = tempfile::tempdir()?;
    pki(dir.path())?;
    let port = free_port()?;
    let me = Command::new("id").arg("-un").output()?;
    let p = |f: &str| dir.path().join(f).display().to_string();
    let conf = dir.path().join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "user {}\nlistener {port} 127.0.0.1\nallow_anonymous true\ncafile {}\ncertfile {}\nkeyfile {}\nrequire_certificate true\n",
            String::from_utf8_lossy(&me.stdout).trim(),
            p("ca.pem"),
            p("server.pem"),
            p("server.key")
        ),
    )?;
    let _broker = Killed(Command::new("mosquitto").arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?);
    wait_for("mosquitto", Duration::from_secs(20), || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok())?;
    let heard = dir.path().join("platform.txt");
    let _sub = Killed(
        Command::new("mosquitto_sub")
            .args(["-h", "127.0.0.1", "-p", &port.to_string(), "--cafile", &p("ca.pem"), "--cert", &p("platform.pem"), "--key", &p("platform.key")])
            .args(["-q", "1", "-F", "%U %p", "-t", "devices/BENCH/messages/events/"])
            .stdout(std::fs::File::create(&heard)?)
            .stderr(Stdio::null())
            .spawn()?,
    );

    let store = Arc::new(Store::open(&dir.path().join("c806.db"))?);
    let session = Session::system("bench");
    let now = || chrono::Utc::now().timestamp();
    let edit = c806::GatewayEdit {
        broker_url: format!("mqtts://127.0.0.1:{port}"),
        gid: "BENCH".into(),
        sid: "BENCH-SID".into(),
        username: None,
        topic_up: None,
        topic_down: None,
        ca_file: Some(p("ca.pem")),
        enabled: true,
    };
    c806::gateway_save(&store, &session, &edit, now())?;
    c806::pfx_import(&store, &session, &std::fs::read(dir.path().join("gateway.pfx"))?, "bench", now())?;
    for i in 0..sdps {
        let ean = format!("5414490000{:08}", i);
        c806::sdp_save(&store, &session, &c806::SdpEdit { id: None, ean: ean.clone(), meter_id: None, enabled: true }, now())?;
        c806::setpoints(&store, &session, &c806::Setpoints { ean, dpm_mw: Some(1.0 + f64::from(i)), dpb_mw: Some(1.0), afrr_active: Some(true), ps_mw: Some(0.1) }, now())?;
    }
    let key = [0x5au8; 16];
    let t0 = chrono::Utc::now().timestamp_millis();
    db::save_key(&store.writer(), &db::Key { version: 1, mt: "AFRR".into(), key, key_type: "AES".into(), valid_from: t0 - 1000, valid_to: t0 + 36 * 3_600_000 }, t0)?;
    std::thread::sleep(Duration::from_millis(1500)); // the platform subscribed

    // 1. The cadence, the real 4-second slots.
    let stop = Arc::new(AtomicBool::new(false));
    let (s, st) = (store.clone(), stop.clone());
    let thread = std::thread::spawn(move || runner::run(&s, &runner::Options::default(), &runner::system_ms(), &st));
    println!("C8/06 cadence: {seconds} s at the real 4-second slots, {sdps} SDP(s), over MQTTS with a client certificate...");
    let from = chrono::Utc::now().timestamp_millis();
    std::thread::sleep(Duration::from_secs(seconds));
    let to = chrono::Utc::now().timestamp_millis() - 4000; // the last slot's messages had time to leave
    std::thread::sleep(Duration::from_secs(2));
    let values: Vec<db::Value> = db::values_between(&*store.reader()?, from, to)?;
    let first_slot = (from / 4000 + 1) * 4000;
    let slots = ((to - first_slot) / 4000 + 1).max(0);
    let sent: Vec<&db::Value> = values.iter().filter(|v| v.sent_at.is_some()).collect();
    let (arrived, _) = arrivals(&heard, &key);
    // The first SDP's delay: the slot to the hand-over; every SDP's arrival at the platform.
    let mut handed: Vec<i64> = sent.iter().filter(|v| v.sdp.ends_with("00000000")).filter_map(|v| v.sent_at.map(|s| s - v.mts)).collect();
    let mut arrival: Vec<i64> = values.iter().filter_map(|v| arrived.get(&(v.sdp.clone(), v.mts)).map(|a| a - v.mts)).collect();
    let mut first: Vec<i64> = values.iter().filter(|v| v.sdp.ends_with("00000000")).filter_map(|v| arrived.get(&(v.sdp.clone(), v.mts)).map(|a| a - v.mts)).collect();
    handed.sort_unstable();
    arrival.sort_unstable();
    first.sort_unstable();
    println!(
        "  slots {slots} x {sdps} SDP(s) = {} expected; stored {}, sent {}, arrived at the platform {}",
        slots * i64::from(sdps),
        values.len(),
        sent.len(),
        arrival.len()
    );
    println!(
        "  slot -> handed to the MQTT client (first SDP): p50 {} ms, p99 {} ms, max {} ms; slot -> arrival at the platform: first SDP p50 {} ms, p99 {} ms, max {} ms; \
         all SDPs p50 {} ms, p99 {} ms, max {} ms (the 1 msg/s rule puts SDP n at slot + n s)",
        percentile(&handed, 0.5),
        percentile(&handed, 0.99),
        handed.last().copied().unwrap_or(0),
        percentile(&first, 0.5),
        percentile(&first, 0.99),
        first.last().copied().unwrap_or(0),
        percentile(&arrival, 0.5),
        percentile(&arrival, 0.99),
        arrival.last().copied().unwrap_or(0)
    );
    stop.store(true, Ordering::Relaxed);
    let _ = thread.join();

    // 2. Replay after a simulated 1-hour cut: 900 slots x SDPs waiting (the hour before the
    // cadence run, so none collides with a value it stored).
    let end = first_slot;
    let mut backlog = Vec::new();
    for slot in 0..900 {
        for i in 0..sdps {
            backlog.push(db::Value { seq: 0, sdp: format!("5414490000{:08}", i), mts: end - (900 - slot) * 4000, dpm: 1.0, dpb: 1.0, afrr: 1, ps: 0.0, sent_at: None });
        }
    }
    db::add_values(&store.writer(), &backlog)?;
    let waiting = db::buffered(&*store.reader()?)?.0;
    let lines_before = std::fs::read_to_string(&heard).unwrap_or_default().lines().count();
    let stop = Arc::new(AtomicBool::new(false));
    let (s, st) = (store.clone(), stop.clone());
    let started = Instant::now();
    let thread = std::thread::spawn(move || runner::run(&s, &runner::Options::default(), &runner::system_ms(), &st));
    wait_for("the buffer sent", Duration::from_secs(3600), || db::buffered(&store.reader().expect("reader")).is_ok_and(|b| b.0 <= i64::from(sdps)))?;
    let took = started.elapsed().as_secs_f64();
    stop.store(true, Ordering::Relaxed);
    let _ = thread.join();
    std::thread::sleep(Duration::from_millis(500));
    let text = std::fs::read_to_string(&heard).unwrap_or_default();
    let messages = text.lines().skip(lines_before).filter(|l| l.contains("\"AFRR\"")).count();
    let minimum = f64::from(sdps) * (900.0f64 / 15.0).ceil();
    println!(
        "C8/06 replay after a 1-hour cut: {waiting} values waiting ({sdps} SDP(s) x 900 slots; the live values of the replay's time come on top) sent in {took:.1} s in {messages} messages \
         ({:.2} messages/s, {:.1} values/s); the limit, 1 message/s of at most 15 values of one SDP: {minimum:.0} messages, {minimum:.0} s at least for the backlog",
        messages as f64 / took,
        waiting as f64 / took
    );
    Ok(())
}
