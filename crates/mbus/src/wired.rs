//! Wired M-Bus frame types (EN 13757-2): single character E5, short frame (10 C A CS 16),
//! control frame (68 03 03 68 C A CI CS 16) and long frame (68 L L 68 C A CI data CS 16),
//! each with its checksum (sum of C..data modulo 256) and stop byte checked.

use crate::crc::sum8;
use crate::error::DecodeError;

/// A checked wired frame.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WiredFrame<'a> {
    /// E5: acknowledgement.
    Ack,
    /// 10 C A CS 16: a request (SND_NKE, REQ_UD2...).
    Short { c: u8, a: u8 },
    /// 68 03 03 68 C A CI CS 16: a command without data.
    Control { c: u8, a: u8, ci: u8 },
    /// A long frame: C, A, CI and the user data after the CI.
    Long {
        c: u8,
        a: u8,
        ci: u8,
        data: &'a [u8],
    },
}

fn checked(body: &[u8], cs: u8) -> Result<(), DecodeError> {
    let actual = sum8(body);
    if actual == cs {
        Ok(())
    } else {
        Err(DecodeError::BadChecksum {
            expected: cs,
            actual,
        })
    }
}

/// Parse and check one wired frame (the whole input must be that frame).
pub fn parse_wired_frame(frame: &[u8]) -> Result<WiredFrame<'_>, DecodeError> {
    let stop = || DecodeError::BadFrame {
        reason: "wired frame does not end with the stop byte 16",
    };
    match frame {
        [0xE5] => Ok(WiredFrame::Ack),
        [0x10, c, a, cs, end] => {
            if *end != 0x16 {
                return Err(stop());
            }
            checked(&[*c, *a], *cs)?;
            Ok(WiredFrame::Short { c: *c, a: *a })
        }
        [0x68, l1, l2, 0x68, rest @ ..] => {
            if l1 != l2 {
                return Err(DecodeError::BadFrame {
                    reason: "the two length bytes of the wired frame differ",
                });
            }
            let l = usize::from(*l1);
            if rest.len() != l + 2 {
                return Err(DecodeError::LengthMismatch {
                    declared: l,
                    actual: rest.len().saturating_sub(2),
                });
            }
            let (body, tail) = rest.split_at(l);
            let [cs, end] = tail else {
                return Err(stop());
            };
            if *end != 0x16 {
                return Err(stop());
            }
            checked(body, *cs)?;
            match body {
                [c, a, ci] => Ok(WiredFrame::Control {
                    c: *c,
                    a: *a,
                    ci: *ci,
                }),
                [c, a, ci, data @ ..] => Ok(WiredFrame::Long {
                    c: *c,
                    a: *a,
                    ci: *ci,
                    data,
                }),
                _ => Err(DecodeError::TooShort {
                    len: frame.len(),
                    needed: 9,
                    what: "wired control frame",
                }),
            }
        }
        [] => Err(DecodeError::TooShort {
            len: 0,
            needed: 1,
            what: "wired frame",
        }),
        _ => Err(DecodeError::BadFrame {
            reason: "not a wired M-Bus frame (E5, 10 or 68 start)",
        }),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(hex: &str, expected: Result<WiredFrame<'_>, &'static str>) {
        let b = hex::decode(hex).expect("hex");
        assert_eq!(
            parse_wired_frame(&b).map_err(|e| e.code()),
            expected,
            "{hex}"
        );
    }

    #[test]
    fn frame_types() {
        check("E5", Ok(WiredFrame::Ack));
        check("105BFE5916", Ok(WiredFrame::Short { c: 0x5B, a: 0xFE }));
        check("105BFE5A16", Err("bad_checksum"));
        check("105BFE5915", Err("bad_frame"));
        check(
            "6803036853FE51A216",
            Ok(WiredFrame::Control {
                c: 0x53,
                a: 0xFE,
                ci: 0x51,
            }),
        );
        check("6803036853FE51A316", Err("bad_checksum"));
        check("6804036853FE51A216", Err("bad_frame"));
        check("6803036853FE51A2", Err("length_mismatch"));
        check("68040468080172017C17", Err("bad_frame"));
        check("6804046808017201", Err("length_mismatch"));
        check("", Err("too_short"));
        let b = hex::decode("68040468080172017C16").expect("hex");
        assert_eq!(
            parse_wired_frame(&b),
            Ok(WiredFrame::Long {
                c: 8,
                a: 1,
                ci: 0x72,
                data: &[1]
            })
        );
    }
}
