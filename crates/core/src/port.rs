//! A byte line to field devices: a serial port (an M-Bus level converter, an optical head) or a
//! TCP socket (a transparent M-Bus gateway, a serial server in front of an optical head).
//!
//! The protocol engines (`mbus_master`, `optical`) speak through [`Port`] and never know which
//! of the two it is. A serial port takes the line settings (baud rate, 7 or 8 data bits,
//! parity, stop bits) the protocol asks for; a TCP link records them but cannot change the far
//! serial line (a transparent gateway is set up on its own web page), so [`Port::changes_line`]
//! tells an engine whether switching the baud rate means anything.
//!
//! Timeouts are the protocol's: [`Port::recv`] waits at most the given time for the first
//! byte and returns what has arrived, or 0 bytes when nothing came.

use crate::error::{Error, Result};
use std::io::{Read, Write};
use std::net::{TcpStream, ToSocketAddrs};
use std::time::{Duration, Instant};

/// Where a line goes: a serial device (`/dev/ttyUSB0`, `COM3`) or `host:port`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Target {
    Serial(String),
    Tcp(String),
}

impl Target {
    /// What a clerk reads in an error or a screen: the device or `host:port`.
    pub fn name(&self) -> &str {
        match self {
            Target::Serial(device) => device,
            Target::Tcp(address) => address,
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Target::Serial(device) => write!(f, "serial {device}"),
            Target::Tcp(address) => write!(f, "tcp {address}"),
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Parity {
    None,
    Even,
    Odd,
}

/// A serial line's character format and speed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct LineSettings {
    pub baud: u32,
    /// 7 or 8.
    pub data_bits: u8,
    pub parity: Parity,
    /// 1 or 2.
    pub stop_bits: u8,
}

impl LineSettings {
    /// M-Bus (EN 13757-2): 8 data bits, even parity, 1 stop bit.
    pub fn mbus(baud: u32) -> LineSettings {
        LineSettings { baud, data_bits: 8, parity: Parity::Even, stop_bits: 1 }
    }

    /// IEC 62056-21: 7 data bits, even parity, 1 stop bit.
    pub fn iec62056(baud: u32) -> LineSettings {
        LineSettings { baud, data_bits: 7, parity: Parity::Even, stop_bits: 1 }
    }

    /// Bits on the wire per character: start + data + parity + stop.
    pub fn bits_per_char(&self) -> u32 {
        1 + u32::from(self.data_bits) + u32::from(self.parity != Parity::None) + u32::from(self.stop_bits)
    }

    /// How long `chars` characters take on the wire at this speed.
    pub fn wire_time(&self, chars: usize) -> Duration {
        let bits = u64::try_from(chars).unwrap_or(u64::MAX).saturating_mul(u64::from(self.bits_per_char()));
        Duration::from_micros(bits.saturating_mul(1_000_000) / u64::from(self.baud.max(1)))
    }
}

/// The baud rates a serial line is opened at (M-Bus 300 to 38,400; IEC 62056-21 300 to 19,200).
pub const BAUD_RATES: [u32; 8] = [300, 600, 1200, 2400, 4800, 9600, 19200, 38400];

/// A byte line, serial or TCP.
pub trait Port: Send {
    /// Send every byte (a serial port also waits until they have left, so a receive window
    /// starts after the last bit).
    fn send(&mut self, bytes: &[u8]) -> Result<()>;
    /// Wait at most `wait` for bytes; return how many were put at the start of `buf` (0: none
    /// came in time).
    fn recv(&mut self, buf: &mut [u8], wait: Duration) -> Result<usize>;
    /// Change speed and character format (a TCP link only records them).
    fn set_line(&mut self, settings: LineSettings) -> Result<()>;
    fn line(&self) -> LineSettings;
    /// Whether `set_line` changes the line itself (serial) or not (TCP).
    fn changes_line(&self) -> bool;
    /// Throw away whatever is waiting to be read.
    fn discard_input(&mut self) -> Result<()>;
    fn target(&self) -> &Target;
}

/// Open `target` with `settings`. A TCP link is given `connect_timeout` to connect.
pub fn open(target: &Target, settings: LineSettings, connect_timeout: Duration) -> Result<Box<dyn Port>> {
    check(settings, target)?;
    match target {
        Target::Serial(device) => {
            let port = serialport::new(device.as_str(), settings.baud)
                .data_bits(data_bits(settings.data_bits))
                .parity(parity(settings.parity))
                .stop_bits(if settings.stop_bits == 2 { serialport::StopBits::Two } else { serialport::StopBits::One })
                .flow_control(serialport::FlowControl::None)
                .timeout(Duration::from_millis(100))
                .open()
                .map_err(|e| port_error(target, e.to_string()))?;
            Ok(Box::new(Serial { port, target: target.clone(), settings }))
        }
        Target::Tcp(address) => {
            let addrs: Vec<_> = address
                .to_socket_addrs()
                .map_err(|e| port_error(target, format!("cannot resolve the address: {e}")))?
                .collect();
            let mut last = None;
            for addr in addrs {
                match TcpStream::connect_timeout(&addr, connect_timeout) {
                    Ok(stream) => {
                        stream.set_nodelay(true).map_err(|e| port_error(target, e.to_string()))?;
                        return Ok(Box::new(Tcp { stream, target: target.clone(), settings }));
                    }
                    Err(e) => last = Some(e),
                }
            }
            Err(port_error(target, last.map_or_else(|| "the address names no host".to_string(), |e| e.to_string())))
        }
    }
}

fn check(settings: LineSettings, target: &Target) -> Result<()> {
    if !BAUD_RATES.contains(&settings.baud) {
        return Err(Error::bad_input("baud", format!("{} baud on {target}: one of 300, 600, 1200, 2400, 4800, 9600, 19200, 38400", settings.baud)));
    }
    if !matches!(settings.data_bits, 7 | 8) || !matches!(settings.stop_bits, 1 | 2) {
        return Err(Error::bad_input("line", "7 or 8 data bits and 1 or 2 stop bits"));
    }
    Ok(())
}

fn port_error(target: &Target, reason: String) -> Error {
    Error::Port { port: target.to_string(), reason }
}

fn data_bits(bits: u8) -> serialport::DataBits {
    if bits == 7 {
        serialport::DataBits::Seven
    } else {
        serialport::DataBits::Eight
    }
}

fn parity(parity: Parity) -> serialport::Parity {
    match parity {
        Parity::None => serialport::Parity::None,
        Parity::Even => serialport::Parity::Even,
        Parity::Odd => serialport::Parity::Odd,
    }
}

/// Read into `buf` until some bytes come or `wait` is over (then 0). `read(buf, left)` reads
/// once with at most `left` to wait; a read of 0 bytes is the far end closing when `zero_closes`.
fn recv_within(
    target: &Target,
    buf: &mut [u8],
    wait: Duration,
    zero_closes: bool,
    mut read: impl FnMut(&mut [u8], Duration) -> std::io::Result<usize>,
) -> Result<usize> {
    if buf.is_empty() {
        return Ok(0);
    }
    let deadline = Instant::now() + wait;
    loop {
        let left = deadline.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return Ok(0);
        }
        match read(buf, left) {
            Ok(0) if zero_closes => return Err(port_error(target, "the gateway closed the connection".to_string())),
            Ok(0) => {}
            Ok(n) => return Ok(n),
            Err(e) if matches!(e.kind(), std::io::ErrorKind::TimedOut | std::io::ErrorKind::WouldBlock | std::io::ErrorKind::Interrupted) => {}
            Err(e) => return Err(port_error(target, e.to_string())),
        }
    }
}

struct Serial {
    port: Box<dyn serialport::SerialPort>,
    target: Target,
    settings: LineSettings,
}

impl Port for Serial {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        let target = self.target.clone();
        self.port.write_all(bytes).map_err(|e| port_error(&target, e.to_string()))?;
        self.port.flush().map_err(|e| port_error(&target, e.to_string()))
    }

    fn recv(&mut self, buf: &mut [u8], wait: Duration) -> Result<usize> {
        let port = &mut self.port;
        // A serial line never closes: 0 bytes is a timeout like any other.
        recv_within(&self.target, buf, wait, false, |buf, left| {
            port.set_timeout(left).map_err(std::io::Error::from)?;
            port.read(buf)
        })
    }

    fn set_line(&mut self, settings: LineSettings) -> Result<()> {
        check(settings, &self.target)?;
        let target = self.target.clone();
        let err = |e: serialport::Error| port_error(&target, e.to_string());
        self.port.set_baud_rate(settings.baud).map_err(err)?;
        self.port.set_data_bits(data_bits(settings.data_bits)).map_err(err)?;
        self.port.set_parity(parity(settings.parity)).map_err(err)?;
        let stop = if settings.stop_bits == 2 { serialport::StopBits::Two } else { serialport::StopBits::One };
        self.port.set_stop_bits(stop).map_err(err)?;
        self.settings = settings;
        Ok(())
    }

    fn line(&self) -> LineSettings {
        self.settings
    }

    fn changes_line(&self) -> bool {
        true
    }

    fn discard_input(&mut self) -> Result<()> {
        self.port.clear(serialport::ClearBuffer::Input).map_err(|e| port_error(&self.target, e.to_string()))
    }

    fn target(&self) -> &Target {
        &self.target
    }
}

struct Tcp {
    stream: TcpStream,
    target: Target,
    settings: LineSettings,
}

impl Port for Tcp {
    fn send(&mut self, bytes: &[u8]) -> Result<()> {
        let target = self.target.clone();
        self.stream.write_all(bytes).map_err(|e| port_error(&target, e.to_string()))?;
        self.stream.flush().map_err(|e| port_error(&target, e.to_string()))
    }

    fn recv(&mut self, buf: &mut [u8], wait: Duration) -> Result<usize> {
        let stream = &mut self.stream;
        recv_within(&self.target, buf, wait, true, |buf, left| {
            stream.set_read_timeout(Some(left))?;
            stream.read(buf)
        })
    }

    fn set_line(&mut self, settings: LineSettings) -> Result<()> {
        check(settings, &self.target)?;
        self.settings = settings;
        Ok(())
    }

    fn line(&self) -> LineSettings {
        self.settings
    }

    fn changes_line(&self) -> bool {
        false
    }

    fn discard_input(&mut self) -> Result<()> {
        let mut buf = [0u8; 512];
        self.stream.set_nonblocking(true).map_err(|e| port_error(&self.target, e.to_string()))?;
        let result = loop {
            match self.stream.read(&mut buf) {
                Ok(0) => break Err(port_error(&self.target, "the gateway closed the connection".to_string())),
                Ok(_) => {}
                Err(e) if e.kind() == std::io::ErrorKind::WouldBlock => break Ok(()),
                Err(e) if e.kind() == std::io::ErrorKind::Interrupted => {}
                Err(e) => break Err(port_error(&self.target, e.to_string())),
            }
        };
        self.stream.set_nonblocking(false).map_err(|e| port_error(&self.target, e.to_string()))?;
        result
    }

    fn target(&self) -> &Target {
        &self.target
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    #[test]
    fn wire_time_counts_eleven_bits_a_character_for_mbus() {
        let line = LineSettings::mbus(2400);
        assert_eq!(line.bits_per_char(), 11);
        // 5 characters (a short frame) at 2400 baud: 55 bits = 22.9 ms.
        assert_eq!(line.wire_time(5), Duration::from_micros(22_916));
        assert_eq!(LineSettings::iec62056(300).bits_per_char(), 10);
    }

    #[test]
    fn a_tcp_link_sends_receives_and_times_out() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("addr").to_string();
        let echo = std::thread::spawn(move || {
            let (mut s, _) = listener.accept().expect("accept");
            let mut b = [0u8; 5];
            s.read_exact(&mut b).expect("read");
            s.write_all(&[0xE5]).expect("write");
            // Keep the socket open a moment so the reader sees a timeout, not a close.
            std::thread::sleep(Duration::from_millis(300));
        });
        let mut port = open(&Target::Tcp(address), LineSettings::mbus(2400), Duration::from_secs(2)).expect("open");
        assert!(!port.changes_line());
        port.send(&[0x10, 0x40, 0x01, 0x41, 0x16]).expect("send");
        let mut buf = [0u8; 16];
        assert_eq!(port.recv(&mut buf, Duration::from_secs(2)).expect("recv"), 1);
        assert_eq!(buf[0], 0xE5);
        let started = Instant::now();
        assert_eq!(port.recv(&mut buf, Duration::from_millis(50)).expect("timeout"), 0);
        assert!(started.elapsed() >= Duration::from_millis(50));
        echo.join().expect("peer");
    }

    #[test]
    fn a_refused_connection_and_an_odd_baud_rate_are_errors_naming_the_line() {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind");
        let address = listener.local_addr().expect("addr").to_string();
        drop(listener);
        let e = open(&Target::Tcp(address.clone()), LineSettings::mbus(2400), Duration::from_secs(1)).err().expect("refused");
        assert_eq!(e.code(), "port");
        assert!(e.to_string().contains(&address), "{e}");
        let e = open(&Target::Serial("/dev/null".into()), LineSettings::mbus(1234), Duration::from_secs(1)).err().expect("baud");
        assert!(e.to_string().contains("1234 baud on serial /dev/null"), "{e}");
        let e = open(&Target::Serial("/nonexistent/tty".into()), LineSettings::mbus(2400), Duration::from_secs(1)).err().expect("none");
        assert_eq!(e.code(), "port");
        assert!(e.to_string().contains("/nonexistent/tty"), "{e}");
    }
}
