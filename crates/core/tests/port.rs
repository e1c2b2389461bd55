//! A serial line through a real pty pair made by socat: what one end sends, the port reads,
//! with its line settings applied and a timeout when nothing comes.

use releve_core::port::{self, LineSettings, Target};
use std::io::{Read, Write};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

struct Socat(Child);

impl Drop for Socat {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

fn pty_pair(dir: &std::path::Path) -> (Socat, String, String) {
    let a = dir.join("a").to_string_lossy().into_owned();
    let b = dir.join("b").to_string_lossy().into_owned();
    let child = Command::new("socat")
        .args([format!("pty,raw,echo=0,link={a}"), format!("pty,raw,echo=0,link={b}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("socat is installed (scripts/install-deps)");
    let started = Instant::now();
    while !(std::path::Path::new(&a).exists() && std::path::Path::new(&b).exists()) {
        assert!(started.elapsed() < Duration::from_secs(5), "socat made no ptys");
        std::thread::sleep(Duration::from_millis(20));
    }
    (Socat(child), a, b)
}

#[test]
fn a_serial_port_reads_what_the_far_end_writes_and_changes_its_speed() {
    let dir = tempfile::tempdir().expect("dir");
    let (_socat, a, b) = pty_pair(dir.path());
    let mut line = port::open(&Target::Serial(a.clone()), LineSettings::mbus(2400), Duration::from_secs(1)).expect("open");
    assert!(line.changes_line());
    let mut far = std::fs::OpenOptions::new().read(true).write(true).open(&b).expect("far end");

    line.send(&[0x10, 0x40, 0x05, 0x45, 0x16]).expect("send");
    let mut got = [0u8; 5];
    far.read_exact(&mut got).expect("far reads");
    assert_eq!(got, [0x10, 0x40, 0x05, 0x45, 0x16]);

    far.write_all(&[0xE5]).expect("answer");
    let mut buf = [0u8; 8];
    assert_eq!(line.recv(&mut buf, Duration::from_secs(2)).expect("recv"), 1);
    assert_eq!(buf[0], 0xE5);

    line.set_line(LineSettings::iec62056(300)).expect("7E1 300");
    assert_eq!(line.line(), LineSettings::iec62056(300));
    let started = Instant::now();
    assert_eq!(line.recv(&mut buf, Duration::from_millis(80)).expect("nothing"), 0);
    assert!(started.elapsed() >= Duration::from_millis(80));

    far.write_all(b"junk").expect("junk");
    std::thread::sleep(Duration::from_millis(50));
    line.discard_input().expect("discard");
    assert_eq!(line.recv(&mut buf, Duration::from_millis(50)).expect("nothing left"), 0);
}
