//! Reassembly of fragmented messages (EN 13757-7:2018 6.3, authentication and fragmentation
//! layer, CI 90): a message longer than one datagram is sent as fragments, each with its own
//! link layer and AFL; the AFL's fragment control field (FCL) says whether more fragments
//! follow (bit 14) and numbers them (bits 7-0, the fragment ID: 1 for the first fragment,
//! incremented for each next one, never rolling over; 0 for an unfragmented message). The
//! message control, key information, message counter, MAC and message length fields are sent
//! in the first fragment only; the message length (AFL.ML) counts the bytes of the whole
//! message after the AFL (the transport layer from its CI on), and the MAC covers the whole
//! message. Each fragment's bytes after its AFL are the next part of that message.
//!
//! [`Reassembler`] is pure state the caller keeps (like [`crate::FormatCache`]): fragments in,
//! a whole [`Message`] out when its last missing fragment arrives, in any order; duplicates
//! are recognised; memory is bounded (messages held, bytes per message; the oldest message is
//! dropped to make room). A message is keyed by the link layer's address: a meter sends one
//! fragmented message at a time, so a first fragment that differs from the one held starts a
//! new message (the old one lost a fragment and can never complete).

use std::borrow::Cow;

use crate::afl::{self, CI_AFL};
use crate::compact::FormatCache;
use crate::decode;
use crate::ell;
use crate::error::DecodeError;
use crate::key::AesKey;
use crate::link::{self, LinkAddress, LinkFrame};
use crate::telegram::Telegram;
use crate::trace::Trace;

/// FCL bit 14: more fragments follow.
const FCL_MORE: u16 = 1 << 14;

/// Default number of messages held at once.
pub const DEFAULT_MAX_MESSAGES: usize = 64;
/// Default largest message (bytes after the AFL, all fragments together): AFL.ML is 16 bits,
/// but meters' messages are far shorter.
pub const DEFAULT_MAX_MESSAGE_BYTES: usize = 4096;

/// A whole message rebuilt from its fragments: the first fragment's link layer (and extended
/// link layer), its AFL marked unfragmented, and the fragments' bytes in order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    link: LinkFrame<'static>,
    fragments: u8,
}

impl Message {
    /// Decode the whole message like [`crate::decode_with_formats`] (the AFL MAC, when sent,
    /// is checked over the whole message in security mode 7).
    pub fn decode(&self, key: Option<&AesKey>, formats: Option<&FormatCache>) -> Result<Telegram, DecodeError> {
        decode::decode_link_frame(self.link.clone(), key, formats, &mut Trace::off())
    }

    /// Decode the whole message like [`crate::explain`]: every layer as read.
    pub fn explain(&self, key: Option<&AesKey>, formats: Option<&FormatCache>) -> crate::Explanation {
        let mut trace = Trace::on();
        trace.note("afl", Some(CI_AFL), || {
            format!("message rebuilt from {} fragments ({} bytes)", self.fragments, self.link.apdu.len())
        });
        let result = decode::decode_link_frame(self.link.clone(), key, formats, &mut trace);
        let (telegram, error) = match result {
            Ok(t) => (Some(t), None),
            Err(e) => {
                trace.note("stopped", None, || e.to_string());
                (None, Some(crate::ExplainedError { code: e.code(), message: e.to_string() }))
            }
        };
        crate::Explanation {
            length: self.link.apdu.len(),
            key_given: key.is_some(),
            steps: trace.into_steps(),
            telegram,
            error,
        }
    }

    /// How many fragments it was sent in.
    pub fn fragments(&self) -> u8 {
        self.fragments
    }

    /// The rebuilt application data: from the first CI field after the link layer to the end.
    pub fn apdu(&self) -> &[u8] {
        &self.link.apdu
    }
}

/// What one pushed frame did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Pushed {
    /// Not a fragment (no AFL, or an AFL of an unfragmented message): decode it as it is.
    Whole,
    /// A fragment was stored; the message still misses fragments.
    Pending { fragment: u8, held: usize },
    /// This fragment was already held (a repeated transmission): nothing changed.
    Duplicate { fragment: u8 },
    /// The last missing fragment: the whole message (no longer held).
    Complete(Message),
}

#[derive(Debug, Clone)]
struct Pending {
    address: LinkAddress,
    /// Arrival order of the message's first stored fragment (the oldest is dropped first).
    seq: u64,
    /// Fragments by ID: (bytes after the AFL, the frame's link layer, the bytes before the AFL).
    parts: std::collections::BTreeMap<u8, Part>,
    /// The fragment ID of the last fragment, once it arrived.
    last: Option<u8>,
    bytes: usize,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct Part {
    c: u8,
    framing: link::Framing,
    /// The bytes before the AFL's CI (an extended link layer), as sent.
    prefix: Vec<u8>,
    /// The AFL header after its CI (AFL.L, FCL and the fields the FCL announces).
    afl: Vec<u8>,
    /// The bytes after the AFL.
    data: Vec<u8>,
}

/// Collects fragments until messages are whole. Bounded: at most `max_messages` messages held
/// (the oldest is dropped for a new one) and `max_bytes` per message (a longer one is dropped
/// with an error).
#[derive(Debug, Clone)]
pub struct Reassembler {
    max_messages: usize,
    max_bytes: usize,
    pending: Vec<Pending>,
    next_seq: u64,
}

impl Default for Reassembler {
    fn default() -> Self {
        Reassembler::new()
    }
}

fn bad(reason: &'static str) -> DecodeError {
    DecodeError::BadFrame { reason }
}

impl Reassembler {
    /// A reassembler with the default limits ([`DEFAULT_MAX_MESSAGES`], [`DEFAULT_MAX_MESSAGE_BYTES`]).
    pub fn new() -> Self {
        Reassembler::with_limits(DEFAULT_MAX_MESSAGES, DEFAULT_MAX_MESSAGE_BYTES)
    }

    /// A reassembler holding at most `max_messages` incomplete messages (at least 1) of at
    /// most `max_bytes` bytes each.
    pub fn with_limits(max_messages: usize, max_bytes: usize) -> Self {
        Reassembler { max_messages: max_messages.max(1), max_bytes, pending: Vec::new(), next_seq: 0 }
    }

    /// Number of incomplete messages held.
    pub fn held(&self) -> usize {
        self.pending.len()
    }

    /// Forget every incomplete message.
    pub fn clear(&mut self) {
        self.pending.clear();
    }

    /// Take one received frame (wired or wireless, as [`crate::decode`] takes it). A frame
    /// that is not a fragment gives [`Pushed::Whole`]. Errors: the frame does not parse, a
    /// fragment under an extended link layer with a session number (its encryption and CRC
    /// cover one fragment, not the message), a message over the byte limit, or a completed
    /// message whose length differs from its AFL.ML (the message is dropped in both cases).
    pub fn push(&mut self, frame: &[u8]) -> Result<Pushed, DecodeError> {
        let link = link::parse(frame)?;
        let apdu: &[u8] = &link.apdu;
        let (mut ci, mut rest) = match apdu.split_first() {
            Some((c, r)) => (*c, r),
            None => return Ok(Pushed::Whole),
        };
        let mut prefix_len = 0;
        if ell::is_ell(ci) {
            let (e, after) = ell::parse(ci, rest)?;
            if e.sn.is_some() {
                return match after.get(2..).and_then(|p| p.first()) {
                    // The ELL's own encryption would hide a fragment's AFL; only a plain ELL
                    // without a session number can carry fragments here.
                    _ if e.encryption() != 0 => Ok(Pushed::Whole),
                    Some(&CI_AFL) => Err(bad("fragment under an extended link layer with a session number: not reassembled")),
                    _ => Ok(Pushed::Whole),
                };
            }
            prefix_len = apdu.len() - after.len();
            (ci, rest) = match after.split_first() {
                Some((c, r)) => (*c, r),
                None => return Ok(Pushed::Whole),
            };
        }
        if ci != CI_AFL {
            return Ok(Pushed::Whole);
        }
        let (a, data) = afl::parse(rest)?;
        if !a.fragmented() {
            return Ok(Pushed::Whole);
        }
        let fid = a.fragment_id();
        if fid == 0 {
            return Err(bad("AFL announces more fragments with fragment ID 0"));
        }
        let more = a.fcl & FCL_MORE != 0;
        let afl_len = rest.len() - data.len();
        let part = Part {
            c: link.c,
            framing: link.framing,
            prefix: apdu.get(..prefix_len).unwrap_or(&[]).to_vec(),
            afl: rest.get(..afl_len).unwrap_or(&[]).to_vec(),
            data: data.to_vec(),
        };
        if fid == 1 && a.ml.is_some_and(|ml| usize::from(ml) > self.max_bytes) {
            self.pending.retain(|p| p.address != link.address);
            return Err(bad("fragmented message longer than the reassembler's limit"));
        }
        let address = link.address;
        let idx = match self.pending.iter().position(|p| p.address == address) {
            Some(i) => i,
            None => self.start(address),
        };
        let Some(p) = self.pending.get_mut(idx) else {
            return Err(bad("reassembler state lost"));
        };
        if let Some(held) = p.parts.get(&fid) {
            if *held == part {
                return Ok(Pushed::Duplicate { fragment: fid });
            }
        }
        // A fragment that cannot belong to the message held (another fragment with its ID,
        // past its last fragment, or a last fragment before one held) starts a new message.
        let conflicts = p.parts.contains_key(&fid)
            || p.last.is_some_and(|l| fid > l)
            || (!more && p.parts.keys().next_back().is_some_and(|&k| k > fid));
        if conflicts {
            p.parts.clear();
            p.last = None;
            p.bytes = 0;
        }
        p.bytes = p.bytes.saturating_add(part.data.len());
        if p.bytes > self.max_bytes {
            self.pending.retain(|q| q.address != address);
            return Err(bad("fragmented message longer than the reassembler's limit"));
        }
        if !more {
            p.last = Some(fid);
        }
        p.parts.insert(fid, part);
        let complete = p.last.is_some_and(|l| (1..=l).all(|k| p.parts.contains_key(&k)));
        if !complete {
            let held = p.parts.len();
            return Ok(Pushed::Pending { fragment: fid, held });
        }
        let done = self.pending.swap_remove(idx);
        build(done).map(Pushed::Complete)
    }

    /// Start holding a message for `address`, dropping the oldest when full; its index.
    fn start(&mut self, address: LinkAddress) -> usize {
        if self.pending.len() >= self.max_messages {
            if let Some(oldest) = self.pending.iter().enumerate().min_by_key(|(_, p)| p.seq).map(|(i, _)| i) {
                self.pending.swap_remove(oldest);
            }
        }
        self.pending.push(Pending {
            address,
            seq: self.next_seq,
            parts: std::collections::BTreeMap::new(),
            last: None,
            bytes: 0,
        });
        self.next_seq = self.next_seq.wrapping_add(1);
        self.pending.len() - 1
    }
}

/// The whole message from complete parts: the first fragment's link layer, prefix and AFL
/// (fragment ID 0, no more fragments), then every fragment's data in order.
fn build(p: Pending) -> Result<Message, DecodeError> {
    let first = p.parts.get(&1).ok_or(bad("fragment 1 missing"))?;
    let (a, _) = afl::parse(&first.afl)?;
    let data_len: usize = p.parts.values().map(|q| q.data.len()).sum();
    if let Some(ml) = a.ml {
        if usize::from(ml) != data_len {
            return Err(bad("reassembled message length differs from the first fragment's AFL.ML"));
        }
    }
    let fcl = a.fcl & !(FCL_MORE | 0x00FF);
    let mut apdu = Vec::with_capacity(first.prefix.len() + first.afl.len() + 1 + data_len);
    apdu.extend_from_slice(&first.prefix);
    apdu.push(CI_AFL);
    apdu.extend_from_slice(&first.afl);
    // AFL.L stays; the FCL (bytes 1-2 after the CI) loses its fragment bits.
    if let Some(f) = apdu.get_mut(first.prefix.len() + 2..first.prefix.len() + 4) {
        f.copy_from_slice(&fcl.to_le_bytes());
    }
    for q in p.parts.values() {
        apdu.extend_from_slice(&q.data);
    }
    let fragments = u8::try_from(p.parts.len()).unwrap_or(u8::MAX);
    Ok(Message {
        link: LinkFrame { c: first.c, address: p.address, apdu: Cow::Owned(apdu), framing: first.framing },
        fragments,
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::encode::{self, FrameSpec};
    use crate::record::{Quantity, Value};
    use crate::security::{derive_key, KDF_MAC};
    use crate::telegram::{SecurityMode, SecurityStatus};
    use crate::tplsec::compute_mac;
    use crate::{decode as decode_frame, DeviceType};

    const MCL: u16 = 1 << 13;
    const MLP: u16 = 1 << 12;
    const MCRP: u16 = 1 << 11;
    const MACP: u16 = 1 << 10;

    fn spec(id: &'static str) -> FrameSpec<'static> {
        FrameSpec { manufacturer: "ELS", id, version: 1, device_type: DeviceType::Gas, access_number: 3, status: 0 }
    }

    /// Volume 12.345 m3 and enough text records to need several fragments.
    fn payload() -> Vec<u8> {
        let mut p = encode::record(&[0x04], &[0x13], &12_345u32.to_le_bytes());
        for i in 0..6u8 {
            p.extend(encode::record(&[0x0D], &[0x7C, 0x01, b'a' + i], &[8, 1, 2, 3, 4, 5, 6, 7, i]));
        }
        p
    }

    /// Fragment frames: link header of `whole`, then an AFL per fragment: the first with the
    /// FCL flags `first_flags` and the fields `first_fields`, the others with the FCL only.
    fn fragments(link: &[u8], first_flags: u16, first_fields: &[u8], message: &[u8], sizes: &[usize]) -> Vec<Vec<u8>> {
        let mut out = Vec::new();
        let mut at = 0;
        for (i, &n) in sizes.iter().enumerate() {
            let fid = (i + 1) as u16;
            let last = i + 1 == sizes.len();
            let end = if last { message.len() } else { (at + n).min(message.len()) };
            let mut fcl = fid | if last { 0 } else { FCL_MORE };
            let mut afl: Vec<u8> = Vec::new();
            if i == 0 {
                fcl |= first_flags;
                afl.extend(first_fields);
            }
            let mut f = link.to_vec();
            f.push(CI_AFL);
            f.push((afl.len() + 2) as u8);
            f.extend(fcl.to_le_bytes());
            f.extend(afl);
            f.extend(&message[at..end]);
            f[0] = (f.len() - 1) as u8;
            out.push(f);
            at = end;
        }
        out
    }

    fn volume(t: &Telegram) -> Option<Value> {
        t.records.iter().find(|r| r.quantity == Quantity::Volume).map(|r| r.value.clone())
    }

    /// A plaintext message split in 3 with AFL.ML in the first fragment.
    fn plain_fragments(id: &'static str) -> (Vec<u8>, Vec<Vec<u8>>) {
        let whole = encode::wmbus_frame(&spec(id), &payload(), None);
        let tpl = whole[10..].to_vec();
        let ml = (tpl.len() as u16).to_le_bytes();
        let frags = fragments(&whole[..10], MLP, &ml, &tpl, &[30, 30, 0]);
        (whole, frags)
    }

    fn complete(r: &mut Reassembler, frames: &[Vec<u8>]) -> Option<Message> {
        let mut out = None;
        for f in frames {
            if let Ok(Pushed::Complete(m)) = r.push(f) {
                out = Some(m);
            }
        }
        out
    }

    #[test]
    fn plaintext_in_order_out_of_order_and_duplicates() {
        let (whole, frags) = plain_fragments("00000001");
        assert_eq!(frags.len(), 3);
        // Alone, a fragment does not decode.
        assert_eq!(decode_frame(&frags[1], None).map(|_| ()), Err(DecodeError::Fragmented { fragment: 2 }));
        let expected = decode_frame(&whole, None).expect("whole decodes");
        for order in [[0, 1, 2], [2, 0, 1], [1, 2, 0], [2, 1, 0]] {
            let mut r = Reassembler::new();
            let mut got = None;
            for (k, &i) in order.iter().enumerate() {
                match r.push(&frags[i]).expect("pushes") {
                    Pushed::Pending { fragment, held } => {
                        assert_eq!((usize::from(fragment), held), (i + 1, k + 1));
                        // The same fragment again changes nothing.
                        assert_eq!(r.push(&frags[i]), Ok(Pushed::Duplicate { fragment }));
                    }
                    Pushed::Complete(m) => got = Some(m),
                    other => panic!("{other:?}"),
                }
            }
            let m = got.expect("complete");
            assert_eq!((m.fragments(), r.held()), (3, 0));
            let t = m.decode(None, None).expect("decodes");
            assert_eq!(t.records, expected.records);
            let e = m.explain(None, None);
            assert_eq!(e.telegram.as_ref(), Some(&t));
            assert!(e.steps.first().is_some_and(|s| s.detail.contains("3 fragments")), "{:?}", e.steps);
            assert_eq!(volume(&t), Some(Value::Number(12.345)));
        }
        // Not fragments.
        let mut r = Reassembler::new();
        assert_eq!(r.push(&whole), Ok(Pushed::Whole));
        let single = fragments(&whole[..10], 0, &[], &whole[10..], &[0]);
        assert_eq!(r.push(&single[0]), Ok(Pushed::Whole));
    }

    #[test]
    fn mode7_message_with_and_without_ml() {
        let key = AesKey::from_bytes([9; 16]);
        let s = spec("12345678");
        let whole = encode::wmbus_frame_mode7(&s, &payload(), &key, 77);
        // 10 link bytes, 90 0F 00 2C, MCL, MCR (4), MAC (8), then the transport layer.
        let mcl = whole[14];
        let mcr: [u8; 4] = whole[15..19].try_into().expect("mcr");
        let mac = &whole[19..27];
        let tpl = whole[27..].to_vec();
        let mut fields = vec![mcl];
        fields.extend(mcr);
        fields.extend(mac);
        let frags = fragments(&whole[..10], MCL | MCRP | MACP, &fields, &tpl, &[40, 40, 40, 0]);
        let m = complete(&mut Reassembler::new(), &frags).expect("complete");
        let t = m.decode(Some(&key), None).expect("decodes");
        assert_eq!((t.security.mode, t.security.status), (SecurityMode::Mode7, SecurityStatus::Ok));
        assert_eq!(volume(&t), Some(Value::Number(12.345)));
        let wrong = m.decode(Some(&AesKey::from_bytes([8; 16])), None).expect("decodes");
        assert_eq!(wrong.security.status, SecurityStatus::WrongKey);
        // With AFL.ML: the MAC covers it too.
        let ml = (tpl.len() as u16).to_le_bytes();
        let kmac = derive_key(&key, KDF_MAC, mcr, [0x78, 0x56, 0x34, 0x12]);
        let mut prefix = vec![mcl];
        prefix.extend(mcr);
        prefix.extend(ml);
        let mac = compute_mac(&kmac, &prefix, &tpl, 8);
        let mut fields = vec![mcl];
        fields.extend(mcr);
        fields.extend(&mac);
        fields.extend(ml);
        let frags = fragments(&whole[..10], MCL | MCRP | MACP | MLP, &fields, &tpl, &[50, 0]);
        let m = complete(&mut Reassembler::new(), &[frags[1].clone(), frags[0].clone()]).expect("complete");
        let t = m.decode(Some(&key), None).expect("decodes");
        assert_eq!((t.security.status, volume(&t)), (SecurityStatus::Ok, Some(Value::Number(12.345))));
        // A fragment whose bytes were altered fails the MAC of the whole message.
        let mut bad_frags = frags.clone();
        if let Some(b) = bad_frags[1].last_mut() {
            *b ^= 1;
        }
        let m = complete(&mut Reassembler::new(), &bad_frags).expect("complete");
        assert_eq!(m.decode(Some(&key), None).map(|t| t.security.status), Ok(SecurityStatus::WrongKey));
    }

    #[test]
    fn meters_interleave_and_new_messages_replace_old() {
        let (_, a) = plain_fragments("00000001");
        let (_, b) = plain_fragments("00000002");
        let mut r = Reassembler::new();
        assert!(matches!(r.push(&a[0]), Ok(Pushed::Pending { .. })));
        assert!(matches!(r.push(&b[2]), Ok(Pushed::Pending { .. })));
        assert!(matches!(r.push(&b[0]), Ok(Pushed::Pending { .. })));
        assert!(matches!(r.push(&a[1]), Ok(Pushed::Pending { .. })));
        assert_eq!(r.held(), 2);
        assert!(matches!(r.push(&b[1]), Ok(Pushed::Complete(_))));
        assert!(matches!(r.push(&a[2]), Ok(Pushed::Complete(_))));
        assert_eq!(r.held(), 0);
        // Fragment 1 and 2 of one message, then another message's fragment 1: the old
        // fragment 2 is dropped with the old message, so the new one waits for its own.
        let mut other = a.clone();
        let n = other[0].len();
        other[0][n - 1] ^= 0xFF;
        assert!(matches!(r.push(&a[0]), Ok(Pushed::Pending { .. })));
        assert!(matches!(r.push(&a[1]), Ok(Pushed::Pending { held: 2, .. })));
        assert!(matches!(r.push(&other[0]), Ok(Pushed::Pending { held: 1, .. })));
        assert!(matches!(r.push(&a[2]), Ok(Pushed::Pending { held: 2, .. })));
        assert!(matches!(r.push(&a[1]), Ok(Pushed::Complete(_))));
        r.clear();
        assert_eq!(r.held(), 0);
    }

    #[test]
    fn limits_and_length_checks() {
        let (_, a) = plain_fragments("00000001");
        let (_, b) = plain_fragments("00000002");
        let (_, c) = plain_fragments("00000003");
        // Two messages at most: the third evicts the oldest (a), whose next fragments then
        // start over.
        let mut r = Reassembler::with_limits(2, 1000);
        for f in [&a[0], &b[0], &c[0]] {
            assert!(matches!(r.push(f), Ok(Pushed::Pending { .. })));
        }
        assert_eq!(r.held(), 2);
        assert!(matches!(r.push(&a[1]), Ok(Pushed::Pending { held: 1, .. })));
        assert!(matches!(r.push(&c[1]), Ok(Pushed::Pending { .. })));
        assert!(matches!(r.push(&c[2]), Ok(Pushed::Complete(_))));
        // A message longer than the byte limit is refused and dropped (by ML in the first
        // fragment, or by its bytes).
        let mut small = Reassembler::with_limits(4, 40);
        assert!(matches!(small.push(&a[0]), Err(DecodeError::BadFrame { .. })));
        let no_ml: Vec<Vec<u8>> = {
            let whole = encode::wmbus_frame(&spec("00000009"), &payload(), None);
            fragments(&whole[..10], 0, &[], &whole[10..], &[30, 30, 0])
        };
        assert!(matches!(small.push(&no_ml[0]), Ok(Pushed::Pending { .. })));
        assert!(matches!(small.push(&no_ml[1]), Err(DecodeError::BadFrame { .. })));
        assert_eq!(small.held(), 0);
        // AFL.ML that does not match the fragments' bytes.
        let whole = encode::wmbus_frame(&spec("00000004"), &payload(), None);
        let tpl = &whole[10..];
        let ml = (tpl.len() as u16 + 1).to_le_bytes();
        let frags = fragments(&whole[..10], MLP, &ml, tpl, &[30, 0]);
        let mut r = Reassembler::new();
        assert!(matches!(r.push(&frags[0]), Ok(Pushed::Pending { .. })));
        assert!(matches!(r.push(&frags[1]), Err(DecodeError::BadFrame { .. })));
        assert_eq!(r.held(), 0);
        // Fragment ID 0 with "more fragments" is malformed; garbage does not parse.
        let mut zero = frags[0].clone();
        zero[12] = 0;
        assert!(matches!(r.push(&zero), Err(DecodeError::BadFrame { .. })));
        assert!(r.push(&[1, 2, 3]).is_err());
    }
}
