//! `releve-bench ingest`: the fixed network's three kinds of source at once against one
//! database — concentrators pushing over HTTP to `releve serve`, an MQTT subscription
//! (QoS 1, through a mosquitto it starts) and a drop folder taken by the folder run — each
//! telegram decoded and stored, next to the file import of the same telegrams in the same
//! run. Then a soak: frames at a steady rate over MQTT for a while, the memory of `releve
//! serve` sampled, and the meter list and a histogram timed during the soak next to idle.

use crate::mqtt::{broker, free_port, publisher, serve, state, wait_for, Killed};
use crate::push::{bench_db, file, file_import, file_from, post, Res};
use releve_core::access::Session;
use releve_core::sources::NewSource;
use releve_core::store::Store;
use std::io::Write;
use std::path::Path;
use std::time::{Duration, Instant};

/// Telegrams stored by the imports whose label starts with `prefix`.
fn stored(conn: &rusqlite::Connection, prefix: &str) -> i64 {
    conn.query_row("SELECT coalesce(sum(stored), 0) FROM imports WHERE substr(source, 1, length(?1)) = ?1", [prefix], |r| r.get(0))
        .unwrap_or(-1)
}

/// Telegrams received (stored or recognised as already stored) by those imports.
fn received(conn: &rusqlite::Connection, prefix: &str) -> i64 {
    conn.query_row("SELECT coalesce(sum(telegrams), 0) FROM imports WHERE substr(source, 1, length(?1)) = ?1", [prefix], |r| r.get(0))
        .unwrap_or(-1)
}

/// Resident memory of a process, MiB.
fn rss_mib(pid: u32) -> f64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).unwrap_or_default();
    let kib: f64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmRSS:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|v| v.parse().ok())
        .unwrap_or(0.0);
    kib / 1024.0
}

fn median_ms(mut v: Vec<f64>) -> f64 {
    v.sort_by(f64::total_cmp);
    v.get(v.len() / 2).copied().unwrap_or(0.0)
}

/// The meter list (first page) and one meter's daily histogram over a year, through the
/// HTTP API as the browser asks for them: medians of `runs`, ms.
fn screens(port: u16, session: &str, meter: i64, runs: usize) -> Result<(f64, f64), Box<dyn std::error::Error>> {
    let (mut list, mut histogram) = (Vec::new(), Vec::new());
    let hist = format!(r#"{{"id":{meter},"resolution":"day","from":"2025-12-01","to":"2026-12-31"}}"#);
    for _ in 0..runs {
        let t = Instant::now();
        let (status, answer) = post(port, "/api/meters_list", session, br#"{"limit":50}"#)?;
        if status != 200 {
            return Err(format!("meters_list answered {status}: {answer}").into());
        }
        list.push(t.elapsed().as_secs_f64() * 1e3);
        let t = Instant::now();
        let (status, answer) = post(port, "/api/meter_histogram", session, hist.as_bytes())?;
        if status != 200 {
            return Err(format!("meter_histogram answered {status}: {answer}").into());
        }
        histogram.push(t.elapsed().as_secs_f64() * 1e3);
        std::thread::sleep(Duration::from_millis(200));
    }
    Ok((median_ms(list), median_ms(histogram)))
}

pub fn run(lines: u32, soak_seconds: u32, soak_rate: u32) -> Res {
    let per_source = lines / 3;
    let meters = 10_000.min(per_source);
    let content = file(3 * per_source, meters);
    let all: Vec<&[u8]> = content.split_inclusive(|b| *b == b'\n').collect();
    let (http_part, rest) = all.split_at(per_source as usize);
    let (mqtt_part, folder_part) = rest.split_at(per_source as usize);
    let dir = tempfile::tempdir()?;
    let system = Session::system("bench");

    let file_secs = file_import(dir.path(), &content, 3 * per_source)?;

    // One database, three sources.
    let port = free_port()?;
    let _broker = broker(dir.path(), port)?;
    let db = dir.path().join("network.db");
    let depot = dir.path().join("depot");
    std::fs::create_dir_all(&depot)?;
    let store = bench_db(&db)?;
    releve_core::folders::folders_allowed_set(&store, &system, &[depot.display().to_string()], 1_790_000_000)?;
    let http = NewSource { name: "conc".into(), kind: "http".into(), format: "lines".into(), ..Default::default() };
    let token = releve_core::sources::source_add(&store, &system, &http, 1_790_000_000)?.token.unwrap_or_default();
    releve_core::sources::source_add(&store, &system, &crate::mqtt::source(port), 1_790_000_000)?;
    let folder = NewSource { name: "depot".into(), kind: "folder".into(), format: "lines".into(), folder: Some(depot.display().to_string()), ..Default::default() };
    releve_core::sources::source_add(&store, &system, &folder, 1_790_000_000)?;
    drop(store);
    // The concentrators' files are in the folder before the run starts (written, settled).
    for (i, piece) in folder_part.chunks(50_000).enumerate() {
        std::fs::write(depot.join(format!("conc-{i:03}.txt")), piece.concat())?;
    }
    let bin = std::env::current_exe()?.with_file_name("releve");
    let http_port = free_port()?;
    let server = serve(&bin, &db, http_port)?;
    let conn = rusqlite::Connection::open(&db)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    wait_for("the MQTT source running", Duration::from_secs(30), || state(&conn) == "running")?;

    // All three at once.
    let start = Instant::now();
    let pushes = {
        let bodies: Vec<Vec<u8>> = http_part.chunks(10_000).map(<[&[u8]]>::concat).collect();
        std::thread::spawn(move || -> Result<f64, String> {
            let t = Instant::now();
            for body in &bodies {
                let (status, answer) = post(http_port, "/ingest/conc", &token, body).map_err(|e| e.to_string())?;
                if status != 200 {
                    return Err(format!("push answered {status}: {answer}"));
                }
            }
            Ok(t.elapsed().as_secs_f64())
        })
    };
    let folder_run = {
        let db = db.clone();
        std::thread::spawn(move || -> Result<f64, String> {
            let store = Store::open(&db).map_err(|e| e.to_string())?;
            let t = Instant::now();
            let watch = releve_core::drop_folder::Watch { settle_seconds: 0, look_again: Duration::from_millis(10) };
            let run = releve_core::sources::sources_folder_run(&store, chrono::Utc::now().timestamp(), &watch).map_err(|e| e.to_string())?;
            if run.files.iter().any(|f| f.outcome != "done") {
                return Err(format!("a folder file failed: {:?}", run.files.iter().find(|f| f.outcome != "done").map(|f| &f.error)));
            }
            Ok(t.elapsed().as_secs_f64())
        })
    };
    let published = {
        let part: Vec<Vec<u8>> = mqtt_part.iter().map(|l| l.to_vec()).collect();
        std::thread::spawn(move || -> Result<(), String> {
            let refs: Vec<&[u8]> = part.iter().map(Vec::as_slice).collect();
            crate::mqtt::publish(port, &refs).map(|_| ()).map_err(|e| e.to_string())
        })
    };
    let mut mqtt_secs = 0.0;
    wait_for("the MQTT telegrams stored", Duration::from_secs(900), || {
        let done = stored(&conn, "bench: mqtt") >= i64::from(per_source);
        if done {
            mqtt_secs = start.elapsed().as_secs_f64();
        }
        done
    })?;
    published.join().map_err(|_| "publisher")??;
    let http_secs = pushes.join().map_err(|_| "pusher")??;
    let folder_secs = folder_run.join().map_err(|_| "folder run")??;
    let all_secs = start.elapsed().as_secs_f64();
    let n = f64::from(per_source);
    println!(
        "Three sources at once into one database ({per_source} telegrams each, decoded and stored):\n\
         - HTTP push (10,000 lines a request, answered once stored): {:.0} telegrams/s ({http_secs:.1} s)\n\
         - MQTT, one telegram a message, QoS 1 (acknowledged once stored): {:.0} telegrams/s ({mqtt_secs:.1} s)\n\
         - drop folder (files of 50,000 lines): {:.0} telegrams/s ({folder_secs:.1} s)\n\
         - together: {:.0} telegrams/s ({all_secs:.1} s); file import of the same {} telegrams alone, same run: {:.0} telegrams/s ({file_secs:.1} s)",
        n / http_secs,
        n / mqtt_secs,
        n / folder_secs,
        3.0 * n / all_secs,
        3 * per_source,
        3.0 * n / file_secs,
    );
    if soak_seconds > 0 {
        soak(&server, &db, http_port, port, soak_seconds, soak_rate)?;
    }
    Ok(())
}

/// Frames at `rate` a second over MQTT for `seconds`: the memory of `releve serve` every 10 s,
/// and the meter list and a histogram next to idle.
fn soak(server: &Killed, db: &Path, http_port: u16, mqtt_port: u16, seconds: u32, rate: u32) -> Res {
    let (_, answer) = post(http_port, "/api/login", "", br#"{"login":"manager","password":"manager"}"#)?;
    let session = answer.split("\"token\":\"").nth(1).and_then(|r| r.split('"').next()).ok_or("no session token")?.to_string();
    let conn = rusqlite::Connection::open(db)?;
    let meter: i64 = conn.query_row("SELECT id FROM meters ORDER BY id LIMIT 1", [], |r| r.get(0))?;
    let idle = screens(http_port, &session, meter, 15)?;
    // Meters 50,000,000.. (not the first phase's): every frame a new telegram.
    let frames = file_from(50_000_000, rate * seconds, 20_000);
    let lines: Vec<&[u8]> = frames.split_inclusive(|b| *b == b'\n').collect();
    let base = received(&conn, "bench: mqtt");
    let pid = server.0.id();
    let mut memory = vec![(0u32, rss_mib(pid))];
    let mut p = publisher(mqtt_port)?;
    let mut input = p.stdin.take().ok_or("stdin")?;
    let start = Instant::now();
    // The screens timed in the soak's middle third, beside the frames.
    let timing = {
        let session = session.clone();
        std::thread::spawn(move || -> Result<Vec<(f64, f64)>, String> {
            std::thread::sleep(Duration::from_secs(u64::from(seconds / 3)));
            let mut during = Vec::new();
            while start.elapsed() < Duration::from_secs(u64::from(2 * seconds / 3)) {
                during.push(screens(http_port, &session, meter, 3).map_err(|e| e.to_string())?);
                std::thread::sleep(Duration::from_secs(2));
            }
            Ok(during)
        })
    };
    let mut next_sample = 10;
    for (i, line) in lines.iter().enumerate() {
        let slot = start + Duration::from_secs_f64(i as f64 / f64::from(rate));
        if let Some(d) = slot.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        input.write_all(line)?;
        let elapsed = start.elapsed().as_secs() as u32;
        if elapsed >= next_sample {
            memory.push((elapsed, rss_mib(pid)));
            next_sample += 10;
        }
    }
    drop(input);
    p.wait()?;
    wait_for("the soak's frames stored", Duration::from_secs(300), || received(&conn, "bench: mqtt") - base >= lines.len() as i64)?;
    memory.push((start.elapsed().as_secs() as u32, rss_mib(pid)));
    let during = timing.join().map_err(|_| "screens")??;
    let list = median_ms(during.iter().map(|d| d.0).collect());
    let histogram = median_ms(during.iter().map(|d| d.1).collect());
    let (first, last) = (memory[1.min(memory.len() - 1)].1, memory[memory.len() - 1].1);
    let peak = memory.iter().map(|m| m.1).fold(0.0, f64::max);
    println!(
        "Soak: {} frames over MQTT at {rate}/s for {seconds} s:\n\
         - releve serve resident memory: {:.0} MiB at start, {first:.0} MiB after 10 s, {last:.0} MiB at the end, peak {peak:.0} MiB; samples {}\n\
         - meter list (50 rows) median {list:.1} ms during the soak vs {:.1} ms idle ({:.2}x); a year's daily histogram {histogram:.1} ms vs {:.1} ms idle ({:.2}x)",
        lines.len(),
        memory[0].1,
        memory.iter().map(|(t, m)| format!("{t}s:{m:.0}")).collect::<Vec<_>>().join(" "),
        idle.0,
        list / idle.0.max(1e-3),
        idle.1,
        histogram / idle.1.max(1e-3),
    );
    Ok(())
}
