//! A streaming ZIP writer (PKWARE APPNOTE 6.3: local headers with the data descriptor
//! flag, deflate, a central directory at the end): each file's bytes go through the
//! compressor straight to the output, so a large file never sits in memory. No ZIP64:
//! a file or archive past 4 GiB, or more than 65,535 files, is refused. Deflate at the
//! fastest level: 3-4x faster than the default for a 30% larger archive (`releve-bench gdpr`).

use crate::error::{Error, Result};
use flate2::write::DeflateEncoder;
use flate2::Compression;
use std::io::{self, Write};

/// An output that counts the bytes written (the offsets of the headers).
struct Counting<W: Write> {
    /// None only while a file's compressor holds the output.
    inner: Option<W>,
    written: u64,
}

impl<W: Write> Write for Counting<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.as_mut().ok_or_else(|| io::Error::other("archive output in use"))?.write(buf)?;
        self.written += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.as_mut().map_or(Ok(()), Write::flush)
    }
}

/// The bytes given to a file: their CRC-32 and count, on their way to the compressor.
struct Checked<W: Write> {
    inner: DeflateEncoder<Counting<W>>,
    crc: crc32fast::Hasher,
    size: u64,
}

impl<W: Write> Write for Checked<W> {
    fn write(&mut self, buf: &[u8]) -> io::Result<usize> {
        let n = self.inner.write(buf)?;
        self.crc.update(&buf[..n]);
        self.size += n as u64;
        Ok(n)
    }

    fn flush(&mut self) -> io::Result<()> {
        self.inner.flush()
    }
}

struct Entry {
    name: String,
    crc: u32,
    compressed: u32,
    size: u32,
    offset: u32,
}

pub struct ZipWriter<W: Write> {
    out: Counting<W>,
    entries: Vec<Entry>,
    /// MS-DOS time and date of every file (local time of the archive's making).
    dos: (u16, u16),
}

const LOCAL: u32 = 0x0403_4b50;
const DESCRIPTOR: u32 = 0x0807_4b50;
const CENTRAL: u32 = 0x0201_4b50;
const END: u32 = 0x0605_4b50;
/// Bit 3: sizes and CRC follow the data; bit 11: names in UTF-8.
const FLAGS: u16 = 0x0008 | 0x0800;
const DEFLATE: u16 = 8;
const VERSION: u16 = 20;

fn u32_of(v: u64, what: &str) -> Result<u32> {
    u32::try_from(v).map_err(|_| Error::bad_input("archive", format!("{what} is past 4 GiB, more than a ZIP without ZIP64 holds")))
}

fn io_err(e: io::Error) -> Error {
    Error::io("archive output", e)
}

impl<W: Write> ZipWriter<W> {
    /// `local`: the date and time written on the files.
    pub fn new(out: W, local: chrono::NaiveDateTime) -> ZipWriter<W> {
        use chrono::{Datelike, Timelike};
        let year = (local.year().clamp(1980, 2107) - 1980) as u16;
        let date = (year << 9) | ((local.month() as u16) << 5) | local.day() as u16;
        let time = ((local.hour() as u16) << 11) | ((local.minute() as u16) << 5) | (local.second() as u16 / 2);
        ZipWriter { out: Counting { inner: Some(out), written: 0 }, entries: Vec::new(), dos: (time, date) }
    }

    /// Add the file `name`, its bytes written by `fill` (compressed as they come).
    pub fn file<T>(&mut self, name: &str, fill: impl FnOnce(&mut dyn Write) -> Result<T>) -> Result<T> {
        if self.entries.len() >= usize::from(u16::MAX) {
            return Err(Error::bad_input("archive", "more than 65,535 files"));
        }
        let offset = u32_of(self.out.written, "the archive")?;
        let mut header = Vec::with_capacity(30 + name.len());
        put32(&mut header, LOCAL);
        put16(&mut header, VERSION);
        put16(&mut header, FLAGS);
        put16(&mut header, DEFLATE);
        put16(&mut header, self.dos.0);
        put16(&mut header, self.dos.1);
        put32(&mut header, 0); // CRC, sizes: in the data descriptor
        put32(&mut header, 0);
        put32(&mut header, 0);
        put16(&mut header, name.len() as u16);
        put16(&mut header, 0);
        header.extend_from_slice(name.as_bytes());
        self.out.write_all(&header).map_err(io_err)?;
        let start = self.out.written;
        // The output goes into the compressor and comes back when it is finished.
        let out = std::mem::replace(&mut self.out, Counting { inner: None, written: 0 });
        let mut checked = Checked { inner: DeflateEncoder::new(out, Compression::fast()), crc: crc32fast::Hasher::new(), size: 0 };
        let value = fill(&mut checked);
        let Checked { inner, crc, size } = checked;
        self.out = inner.finish().map_err(io_err)?;
        let value = value?;
        let compressed = u32_of(self.out.written - start, name)?;
        let size = u32_of(size, name)?;
        let crc = crc.finalize();
        let mut descriptor = Vec::with_capacity(16);
        put32(&mut descriptor, DESCRIPTOR);
        put32(&mut descriptor, crc);
        put32(&mut descriptor, compressed);
        put32(&mut descriptor, size);
        self.out.write_all(&descriptor).map_err(io_err)?;
        self.entries.push(Entry { name: name.to_string(), crc, compressed, size, offset });
        Ok(value)
    }

    /// Write the central directory; the output back.
    pub fn finish(mut self) -> Result<W> {
        let start = u32_of(self.out.written, "the archive")?;
        let mut dir = Vec::new();
        for e in &self.entries {
            put32(&mut dir, CENTRAL);
            put16(&mut dir, VERSION); // made by
            put16(&mut dir, VERSION); // needed
            put16(&mut dir, FLAGS);
            put16(&mut dir, DEFLATE);
            put16(&mut dir, self.dos.0);
            put16(&mut dir, self.dos.1);
            put32(&mut dir, e.crc);
            put32(&mut dir, e.compressed);
            put32(&mut dir, e.size);
            put16(&mut dir, e.name.len() as u16);
            put16(&mut dir, 0); // extra
            put16(&mut dir, 0); // comment
            put16(&mut dir, 0); // disk
            put16(&mut dir, 0); // internal attributes
            put32(&mut dir, 0); // external attributes
            put32(&mut dir, e.offset);
            dir.extend_from_slice(e.name.as_bytes());
        }
        let size = u32_of(dir.len() as u64, "the directory")?;
        put32(&mut dir, END);
        put16(&mut dir, 0);
        put16(&mut dir, 0);
        put16(&mut dir, self.entries.len() as u16);
        put16(&mut dir, self.entries.len() as u16);
        put32(&mut dir, size);
        put32(&mut dir, start);
        put16(&mut dir, 0);
        self.out.write_all(&dir).map_err(io_err)?;
        self.out.flush().map_err(io_err)?;
        self.out.inner.take().ok_or_else(|| io_err(io::Error::other("archive output in use")))
    }
}

fn put16(v: &mut Vec<u8>, x: u16) {
    v.extend_from_slice(&x.to_le_bytes());
}

fn put32(v: &mut Vec<u8>, x: u32) {
    v.extend_from_slice(&x.to_le_bytes());
}

/// The files of a ZIP made by [`ZipWriter`] (or any ZIP of stored or deflated files without
/// ZIP64), read through its central directory: (name, bytes). For tests and checks.
pub fn read_all(zip: &[u8]) -> Result<Vec<(String, Vec<u8>)>> {
    use std::io::Read;
    let bad = |what: &str| Error::bad_input("archive", what.to_string());
    let end = zip.windows(4).rposition(|w| w == END.to_le_bytes()).ok_or_else(|| bad("no end of central directory"))?;
    let le16 = |at: usize| -> Result<usize> {
        zip.get(at..at + 2).map(|b| u16::from_le_bytes([b[0], b[1]]) as usize).ok_or_else(|| bad("cut short"))
    };
    let le32 = |at: usize| -> Result<usize> {
        zip.get(at..at + 4).map(|b| u32::from_le_bytes([b[0], b[1], b[2], b[3]]) as usize).ok_or_else(|| bad("cut short"))
    };
    let count = le16(end + 10)?;
    let mut at = le32(end + 16)?;
    let mut out = Vec::with_capacity(count);
    for _ in 0..count {
        if le32(at)? != CENTRAL as usize {
            return Err(bad("bad central directory entry"));
        }
        let method = le16(at + 10)?;
        let crc = le32(at + 16)? as u32;
        let compressed = le32(at + 20)?;
        let name_len = le16(at + 28)?;
        let extra = le16(at + 30)?;
        let comment = le16(at + 32)?;
        let offset = le32(at + 42)?;
        let name = String::from_utf8_lossy(zip.get(at + 46..at + 46 + name_len).ok_or_else(|| bad("cut short"))?).into_owned();
        let data_at = offset + 30 + le16(offset + 26)? + le16(offset + 28)?;
        let data = zip.get(data_at..data_at + compressed).ok_or_else(|| bad("cut short"))?;
        let bytes = match method {
            0 => data.to_vec(),
            8 => {
                let mut v = Vec::new();
                flate2::read::DeflateDecoder::new(data).read_to_end(&mut v).map_err(io_err)?;
                v
            }
            _ => return Err(bad("unknown compression method")),
        };
        if crc32fast::hash(&bytes) != crc {
            return Err(bad(&format!("{name}: wrong CRC")));
        }
        out.push((name, bytes));
        at += 46 + name_len + extra + comment;
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn files_read_back_with_their_bytes() {
        let t = chrono::NaiveDate::from_ymd_opt(2026, 12, 6).and_then(|d| d.and_hms_opt(13, 5, 30)).expect("time");
        let mut zip = ZipWriter::new(Vec::new(), t);
        zip.file("a.csv", |w| w.write_all(b"x;y\n1;2\n").map_err(io_err)).expect("a");
        let big: Vec<u8> = (0..300_000u32).flat_map(|i| format!("{i};é\n").into_bytes()).collect();
        zip.file("dossier/b.csv", |w| w.write_all(&big).map_err(io_err)).expect("b");
        zip.file("empty.txt", |_| Ok(())).expect("empty");
        let bytes = zip.finish().expect("finish");
        assert!(bytes.starts_with(b"PK\x03\x04"));
        assert!(bytes.len() < big.len() / 2, "deflated");
        let files = read_all(&bytes).expect("read");
        let names: Vec<&str> = files.iter().map(|f| f.0.as_str()).collect();
        assert_eq!(names, ["a.csv", "dossier/b.csv", "empty.txt"]);
        assert_eq!(files[0].1, b"x;y\n1;2\n");
        assert_eq!(files[1].1, big);
        assert!(files[2].1.is_empty());
    }
}
