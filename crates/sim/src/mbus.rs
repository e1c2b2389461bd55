//! M-Bus slaves on one bus, for the tests: each answers from real frames (given as hex in a
//! small JSON file), with its primary address and secondary address (written into the frames'
//! headers, checksums made again). A slave may send several telegrams (DIF 1F on all but the
//! last, FCB handled: a repeated FCB gets the same telegram again), stay silent, answer
//! garbage (a frame with a wrong checksum) or stop mid multi-telegram; two slaves at one
//! primary address answer on top of each other (a collision: the second one a character
//! late, the line's zero bits winning). The line may echo what the master sends. Timing is
//! the line's: a request takes its bytes x 11 bits / baud to arrive, an answer as long to
//! leave, after 11 bit times.
//!
//! Selection (CI 52 to FD): the slaves matching the mask (F wildcards) are selected and
//! answer E5, every other slave is deselected; SND_NKE to FD deselects; a selection starts
//! the slave's answer at its first telegram.

use mbus::master::{self as frames, FrameLength, SecondaryMask};
use mbus::WiredFrame;
use serde::{Deserialize, Serialize};
use std::io::{Read, Write};
use std::time::{Duration, Instant};

#[derive(clap::Args)]
pub struct Args {
    /// The bus: `{"baud": 2400, "echo": false, "meters": [{"primary": 1, "frames": ["68..."], ...}]}`.
    #[arg(long, required_unless_present = "demo", conflicts_with = "demo")]
    config: Option<std::path::PathBuf>,
    /// The demo bus instead of a file (`demo_config`: a plant room of six meters to try the
    /// bus screen on, one of them silent).
    #[arg(long)]
    demo: bool,
    /// Serve on this serial device (one end of a pty pair made by socat).
    #[arg(long, conflicts_with = "tcp")]
    serial: Option<String>,
    /// Serve on this TCP address (port 0: any; the address is printed).
    #[arg(long)]
    tcp: Option<String>,
    /// Override the configured baud rate.
    #[arg(long)]
    baud: Option<u32>,
    /// Echo every byte the master sends (an echoing level converter).
    #[arg(long)]
    echo: bool,
}

/// A bus: its speed, whether the line echoes, its meters.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Config {
    #[serde(default = "default_baud")]
    pub baud: u32,
    #[serde(default)]
    pub echo: bool,
    pub meters: Vec<MeterConfig>,
}

fn default_baud() -> u32 {
    2400
}

/// One slave.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct MeterConfig {
    pub primary: u8,
    /// 8 id digits; the frames' own when absent.
    pub id: Option<String>,
    /// Three letters; the frames' own when absent.
    pub manufacturer: Option<String>,
    pub version: Option<u8>,
    pub medium: Option<u8>,
    /// Long frames (hex): one telegram, or several sent one after the other (DIF 1F added).
    #[serde(default)]
    pub frames: Vec<String>,
    /// `normal`, `silent` (never answers) or `garbage` (data with a wrong checksum).
    #[serde(default)]
    pub behaviour: Behaviour,
    /// Stop answering requests for data after this many telegrams (until the next reset).
    pub stop_after: Option<usize>,
}

#[derive(Debug, Serialize, Deserialize, Clone, Copy, Default, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Behaviour {
    #[default]
    Normal,
    Silent,
    Garbage,
}

struct Meter {
    primary: u8,
    address: SecondaryMask,
    telegrams: Vec<Vec<u8>>,
    behaviour: Behaviour,
    stop_after: Option<usize>,
    selected: bool,
    last_fcb: Option<bool>,
    current: usize,
    sent: usize,
}

pub use crate::Error;

pub fn run(args: Args) -> Result<(), Error> {
    let mut config = match &args.config {
        Some(path) => {
            let text = std::fs::read_to_string(path).map_err(|e| format!("{}: {e}", path.display()))?;
            serde_json::from_str::<Config>(&text).map_err(|e| format!("{}: {e}", path.display()))?
        }
        None => demo_config()?,
    };
    config.baud = args.baud.unwrap_or(config.baud);
    config.echo |= args.echo;
    if let Some(device) = args.serial {
        let mut bus = Bus::new(&config)?;
        let mut port = open_serial(&device, bus.baud)?;
        println!("serving {} meters on {device}", bus.meters.len());
        std::io::stdout().flush()?;
        bus.serve(&mut port)
    } else if let Some(address) = args.tcp {
        let mut bus = Bus::new(&config)?;
        let listener = std::net::TcpListener::bind(&address).map_err(|e| format!("{address}: {e}"))?;
        println!("listening {}", listener.local_addr()?);
        std::io::stdout().flush()?;
        bus.serve_tcp(listener);
        Ok(())
    } else {
        Err("give --serial DEVICE or --tcp HOST:PORT".into())
    }
}

fn open_serial(device: &str, baud: u32) -> Result<Box<dyn serialport::SerialPort>, Error> {
    Ok(serialport::new(device, baud)
        .data_bits(serialport::DataBits::Eight)
        .parity(serialport::Parity::Even)
        .timeout(Duration::from_millis(50))
        .open()
        .map_err(|e| format!("{device}: {e}"))?)
}

/// Serve `config` on a TCP port of 127.0.0.1 in a thread of this process: its address.
pub fn start_tcp(config: &Config) -> Result<std::net::SocketAddr, Error> {
    let mut bus = Bus::new(config)?;
    let listener = std::net::TcpListener::bind("127.0.0.1:0")?;
    let address = listener.local_addr()?;
    std::thread::spawn(move || bus.serve_tcp(listener));
    Ok(address)
}

/// Serve `config` on the serial device `device` (a pty end) in a thread of this process.
pub fn start_serial(config: &Config, device: &str) -> Result<(), Error> {
    let mut bus = Bus::new(config)?;
    let mut port = open_serial(device, bus.baud)?;
    std::thread::spawn(move || {
        if let Err(e) = bus.serve(&mut port) {
            eprintln!("releve-sim: {e}");
        }
    });
    Ok(())
}

/// A demo meter: primary address, id, manufacturer, medium, and each telegram's records after
/// its 12-byte header.
type DemoMeter = (u8, &'static str, &'static str, u8, Vec<Vec<u8>>);

/// The demo bus: a plant room with four water meters, two heat meters (one answering in two
/// telegrams) and an electricity sub-meter, plus one that never answers, at 2,400 baud. The
/// frames are built here (RSP_UD, CI 72, BCD records), so the demo needs no file.
pub fn demo_config() -> Result<Config, Error> {
    let water = |litres: u32| [&[0x0C, 0x13][..], &bcd8(litres)].concat();
    let heat = |kwh: u32, litres: u32| [&[0x0C, 0x06][..], &bcd8(kwh), &[0x0C, 0x13], &bcd8(litres)].concat();
    let temperatures = [0x0A, 0x5A, 0x52, 0x06, 0x0A, 0x5E, 0x81, 0x04]; // flow 65.2 C, return 48.1 C
    let electricity = |kwh: u32| [&[0x0C, 0x06][..], &bcd8(kwh)].concat();
    let meters: Vec<DemoMeter> = vec![
        (1, "61010001", "ZRI", 0x07, vec![water(152_437)]),
        (2, "61010002", "ZRI", 0x07, vec![water(98_120)]),
        (3, "61010003", "ZRI", 0x07, vec![water(230_905)]),
        (4, "61010004", "ZRI", 0x07, vec![water(41_268)]),
        (10, "72020010", "KAM", 0x04, vec![heat(18_432, 512_771), temperatures.to_vec()]),
        (11, "72020011", "KAM", 0x04, vec![heat(9_876, 301_442)]),
        (20, "83030020", "ABB", 0x02, vec![electricity(45_210)]),
    ];
    let mut out = Vec::new();
    for (primary, id, manufacturer, medium, records) in meters {
        let mut frames_hex = Vec::new();
        for (access, r) in records.iter().enumerate() {
            // Header: id, manufacturer, version, medium, access number, status, signature;
            // the simulator writes the configured addresses over them.
            let mut data = vec![0, 0, 0, 0, 0, 0, 1, medium, u8::try_from(access).unwrap_or(0), 0, 0, 0];
            data.extend_from_slice(r);
            let frame = frames::long_frame(0x08, primary, frames::CI_VARIABLE, &data).ok_or("demo frame too long")?;
            frames_hex.push(hex::encode(frame));
        }
        out.push(MeterConfig {
            primary,
            id: Some(id.to_string()),
            manufacturer: Some(manufacturer.to_string()),
            version: Some(1),
            medium: Some(medium),
            frames: frames_hex,
            ..MeterConfig::default()
        });
    }
    out.push(MeterConfig { primary: 30, id: Some("61010030".into()), behaviour: Behaviour::Silent, ..MeterConfig::default() });
    Ok(Config { baud: 2400, echo: false, meters: out })
}

/// 8 BCD digits, least significant byte first.
fn bcd8(value: u32) -> [u8; 4] {
    let mut out = [0u8; 4];
    let mut v = value % 100_000_000;
    for b in &mut out {
        let low = u8::try_from(v % 10).unwrap_or(0);
        let high = u8::try_from((v / 10) % 10).unwrap_or(0);
        *b = (high << 4) | low;
        v /= 100;
    }
    out
}

/// A meter from its configuration: its telegrams with its addresses written in.
fn meter(c: &MeterConfig) -> Result<Meter, Error> {
    if c.frames.is_empty() && c.behaviour != Behaviour::Silent {
        return Err("no frames".into());
    }
    let mut raw = Vec::new();
    for f in &c.frames {
        let bytes = hex::decode(f.trim()).map_err(|e| format!("frame is not hexadecimal: {e}"))?;
        raw.push(bytes);
    }
    let first = raw.first().and_then(|f| frames::identity(f).ok());
    let mut address = first.map_or(SecondaryMask::parse("00000000").map_err(|e| e.to_string())?, |w| w.address);
    let mut data = address.select_data();
    if let Some(id) = &c.id {
        let id_mask = SecondaryMask::parse(id).map_err(|e| format!("id {id}: {e}"))?;
        data[..4].copy_from_slice(&id_mask.select_data()[..4]);
    }
    if let Some(m) = &c.manufacturer {
        let code = mbus::manufacturer_code(m).ok_or_else(|| format!("manufacturer {m}: three letters"))?;
        data[4..6].copy_from_slice(&code.to_le_bytes());
    }
    if let Some(v) = c.version {
        data[6] = v;
    }
    if let Some(m) = c.medium {
        data[7] = m;
    }
    address = SecondaryMask::from_select_data(data);
    let n = raw.len();
    let mut telegrams = Vec::new();
    for (i, f) in raw.iter().enumerate() {
        let Ok(WiredFrame::Long { c: cf, ci, data: body, .. }) = mbus::parse_wired_frame(f) else {
            return Err(format!("frame {} is not a checked wired long frame", i + 1).into());
        };
        let mut body = body.to_vec();
        if ci == frames::CI_VARIABLE && body.len() >= 8 {
            body[..8].copy_from_slice(&data);
        }
        // A real first telegram may end with DIF 1F already.
        if i + 1 < n && frames::more_records_follow(f) != Ok(true) {
            body.push(0x1F);
        }
        let t = frames::long_frame(cf, c.primary, ci, &body).ok_or("frame too long with DIF 1F")?;
        if i + 1 < n && frames::more_records_follow(&t) != Ok(true) {
            return Err(format!("frame {} ends with manufacturer data (DIF 0F) or unreadable records: DIF 1F cannot follow it; choose another frame", i + 1).into());
        }
        telegrams.push(t);
    }
    Ok(Meter {
        primary: c.primary,
        address,
        telegrams,
        behaviour: c.behaviour,
        stop_after: c.stop_after,
        selected: false,
        last_fcb: None,
        current: 0,
        sent: 0,
    })
}

struct Bus {
    baud: u32,
    echo: bool,
    meters: Vec<Meter>,
}

impl Bus {
    fn new(config: &Config) -> Result<Bus, Error> {
        let meters = config.meters.iter().enumerate().map(|(i, m)| meter(m).map_err(|e| format!("meter {}: {e}", i + 1))).collect::<Result<_, _>>()?;
        Ok(Bus { baud: config.baud, echo: config.echo, meters })
    }

    /// Serve one TCP master after the other (a closed connection ends its turn).
    fn serve_tcp(&mut self, listener: std::net::TcpListener) {
        for stream in listener.incoming() {
            let outcome = stream.map_err(Error::from).and_then(|mut s| {
                s.set_nodelay(true)?;
                s.set_read_timeout(Some(Duration::from_millis(50)))?;
                self.serve(&mut s)
            });
            if let Err(e) = outcome {
                eprintln!("releve-sim: connection ended: {e}");
            }
        }
    }

    fn wire_time(&self, chars: usize) -> Duration {
        Duration::from_micros((chars as u64) * 11 * 1_000_000 / u64::from(self.baud.max(1)))
    }

    /// Answer requests on one line until it closes.
    fn serve<L: Read + Write>(&mut self, line: &mut L) -> Result<(), Error> {
        let mut buf: Vec<u8> = Vec::new();
        let mut last = Instant::now();
        let mut chunk = [0u8; 512];
        loop {
            let n = match line.read(&mut chunk) {
                Ok(0) => return Ok(()),
                Ok(n) => n,
                Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) => {
                    // A request left half-sent long ago is dropped (a slave resynchronises on silence).
                    if !buf.is_empty() && last.elapsed() > Duration::from_millis(200) {
                        buf.clear();
                    }
                    continue;
                }
                Err(e) => return Err(e.into()),
            };
            last = Instant::now();
            if self.echo {
                line.write_all(&chunk[..n])?;
                line.flush()?;
            }
            buf.extend_from_slice(&chunk[..n]);
            loop {
                match frames::frame_length(&buf) {
                    FrameLength::Complete(len) => {
                        let request: Vec<u8> = buf.drain(..len).collect();
                        if let Some(answer) = self.answer(&request) {
                            std::thread::sleep(self.wire_time(request.len()) + self.wire_time(1));
                            self.send_paced(line, &answer)?;
                        }
                    }
                    FrameLength::NeedMore(_) => break,
                    FrameLength::Invalid => {
                        buf.remove(0);
                    }
                }
            }
        }
    }

    /// Write an answer as fast as the line would carry it.
    fn send_paced<L: Write>(&self, line: &mut L, answer: &[u8]) -> Result<(), Error> {
        let per = (self.baud as usize / 11 / 200).max(1);
        for piece in answer.chunks(per) {
            std::thread::sleep(self.wire_time(piece.len()));
            line.write_all(piece)?;
            line.flush()?;
        }
        Ok(())
    }

    /// What the bus sends back for one request: nothing, one answer, or answers on top of
    /// each other.
    fn answer(&mut self, request: &[u8]) -> Option<Vec<u8>> {
        let frame = mbus::parse_wired_frame(request).ok()?;
        let mut answers: Vec<Vec<u8>> = Vec::new();
        let mut new_baud = None;
        match frame {
            WiredFrame::Short { c, a } if c == frames::SND_NKE => {
                for m in self.meters.iter_mut().filter(|m| m.addressed(a)) {
                    m.last_fcb = None;
                    m.current = 0;
                    m.sent = 0;
                    if a == frames::ADDRESS_SELECTED {
                        m.selected = false;
                    }
                    if m.behaviour != Behaviour::Silent && a != frames::ADDRESS_BROADCAST {
                        answers.push(vec![0xE5]);
                    }
                }
            }
            WiredFrame::Short { c, a } if c & !frames::FCB == frames::REQ_UD2 => {
                let fcb = c & frames::FCB != 0;
                for m in self.meters.iter_mut().filter(|m| m.addressed(a)) {
                    if let Some(t) = m.next_telegram(fcb) {
                        answers.push(t);
                    }
                }
            }
            WiredFrame::Long { c, a, ci, data } if c & !frames::FCB == frames::SND_UD && ci == frames::CI_SELECT && a == frames::ADDRESS_SELECTED => {
                let mask = SecondaryMask::from_select_data(data.try_into().ok()?);
                for m in self.meters.iter_mut() {
                    m.selected = mask.matches(&m.address);
                    if m.selected {
                        m.last_fcb = None;
                        m.current = 0;
                        m.sent = 0;
                        if m.behaviour != Behaviour::Silent {
                            answers.push(vec![0xE5]);
                        }
                    }
                }
            }
            WiredFrame::Control { c, a, ci } if c & !frames::FCB == frames::SND_UD => {
                for m in self.meters.iter_mut().filter(|m| m.addressed(a)) {
                    if ci == frames::CI_APPLICATION_RESET {
                        m.current = 0;
                        m.last_fcb = None;
                        m.sent = 0;
                    }
                    if m.behaviour != Behaviour::Silent && a != frames::ADDRESS_BROADCAST {
                        answers.push(vec![0xE5]);
                    }
                }
                new_baud = frames::baud_of_ci(ci);
            }
            _ => {}
        }
        let out = collide(&answers);
        if let Some(b) = new_baud {
            // The slaves switch after their acknowledgement.
            self.baud = b;
        }
        out
    }
}

impl Meter {
    fn addressed(&self, a: u8) -> bool {
        match a {
            frames::ADDRESS_SELECTED => self.selected,
            frames::ADDRESS_BROADCAST_REPLY | frames::ADDRESS_BROADCAST => true,
            a => a == self.primary,
        }
    }

    /// The telegram for a REQ_UD2 with this FCB: the same again when the FCB did not change.
    fn next_telegram(&mut self, fcb: bool) -> Option<Vec<u8>> {
        if self.behaviour == Behaviour::Silent || self.telegrams.is_empty() {
            return None;
        }
        if self.stop_after.is_some_and(|n| self.sent >= n) {
            return None;
        }
        match self.last_fcb {
            Some(last) if last == fcb => {}
            Some(_) => self.current = (self.current + 1) % self.telegrams.len(),
            None => self.current = 0,
        }
        self.last_fcb = Some(fcb);
        self.sent += 1;
        let mut t = self.telegrams.get(self.current)?.clone();
        if self.behaviour == Behaviour::Garbage {
            let cs = t.len().checked_sub(2)?;
            t[cs] = t[cs].wrapping_add(0x5A);
        }
        Some(t)
    }
}

/// Several answers at once: the k-th starts k characters late, and on the line a zero bit
/// wins (bytes ANDed), so the master sees a mangled run of bytes.
fn collide(answers: &[Vec<u8>]) -> Option<Vec<u8>> {
    match answers {
        [] => None,
        [one] => Some(one.clone()),
        many => {
            let len = many.iter().enumerate().map(|(k, a)| a.len() + k).max().unwrap_or(0);
            let mut out = vec![0xFFu8; len];
            for (k, a) in many.iter().enumerate() {
                for (i, b) in a.iter().enumerate() {
                    out[i + k] &= b;
                }
            }
            Some(out)
        }
    }
}
