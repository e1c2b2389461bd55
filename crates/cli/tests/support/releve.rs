//! The real `releve` for the CLI tests: a demo database, `releve serve` on a free port, a
//! generated drive-by file. Shared through `#[path = "support/releve.rs"] mod releve;`.
#![allow(dead_code)]

use std::net::TcpStream;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub const BIN: &str = env!("CARGO_BIN_EXE_releve");

/// Run `releve` as the demo manager (RELEVE_PASSWORD) and expect success: what it printed
/// (standard output, then standard error).
pub fn run_ok(args: &[&str]) -> String {
    let o = Command::new(BIN).args(args).env("RELEVE_PASSWORD", "manager").output().expect("releve");
    let out = format!("{}{}", String::from_utf8_lossy(&o.stdout), String::from_utf8_lossy(&o.stderr));
    assert!(o.status.success(), "releve {args:?}: {out}");
    out
}

/// `releve serve` on a free port; killed on drop.
pub struct Server {
    child: Child,
    pub port: u16,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Server {
    /// Stop it as a service manager does (SIGTERM); its exit status.
    pub fn terminate(mut self) -> std::process::ExitStatus {
        let pid = self.child.id().to_string();
        let sent = Command::new("kill").args(["-TERM", &pid]).status().expect("kill");
        assert!(sent.success(), "kill -TERM {pid}");
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(20);
        loop {
            if let Some(status) = self.child.try_wait().expect("wait") {
                return status;
            }
            assert!(std::time::Instant::now() < deadline, "releve serve did not stop within 20 s of SIGTERM");
            std::thread::sleep(std::time::Duration::from_millis(50));
        }
    }
}

pub fn serve(db: &str) -> Server {
    // A free port may be taken by another test's server between the probe and the bind: that
    // server would answer in ours' place. A child that exits (it could not listen) is started
    // again on another port.
    for _ in 0..5 {
        let port = std::net::TcpListener::bind("127.0.0.1:0").and_then(|l| l.local_addr()).expect("port").port();
        let child = Command::new(BIN)
            .args(["serve", "--db", db, "--addr", &format!("127.0.0.1:{port}")])
            // The demo's data is fixed in time; the real night must not compact it mid-test.
            .env("RELEVE_NIGHTLY_RETENTION", "off")
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("releve serve");
        let mut server = Server { child, port };
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut exited = false;
        while TcpStream::connect(("127.0.0.1", port)).is_err() {
            if server.child.try_wait().expect("wait").is_some() {
                exited = true;
                break;
            }
            assert!(Instant::now() < deadline, "releve serve did not listen");
            std::thread::sleep(Duration::from_millis(50));
        }
        // Listening, and ours (a server that lost the port exits at once).
        std::thread::sleep(Duration::from_millis(100));
        if !exited && server.child.try_wait().expect("wait").is_none() {
            return server;
        }
    }
    panic!("releve serve could not listen on a free port in 5 tries");
}

/// A drive-by file: `lines` rtl-wmbus lines of plaintext telegrams from `meters` meters
/// (serials from `first`), hour after hour from 1 November 2026.
pub fn drive_by(first: u32, meters: u32, lines: u32) -> Vec<u8> {
    let mut out = Vec::with_capacity(lines as usize * 80);
    for i in 0..lines {
        let (m, h) = (i % meters, i / meters);
        let serial = format!("{:08}", first + m);
        let mut payload = vec![0x04, 0x13];
        payload.extend_from_slice(&(m * 1000 + h * 7).to_le_bytes());
        let spec = mbus::encode::FrameSpec {
            manufacturer: "KAM",
            id: &serial,
            version: 0x1b,
            device_type: mbus::DeviceType::Water,
            access_number: h as u8,
            status: 0,
        };
        let raw = mbus::encode::wmbus_frame(&spec, &payload, None);
        let (day, hour) = (1 + h / 24, h % 24);
        out.extend_from_slice(format!("T1;1;1;2026-11-{day:02} {hour:02}:{:02}:00.000;80;;;0x{}\n", m % 60, hex::encode(raw)).as_bytes());
    }
    out
}

/// A small demo database (its users: manager, superuser, clerk) in a new folder.
pub fn demo_db() -> (tempfile::TempDir, std::path::PathBuf) {
    let dir = tempfile::tempdir().expect("tempdir");
    let db = dir.path().join("demo.db");
    let o = Command::new(BIN)
        .args(["demo", "--db", db.to_str().expect("utf8"), "--meters", "40", "--now", "2026-11-20"])
        .output()
        .expect("demo");
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    (dir, db)
}

