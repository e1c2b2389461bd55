//! Reading an electricity meter through its optical port (IEC 62056-21) over a [`Port`]: an
//! optical head on a serial line, or a serial server on TCP.
//!
//! Mode C: the sign-on `/?<address>!` CR LF at 300 baud 7E1 (after a battery meter's wake-up,
//! NULs for 2.2 s then a 1.6 s pause, when asked), the identification `/XXXZ<ident>`, the
//! acknowledgement `ACK 0 Z 0` CR LF (data readout at the announced speed), then both sides
//! at that speed (a TCP link cannot switch the far line: it stays), and the data message up to
//! ETX and its BCC, checked. Modes A and B are read-only: no acknowledgement, and in mode B the
//! meter switches to the announced speed by itself. A head that echoes what it sends is
//! understood (the echoed sign-on and acknowledgement are dropped). A failed attempt (no answer, wrong BCC, a
//! message cut short) is tried once more from the sign-on. A line carries 7-bit characters:
//! the parity bit a pty or a transparent gateway passes along is masked off.
//!
//! The readout's bytes (identification and data message) go to the store through the one
//! import path (`import::readout`), as a telegram of an electricity meter.

pub mod obis;

use crate::access::{Permission, Session};
use crate::error::{Error, Result};
use crate::import::{self, line::Frame, line::Line, FileReport};
use crate::port::{self, LineSettings, Port, Target};
use crate::store::Store;
use mbus::iec62056::{self, Identification, Mode, ReadoutError, ACK, ETX, STX};
use serde::Serialize;
use std::time::{Duration, Instant};

/// How a readout is taken.
#[derive(Debug, Clone)]
pub struct Options {
    pub target: Target,
    /// The device address of the sign-on (empty: whichever meter is in front of the head).
    pub address: String,
    /// Wake a battery meter first (NULs for 2.2 s).
    pub wake: bool,
    /// The meter expected (its serial): a readout naming another is refused.
    pub meter: Option<String>,
    /// How long the meter may take to start answering (the standard allows 1.5 s).
    pub answer_timeout: Duration,
    /// How long a pause between two characters may last before the message counts as cut.
    pub char_timeout: Duration,
}

impl Options {
    pub fn new(target: Target) -> Options {
        Options { target, address: String::new(), wake: false, meter: None, answer_timeout: Duration::from_millis(1500), char_timeout: Duration::from_millis(1500) }
    }
}

/// One readout as taken from the line.
#[derive(Debug, Clone)]
pub struct Captured {
    /// The identification line and the data message, as received (7 bits).
    pub bytes: Vec<u8>,
    pub identification: Identification,
    /// The speed the data message came at (on TCP: the far line's, as announced).
    pub baud: u32,
    /// Whether this side's line was switched to it.
    pub switched: bool,
    pub attempts: u32,
    pub took: Duration,
}

/// Read one readout, trying once more after a failure the meter may not repeat.
pub fn take_readout(port: &mut dyn Port, options: &Options) -> Result<Captured> {
    let started = Instant::now();
    let mut attempts = 0;
    loop {
        attempts += 1;
        match attempt(port, options) {
            Ok(mut c) => {
                c.attempts = attempts;
                c.took = started.elapsed();
                return Ok(c);
            }
            Err(e) if attempts < 2 && retryable(&e) => {
                // Let the meter fall back to its idle state (it leaves a session after about 1.5 s of silence).
                std::thread::sleep(Duration::from_millis(1600));
            }
            Err(e) => return Err(e),
        }
    }
}

fn retryable(e: &Error) -> bool {
    matches!(e, Error::Optical { problem: "optical_no_answer" | "optical_wrong_bcc" | "optical_truncated", .. })
}

fn optical(port: &dyn Port, problem: &'static str, reason: impl Into<String>) -> Error {
    Error::Optical { port: port.target().to_string(), problem, reason: reason.into() }
}

/// A readout error as an optical error of `port`.
pub fn readout_error(target: &Target, e: &ReadoutError) -> Error {
    let problem = match e {
        ReadoutError::UnknownBaud { .. } => "optical_unknown_baud",
        ReadoutError::WrongBcc { .. } | ReadoutError::WrongCrc { .. } => "optical_wrong_bcc",
        ReadoutError::Truncated { .. } => "optical_truncated",
        ReadoutError::BadIdentification { .. } => "optical_bad_identification",
        _ => "optical_bad_data_set",
    };
    Error::Optical { port: target.to_string(), problem, reason: e.to_string() }
}

/// The battery wake-up: NULs for 2.2 s, then 1.6 s of silence.
const WAKE_NULS: Duration = Duration::from_millis(2200);
const WAKE_PAUSE: Duration = Duration::from_millis(1600);
/// No readout is longer than this.
const LONGEST_MESSAGE: usize = 64 * 1024;

fn attempt(port: &mut dyn Port, options: &Options) -> Result<Captured> {
    port.set_line(LineSettings::iec62056(300))?;
    if options.wake {
        wake(port)?;
    }
    port.discard_input()?;
    port.send(format!("/?{}!\r\n", options.address).as_bytes())?;
    let mut bytes = Vec::with_capacity(1024);
    let mut rest = Vec::new();
    // The identification line; a head that echoes gives the sign-on back first.
    loop {
        bytes.clear();
        let line = read_until(port, &mut bytes, &mut rest, |b| b.last() == Some(&b'\n'), options.answer_timeout, options.char_timeout)?;
        if line == Ended::Nothing {
            return Err(optical(port, "optical_no_answer", "no answer to the sign-on"));
        }
        if line == Ended::Silent {
            return Err(optical(port, "optical_truncated", format!("the identification stops after {} characters", bytes.len())));
        }
        // Noise before the identification is dropped.
        if let Some(slash) = bytes.iter().position(|b| *b == b'/') {
            bytes.drain(..slash);
        }
        if !bytes.starts_with(b"/?") {
            break;
        }
    }
    let identification = iec62056::parse_identification(&bytes).map_err(|e| readout_error(port.target(), &e))?;
    let baud = identification.baud;
    let mut switched = false;
    match identification.mode {
        Mode::C => {
            let z = iec62056::mode_c_character(baud).unwrap_or(b'0');
            port.send(&[ACK, b'0', z, b'0', b'\r', b'\n'])?;
            if baud != 300 && port.changes_line() {
                port.set_line(LineSettings::iec62056(baud))?;
                switched = true;
            }
        }
        Mode::B => {
            if baud != 300 && port.changes_line() {
                port.set_line(LineSettings::iec62056(baud))?;
                switched = true;
            }
        }
        Mode::A => {}
    }
    let start = bytes.len();
    let ended = read_until(
        port,
        &mut bytes,
        &mut rest,
        |b| {
            let data = b.get(start..).unwrap_or_default();
            match data.iter().position(|x| *x == STX) {
                // A data message: ETX and one byte (the BCC) after it.
                Some(stx) => data.get(stx..).and_then(|d| d.iter().position(|x| *x == ETX)).is_some_and(|etx| data.len() > stx + etx + 1),
                // Data lines without STX (DSMR-like): to the `!` line's end.
                None => data.iter().position(|x| *x == b'!').is_some_and(|bang| data.get(bang..).is_some_and(|d| d.contains(&b'\n'))),
            }
        },
        options.answer_timeout,
        options.char_timeout,
    )?;
    match ended {
        Ended::Nothing => return Err(optical(port, "optical_no_answer", "no data message after the identification")),
        Ended::Silent => {
            return Err(optical(port, "optical_truncated", format!("the data message stops after {} characters, before ETX and the BCC", bytes.len() - start)));
        }
        Ended::Complete => {}
    }
    // An echoed acknowledgement (or noise) between the identification and STX is not kept.
    if let Some(stx) = bytes.get(start..).and_then(|d| d.iter().position(|x| *x == STX)) {
        bytes.drain(start..start + stx);
    }
    iec62056::parse_readout(&bytes).map_err(|e| readout_error(port.target(), &e))?;
    Ok(Captured { bytes, identification, baud, switched, attempts: 1, took: Duration::ZERO })
}

fn wake(port: &mut dyn Port) -> Result<()> {
    let started = Instant::now();
    let chunk = [0u8; 11];
    let line = port.line();
    while started.elapsed() < WAKE_NULS {
        port.send(&chunk)?;
        // A serial line takes the wire time to send them; a TCP link is paced here.
        if !port.changes_line() {
            std::thread::sleep(line.wire_time(chunk.len()));
        }
    }
    std::thread::sleep(WAKE_PAUSE);
    Ok(())
}

#[derive(Debug, PartialEq, Eq)]
enum Ended {
    Complete,
    /// Nothing came in time.
    Nothing,
    /// Something came, then silence.
    Silent,
}

/// Receive into `bytes` (masked to 7 bits) until `done` says so, the first byte within
/// `first`, the next ones each within `gap`. Bytes received after the end wait in `rest` for
/// the next call (a meter in mode A sends its data message right after its identification).
fn read_until(port: &mut dyn Port, bytes: &mut Vec<u8>, rest: &mut Vec<u8>, done: impl Fn(&[u8]) -> bool, first: Duration, gap: Duration) -> Result<Ended> {
    let mut got_any = false;
    let waiting = std::mem::take(rest);
    for (i, b) in waiting.iter().enumerate() {
        got_any = true;
        bytes.push(*b);
        if done(bytes) {
            rest.extend_from_slice(waiting.get(i + 1..).unwrap_or_default());
            return Ok(Ended::Complete);
        }
    }
    let mut buf = [0u8; 512];
    loop {
        let n = port.recv(&mut buf, if got_any { gap } else { first })?;
        if n == 0 {
            return Ok(if got_any { Ended::Silent } else { Ended::Nothing });
        }
        got_any = true;
        for (i, b) in buf.iter().take(n).enumerate() {
            bytes.push(b & 0x7F);
            if done(bytes) {
                rest.extend(buf.iter().take(n).skip(i + 1).map(|b| b & 0x7F));
                return Ok(Ended::Complete);
            }
        }
        if bytes.len() > LONGEST_MESSAGE {
            return Err(optical(port, "optical_truncated", "the answer is longer than any readout (64 KiB) without its end"));
        }
    }
}

/// The decoded view of a stored readout (a telegram whose bytes start with an identification
/// line): every data set, mapped or not. `None` when the bytes are no readout.
pub fn decoded_view(bytes: &[u8]) -> Option<std::result::Result<obis::Mapped, ReadoutError>> {
    let first = bytes.iter().position(|b| *b == b'\n')?;
    if bytes.first() != Some(&b'/') || iec62056::parse_identification(bytes.get(..first)?).is_err() {
        return None;
    }
    Some(iec62056::parse_readout(bytes).map(|r| obis::map(&r)))
}

/// A register value read, for the report.
#[derive(Debug, Clone, Serialize)]
pub struct RegisterRead {
    pub register: &'static str,
    pub value: f64,
    pub unit: &'static str,
}

/// What `optical read` did.
#[derive(Debug, Clone, Serialize)]
pub struct ReadReport {
    pub port: String,
    pub manufacturer: String,
    pub ident: String,
    pub mode: Mode,
    pub baud_character: char,
    /// The speed of the data message, and whether this side's line switched to it.
    pub baud: u32,
    pub switched: bool,
    pub attempts: u32,
    pub took_ms: u64,
    pub bytes: usize,
    pub serial: Option<String>,
    pub meter_time: Option<String>,
    pub registers: Vec<RegisterRead>,
    /// Every data set, mapped or not.
    pub data_sets: Vec<obis::SetView>,
    /// Data sets Relevé does not map (kept in the raw readout).
    pub unknown: usize,
    /// The import of the readout: stored, duplicates, readings, new meters.
    pub import: FileReport,
}

/// Read the meter in front of the optical head and store the readout (needs `import`).
pub fn read(store: &Store, session: &Session, options: &Options, now: i64) -> Result<ReadReport> {
    let permit = session.permit(Permission::Import)?;
    if options.address.len() > 32 || !options.address.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Error::bad_input("address", "a device address is up to 32 letters and digits"));
    }
    let mut port = port::open(&options.target, LineSettings::iec62056(300), Duration::from_secs(5))?;
    let captured = take_readout(port.as_mut(), options)?;
    drop(port);
    let readout = iec62056::parse_readout(&captured.bytes).map_err(|e| readout_error(&options.target, &e))?;
    let mapped = obis::map(&readout);
    if let Some(expected) = &options.meter {
        match &mapped.serial {
            Some(s) if s == expected => {}
            Some(s) => {
                return Err(Error::Optical {
                    port: options.target.to_string(),
                    problem: "optical_wrong_meter",
                    reason: format!("the meter read is {s} ({}), not {expected}: nothing stored", mapped.manufacturer),
                })
            }
            None => {
                return Err(Error::Optical {
                    port: options.target.to_string(),
                    problem: "optical_no_serial",
                    reason: format!("the readout names no serial, so it cannot be told to be meter {expected}: nothing stored"),
                })
            }
        }
    }
    let settings = import::Settings::read(store, now)?;
    let frame = Frame { bytes: captured.bytes.clone(), received_at: Some(now), rssi: None, heard_by: Vec::new() };
    let name = format!("optical {}", options.target);
    let report = import::import_lines(store, permit, &name, &captured.bytes, 1, std::iter::once((1, Line::Frame(frame))), settings, &mut |_, _| {})?;
    if let Some(r) = report.rejected.first() {
        return Err(Error::Optical { port: options.target.to_string(), problem: if r.code == "no_serial" { "optical_no_serial" } else { "optical_bad_data_set" }, reason: r.reason.clone() });
    }
    let registers = mapped.readings.iter().map(|(r, v)| RegisterRead { register: r.id(), value: *v, unit: r.unit() }).collect();
    Ok(ReadReport {
        port: options.target.to_string(),
        manufacturer: mapped.manufacturer,
        ident: mapped.ident,
        mode: captured.identification.mode,
        baud_character: captured.identification.baud_character,
        baud: captured.baud,
        switched: captured.switched,
        attempts: captured.attempts,
        took_ms: u64::try_from(captured.took.as_millis()).unwrap_or(u64::MAX),
        bytes: captured.bytes.len(),
        serial: mapped.serial,
        meter_time: mapped.meter_time_text,
        registers,
        unknown: mapped.data_sets.iter().filter(|d| d.role.is_none()).count(),
        data_sets: mapped.data_sets,
        import: report,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::VecDeque;

    /// A line that answers what is sent with scripted bytes (with their parity bits), and
    /// records what was sent and the speeds set.
    struct Script {
        replies: VecDeque<(&'static [u8], Vec<u8>)>,
        inbox: VecDeque<u8>,
        sent: Vec<Vec<u8>>,
        speeds: Vec<u32>,
        line: LineSettings,
        target: Target,
    }

    fn parity(bytes: &[u8]) -> Vec<u8> {
        bytes.iter().map(|b| if b.count_ones() % 2 == 1 { b | 0x80 } else { *b }).collect()
    }

    fn script(replies: Vec<(&'static [u8], Vec<u8>)>) -> Script {
        Script { replies: replies.into(), inbox: VecDeque::new(), sent: Vec::new(), speeds: Vec::new(), line: LineSettings::iec62056(300), target: Target::Serial("/dev/ttyTEST".into()) }
    }

    impl Port for Script {
        fn send(&mut self, bytes: &[u8]) -> Result<()> {
            self.sent.push(bytes.to_vec());
            if self.replies.front().is_some_and(|(expect, _)| bytes.starts_with(expect)) {
                if let Some((_, reply)) = self.replies.pop_front() {
                    self.inbox.extend(parity(&reply));
                }
            }
            Ok(())
        }
        fn recv(&mut self, buf: &mut [u8], _wait: Duration) -> Result<usize> {
            let n = buf.len().min(self.inbox.len()).min(7);
            for b in buf.iter_mut().take(n) {
                *b = self.inbox.pop_front().unwrap_or(0);
            }
            Ok(n)
        }
        fn set_line(&mut self, settings: LineSettings) -> Result<()> {
            self.speeds.push(settings.baud);
            self.line = settings;
            Ok(())
        }
        fn line(&self) -> LineSettings {
            self.line
        }
        fn changes_line(&self) -> bool {
            true
        }
        fn discard_input(&mut self) -> Result<()> {
            self.inbox.clear();
            Ok(())
        }
        fn target(&self) -> &Target {
            &self.target
        }
    }

    fn message(lines: &[&str]) -> Vec<u8> {
        let mut body = Vec::new();
        for l in lines {
            body.extend_from_slice(l.as_bytes());
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(b"!\r\n");
        body.push(ETX);
        let check = iec62056::bcc(&body);
        let mut out = vec![STX];
        out.extend_from_slice(&body);
        out.push(check);
        out
    }

    #[test]
    fn mode_c_through_an_echoing_head_with_parity_bits() {
        let mut ack_echo = vec![ACK, b'0', b'5', b'0', b'\r', b'\n'];
        ack_echo.extend(message(&["0.0.0(123)", "1.8.0(1.5*kWh)"]));
        let mut port = script(vec![(b"/?!", b"/?!\r\n/ISk5MT382\r\n".to_vec()), (&[ACK], ack_echo)]);
        let c = take_readout(&mut port, &Options::new(Target::Serial("/dev/ttyTEST".into()))).expect("readout");
        assert_eq!((c.baud, c.switched, c.attempts), (9600, true, 1));
        assert_eq!(port.speeds, [300, 9600], "sign-on at 300, data at 9600");
        assert_eq!(port.sent[1], [ACK, b'0', b'5', b'0', b'\r', b'\n']);
        assert!(c.bytes.starts_with(b"/ISk5MT382\r\n\x02"), "no echo kept: {:?}", String::from_utf8_lossy(&c.bytes));
        let r = iec62056::parse_readout(&c.bytes).expect("parses");
        assert_eq!(r.data_sets.len(), 2);
    }

    #[test]
    fn mode_a_is_read_without_acknowledgement_and_b_switches_by_itself() {
        let mut reply = b"/ABC-X\r\n".to_vec();
        reply.extend(message(&["1.8.0(2*kWh)"]));
        let mut port = script(vec![(b"/?42!", reply)]);
        let mut options = Options::new(Target::Serial("/dev/ttyTEST".into()));
        options.address = "42".into();
        let c = take_readout(&mut port, &options).expect("mode A");
        assert_eq!((c.identification.mode, c.baud, c.switched), (Mode::A, 300, false));
        assert_eq!(port.sent.len(), 1, "only the sign-on");
        let r = iec62056::parse_readout(&c.bytes).expect("whole");
        assert_eq!((r.check, r.data_sets[0].address.as_str()), (iec62056::Check::Bcc, "1.8.0"), "the data message right after the identification is kept whole");
        let mut reply = b"/ABCD\r\n".to_vec();
        reply.extend(message(&["1.8.0(2*kWh)"]));
        let mut port = script(vec![(b"/?!", reply)]);
        let c = take_readout(&mut port, &Options::new(Target::Serial("/dev/ttyTEST".into()))).expect("mode B");
        assert_eq!((c.identification.mode, c.baud, c.switched), (Mode::B, 2400, true));
        assert_eq!(port.sent.len(), 1, "no acknowledgement in mode B");
    }

    #[test]
    fn silence_and_an_unknown_speed_are_named_errors() {
        let mut port = script(vec![]);
        let e = take_readout(&mut port, &Options::new(Target::Serial("/dev/ttyTEST".into()))).expect_err("silent");
        assert_eq!(e.code(), "optical_no_answer");
        assert_eq!(port.sent.len(), 2, "tried twice");
        assert!(e.to_string().contains("serial /dev/ttyTEST"), "{e}");
        let mut port = script(vec![(b"/?!", b"/LGZ8ZMD\r\n".to_vec())]);
        let e = take_readout(&mut port, &Options::new(Target::Serial("/dev/ttyTEST".into()))).expect_err("8");
        assert_eq!(e.code(), "optical_unknown_baud");
        assert_eq!(port.sent.len(), 1, "not retried: the meter would say the same");
    }
}
