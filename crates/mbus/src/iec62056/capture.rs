//! Capture files of readouts (what a handheld saved): told from telegram files by their first
//! line, and cut into their readouts, with the sign-on requests and acknowledgements the
//! handheld sent skipped.

use super::{trim_end, ACK, ETX, NAK, STX};

/// A piece of a capture file (what a handheld saved: readouts, maybe with the sign-on
/// requests and acknowledgements it sent).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Piece {
    /// A readout candidate: `bytes[start..end]`, starting on file line `line` (from 1).
    Readout { start: usize, end: usize, line: usize },
    /// A line that is no part of a readout (neither blank, a `#` comment, a request `/?...!`
    /// nor an acknowledgement).
    Stray { line: usize },
}

/// Whether `content` looks like a capture of readouts: its first line that is not blank or a
/// `#` comment starts with `/` (no line of the hexadecimal telegram formats does).
pub fn is_capture(content: &[u8]) -> bool {
    let mut rest = content;
    loop {
        let skip = rest.iter().take_while(|b| matches!(b, b'\r' | b'\n' | b' ' | b'\t' | 0)).count();
        rest = rest.get(skip..).unwrap_or_default();
        match rest.first() {
            Some(b'#') => {
                let end = rest.iter().position(|b| *b == b'\n').map_or(rest.len(), |i| i + 1);
                rest = rest.get(end..).unwrap_or_default();
            }
            Some(b'/') => return true,
            _ => return false,
        }
    }
}

/// Cut a capture into its readouts. A readout starts at a line beginning with `/` (not a
/// request `/?`) and ends after its end mark `!` line (and ETX BCC when it is a data
/// message), or where the next readout starts (a truncated one: reading it says so).
pub fn split_capture(content: &[u8]) -> Vec<Piece> {
    let mut pieces = Vec::new();
    let mut pos = 0usize;
    let mut line = 1usize;
    let line_end = |from: usize| content.get(from..).and_then(|r| r.iter().position(|b| *b == b'\n')).map_or(content.len(), |i| from + i + 1);
    while pos < content.len() {
        let end = line_end(pos);
        let text = content.get(pos..end).unwrap_or_default();
        let body = trim_end(text);
        let lead = body.iter().take_while(|b| matches!(b, b' ' | b'\t' | 0)).count();
        let body = body.get(lead..).unwrap_or_default();
        let is_request = body.starts_with(b"/?");
        if body.first() == Some(&b'/') && !is_request {
            let start = pos + lead;
            let first_line = line;
            // Follow the readout to its `!` line, stopping before a new readout.
            let mut cursor = end;
            line += 1;
            let mut framed = false;
            let mut finish = None;
            while cursor < content.len() {
                let e = line_end(cursor);
                let t = content.get(cursor..e).unwrap_or_default();
                let t = if let Some(r) = t.strip_prefix(&[STX]) {
                    framed = true;
                    r
                } else {
                    t
                };
                if t.first() == Some(&b'/') && !t.starts_with(b"/?") {
                    break;
                }
                if t.contains(&b'!') {
                    let mut stop = e;
                    line += 1;
                    if framed {
                        // ETX and the BCC follow the `!` line.
                        if content.get(stop) == Some(&ETX) {
                            stop = (stop + 2).min(content.len());
                            if content.get(stop - 1) == Some(&b'\n') {
                                line += 1;
                            }
                        }
                    }
                    finish = Some(stop);
                    break;
                }
                if t.contains(&ETX) {
                    // A data message without `!`: it ends at ETX and the BCC.
                    let etx = cursor + t.iter().position(|b| *b == ETX).unwrap_or(0) + (e - cursor - t.len());
                    let stop = (etx + 2).min(content.len());
                    line += content.get(cursor..stop).unwrap_or_default().iter().filter(|b| **b == b'\n').count();
                    finish = Some(stop);
                    break;
                }
                line += 1;
                cursor = e;
            }
            let stop = finish.unwrap_or(cursor);
            pieces.push(Piece::Readout { start, end: stop, line: first_line });
            pos = stop;
            continue;
        }
        let ignorable = body.is_empty() || body.first() == Some(&b'#') || is_request || body.first() == Some(&ACK) || body.first() == Some(&NAK);
        if !ignorable {
            pieces.push(Piece::Stray { line });
        }
        line += 1;
        pos = end;
    }
    pieces
}
