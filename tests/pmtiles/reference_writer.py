#!/usr/bin/env python3
"""Write a PMTiles v3 file with the format's reference Python library (protomaps' `pmtiles`
on PyPI), for crates/core/tests/pmtiles_reference.rs: our reader must read every tile of a
file it did not write.

Tiles of zooms 0 to MAX_ZOOM-1, all of them; a tile's bytes are `tile z/x/y`, except the
west quarter of each zoom and every tile with (x + y) % 7 == 0, which are the same "sea"
tile: the library stores it once, consecutive ones as run-length entries, the others as
entries pointing at the same bytes. With enough tiles the root directory overflows 16 KiB
and the library writes leaf directories.

usage: reference_writer.py OUT MAX_ZOOM [--gzip-tiles] [--unclustered]
"""
import gzip
import sys

from pmtiles.tile import Compression, TileType, zxy_to_tileid
from pmtiles.writer import Writer

SEA = b"sea tile, the same everywhere"


def content(z, x, y):
    return SEA if x < (1 << z) // 4 or (x + y) % 7 == 0 else f"tile {z}/{x}/{y}".encode()


def main():
    out, max_zoom = sys.argv[1], int(sys.argv[2])
    gzip_tiles = "--gzip-tiles" in sys.argv
    unclustered = "--unclustered" in sys.argv
    tiles = []
    for z in range(max_zoom):
        for x in range(1 << z):
            for y in range(1 << z):
                tiles.append((zxy_to_tileid(z, x, y), z, x, y))
    tiles.sort()
    if unclustered:
        # Written out of tile-id order: the library marks the file not clustered.
        tiles = tiles[1::2] + tiles[0::2]
    with open(out, "wb") as f:
        w = Writer(f)
        for tile_id, z, x, y in tiles:
            data = content(z, x, y)
            w.write_tile(tile_id, gzip.compress(data, mtime=0) if gzip_tiles else data)
        w.finalize(
            {
                "tile_compression": Compression.GZIP if gzip_tiles else Compression.NONE,
                "tile_type": TileType.PNG,
                "min_lon_e7": -50000000,
                "min_lat_e7": 420000000,
                "max_lon_e7": 80000000,
                "max_lat_e7": 510000000,
                "center_zoom": 5,
                "center_lon_e7": 45000000,
                "center_lat_e7": 455000000,
            },
            {"name": "reference", "attribution": "test"},
        )


if __name__ == "__main__":
    main()
