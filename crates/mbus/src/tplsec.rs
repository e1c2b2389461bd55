//! Transport-layer security: OMS security modes 5 and 7 (EN 13757-7 / OMS Vol. 2).
//!
//! Mode 5: AES-128-CBC, IV = M(2) A(6) then the access number 8 times, key = the meter key.
//! Mode 7: AES-128-CBC with a zero IV; the encryption and MAC keys are derived per message with
//! AES-CMAC from the meter key, the AFL message counter and the meter id (see `security`); the
//! AFL MAC (CMAC over AFL.MCL, AFL.MCR, AFL.ML when present and the transport layer from its CI
//! on) is checked before the payload is used. In both modes the decrypted payload starts 2F 2F.

use std::borrow::Cow;

use crate::afl::Afl;
use crate::error::DecodeError;
use crate::key::AesKey;
use crate::security::{self, KDF_ENC, KDF_MAC, VERIFY};
use crate::telegram::{Security, SecurityMode, SecurityStatus};
use crate::tpl::Tpl;

/// Manufacturer (2 bytes) and address (id 4, version, device type) as sent.
pub(crate) type RawAddress = ([u8; 2], [u8; 6]);

/// What the transport layer's security step needs.
pub(crate) struct Input<'a> {
    pub key: Option<&'a AesKey>,
    pub tpl: &'a Tpl,
    /// The bytes after the transport header.
    pub body: &'a [u8],
    /// The transport layer from its CI field to the end (covered by the AFL MAC).
    pub tpl_bytes: &'a [u8],
    pub afl: Option<&'a Afl<'a>>,
    /// The meter address: the long header's, else the (extended) link layer's.
    pub addr: RawAddress,
    /// The link layer's address, a second candidate id for mode 7 key derivation.
    pub link_addr: Option<RawAddress>,
    /// The day the telegram was received (year, month, day), for mode 3's IV.
    pub received: Option<(u16, u8, u8)>,
}

/// The outcome: the security summary, the readable payload (if any) and how it was obtained.
pub(crate) struct Output<'a> {
    pub security: Security,
    pub payload: Option<Cow<'a, [u8]>>,
    pub how: &'static str,
    /// When decrypted: how many payload bytes came from the encrypted blocks.
    pub decrypted_len: Option<usize>,
}

fn out<'a>(
    mode: SecurityMode,
    status: SecurityStatus,
    payload: Option<Cow<'a, [u8]>>,
    how: &'static str,
) -> Output<'a> {
    Output {
        security: Security { mode, status },
        payload,
        how,
        decrypted_len: None,
    }
}

/// Apply the security mode announced in the transport header. `mode` is the effective mode
/// (wired meters' free signature fields already mapped to 0).
pub(crate) fn open<'a>(input: &Input<'a>, mode: u8) -> Result<Output<'a>, DecodeError> {
    let body = input.body;
    let starts_plain = body.starts_with(&VERIFY);
    match mode {
        0 => Ok(out(
            SecurityMode::None,
            SecurityStatus::Ok,
            Some(Cow::Borrowed(body)),
            "not encrypted",
        )),
        5 | 7 => {
            let sm = if mode == 5 {
                SecurityMode::Mode5
            } else {
                SecurityMode::Mode7
            };
            let declared = match input.tpl.encrypted_blocks() {
                0 => body.len() - body.len() % 16,
                n => n * 16,
            };
            if declared > body.len() {
                return if starts_plain {
                    Ok(out(sm, SecurityStatus::Plaintext, Some(Cow::Borrowed(body)), "header announces more encrypted bytes than sent, payload is plaintext (2F2F)"))
                } else {
                    Err(DecodeError::EncryptedLength {
                        declared,
                        available: body.len(),
                    })
                };
            }
            let Some(key) = input.key else {
                return Ok(if starts_plain {
                    out(
                        sm,
                        SecurityStatus::Plaintext,
                        Some(Cow::Borrowed(body)),
                        "no key; payload already plaintext (2F2F)",
                    )
                } else {
                    out(
                        sm,
                        SecurityStatus::NoKey,
                        None,
                        "encrypted and no key given",
                    )
                });
            };
            let (enc, tail) = body.split_at(declared);
            let opened = if mode == 5 {
                let (m, a) = input.addr;
                let iv = security::mode5_iv(m, a, input.tpl.access_number);
                let mut buf = Vec::with_capacity(body.len());
                buf.extend_from_slice(enc);
                security::cbc_decrypt_in_place(key, &iv, &mut buf);
                Some((buf, "AES-128-CBC with the meter key (mode 5 IV)"))
            } else {
                mode7(input, key, enc)?
            };
            match opened {
                Some((mut plain, how)) if plain.starts_with(&VERIFY) => {
                    let n = plain.len();
                    plain.extend_from_slice(tail);
                    let mut o = out(sm, SecurityStatus::Ok, Some(Cow::Owned(plain)), how);
                    o.decrypted_len = Some(n);
                    Ok(o)
                }
                _ if starts_plain => Ok(out(
                    sm,
                    SecurityStatus::Plaintext,
                    Some(Cow::Borrowed(body)),
                    "header announces encryption, payload is plaintext (2F2F)",
                )),
                _ => Ok(out(
                    sm,
                    SecurityStatus::WrongKey,
                    None,
                    "decrypted payload does not start 2F2F (or MAC mismatch): wrong key",
                )),
            }
        }
        2 | 3 => des(input, mode),
        other => Err(DecodeError::UnsupportedSecurity { mode: other }),
    }
}

/// Security modes 2 and 3 (EN 13757-3:2004 5.9 and its annex; deprecated in EN 13757-7:2018,
/// 9.4.2-9.4.3): DES-CBC under the meter's 8-byte key over the payload after the transport
/// header, in 8-byte blocks; the configuration field's bits 4-7 count encrypted 16-byte units
/// as in mode 5 (0: every whole block); the decrypted payload starts 2F 2F like mode 5's.
/// Mode 2's IV is zero; mode 3's is the id, manufacturer and the type G date of the day of
/// sending (see [`security::mode3_iv`]). In CBC the IV only enters the first block, and only
/// its date bytes land on payload bytes 6-7: the 2F 2F check (bytes 0-1) tells a right key from
/// a wrong one without the date, but the records need it.
fn des<'a>(input: &Input<'a>, mode: u8) -> Result<Output<'a>, DecodeError> {
    let body = input.body;
    let starts_plain = body.starts_with(&VERIFY);
    let sm = if mode == 2 {
        SecurityMode::Mode2
    } else {
        SecurityMode::Mode3
    };
    let declared = match input.tpl.encrypted_blocks() {
        0 => body.len() - body.len() % 8,
        n => n * 16,
    };
    let plain_out = |how| Ok(out(sm, SecurityStatus::Plaintext, Some(Cow::Borrowed(body)), how));
    if declared > body.len() {
        return if starts_plain {
            plain_out("header announces more encrypted bytes than sent, payload is plaintext (2F2F)")
        } else {
            Err(DecodeError::EncryptedLength {
                declared,
                available: body.len(),
            })
        };
    }
    let Some(key) = input.key else {
        return if starts_plain {
            plain_out("no key; payload already plaintext (2F2F)")
        } else {
            Ok(out(sm, SecurityStatus::NoKey, None, "DES encrypted and no key given"))
        };
    };
    let wrong = |how| {
        if starts_plain {
            plain_out("header announces DES encryption, payload is plaintext (2F2F)")
        } else {
            Ok(out(sm, SecurityStatus::WrongKey, None, how))
        }
    };
    let Some(k) = key.des_bytes() else {
        return wrong("modes 2 and 3 need an 8-byte DES key (16 hex digits); an AES-128 key was given: wrong key");
    };
    let (enc, tail) = body.split_at(declared);
    let (m, a) = input.addr;
    let id = [a[0], a[1], a[2], a[3]];
    let iv = match (mode, input.received) {
        (2, _) => [0u8; 8],
        (_, Some((y, mo, d))) => security::mode3_iv(id, m, y, mo, d),
        (_, None) => {
            // The check bytes do not depend on the date: tell a wrong key from a missing date.
            let probe = security::des_cbc_decrypt(&k, &security::mode3_iv(id, m, 2000, 0, 0), enc);
            return if probe.starts_with(&VERIFY) {
                Err(DecodeError::DateNeeded { mode })
            } else {
                wrong("DES-CBC (mode 3): decrypted payload does not start 2F2F: wrong key")
            };
        }
    };
    let mut plain = security::des_cbc_decrypt(&k, &iv, enc);
    if !plain.starts_with(&VERIFY) {
        return wrong("DES-CBC: decrypted payload does not start 2F2F: wrong key");
    }
    let n = plain.len();
    plain.extend_from_slice(tail);
    let how = if mode == 2 {
        "DES-CBC with the meter's DES key, zero IV (mode 2)"
    } else {
        "DES-CBC with the meter's DES key, IV from id, manufacturer and the reception date (mode 3)"
    };
    let mut o = out(sm, SecurityStatus::Ok, Some(Cow::Owned(plain)), how);
    o.decrypted_len = Some(n);
    Ok(o)
}

/// Mode 7: try the long header's id, then the link layer's, for the key derivation; the first id
/// whose MAC checks (when the AFL carries one) and whose decryption starts 2F 2F wins.
fn mode7(
    input: &Input<'_>,
    key: &AesKey,
    enc: &[u8],
) -> Result<Option<(Vec<u8>, &'static str)>, DecodeError> {
    let afl = input.afl;
    if input.tpl.kdf() == 0 {
        let plain = security::cbc_decrypt(key, &[0; 16], enc);
        let mac_ok = match (afl, afl.and_then(|a| a.mac)) {
            (Some(a), Some(mac)) => mac_matches(key, a, mac, input.tpl_bytes),
            _ => true,
        };
        return Ok(mac_ok.then_some((
            plain,
            "AES-128-CBC, zero IV, meter key used directly (mode 7 without key derivation)",
        )));
    }
    let Some(mcr) = afl.and_then(|a| a.mcr) else {
        if input.body.starts_with(&VERIFY) {
            // Plaintext despite the header: nothing to derive.
            return Ok(None);
        }
        return Err(DecodeError::BadFrame {
            reason: "mode 7 key derivation needs the AFL message counter, which is missing",
        });
    };
    let id_of = |a: RawAddress| {
        let [i0, i1, i2, i3, _, _] = a.1;
        [i0, i1, i2, i3]
    };
    let mut ids = vec![id_of(input.addr)];
    if let Some(l) = input.link_addr.map(id_of) {
        if !ids.contains(&l) {
            ids.push(l);
        }
    }
    for id in ids {
        if let (Some(a), Some(mac)) = (afl, afl.and_then(|a| a.mac)) {
            let kmac = security::derive_key(key, KDF_MAC, mcr, id);
            if !mac_matches(&kmac, a, mac, input.tpl_bytes) {
                continue;
            }
        }
        let kenc = security::derive_key(key, KDF_ENC, mcr, id);
        let plain = security::cbc_decrypt(&kenc, &[0; 16], enc);
        if plain.starts_with(&VERIFY) {
            let how = if afl.and_then(|a| a.mac).is_some() {
                "AES-128-CBC, zero IV, Kenc derived with AES-CMAC from the meter key, counter and id (mode 7); MAC verified"
            } else {
                "AES-128-CBC, zero IV, Kenc derived with AES-CMAC from the meter key, counter and id (mode 7); no MAC sent"
            };
            return Ok(Some((plain, how)));
        }
    }
    Ok(None)
}

fn mac_matches(kmac: &AesKey, afl: &Afl<'_>, mac: &[u8], tpl_bytes: &[u8]) -> bool {
    let mut msg = afl.mac_prefix();
    msg.extend_from_slice(tpl_bytes);
    let full = security::cmac(kmac.as_bytes(), &msg);
    full.get(..mac.len()) == Some(mac)
}

/// The AFL MAC for a message (used by the encoder): CMAC(Kmac, MCL || MCR || ML || TPL)[..n].
pub(crate) fn compute_mac(kmac: &AesKey, prefix: &[u8], tpl_bytes: &[u8], n: usize) -> Vec<u8> {
    let mut msg = prefix.to_vec();
    msg.extend_from_slice(tpl_bytes);
    security::cmac(kmac.as_bytes(), &msg)
        .get(..n)
        .unwrap_or(&[])
        .to_vec()
}
