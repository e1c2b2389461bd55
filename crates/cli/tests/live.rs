//! The live screen's server push: `GET /api/events` of a running `releve serve`, read as a
//! browser's EventSource would (a plain socket reading the stream). The session is checked
//! before anything is streamed (token as a query parameter or cookie); a concentrator's HTTP
//! push reaches the stream as the meters it gave new readings, well within 2 seconds; a CLI
//! import beside the server reaches it as `all` (seen through the database's version); the
//! number of streams is bounded.

#[path = "support/releve.rs"]
mod releve;

use releve::{demo_db, drive_by, run_ok as releve, serve};
use std::io::{BufRead, BufReader, Write};
use std::net::TcpStream;
use std::process::Command;
use std::sync::mpsc;
use std::time::{Duration, Instant};

/// curl: (HTTP status, body).
fn curl(args: &[&str]) -> (u16, String) {
    let o = Command::new("curl").args(["-s", "-m", "10", "-w", "\n%{http_code}"]).args(args).output().expect("curl");
    let out = String::from_utf8_lossy(&o.stdout).to_string();
    let (body, status) = out.rsplit_once('\n').unwrap_or(("", "0"));
    (status.trim().parse().unwrap_or(0), body.to_string())
}

fn login(port: u16) -> String {
    let (status, body) = curl(&["-X", "POST", "-d", r#"{"login":"manager","password":"manager"}"#, &format!("http://127.0.0.1:{port}/api/login")]);
    assert_eq!(status, 200, "{body}");
    let v: serde_json::Value = serde_json::from_str(&body).expect("json");
    v["token"].as_str().expect("token").to_string()
}

/// An open event stream: its events (name, JSON data, when read) arrive on `events`.
struct Events {
    events: mpsc::Receiver<(String, serde_json::Value, Instant)>,
    head: String,
    _socket: TcpStream,
}

/// Open `GET /api/events` with `extra` (a query or a header) and read its answer's head.
fn open(port: u16, query: &str, header: &str) -> Events {
    let mut socket = TcpStream::connect(("127.0.0.1", port)).expect("connect");
    write!(socket, "GET /api/events{query} HTTP/1.1\r\nHost: 127.0.0.1\r\nAccept: text/event-stream\r\n{header}\r\n").expect("request");
    let mut reader = BufReader::new(socket.try_clone().expect("clone"));
    let mut head = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).expect("head") == 0 || line == "\r\n" {
            break;
        }
        head.push_str(&line);
    }
    let (send, events) = mpsc::channel();
    std::thread::spawn(move || {
        let (mut name, mut data) = (String::new(), String::new());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let l = line.trim_end();
            if let Some(n) = l.strip_prefix("event: ") {
                name = n.to_string();
            } else if let Some(d) = l.strip_prefix("data: ") {
                data = d.to_string();
            } else if l.is_empty() && !data.is_empty() {
                let v = serde_json::from_str(&data).unwrap_or(serde_json::Value::Null);
                if send.send((std::mem::take(&mut name), v, Instant::now())).is_err() {
                    return;
                }
                data.clear();
            }
            line.clear();
        }
    });
    Events { events, head, _socket: socket }
}

impl Events {
    /// The next event named `name` (others skipped), within `wait`.
    fn next(&self, name: &str, wait: Duration) -> (serde_json::Value, Instant) {
        let deadline = Instant::now() + wait;
        loop {
            let left = deadline.saturating_duration_since(Instant::now());
            let (n, v, at) = self.events.recv_timeout(left).unwrap_or_else(|_| panic!("no '{name}' event within {wait:?}"));
            if n == name {
                return (v, at);
            }
        }
    }
}

fn meter_ids(db: &std::path::Path, first: u32, count: u32) -> Vec<i64> {
    let conn = rusqlite::Connection::open(db).expect("open");
    let mut stmt = conn.prepare("SELECT id FROM meters WHERE CAST(serial AS INTEGER) BETWEEN ?1 AND ?2 ORDER BY id").expect("sql");
    let ids = stmt.query_map([first, first + count - 1], |r| r.get(0)).expect("ids").collect::<Result<Vec<i64>, _>>().expect("rows");
    ids
}

#[test]
fn a_push_reaches_the_event_stream_within_two_seconds() {
    let (dir, db) = demo_db();
    let db_s = db.to_str().expect("utf8");
    let out = releve(&["sources", "add", "--db", db_s, "--name", "conc", "--format", "lines"]);
    let source_token = out.lines().find_map(|l| l.strip_prefix("Authorization: Bearer ")).expect("token").trim().to_string();
    let server = serve(db_s);
    let port = server.port;

    // No session, a wrong one: refused before anything is streamed.
    let unknown = open(port, "", "");
    assert!(unknown.head.starts_with("HTTP/1.1 401"), "{}", unknown.head);
    let wrong = open(port, &format!("?token={}", "0".repeat(48)), "");
    assert!(wrong.head.starts_with("HTTP/1.1 401"), "{}", wrong.head);

    let token = login(port);
    let stream = open(port, &format!("?token={token}"), "");
    assert!(stream.head.starts_with("HTTP/1.1 200") && stream.head.contains("text/event-stream"), "{}", stream.head);
    let (ready, _) = stream.next("ready", Duration::from_secs(5));
    assert!(ready["generation"].is_u64(), "{ready}");
    // The cookie does as well as the query (EventSource sends the page's cookies).
    let by_cookie = open(port, "", &format!("Cookie: theme=dark; releve_token={token}\r\n"));
    by_cookie.next("ready", Duration::from_secs(5));

    // A concentrator pushes 200 telegrams of 50 meters: the stream names those meters.
    let body = dir.path().join("push.txt");
    std::fs::write(&body, drive_by(81_000_000, 50, 200)).expect("write");
    let pushed = Instant::now();
    let (status, answer) = curl(&[
        "-X", "POST", "-H", &format!("Authorization: Bearer {source_token}"), "--data-binary", &format!("@{}", body.display()),
        &format!("http://127.0.0.1:{port}/ingest/conc"),
    ]);
    let answered = pushed.elapsed();
    assert_eq!(status, 200, "{answer}");
    let mut named: Vec<i64> = Vec::new();
    let mut first_event = None;
    let expected = meter_ids(&db, 81_000_000, 50);
    assert_eq!(expected.len(), 50);
    while named.len() < expected.len() {
        let (event, at) = stream.next("changes", Duration::from_secs(2));
        first_event.get_or_insert(at.duration_since(pushed));
        assert_eq!(event["all"], false, "{event}");
        named.extend(event["meters"].as_array().expect("meters").iter().filter_map(|m| m.as_i64()));
        named.sort_unstable();
        named.dedup();
    }
    assert_eq!(named, expected, "the pushed meters, each named");
    let first_event = first_event.expect("an event");
    eprintln!("push of 200 telegrams: answered after {answered:?}, first event after {first_event:?}");
    assert!(first_event < Duration::from_secs(2), "{first_event:?}");
    by_cookie.next("changes", Duration::from_secs(2));

    // Another process writes (a CLI import beside the server): the stream says `all`.
    let file = dir.path().join("drive.txt");
    std::fs::write(&file, drive_by(82_000_000, 5, 10)).expect("write");
    releve(&["import", "--db", db_s, file.to_str().expect("utf8")]);
    let imported = Instant::now();
    let (event, at) = stream.next("changes", Duration::from_secs(3));
    assert_eq!(event["all"], true, "{event}");
    assert!(at.saturating_duration_since(imported) < Duration::from_secs(2), "{:?}", at.saturating_duration_since(imported));

    // At most 64 streams at once: the next is refused (503). A stream closed by its client
    // (the cookie one here) keeps its place until the server next writes to it.
    drop(by_cookie);
    let mut open_streams = Vec::new();
    let mut refused = None;
    for _ in 0..70 {
        let s = open(port, &format!("?token={token}"), "");
        if s.head.starts_with("HTTP/1.1 503") {
            refused = Some(s);
            break;
        }
        open_streams.push(s);
    }
    let refused = refused.expect("a stream past the limit is refused");
    assert!(refused.head.starts_with("HTTP/1.1 503"));
    // (The closed one's place is back if a later change already found it gone.)
    assert!((62..=63).contains(&open_streams.len()), "this one, maybe the closed one, and the rest up to 64: {}", open_streams.len());
    // Closed streams give their place back once an event (or a heartbeat) finds them gone.
    drop(open_streams);
    let again = (0..10).find_map(|i| {
        std::fs::write(&body, drive_by(83_000_000 + i * 10, 2, 2)).expect("write");
        curl(&["-X", "POST", "-H", &format!("Authorization: Bearer {source_token}"), "--data-binary", &format!("@{}", body.display()), &format!("http://127.0.0.1:{port}/ingest/conc")]);
        std::thread::sleep(Duration::from_millis(100));
        let s = open(port, &format!("?token={token}"), "");
        s.head.starts_with("HTTP/1.1 200").then_some(s)
    });
    assert!(again.is_some(), "the places of closed streams are given back");

    // Logged out: the stream ends at its next event, and a new one is refused.
    curl(&["-X", "POST", "-H", &format!("Authorization: Bearer {token}"), &format!("http://127.0.0.1:{port}/api/logout")]);
    let refused = open(port, &format!("?token={token}"), "");
    assert!(refused.head.starts_with("HTTP/1.1 401"), "{}", refused.head);
}
