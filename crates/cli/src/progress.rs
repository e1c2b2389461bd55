//! A text progress bar on standard error for long work (only when it is a terminal).

use std::io::{IsTerminal, Write};
use std::time::Instant;

pub struct Bar {
    label: String,
    started: Instant,
    last: Option<Instant>,
    printed: Option<Instant>,
    tty: bool,
}

impl Bar {
    pub fn new(label: &str) -> Bar {
        Bar { label: label.to_string(), started: Instant::now(), last: None, printed: None, tty: std::io::stderr().is_terminal() }
    }

    pub fn set(&mut self, done: u64, total: u64) {
        let now = Instant::now();
        if self.last.is_some_and(|l| now.duration_since(l).as_millis() < 200) {
            return;
        }
        self.last = Some(now);
        let pct = if total == 0 { 100.0 } else { done as f64 * 100.0 / total as f64 };
        let width = 30;
        let filled = ((pct / 100.0) * width as f64).round() as usize;
        let line = format!(
            "{} [{}{}] {:5.1}% {}/{} {:.0} s",
            self.label,
            "#".repeat(filled.min(width)),
            " ".repeat(width - filled.min(width)),
            pct,
            done,
            total,
            self.started.elapsed().as_secs_f64()
        );
        let mut err = std::io::stderr();
        if self.tty {
            let _ = write!(err, "\r{line}");
        } else if done == total || self.printed.is_none_or(|p| now.duration_since(p).as_secs() >= 5) {
            self.printed = Some(now);
            let _ = writeln!(err, "{line}");
        }
        let _ = err.flush();
    }

    pub fn finish(&mut self) {
        if self.tty {
            eprintln!();
        }
    }
}
