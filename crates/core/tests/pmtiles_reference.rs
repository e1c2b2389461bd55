//! PMTiles files our reader did not write: tests/pmtiles/reference_writer.py makes them with
//! the format's reference Python library (protomaps' `pmtiles` on PyPI, installed by
//! scripts/install-deps), and every tile of every zoom must read back as written, and a
//! tile the file does not have as none.
//!
//! Two files: a clustered one of zooms 0 to 8 (87,381 tiles; the library writes leaf
//! directories and run-length entries for consecutive identical tiles), and an unclustered
//! one of zooms 0 to 6 with gzip-compressed tiles (the reader gives the image bytes).

use releve_core::pmtiles::PmTiles;
use std::path::{Path, PathBuf};
use std::process::Command;

const SEA: &[u8] = b"sea tile, the same everywhere";

/// The bytes the writer gave tile z/x/y (the same rule as reference_writer.py).
fn content(z: u8, x: u32, y: u32) -> Vec<u8> {
    if x < (1u32 << z) / 4 || (x + y).is_multiple_of(7) {
        SEA.to_vec()
    } else {
        format!("tile {z}/{x}/{y}").into_bytes()
    }
}

fn reference_file(dir: &Path, name: &str, zooms: u8, flags: &[&str]) -> PathBuf {
    let script = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../tests/pmtiles/reference_writer.py");
    let out = dir.join(name);
    let run = Command::new("python3").arg(&script).arg(&out).arg(zooms.to_string()).args(flags).output().expect("python3 runs");
    assert!(
        run.status.success(),
        "the reference writer failed (is PyPI's `pmtiles` installed? scripts/install-deps installs it): {}",
        String::from_utf8_lossy(&run.stderr)
    );
    out
}

/// Every tile of zooms 0..`zooms` as written (above zoom 6, one column and row in three, so
/// each leaf directory is still read), and tiles outside as none.
fn read_all(path: &Path, zooms: u8) -> usize {
    let mut file = PmTiles::open(path).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
    assert_eq!((file.header.min_zoom, file.header.max_zoom, file.header.tile_type), (0, zooms - 1, 2));
    let mut read = 0;
    for z in 0..zooms {
        let step = if z > 6 { 3 } else { 1 };
        for x in (0..(1u32 << z)).step_by(step) {
            for y in (0..(1u32 << z)).step_by(step) {
                let got = file.tile(z, x, y).unwrap_or_else(|e| panic!("tile {z}/{x}/{y}: {e}")).unwrap_or_else(|| panic!("tile {z}/{x}/{y} missing"));
                assert_eq!(got, content(z, x, y), "tile {z}/{x}/{y}");
                read += 1;
            }
        }
    }
    // One zoom deeper: not in the file.
    for (x, y) in [(0, 0), (1 << zooms as u32 >> 1, 3), ((1 << zooms) - 1, (1 << zooms) - 1)] {
        assert_eq!(file.tile(zooms, x, y).expect("read"), None, "tile {zooms}/{x}/{y}");
    }
    read
}

#[test]
fn a_clustered_file_with_leaf_directories_reads_tile_for_tile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = reference_file(dir.path(), "clustered.pmtiles", 9, &[]);
    // The file really has leaf directories and run-length entries (header: leaf directories'
    // length at byte 48, addressed tiles at 72, tile entries at 80).
    let bytes = std::fs::read(&path).expect("read");
    let u64_at = |i: usize| u64::from_le_bytes(bytes[i..i + 8].try_into().expect("8 bytes"));
    assert!(u64_at(48) > 0, "leaf directories");
    assert!(u64_at(80) < u64_at(72), "run-length entries: {} entries for {} tiles", u64_at(80), u64_at(72));
    // Zooms 0-6 whole (5,461), 7 and 8 one in nine (43 x 43 + 86 x 86).
    assert_eq!(read_all(&path, 9), 5_461 + 43 * 43 + 86 * 86);
}

#[test]
fn an_unclustered_file_of_gzip_tiles_reads_tile_for_tile() {
    let dir = tempfile::tempdir().expect("tempdir");
    let path = reference_file(dir.path(), "gzip.pmtiles", 7, &["--gzip-tiles", "--unclustered"]);
    // Header: clustered at byte 96, tile compression at 98 (2: gzip).
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!((bytes[96], bytes[98]), (0, 2), "not clustered, tiles gzip");
    // No tile is stored as plain text: the reader decompressed each one.
    assert!(!bytes.windows(7).any(|w| w == b"tile 6/"), "tiles stored compressed");
    assert_eq!(read_all(&path, 7), 5_461);
}
