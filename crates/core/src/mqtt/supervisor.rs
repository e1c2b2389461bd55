//! The supervisor: one receiver thread per enabled MQTT source. Every few seconds it reads
//! the sources table, starts the receivers of new sources, and stops those of sources
//! removed, disabled or changed (a changed one starts again with its new settings; a removed
//! one's session at the broker is ended).

use super::{client_id, receiver, Clock};
use crate::store::{self, sources::Source, Store};
use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

struct Running {
    /// What the receiver was started with: a change restarts it.
    settings: String,
    source: Source,
    client_id: String,
    stop: Arc<AtomicBool>,
    thread: JoinHandle<()>,
}

/// The running receivers, by source id.
pub struct Supervisor {
    store: Arc<Store>,
    clock: Clock,
    running: HashMap<i64, Running>,
}

/// What a receiver depends on.
fn settings(s: &Source) -> String {
    format!("{:?}", (&s.name, &s.format, s.max_body, &s.url, &s.topic, &s.username, &s.password, &s.ca_file, &s.cert_file, &s.key_file))
}

impl Supervisor {
    pub fn new(store: Arc<Store>, clock: Clock) -> Supervisor {
        Supervisor { store, clock, running: HashMap::new() }
    }

    /// Start a thread that follows the sources table every `every`, for the life of the process.
    pub fn start(store: Arc<Store>, clock: Clock, every: Duration) {
        std::thread::Builder::new()
            .name("mqtt-supervisor".into())
            .spawn(move || {
                let mut supervisor = Supervisor::new(store, clock);
                loop {
                    if let Err(e) = supervisor.follow() {
                        eprintln!("releve: MQTT sources: {e}");
                    }
                    std::thread::sleep(every);
                }
            })
            .map(drop)
            .unwrap_or_else(|e| eprintln!("releve: cannot start the MQTT sources: {e}"));
    }

    /// Bring the receivers in line with the sources table once.
    pub fn follow(&mut self) -> crate::Result<()> {
        let wanted: HashMap<i64, Source> =
            store::sources::all(&*self.store.reader()?)?.into_iter().filter(|s| s.kind == "mqtt" && s.enabled).map(|s| (s.id, s)).collect();
        let gone: Vec<i64> = self
            .running
            .iter()
            .filter(|(id, r)| !matches!(wanted.get(id), Some(s) if settings(s) == r.settings))
            .map(|(id, _)| *id)
            .collect();
        let all: Vec<i64> = store::sources::all(&*self.store.reader()?)?.iter().map(|s| s.id).collect();
        for id in gone {
            if let Some(r) = self.running.remove(&id) {
                r.stop.store(true, Ordering::Relaxed);
                let _ = r.thread.join();
                if !all.contains(&id) {
                    // Removed: the broker need not keep its messages any longer.
                    receiver::forget(&r.source, &r.client_id);
                }
            }
        }
        for (id, source) in wanted {
            if self.running.contains_key(&id) {
                continue;
            }
            let stop = Arc::new(AtomicBool::new(false));
            let (store, clock, flag) = (self.store.clone(), self.clock.clone(), stop.clone());
            let client = client_id(self.store.path(), &source.name);
            let settings = settings(&source);
            let (kept, client_id) = (source.clone(), client.clone());
            let thread = std::thread::Builder::new()
                .name(format!("mqtt-{}", source.name))
                .spawn(move || receiver::run(&store, &source, &client, &clock, &flag))
                .map_err(|e| crate::Error::bad_input("mqtt", format!("cannot start a receiver: {e}")))?;
            self.running.insert(id, Running { settings, source: kept, client_id, stop, thread });
        }
        Ok(())
    }
}
