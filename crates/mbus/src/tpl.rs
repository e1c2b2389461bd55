//! Transport layer (EN 13757-7): CI field, short (7A) and long (72) headers, no header (78),
//! and the configuration field's security mode and encrypted-block count.

use crate::cursor::Cursor;
use crate::error::DecodeError;

/// CI: long transport header (meter address in the header).
pub(crate) const CI_LONG: u8 = 0x72;
/// CI: short transport header.
pub(crate) const CI_SHORT: u8 = 0x7A;
/// CI: no transport header (application data follows directly).
pub(crate) const CI_NONE: u8 = 0x78;
/// CI: compact frame, no transport header (format signature, data CRC, data).
pub(crate) const CI_COMPACT: u8 = 0x79;

/// The transport-layer header as read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Tpl {
    pub ci: u8,
    pub access_number: u8,
    pub status: u8,
    pub config: u16,
    /// Long header: meter manufacturer (2 bytes as sent) and address (id, version, type as sent).
    pub long_address: Option<([u8; 2], [u8; 6])>,
    /// Mode 7: the configuration field extension byte (bits 4-5: key derivation function).
    pub config_ext: Option<u8>,
}

impl Tpl {
    /// Security mode: configuration bits 8-12.
    pub(crate) fn security_mode(&self) -> u8 {
        ((self.config >> 8) & 0x1F) as u8
    }

    /// Mode 7: key derivation function from the configuration extension (0 none, 1 OMS KDF-A).
    pub(crate) fn kdf(&self) -> u8 {
        self.config_ext.map_or(0, |x| (x >> 4) & 0x03)
    }

    /// Mode 5/7: number of encrypted 16-byte blocks, configuration bits 4-7.
    pub(crate) fn encrypted_blocks(&self) -> usize {
        usize::from((self.config >> 4) & 0x0F)
    }
}

/// Read the header for `ci` from the bytes after the CI field; returns the header and what follows.
pub(crate) fn parse(ci: u8, after_ci: &[u8]) -> Result<(Tpl, &[u8]), DecodeError> {
    let mut cur = Cursor::new(after_ci);
    let short = |needed: usize| DecodeError::TooShort {
        len: after_ci.len() + 1,
        needed: needed + 1,
        what: "transport-layer header",
    };
    let tpl = match ci {
        CI_SHORT => {
            let [acc, st, c0, c1] = cur.array::<4>().ok_or(short(4))?;
            Tpl {
                ci,
                access_number: acc,
                status: st,
                config: u16::from_le_bytes([c0, c1]),
                long_address: None,
                config_ext: None,
            }
        }
        CI_LONG => {
            let [i0, i1, i2, i3, m0, m1, ver, dev, acc, st, c0, c1] =
                cur.array::<12>().ok_or(short(12))?;
            Tpl {
                ci,
                access_number: acc,
                status: st,
                config: u16::from_le_bytes([c0, c1]),
                long_address: Some(([m0, m1], [i0, i1, i2, i3, ver, dev])),
                config_ext: None,
            }
        }
        CI_NONE | CI_COMPACT => Tpl {
            ci,
            access_number: 0,
            status: 0,
            config: 0,
            long_address: None,
            config_ext: None,
        },
        other => return Err(DecodeError::UnsupportedCi { ci: other }),
    };
    let mut tpl = tpl;
    if tpl.security_mode() == 7 {
        // Mode 7 carries a configuration field extension byte (OMS Vol. 2).
        tpl.config_ext = Some(cur.u8().ok_or(short(if ci == CI_LONG { 13 } else { 5 }))?);
    }
    Ok((tpl, cur.rest()))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(ci: u8, input: &[u8], expected: Result<(Tpl, usize), DecodeError>) {
        assert_eq!(parse(ci, input).map(|(t, rest)| (t, rest.len())), expected);
    }

    #[test]
    fn headers() {
        check(
            0x7A,
            &[0x36, 0x00, 0x20, 0x25, 0xAA],
            Ok((
                Tpl {
                    ci: 0x7A,
                    access_number: 0x36,
                    status: 0,
                    config: 0x2520,
                    long_address: None,
                    config_ext: None,
                },
                1,
            )),
        );
        let t = parse(0x7A, &[0x36, 0x00, 0x20, 0x25])
            .map(|(t, _)| (t.security_mode(), t.encrypted_blocks()));
        assert_eq!(t, Ok((5, 2)));
        check(
            0x72,
            &[
                0x44, 0x77, 0x44, 0x77, 0x2D, 0x2C, 0x34, 0x04, 0x06, 0x00, 0x00, 0x00,
            ],
            Ok((
                Tpl {
                    ci: 0x72,
                    access_number: 6,
                    status: 0,
                    config: 0,
                    long_address: Some(([0x2D, 0x2C], [0x44, 0x77, 0x44, 0x77, 0x34, 0x04])),
                    config_ext: None,
                },
                0,
            )),
        );
        check(
            0x7A,
            &[0x36, 0x00],
            Err(DecodeError::TooShort {
                len: 3,
                needed: 5,
                what: "transport-layer header",
            }),
        );
        check(0xA0, &[], Err(DecodeError::UnsupportedCi { ci: 0xA0 }));
    }
}
