//! `releve-bench live`: how soon the live screen hears of a frame. A real `releve serve` (the
//! binary beside this one) takes concentrators' HTTP pushes of other meters at about
//! `rate` frames a second while, every 100 ms, one frame of a priority meter is pushed and
//! timed until the server-sent event naming its meter arrives on `GET /api/events` (read by
//! a plain socket, as a browser's EventSource would), and until the `live` command has read
//! that meter again (what the live screen does before it draws).

use crate::push::post;
use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::DeviceType;
use releve_core::access::{Permission, Role, Session};
use releve_core::store::{self, Store};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{mpsc, Arc};
use std::time::{Duration, Instant};

type Res = Result<(), Box<dyn std::error::Error>>;

/// Background meters the load's frames go to.
const OTHERS: u32 = 1_000;

fn line(serial: u32, time: i64, litres: u32) -> String {
    let serial = format!("{serial:08}");
    let mut payload = vec![0x04, 0x13];
    payload.extend_from_slice(&litres.to_le_bytes());
    let spec = FrameSpec { manufacturer: "KAM", id: &serial, version: 0x1b, device_type: DeviceType::Water, access_number: litres as u8, status: 0 };
    let at = chrono::DateTime::from_timestamp(time, 0).unwrap_or_default().format("%Y-%m-%d %H:%M:%SZ");
    format!("T1;1;1;{at};80;;;0x{}\n", hex::encode(wmbus_frame(&spec, &payload, None)))
}

/// The value of `"key":"..."` in a JSON text (the bench reads no other JSON).
fn json_text<'a>(json: &'a str, key: &str) -> Option<&'a str> {
    let start = json.find(&format!("\"{key}\":\""))? + key.len() + 4;
    json[start..].split('"').next()
}

pub fn run(seconds: u64, rate: u32, priority: u32) -> Res {
    let dir = tempfile::tempdir()?;
    let db = dir.path().join("live.db");
    let now = chrono::Utc::now().timestamp();
    // The park: priority meters 40000001.. and the others 41000000.., each with a first frame.
    let (token, priority_ids) = {
        let store = Store::open(&db)?;
        let system = Session::system("bench");
        let user = store::users::NewUser { salt: None, login: "manager", name: "m", role: Role::Manager, password: "manager", locale: "fr" };
        releve_core::access::create_user(&store, system.permit(Permission::ManageUsers)?, &user, now)?;
        let new = releve_core::sources::NewSource { name: "bench".into(), kind: "http".into(), format: "lines".into(), max_body: None, folder: None, ..Default::default() };
        let token = releve_core::sources::source_add(&store, &system, &new, now)?.token.unwrap_or_default();
        let mut first = String::new();
        for p in 0..priority {
            first.push_str(&line(40_000_001 + p, now - 7200, 1));
        }
        for o in 0..OTHERS {
            first.push_str(&line(41_000_000 + o, now - 86_000, 1));
        }
        releve_core::sources::ingest_push(&store, "bench", Some(&token), first.as_bytes(), now)?;
        let conn = store.reader()?;
        let mut stmt = conn.prepare("SELECT id FROM meters WHERE serial >= '40000001' AND serial < '41000000' ORDER BY serial")?;
        let ids: Vec<i64> = stmt.query_map([], |r| r.get(0))?.collect::<Result<_, _>>()?;
        drop(stmt);
        drop(conn);
        releve_core::live::meter_priority_set(&store, &system, &ids, true, now)?;
        (token, ids)
    };

    let bin = std::env::current_exe()?.with_file_name("releve");
    let port = crate::mqtt::free_port()?;
    let _server = crate::mqtt::serve(&bin, &db, port)?;
    measure(port, &token, &priority_ids, seconds, rate)
}

fn measure(port: u16, token: &str, priority_ids: &[i64], seconds: u64, rate: u32) -> Res {
    let (_, answer) = post(port, "/api/login", "", br#"{"login":"manager","password":"manager"}"#)?;
    let session = json_text(&answer, "token").ok_or_else(|| format!("no token in {answer}"))?.to_string();

    // The event stream: each event's meters, with when it was read.
    let mut socket = TcpStream::connect(("127.0.0.1", port))?;
    write!(socket, "GET /api/events?token={session} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n\r\n")?;
    let (send, events) = mpsc::channel::<(Instant, Vec<i64>)>();
    let reader = BufReader::new(socket.try_clone()?);
    std::thread::spawn(move || {
        for l in reader.lines() {
            let Ok(l) = l else { return };
            if let Some(data) = l.strip_prefix("data: ") {
                let meters = data
                    .split("\"meters\":[")
                    .nth(1)
                    .and_then(|rest| rest.split(']').next())
                    .map(|list| list.split(',').filter_map(|n| n.trim().parse().ok()).collect())
                    .unwrap_or_default();
                if send.send((Instant::now(), meters)).is_err() {
                    return;
                }
            }
        }
    });
    // The first event says the stream is open.
    events.recv_timeout(Duration::from_secs(5)).map_err(|_| "no ready event")?;

    // The load: `rate` frames a second of the other meters, in pushes of rate/10 every 100 ms.
    let running = Arc::new(AtomicBool::new(true));
    let sent = Arc::new(AtomicU64::new(0));
    let load = {
        let (running, sent, token) = (running.clone(), sent.clone(), token.to_string());
        let per_push = (rate / 10).max(1);
        std::thread::spawn(move || -> Result<(), String> {
            let base = chrono::Utc::now().timestamp() - 80_000;
            let mut n: u32 = 0;
            let mut next = Instant::now();
            while running.load(Ordering::SeqCst) {
                let mut body = String::new();
                for _ in 0..per_push {
                    body.push_str(&line(41_000_000 + n % OTHERS, base + i64::from(n), n + 2));
                    n += 1;
                }
                let (status, answer) = post(port, "/ingest/bench", &token, body.as_bytes()).map_err(|e| e.to_string())?;
                if status != 200 {
                    return Err(format!("load push answered {status}: {answer}"));
                }
                sent.fetch_add(u64::from(per_push), Ordering::SeqCst);
                next += Duration::from_millis(100);
                std::thread::sleep(next.saturating_duration_since(Instant::now()));
            }
            Ok(())
        })
    };

    let started = Instant::now();
    let mut to_event = Vec::new();
    let mut to_read = Vec::new();
    let mut missed = 0;
    let first_time = chrono::Utc::now().timestamp() - 3_000;
    let mut k: usize = 0;
    while started.elapsed() < Duration::from_secs(seconds) {
        let id = priority_ids[k % priority_ids.len()];
        let serial = 40_000_001 + (k % priority_ids.len()) as u32;
        let body = line(serial, first_time + k as i64, 1_000 + k as u32);
        while events.try_recv().is_ok() {} // what came before this push
        let pushed = Instant::now();
        let (status, answer) = post(port, "/ingest/bench", token, body.as_bytes())?;
        if status != 200 {
            return Err(format!("push answered {status}: {answer}").into());
        }
        let heard = loop {
            match events.recv_timeout(Duration::from_secs(5)) {
                Ok((at, meters)) if meters.contains(&id) => break Some(at),
                Ok(_) => continue,
                Err(_) => break None,
            }
        };
        match heard {
            Some(at) => {
                to_event.push(at.duration_since(pushed));
                let (status, answer) = post(port, "/api/live", &session, format!("{{\"ids\":[{id}]}}").as_bytes())?;
                if status != 200 || !answer.contains(&format!("\"id\":{id}")) {
                    return Err(format!("live answered {status}: {answer}").into());
                }
                to_read.push(pushed.elapsed());
            }
            None => missed += 1,
        }
        k += 1;
        std::thread::sleep(Duration::from_millis(100));
    }
    running.store(false, Ordering::SeqCst);
    let load_result = load.join().map_err(|_| "the load thread failed")?;
    load_result?;
    let frames_per_second = sent.load(Ordering::SeqCst) as f64 / started.elapsed().as_secs_f64();
    if to_event.is_empty() {
        return Err("no event heard".into());
    }
    to_event.sort();
    to_read.sort();
    let pct = |v: &[Duration], p: usize| v[((v.len() - 1) * p) / 100].as_secs_f64() * 1e3;
    println!(
        "live: {} priority-meter pushes among {frames_per_second:.0} frames/s of {OTHERS} other meters, {} priority meters: \
         push -> event p50 {:.1} ms, p99 {:.1} ms, max {:.1} ms; push -> event + live re-read p50 {:.1} ms, p99 {:.1} ms; {missed} not heard within 5 s",
        to_event.len(),
        priority_ids.len(),
        pct(&to_event, 50),
        pct(&to_event, 99),
        to_event.last().map_or(0.0, |d| d.as_secs_f64() * 1e3),
        pct(&to_read, 50),
        pct(&to_read, 99),
    );
    Ok(())
}
