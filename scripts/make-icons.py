#!/usr/bin/env python3
"""Draw the Relevé icon (a teal drop holding a white meter dial) as RGBA PNGs.

Standard library only (zlib + struct). Writes src-tauri/icons/{32x32,128x128,128x128@2x,icon}.png.
Deterministic: rerunning produces identical files.
"""
import math
import os
import struct
import zlib

TEAL = (0, 128, 128)
WHITE = (255, 255, 255)
DARK = (0, 77, 77)
SS = 4  # supersampling per axis


def inside_drop(x, y):
    """Drop in unit square: circle at the bottom, tangent lines up to a point at the top."""
    cx, cy, r = 0.5, 0.62, 0.33
    if (x - cx) ** 2 + (y - cy) ** 2 <= r * r:
        return True
    tip_y = 0.06
    d = cy - tip_y
    ang = math.asin(r / d)  # half-angle of the cone from the tip
    if tip_y <= y <= cy:
        half = (y - tip_y) * math.tan(ang)
        # the cone meets the circle at the tangent points; inside cone above them is fine
        return abs(x - cx) <= half and y <= cy - r * math.sin(ang) + 1e-9 or False
    return False


def shade(x, y):
    """Colour (r, g, b, a) of the point (x, y) in the unit square."""
    if not inside_drop(x, y):
        return (0, 0, 0, 0)
    cx, cy = 0.5, 0.63
    dx, dy = x - cx, y - cy
    rr = math.hypot(dx, dy)
    if rr <= 0.205:
        # white dial with a teal needle pointing up-right and a dark hub
        if rr <= 0.035:
            return DARK + (255,)
        ang = math.radians(-50)  # needle direction (screen coords, y down)
        ux, uy = math.sin(-ang), -math.cos(-ang)
        along = dx * ux + dy * uy
        across = abs(-dx * uy + dy * ux)
        if 0 <= along <= 0.16 and across <= 0.022:
            return DARK + (255,)
        # tick marks on the upper half of the dial
        if 0.15 <= rr <= 0.19 and dy < 0.02:
            a = math.degrees(math.atan2(dx, -dy))
            if min(abs(a - t) for t in range(-90, 91, 30)) < 5:
                return TEAL + (255,)
        return WHITE + (255,)
    return TEAL + (255,)


def render(size):
    rows = []
    n = SS * SS
    for py in range(size):
        row = bytearray([0])  # filter type 0
        for px in range(size):
            acc = [0, 0, 0, 0]
            for sy in range(SS):
                for sx in range(SS):
                    c = shade((px + (sx + 0.5) / SS) / size, (py + (sy + 0.5) / SS) / size)
                    a = c[3]
                    acc[0] += c[0] * a
                    acc[1] += c[1] * a
                    acc[2] += c[2] * a
                    acc[3] += a
            a = acc[3]
            if a:
                row += bytes([acc[0] // a, acc[1] // a, acc[2] // a, a // n])
            else:
                row += b"\0\0\0\0"
        rows.append(bytes(row))
    return b"".join(rows)


def png(size):
    def chunk(kind, data):
        c = kind + data
        return struct.pack(">I", len(data)) + c + struct.pack(">I", zlib.crc32(c) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", size, size, 8, 6, 0, 0, 0)  # 8-bit RGBA
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr)
            + chunk(b"IDAT", zlib.compress(render(size), 9)) + chunk(b"IEND", b""))


def main():
    out = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "src-tauri", "icons")
    os.makedirs(out, exist_ok=True)
    for name, size in [("32x32.png", 32), ("128x128.png", 128), ("128x128@2x.png", 256), ("icon.png", 512)]:
        with open(os.path.join(out, name), "wb") as f:
            f.write(png(size))
        print("wrote", os.path.normpath(os.path.join(out, name)))


if __name__ == "__main__":
    main()
