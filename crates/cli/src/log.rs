//! The request log of `releve serve`: one line per request (time, method, path, status,
//! duration, user) and the cause of every server error, to stderr and to `<db file>.log`
//! beside the database, rotated past [`ROTATE_BYTES`] keeping [`KEEP`] old files. Never a
//! body, a password or a token.

use std::fs::{File, OpenOptions};
use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Mutex;

/// A log file past this size is renamed `.1` (the older ones shift up) and a new one begun.
pub const ROTATE_BYTES: u64 = 10 << 20;
/// Old log files kept: `<db>.log.1` (newest) to `<db>.log.3`.
pub const KEEP: u32 = 3;
/// The longest text taken from a request (a path, an error's message) into a line.
const MAX_FIELD_CHARS: usize = 300;

pub struct RequestLog {
    path: PathBuf,
    rotate_at: u64,
    file: Mutex<Option<(File, u64)>>,
}

impl RequestLog {
    /// The log of the database `db`: `<db file name>.log` in the same folder.
    pub fn beside(db: &Path) -> RequestLog {
        let mut name = db.file_name().map(|n| n.to_os_string()).unwrap_or_else(|| "releve".into());
        name.push(".log");
        RequestLog { path: db.with_file_name(name), rotate_at: ROTATE_BYTES, file: Mutex::new(None) }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Log one request. `cause`: a server error's code and message.
    pub fn request(&self, method: &str, path: &str, status: u16, millis: u128, user: Option<&str>, cause: Option<&str>) {
        let time = chrono::Utc::now().format("%Y-%m-%dT%H:%M:%SZ");
        let mut line = format!("{time} {method} {} {status} {millis}ms {}", clean(path), user.map_or("-".into(), clean));
        if let Some(cause) = cause {
            line.push_str(" error: ");
            line.push_str(&clean(cause));
        }
        self.write(&line);
    }

    fn write(&self, line: &str) {
        eprintln!("{line}");
        let mut guard = self.file.lock().unwrap_or_else(|p| p.into_inner());
        if guard.as_ref().is_some_and(|(_, size)| *size >= self.rotate_at) {
            *guard = None;
            self.rotate();
        }
        if guard.is_none() {
            *guard = self.open();
        }
        if let Some((file, size)) = guard.as_mut() {
            if writeln!(file, "{line}").is_ok() {
                *size += line.len() as u64 + 1;
            }
        }
    }

    fn open(&self) -> Option<(File, u64)> {
        let mut options = OpenOptions::new();
        options.create(true).append(true);
        #[cfg(unix)]
        std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
        match options.open(&self.path) {
            Ok(file) => {
                let size = file.metadata().map(|m| m.len()).unwrap_or(0);
                Some((file, size))
            }
            Err(e) => {
                eprintln!("cannot write the request log {}: {e}", self.path.display());
                None
            }
        }
    }

    fn rotate(&self) {
        let old = |n: u32| {
            let mut name = self.path.as_os_str().to_os_string();
            name.push(format!(".{n}"));
            PathBuf::from(name)
        };
        let _ = std::fs::remove_file(old(KEEP));
        for n in (1..KEEP).rev() {
            let _ = std::fs::rename(old(n), old(n + 1));
        }
        let _ = std::fs::rename(&self.path, old(1));
    }
}

/// `s` on one line, bounded: control characters escaped, cut past [`MAX_FIELD_CHARS`].
fn clean(s: &str) -> String {
    let mut out: String = s.chars().take(MAX_FIELD_CHARS).flat_map(|c| if c.is_control() { c.escape_default().collect::<Vec<_>>() } else { vec![c] }).collect();
    if s.chars().nth(MAX_FIELD_CHARS).is_some() {
        out.push('…');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rotates_past_the_size_keeping_three_old_files() {
        let dir = tempfile::tempdir().expect("tmp");
        let log = RequestLog { rotate_at: 3_000, ..RequestLog::beside(&dir.path().join("park.db")) };
        assert!(log.path().ends_with("park.db.log"));
        let cause = "x".repeat(250);
        let lines = 5 * 3_000 / 300;
        for _ in 0..lines {
            log.request("POST", "/api/meters_list", 500, 3, Some("clerk"), Some(&cause));
        }
        let size = |n: &str| std::fs::metadata(dir.path().join(format!("park.db.log{n}"))).map(|m| m.len()).ok();
        for n in ["", ".1", ".2", ".3"] {
            assert!(size(n).is_some_and(|s| s <= 3_000 + 400), "{n}: {:?}", size(n));
        }
        assert_eq!(size(".4"), None);
    }

    #[test]
    fn a_line_is_one_line() {
        assert_eq!(clean("a\nb\r\u{1b}"), "a\\nb\\r\\u{1b}");
        assert_eq!(clean(&"é".repeat(400)).chars().count(), MAX_FIELD_CHARS + 1);
    }
}
