//! `releve-bench push`: concentrators pushing over HTTP to a real `releve serve` (the release
//! binary beside this one), next to the file import of the same telegrams in the same run.

use mbus::encode::{wmbus_frame, FrameSpec};
use mbus::DeviceType;
use releve_core::access::{Permission, Role, Session};
use releve_core::store::{self, Store};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::time::Instant;

pub(crate) type Res = Result<(), Box<dyn std::error::Error>>;

/// `lines` rtl-wmbus lines of plaintext telegrams of `meters` meters, hour after hour.
pub(crate) fn file(lines: u32, meters: u32) -> Vec<u8> {
    file_from(30_000_000, lines, meters)
}

/// The same, serials from `first`.
pub(crate) fn file_from(first: u32, lines: u32, meters: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines as usize * 80);
    for i in 0..lines {
        let (m, h) = (i % meters, i / meters);
        let serial = format!("{:08}", first + m);
        let mut payload = vec![0x04, 0x13];
        payload.extend_from_slice(&(m * 1000 + h * 7).to_le_bytes());
        let spec = FrameSpec { manufacturer: "KAM", id: &serial, version: 0x1b, device_type: DeviceType::Water, access_number: h as u8, status: 0 };
        let raw = wmbus_frame(&spec, &payload, None);
        let t = 1_790_000_000 + i64::from(h) * 3600 + i64::from(m % 3000);
        let local = chrono::DateTime::from_timestamp(t, 0).unwrap_or_default().format("%Y-%m-%d %H:%M:%SZ");
        out.extend_from_slice(format!("T1;1;1;{local};80;;;0x{}\n", hex::encode(raw)).as_bytes());
    }
    out
}

/// The file import of `content` (`lines` telegrams) into a fresh database in `dir`, in-process:
/// the baseline every source is measured against; seconds.
pub(crate) fn file_import(dir: &std::path::Path, content: &[u8], lines: u32) -> Result<f64, Box<dyn std::error::Error>> {
    let store = Store::open(&dir.join("file.db"))?;
    let system = Session::system("bench");
    let t = Instant::now();
    let r = releve_core::import::import_drive_by(&store, system.permit(Permission::Import)?, "f.txt", content, 1_800_000_000, &mut |_, _| {})?;
    let secs = t.elapsed().as_secs_f64();
    if r.stored != u64::from(lines) {
        return Err(format!("the file import stored {} of {lines} telegrams", r.stored).into());
    }
    Ok(secs)
}

/// A fresh database at `db` with the `manager` account (password `manager`).
pub(crate) fn bench_db(db: &std::path::Path) -> Result<Store, Box<dyn std::error::Error>> {
    let store = Store::open(db)?;
    let system = Session::system("bench");
    let user = store::users::NewUser { salt: None, login: "manager", name: "m", role: Role::Manager, password: "manager", locale: "fr" };
    releve_core::access::create_user(&store, system.permit(Permission::ManageUsers)?, &user, 1_790_000_000)?;
    Ok(store)
}

pub(crate) fn post(port: u16, path: &str, token: &str, body: &[u8]) -> Result<(u16, String), Box<dyn std::error::Error>> {
    let mut s = TcpStream::connect(("127.0.0.1", port))?;
    let head = format!(
        "POST {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Bearer {token}\r\nContent-Length: {}\r\nConnection: close\r\n\r\n",
        body.len()
    );
    s.write_all(head.as_bytes())?;
    s.write_all(body)?;
    let mut answer = String::new();
    s.read_to_string(&mut answer)?;
    let status = answer.get(9..12).and_then(|c| c.parse().ok()).unwrap_or(0);
    Ok((status, answer.split_once("\r\n\r\n").map(|(_, b)| b.to_string()).unwrap_or_default()))
}

pub fn run(lines: u32, per_push: u32) -> Res {
    let meters = 10_000.min(lines);
    let content = file(lines, meters);
    let dir = tempfile::tempdir()?;
    let system = Session::system("bench");

    let file_secs = file_import(dir.path(), &content, lines)?;

    // The same telegrams pushed over HTTP to `releve serve`, `per_push` lines a request.
    let db = dir.path().join("push.db");
    let store = bench_db(&db)?;
    let new = releve_core::sources::NewSource { name: "bench".into(), kind: "http".into(), format: "lines".into(), max_body: None, folder: None, ..Default::default() };
    let token = releve_core::sources::source_add(&store, &system, &new, 1_790_000_000)?.token.unwrap_or_default();
    drop(store);
    let bin = std::env::current_exe()?.with_file_name("releve");
    let port = crate::mqtt::free_port()?;
    let server = crate::mqtt::serve(&bin, &db, port)?;
    let bodies: Vec<&[u8]> = {
        let mut v = Vec::new();
        let mut start = 0;
        let mut count = 0;
        for (i, b) in content.iter().enumerate() {
            if *b == b'\n' {
                count += 1;
                if count == per_push {
                    v.push(&content[start..=i]);
                    start = i + 1;
                    count = 0;
                }
            }
        }
        if start < content.len() {
            v.push(&content[start..]);
        }
        v
    };
    let mut latencies = Vec::with_capacity(bodies.len());
    let t = Instant::now();
    for body in &bodies {
        let at = Instant::now();
        let (status, answer) = post(port, "/ingest/bench", &token, body)?;
        if status != 200 {
            return Err(format!("push answered {status}: {answer}").into());
        }
        latencies.push(at.elapsed());
    }
    let push_secs = t.elapsed().as_secs_f64();
    drop(server);
    latencies.sort();
    let n = f64::from(lines);
    println!(
        "HTTP push to releve serve, {} requests of {per_push} lines: {lines} telegrams in {push_secs:.1} s = {:.0} telegrams/s acknowledged once stored \
         (request p50 {:.0} ms, p99 {:.0} ms); file import of the same telegrams: {file_secs:.1} s = {:.0} telegrams/s; ratio {:.2}",
        bodies.len(),
        n / push_secs,
        latencies[latencies.len() / 2].as_secs_f64() * 1e3,
        latencies[(latencies.len() - 1) * 99 / 100].as_secs_f64() * 1e3,
        n / file_secs,
        (n / push_secs) / (n / file_secs)
    );
    Ok(())
}
