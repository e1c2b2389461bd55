//! The change signal: which meters got new readings, for the screens that follow them live.
//!
//! A generation counter that every committed change raises, a bounded list of the meters
//! each generation touched, and a condition variable that wakes whoever waits for the next
//! one ([`super::Store::wait_changes`]). This process's writers say which meters they
//! changed ([`super::Store::changed`]); another process's commits (a CLI import beside
//! `releve serve`) are seen by polling the writer connection's `PRAGMA data_version` every
//! [`POLL`], and name no meter: the waiter is told to read everything again (`all`).

use std::collections::VecDeque;
use std::sync::{Condvar, Mutex, MutexGuard};
use std::time::{Duration, Instant};

/// How often another process's commits are looked for while someone waits.
pub const POLL: Duration = Duration::from_millis(500);

/// The (generation, meter) pairs kept; a waiter further behind is told `all`.
pub const KEPT: usize = 16_384;

/// What changed after a generation.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
pub struct Changed {
    /// The generation this answer is up to: the next wait starts from it.
    pub generation: u64,
    /// The meters that got new readings (ascending, each once).
    pub meters: Vec<i64>,
    /// The meters are not all known (another process wrote, or the waiter fell too far
    /// behind): read everything again.
    pub all: bool,
}

#[derive(Default)]
pub(super) struct Changes {
    log: Mutex<Log>,
    signal: Condvar,
}

#[derive(Default)]
struct Log {
    generation: u64,
    /// (generation, meter), oldest first, at most [`KEPT`].
    recent: VecDeque<(u64, i64)>,
    /// Generations up to this one have lost (some of) their meters from `recent`.
    forgotten: u64,
    /// The latest generation raised by another process's commit.
    external: u64,
    /// The writer connection's `data_version` at the last poll, and when that was.
    data_version: Option<i64>,
    polled: Option<Instant>,
}

impl Changes {
    fn log(&self) -> MutexGuard<'_, Log> {
        // A panic while holding this lock leaves a consistent log: keep using it.
        self.log.lock().unwrap_or_else(|e| e.into_inner())
    }

    pub fn generation(&self) -> u64 {
        self.log().generation
    }

    /// A commit of this process changed `meters`: a new generation, waiters woken.
    pub fn record(&self, meters: &[i64]) {
        if meters.is_empty() {
            return;
        }
        let mut log = self.log();
        log.generation += 1;
        let generation = log.generation;
        for &m in meters {
            if log.recent.len() == KEPT {
                if let Some((g, _)) = log.recent.pop_front() {
                    log.forgotten = log.forgotten.max(g);
                }
            }
            log.recent.push_back((generation, m));
        }
        drop(log);
        self.signal.notify_all();
    }

    /// The changes after `since`, waiting up to `timeout` for one. `data_version` reads the
    /// writer connection's `PRAGMA data_version` (it changes only with other processes'
    /// commits); it is called at most every [`POLL`], by one waiter at a time.
    pub fn wait(&self, since: u64, timeout: Duration, data_version: &mut dyn FnMut() -> Option<i64>) -> Changed {
        let deadline = Instant::now() + timeout;
        let mut log = self.log();
        loop {
            if log.generation != since {
                return log.after(since);
            }
            let now = Instant::now();
            if log.polled.is_none_or(|p| now >= p + POLL) {
                log.polled = Some(now);
                // Not under the lock: the writer may be busy for a slice of an import.
                drop(log);
                let version = data_version();
                log = self.log();
                if let Some(v) = version {
                    if log.data_version.is_some_and(|old| old != v) {
                        log.generation += 1;
                        log.external = log.generation;
                        self.signal.notify_all();
                    }
                    log.data_version = Some(v);
                }
                continue;
            }
            if now >= deadline {
                return log.after(since);
            }
            let next_poll = log.polled.map_or(now, |p| p + POLL);
            let until = deadline.min(next_poll).max(now + Duration::from_millis(1));
            log = self.signal.wait_timeout(log, until - now).unwrap_or_else(|e| e.into_inner()).0;
        }
    }
}

impl Log {
    fn after(&self, since: u64) -> Changed {
        // A generation from before a restart (ahead of ours), or one whose meters were
        // forgotten, or a change by another process: everything.
        let all = since > self.generation || since < self.forgotten || self.external > since;
        let mut meters: Vec<i64> = if all || since == self.generation {
            Vec::new()
        } else {
            // `recent` is in generation order: walk back to `since`.
            self.recent.iter().rev().take_while(|(g, _)| *g > since).map(|(_, m)| *m).collect()
        };
        meters.sort_unstable();
        meters.dedup();
        Changed { generation: self.generation, meters, all }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lists_the_meters_after_a_generation() {
        let c = Changes::default();
        let none = &mut || None;
        c.record(&[3, 1]);
        c.record(&[2, 3]);
        assert_eq!(c.wait(0, Duration::ZERO, none), Changed { generation: 2, meters: vec![1, 2, 3], all: false });
        assert_eq!(c.wait(1, Duration::ZERO, none), Changed { generation: 2, meters: vec![2, 3], all: false });
        assert_eq!(c.wait(2, Duration::ZERO, none), Changed { generation: 2, meters: vec![], all: false });
        // A generation this process never gave (it restarted): everything.
        assert!(c.wait(9, Duration::ZERO, none).all);
    }

    #[test]
    fn a_waiter_too_far_behind_reads_everything() {
        let c = Changes::default();
        let none = &mut || None;
        c.record(&[1]);
        for _ in 0..KEPT {
            c.record(&[2]);
        }
        let changed = c.wait(0, Duration::ZERO, none);
        assert!(changed.all, "meter 1 was forgotten");
        assert_eq!(c.wait(2, Duration::ZERO, none), Changed { generation: KEPT as u64 + 1, meters: vec![2], all: false });
    }

    #[test]
    fn another_processs_commit_wakes_the_waiter() {
        let c = Changes::default();
        let mut version = 7;
        let mut read = || {
            version += 1;
            Some(version / 2) // changes every other poll
        };
        let started = Instant::now();
        let changed = c.wait(0, Duration::from_secs(5), &mut read);
        assert!(changed.all && changed.generation == 1, "{changed:?}");
        assert!(started.elapsed() < POLL * 3, "seen within a few polls: {:?}", started.elapsed());
    }

    #[test]
    fn a_record_wakes_a_waiter_at_once() {
        let c = std::sync::Arc::new(Changes::default());
        let waiter = {
            let c = c.clone();
            std::thread::spawn(move || {
                let started = Instant::now();
                (c.wait(0, Duration::from_secs(5), &mut || None), started.elapsed())
            })
        };
        std::thread::sleep(Duration::from_millis(50));
        c.record(&[42]);
        let (changed, took) = waiter.join().expect("waiter");
        assert_eq!(changed.meters, vec![42]);
        assert!(took < Duration::from_secs(1), "{took:?}");
    }
}
