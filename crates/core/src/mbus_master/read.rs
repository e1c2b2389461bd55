//! Reading one slave: its link reset (primary) or its selection (secondary), then REQ_UD2
//! with the FCB toggled for each further telegram while the answer ends with DIF 1F; the
//! whole answer is stored as one reading set through the import path, every frame kept raw.
//! A slave that stops answering mid-way is an error naming the bus and the address, and
//! nothing of its answer is stored.

use super::{ack_problem, Bus, Heard, Problem};
use crate::access::Permit;
use crate::error::{Error, Result};
use crate::import::{self, line, FileReport};
use crate::store::Store;
use mbus::master::{self as frames, SecondaryMask};

/// The most telegrams one answer may have (a slave that never stops sending DIF 1F).
pub const MAX_TELEGRAMS: usize = 32;

/// Which slave: by primary address (0..=250) or by secondary address (16 characters).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Slave {
    Primary(u8),
    Secondary(SecondaryMask),
}

impl Slave {
    /// `5` is a primary address, `12345678` or 16 characters a secondary one.
    pub fn parse(text: &str) -> Result<Slave> {
        let text = text.trim();
        if text.len() <= 3 {
            return match text.parse::<u8>() {
                Ok(a) if a <= frames::MAX_PRIMARY => Ok(Slave::Primary(a)),
                _ => Err(Error::bad_input("address", format!("'{text}': a primary address is 0 to 250"))),
            };
        }
        SecondaryMask::parse(text)
            .map(Slave::Secondary)
            .map_err(|e| Error::bad_input("secondary", format!("'{text}': {e}")))
    }

    /// What errors and screens show: `5`, or the 16 characters.
    pub fn label(&self) -> String {
        match self {
            Slave::Primary(a) => a.to_string(),
            Slave::Secondary(m) => m.text(),
        }
    }
}

/// Read every telegram of `slave`'s answer (at least one).
pub fn read(bus: &mut Bus<'_>, slave: &Slave) -> Result<Vec<Vec<u8>>> {
    let label = slave.label();
    let address = match slave {
        Slave::Primary(a) => {
            let heard = bus.exchange_retried(&frames::snd_nke(*a))?;
            if let Some(p) = ack_problem(&heard) {
                return Err(bus.error(p, &label, "link reset (SND_NKE)"));
            }
            *a
        }
        Slave::Secondary(mask) => {
            let heard = bus.exchange_retried(&frames::select(mask))?;
            if let Some(p) = ack_problem(&heard) {
                return Err(bus.error(p, &label, "selection by secondary address"));
            }
            frames::ADDRESS_SELECTED
        }
    };
    let mut fcb = true;
    let mut telegrams: Vec<Vec<u8>> = Vec::new();
    loop {
        let heard = bus.exchange_retried(&frames::req_ud2(address, fcb))?;
        let k = telegrams.len();
        let mid = |problem: Problem| -> Problem {
            if k > 0 && problem == Problem::NoAnswer {
                Problem::Timeout
            } else {
                problem
            }
        };
        let detail = if k == 0 { "REQ_UD2".to_string() } else { format!("telegram {} of a multi-telegram answer, after {k} received: nothing stored", k + 1) };
        let frame = match heard {
            Heard::Frame(f) if f.first() == Some(&0x68) => f,
            Heard::Frame(_) => return Err(bus.error(Problem::Collision, &label, format!("{detail}: an acknowledgement instead of data"))),
            Heard::Nothing => return Err(bus.error(mid(Problem::NoAnswer), &label, detail)),
            Heard::Bad(p, _) => return Err(bus.error(mid(p), &label, detail)),
        };
        let more = frames::more_records_follow(&frame).unwrap_or(false);
        telegrams.push(frame);
        if !more {
            return Ok(telegrams);
        }
        if telegrams.len() >= MAX_TELEGRAMS {
            return Err(bus.error(Problem::Collision, &label, format!("more than {MAX_TELEGRAMS} telegrams announced by DIF 1F: nothing stored")));
        }
        fcb = !fcb;
    }
}

/// Store one slave's answer (its telegrams) as one reading set: the same reading time for
/// all (the meter's own clock when one of them carries a plausible one, else `now`), every
/// frame kept raw, the meter created or updated, through the import path named `name`.
pub fn store_answer(store: &Store, permit: Permit<'_>, name: &str, telegrams: &[Vec<u8>], now: i64) -> Result<FileReport> {
    let settings = import::Settings::read(store, now)?;
    let window = import::Window::at(&*store.reader()?, now)?;
    let meter_time = telegrams.iter().find_map(|f| mbus::decode(f, None).ok().and_then(|t| import::meter_time(&t)));
    let ts = import::reading_time(Some(now), now, meter_time, settings.tz(), window);
    let lines: Vec<(u64, line::Line)> = telegrams
        .iter()
        .enumerate()
        .map(|(i, f)| {
            let frame = line::Frame { bytes: f.clone(), received_at: Some(ts), rssi: None, heard_by: Vec::new() };
            (i as u64 + 1, line::Line::Frame(frame))
        })
        .collect();
    let fingerprint: Vec<u8> = telegrams.concat();
    let total = lines.len() as u64;
    import::import_lines(store, permit, name, &fingerprint, total, lines.into_iter(), settings, &mut |_, _| {})
}
