//! An electricity meter's optical port (IEC 62056-21), as a Landis+Gyr ZMD-like meter answers:
//! the sign-on `/?<address>!` at 300 baud, the identification, in mode C the acknowledgement
//! and the switch to the chosen speed, then the data message `STX ... ! CR LF ETX BCC`.
//!
//! It sends paced at the speed in use (the characters' wire time, 10 bits each), so a
//! readout that stays at 300 baud takes as long as on a real line, and sends every
//! character as a 7E1 line delivers it to an 8-bit pty: the even-parity bit in bit 7 (a
//! reader masks it off). Faults on demand: a battery meter that hears nothing without its
//! wake-up, a wrong BCC (always or the first time), an unknown baud-rate character, a meter
//! that stops in the middle of its data message, a head that echoes what the reader sends.

use mbus::iec62056::{mode_c_character, ACK};
use std::collections::VecDeque;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

#[derive(clap::Args, Clone, Debug)]
pub struct Args {
    /// Answer on this pty (one end of a socat pair).
    #[arg(long, conflicts_with = "listen", required_unless_present = "listen")]
    pty: Option<PathBuf>,
    /// Answer on TCP at this address (a serial server); `127.0.0.1:0` picks a port. The
    /// address listened on is printed first.
    #[arg(long)]
    listen: Option<String>,
    /// Protocol mode: a (300 baud only), b (switches by itself), c (acknowledged switch).
    #[arg(long, default_value = "c")]
    mode: char,
    /// The speed announced for the data message (modes B and C).
    #[arg(long, default_value_t = 9600)]
    baud: u32,
    /// Manufacturer flag (three letters; a lower-case third one: fast meter).
    #[arg(long, default_value = "LGZ")]
    flag: String,
    #[arg(long, default_value = "ZMD3104407.B32")]
    ident: String,
    #[arg(long, default_value = "87654321")]
    serial: String,
    /// The meter answers only sign-ons naming this device address (or none).
    #[arg(long)]
    address: Option<String>,
    /// A battery meter: it hears a sign-on only after a wake-up (20 NULs or more).
    #[arg(long)]
    wake: bool,
    /// Send a wrong BCC.
    #[arg(long)]
    wrong_bcc: bool,
    /// Send a wrong BCC the first time only.
    #[arg(long)]
    wrong_bcc_once: bool,
    /// Announce the speed with a baud-rate character no standard knows ('9').
    #[arg(long)]
    unknown_baud: bool,
    /// Stop in the middle of the data message.
    #[arg(long)]
    stop_mid_block: bool,
    /// The meter's clock, `YYYY-MM-DD HH:MM:SS` (default: the UTC time now).
    #[arg(long)]
    clock: Option<String>,
    /// A+ (kWh) in the first readout; each readout adds 0.125 kWh.
    #[arg(long, default_value_t = 12345.678)]
    a_plus: f64,
    /// Send as fast as the line takes (no wire-time pacing).
    #[arg(long)]
    no_pace: bool,
    /// Echo every character received (an optical head that hears itself).
    #[arg(long)]
    echo: bool,
    /// The reader's end of the pty pair: its speed is read (stty) before each message, and a
    /// reader not at the speed in use gets garbage, as on a real line.
    #[arg(long)]
    peer: Option<PathBuf>,
}

/// The simulator's arguments from a command line (without the program and subcommand names).
pub fn args(list: &[&str]) -> Result<Args, crate::Error> {
    #[derive(clap::Parser)]
    struct Line {
        #[command(flatten)]
        args: Args,
    }
    use clap::Parser;
    Line::try_parse_from(std::iter::once("optical").chain(list.iter().copied())).map(|l| l.args).map_err(crate::Error::from)
}

/// A running simulator (in a thread of this process).
pub struct Running {
    /// The TCP address it listens on (with `--listen`).
    pub address: Option<std::net::SocketAddr>,
    /// What it did, a line per event (also printed).
    pub log: Arc<Mutex<Vec<String>>>,
}

/// Run until the line closes (a pty) or forever (TCP).
pub fn run(args: Args) -> Result<(), crate::Error> {
    let (meter, source) = prepare(args)?;
    serve(meter, source)
}

/// Start in a thread of this process (the tests' way).
pub fn spawn(args: Args) -> Result<Running, crate::Error> {
    let (meter, source) = prepare(args)?;
    let address = match &source {
        Source::Tcp(l) => Some(l.local_addr().map_err(crate::Error::from)?),
        Source::Pty(..) => None,
    };
    let log = meter.log.clone();
    std::thread::spawn(move || serve(meter, source));
    Ok(Running { address, log })
}

enum Source {
    Pty(PathBuf, std::fs::File),
    Tcp(TcpListener),
}

fn prepare(args: Args) -> Result<(Meter, Source), crate::Error> {
    if !matches!(args.mode, 'a' | 'b' | 'c') {
        return Err(format!("mode '{}': a, b or c", args.mode).into());
    }
    let source = match (&args.pty, &args.listen) {
        (Some(path), _) => Source::Pty(path.clone(), std::fs::OpenOptions::new().read(true).write(true).open(path).map_err(|e| crate::Error::from(format!("{}: {e}", path.display())))?),
        (None, Some(address)) => {
            let listener = TcpListener::bind(address).map_err(|e| crate::Error::from(format!("{address}: {e}")))?;
            let local = listener.local_addr().map_err(crate::Error::from)?;
            println!("listening on {local}");
            let _ = std::io::stdout().flush();
            Source::Tcp(listener)
        }
        (None, None) => return Err("--pty PATH or --listen ADDRESS".into()),
    };
    Ok((Meter { args, readouts: 0, log: Arc::new(Mutex::new(Vec::new())) }, source))
}

fn serve(mut meter: Meter, source: Source) -> Result<(), crate::Error> {
    match source {
        Source::Pty(path, file) => {
            let reader = file.try_clone().map_err(crate::Error::from)?;
            let mut line = Line::new(Box::new(reader), Box::new(file), !meter.args.no_pace);
            line.echo = meter.args.echo;
            loop {
                if !meter.session(&mut line) {
                    return Err(format!("{}: the line closed", path.display()).into());
                }
            }
        }
        Source::Tcp(listener) => {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                let _ = stream.set_nodelay(true);
                let Ok(reader) = stream.try_clone() else { continue };
                let mut line = Line::new(Box::new(reader), Box::new(stream), !meter.args.no_pace);
                line.echo = meter.args.echo;
                while meter.session(&mut line) {}
            }
            Ok(())
        }
    }
}

/// A byte line: received bytes come through a thread; sending is paced at `baud`.
struct Line {
    incoming: Receiver<Vec<u8>>,
    queue: VecDeque<u8>,
    out: Box<dyn Write + Send>,
    baud: u32,
    pace: bool,
    echo: bool,
}

enum Got {
    Byte(u8),
    Timeout,
    Closed,
}

impl Line {
    fn new(mut reader: Box<dyn Read + Send>, out: Box<dyn Write + Send>, pace: bool) -> Line {
        let (send, incoming) = mpsc::channel();
        std::thread::spawn(move || {
            let mut buf = [0u8; 512];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if send.send(buf[..n].to_vec()).is_err() {
                            return;
                        }
                    }
                }
            }
        });
        Line { incoming, queue: VecDeque::new(), out, baud: 300, pace, echo: false }
    }

    fn byte(&mut self, wait: Option<Duration>) -> Got {
        if let Some(b) = self.queue.pop_front() {
            return Got::Byte(b & 0x7F);
        }
        let got = match wait {
            Some(w) => self.incoming.recv_timeout(w),
            None => self.incoming.recv().map_err(|_| RecvTimeoutError::Disconnected),
        };
        match got {
            Ok(chunk) => {
                if self.echo {
                    let _ = self.out.write_all(&chunk).and_then(|()| self.out.flush());
                }
                self.queue.extend(chunk);
                self.byte(Some(Duration::ZERO))
            }
            Err(RecvTimeoutError::Timeout) => Got::Timeout,
            Err(RecvTimeoutError::Disconnected) => Got::Closed,
        }
    }

    /// Send as 7E1 characters: the even-parity bit in bit 7, at the line's pace.
    fn send(&mut self, bytes: &[u8]) -> bool {
        for chunk in bytes.chunks(16) {
            let started = Instant::now();
            let framed: Vec<u8> = chunk.iter().map(|b| with_parity(*b)).collect();
            if self.out.write_all(&framed).and_then(|()| self.out.flush()).is_err() {
                return false;
            }
            if self.pace {
                let wire = Duration::from_micros(chunk.len() as u64 * 10 * 1_000_000 / u64::from(self.baud.max(1)));
                std::thread::sleep(wire.saturating_sub(started.elapsed()));
            }
        }
        true
    }
}

/// The output speed of a tty. Read with TCGETS2 (through python3, as this crate has no
/// unsafe code): a line set with BOTHER, as the serialport crate sets it, shows speed 0 to
/// `stty` and `tcgetattr`.
fn peer_speed(path: &std::path::Path) -> Option<u32> {
    const SCRIPT: &str = "import fcntl,os,struct,sys\nfd=os.open(sys.argv[1],os.O_RDONLY|os.O_NOCTTY|os.O_NONBLOCK)\nb=fcntl.ioctl(fd,0x802C542A,bytes(44))\nprint(struct.unpack('I',b[40:44])[0])";
    let out = std::process::Command::new("python3").arg("-c").arg(SCRIPT).arg(path).output().ok()?;
    String::from_utf8_lossy(&out.stdout).trim().parse().ok()
}

fn with_parity(b: u8) -> u8 {
    let b = b & 0x7F;
    if b.count_ones() % 2 == 1 {
        b | 0x80
    } else {
        b
    }
}

struct Meter {
    args: Args,
    readouts: u32,
    log: Arc<Mutex<Vec<String>>>,
}

/// How long the meter waits for the acknowledgement (and then for anything) before it goes
/// back to waiting for a sign-on.
const IDLE: Duration = Duration::from_millis(1500);

impl Meter {
    /// Serve one sign-on; false when the line closed.
    fn session(&mut self, line: &mut Line) -> bool {
        line.baud = 300;
        let mut heard = Vec::new();
        let mut nuls = 0u32;
        // The sign-on: `/?` ... `!` CR LF.
        let address = loop {
            match line.byte(None) {
                Got::Closed => return false,
                Got::Timeout => continue,
                Got::Byte(0) => nuls += 1,
                Got::Byte(b) => {
                    heard.push(b);
                    if heard.len() > 128 {
                        heard.drain(..64);
                    }
                    if heard.ends_with(b"!\r\n") {
                        let Some(start) = heard.windows(2).rposition(|w| w == b"/?") else {
                            heard.clear();
                            continue;
                        };
                        let address = String::from_utf8_lossy(&heard[start + 2..heard.len() - 3]).into_owned();
                        heard.clear();
                        if self.args.wake && nuls < 20 {
                            // Asleep: it heard nothing.
                            self.note(format!("asleep: a sign-on after {nuls} NULs not heard"));
                            nuls = 0;
                            continue;
                        }
                        break address;
                    }
                }
            }
        };
        if let Some(own) = &self.args.address {
            if !address.is_empty() && &address != own {
                return true;
            }
        }
        // On a real line the sign-on's last character arrives its wire time after the first,
        // and the meter answers after its reaction time: 200 ms (20 ms when the third letter
        // of its flag is lower case).
        let fast = self.args.flag.chars().nth(2).is_some_and(|c| c.is_ascii_lowercase());
        self.pause(line, address.len() + 5, if fast { 20 } else { 200 });
        let z = if self.args.unknown_baud {
            b'9'
        } else {
            match self.args.mode {
                'a' => b'-',
                'b' => mode_c_character(self.args.baud).map_or(b'A', |c| c - b'0' + b'A'),
                _ => mode_c_character(self.args.baud).unwrap_or(b'0'),
            }
        };
        let identification = format!("/{}{}{}\r\n", self.args.flag, char::from(z), self.args.ident);
        if !self.send_checked(line, identification.as_bytes()) {
            return false;
        }
        if self.args.unknown_baud {
            return true;
        }
        let speed = match self.args.mode {
            'a' => 300,
            'b' => self.args.baud,
            _ => {
                // The acknowledgement: ACK 0 Z Y CR LF.
                let mut ack = Vec::new();
                loop {
                    match line.byte(Some(IDLE)) {
                        Got::Closed => return false,
                        Got::Timeout => return true,
                        Got::Byte(b) => {
                            ack.push(b);
                            if b == b'\n' {
                                break;
                            }
                        }
                    }
                }
                let Some(at) = ack.iter().position(|b| *b == ACK) else { return true };
                match ack.get(at + 1..at + 4) {
                    Some([b'0', z, b'0']) => match z {
                        b'0'..=b'6' => [300u32, 600, 1200, 2400, 4800, 9600, 19200][usize::from(z - b'0')],
                        _ => return true,
                    },
                    _ => return true,
                }
            }
        };
        // The acknowledgement's wire time (mode C), then the meter's 200 ms before it switches.
        self.pause(line, if self.args.mode == 'c' { 6 } else { 0 }, 200);
        line.baud = speed;
        let mut message = self.message();
        self.readouts += 1;
        if self.args.stop_mid_block {
            message.truncate(message.len() / 2);
        }
        let sent = self.send_checked(line, &message);
        self.note(format!("readout {}: data message of {} bytes at {} baud", self.readouts, message.len(), speed));
        sent
    }

    /// When pacing: the wire time of `chars` characters received at the line's speed, then
    /// `reaction_ms`.
    fn pause(&self, line: &Line, chars: usize, reaction_ms: u64) {
        if self.args.no_pace {
            std::thread::sleep(Duration::from_millis(5));
            return;
        }
        let wire = Duration::from_micros(chars as u64 * 10 * 1_000_000 / u64::from(line.baud.max(1)));
        std::thread::sleep(wire + Duration::from_millis(reaction_ms));
    }

    /// Print an event and keep it in the log.
    fn note(&self, text: String) {
        println!("{text}");
        let _ = std::io::stdout().flush();
        if let Ok(mut log) = self.log.lock() {
            log.push(text);
        }
    }

    /// Send at the line's speed; a reader whose line is at another speed (`--peer`) receives
    /// garbage, as a UART would make of it.
    fn send_checked(&self, line: &mut Line, bytes: &[u8]) -> bool {
        if let Some(peer) = &self.args.peer {
            let theirs = peer_speed(peer);
            self.note(format!("sending {} bytes at {} baud, reader at {}", bytes.len(), line.baud, theirs.map_or("?".to_string(), |s| s.to_string())));
            if theirs != Some(line.baud) {
                let garbage: Vec<u8> = bytes.iter().map(|b| b.rotate_left(3) ^ 0x5A).collect();
                return line.send(&garbage);
            }
        }
        line.send(bytes)
    }

    /// The data message: STX, the data lines, `!` CR LF, ETX and the BCC.
    fn message(&self) -> Vec<u8> {
        let clock = self
            .args
            .clock
            .as_deref()
            .and_then(|c| chrono::NaiveDateTime::parse_from_str(c, "%Y-%m-%d %H:%M:%S").ok())
            .unwrap_or_else(|| chrono::Utc::now().naive_utc());
        let a_plus = self.args.a_plus + 0.125 * f64::from(self.readouts);
        let serial = &self.args.serial;
        let lines = [
            "F.F(00000000)".to_string(),
            format!("0.0.0({serial})"),
            format!("C.1.0({serial})"),
            format!("0.9.1({})", clock.format("%H%M%S")),
            format!("0.9.2({})", clock.format("%y%m%d")),
            format!("1.8.0({a_plus:011.3}*kWh)"),
            format!("1.8.1({:011.3}*kWh)", a_plus * 0.625),
            format!("1.8.2({:011.3}*kWh)", a_plus - (a_plus * 0.625 * 1000.0).round() / 1000.0),
            "2.8.0(0000042.100*kWh)".to_string(),
            "1.7.0(01.234*kW)".to_string(),
            "2.7.0(00.000*kW)".to_string(),
            "32.7(230*V)52.7(231*V)72.7(229*V)".to_string(),
            "31.7(001.52*A)51.7(000.98*A)71.7(002.03*A)".to_string(),
            "C.7.0(0003)".to_string(),
            "0.2.0(M23)".to_string(),
            "1.8.0*01(0011111.000*kWh)".to_string(),
        ];
        let mut out = mbus::iec62056::data_message(&lines);
        if self.args.wrong_bcc || (self.args.wrong_bcc_once && self.readouts == 0) {
            if let Some(check) = out.last_mut() {
                *check ^= 0x21;
            }
        }
        out
    }
}
