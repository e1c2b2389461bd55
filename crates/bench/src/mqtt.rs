//! `releve-bench mqtt`: telegrams published one a message at QoS 1 through a mosquitto it
//! starts, received by a real `releve serve` (the release binary beside this one): the rate
//! stored, and at a fixed rate the latency from publish to committed; next to the file import
//! of the same telegrams in the same run.

use crate::push::{file, Res};
use releve_core::access::Session;
use std::io::Write;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

pub(crate) struct Killed(pub(crate) Child);

impl Drop for Killed {
    fn drop(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

pub(crate) fn free_port() -> std::io::Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

pub(crate) fn wait_for(what: &str, limit: Duration, mut done: impl FnMut() -> bool) -> Res {
    let deadline = Instant::now() + limit;
    while !done() {
        if Instant::now() > deadline {
            return Err(format!("waited {limit:?} for {what}").into());
        }
        std::thread::sleep(Duration::from_millis(2));
    }
    Ok(())
}

/// The telegrams stored (each batch's import counts them as it commits; a message sent again
/// after a restart is not counted twice).
fn stored(conn: &rusqlite::Connection) -> i64 {
    conn.query_row("SELECT coalesce(sum(stored), 0) FROM imports", [], |r| r.get(0)).unwrap_or(-1)
}

pub(crate) fn state(conn: &rusqlite::Connection) -> String {
    conn.query_row("SELECT coalesce(state, '') FROM sources WHERE name = 'bench'", [], |r| r.get(0)).unwrap_or_default()
}

/// A mosquitto as a deployment would set it up for Relevé (README: a large in-flight window,
/// an unbounded queue for the persistent session).
pub(crate) fn broker(dir: &Path, port: u16) -> Result<Killed, Box<dyn std::error::Error>> {
    let me = Command::new("id").arg("-un").output()?;
    let conf = dir.join("mosquitto.conf");
    std::fs::write(
        &conf,
        format!(
            "user {}\nlistener {port} 127.0.0.1\nallow_anonymous true\nmax_inflight_messages 10000\nmax_queued_messages 0\n",
            String::from_utf8_lossy(&me.stdout).trim()
        ),
    )?;
    let child = Command::new("mosquitto").arg("-c").arg(&conf).stdout(Stdio::null()).stderr(Stdio::null()).spawn()?;
    let broker = Killed(child);
    wait_for("mosquitto", Duration::from_secs(20), || std::net::TcpStream::connect(("127.0.0.1", port)).is_ok())?;
    Ok(broker)
}

/// The CPU time a process has used (user and system, all its threads), seconds.
fn cpu_secs(pid: u32) -> f64 {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the command name (in parentheses): utime and stime are the 12th and 13th.
    let rest = stat.rsplit_once(')').map(|(_, r)| r).unwrap_or_default();
    let f: Vec<f64> = rest.split_whitespace().map(|x| x.parse().unwrap_or(0.0)).collect();
    (f.get(11).copied().unwrap_or(0.0) + f.get(12).copied().unwrap_or(0.0)) / 100.0
}

/// Publish `lines` one a message, in pieces of 50,000 (mosquitto_pub's message ids wrap at
/// 65,535); how long it took.
pub(crate) fn publish(port: u16, lines: &[&[u8]]) -> Result<f64, Box<dyn std::error::Error>> {
    let t = Instant::now();
    for piece in lines.chunks(50_000) {
        let mut p = publisher(port)?;
        p.stdin.take().ok_or("stdin")?.write_all(&piece.concat())?;
        p.wait()?;
    }
    Ok(t.elapsed().as_secs_f64())
}

/// `releve serve` of `db` (the release binary `bin`), once it listens on `http`; killed on drop.
pub(crate) fn serve(bin: &Path, db: &Path, http: u16) -> Result<Killed, Box<dyn std::error::Error>> {
    let child = Command::new(bin)
        .args(["serve", "--db", db.to_str().unwrap_or_default(), "--addr", &format!("127.0.0.1:{http}")])
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .map_err(|e| format!("{}: {e} (cargo build --release -p releve-cli first)", bin.display()))?;
    let server = Killed(child);
    wait_for("releve serve listening", Duration::from_secs(30), || std::net::TcpStream::connect(("127.0.0.1", http)).is_ok())?;
    Ok(server)
}

/// The benches' MQTT source: `lines` on topic `bench/up` of the broker at `port`.
pub(crate) fn source(port: u16) -> releve_core::sources::NewSource {
    releve_core::sources::NewSource {
        name: "bench".into(),
        kind: "mqtt".into(),
        format: "lines".into(),
        url: Some(format!("mqtt://127.0.0.1:{port}")),
        topic: Some("bench/up".into()),
        ..Default::default()
    }
}

pub(crate) fn publisher(port: u16) -> std::io::Result<Child> {
    Command::new("mosquitto_pub")
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-q", "1", "-t", "bench/up", "-l"])
        .stdin(Stdio::piped())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
}

pub fn run(lines: u32, rate: u32, seconds: u32) -> Res {
    let meters = 10_000.min(lines);
    let fixed = rate * seconds;
    let content = file(2 * lines + fixed, meters);
    let all: Vec<&[u8]> = content.split_inclusive(|b| *b == b'\n').collect();
    let (stream, rest) = all.split_at(lines as usize);
    let (backlog, paced) = rest.split_at(lines as usize);
    let dir = tempfile::tempdir()?;
    let system = Session::system("bench");

    let file_secs = crate::push::file_import(dir.path(), &stream.concat(), lines)?;

    let port = free_port()?;
    let broker = broker(dir.path(), port)?;
    let db = dir.path().join("mqtt.db");
    let store = crate::push::bench_db(&db)?;
    releve_core::sources::source_add(&store, &system, &source(port), 1_790_000_000)?;
    drop(store);
    let bin = std::env::current_exe()?.with_file_name("releve");
    let server = serve(&bin, &db, free_port()?)?;
    let conn = rusqlite::Connection::open(&db)?;
    conn.busy_timeout(Duration::from_secs(10))?;
    wait_for("the source running", Duration::from_secs(30), || state(&conn) == "running")?;

    // A stream, as fast as mosquitto_pub publishes.
    let (serve_cpu, broker_cpu) = (cpu_secs(server.0.id()), cpu_secs(broker.0.id()));
    let t = Instant::now();
    let publish_secs = publish(port, stream)?;
    wait_for("every telegram stored", Duration::from_secs(600), || stored(&conn) >= i64::from(lines))?;
    let stream_secs = t.elapsed().as_secs_f64();
    let stream_cpu = (cpu_secs(server.0.id()) - serve_cpu, cpu_secs(broker.0.id()) - broker_cpu);
    drop(server);

    // A backlog: published while Relevé was closed, taken when it starts.
    publish(port, backlog)?;
    let t = Instant::now();
    let server = serve(&bin, &db, free_port()?)?;
    let broker_cpu = cpu_secs(broker.0.id());
    wait_for("the backlog stored", Duration::from_secs(600), || stored(&conn) >= 2 * i64::from(lines))?;
    let backlog_secs = t.elapsed().as_secs_f64();
    let backlog_cpu = (cpu_secs(server.0.id()), cpu_secs(broker.0.id()) - broker_cpu);

    // At a fixed rate: when each message was written to the publisher, when its batch committed.
    let base = stored(&conn);
    let mut p = publisher(port)?;
    let mut input = p.stdin.take().ok_or("stdin")?;
    let watcher = {
        let db = db.clone();
        let n = paced.len();
        std::thread::spawn(move || -> Vec<Instant> {
            let mut committed = Vec::with_capacity(n);
            let Ok(conn) = rusqlite::Connection::open(&db) else { return committed };
            let deadline = Instant::now() + Duration::from_secs(u64::from(seconds) + 60);
            while committed.len() < n && Instant::now() < deadline {
                let now = Instant::now();
                let done = ((stored(&conn) - base).max(0) as usize).min(n);
                committed.resize(done.max(committed.len()), now);
                std::thread::sleep(Duration::from_millis(2));
            }
            committed
        })
    };
    let start = Instant::now();
    let mut sent = Vec::with_capacity(paced.len());
    for (i, line) in paced.iter().enumerate() {
        let slot = start + Duration::from_secs_f64(i as f64 / f64::from(rate));
        if let Some(d) = slot.checked_duration_since(Instant::now()) {
            std::thread::sleep(d);
        }
        input.write_all(line)?;
        sent.push(Instant::now());
    }
    drop(input);
    p.wait()?;
    let committed = watcher.join().map_err(|_| "watcher")?;
    if committed.len() < sent.len() {
        return Err(format!("only {} of {} paced messages stored", committed.len(), sent.len()).into());
    }
    let mut latency: Vec<f64> = committed.iter().zip(&sent).map(|(c, s)| c.saturating_duration_since(*s).as_secs_f64() * 1e3).collect();
    latency.sort_by(f64::total_cmp);
    let n = f64::from(lines);
    println!(
        "MQTT through mosquitto to releve serve, one telegram a message at QoS 1:\n\
         - stream: {lines} telegrams stored in {stream_secs:.1} s = {:.0} telegrams/s (mosquitto_pub took {publish_secs:.1} s = {:.0} messages/s); \
         CPU: releve serve {:.1} s ({:.0} µs a telegram), mosquitto {:.1} s\n\
         - backlog (published while serve was down): {lines} telegrams stored {backlog_secs:.1} s after serve started = {:.0} telegrams/s; \
         CPU: releve serve {:.1} s ({:.0} µs a telegram, start included), mosquitto {:.1} s\n\
         - file import of the same telegrams: {file_secs:.1} s = {:.0} telegrams/s\n\
         - at {rate} messages/s for {seconds} s, publish to committed: p50 {:.0} ms, p99 {:.0} ms, max {:.0} ms",
        n / stream_secs,
        n / publish_secs,
        stream_cpu.0,
        stream_cpu.0 / n * 1e6,
        stream_cpu.1,
        n / backlog_secs,
        backlog_cpu.0,
        backlog_cpu.0 / n * 1e6,
        backlog_cpu.1,
        n / file_secs,
        latency[latency.len() / 2],
        latency[(latency.len() - 1) * 99 / 100],
        latency[latency.len() - 1],
    );
    Ok(())
}
