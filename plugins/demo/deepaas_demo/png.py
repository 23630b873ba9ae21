"""A tiny PNG writer (standard library only) and the bar chart that predict draws.

A real module would use Pillow or matplotlib; the demo stays dependency-free so that it installs
anywhere the server does.
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Sequence

__all__ = ["SIGNATURE", "encode_rgb", "bar_chart", "chart_size"]

SIGNATURE = b"\x89PNG\r\n\x1a\n"

BAR_WIDTH = 12
GAP = 4
HEIGHT = 64

_BACKGROUND = (250, 250, 250)
_TOP = (40, 90, 200)  # bars fade from this colour at the top ...
_BOTTOM = (120, 200, 240)  # ... to this one at the bottom


def _chunk(kind: bytes, data: bytes) -> bytes:
    """One PNG chunk: length, type, data, and a CRC over type and data."""
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def encode_rgb(width: int, height: int, rows: Sequence[bytes]) -> bytes:
    """Encode 8-bit RGB rows (``3 * width`` bytes each) as a PNG file."""
    if len(rows) != height or any(len(row) != 3 * width for row in rows):
        raise ValueError("rows do not match %dx%d RGB" % (width, height))
    # Bit depth 8, colour type 2 (RGB), default compression, filter and no interlace.
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    # Every scanline starts with its filter type; 0 ("none") keeps the writer trivial.
    raw = b"".join(b"\x00" + row for row in rows)
    return (SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b""))


def chart_size(count: int) -> tuple[int, int]:
    """Width and height of the chart for ``count`` bars (one empty slot when there are none)."""
    return GAP + max(count, 1) * (BAR_WIDTH + GAP), HEIGHT


def _blend(y: int) -> bytes:
    """The bar colour at row ``y``: a vertical gradient."""
    t = y / (HEIGHT - 1)
    return bytes(round(a + (b - a) * t) for a, b in zip(_TOP, _BOTTOM, strict=True))


def _row(y: int, heights: Sequence[int], width: int) -> bytes:
    row = bytearray(bytes(_BACKGROUND) * width)
    colour = _blend(y)
    for i, bar in enumerate(heights):
        if y >= HEIGHT - bar:  # rows count from the top, bars grow from the bottom
            start = 3 * (GAP + i * (BAR_WIDTH + GAP))
            row[start:start + 3 * BAR_WIDTH] = colour * BAR_WIDTH
    return bytes(row)


def bar_chart(values: Sequence[float]) -> bytes:
    """A PNG bar chart of ``values`` (negative values draw as empty bars)."""
    width, height = chart_size(len(values))
    top = max([v for v in values if v > 0], default=1.0)
    heights = [round(max(v, 0.0) / top * (HEIGHT - GAP)) for v in values]
    return encode_rgb(width, height, [_row(y, heights, width) for y in range(height)])
