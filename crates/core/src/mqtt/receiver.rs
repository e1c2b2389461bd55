//! One MQTT source's receiver: it connects with its fixed client id and a persistent session
//! (messages published while Relevé was down wait at the broker), subscribes at QoS 1 and
//! gathers messages in batches; each batch is stored in one import, then its messages are
//! acknowledged (manual PUBACKs: a message the process dies holding is sent again, and the
//! import stores a telegram once). A message that cannot be read is acknowledged too, and
//! logged: it never blocks the stream. A failed connection is retried after a pause that
//! doubles from 1 s to 60 s.

use super::Clock;
use crate::error::Error;
use crate::import::{self, line, text};
use crate::store::{self, sources::LogEntry, sources::Source, Store};
use rumqttc::{Client, ConnectionError, Event, MqttOptions, Packet, Publish, QoS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// A batch is stored once it holds this many messages (or this many bytes),
const BATCH_MESSAGES: usize = 4000;
const BATCH_BYTES: usize = 64 << 20;
/// or its first message has waited this long (what a steady stream waits at most before it
/// is stored: 1,000 messages/s are stored within about a quarter of a second),
const BATCH_WAIT: Duration = Duration::from_millis(250);
/// or no message came for this long after at least `QUIET_AFTER` of them (the broker's
/// in-flight window may be full: it waits for acknowledgements before it sends more; 20 is
/// mosquitto's default window). A slow trickle waits `BATCH_WAIT`: four imports a second at most.
const QUIET: Duration = Duration::from_millis(25);
const QUIET_AFTER: usize = 20;
/// The client's queue of requests (acknowledgements): a batch's worth.
const REQUESTS: usize = BATCH_MESSAGES;
/// The largest packet read from the broker: the protocol's own limit, so that a message
/// larger than the source's `max_body` is read, acknowledged and logged rather than breaking
/// the connection again and again (the broker's `message_size_limit` bounds it before).
const MAX_PACKET: usize = 268_435_455;
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(60);

/// Why a connection ended: a code the screen words and the broker's or network's message.
#[derive(Debug)]
struct Down {
    code: &'static str,
    message: String,
}

impl Down {
    fn store(e: Error) -> Down {
        Down { code: "mqtt_store", message: e.to_string() }
    }
}

/// Receive for `source` until `stop` is set: its state says what the connection does.
pub(super) fn run(store: &Store, source: &Source, client_id: &str, clock: &Clock, stop: &AtomicBool) {
    let mut backoff = BACKOFF_FIRST;
    state(store, source, "connecting", None, clock);
    while !stop.load(Ordering::Relaxed) {
        match session(store, source, client_id, clock, stop, &mut backoff) {
            Ok(()) => break,
            Err(down) => {
                state(store, source, "reconnecting", Some(&down), clock);
                let until = Instant::now() + backoff;
                while Instant::now() < until && !stop.load(Ordering::Relaxed) {
                    std::thread::sleep(Duration::from_millis(100));
                }
                backoff = (backoff * 2).min(BACKOFF_MAX);
            }
        }
    }
    state(store, source, "stopped", None, clock);
}

fn state(store: &Store, source: &Source, state: &str, why: Option<&Down>, clock: &Clock) {
    let why = why.map(|d| (d.code, d.message.as_str()));
    if let Err(e) = store::sources::set_state(&store.writer(), source.id, state, why, clock()) {
        eprintln!("releve: source {}: cannot save its state: {e}", source.name);
    }
}

fn options(source: &Source, client_id: &str) -> Result<MqttOptions, Down> {
    let config = |e: Error| Down { code: "mqtt_config", message: e.to_string() };
    let broker = super::broker(source.url.as_deref().unwrap_or_default()).map_err(config)?;
    let mut o = MqttOptions::new(client_id, broker.host.clone(), broker.port);
    o.set_clean_session(false)
        .set_manual_acks(true)
        .set_keep_alive(Duration::from_secs(30))
        .set_max_packet_size(MAX_PACKET, 64 << 10)
        .set_request_channel_capacity(REQUESTS);
    if let Some(user) = source.username.as_deref().filter(|u| !u.is_empty()) {
        o.set_credentials(user, source.password.clone().unwrap_or_default());
    }
    if broker.tls {
        let tls = super::tls_config(source.ca_file.as_deref(), source.cert_file.as_deref(), source.key_file.as_deref()).map_err(config)?;
        o.set_transport(rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(Arc::new(tls))));
    }
    Ok(o)
}

/// What the connection's thread hands to the receiver.
enum Heard {
    Connected,
    Subscribed { refused: bool },
    Message(Publish),
    Down(Down),
}

/// The connection's thread: it drives the client (network, pings, the acknowledgements the
/// receiver sends) and hands on what it hears, until the connection ends. Its queue is not
/// bounded here: the broker's in-flight window bounds what it sends before acknowledgements.
fn listen(mut connection: rumqttc::Connection, heard: std::sync::mpsc::Sender<Heard>) {
    for event in connection.iter() {
        let next = match event {
            Ok(Event::Incoming(Packet::Publish(message))) => Heard::Message(message),
            Ok(Event::Incoming(Packet::ConnAck(_))) => Heard::Connected,
            Ok(Event::Incoming(Packet::SubAck(ack))) => {
                Heard::Subscribed { refused: ack.return_codes.iter().any(|c| matches!(c, rumqttc::SubscribeReasonCode::Failure)) }
            }
            Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect)) => return,
            Ok(_) => continue,
            Err(e) => {
                let _ = heard.send(Heard::Down(down(e)));
                return;
            }
        };
        if heard.send(next).is_err() {
            return;
        }
    }
}

/// One connection, from connecting until `stop` (Ok) or until it fails (Err: why).
fn session(store: &Store, source: &Source, client_id: &str, clock: &Clock, stop: &AtomicBool, backoff: &mut Duration) -> Result<(), Down> {
    let (client, mut connection) = Client::new(options(source, client_id)?, REQUESTS);
    // Acknowledgements are small writes: sent at once, not held back behind the last one.
    let mut network = rumqttc::NetworkOptions::new();
    network.set_tcp_nodelay(true);
    connection.eventloop.set_network_options(network);
    let (tell, heard) = std::sync::mpsc::channel();
    let listener = std::thread::Builder::new()
        .name(format!("mqtt-{}-net", source.name))
        .spawn(move || listen(connection, tell))
        .map_err(|e| Down { code: "mqtt_network", message: e.to_string() })?;
    let result = receive(store, source, clock, stop, backoff, &client, &heard);
    // Stopped, or given up (the store failed, the subscription was refused): the connection
    // is closed, and the listener ends with it (after a network failure it has already ended).
    let _ = client.disconnect();
    drop(client);
    let _ = listener.join();
    result
}

fn receive(
    store: &Store,
    source: &Source,
    clock: &Clock,
    stop: &AtomicBool,
    backoff: &mut Duration,
    client: &Client,
    heard: &std::sync::mpsc::Receiver<Heard>,
) -> Result<(), Down> {
    let topic = source.topic.clone().unwrap_or_default();
    let mut batch = Batch::default();
    loop {
        if stop.load(Ordering::Relaxed) {
            return batch.store(store, source, clock, Some(client));
        }
        let wait = match batch.first {
            Some(first) if batch.messages.len() >= QUIET_AFTER => QUIET.min(BATCH_WAIT.saturating_sub(first.elapsed())),
            Some(first) => BATCH_WAIT.saturating_sub(first.elapsed()),
            None => Duration::from_millis(250),
        };
        match heard.recv_timeout(wait) {
            Ok(Heard::Message(message)) => {
                batch.push(message);
                if batch.full() {
                    batch.store(store, source, clock, Some(client))?;
                }
            }
            Ok(Heard::Connected) => {
                // The broker keeps the subscription of a persistent session; asking again is harmless.
                client.subscribe(topic.clone(), QoS::AtLeastOnce).map_err(|e| Down { code: "mqtt_protocol", message: e.to_string() })?;
            }
            Ok(Heard::Subscribed { refused: true }) => {
                return Err(Down { code: "mqtt_subscribe_refused", message: format!("the broker refused the subscription to {topic}") });
            }
            Ok(Heard::Subscribed { refused: false }) => {
                state(store, source, "running", None, clock);
                *backoff = BACKOFF_FIRST;
            }
            Ok(Heard::Down(down)) => {
                // What arrived is stored; it cannot be acknowledged on this connection, so the
                // broker sends it again on the next one and the import finds it stored.
                batch.store(store, source, clock, None)?;
                return Err(down);
            }
            Err(std::sync::mpsc::RecvTimeoutError::Timeout) => batch.store(store, source, clock, Some(client))?,
            Err(std::sync::mpsc::RecvTimeoutError::Disconnected) => {
                batch.store(store, source, clock, None)?;
                return Err(Down { code: "mqtt_closed", message: "the connection ended".into() });
            }
        }
    }
}

/// End the broker's session of a removed source, so that it stops keeping messages for it:
/// connect once with a clean session under its client id, then disconnect. Best effort (a
/// broker out of reach keeps the session until its own expiry).
pub(super) fn forget(source: &Source, client_id: &str) {
    let Ok(mut options) = options(source, client_id) else { return };
    options.set_clean_session(true).set_manual_acks(false);
    let (client, mut connection) = Client::new(options, 10);
    for _ in 0..10 {
        match connection.recv_timeout(Duration::from_secs(6)) {
            Ok(Ok(Event::Incoming(Packet::ConnAck(_)))) => {
                let _ = client.disconnect();
            }
            Ok(Ok(Event::Outgoing(rumqttc::Outgoing::Disconnect))) | Ok(Err(_)) | Err(_) => return,
            Ok(Ok(_)) => {}
        }
    }
}

/// The words of a failed connection.
fn down(e: ConnectionError) -> Down {
    Down { code: super::connection_code(&e), message: e.to_string() }
}

#[derive(Default)]
struct Batch {
    messages: Vec<Publish>,
    bytes: usize,
    first: Option<Instant>,
}

impl Batch {
    fn push(&mut self, message: Publish) {
        self.first.get_or_insert_with(Instant::now);
        self.bytes += message.payload.len();
        self.messages.push(message);
    }

    fn full(&self) -> bool {
        self.messages.len() >= BATCH_MESSAGES || self.bytes >= BATCH_BYTES || self.first.is_some_and(|f| f.elapsed() >= BATCH_WAIT)
    }

    /// Store the batch's readable messages in one import, log the others, then acknowledge
    /// them all. Nothing is acknowledged when the store fails (the connection is dropped and
    /// the broker sends them again).
    fn store(&mut self, store: &Store, source: &Source, clock: &Clock, client: Option<&Client>) -> Result<(), Down> {
        if self.messages.is_empty() {
            return Ok(());
        }
        let now = clock();
        let settings = import::Settings::read(store, now).map_err(Down::store)?.from_source(source.id);
        let mut lines = Vec::new();
        let mut body = Vec::new();
        let mut refused = Vec::new();
        // Network servers' events are read together: what they leave (unknown devices,
        // fragments) is kept in one transaction for the batch.
        let mut events = if crate::lorawan::FORMATS.contains(&source.format.as_str()) {
            let bodies: Vec<&[u8]> =
                self.messages.iter().map(|m| if m.payload.len() as i64 > source.max_body { &[][..] } else { &m.payload[..] }).collect();
            Some(crate::lorawan::read_events(store, source, &source.format, &bodies, &settings).map_err(Down::store)?.into_iter())
        } else {
            None
        };
        for message in &self.messages {
            let read = match events.as_mut().and_then(Iterator::next) {
                Some(event) => read_event(source, message, event),
                None => read(store, source, message, &settings),
            };
            match read {
                Ok(read) => {
                    let first = lines.len() as u64;
                    lines.extend(read.into_iter().enumerate().map(|(i, (_, l))| (first + i as u64 + 1, l)));
                    body.extend_from_slice(&message.payload);
                    body.push(b'\n');
                }
                Err(reason) => refused.push(LogEntry { at: now, ..reason }),
            }
        }
        let telegrams = if lines.is_empty() {
            0
        } else {
            let label = format!("{}: mqtt", source.name);
            crate::sources::store_lines(store, source, &label, &body, lines, settings).map_err(Down::store)?.telegrams
        };
        {
            let mut conn = store.writer();
            let tx = conn.transaction().map_err(|e| Down::store(e.into()))?;
            if telegrams > 0 {
                store::sources::delivered(&tx, source.id, telegrams, now).map_err(Down::store)?;
            }
            for entry in &refused {
                store::sources::log(&tx, source.id, entry).map_err(Down::store)?;
            }
            if let Some(last) = refused.last() {
                store::sources::refused(&tx, source.id, &last.code, &last.message, now).map_err(Down::store)?;
            }
            tx.commit().map_err(|e| Down::store(e.into()))?;
        }
        self.first = None;
        self.bytes = 0;
        for message in self.messages.drain(..) {
            if let Some(client) = client {
                client.ack(&message).map_err(|_| Down { code: "mqtt_closed", message: "the connection ended before the acknowledgements were sent".into() })?;
            }
        }
        Ok(())
    }
}

/// A message's numbered lines, or why none of it is stored (its log entry, `at` left 0).
/// Why a message is set aside, for the source's log (with the start of what it held).
fn refusal(message: &Publish, code: &str, reason: String) -> LogEntry {
    let text = String::from_utf8_lossy(&message.payload[..message.payload.len().min(200)]).into_owned();
    LogEntry { at: 0, code: code.to_string(), message: reason, detail: format!("{}: {text}", message.topic) }
}

fn too_large(source: &Source, message: &Publish) -> Option<LogEntry> {
    (message.payload.len() as i64 > source.max_body).then(|| {
        refusal(message, "too_large", format!("a message of {} bytes, larger than the source's {} bytes", message.payload.len(), source.max_body))
    })
}

/// A network server's event already read (see `lorawan::read_events`).
fn read_event(source: &Source, message: &Publish, event: line::Line) -> Result<Vec<(u64, line::Line)>, LogEntry> {
    if let Some(refused) = too_large(source, message) {
        return Err(refused);
    }
    match event {
        line::Line::Bad(reason) => Err(refusal(message, "bad_lines", reason.to_string())),
        other => Ok(vec![(1, other)]),
    }
}

fn read(store: &Store, source: &Source, message: &Publish, settings: &import::Settings) -> Result<Vec<(u64, line::Line)>, LogEntry> {
    let refuse = |code: &str, reason: String| refusal(message, code, reason);
    if let Some(refused) = too_large(source, message) {
        return Err(refused);
    }
    let body = text::utf8(&source.name, &message.payload).map_err(|e| refuse(e.code(), e.to_string()))?;
    let lines = crate::sources::read_lines(store, source, &body, settings).map_err(|e| refuse(e.code(), e.to_string()))?;
    if let Some((n, reason)) = lines.iter().find_map(|(n, l)| if let line::Line::Bad(r) = l { Some((n, r)) } else { None }) {
        let count = lines.iter().filter(|(_, l)| matches!(l, line::Line::Bad(_))).count();
        return Err(refuse("bad_lines", format!("{count} line(s) of the message cannot be read, the first at line {n}: {reason}")));
    }
    Ok(lines)
}
