//! Telegrams a Lobaro bridge sends in several uplinks, put back together in fCnt order
//! whatever order the uplinks arrive in. The parts of a device wait in `lorawan_fragments`;
//! a telegram whose parts are all there is handed on (and its parts kept until the device
//! moves on, so a retried part gives the same telegram, stored once); a telegram missing a
//! part is dropped, naming the fCnts missing, once the device has moved past it (a later
//! uplink) or after [`FRAGMENT_TIMEOUT`]. Pure: parts in, decisions out.

use super::payload::{self, Lobaro, PartKind};

/// A telegram still missing a part this long after its last part arrived is dropped.
pub const FRAGMENT_TIMEOUT: i64 = 24 * 3600;

/// A part as kept.
#[derive(Debug, Clone, PartialEq)]
pub struct Part {
    pub f_cnt: u32,
    pub f_port: u8,
    pub received_at: i64,
    pub data: Vec<u8>,
}

/// What the parts kept and an uplink's fCnt give.
#[derive(Debug, Default, PartialEq)]
pub struct Outcome {
    /// The telegram the uplink completes (or completed before: a retried part): its format
    /// and payload (parts' bytes in fCnt order).
    pub whole: Option<(u8, Vec<u8>)>,
    /// Telegrams given up.
    pub dropped: Vec<Dropped>,
    /// fCnts of the parts to forget (dropped telegrams, and whole ones the device moved past).
    pub forget: Vec<u32>,
}

/// A telegram given up: its first part kept, the parts' bytes, the fCnts missing.
#[derive(Debug, Clone, PartialEq)]
pub struct Dropped {
    pub first: Part,
    pub payload: Vec<u8>,
    pub missing: Vec<u32>,
    /// Given up for want of time, not because the device moved on.
    pub timed_out: bool,
}

impl Dropped {
    /// Why, in words: `missing fCnt 11` / `missing fCnt 11, 12`.
    pub fn reason(&self) -> String {
        let list: Vec<String> = self.missing.iter().take(20).map(u32::to_string).collect();
        let mut reason = format!("missing fCnt {}", list.join(", "));
        if self.timed_out {
            reason.push_str(&format!(" (no part for {} h)", FRAGMENT_TIMEOUT / 3600));
        }
        reason
    }
}

struct Group<'a> {
    format: u8,
    parts: Vec<(&'a Part, PartKind)>,
    /// Format 0: the fCnt of part 1 and the number of parts.
    span: Option<(i64, u8)>,
}

impl Group<'_> {
    fn min(&self) -> i64 {
        self.parts.first().map_or(0, |(p, _)| i64::from(p.f_cnt))
    }

    fn max(&self) -> i64 {
        self.parts.last().map_or(0, |(p, _)| i64::from(p.f_cnt))
    }

    /// The last fCnt this telegram may take.
    fn end(&self) -> i64 {
        match self.span {
            Some((first, parts)) => first + i64::from(parts) - 1,
            None => self.max(),
        }
    }

    fn missing(&self) -> Vec<u32> {
        let have: Vec<i64> = self.parts.iter().map(|(p, _)| i64::from(p.f_cnt)).collect();
        let (from, to) = match self.span {
            Some((first, parts)) => (first, first + i64::from(parts) - 1),
            None => {
                let opens = self.parts.first().is_some_and(|(_, k)| k.first);
                let closes = self.parts.last().is_some_and(|(_, k)| k.last);
                (if opens { self.min() } else { self.min() - 1 }, if closes { self.max() } else { self.max() + 1 })
            }
        };
        (from.max(0)..=to).filter(|f| !have.contains(f)).filter_map(|f| u32::try_from(f).ok()).collect()
    }

    fn whole(&self) -> bool {
        self.missing().is_empty()
            && self.parts.first().is_some_and(|(_, k)| k.first)
            && self.parts.last().is_some_and(|(_, k)| k.last)
    }

    fn payload(&self) -> Vec<u8> {
        self.parts.iter().flat_map(|(p, k)| payload::part_bytes(*k, &p.data).iter().copied()).collect()
    }

    fn newest(&self) -> i64 {
        self.parts.iter().map(|(p, _)| p.received_at).max().unwrap_or(0)
    }
}

/// Put the kept `parts` of a device (the uplink's own among them when it is a part) into
/// telegrams, after an uplink of fCnt `f_cnt` received at `at`.
pub fn reassemble(parts: &[Part], f_cnt: u32, at: i64) -> Outcome {
    let mut sorted: Vec<(&Part, PartKind)> = parts
        .iter()
        .filter_map(|p| match payload::lobaro(p.f_port, &p.data) {
            Lobaro::Part(k) => Some((p, k)),
            _ => None,
        })
        .collect();
    sorted.sort_by_key(|(p, _)| p.f_cnt);
    sorted.dedup_by_key(|(p, _)| p.f_cnt);
    let groups = group(&sorted);
    let mut out = Outcome::default();
    // The fCnts known: every part kept and the uplink's.
    let mut known: Vec<i64> = sorted.iter().map(|(p, _)| i64::from(p.f_cnt)).collect();
    known.push(i64::from(f_cnt));
    for g in &groups {
        let passed = known.iter().any(|f| *f > g.end() && !g.parts.iter().any(|(p, _)| i64::from(p.f_cnt) == *f));
        let timed_out = at - g.newest() > FRAGMENT_TIMEOUT;
        let mine = g.parts.iter().any(|(p, _)| p.f_cnt == f_cnt);
        if g.whole() {
            if passed || timed_out {
                out.forget.extend(g.parts.iter().map(|(p, _)| p.f_cnt));
            } else if mine {
                out.whole = Some((g.format, g.payload()));
            }
        } else if passed || timed_out {
            out.forget.extend(g.parts.iter().map(|(p, _)| p.f_cnt));
            if let Some((first, _)) = g.parts.first() {
                out.dropped.push(Dropped {
                    first: (*first).clone(),
                    payload: g.parts.iter().flat_map(|(p, _)| p.data.clone()).collect(),
                    missing: g.missing(),
                    timed_out: !passed,
                });
            }
        }
    }
    out
}

/// Parts in fCnt order into telegrams: format 0 by the fCnt of part 1 their port implies;
/// formats 1 and 2 from a first part to a last part.
fn group<'a>(sorted: &[(&'a Part, PartKind)]) -> Vec<Group<'a>> {
    let mut groups: Vec<Group<'a>> = Vec::new();
    for &(p, k) in sorted {
        if let Some((part, parts)) = k.index {
            let first = i64::from(p.f_cnt) - i64::from(part) + 1;
            match groups.iter_mut().find(|g| g.format == 0 && g.span == Some((first, parts))) {
                Some(g) => g.parts.push((p, k)),
                None => groups.push(Group { format: 0, parts: vec![(p, k)], span: Some((first, parts)) }),
            }
            continue;
        }
        let joins = groups.last().is_some_and(|g| {
            g.format == k.format && g.span.is_none() && !k.first && !g.parts.last().is_some_and(|(_, lk)| lk.last)
        });
        match groups.last_mut() {
            Some(g) if joins => g.parts.push((p, k)),
            _ => groups.push(Group { format: k.format, parts: vec![(p, k)], span: None }),
        }
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    fn part(f_cnt: u32, f_port: u8, data: &[u8]) -> Part {
        Part { f_cnt, f_port, received_at: 1_000 + i64::from(f_cnt), data: data.to_vec() }
    }

    #[test]
    fn format_0_in_two_and_three_parts_in_any_order() {
        let parts = [part(10, 12, b"ab"), part(11, 22, b"cd")];
        assert_eq!(reassemble(&parts[..1], 10, 1_010), Outcome::default(), "waiting for part 2");
        let whole = reassemble(&parts, 11, 1_011);
        assert_eq!(whole.whole, Some((0, b"abcd".to_vec())));
        assert!(whole.dropped.is_empty() && whole.forget.is_empty(), "kept for a retry");
        // Out of order: 3 of 3, then 1, then 2.
        let parts = [part(22, 33, b"ef"), part(20, 13, b"ab"), part(21, 23, b"cd")];
        assert_eq!(reassemble(&parts[..1], 22, 1_022), Outcome::default());
        assert_eq!(reassemble(&parts[..2], 20, 1_022), Outcome::default());
        assert_eq!(reassemble(&parts, 21, 1_023).whole, Some((0, b"abcdef".to_vec())));
        // A retried part gives the same telegram again.
        assert_eq!(reassemble(&parts, 22, 1_024).whole, Some((0, b"abcdef".to_vec())));
        // The device moves on (a single telegram at 23): the parts are forgotten.
        let later = reassemble(&parts, 23, 1_030);
        assert_eq!((later.whole, later.dropped.len()), (None, 0));
        assert_eq!(later.forget.len(), 3);
    }

    #[test]
    fn a_gap_drops_the_telegram_once_the_device_moves_on() {
        let parts = [part(20, 13, b"ab"), part(22, 33, b"ef")];
        assert_eq!(reassemble(&parts, 22, 1_022), Outcome::default(), "fCnt 21 may still arrive");
        let next = [part(20, 13, b"ab"), part(22, 33, b"ef"), part(23, 12, b"gh")];
        let o = reassemble(&next, 23, 1_023);
        assert_eq!(o.dropped.len(), 1);
        assert_eq!(o.dropped[0].missing, vec![21]);
        assert_eq!(o.dropped[0].first.f_cnt, 20);
        assert_eq!(o.dropped[0].reason(), "missing fCnt 21");
        assert_eq!(o.forget, vec![20, 22]);
        // Part 1 of 2 then the next telegram's part 1 of 1: part 2 (fCnt 11) is missing.
        let o = reassemble(&[part(10, 12, b"ab")], 12, 1_012);
        assert_eq!(o.dropped[0].missing, vec![11]);
        // Left waiting for a day: dropped.
        let o = reassemble(&[part(10, 12, b"ab")], 10, 1_010 + FRAGMENT_TIMEOUT + 1);
        assert_eq!(o.dropped[0].reason(), "missing fCnt 11 (no part for 24 h)");
    }

    #[test]
    fn formats_1_and_2_from_a_first_to_a_last_part() {
        let parts = [part(5, 101, &[1, 0xA, 0xB]), part(6, 101, &[0, 0xC]), part(7, 101, &[2, 0xD])];
        assert_eq!(reassemble(&parts[..2], 6, 1_006), Outcome::default());
        assert_eq!(reassemble(&parts, 7, 1_007).whole, Some((1, vec![0xA, 0xB, 0xC, 0xD])));
        // The middle part lost, the next telegram begun: dropped, fCnt 6 missing.
        let lost = [part(5, 102, &[1, 0xA]), part(7, 102, &[2, 0xD]), part(8, 102, &[3, 0xE])];
        let o = reassemble(&lost, 8, 1_008);
        assert_eq!(o.dropped.len(), 1);
        assert_eq!(o.dropped[0].missing, vec![6]);
        // A last part whose first never came.
        let o = reassemble(&[part(9, 101, &[2, 0xA])], 12, 1_012);
        assert_eq!(o.dropped[0].missing, vec![8]);
    }
}
