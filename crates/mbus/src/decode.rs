//! The decoding pipeline: link layer -> extended link layer -> transport layer -> security -> records -> info codes.

use crate::address::Address;
use crate::compact::{self, FormatCache};
use crate::crc::crc16_en13757;
use crate::ell::{self, Ell};
use crate::error::DecodeError;
use crate::info;
use crate::key::AesKey;
use crate::link::{self, LinkAddress};
use crate::records::{self, ParsedRecord};
use crate::security::{self, VERIFY};
use crate::telegram::{Security, SecurityMode, SecurityStatus, Telegram};
use crate::tpl;

type RawAddress = ([u8; 2], [u8; 6]);

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
    if ci == ell::CI_AFL {
        (ci, rest) = split_ci(ell::skip_afl(rest)?)?;
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
                let plain = security::ctr_apply(k, &iv, after);
                if crc_ok(&plain) {
                    return Ok(EllOutcome::Open(
                        strip(&plain),
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
    decode_parsed(frame, key, None).map(|(t, _)| t)
}

/// Like [`decode`], and compact frames (CI 79) are expanded with a layout from `formats`
/// (learned from earlier full frames with [`FormatCache::learn`]).
pub fn decode_with_formats(
    frame: &[u8],
    key: Option<&AesKey>,
    formats: &FormatCache,
) -> Result<Telegram, DecodeError> {
    decode_parsed(frame, key, Some(formats)).map(|(t, _)| t)
}

/// The pipeline, also handing back the parsed records with their raw bytes.
pub(crate) fn decode_parsed(
    frame: &[u8],
    key: Option<&AesKey>,
    formats: Option<&FormatCache>,
) -> Result<(Telegram, Vec<ParsedRecord>), DecodeError> {
    let link = link::parse(frame)?;
    let format_b = link.framing == link::Framing::WirelessFormatB;
    let first = decode_link(link, key, formats);
    // A frame without CRCs whose last two bytes happen to be a valid CRC of the rest (one in
    // 65,536 random payloads) also reads as format B: if that reading fails, try the other.
    let failed = match &first {
        Err(_) => true,
        Ok((t, _)) => t.security.status == SecurityStatus::WrongKey,
    };
    if format_b && failed {
        if let Ok(plain) = link::parse_without_crcs(frame) {
            if let Ok(second) = decode_link(plain, key, formats) {
                if second.0.security.status != SecurityStatus::WrongKey {
                    return Ok(second);
                }
            }
        }
    }
    first
}

fn decode_link(
    link: link::LinkFrame,
    key: Option<&AesKey>,
    formats: Option<&FormatCache>,
) -> Result<(Telegram, Vec<ParsedRecord>), DecodeError> {
    let mut raw_addr = link_raw(link.address);
    let (mut ci, mut rest) = split_ci(&link.apdu)?;
    let mut ell_access: Option<u8> = None;
    let mut ell_security: Option<(SecurityMode, SecurityStatus)> = None;
    let opened: Vec<u8>;
    if ell::is_ell(ci) {
        let (e, after) = ell::parse(ci, rest)?;
        if let Some(a) = e.address {
            raw_addr = Some(a);
        }
        ell_access = Some(e.access_number);
        let inner = if e.sn.is_some() {
            let addr = raw_addr.ok_or(DecodeError::UnsupportedCi { ci })?;
            match open_ell(&e, addr, after, key)? {
                EllOutcome::Open(bytes, mode, status) => {
                    if mode != SecurityMode::None {
                        ell_security = Some((mode, status));
                    }
                    opened = bytes;
                    &opened[..]
                }
                EllOutcome::Closed(status) => {
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
        (ci, rest) = split_ci(inner)?;
    }
    if ci == ell::CI_AFL {
        (ci, rest) = split_ci(ell::skip_afl(rest)?)?;
    }
    let (t, body) = tpl::parse(ci, rest)?;
    let raw_addr = t
        .long_address
        .or(raw_addr)
        .ok_or(DecodeError::UnsupportedCi { ci })?;
    let address = to_address(raw_addr)?;
    let access_number = if t.ci == tpl::CI_NONE {
        ell_access.unwrap_or(0)
    } else {
        t.access_number
    };

    let starts_plain = body.starts_with(&VERIFY);
    let decrypted: Vec<u8>;
    let wired = matches!(link.address, LinkAddress::Wired { .. });
    let mode = match t.security_mode() {
        // Older wired meters use these two bytes as a free "signature" field, not as OMS configuration.
        m if wired && m != 5 && m != 7 => 0,
        m => m,
    };
    let (security, payload): (Security, Option<&[u8]>) = match mode {
        0 => {
            let (mode, status) = ell_security.unwrap_or((SecurityMode::None, SecurityStatus::Ok));
            (Security { mode, status }, Some(body))
        }
        5 => {
            let mode = SecurityMode::Mode5;
            let declared = match t.encrypted_blocks() {
                0 => body.len() - body.len() % 16,
                n => n * 16,
            };
            if declared > body.len() {
                if starts_plain {
                    (
                        Security {
                            mode,
                            status: SecurityStatus::Plaintext,
                        },
                        Some(body),
                    )
                } else {
                    return Err(DecodeError::EncryptedLength {
                        declared,
                        available: body.len(),
                    });
                }
            } else {
                let plain = key.map(|k| {
                    let (m, a) = raw_addr;
                    let iv = security::mode5_iv(m, a, t.access_number);
                    let enc = body.get(..declared).unwrap_or(&[]);
                    let mut out = security::cbc_decrypt(k, &iv, enc);
                    out.extend_from_slice(body.get(declared..).unwrap_or(&[]));
                    out
                });
                match plain {
                    Some(p) if p.starts_with(&VERIFY) => {
                        decrypted = p;
                        (
                            Security {
                                mode,
                                status: SecurityStatus::Ok,
                            },
                            Some(&decrypted[..]),
                        )
                    }
                    _ if starts_plain => (
                        Security {
                            mode,
                            status: SecurityStatus::Plaintext,
                        },
                        Some(body),
                    ),
                    Some(_) => (
                        Security {
                            mode,
                            status: SecurityStatus::WrongKey,
                        },
                        None,
                    ),
                    None => (
                        Security {
                            mode,
                            status: SecurityStatus::NoKey,
                        },
                        None,
                    ),
                }
            }
        }
        7 => {
            let mode = SecurityMode::Mode7;
            if starts_plain {
                (
                    Security {
                        mode,
                        status: SecurityStatus::Plaintext,
                    },
                    Some(body),
                )
            } else if key.is_some() {
                return Err(DecodeError::UnsupportedSecurity { mode: 7 });
            } else {
                (
                    Security {
                        mode,
                        status: SecurityStatus::NoKey,
                    },
                    None,
                )
            }
        }
        other => return Err(DecodeError::UnsupportedSecurity { mode: other }),
    };

    let parsed = match payload {
        Some(p) if t.ci == tpl::CI_COMPACT => {
            let (sig, data) = compact::split(p)?;
            let format = formats
                .and_then(|f| f.get(sig).map(<[u8]>::to_vec))
                .or_else(|| compact::builtin(sig))
                .ok_or(DecodeError::UnknownFormat { signature: sig })?;
            records::parse(&compact::expand(&format, data)?)?
        }
        Some(p) => records::parse(p)?,
        None => Vec::new(),
    };
    let info_codes = info::collect(&address.manufacturer, t.status, &parsed);
    let telegram = Telegram {
        address,
        access_number,
        status: t.status,
        security,
        records: parsed.iter().map(|p| p.record.clone()).collect(),
        info_codes,
    };
    Ok((telegram, parsed))
}
