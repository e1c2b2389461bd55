//! `releve-bench webhooks`: deliveries per second to a receiver on loopback through
//! `webhooks::deliver_due` (claim in the store, sign, POST, record) next to a bare loop of
//! reqwest POSTs of the same body with the same client (the baseline: the network and the
//! receiver alone); and the poller making one `readings.batch` over a large feed range.

use crate::{Res, NOW};
use releve_core::access::Session;
use releve_core::store::{self, Store};
use releve_core::webhooks;
use std::io::{Read, Write};
use std::net::{TcpListener, TcpStream};
use std::time::Instant;

/// A keep-alive HTTP/1.1 receiver answering 200 to every POST: its URL.
fn receiver() -> Result<String, Box<dyn std::error::Error>> {
    let listener = TcpListener::bind("127.0.0.1:0")?;
    let url = format!("http://127.0.0.1:{}/hook", listener.local_addr()?.port());
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            std::thread::spawn(move || serve(stream));
        }
    });
    Ok(url)
}

fn serve(mut s: TcpStream) {
    let mut buf: Vec<u8> = Vec::new();
    let mut chunk = [0u8; 16 * 1024];
    loop {
        // One request: its head, then Content-Length bytes.
        let head_end = loop {
            if let Some(i) = buf.windows(4).position(|w| w == b"\r\n\r\n") {
                break i + 4;
            }
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        };
        let head = String::from_utf8_lossy(&buf[..head_end]).to_ascii_lowercase();
        let length: usize = head
            .lines()
            .find_map(|l| l.strip_prefix("content-length:").map(|v| v.trim().parse().unwrap_or(0)))
            .unwrap_or(0);
        while buf.len() < head_end + length {
            match s.read(&mut chunk) {
                Ok(0) | Err(_) => return,
                Ok(n) => buf.extend_from_slice(&chunk[..n]),
            }
        }
        buf.drain(..head_end + length);
        if s.write_all(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok").is_err() {
            return;
        }
    }
}

pub fn run(deliveries: u32, feed: u32) -> Res {
    let url = receiver()?;
    let client = releve_core::http::client()?;
    let dir = tempfile::tempdir()?;
    let store = Store::open(&dir.path().join("webhooks.db"))?;
    let system = Session::system("bench");
    let new = webhooks::NewWebhook { name: "bench".into(), url: url.clone(), events: vec!["readings.batch".into()] };
    let added = webhooks::webhook_add(&store, &system, &new, NOW)?;
    let tz: chrono_tz::Tz = "Europe/Paris".parse().map_err(|_| "tz")?;
    let body = webhooks::events::body("readings:0-1000", "readings.batch", NOW, tz, serde_json::json!({"after": 0, "until": 1000, "readings": 1000, "meters": 10}));
    println!("webhooks --deliveries {deliveries} --feed {feed}: a {}-byte body to a keep-alive receiver on loopback", body.len());

    // Baseline: the same POSTs, bare.
    let start = Instant::now();
    for _ in 0..deliveries {
        let r = client.post(&url).header("Content-Type", "application/json").body(body.clone()).send()?;
        assert!(r.status().is_success());
    }
    let bare = f64::from(deliveries) / start.elapsed().as_secs_f64();
    println!("  baseline: bare reqwest POST loop          {bare:9.0} /s");

    {
        let conn = store.writer();
        let tx = rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)?;
        for i in 0..deliveries {
            let reference = format!("bench:{i}");
            let d = store::webhooks::NewDelivery { endpoint_id: added.id, event: "readings.batch", reference: &reference, body: &body, created_at: NOW };
            store::webhooks::enqueue(&tx, &d)?;
        }
        tx.commit()?;
    }
    let start = Instant::now();
    let mut delivered = 0;
    while delivered < deliveries as usize {
        let r = webhooks::deliver_due(&store, NOW, client)?;
        assert_eq!((r.retried, r.failed), (0, 0), "{r:?}");
        if r.delivered == 0 {
            break;
        }
        delivered += r.delivered;
    }
    let through = delivered as f64 / start.elapsed().as_secs_f64();
    println!("  deliver_due (claim, sign, POST, record)   {through:9.0} /s  ({delivered} delivered, {:.0} % of the bare loop)", 100.0 * through / bare);

    // The poller over a large range of the readings feed: one event.
    webhooks::events::poll(&store, NOW)?; // cursors at the present
    {
        let conn = store.writer();
        let tx = rusqlite::Transaction::new_unchecked(&conn, rusqlite::TransactionBehavior::Immediate)?;
        let mut stmt = tx.prepare("INSERT INTO reading_feed(meter_id, register, ts, at) VALUES (?1, 1, ?2, ?3)")?;
        for i in 0..i64::from(feed) {
            stmt.execute(rusqlite::params![1 + i % 10_000, NOW - 86_400 + i / 10_000, NOW])?;
        }
        drop(stmt);
        tx.commit()?;
    }
    let start = Instant::now();
    let made = webhooks::events::poll(&store, NOW + webhooks::events::BATCH_WAIT)?;
    let ms = start.elapsed().as_secs_f64() * 1000.0;
    println!("  poll: one readings.batch over {feed} new feed rows (10,000 meters)  {ms:7.1} ms  ({made} delivery made)");
    Ok(())
}
