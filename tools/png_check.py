#!/usr/bin/env python3
"""Checks that a PNG screenshot shows a rendered page: enough non-white pixels, spread over many
rows (text and table lines), not a blank or single-colour error screen; with --colors, that each
given colour covers at least so many pixels (the state lanes of the visual timeline). Standard
library only.

    png_check.py SHOT.png [--colors '#2e9e4f:2000,#8c8c8c:500']"""
import struct
import sys
import zlib


def pixels(path):
    data = open(path, "rb").read()
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
    pos, chunks, width = 8, [], 0
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            width, height, depth, color = struct.unpack(">IIBB", body[:10])
            assert depth == 8 and color in (2, 6), f"unsupported PNG (depth {depth}, colour {color})"
            channels = 3 if color == 2 else 4
        elif kind == b"IDAT":
            chunks.append(body)
        pos += 12 + length
    raw = zlib.decompress(b"".join(chunks))
    stride = width * channels
    rows, prev = [], bytearray(stride)
    for y in range(height):
        f, line = raw[y * (stride + 1)], bytearray(raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)])
        for i in range(stride):
            a = line[i - channels] if i >= channels else 0
            b, c = prev[i], prev[i - channels] if i >= channels else 0
            if f == 1: line[i] = (line[i] + a) & 255
            elif f == 2: line[i] = (line[i] + b) & 255
            elif f == 3: line[i] = (line[i] + (a + b) // 2) & 255
            elif f == 4:
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                line[i] = (line[i] + (a if pa <= pb and pa <= pc else b if pb <= pc else c)) & 255
        rows.append(bytes(line))
        prev = line
    return width, height, channels, rows


def count_colors(rows, channels, wanted, tolerance=6):
    """Pixels within `tolerance` of each wanted (r, g, b)."""
    counts = {w: 0 for w in wanted}
    for row in rows:
        for x in range(0, len(row), channels):
            r, g, b = row[x], row[x + 1], row[x + 2]
            for w in wanted:
                if abs(r - w[0]) <= tolerance and abs(g - w[1]) <= tolerance and abs(b - w[2]) <= tolerance:
                    counts[w] += 1
    return counts


def main():
    width, height, channels, rows = pixels(sys.argv[1])
    if "--colors" in sys.argv:
        spec = sys.argv[sys.argv.index("--colors") + 1]
        wanted = {}
        for item in spec.split(","):
            hexcode, _, least = item.partition(":")
            rgb = tuple(int(hexcode.lstrip("#")[i:i + 2], 16) for i in (0, 2, 4))
            wanted[rgb] = (hexcode, int(least or 1))
        counts = count_colors(rows, channels, list(wanted))
        for rgb, (hexcode, least) in wanted.items():
            print(f"{hexcode}: {counts[rgb]} pixels (at least {least})")
        missing = [wanted[rgb][0] for rgb in wanted if counts[rgb] < wanted[rgb][1]]
        if missing:
            sys.exit(f"the picture lacks the colours {missing}: the state lanes are not drawn")
    dark_rows = 0
    dark = 0
    for row in rows:
        n = sum(1 for x in range(0, len(row), channels) if row[x] < 128 and row[x + 1] < 128 and row[x + 2] < 128)
        dark += n
        dark_rows += n > 0
    share = dark / (width * height)
    print(f"{width}x{height}: {dark_rows} rows with dark pixels, {share:.2%} dark")
    if dark_rows < height // 5 or not 0.002 < share < 0.5:
        sys.exit("the screenshot does not look like a rendered timeline")


if __name__ == "__main__":
    main()
