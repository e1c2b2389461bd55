//! Relevé as a wired M-Bus master (EN 13757-2/-3) over a [`Port`] (a level converter on a
//! serial port, or a transparent gateway on TCP): one request, one answer, inside the
//! standard's answer window for the line's baud rate (11 to 330 bit times + 50 ms, plus the
//! converter's latency), with retries, an echoing converter's echo stripped, and every
//! failure named by its problem (`no_answer`, `collision`, `checksum`, `timeout`, `truncated`).
//!
//! [`scan`] finds slaves (primary addresses 0..=250, or secondary addresses by a wildcard
//! search); [`read`] reads one slave's whole answer (multi-telegram until no DIF 1F) and
//! stores it through the import path. The frames are built and read by `mbus::master`.

pub mod buses;
pub mod read;
pub mod scan;

use crate::error::{Error, Result};
use crate::port::Port;
use mbus::master::{self as frames, FrameLength};
use serde::Serialize;
use std::time::Duration;

/// Why a slave's answer is not the one asked for.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Problem {
    /// Nothing came inside the answer window (after the retries).
    NoAnswer,
    /// Bytes that are no frame, several answers at once, or a frame after the frame.
    Collision,
    /// A whole frame whose checksum (or stop byte) is wrong.
    Checksum,
    /// The line or the meter stopped mid-way (a multi-telegram answer broken off).
    Timeout,
    /// A frame that started and did not end.
    Truncated,
}

impl Problem {
    pub fn code(self) -> &'static str {
        match self {
            Problem::NoAnswer => "no_answer",
            Problem::Collision => "collision",
            Problem::Checksum => "checksum",
            Problem::Timeout => "timeout",
            Problem::Truncated => "truncated",
        }
    }

    /// English words (the UI words it from the code in the clerk's language).
    pub fn words(self) -> &'static str {
        match self {
            Problem::NoAnswer => "no answer",
            Problem::Collision => "collision (several answers at once, or bytes that are no frame)",
            Problem::Checksum => "checksum error in the answer",
            Problem::Timeout => "the meter stopped answering",
            Problem::Truncated => "the answer was cut off",
        }
    }

    pub fn from_code(code: &str) -> Option<Problem> {
        [Problem::NoAnswer, Problem::Collision, Problem::Checksum, Problem::Timeout, Problem::Truncated]
            .into_iter()
            .find(|p| p.code() == code)
    }
}

/// How a bus is driven: its speed, its converter's latency and echo, and the retries.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
pub struct LineConfig {
    pub baud: u32,
    /// Added to every answer window: a USB converter's or a gateway's delay (ms).
    pub latency_ms: u32,
    /// The converter sends back what the master sends (stripped before the answer is read).
    pub echo: bool,
    /// Further tries after a request got no (or a bad) answer.
    pub retries: u32,
}

impl LineConfig {
    pub fn new(baud: u32) -> LineConfig {
        LineConfig { baud, latency_ms: 0, echo: false, retries: 1 }
    }

    fn bits(&self, bits: u64) -> Duration {
        Duration::from_micros(bits.saturating_mul(1_000_000) / u64::from(self.baud.max(1)))
    }

    /// How long a slave may take to start answering: 330 bit times + 50 ms (EN 13757-2),
    /// plus the converter's latency.
    pub fn answer_window(&self) -> Duration {
        self.bits(330) + Duration::from_millis(50) + self.latency()
    }

    /// The shortest time before a slave may answer: 11 bit times.
    pub fn turnaround(&self) -> Duration {
        self.bits(11)
    }

    /// How long `n` characters take on the line (11 bits each).
    pub fn wire_time(&self, n: usize) -> Duration {
        self.bits(11u64.saturating_mul(n as u64))
    }

    /// The longest pause inside one answer, and the quiet wanted after one before it counts
    /// as alone on the line (a second answer would start within it).
    pub fn gap(&self) -> Duration {
        self.wire_time(3).max(Duration::from_millis(20)) + self.latency()
    }

    fn latency(&self) -> Duration {
        Duration::from_millis(u64::from(self.latency_ms))
    }
}

/// What came back for one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Heard {
    Nothing,
    /// One whole, checked frame (`E5` or a long frame), alone on the line.
    Frame(Vec<u8>),
    /// Something else; the bytes as received.
    Bad(Problem, Vec<u8>),
}

/// One M-Bus line: a port, how it is driven, and its name (for errors).
pub struct Bus<'p> {
    port: &'p mut dyn Port,
    pub config: LineConfig,
    /// The bus's name, or its device/`host:port`: what errors name.
    pub name: String,
    /// Bytes sent and received, for the figures (requests, answers, echoes).
    pub bytes_on_line: u64,
    /// Requests that got an answer, and those that got none (a whole answer window each).
    pub answered: u64,
    pub unanswered: u64,
}

/// The most answer bytes one request may bring (a long frame is at most 261).
const MAX_ANSWER: usize = 1024;

impl<'p> Bus<'p> {
    pub fn new(port: &'p mut dyn Port, config: LineConfig, name: impl Into<String>) -> Bus<'p> {
        Bus { port, config, name: name.into(), bytes_on_line: 0, answered: 0, unanswered: 0 }
    }

    /// Send `request` and read what comes back in the answer window (no retry).
    pub fn exchange(&mut self, request: &[u8]) -> Result<Heard> {
        self.port.discard_input()?;
        self.port.send(request)?;
        self.bytes_on_line += request.len() as u64;
        // A port that does not wait until the bytes have left (TCP, a pty) gives back
        // control at once: the window opens after the request's wire time.
        let sent = self.config.wire_time(request.len());
        if self.config.echo {
            match self.strip_echo(request, sent)? {
                Some(()) => {}
                None => return Ok(Heard::Bad(Problem::Collision, Vec::new())),
            }
        }
        let mut buf = Vec::with_capacity(64);
        let mut chunk = [0u8; 300];
        let n = self.port.recv(&mut chunk, sent + self.config.answer_window())?;
        if n == 0 {
            self.unanswered += 1;
            return Ok(Heard::Nothing);
        }
        self.answered += 1;
        buf.extend_from_slice(&chunk[..n]);
        loop {
            match frames::frame_length(&buf) {
                FrameLength::Complete(len) => {
                    // Quiet after the frame, or a second answer on top of it.
                    self.until_quiet(&mut buf, &mut chunk)?;
                    self.bytes_on_line += buf.len() as u64;
                    if buf.len() > len {
                        return Ok(Heard::Bad(Problem::Collision, buf));
                    }
                    return Ok(match mbus::parse_wired_frame(&buf) {
                        Ok(_) => Heard::Frame(buf),
                        Err(mbus::DecodeError::BadChecksum { .. }) => Heard::Bad(Problem::Checksum, buf),
                        Err(_) => Heard::Bad(Problem::Collision, buf),
                    });
                }
                FrameLength::NeedMore(_) => {
                    let n = self.port.recv(&mut chunk, self.config.gap())?;
                    if n == 0 {
                        self.bytes_on_line += buf.len() as u64;
                        return Ok(Heard::Bad(Problem::Truncated, buf));
                    }
                    buf.extend_from_slice(&chunk[..n]);
                }
                FrameLength::Invalid => {
                    self.until_quiet(&mut buf, &mut chunk)?;
                    self.bytes_on_line += buf.len() as u64;
                    return Ok(Heard::Bad(Problem::Collision, buf));
                }
            }
        }
    }

    /// Read back the echo of `request`; `None` when what came back differs (another
    /// station talked at the same time).
    /// Go on reading into `buf` until the line is quiet for a gap (or the answer is too long):
    /// a second answer on top of the first shows as bytes after it.
    fn until_quiet(&mut self, buf: &mut Vec<u8>, chunk: &mut [u8]) -> Result<()> {
        while buf.len() < MAX_ANSWER {
            let n = self.port.recv(chunk, self.config.gap())?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
        }
        Ok(())
    }

    fn strip_echo(&mut self, request: &[u8], sent: Duration) -> Result<Option<()>> {
        let mut echo = Vec::with_capacity(request.len());
        let mut chunk = [0u8; 300];
        let wait = sent + self.config.gap() + Duration::from_millis(50);
        while echo.len() < request.len() {
            let want = request.len() - echo.len();
            let n = self.port.recv(&mut chunk[..want.min(300)], wait)?;
            if n == 0 {
                return Err(Error::Port {
                    port: self.port.target().to_string(),
                    reason: "the level converter is set to echo but sent nothing back: turn the echo option off".into(),
                });
            }
            echo.extend_from_slice(&chunk[..n]);
        }
        self.bytes_on_line += echo.len() as u64;
        Ok((echo == request).then_some(()))
    }

    /// Send `request` until an answer comes or the retries are spent; the last outcome.
    pub fn exchange_retried(&mut self, request: &[u8]) -> Result<Heard> {
        let mut heard = self.exchange(request)?;
        for _ in 0..self.config.retries {
            if matches!(heard, Heard::Frame(_)) {
                break;
            }
            heard = self.exchange(request)?;
        }
        Ok(heard)
    }

    /// Send a request no slave answers (a broadcast to FF), then wait out the answer window.
    pub fn send_only(&mut self, request: &[u8]) -> Result<()> {
        self.exchange(request).map(|_| ())
    }

    /// Switch the slave at primary address `address` to `baud` (CI B8..BF), then this line
    /// too. Only on a serial line: a transparent gateway's speed is set on the gateway.
    pub fn set_slave_baud(&mut self, address: u8, baud: u32) -> Result<()> {
        let Some(request) = frames::set_baud_rate(address, baud) else {
            return Err(Error::bad_input("baud", format!("{baud} baud: one of 300, 600, 1200, 2400, 4800, 9600, 19200, 38400")));
        };
        if !self.port.changes_line() {
            return Err(Error::bad_input("baud", "a TCP gateway's line speed is set on the gateway itself: switch a meter's speed through a serial level converter"));
        }
        let heard = self.exchange_retried(&request)?;
        if let Some(p) = ack_problem(&heard) {
            return Err(self.error(p, &address.to_string(), format!("switch to {baud} baud")));
        }
        self.port.set_line(crate::port::LineSettings::mbus(baud))?;
        self.config.baud = baud;
        Ok(())
    }

    /// The error naming this bus and `address` for `problem`.
    pub fn error(&self, problem: Problem, address: &str, detail: impl Into<String>) -> Error {
        Error::Mbus { problem, bus: self.name.clone(), address: address.to_string(), detail: detail.into() }
    }

    pub fn port_mut(&mut self) -> &mut dyn Port {
        self.port
    }
}

/// The problem of a heard answer where an `E5` was expected; `None` when it is one.
pub(crate) fn ack_problem(heard: &Heard) -> Option<Problem> {
    match heard {
        Heard::Frame(f) if f.as_slice() == [0xE5] => None,
        Heard::Frame(_) => Some(Problem::Collision),
        Heard::Nothing => Some(Problem::NoAnswer),
        Heard::Bad(p, _) => Some(*p),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::port::{LineSettings, Target};
    use std::collections::VecDeque;

    /// A line whose far end answers each request with the next scripted bytes (sent at once).
    struct Scripted {
        answers: VecDeque<Vec<u8>>,
        pending: VecDeque<u8>,
        sent: Vec<Vec<u8>>,
        target: Target,
        serial: bool,
        settings: LineSettings,
    }

    impl Scripted {
        fn new(answers: &[&[u8]]) -> Scripted {
            Scripted {
                answers: answers.iter().map(|a| a.to_vec()).collect(),
                pending: VecDeque::new(),
                sent: Vec::new(),
                target: Target::Tcp("test:1".into()),
                serial: false,
                settings: LineSettings::mbus(2400),
            }
        }
    }

    impl Port for Scripted {
        fn send(&mut self, bytes: &[u8]) -> Result<()> {
            self.sent.push(bytes.to_vec());
            if let Some(a) = self.answers.pop_front() {
                self.pending.extend(a);
            }
            Ok(())
        }
        fn recv(&mut self, buf: &mut [u8], _wait: Duration) -> Result<usize> {
            let n = buf.len().min(self.pending.len());
            for b in buf.iter_mut().take(n) {
                *b = self.pending.pop_front().unwrap_or(0);
            }
            Ok(n)
        }
        fn set_line(&mut self, settings: LineSettings) -> Result<()> {
            self.settings = settings;
            Ok(())
        }
        fn line(&self) -> LineSettings {
            self.settings
        }
        fn changes_line(&self) -> bool {
            self.serial
        }
        fn discard_input(&mut self) -> Result<()> {
            self.pending.clear();
            Ok(())
        }
        fn target(&self) -> &Target {
            &self.target
        }
    }

    fn heard(answer: &[u8], echo: bool) -> Heard {
        let request = frames::snd_nke(1);
        let mut with_echo = if echo { request.to_vec() } else { Vec::new() };
        with_echo.extend_from_slice(answer);
        let mut port = Scripted::new(&[&with_echo]);
        let mut bus = Bus::new(&mut port, LineConfig { echo, ..LineConfig::new(2400) }, "test");
        bus.exchange(&request).expect("exchange")
    }

    #[test]
    fn answers_are_told_apart() {
        assert_eq!(heard(&[], false), Heard::Nothing);
        assert_eq!(heard(&[0xE5], false), Heard::Frame(vec![0xE5]));
        assert_eq!(heard(&[0xE5, 0xE5], false), Heard::Bad(Problem::Collision, vec![0xE5, 0xE5]));
        assert_eq!(heard(&[0x42, 0x17], false), Heard::Bad(Problem::Collision, vec![0x42, 0x17]));
        let good = frames::long_frame(0x08, 1, 0x72, &[0; 12]).expect("frame");
        assert_eq!(heard(&good, false), Heard::Frame(good.clone()));
        let mut bad = good.clone();
        let cs = bad.len() - 2;
        bad[cs] ^= 0x55;
        assert!(matches!(heard(&bad, false), Heard::Bad(Problem::Checksum, _)));
        assert!(matches!(heard(&good[..10], false), Heard::Bad(Problem::Truncated, _)));
        // An echoing converter: the request comes back first and is stripped.
        assert_eq!(heard(&[0xE5], true), Heard::Frame(vec![0xE5]));
        assert_eq!(heard(&[], true), Heard::Nothing);
    }

    #[test]
    fn windows_follow_the_baud_rate_and_the_latency() {
        let c = LineConfig::new(2400);
        assert_eq!(c.answer_window(), Duration::from_micros(137_500) + Duration::from_millis(50));
        assert_eq!(c.turnaround(), Duration::from_micros(4_583));
        let slow = LineConfig { latency_ms: 100, ..LineConfig::new(9600) };
        assert_eq!(slow.answer_window(), Duration::from_micros(34_375) + Duration::from_millis(150));
        for p in [Problem::NoAnswer, Problem::Collision, Problem::Checksum, Problem::Timeout, Problem::Truncated] {
            assert_eq!(Problem::from_code(p.code()), Some(p));
        }
    }

    #[test]
    fn a_multi_telegram_answer_is_read_to_the_end_with_the_fcb_toggled() {
        let t1 = mbus::master::with_more_records_follow(&frames::long_frame(0x08, 4, 0x72, &[0; 12]).expect("f")).expect("1F");
        let t2 = frames::long_frame(0x08, 4, 0x72, &[1; 12]).expect("f");
        let mut port = Scripted::new(&[&[0xE5], &t1, &t2]);
        let mut bus = Bus::new(&mut port, LineConfig::new(2400), "bus A");
        let got = read::read(&mut bus, &read::Slave::Primary(4)).expect("read");
        assert_eq!(got, vec![t1.clone(), t2]);
        assert_eq!(port.sent, vec![frames::snd_nke(4).to_vec(), frames::req_ud2(4, true).to_vec(), frames::req_ud2(4, false).to_vec()]);
        // The meter stops after its first telegram: an error naming the bus and the address.
        let mut port = Scripted::new(&[&[0xE5], &t1]);
        let mut bus = Bus::new(&mut port, LineConfig { retries: 0, ..LineConfig::new(2400) }, "bus A");
        let e = read::read(&mut bus, &read::Slave::Primary(4)).expect_err("stopped");
        assert_eq!(e.code(), "timeout");
        assert!(e.to_string().starts_with("bus A, address 4: the meter stopped answering"), "{e}");
    }

    #[test]
    fn a_slave_is_switched_to_another_baud_rate_on_a_serial_line_only() {
        let mut port = Scripted::new(&[&[0xE5]]);
        port.serial = true;
        let mut bus = Bus::new(&mut port, LineConfig::new(2400), "bus A");
        bus.set_slave_baud(5, 9600).expect("switched");
        assert_eq!(bus.config.baud, 9600);
        assert_eq!(port.settings.baud, 9600);
        assert_eq!(port.sent, vec![frames::set_baud_rate(5, 9600).expect("frame").to_vec()]);
        let mut port = Scripted::new(&[&[0xE5]]);
        let mut bus = Bus::new(&mut port, LineConfig::new(2400), "bus A");
        assert_eq!(bus.set_slave_baud(5, 9600).expect_err("tcp").code(), "bad_input");
        let mut port = Scripted::new(&[]);
        port.serial = true;
        let mut bus = Bus::new(&mut port, LineConfig { retries: 0, ..LineConfig::new(2400) }, "bus A");
        assert_eq!(bus.set_slave_baud(5, 9600).expect_err("silent").code(), "no_answer");
        assert_eq!(port.settings.baud, 2400, "the line stays at its speed");
    }
}
