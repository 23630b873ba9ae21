"""Write the small uploads used by the ai4os / ai4os-hub corpus cases (standard library only).

    python3 tests/compat/corpus/files/make_ai4os_files.py

Deterministic: running it again rewrites the same bytes.
- plankton.png: a 4x4 RGB PNG
- fish.jpg: an 8x8 uniform grey baseline JPEG (one DC table, one AC table, one block)
- images.zip: plankton.png, fish.jpg and readme.txt (not an image) at the root
- drift.npy: a float32 numpy array of shape (2, 3)
- thermal.npy.lz4: bytes starting with the LZ4 frame magic (the module only checks the name)
- notes.txt: a line of text
"""

import io
import os
import struct
import zipfile
import zlib

HERE = os.path.dirname(os.path.abspath(__file__))


def png() -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        return (struct.pack(">I", len(data)) + kind + data
                + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))

    rows = b"".join(b"\x00" + b"".join(bytes((x * 60, y * 60, 128)) for x in range(4))
                    for y in range(4))
    header = struct.pack(">IIBBBBB", 4, 4, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def jpeg() -> bytes:
    def segment(marker: int, data: bytes) -> bytes:
        return struct.pack(">BBH", 0xFF, marker, len(data) + 2) + data

    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\x00" + b"\x01" * 64
    sof = struct.pack(">BHHB", 8, 8, 8, 1) + b"\x01\x11\x00"
    # one code of length 1 per table: DC category 0, AC end-of-block
    dht_dc = b"\x00" + b"\x01" + b"\x00" * 15 + b"\x00"
    dht_ac = b"\x10" + b"\x01" + b"\x00" * 15 + b"\x00"
    sos = b"\x01\x01\x00\x00\x3f\x00"
    scan = b"\x3f"  # bits 0 (DC diff 0), 0 (EOB), padded with ones
    return (b"\xff\xd8" + segment(0xE0, app0) + segment(0xDB, dqt) + segment(0xC0, sof)
            + segment(0xC4, dht_dc) + segment(0xC4, dht_ac) + segment(0xDA, sos) + scan
            + b"\xff\xd9")


def npy() -> bytes:
    header = "{'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }"
    header += " " * (63 - (10 + len(header)) % 64) + "\n"
    body = struct.pack("<6f", 0.5, 1.0, 1.5, 2.0, 2.5, 3.0)
    return b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode() + body


def zipped(members: dict) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            info = zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, data)
    return buf.getvalue()


def main() -> None:
    files = {
        "plankton.png": png(),
        "fish.jpg": jpeg(),
        "drift.npy": npy(),
        "thermal.npy.lz4": b"\x04\x22\x4d\x18" + b"\x00" * 12,
        "notes.txt": b"a few words for the ai4os corpus\n",
    }
    files["images.zip"] = zipped({"plankton.png": files["plankton.png"],
                                  "fish.jpg": files["fish.jpg"],
                                  "readme.txt": files["notes.txt"]})
    for name, data in files.items():
        with open(os.path.join(HERE, name), "wb") as handle:
            handle.write(data)
        print("%-16s %5d bytes" % (name, len(data)))


if __name__ == "__main__":
    main()
