//! `releve mbus scan|read|read-all`: Relevé as the wired M-Bus master from the command line.

use crate::{login, now, Acting, Failure};
use releve_core::access::Permission;
use releve_core::mbus_master::{self, read::Slave, scan, Bus, LineConfig};
use releve_core::port::{self, LineSettings, Target};
use releve_core::Store;
use std::path::PathBuf;
use std::time::Duration;

#[derive(clap::Subcommand)]
pub enum MbusCommand {
    /// Find the slaves on a bus (no database): one JSON object a line, a meter or a collision.
    Scan {
        #[command(flatten)]
        line: Line,
        /// Search by secondary address (wildcards) instead of primary addresses 0-250.
        #[arg(long)]
        secondary: bool,
        /// Primary scan: first and last address (default 0 and 250).
        #[arg(long, default_value_t = 0)]
        first: u8,
        #[arg(long, default_value_t = 250)]
        last: u8,
    },
    /// Read one meter (multi-telegram answers to the end) and store its readings.
    Read {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        line: Line,
        /// Primary address (0-250).
        #[arg(long, conflicts_with = "secondary", required_unless_present = "secondary")]
        address: Option<u8>,
        /// Secondary address: 8 id digits or 16 characters.
        #[arg(long)]
        secondary: Option<String>,
        #[command(flatten)]
        acting: Acting,
    },
    /// Switch the meter at a primary address to another speed (serial line only), then check
    /// that it answers there.
    SetBaud {
        #[command(flatten)]
        line: Line,
        #[arg(long)]
        address: u8,
        /// The new speed.
        #[arg(long)]
        to: u32,
    },
    /// Read every meter of every configured bus (for cron); exit status 1 when a meter failed.
    ReadAll {
        #[arg(long)]
        db: PathBuf,
        #[command(flatten)]
        acting: Acting,
    },
}

/// The line to the bus: a serial level converter or a transparent gateway.
#[derive(clap::Args)]
pub struct Line {
    #[arg(long, conflicts_with = "tcp", required_unless_present = "tcp")]
    serial: Option<String>,
    /// HOST:PORT of a transparent M-Bus gateway.
    #[arg(long)]
    tcp: Option<String>,
    #[arg(long, default_value_t = 2400)]
    baud: u32,
    /// The converter's or gateway's own delay, added to every answer window (ms).
    #[arg(long, default_value_t = 0)]
    latency_ms: u32,
    /// The level converter echoes what is sent.
    #[arg(long)]
    echo: bool,
    /// Further tries after no answer or a bad one.
    #[arg(long, default_value_t = 1)]
    retries: u32,
}

impl Line {
    fn target(&self) -> Target {
        match (&self.serial, &self.tcp) {
            (Some(device), _) => Target::Serial(device.clone()),
            (None, Some(address)) => Target::Tcp(address.clone()),
            (None, None) => Target::Serial(String::new()),
        }
    }

    fn config(&self) -> LineConfig {
        LineConfig { baud: self.baud, latency_ms: self.latency_ms, echo: self.echo, retries: self.retries }
    }

    fn open(&self) -> Result<Box<dyn port::Port>, Failure> {
        Ok(port::open(&self.target(), LineSettings::mbus(self.baud), Duration::from_secs(5))?)
    }
}

pub fn run(command: MbusCommand) -> Result<(), Failure> {
    match command {
        MbusCommand::Scan { line, secondary, first, last } => {
            let mut port = line.open()?;
            let name = line.target().name().to_string();
            let mut bus = Bus::new(port.as_mut(), line.config(), name);
            let mut bar = crate::progress::Bar::new(if secondary { "Secondary search" } else { "Primary scan" });
            let mut print = |p: scan::ScanProgress, find: Option<&scan::Found>| {
                if let Some(f) = find {
                    println!("{}", serde_json::to_string(f).unwrap_or_default());
                }
                bar.set(p.done, p.total);
            };
            let found = if secondary { scan::secondary(&mut bus, &mut print)? } else { scan::primary(&mut bus, first, last, &mut print)? };
            bar.finish();
            for f in found.iter().filter(|f| f.problem.is_some()) {
                let at = f.primary.map(|a| a.to_string()).or_else(|| f.mask.clone()).unwrap_or_default();
                eprintln!("address {at}: {}", f.problem.map_or("", |p| p.words()));
            }
            let collisions = found.iter().filter(|f| f.problem.is_some()).count();
            eprintln!("{} found, {} with a problem, on {}", found.len() - collisions, collisions, bus.name);
            Ok(())
        }
        MbusCommand::Read { db, line, address, secondary, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "mbus_read_now")?;
            let permit = session.permit(Permission::Import)?;
            let slave = match (address, secondary) {
                (Some(a), _) => Slave::parse(&a.to_string())?,
                (None, Some(s)) => Slave::parse(&s)?,
                (None, None) => return Err(releve_core::Error::bad_input("address", "give --address N or --secondary ID").into()),
            };
            let mut port = line.open()?;
            let name = line.target().name().to_string();
            let mut bus = Bus::new(port.as_mut(), line.config(), name.clone());
            let telegrams = mbus_master::read::read(&mut bus, &slave)?;
            let report = mbus_master::read::store_answer(&store, permit, &format!("mbus {name} address {}", slave.label()), &telegrams, now())?;
            println!(
                "{} address {}: {} telegrams, {} stored ({} already there), {} readings, {} new meters",
                name,
                slave.label(),
                telegrams.len(),
                report.stored,
                report.duplicates,
                report.readings,
                report.new_meters
            );
            for t in &telegrams {
                println!("  {}", hex::encode_upper(t));
            }
            Ok(())
        }
        MbusCommand::SetBaud { line, address, to } => {
            let mut port = line.open()?;
            let name = line.target().name().to_string();
            let mut bus = Bus::new(port.as_mut(), line.config(), name.clone());
            bus.set_slave_baud(address, to)?;
            let heard = bus.exchange_retried(&mbus::master::snd_nke(address))?;
            if heard != mbus_master::Heard::Frame(vec![0xE5]) {
                return Err(bus.error(mbus_master::Problem::NoAnswer, &address.to_string(), format!("no answer at {to} baud after the switch")).into());
            }
            println!("{name} address {address}: now at {to} baud");
            Ok(())
        }
        MbusCommand::ReadAll { db, acting } => {
            let store = Store::open(&db)?;
            let session = login(&store, &acting, "mbus_read_now")?;
            let report = releve_core::mbus_master::buses::read_all(&store, &session, now())?;
            for m in &report.meters {
                match &m.error {
                    None => println!("{} {}: {} telegrams, {} readings", m.bus, m.address, m.telegrams, m.readings),
                    Some(e) => println!("{} {}: FAILED {} ({})", m.bus, m.address, e.message, e.code),
                }
            }
            let failed = report.meters.iter().filter(|m| m.error.is_some()).count();
            println!("{} meters read, {} failed", report.meters.len() - failed, failed);
            if failed > 0 {
                return Err(Failure { code: "mbus_read_failed".into(), message: format!("{failed} meters could not be read"), details: None });
            }
            Ok(())
        }
    }
}
