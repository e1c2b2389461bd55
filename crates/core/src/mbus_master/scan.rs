//! Finding the slaves on a bus: the primary scan (SND_NKE to 0..=250, a lone E5 = a slave,
//! anything else = a collision) and the secondary search (selections with `F` wildcards,
//! going one place deeper where several slaves answer at once), each found slave then asked
//! for its identity (REQ_UD2: id, manufacturer, version, medium).

use super::{ack_problem, Bus, Heard, Problem};
use crate::error::Result;
use mbus::master::{self as frames, SecondaryMask};
use serde::Serialize;

/// A slave found on the bus, or an address where answers collided.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Found {
    /// The primary address asked (primary scan), or the one its answer carries.
    pub primary: Option<u8>,
    /// The 16-character secondary address (from its answer), when known.
    pub secondary: Option<String>,
    pub id: Option<String>,
    pub manufacturer: Option<String>,
    pub version: Option<u8>,
    pub medium: Option<u8>,
    /// `collision` (several slaves at this address, or an unreadable answer), or the problem
    /// of the identity request; none when the slave was found and identified.
    pub problem: Option<Problem>,
    /// The mask a collision was seen at (a secondary search that could go no deeper).
    pub mask: Option<String>,
}

impl Found {
    fn at(primary: Option<u8>) -> Found {
        Found { primary, secondary: None, id: None, manufacturer: None, version: None, medium: None, problem: None, mask: None }
    }

    fn identified(mut self, who: &frames::SlaveIdentity) -> Found {
        self.primary = self.primary.or(Some(who.primary));
        self.secondary = Some(who.address.text());
        self.id = Some(who.id.clone());
        self.manufacturer = Some(who.manufacturer.clone());
        self.version = Some(who.version);
        self.medium = Some(who.medium);
        self
    }
}

/// How far a scan is: `done` of `total` steps (addresses, or thousandths of the search
/// tree), and the slaves found so far.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct ScanProgress {
    pub done: u64,
    pub total: u64,
    pub found: u64,
}

pub type Progress<'a> = &'a mut dyn FnMut(ScanProgress, Option<&Found>);

/// Primary scan of `first..=last` (at most 0..=250): each address found with its identity, or
/// reported as a collision. `progress` hears of every address and every find.
pub fn primary(bus: &mut Bus<'_>, first: u8, last: u8, progress: Progress<'_>) -> Result<Vec<Found>> {
    let last = last.min(frames::MAX_PRIMARY);
    let total = u64::from(last.saturating_sub(first)) + 1;
    let mut found = Vec::new();
    for (i, address) in (first..=last).enumerate() {
        let heard = bus.exchange_retried(&frames::snd_nke(address))?;
        let outcome = match ack_problem(&heard) {
            None => Some(identify(bus, address, Found::at(Some(address)))?),
            Some(Problem::NoAnswer) => None,
            Some(_) => Some(Found { problem: Some(Problem::Collision), ..Found::at(Some(address)) }),
        };
        if let Some(f) = outcome {
            found.push(f);
        }
        progress(ScanProgress { done: i as u64 + 1, total, found: found.len() as u64 }, found.last().filter(|f| f.primary == Some(address)));
    }
    Ok(found)
}

/// Ask the slave at `address` (primary, or FD for the selected one) who it is.
fn identify(bus: &mut Bus<'_>, address: u8, found: Found) -> Result<Found> {
    let heard = bus.exchange_retried(&frames::req_ud2(address, true))?;
    Ok(match heard {
        Heard::Frame(f) => match frames::identity(&f) {
            Ok(who) => found.identified(&who),
            Err(_) => Found { problem: Some(Problem::Collision), ..found },
        },
        Heard::Nothing => Found { problem: Some(Problem::NoAnswer), ..found },
        Heard::Bad(p, _) => Found { problem: Some(p), ..found },
    })
}

/// Secondary search from the all-wildcard mask: every slave found by its own address, also
/// those sharing a primary address.
pub fn secondary(bus: &mut Bus<'_>, progress: Progress<'_>) -> Result<Vec<Found>> {
    // Deselect whatever is selected, and reset every slave's link (no answer to FF).
    bus.send_only(&frames::snd_nke(frames::ADDRESS_SELECTED))?;
    bus.send_only(&frames::snd_nke(frames::ADDRESS_BROADCAST))?;
    let mut search = Search { found: Vec::new(), done: 0.0, progress };
    search.probe_deeper(bus, SecondaryMask::ALL, 0, 1.0)?;
    (search.progress)(ScanProgress { done: 1000, total: 1000, found: search.found.len() as u64 }, None);
    Ok(search.found)
}

struct Search<'b> {
    found: Vec<Found>,
    /// Share of the whole search done, 0..=1.
    done: f64,
    progress: Progress<'b>,
}

impl Search<'_> {
    fn report(&mut self, find: Option<&Found>) {
        let done = (self.done * 1000.0).round().clamp(0.0, 1000.0) as u64;
        (self.progress)(ScanProgress { done, total: 1000, found: self.found.len() as u64 }, find);
    }

    /// Several slaves answer `mask`: try each value of place `pos` (and deeper on a new
    /// collision). `share` is this subtree's part of the whole search.
    fn probe_deeper(&mut self, bus: &mut Bus<'_>, mask: SecondaryMask, pos: usize, share: f64) -> Result<()> {
        if pos >= SecondaryMask::LEN {
            // Two slaves with the very same secondary address: nothing tells them apart.
            let f = Found { problem: Some(Problem::Collision), mask: Some(mask.text()), ..Found::at(None) };
            self.found.push(f.clone());
            self.done += share;
            self.report(Some(&f));
            return Ok(());
        }
        let values = SecondaryMask::search_values(pos);
        let count = f64::from(u32::from(*values.end()) + 1);
        let before = self.found.len();
        for v in values {
            let m = mask.with_nibble(pos, v);
            self.probe(bus, m, pos, share / count)?;
        }
        // A hexadecimal place whose value is F matches only the wildcard: when the values
        // tried explain fewer than the two slaves that collided, look deeper with F kept.
        if frames::SecondaryMask::kind(pos) == frames::NibbleKind::Hexadecimal && self.found.len() - before < 2 {
            self.probe_deeper(bus, mask, pos + 1, 0.0)?;
        }
        Ok(())
    }

    fn probe(&mut self, bus: &mut Bus<'_>, mask: SecondaryMask, pos: usize, share: f64) -> Result<()> {
        let heard = bus.exchange_retried(&frames::select(&mask))?;
        match ack_problem(&heard) {
            Some(Problem::NoAnswer) => {
                self.done += share;
                self.report(None);
            }
            None => {
                let f = identify(bus, frames::ADDRESS_SELECTED, Found { primary: None, ..Found::at(None) })?;
                let f = Found { mask: Some(mask.text()), ..f };
                if !self.found.iter().any(|g| g.secondary.is_some() && g.secondary == f.secondary) {
                    self.found.push(f.clone());
                }
                self.done += share;
                self.report(Some(&f));
            }
            Some(_) => self.probe_deeper(bus, mask, pos + 1, share)?,
        }
        Ok(())
    }
}
