//! The decoding pipeline: link layer -> extended link layer -> transport layer -> security -> records -> info codes.

use std::borrow::Cow;

use crate::address::Address;
use crate::afl;
use crate::compact::{self, FormatCache};
use crate::crc::crc16_en13757;
use crate::ell::{self, Ell};
use crate::error::DecodeError;
use crate::info;
use crate::key::AesKey;
use crate::link::{self, LinkAddress};
use crate::records::{self, ParsedRecord};
use crate::security;
use crate::telegram::{Security, SecurityMode, SecurityStatus, Telegram};
use crate::tpl;
use crate::tplsec;
use crate::trace::Trace;
use crate::vendor;

use crate::tplsec::RawAddress;

fn split_ci(bytes: &[u8]) -> Result<(u8, &[u8]), DecodeError> {
    match bytes {
        [ci, rest @ ..] => Ok((*ci, rest)),
        [] => Err(DecodeError::TooShort {
            len: 0,
            needed: 1,
            what: "CI field",
        }),
    }
}

#[inline]
fn to_address(raw: RawAddress) -> Result<Address, DecodeError> {
    let (m, [i0, i1, i2, i3, ver, dev]) = raw;
    Address::from_link_bytes(m, [i0, i1, i2, i3], ver, dev)
}

fn link_raw(addr: LinkAddress) -> Option<RawAddress> {
    match addr {
        LinkAddress::Wireless { m, a } => Some((m, a)),
        LinkAddress::Wired { .. } => None,
    }
}

/// Read the meter address without decrypting: the long transport header's address when the
/// telegram has one in plain view, else the extended link layer's, else the link layer's.
pub fn peek_address(frame: &[u8]) -> Result<Address, DecodeError> {
    let link = link::parse(frame)?;
    let mut best = link_raw(link.address);
    let (mut ci, mut rest) = split_ci(&link.apdu)?;
    if matches!(link.address, LinkAddress::Wired { .. }) && ci == crate::master::CI_FIXED {
        return crate::master::fixed_telegram(rest).map(|t| t.address);
    }
    if ell::is_ell(ci) {
        let (e, after) = ell::parse(ci, rest)?;
        if let Some(a) = e.address {
            best = Some(a);
        }
        if e.sn.is_some() {
            // CI 8D/8F: the inner layers may be encrypted; the link address is what we have.
            return best
                .map(to_address)
                .unwrap_or(Err(DecodeError::UnsupportedCi { ci }));
        }
        (ci, rest) = split_ci(after)?;
    }
    if ci == afl::CI_AFL {
        (ci, rest) = split_ci(afl::parse(rest)?.1)?;
    }
    if let Some(raw) = best {
        let address = to_address(raw)?;
        let meter = vendor::Meter { address: &address, raw, link: link_raw(link.address), ci, c_field: link.c, head: rest };
        if let Some(a) = vendor::address_of(&meter) {
            return Ok(a);
        }
    }
    if ci == tpl::CI_LONG {
        let (t, _) = tpl::parse(ci, rest)?;
        best = t.long_address.or(best);
    }
    best.map(to_address)
        .unwrap_or(Err(DecodeError::UnsupportedCi { ci }))
}

/// Result of undoing the extended link layer's own encryption.
enum EllOutcome {
    /// The inner layers, readable.
    Open(Vec<u8>, SecurityMode, SecurityStatus),
    /// Encrypted and not readable (no key / wrong key).
    Closed(SecurityStatus),
}

/// ELL-II (CI 8D/8F) payload: payload CRC (2 bytes) + data, AES-128-CTR encrypted from the CRC on
/// when the session number's encryption field is 1. IV = M(2) A(6) CC SN(4) FN(2)=0 BC=0
/// (EN 13757-4 annex on ELL encryption).
fn open_ell(
    e: &Ell,
    raw: RawAddress,
    after: &[u8],
    key: Option<&AesKey>,
) -> Result<EllOutcome, DecodeError> {
    let crc_ok = |p: &[u8]| match p {
        [lo, hi, data @ ..] => u16::from_le_bytes([*lo, *hi]) == crc16_en13757(data),
        _ => false,
    };
    let strip = |p: &[u8]| p.get(2..).unwrap_or(&[]).to_vec();
    match e.encryption() {
        0 => Ok(EllOutcome::Open(
            strip(after),
            SecurityMode::None,
            SecurityStatus::Ok,
        )),
        1 => {
            if let Some(k) = key {
                let sn = e.sn.unwrap_or([0; 4]);
                let (m, a) = raw;
                let mut iv = [0u8; 16];
                iv[..2].copy_from_slice(&m);
                iv[2..8].copy_from_slice(&a);
                iv[8] = e.cc;
                iv[9..13].copy_from_slice(&sn);
                let mut plain = security::ctr_apply(k, &iv, after);
                if crc_ok(&plain) {
                    // The CRC's two bytes dropped in place (no second copy).
                    plain.drain(..2);
                    return Ok(EllOutcome::Open(
                        plain,
                        SecurityMode::EllCtr,
                        SecurityStatus::Ok,
                    ));
                }
            }
            if crc_ok(after) {
                return Ok(EllOutcome::Open(
                    strip(after),
                    SecurityMode::EllCtr,
                    SecurityStatus::Plaintext,
                ));
            }
            Ok(EllOutcome::Closed(if key.is_some() {
                SecurityStatus::WrongKey
            } else {
                SecurityStatus::NoKey
            }))
        }
        other => Err(DecodeError::UnsupportedSecurity { mode: other }),
    }
}

/// Decode a whole telegram. See the crate documentation for the security outcomes.
/// Compact frames (CI 79) decode when their layout is one of the built-in Kamstrup layouts, else
/// fail with `UnknownFormat`: use [`decode_with_formats`] with layouts learned from full frames.
pub fn decode(frame: &[u8], key: Option<&AesKey>) -> Result<Telegram, DecodeError> {
    decode_parsed(frame, key, None, false, &mut Trace::off()).map(|(t, _)| t)
}

/// Like [`decode`], and compact frames (CI 79) are expanded with a layout from `formats`
/// (learned from earlier full frames with [`FormatCache::learn`]).
pub fn decode_with_formats(
    frame: &[u8],
    key: Option<&AesKey>,
    formats: &FormatCache,
) -> Result<Telegram, DecodeError> {
    decode_parsed(frame, key, Some(formats), false, &mut Trace::off()).map(|(t, _)| t)
}

/// Like [`decode_with_formats`] (with `formats` optional), for a telegram received on the given
/// day (year, month 1-12, day 1-31, UTC as the meter keeps it): the legacy DES security mode 3
/// builds its IV from the date the meter sent the telegram, which the telegram does not carry.
/// [`decode`] answers [`DecodeError::DateNeeded`] for such telegrams (after checking the key).
pub fn decode_received_on(
    frame: &[u8],
    key: Option<&AesKey>,
    formats: Option<&FormatCache>,
    received: (u16, u8, u8),
) -> Result<Telegram, DecodeError> {
    decode_parsed_on(frame, key, formats, false, Some(received), &mut Trace::off()).map(|(t, _)| t)
}

/// The pipeline, also handing back the parsed records with their raw bytes when `learn` is set
/// (their DIB/VIB bytes are kept for [`FormatCache::learn`]; otherwise the list is empty).
pub(crate) fn decode_parsed(
    frame: &[u8],
    key: Option<&AesKey>,
    formats: Option<&FormatCache>,
    learn: bool,
    trace: &mut Trace,
) -> Result<(Telegram, Vec<ParsedRecord>), DecodeError> {
    decode_parsed_on(frame, key, formats, learn, None, trace)
}

/// [`decode_parsed`] with the reception day (for security mode 3).
pub(crate) fn decode_parsed_on(
    frame: &[u8],
    key: Option<&AesKey>,
    formats: Option<&FormatCache>,
    learn: bool,
    received: Option<(u16, u8, u8)>,
    trace: &mut Trace,
) -> Result<(Telegram, Vec<ParsedRecord>), DecodeError> {
    let link = match link::parse(frame) {
        Ok(l) => l,
        Err(e @ DecodeError::LengthMismatch { .. }) => {
            // Receivers sometimes append bytes (RSSI, a stray CRC) after the frame its L field
            // counts: read the L-counted frame alone when that is a valid frame.
            let l = usize::from(frame.first().copied().unwrap_or(0));
            match frame.get(..=l).filter(|_| frame.len() > l + 1) {
                Some(head) => match link::parse(head) {
                    Ok(link) => {
                        trace.note("link", None, || {
                            format!(
                                "{} bytes after the frame its L field counts were ignored",
                                frame.len() - l - 1
                            )
                        });
                        link
                    }
                    Err(_) => return Err(e),
                },
                None => return Err(e),
            }
        }
        Err(e) => return Err(e),
    };
    let format_b = link.framing == link::Framing::WirelessFormatB;
    let mut first_trace = trace.fork();
    let first = decode_link(link, key, formats, learn, received, &mut first_trace);
    // A frame without CRCs whose last two bytes happen to be a valid CRC of the rest (one in
    // 65,536 random payloads) also reads as format B: if that reading fails, try the other.
    let failed = match &first {
        Err(_) => true,
        Ok((t, _)) => t.security.status == SecurityStatus::WrongKey,
    };
    if format_b && failed {
        if let Ok(plain) = link::parse_without_crcs(frame) {
            let mut second_trace = trace.fork();
            if let Ok(second) = decode_link(plain, key, formats, learn, received, &mut second_trace) {
                if second.0.security.status != SecurityStatus::WrongKey {
                    trace.note("link", None, || {
                        "the last two bytes also form a valid format B CRC, but that reading fails: read as a frame without CRCs".into()
                    });
                    trace.append(second_trace);
                    return Ok(second);
                }
            }
        }
    }
    trace.append(first_trace);
    first
}

fn framing_name(f: link::Framing) -> &'static str {
    match f {
        link::Framing::WirelessNoCrc => "wireless frame, data-link CRCs already removed",
        link::Framing::WirelessFormatA => {
            "wireless frame format A, every block CRC checked and removed"
        }
        link::Framing::WirelessFormatB => "wireless frame format B, CRCs checked and removed",
        link::Framing::WiredLong => "wired long frame, checksum and stop byte checked",
    }
}

fn hex_addr(a: &RawAddress) -> String {
    let [i0, i1, i2, i3, v, d] = a.1;
    let code = u16::from_le_bytes(a.0);
    let letters = crate::address::manufacturer_letters(code).unwrap_or_else(|_| "???".into());
    format!(
        "manufacturer {letters} ({code:04X}), id {i3:02X}{i2:02X}{i1:02X}{i0:02X}, version {v:02X}, device type {d:02X}"
    )
}

/// Decode a checked link frame (a message rebuilt from fragments).
pub(crate) fn decode_link_frame(
    link: link::LinkFrame<'_>,
    key: Option<&AesKey>,
    formats: Option<&FormatCache>,
    trace: &mut Trace,
) -> Result<Telegram, DecodeError> {
    decode_link(link, key, formats, false, None, trace).map(|(t, _)| t)
}

fn decode_link(
    link: link::LinkFrame<'_>,
    key: Option<&AesKey>,
    formats: Option<&FormatCache>,
    learn: bool,
    received: Option<(u16, u8, u8)>,
    trace: &mut Trace,
) -> Result<(Telegram, Vec<ParsedRecord>), DecodeError> {
    let mut raw_addr = link_raw(link.address);
    let link_addr = raw_addr;
    trace.note("link", None, || {
        let who = match link.address {
            LinkAddress::Wireless { m, a } => hex_addr(&(m, a)),
            LinkAddress::Wired { primary } => format!("primary address {primary}"),
        };
        format!(
            "{}; C field {:02X}; {who}",
            framing_name(link.framing),
            link.c
        )
    });
    let mut at_ci: &[u8] = &link.apdu;
    let (mut ci, mut rest) = split_ci(at_ci)?;
    if matches!(link.address, LinkAddress::Wired { .. }) && ci == crate::master::CI_FIXED {
        trace.note("tpl", Some(ci), || "fixed-format answer: id, access number, status, medium and units, two counters".into());
        return Ok((crate::master::fixed_telegram(rest)?, Vec::new()));
    }
    let mut ell_access: Option<u8> = None;
    let mut ell_security: Option<(SecurityMode, SecurityStatus)> = None;
    let opened: Vec<u8>;
    if ell::is_ell(ci) {
        let (e, after) = ell::parse(ci, rest)?;
        if let Some(a) = e.address {
            raw_addr = Some(a);
        }
        ell_access = Some(e.access_number);
        trace.note("ell", Some(ci), || {
            format!(
                "extended link layer: CC {:02X}, access number {}, session number {}",
                e.cc,
                e.access_number,
                e.sn.map_or("none".into(), |s| format!(
                    "{:08X} (encryption {})",
                    u32::from_le_bytes(s),
                    e.encryption()
                ))
            )
        });
        let inner = if e.sn.is_some() {
            let addr = raw_addr.ok_or(DecodeError::UnsupportedCi { ci })?;
            match open_ell(&e, addr, after, key)? {
                EllOutcome::Open(bytes, mode, status) => {
                    trace.note("ell-security", Some(ci), || match (mode, status) {
                        (SecurityMode::None, _) => "payload CRC checked; not encrypted".into(),
                        (_, SecurityStatus::Plaintext) => "encryption announced, but the payload CRC checks on the bytes as sent: plaintext".into(),
                        _ => "AES-128-CTR with the meter key (IV from M, A, CC, SN), payload CRC checked after decryption".into(),
                    });
                    if mode != SecurityMode::None {
                        ell_security = Some((mode, status));
                    }
                    opened = bytes;
                    &opened[..]
                }
                EllOutcome::Closed(status) => {
                    trace.note("ell-security", Some(ci), || {
                        if status == SecurityStatus::NoKey {
                            "AES-128-CTR encrypted and no key given: stopped".into()
                        } else {
                            "AES-128-CTR: the payload CRC does not check after decryption: wrong key, stopped".into()
                        }
                    });
                    let t = Telegram {
                        address: to_address(addr)?,
                        access_number: e.access_number,
                        status: 0,
                        security: Security {
                            mode: SecurityMode::EllCtr,
                            status,
                        },
                        records: Vec::new(),
                        info_codes: Vec::new(),
                    };
                    return Ok((t, Vec::new()));
                }
            }
        } else {
            after
        };
        at_ci = inner;
        (ci, rest) = split_ci(at_ci)?;
    }
    let mut afl_header: Option<afl::Afl<'_>> = None;
    if ci == afl::CI_AFL {
        let (a, after) = afl::parse(rest)?;
        trace.note("afl", Some(ci), || {
            format!(
                "authentication and fragmentation layer: FCL {:04X}, MCL {}, message counter {}, MAC {}",
                a.fcl,
                a.mcl.map_or("none".into(), |m| format!("{m:02X}")),
                a.mcr.map_or("none".into(), |m| u32::from_le_bytes(m).to_string()),
                a.mac.map_or("none".into(), |m| format!("{} bytes", m.len()))
            )
        });
        if a.fragmented() {
            return Err(DecodeError::Fragmented {
                fragment: a.fragment_id(),
            });
        }
        afl_header = Some(a);
        at_ci = after;
        (ci, rest) = split_ci(at_ci)?;
    }
    let tpl_bytes = at_ci;
    // The address read here is kept for the telegram when the transport layer does not bring another.
    let mut early_address: Option<(RawAddress, crate::address::Address)> = None;
    if let Some(raw) = raw_addr {
        let address = to_address(raw)?;
        let meter = vendor::Meter { address: &address, raw, link: link_addr, ci, c_field: link.c, head: rest };
        if let Some(family) = vendor::for_application(&meter) {
            let t = vendor_application(family, &meter, rest, key, ell_access, ell_security, trace)?;
            return Ok((t, Vec::new()));
        }
        early_address = Some((raw, address));
    }
    let (t, body) = tpl::parse(ci, rest).inspect_err(|e| {
        trace.note("tpl", Some(ci), || match e {
            DecodeError::UnsupportedCi {
                ci: c @ 0xA0..=0xB7,
            } => format!(
                "manufacturer-specific application layer (CI {c:02X}): no driver reads it for {}: not decoded",
                raw_addr.as_ref().map_or_else(|| "this meter".to_string(), hex_addr)
            ),
            other => format!("stopped: {other}"),
        })
    })?;
    let raw_addr = t
        .long_address
        .or(raw_addr)
        .ok_or(DecodeError::UnsupportedCi { ci })?;
    let address = match early_address {
        Some((raw, a)) if raw == raw_addr => Ok(a),
        _ => to_address(raw_addr),
    };
    let address = match address {
        // A wired meter whose manufacturer field was never set (0000): its frame's checksum
        // and length are exact, so the records stand; the letters read as "@@@" (each 5-bit
        // letter 0), as libmbus shows them. Wireless frames keep refusing it (a garbage filter).
        Err(DecodeError::UnknownManufacturer { code: 0 }) if matches!(link.address, LinkAddress::Wired { .. }) => {
            let (_, [i0, i1, i2, i3, ver, dev]) = raw_addr;
            trace.note("tpl", Some(ci), || "manufacturer field 0000 (not set): shown as @@@".into());
            Address {
                manufacturer: "@@@".into(),
                id: crate::address::id_string([i0, i1, i2, i3]),
                version: ver,
                device_type: crate::device::DeviceType::from_code(dev),
            }
        }
        other => other?,
    };
    let access_number = if t.ci == tpl::CI_NONE || t.ci == tpl::CI_COMPACT {
        ell_access.unwrap_or(0)
    } else {
        t.access_number
    };
    trace.note("tpl", Some(ci), || match t.ci {
        tpl::CI_LONG => format!("long transport header: {}; access number {}, status {:02X}, configuration {:04X} (security mode {})", hex_addr(&raw_addr), t.access_number, t.status, t.config, t.security_mode()),
        tpl::CI_SHORT => format!("short transport header: access number {}, status {:02X}, configuration {:04X} (security mode {})", t.access_number, t.status, t.config, t.security_mode()),
        tpl::CI_COMPACT => "compact frame, no transport header".into(),
        _ => "no transport header".into(),
    });

    let wired = matches!(link.address, LinkAddress::Wired { .. });
    let mode = match t.security_mode() {
        // Older wired meters use these two bytes as a free "signature" field, not as OMS
        // configuration; a DES key given for one says it uses the legacy DES modes 2/3.
        m @ (2 | 3) if wired && key.map(AesKey::kind) == Some(crate::key::KeyKind::Des) => m,
        m if wired && m != 5 && m != 7 => 0,
        m => m,
    };
    let input = tplsec::Input {
        key,
        tpl: &t,
        body,
        tpl_bytes,
        afl: afl_header.as_ref(),
        addr: raw_addr,
        link_addr,
        received,
    };
    let opened_tpl = tplsec::open(&input, mode)?;
    let mut security = if mode == 0 {
        let (mode, status) = ell_security.unwrap_or((SecurityMode::None, SecurityStatus::Ok));
        Security { mode, status }
    } else {
        opened_tpl.security
    };
    if mode != 0 {
        trace.note("tpl-security", Some(ci), || opened_tpl.how.to_string());
    }
    let payload: Option<Cow<'_, [u8]>> = opened_tpl.payload;

    let parsed = match payload.as_deref() {
        Some(p) if t.ci == tpl::CI_COMPACT => {
            let (sig, data) = compact::split(p)?;
            let learned = formats.and_then(|f| f.get(sig).map(<[u8]>::to_vec));
            let from_cache = learned.is_some();
            let format = learned
                .or_else(|| compact::builtin(sig))
                .ok_or(DecodeError::UnknownFormat { signature: sig })
                .inspect_err(|_| {
                    trace.note("compact", Some(ci), || {
                        format!(
                            "format signature {sig:04X} is neither learned nor built in: stopped"
                        )
                    })
                })?;
            trace.note("compact", Some(ci), || {
                format!(
                    "format signature {sig:04X}, layout {} ({})",
                    hex::encode_upper(&format),
                    if from_cache {
                        "learned from a full frame"
                    } else {
                        "built-in Kamstrup layout"
                    }
                )
            });
            {
                let expanded = compact::expand(&format, data)?;
                match records::read(&expanded, learn) {
                    (recs, None) => recs,
                    (_, Some(e)) => return Err(e),
                }
            }
        }
        Some(p) => {
            let (recs, err) = records::read(p, learn);
            match err {
                None => recs,
                // A broken record after complete ones (trailing bytes, a cut frame): keep the
                // complete records, as the meter's values before the damage are intact.
                // Wireless only: radio receivers deliver cut frames and trailing bytes, while a
                // wired frame's length and checksum are exact, so a broken record there is an error.
                Some(e) if !recs.records.is_empty() && !wired => {
                    trace.note("records", None, || {
                        let where_ = match opened_tpl.decrypted_len {
                            Some(n) => format!(" ({n} bytes were decrypted)"),
                            None => String::new(),
                        };
                        format!("reading stopped at a broken record, the {} records before it are kept: {e}{where_}", recs.records.len())
                    });
                    recs
                }
                Some(e) => return Err(e),
            }
        }
        None => records::Read::default(),
    };
    trace.note("records", None, || format!("{} data records", parsed.records.len()));
    let mut info_codes = info::collect_registers(&address.manufacturer, t.status, &parsed.kam);
    let block = match (payload.as_deref(), parsed.block_len) {
        (Some(p), Some(n)) if t.ci != tpl::CI_COMPACT => p.get(p.len().saturating_sub(n)..),
        _ => None,
    };
    // Manufacturer-specific records (VIF 7F/FF) with their data as sent, for a family to read.
    // (index among the records, VIB, data)
    let mfct_records: Vec<(usize, records::Head, &[u8])> = match payload.as_deref() {
        Some(p) if t.ci != tpl::CI_COMPACT && !parsed.mfct.is_empty() => parsed
            .mfct
            .iter()
            .filter_map(|&(i, vib, start, end)| Some((i, vib, p.get(start..end)?)))
            .collect(),
        _ => Vec::new(),
    };
    let records::Read { mut records, learned: parsed, .. } = parsed;
    if let Some(block) = block {
        let meter = vendor::Meter { address: &address, raw: raw_addr, link: link_addr, ci: t.ci, c_field: link.c, head: &[] };
        if let Some(family) = vendor::for_block(&meter) {
            vendor_block(family, &meter, block, &mut records, &mut info_codes, trace);
        }
    }
    if !mfct_records.is_empty() {
        let meter = vendor::Meter { address: &address, raw: raw_addr, link: link_addr, ci: t.ci, c_field: link.c, head: &[] };
        if let Some(family) = vendor::for_record(&meter) {
            if let Some(s) = vendor_records(family, &meter, &mfct_records, key, &mut records, &mut info_codes, trace) {
                security = s;
                if matches!(s.status, SecurityStatus::NoKey | SecurityStatus::WrongKey) {
                    records.clear();
                }
            }
        }
    }
    let telegram = Telegram {
        address,
        access_number,
        status: t.status,
        security,
        records,
        info_codes,
    };
    Ok((telegram, parsed))
}

/// A telegram whose application layer is the maker's own, read by its family.
fn vendor_application(
    family: &vendor::Family,
    meter: &vendor::Meter<'_>,
    after_ci: &[u8],
    key: Option<&AesKey>,
    ell_access: Option<u8>,
    ell_security: Option<(SecurityMode, SecurityStatus)>,
    trace: &mut Trace,
) -> Result<Telegram, DecodeError> {
    trace.note("vendor", Some(meter.ci), || {
        format!("driver {}: the manufacturer's own application layer", family.name)
    });
    let read = family.application.ok_or(DecodeError::UnsupportedCi { ci: meter.ci })?;
    let d = read(meter, after_ci, key, trace).inspect_err(|e| {
        trace.note("vendor", Some(meter.ci), || format!("driver {} stopped: {e}", family.name))
    })?;
    trace.note("records", None, || format!("{} data records", d.records.len()));
    let mut info_codes = d.info_codes;
    add_codes(&mut info_codes, info::from_status(d.status));
    let security = match (d.security, ell_security) {
        (Some(s), _) => s,
        (None, Some((mode, status))) => Security { mode, status },
        (None, None) => Security { mode: SecurityMode::None, status: SecurityStatus::Ok },
    };
    Ok(Telegram {
        address: d.address.unwrap_or_else(|| meter.address.clone()),
        access_number: if d.access_number == 0 { ell_access.unwrap_or(0) } else { d.access_number },
        status: d.status,
        security,
        records: d.records,
        info_codes,
    })
}

/// The manufacturer block after DIF 0F/1F read by the meter's family: its records and info
/// codes join the standard ones; a block the family cannot read leaves them as they are.
fn vendor_block(
    family: &vendor::Family,
    meter: &vendor::Meter<'_>,
    block: &[u8],
    records: &mut Vec<crate::record::Record>,
    info_codes: &mut Vec<info::InfoCode>,
    trace: &mut Trace,
) {
    let Some(read) = family.block else { return };
    match read(meter, block, records, trace) {
        Ok(d) => {
            trace.note("vendor", Some(meter.ci), || {
                format!(
                    "driver {}: manufacturer block of {} bytes, {} records",
                    family.name,
                    block.len(),
                    d.records.len()
                )
            });
            records.extend(d.records);
            add_codes(info_codes, d.info_codes);
        }
        Err(e) => trace.note("vendor", Some(meter.ci), || {
            format!("driver {}: manufacturer block of {} bytes not read: {e}", family.name, block.len())
        }),
    }
}

/// The manufacturer-specific records (VIF 7F/FF) of a standard payload read by the meter's
/// family: their records and info codes join the standard ones; a record the family cannot
/// read leaves them as they are. A family that decrypted a record returns its security
/// outcome; one that could not open it (no key, wrong key) makes the caller drop the records.
/// A record the family read is replaced by what it read (its raw copy is dropped).
fn vendor_records(
    family: &vendor::Family,
    meter: &vendor::Meter<'_>,
    found: &[(usize, records::Head, &[u8])],
    key: Option<&AesKey>,
    records: &mut Vec<crate::record::Record>,
    info_codes: &mut Vec<info::InfoCode>,
    trace: &mut Trace,
) -> Option<Security> {
    let read = family.record?;
    let mut outcome = None;
    let mut read_ones = Vec::new();
    for (index, vib, data) in found {
        let vib = vib.get().unwrap_or(&[]);
        match read(meter, vib, data, key, records, trace) {
            Ok(d) => {
                read_ones.push(*index);
                trace.note("vendor", Some(meter.ci), || {
                    format!(
                        "driver {}: manufacturer record (VIF {}) of {} bytes, {} records",
                        family.name,
                        hex::encode_upper(vib),
                        data.len(),
                        d.records.len()
                    )
                });
                // A record that stays closed outweighs one that opened.
                if let Some(s) = d.security {
                    let worse = |x: &Security| matches!(x.status, SecurityStatus::NoKey | SecurityStatus::WrongKey);
                    if outcome.as_ref().is_none_or(|c| !worse(c)) {
                        outcome = Some(s);
                    }
                }
                records.extend(d.records);
                add_codes(info_codes, d.info_codes);
            }
            Err(e) => trace.note("vendor", Some(meter.ci), || {
                format!(
                    "driver {}: manufacturer record (VIF {}) of {} bytes not read: {e}",
                    family.name,
                    hex::encode_upper(vib),
                    data.len()
                )
            }),
        }
    }
    // Indexes ascending: remove from the back so that the others stay in place.
    for i in read_ones.into_iter().rev() {
        if i < records.len() {
            records.remove(i);
        }
    }
    outcome
}

/// Add a family's info codes to the telegram's: each once, in order.
fn add_codes(info_codes: &mut Vec<info::InfoCode>, more: Vec<info::InfoCode>) {
    for c in more {
        if !info_codes.contains(&c) {
            info_codes.push(c);
        }
    }
    info_codes.sort();
}
