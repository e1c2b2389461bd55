//! A reader of PMTiles version 3 files (one file of tiles, addressed by a Hilbert-curve tile
//! id through a root directory and leaf directories), written from the format's
//! specification (github.com/protomaps/PMTiles, spec/v3/spec.md): a 127-byte header, then
//! directories of varint-encoded entries, optionally gzip-compressed. Raster tiles (PNG,
//! JPEG, WebP) only: the map draws images.
//!
//! Every read is bounded: each offset and length is checked against its section and the
//! file's size before it is read, directories and tiles have a maximum size (also once
//! decompressed), leaf directories a maximum depth. A broken file is an error, never a panic.

use flate2::read::GzDecoder;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

/// The header's size in bytes.
pub const HEADER_LEN: usize = 127;
/// A directory (compressed or not) is at most this large.
const MAX_DIRECTORY: u64 = 16 << 20;
/// A tile is at most this large.
const MAX_TILE: u64 = 16 << 20;
/// Leaf directories below the root are followed this deep at most.
const MAX_DEPTH: usize = 4;
/// The deepest zoom a tile id is computed for (ids fit in 64 bits up to zoom 31).
const MAX_ZOOM: u8 = 26;

/// Why a PMTiles file cannot be read, in words for the clerk (the file's path is added by
/// the caller).
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum PmError {
    #[error("cannot read the file: {0}")]
    Io(String),
    #[error("not a PMTiles file (no 'PMTiles' signature)")]
    NotPmtiles,
    #[error("PMTiles version {0}: only version 3 is read")]
    Version(u8),
    #[error("tiles of type {0} cannot be drawn: export raster tiles (png, jpg, webp)")]
    NotRaster(&'static str),
    #[error("compression {0} is not supported (none or gzip)")]
    Compression(u8),
    #[error("broken file: {0}")]
    Broken(String),
}

type Result<T> = std::result::Result<T, PmError>;

fn broken(what: impl Into<String>) -> PmError {
    PmError::Broken(what.into())
}

/// Compression codes of the header.
const COMPRESSION_NONE: u8 = 1;
const COMPRESSION_GZIP: u8 = 2;

/// The header's fields this reader uses.
#[derive(Debug, Clone, PartialEq)]
pub struct Header {
    pub root_offset: u64,
    pub root_length: u64,
    pub leaf_offset: u64,
    pub leaf_length: u64,
    pub data_offset: u64,
    pub data_length: u64,
    pub internal_compression: u8,
    pub tile_compression: u8,
    /// 2 png, 3 jpeg, 4 webp (1 is vector tiles, refused).
    pub tile_type: u8,
    pub min_zoom: u8,
    pub max_zoom: u8,
}

impl Header {
    /// Read and check a header: signature, version 3, a raster tile type, known
    /// compressions, every section inside a file of `file_size` bytes.
    pub fn parse(b: &[u8], file_size: u64) -> Result<Header> {
        if b.len() < HEADER_LEN || &b[..7] != b"PMTiles" {
            return Err(PmError::NotPmtiles);
        }
        if b[7] != 3 {
            return Err(PmError::Version(b[7]));
        }
        let u = |at: usize| -> u64 {
            let mut a = [0u8; 8];
            a.copy_from_slice(&b[at..at + 8]);
            u64::from_le_bytes(a)
        };
        let h = Header {
            root_offset: u(8),
            root_length: u(16),
            leaf_offset: u(40),
            leaf_length: u(48),
            data_offset: u(56),
            data_length: u(64),
            internal_compression: b[97],
            tile_compression: b[98],
            tile_type: b[99],
            min_zoom: b[100],
            max_zoom: b[101],
        };
        match h.tile_type {
            2..=4 => {}
            1 => return Err(PmError::NotRaster("mvt (vector tiles)")),
            5 => return Err(PmError::NotRaster("avif")),
            _ => return Err(PmError::NotRaster("unknown")),
        }
        for c in [h.internal_compression, h.tile_compression] {
            if c != COMPRESSION_NONE && c != COMPRESSION_GZIP {
                return Err(PmError::Compression(c));
            }
        }
        for (name, offset, length) in [
            ("root directory", h.root_offset, h.root_length),
            ("leaf directories", h.leaf_offset, h.leaf_length),
            ("tile data", h.data_offset, h.data_length),
        ] {
            if offset.checked_add(length).is_none_or(|end| end > file_size) {
                return Err(broken(format!("the {name} ({length} bytes at {offset}) ends after the file ({file_size} bytes)")));
            }
        }
        if h.root_length == 0 || h.root_length > MAX_DIRECTORY {
            return Err(broken(format!("root directory of {} bytes", h.root_length)));
        }
        Ok(h)
    }

    pub fn content_type(&self) -> &'static str {
        match self.tile_type {
            2 => "image/png",
            3 => "image/jpeg",
            _ => "image/webp",
        }
    }
}

/// One directory entry: tiles `tile_id .. tile_id + run_length` share the bytes at
/// `offset` (in the tile data), or a leaf directory there (in the leaf section) when
/// `run_length` is 0.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Entry {
    pub tile_id: u64,
    pub offset: u64,
    pub length: u32,
    pub run_length: u32,
}

/// The tile id of z/x/y: the tiles of lower zooms counted first, then the position of
/// (x, y) along the Hilbert curve filling the 2^z x 2^z grid. `None` out of range.
pub fn tile_id(z: u8, x: u32, y: u32) -> Option<u64> {
    if z > MAX_ZOOM {
        return None;
    }
    let n: u64 = 1 << z;
    let (mut x, mut y) = (u64::from(x), u64::from(y));
    if x >= n || y >= n {
        return None;
    }
    let before: u64 = ((1u64 << (2 * u32::from(z))) - 1) / 3;
    let mut d: u64 = 0;
    let mut s = n / 2;
    while s > 0 {
        let rx = u64::from(x & s > 0);
        let ry = u64::from(y & s > 0);
        d += s * s * ((3 * rx) ^ ry);
        // Rotate the quadrant (on the bits below s).
        if ry == 0 {
            if rx == 1 {
                x = (n - 1) - x;
                y = (n - 1) - y;
            }
            std::mem::swap(&mut x, &mut y);
        }
        s /= 2;
    }
    Some(before + d)
}

/// An unsigned LEB128 varint at `*at`, moving past it.
fn varint(b: &[u8], at: &mut usize) -> Result<u64> {
    let mut value: u64 = 0;
    for shift in (0..64).step_by(7) {
        let byte = *b.get(*at).ok_or_else(|| broken("a directory ends inside a number"))?;
        *at += 1;
        value |= u64::from(byte & 0x7f) << shift;
        if byte & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(broken("a number of a directory is longer than 64 bits"))
}

/// The entries of a (decompressed) directory: their count, then the tile ids (each the
/// difference from the one before), run lengths, lengths and offsets (0 = right after the
/// entry before, else offset + 1), column by column.
pub fn parse_directory(b: &[u8]) -> Result<Vec<Entry>> {
    let mut at = 0;
    let n = varint(b, &mut at)?;
    // Each entry takes at least 4 bytes: a count beyond that is a broken file.
    if n > (b.len() as u64) / 4 + 1 {
        return Err(broken(format!("a directory of {} bytes claims {n} entries", b.len())));
    }
    let n = n as usize;
    let mut entries = vec![Entry { tile_id: 0, offset: 0, length: 0, run_length: 0 }; n];
    let mut last: u64 = 0;
    for e in entries.iter_mut() {
        last = last.checked_add(varint(b, &mut at)?).ok_or_else(|| broken("tile ids overflow"))?;
        e.tile_id = last;
    }
    let small = |v: u64, what: &str| u32::try_from(v).map_err(|_| broken(format!("a {what} of {v}")));
    for e in entries.iter_mut() {
        e.run_length = small(varint(b, &mut at)?, "run length")?;
    }
    for e in entries.iter_mut() {
        e.length = small(varint(b, &mut at)?, "length")?;
    }
    for i in 0..n {
        let v = varint(b, &mut at)?;
        entries[i].offset = if v == 0 && i > 0 {
            entries[i - 1].offset.checked_add(u64::from(entries[i - 1].length)).ok_or_else(|| broken("offsets overflow"))?
        } else {
            v.checked_sub(1).ok_or_else(|| broken("the first entry has no offset"))?
        };
    }
    Ok(entries)
}

/// The entry holding tile `id`: the last entry starting at or before it, if it covers it
/// (a leaf directory entry always "covers": the leaf is searched next).
fn find(entries: &[Entry], id: u64) -> Option<Entry> {
    let i = entries.partition_point(|e| e.tile_id <= id);
    let e = *entries.get(i.checked_sub(1)?)?;
    if e.run_length == 0 || id - e.tile_id < u64::from(e.run_length) {
        Some(e)
    } else {
        None
    }
}

/// An open PMTiles file and its checked header.
pub struct PmTiles {
    file: File,
    size: u64,
    pub header: Header,
}

impl PmTiles {
    pub fn open(path: &Path) -> Result<PmTiles> {
        let mut file = File::open(path).map_err(|e| PmError::Io(e.to_string()))?;
        let size = file.metadata().map_err(|e| PmError::Io(e.to_string()))?.len();
        let mut head = [0u8; HEADER_LEN];
        if size < HEADER_LEN as u64 {
            return Err(PmError::NotPmtiles);
        }
        file.read_exact(&mut head).map_err(|e| PmError::Io(e.to_string()))?;
        let header = Header::parse(&head, size)?;
        Ok(PmTiles { file, size, header })
    }

    /// `length` bytes at `offset`, checked against the file's size and `max`.
    fn read_at(&mut self, offset: u64, length: u64, max: u64) -> Result<Vec<u8>> {
        if length > max {
            return Err(broken(format!("a part of {length} bytes (at most {max})")));
        }
        if offset.checked_add(length).is_none_or(|end| end > self.size) {
            return Err(broken(format!("{length} bytes at {offset} end after the file ({} bytes)", self.size)));
        }
        self.file.seek(SeekFrom::Start(offset)).map_err(|e| PmError::Io(e.to_string()))?;
        let mut buf = vec![0u8; length as usize];
        self.file.read_exact(&mut buf).map_err(|e| PmError::Io(e.to_string()))?;
        Ok(buf)
    }

    fn decompress(bytes: Vec<u8>, compression: u8, max: u64) -> Result<Vec<u8>> {
        if compression != COMPRESSION_GZIP {
            return Ok(bytes);
        }
        let mut out = Vec::new();
        GzDecoder::new(bytes.as_slice())
            .take(max + 1)
            .read_to_end(&mut out)
            .map_err(|e| broken(format!("gzip: {e}")))?;
        if out.len() as u64 > max {
            return Err(broken(format!("a part larger than {max} bytes once decompressed")));
        }
        Ok(out)
    }

    fn directory(&mut self, offset: u64, length: u64) -> Result<Vec<Entry>> {
        let raw = self.read_at(offset, length, MAX_DIRECTORY)?;
        parse_directory(&Self::decompress(raw, self.header.internal_compression, MAX_DIRECTORY)?)
    }

    /// The image bytes of tile z/x/y, `None` when the file has no such tile.
    pub fn tile(&mut self, z: u8, x: u32, y: u32) -> Result<Option<Vec<u8>>> {
        let Some(id) = tile_id(z, x, y) else { return Ok(None) };
        let h = self.header.clone();
        let (mut offset, mut length) = (h.root_offset, h.root_length);
        for depth in 0..=MAX_DEPTH {
            let entries = self.directory(offset, length)?;
            let Some(e) = find(&entries, id) else { return Ok(None) };
            if e.run_length > 0 {
                if e.offset.checked_add(u64::from(e.length)).is_none_or(|end| end > h.data_length) {
                    return Err(broken(format!("tile {z}/{x}/{y} lies outside the tile data")));
                }
                let bytes = self.read_at(h.data_offset + e.offset, u64::from(e.length), MAX_TILE)?;
                return Ok(Some(Self::decompress(bytes, h.tile_compression, MAX_TILE)?));
            }
            if depth == MAX_DEPTH {
                break;
            }
            if e.offset.checked_add(u64::from(e.length)).is_none_or(|end| end > h.leaf_length) {
                return Err(broken("a leaf directory lies outside the leaf section"));
            }
            offset = h.leaf_offset + e.offset;
            length = u64::from(e.length);
        }
        Err(broken(format!("leaf directories nested deeper than {MAX_DEPTH}")))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    /// The first tile ids of the specification's ordering: zoom 0, then zoom 1 along the
    /// curve (0,0) (0,1) (1,1) (1,0), then zoom 2 starting at 5.
    #[test]
    fn tile_ids_follow_the_hilbert_curve() {
        assert_eq!(tile_id(0, 0, 0), Some(0));
        assert_eq!([tile_id(1, 0, 0), tile_id(1, 0, 1), tile_id(1, 1, 1), tile_id(1, 1, 0)], [Some(1), Some(2), Some(3), Some(4)]);
        assert_eq!(tile_id(2, 0, 0), Some(5));
        assert_eq!(tile_id(2, 3, 0), Some(20), "the last cell of zoom 2's curve");
        assert_eq!(tile_id(1, 2, 0), None);
        let mut seen: Vec<u64> = (0..8).flat_map(|x| (0..8).map(move |y| tile_id(3, x, y).expect("id"))).collect();
        seen.sort_unstable();
        assert_eq!(seen, (21..85).collect::<Vec<_>>(), "zoom 3 fills 21..85 once each");
    }

    fn push_varint(out: &mut Vec<u8>, mut v: u64) {
        loop {
            let byte = (v & 0x7f) as u8;
            v >>= 7;
            if v == 0 {
                out.push(byte);
                return;
            }
            out.push(byte | 0x80);
        }
    }

    fn encode_directory(entries: &[Entry]) -> Vec<u8> {
        let mut out = Vec::new();
        push_varint(&mut out, entries.len() as u64);
        let mut last = 0;
        for e in entries {
            push_varint(&mut out, e.tile_id - last);
            last = e.tile_id;
        }
        for e in entries {
            push_varint(&mut out, u64::from(e.run_length));
        }
        for e in entries {
            push_varint(&mut out, u64::from(e.length));
        }
        for (i, e) in entries.iter().enumerate() {
            let follows = i > 0 && e.offset == entries[i - 1].offset + u64::from(entries[i - 1].length);
            push_varint(&mut out, if follows { 0 } else { e.offset + 1 });
        }
        out
    }

    fn gzip(b: &[u8]) -> Vec<u8> {
        use std::io::Write;
        let mut g = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
        g.write_all(b).expect("gzip");
        g.finish().expect("gzip")
    }

    /// A PMTiles v3 file of PNG tiles written per the specification: tiles sorted by id,
    /// identical neighbours as one run; with `leaf`, the root holds one leaf-directory entry
    /// and the entries sit in the leaf section; with `gz`, directories are gzip-compressed.
    pub(crate) fn write(tiles: &[(u8, u32, u32, Vec<u8>)], leaf: bool, gz: bool) -> Vec<u8> {
        let mut sorted: Vec<(u64, &Vec<u8>)> = tiles.iter().map(|(z, x, y, b)| (tile_id(*z, *x, *y).expect("id"), b)).collect();
        sorted.sort_by_key(|(id, _)| *id);
        let mut data = Vec::new();
        let mut entries: Vec<Entry> = Vec::new();
        for (id, bytes) in sorted {
            if let Some(last) = entries.last_mut() {
                let prev = &data[last.offset as usize..][..last.length as usize];
                if last.tile_id + u64::from(last.run_length) == id && prev == bytes.as_slice() {
                    last.run_length += 1;
                    continue;
                }
            }
            entries.push(Entry { tile_id: id, offset: data.len() as u64, length: bytes.len() as u32, run_length: 1 });
            data.extend_from_slice(bytes);
        }
        let pack = |b: Vec<u8>| if gz { gzip(&b) } else { b };
        let (root, leaves) = if leaf {
            let leaves = pack(encode_directory(&entries));
            let root = pack(encode_directory(&[Entry { tile_id: entries[0].tile_id, offset: 0, length: leaves.len() as u32, run_length: 0 }]));
            (root, leaves)
        } else {
            (pack(encode_directory(&entries)), Vec::new())
        };
        let metadata = pack(b"{}".to_vec());
        let root_offset = HEADER_LEN as u64;
        let meta_offset = root_offset + root.len() as u64;
        let leaf_offset = meta_offset + metadata.len() as u64;
        let data_offset = leaf_offset + leaves.len() as u64;
        let mut h = Vec::with_capacity(HEADER_LEN);
        h.extend_from_slice(b"PMTiles");
        h.push(3);
        for v in [
            root_offset,
            root.len() as u64,
            meta_offset,
            metadata.len() as u64,
            leaf_offset,
            leaves.len() as u64,
            data_offset,
            data.len() as u64,
            tiles.len() as u64,
            entries.len() as u64,
            entries.len() as u64,
        ] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h.push(1); // clustered
        h.push(if gz { COMPRESSION_GZIP } else { COMPRESSION_NONE }); // internal compression
        h.push(COMPRESSION_NONE); // tile compression
        h.push(2); // png
        let zooms: Vec<u8> = tiles.iter().map(|t| t.0).collect();
        h.push(zooms.iter().copied().min().unwrap_or(0));
        h.push(zooms.iter().copied().max().unwrap_or(0));
        for v in [-1_800_000_000i32, -850_000_000, 1_800_000_000, 850_000_000] {
            h.extend_from_slice(&v.to_le_bytes());
        }
        h.push(0);
        h.extend_from_slice(&0i32.to_le_bytes());
        h.extend_from_slice(&0i32.to_le_bytes());
        assert_eq!(h.len(), HEADER_LEN);
        [h, root, metadata, leaves, data].concat()
    }

    fn fake_png(tag: u8) -> Vec<u8> {
        let mut b = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A];
        b.extend(std::iter::repeat_n(tag, 40));
        b
    }

    fn sample() -> Vec<(u8, u32, u32, Vec<u8>)> {
        let mut tiles = vec![(0, 0, 0, fake_png(0)), (1, 0, 0, fake_png(1)), (1, 1, 1, fake_png(2))];
        // Zoom 3: a run of identical tiles and a different one.
        for x in 0..4 {
            tiles.push((3, x, 0, fake_png(9)));
        }
        tiles.push((3, 7, 7, fake_png(7)));
        tiles
    }

    fn check(path: &Path) {
        let mut pm = PmTiles::open(path).expect("open");
        assert_eq!(pm.header.content_type(), "image/png");
        assert_eq!(pm.tile(0, 0, 0).expect("0/0/0"), Some(fake_png(0)));
        assert_eq!(pm.tile(1, 1, 1).expect("1/1/1"), Some(fake_png(2)));
        assert_eq!(pm.tile(1, 1, 0).expect("1/1/0"), None, "a tile the file does not hold");
        for x in 0..4 {
            assert_eq!(pm.tile(3, x, 0).expect("run"), Some(fake_png(9)), "3/{x}/0 of the run");
        }
        assert_eq!(pm.tile(3, 7, 7).expect("3/7/7"), Some(fake_png(7)));
        assert_eq!(pm.tile(3, 5, 5).expect("3/5/5"), None);
        assert_eq!(pm.tile(12, 1, 1).expect("deep"), None);
    }

    /// Tiles are found through the root directory, through a leaf directory, with and
    /// without gzip-compressed directories.
    #[test]
    fn tiles_are_read_from_root_and_leaf_directories() {
        let dir = tempfile::tempdir().expect("tmp");
        for (leaf, gz) in [(false, false), (true, false), (false, true), (true, true)] {
            let path = dir.path().join(format!("t-{leaf}-{gz}.pmtiles"));
            std::fs::write(&path, write(&sample(), leaf, gz)).expect("write");
            check(&path);
        }
    }

    /// Truncated files and files with corrupted bytes (every position, a few values) are
    /// refused or read: never a panic, never a read past the file or a huge allocation.
    #[test]
    fn broken_files_never_panic() {
        let dir = tempfile::tempdir().expect("tmp");
        let path = dir.path().join("broken.pmtiles");
        for (leaf, gz) in [(false, false), (true, true)] {
            let good = write(&sample(), leaf, gz);
            let probe = |bytes: &[u8]| {
                std::fs::write(&path, bytes).expect("write");
                if let Ok(mut pm) = PmTiles::open(&path) {
                    for (z, x, y) in [(0, 0, 0), (1, 1, 1), (3, 2, 0), (3, 7, 7), (3, 5, 5)] {
                        let _ = pm.tile(z, x, y);
                    }
                }
            };
            for len in 0..good.len() {
                probe(&good[..len]);
            }
            for at in 0..good.len() {
                for v in [0x00, 0xFF, 0x80, good[at] ^ 0x01] {
                    let mut bad = good.clone();
                    bad[at] = v;
                    probe(&bad);
                }
            }
        }
        // Named refusals.
        std::fs::write(&path, b"not a tile file at all, just text").expect("write");
        assert!(matches!(PmTiles::open(&path), Err(PmError::NotPmtiles)));
        let mut vector = write(&sample(), false, false);
        vector[99] = 1;
        std::fs::write(&path, &vector).expect("write");
        assert!(matches!(PmTiles::open(&path), Err(PmError::NotRaster(_))));
        let mut v2 = write(&sample(), false, false);
        v2[7] = 2;
        std::fs::write(&path, &v2).expect("write");
        assert!(matches!(PmTiles::open(&path), Err(PmError::Version(2))));
        let good = write(&sample(), false, false);
        std::fs::write(&path, &good[..good.len() - 1]).expect("write");
        assert!(matches!(PmTiles::open(&path), Err(PmError::Broken(_))), "the tile data ends after the file");
    }
}
