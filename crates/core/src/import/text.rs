//! A drive-by file's bytes as lines: the encoding told by its byte-order mark (UTF-8, or
//! UTF-16 little or big endian, read as such), and lines ended by LF, CRLF or a lone CR (old
//! Mac and receiver logs) alike.

use crate::error::{Error, Result};
use std::borrow::Cow;

/// The file's content as UTF-8 bytes: as is without a byte-order mark, without the mark for
/// UTF-8, converted for UTF-16. A UTF-16 file that is not valid UTF-16, or a file that looks
/// like UTF-16 without its mark, is refused with the reason (`name` says which file).
pub fn utf8<'a>(name: &str, content: &'a [u8]) -> Result<Cow<'a, [u8]>> {
    let unreadable = |problem: &'static str, reason: String| Error::Encoding { file: name.to_string(), problem, reason };
    if let Some(rest) = content.strip_prefix(&[0xEF, 0xBB, 0xBF]) {
        return Ok(Cow::Borrowed(rest));
    }
    let utf16 = |rest: &[u8], little: bool| -> Result<Cow<'a, [u8]>> {
        if !rest.len().is_multiple_of(2) {
            return Err(unreadable("utf16_odd_length", "the file is UTF-16 (byte-order mark) but has an odd number of bytes".into()));
        }
        let units = rest.chunks_exact(2).map(|p| if little { u16::from_le_bytes([p[0], p[1]]) } else { u16::from_be_bytes([p[0], p[1]]) });
        let text: String = char::decode_utf16(units)
            .enumerate()
            .map(|(i, c)| c.map_err(|_| unreadable("utf16_invalid", format!("the file is UTF-16 but holds an unpaired surrogate at byte {}", 2 + 2 * i))))
            .collect::<Result<String>>()?;
        Ok(Cow::Owned(text.into_bytes()))
    };
    if let Some(rest) = content.strip_prefix(&[0xFF, 0xFE]) {
        return utf16(rest, true);
    }
    if let Some(rest) = content.strip_prefix(&[0xFE, 0xFF]) {
        return utf16(rest, false);
    }
    // UTF-16 without a mark: every other byte of a text of ASCII is zero.
    let head = &content[..content.len().min(512)];
    if head.len() >= 8 && head.iter().filter(|b| **b == 0).count() * 3 >= head.len() {
        return Err(unreadable(
            "utf16_no_bom",
            "the file looks like UTF-16 without a byte-order mark: save it as UTF-8 (or UTF-16 with its mark)".into(),
        ));
    }
    Ok(Cow::Borrowed(content))
}

/// The lines of `content`, numbered from 1, without their ends. A line ends at LF, CRLF or
/// a lone CR; the text after the last end is a line when it is not empty.
pub fn lines(content: &[u8]) -> impl Iterator<Item = (u64, &[u8])> {
    let mut rest = content;
    let mut number = 0u64;
    std::iter::from_fn(move || {
        if rest.is_empty() {
            return None;
        }
        number += 1;
        match rest.iter().position(|b| *b == b'\n' || *b == b'\r') {
            None => {
                let line = rest;
                rest = &[];
                Some((number, line))
            }
            Some(end) => {
                let line = &rest[..end];
                let skip = if rest[end] == b'\r' && rest.get(end + 1) == Some(&b'\n') { 2 } else { 1 };
                rest = &rest[end + skip..];
                Some((number, line))
            }
        }
    })
}

/// How many lines [`lines`] yields.
pub fn count(content: &[u8]) -> u64 {
    lines(content).count() as u64
}

#[cfg(test)]
mod tests {
    use super::*;

    fn check(content: &[u8], expected: &[&str]) {
        let got: Vec<(u64, String)> = lines(content).map(|(n, l)| (n, String::from_utf8_lossy(l).into_owned())).collect();
        let want: Vec<(u64, String)> = expected.iter().enumerate().map(|(i, l)| (i as u64 + 1, (*l).to_string())).collect();
        assert_eq!(got, want, "{content:?}");
        assert_eq!(count(content), expected.len() as u64, "count of {content:?}");
    }

    #[test]
    fn every_line_end() {
        check(b"a\nb\nc", &["a", "b", "c"]);
        check(b"a\nb\n", &["a", "b"]);
        check(b"a\r\nb\r\n", &["a", "b"]);
        check(b"a\rb\rc\r", &["a", "b", "c"]);
        check(b"a\r\rb", &["a", "", "b"]);
        check(b"a\n\r\nb", &["a", "", "b"]);
        check(b"", &[]);
        check(b"\n", &[""]);
    }

    #[test]
    fn byte_order_marks() {
        assert_eq!(&*utf8("f", b"\xEF\xBB\xBFab").expect("utf8"), b"ab");
        let le: Vec<u8> = [0xFF, 0xFE].into_iter().chain("0A\r\n".encode_utf16().flat_map(u16::to_le_bytes)).collect();
        assert_eq!(&*utf8("f", &le).expect("le"), b"0A\r\n");
        let be: Vec<u8> = [0xFE, 0xFF].into_iter().chain("é\n".encode_utf16().flat_map(u16::to_be_bytes)).collect();
        assert_eq!(&*utf8("f", &be).expect("be"), "é\n".as_bytes());
        let no_mark: Vec<u8> = "0A0B0C0D\n".encode_utf16().flat_map(u16::to_le_bytes).collect();
        let e = utf8("drive.txt", &no_mark).expect_err("unmarked UTF-16");
        assert!(e.to_string().contains("drive.txt") && e.to_string().contains("UTF-16"), "{e}");
        assert!(utf8("f", &[0xFF, 0xFE, 0x41]).is_err(), "odd UTF-16");
    }
}
