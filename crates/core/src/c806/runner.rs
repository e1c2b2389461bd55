//! The gateway's loop: at every 4-second slot of the clock it stores one value per enabled
//! SDP (the outgoing buffer, persisted), and while connected it sends the buffer oldest
//! first, one message at a time (the next once the broker acknowledged the last) and at most
//! one per second; when more than a slot's worth waits (catching up after a cut) up to 15
//! values of one SDP go in one message. It answers heartbeats, keeps the keys the platform
//! sends, asks for one when it has none valid, and says in its state what the connection
//! does. Holds the clock (Unix milliseconds) and the network; the SQL is in `store::c806`.

use super::{crypto, message, KEEP_DAYS};
use crate::store::{c806 as db, Store};
use rumqttc::{Client, Event, MqttOptions, Outgoing, Packet, QoS};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{Receiver, RecvTimeoutError};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// The runner's clock: Unix milliseconds.
pub type MsClock = Arc<dyn Fn() -> i64 + Send + Sync>;

/// The system clock in Unix milliseconds.
pub fn system_ms() -> MsClock {
    Arc::new(|| chrono::Utc::now().timestamp_millis())
}

/// The cadence: a slot every `slot_ms` (4,000: the specification's), at most one message
/// every `gap_ms` (1,000). Tests and the bench may run faster (`RELEVE_C806_SLOT_MS`,
/// the gap then a quarter of the slot).
#[derive(Debug, Clone)]
pub struct Options {
    pub slot_ms: i64,
    pub gap_ms: i64,
    /// The versions a heartbeat asking for them (GWV) is answered with (SV, FWV).
    pub software: String,
    pub firmware: String,
}

impl Default for Options {
    fn default() -> Options {
        Options { slot_ms: 4000, gap_ms: 1000, software: env!("CARGO_PKG_VERSION").into(), firmware: env!("CARGO_PKG_VERSION").into() }
    }
}

impl Options {
    /// The specification's cadence, unless `RELEVE_C806_SLOT_MS` (a test knob) says otherwise.
    pub fn from_env() -> Options {
        let mut o = Options::default();
        if let Some(ms) = std::env::var("RELEVE_C806_SLOT_MS").ok().and_then(|v| v.parse::<i64>().ok()).filter(|v| (40..=4000).contains(v)) {
            o.slot_ms = ms;
            o.gap_ms = ms / 4;
        }
        o
    }
}

/// How often the configuration is read again (a change reconnects).
const RELOAD: Duration = Duration::from_secs(2);
const BACKOFF_FIRST: Duration = Duration::from_secs(1);
const BACKOFF_MAX: Duration = Duration::from_secs(30);
/// Another runner of the same database takes over when this one said nothing for this long.
const LEASE_MS: i64 = 6_000;
/// A message not acknowledged within this is sent again (after a reconnection).
const ACK_WAIT: Duration = Duration::from_secs(10);
/// While no key is valid, a key request at most this often.
const REQUEST_EVERY: Duration = Duration::from_secs(300);

/// What the network thread hands on.
enum Heard {
    Connected,
    Message(Vec<u8>),
    Sent(u16),
    Acked(u16),
    Down(&'static str, String),
}

struct Link {
    client: Client,
    heard: Receiver<Heard>,
    connected: bool,
    /// The values of the message waiting for its acknowledgement, its packet id once sent,
    /// when it was handed to the client.
    inflight: Option<(Vec<i64>, Option<u16>, Instant, i64)>,
    last_publish: Option<Instant>,
    last_request: Option<Instant>,
    /// Heartbeats to answer: their MID and whether they asked for the versions.
    answers: Vec<(i64, bool)>,
}

/// Run the gateway until `stop`: idle while no gateway is configured and enabled.
pub fn run(store: &Store, opts: &Options, clock: &MsClock, stop: &AtomicBool) {
    let mut gw = Gateway::new(store, opts, clock);
    while !stop.load(Ordering::Relaxed) {
        gw.step();
    }
    gw.disconnect();
    if gw.owner {
        gw.state("stopped", None);
        let _ = db::release_runner(&store.writer(), &gw.me);
    }
}

struct Gateway<'a> {
    store: &'a Store,
    opts: &'a Options,
    clock: &'a MsClock,
    config: Option<(db::Config, Option<db::Credentials>)>,
    settings: String,
    loaded: Option<Instant>,
    link: Option<Link>,
    next_slot: i64,
    next_attempt: Instant,
    backoff: Duration,
    last_prune: Option<Instant>,
    private: Option<crypto::PrivateKey>,
    /// This runner's name, and whether it holds the gateway (one runner per database).
    me: String,
    owner: bool,
}

impl<'a> Gateway<'a> {
    fn new(store: &'a Store, opts: &'a Options, clock: &'a MsClock) -> Gateway<'a> {
        let now = clock();
        Gateway {
            store,
            opts,
            clock,
            config: None,
            settings: String::new(),
            loaded: None,
            link: None,
            next_slot: (now / opts.slot_ms + 1) * opts.slot_ms,
            next_attempt: Instant::now(),
            backoff: BACKOFF_FIRST,
            last_prune: None,
            private: None,
            me: format!("{} pid {}", std::env::args().next().unwrap_or_default(), std::process::id()),
            owner: false,
        }
    }

    fn gid(&self) -> String {
        self.config.as_ref().map_or_else(String::new, |c| c.0.gid.clone())
    }

    fn state(&self, state: &str, why: Option<(&str, &str)>) {
        if let Err(e) = db::set_state(&self.store.writer(), state, why, (self.clock)() / 1000) {
            eprintln!("releve: C8/06 gateway {}: cannot save its state: {e}", self.gid());
        }
    }

    fn disconnect(&mut self) {
        if let Some(link) = self.link.take() {
            let _ = link.client.disconnect();
        }
    }

    /// One turn: reload the settings, store a slot when due, follow the connection, send.
    fn step(&mut self) {
        if self.loaded.is_none_or(|t| t.elapsed() >= RELOAD) {
            self.reload();
        }
        let enabled = self.config.as_ref().is_some_and(|c| c.0.enabled) && self.owner;
        let now = (self.clock)();
        if now >= self.next_slot {
            if enabled {
                self.produce(self.next_slot);
            }
            self.next_slot += self.opts.slot_ms;
            if self.next_slot <= now {
                // The process stood still (suspended): the slots missed have no measure.
                self.next_slot = (now / self.opts.slot_ms + 1) * self.opts.slot_ms;
            }
        }
        if self.last_prune.is_none_or(|t| t.elapsed() >= Duration::from_secs(3600)) {
            self.last_prune = Some(Instant::now());
            let _ = db::prune(&self.store.writer(), now - KEEP_DAYS * 86_400_000);
        }
        if !enabled {
            self.disconnect();
            std::thread::sleep(Duration::from_millis(((self.next_slot - now).clamp(1, 200)) as u64));
            return;
        }
        if self.link.is_none() && Instant::now() >= self.next_attempt {
            self.connect();
        }
        // Wait for the network or the next thing to do, whichever comes first.
        let until_slot = Duration::from_millis((self.next_slot - (self.clock)()).clamp(0, 200) as u64);
        let wait = match &self.link {
            Some(link) if link.connected && link.inflight.is_none() => {
                let since = link.last_publish.map_or(Duration::MAX, |t| t.elapsed());
                until_slot.min(Duration::from_millis(self.opts.gap_ms as u64).saturating_sub(since))
            }
            _ => until_slot,
        };
        let heard = match &self.link {
            Some(link) => match link.heard.recv_timeout(wait) {
                Ok(h) => Some(h),
                Err(RecvTimeoutError::Timeout) => None,
                Err(RecvTimeoutError::Disconnected) => Some(Heard::Down("mqtt_closed", "the connection ended".into())),
            },
            None => {
                std::thread::sleep(wait.max(Duration::from_millis(1)));
                None
            }
        };
        if let Some(h) = heard {
            self.hear(h);
        }
        self.send();
    }

    fn reload(&mut self) {
        self.loaded = Some(Instant::now());
        // Only an enabled gateway is claimed (a database without one is not written to).
        let was = self.owner;
        self.owner = self.config.as_ref().is_some_and(|c| c.0.enabled)
            && db::claim_runner(&self.store.writer(), &self.me, (self.clock)(), LEASE_MS).unwrap_or(false);
        if was && !self.owner {
            let _ = db::release_runner(&self.store.writer(), &self.me);
            eprintln!("releve: C8/06 gateway: stopped sending (disabled, or another runner of this database took over)");
        }
        let read = || -> crate::Result<(db::Gateway, Option<db::Credentials>)> {
            let conn = self.store.reader()?;
            Ok((db::gateway(&conn)?, db::credentials(&conn)?))
        };
        let (gw, cred) = match read() {
            Ok(r) => r,
            Err(e) => {
                eprintln!("releve: C8/06 gateway: cannot read its settings: {e}");
                return;
            }
        };
        let settings = format!("{:?} {:?}", gw.config, cred.as_ref().map(|c| (&c.chain, &c.key)));
        if settings == self.settings {
            return;
        }
        self.settings = settings;
        self.disconnect();
        self.next_attempt = Instant::now();
        self.backoff = BACKOFF_FIRST;
        self.private = cred.as_ref().and_then(|c| crypto::PrivateKey::from_pkcs8(&c.key).ok());
        self.config = gw.config.map(|c| (c, cred));
        if self.config.as_ref().is_some_and(|c| !c.0.enabled) {
            self.state("disabled", None);
        } else if !self.owner && self.config.is_some() {
            self.owner = db::claim_runner(&self.store.writer(), &self.me, (self.clock)(), LEASE_MS).unwrap_or(false);
        }
    }

    /// Store slot `slot`'s value of every enabled SDP that has a measure.
    fn produce(&self, slot: i64) {
        let values = || -> crate::Result<Vec<db::Value>> {
            let conn = self.store.reader()?;
            let mut out = Vec::new();
            for s in db::sdps(&conn)?.into_iter().filter(|s| s.enabled) {
                let dpm = super::dpm(&conn, &s)?.map(|d| d.0);
                let Some(dpm) = dpm else { continue };
                out.push(db::Value {
                    seq: 0,
                    sdp: s.ean,
                    mts: slot,
                    dpm,
                    dpb: s.dpb_mw.unwrap_or(dpm),
                    afrr: i64::from(s.afrr_active.unwrap_or(false)),
                    ps: s.ps_mw.unwrap_or(0.0),
                    sent_at: None,
                });
            }
            Ok(out)
        };
        let stored = values().and_then(|v| db::add_values(&self.store.writer(), &v));
        if let Err(e) = stored {
            eprintln!("releve: C8/06 gateway {}: cannot store the values of slot {slot}: {e}", self.gid());
        }
    }

    fn connect(&mut self) {
        let Some((config, cred)) = &self.config else { return };
        let fail = |code: &str, message: String| {
            self.state("error", Some((code, &message)));
        };
        let Some(cred) = cred else {
            fail("c806_no_certificate", format!("gateway {}: no certificate imported (import the PFX file)", config.gid));
            self.next_attempt = Instant::now() + BACKOFF_MAX;
            return;
        };
        let broker = match crate::mqtt::broker(&config.broker_url) {
            Ok(b) => b,
            Err(e) => {
                fail("mqtt_config", e.to_string());
                self.next_attempt = Instant::now() + BACKOFF_MAX;
                return;
            }
        };
        let tls = crate::mqtt::roots(config.ca_file.as_deref()).and_then(|roots| {
            let chain = cred.chain.iter().map(|c| rustls_pki_types::CertificateDer::from(c.clone())).collect();
            let key = rustls_pki_types::PrivateKeyDer::Pkcs8(cred.key.clone().into());
            crate::mqtt::client_tls(roots, Some((chain, key)))
        });
        let tls = match tls {
            Ok(t) => t,
            Err(e) => {
                fail("mqtt_config", format!("gateway {}: {e}", config.gid));
                self.next_attempt = Instant::now() + BACKOFF_MAX;
                return;
            }
        };
        let mut o = MqttOptions::new(config.gid.clone(), broker.host.clone(), broker.port);
        o.set_clean_session(true).set_keep_alive(Duration::from_secs(30)).set_max_packet_size(1 << 20, 1 << 20);
        if let Some(user) = &config.username {
            o.set_credentials(user.clone(), String::new());
        }
        o.set_transport(rumqttc::Transport::tls_with_config(rumqttc::TlsConfiguration::Rustls(Arc::new(tls))));
        let (client, mut connection) = Client::new(o, 64);
        let mut network = rumqttc::NetworkOptions::new();
        network.set_tcp_nodelay(true);
        network.set_connection_timeout(10);
        connection.eventloop.set_network_options(network);
        let (tell, heard) = std::sync::mpsc::channel();
        let thread = std::thread::Builder::new().name("c806-net".into()).spawn(move || {
            for event in connection.iter() {
                let next = match event {
                    Ok(Event::Incoming(Packet::ConnAck(_))) => Heard::Connected,
                    Ok(Event::Incoming(Packet::Publish(p))) => Heard::Message(p.payload.to_vec()),
                    Ok(Event::Incoming(Packet::PubAck(a))) => Heard::Acked(a.pkid),
                    Ok(Event::Outgoing(Outgoing::Publish(pkid))) => Heard::Sent(pkid),
                    Ok(Event::Outgoing(Outgoing::Disconnect)) => return,
                    Ok(_) => continue,
                    Err(e) => {
                        let _ = tell.send(Heard::Down(crate::mqtt::connection_code(&e), e.to_string()));
                        return;
                    }
                };
                if tell.send(next).is_err() {
                    return;
                }
            }
        });
        if let Err(e) = thread {
            fail("mqtt_network", e.to_string());
            return;
        }
        self.state("connecting", None);
        self.link = Some(Link { client, heard, connected: false, inflight: None, last_publish: None, last_request: None, answers: Vec::new() });
    }

    fn hear(&mut self, h: Heard) {
        let Some(link) = self.link.as_mut() else { return };
        match h {
            Heard::Connected => {
                link.connected = true;
                self.backoff = BACKOFF_FIRST;
                let topic = self.config.as_ref().map(|c| c.0.topic_down.clone()).unwrap_or_default();
                if let Err(e) = link.client.try_subscribe(topic, QoS::AtLeastOnce) {
                    eprintln!("releve: C8/06 gateway: cannot subscribe: {e}");
                }
                self.state("connected", None);
            }
            Heard::Sent(pkid) => {
                if let Some((_, id @ None, _, _)) = link.inflight.as_mut() {
                    *id = Some(pkid);
                }
            }
            Heard::Acked(pkid) => {
                if let Some((seqs, Some(id), _, at)) = &link.inflight {
                    if *id == pkid {
                        if !seqs.is_empty() {
                            if let Err(e) = db::mark_sent(&self.store.writer(), seqs, *at) {
                                eprintln!("releve: C8/06 gateway: cannot mark values sent: {e}");
                            }
                        }
                        link.inflight = None;
                    }
                }
            }
            Heard::Message(payload) => self.platform(&payload),
            Heard::Down(code, message) => {
                self.link = None;
                let gid = self.gid();
                let words = match code {
                    "mqtt_tls" => format!("gateway {gid}: the broker refused the gateway's certificate, or its own is not trusted (TLS): {message}"),
                    "mqtt_closed" => format!("gateway {gid}: the broker closed the connection (certificate or client id refused?): {message}"),
                    _ => format!("gateway {gid}: {message}"),
                };
                self.state("reconnecting", Some((code, &words)));
                self.next_attempt = Instant::now() + self.backoff;
                self.backoff = (self.backoff * 2).min(BACKOFF_MAX);
            }
        }
    }

    /// A message of the platform: a key, a heartbeat, or something else (logged).
    fn platform(&mut self, payload: &[u8]) {
        let now = (self.clock)();
        let gid = self.gid();
        match message::incoming(payload, self.private.as_ref()) {
            Ok(message::Incoming::Key(key)) => {
                let conn = self.store.writer();
                let saved = db::save_key(&conn, &key, now).and_then(|()| db::set_key_error(&conn, None, now / 1000));
                if let Err(e) = saved {
                    eprintln!("releve: C8/06 gateway {gid}: cannot store key {}: {e}", key.version);
                }
            }
            Ok(message::Incoming::Heartbeat { mid, ts, gwv }) => {
                if ts {
                    eprintln!("releve: C8/06 gateway {gid}: the platform asks for a clock synchronisation (NTP): check this computer's time service");
                    let _ = db::set_clock_sync(&self.store.writer(), now / 1000);
                }
                let h = db::Heartbeat { mid, received_at: now, ts_asked: ts, gwv_asked: gwv, answered_at: None };
                if let Err(e) = db::add_heartbeat(&self.store.writer(), &h) {
                    eprintln!("releve: C8/06 gateway {gid}: cannot log heartbeat {mid}: {e}");
                }
                if let Some(link) = self.link.as_mut() {
                    link.answers.push((mid, gwv));
                }
            }
            Ok(message::Incoming::Other(mt)) => eprintln!("releve: C8/06 gateway {gid}: a message of type '{mt}' ignored"),
            Err(e) => {
                let text = format!("gateway {gid}: a message of the platform cannot be used: {e}");
                eprintln!("releve: C8/06 {text}");
                if String::from_utf8_lossy(payload).to_ascii_uppercase().contains("ENCRYPTIONKEY") {
                    let _ = db::set_key_error(&self.store.writer(), Some(&text), now / 1000);
                }
            }
        }
    }

    /// Send the next message if the connection, the last acknowledgement and the one-per-
    /// second rule allow: a heartbeat's answer first, then a key request when no key is
    /// valid, then the buffer.
    fn send(&mut self) {
        let Some((config, _)) = &self.config else { return };
        let Some(link) = self.link.as_mut() else { return };
        if !link.connected {
            return;
        }
        if let Some((_, _, at, _)) = &link.inflight {
            if at.elapsed() < ACK_WAIT {
                return;
            }
            link.inflight = None; // sent again below (or after a reconnection)
        }
        if link.last_publish.is_some_and(|t| t.elapsed() < Duration::from_millis(self.opts.gap_ms as u64)) {
            return;
        }
        let now = (self.clock)();
        let topic = config.topic_up.clone();
        let (payload, seqs, answered) = if !link.answers.is_empty() {
            let (mid, gwv) = link.answers.remove(0);
            // The CTS of the answer is its sending time.
            let versions = gwv.then_some((self.opts.software.as_str(), self.opts.firmware.as_str()));
            (message::heartbeat_answer(mid, &config.gid, now, versions), Vec::new(), Some(mid))
        } else {
            let keys = match self.store.reader().and_then(|c| db::keys(&c)) {
                Ok(k) => k,
                Err(e) => {
                    eprintln!("releve: C8/06 gateway: cannot read the keys: {e}");
                    return;
                }
            };
            match message::current_key(&keys, now) {
                None => {
                    if link.last_request.is_some_and(|t| t.elapsed() < REQUEST_EVERY) {
                        return;
                    }
                    link.last_request = Some(Instant::now());
                    (message::key_request(), Vec::new(), None)
                }
                Some(key) => {
                    let pending = match self.store.reader().and_then(|c| Ok((db::unsent(&c, 64)?, db::sdps(&c)?.iter().filter(|s| s.enabled).count()))) {
                        Ok(p) => p,
                        Err(e) => {
                            eprintln!("releve: C8/06 gateway: cannot read the buffer: {e}");
                            return;
                        }
                    };
                    let batch = message::next_batch(&pending.0, pending.1);
                    if batch.is_empty() {
                        return;
                    }
                    let sender = message::Sender { sid: &config.sid, gid: &config.gid };
                    (message::afrr(&sender, key, &batch, now), batch.iter().map(|v| v.seq).collect(), None)
                }
            }
        };
        match link.client.try_publish(topic, QoS::AtLeastOnce, false, payload.into_bytes()) {
            Ok(()) => {
                link.last_publish = Some(Instant::now());
                link.inflight = Some((seqs, None, Instant::now(), now));
                if let Some(mid) = answered {
                    if let Err(e) = db::set_answered(&self.store.writer(), mid, now) {
                        eprintln!("releve: C8/06 gateway {}: cannot log the answer to heartbeat {mid}: {e}", config.gid);
                    }
                }
            }
            Err(e) => eprintln!("releve: C8/06 gateway {}: cannot hand a message to the client: {e}", config.gid),
        }
    }
}
