"""Write the small sample uploads used by the deephdc fixtures' cases (hdc_* files).

    python3 tests/compat/corpus/files/make_deephdc_files.py

Standard library only. The fixtures never decode images, so the JPEG is only a JFIF header
around a comment. The files are committed; rerunning rewrites them byte for byte.
"""

import io
import struct
import wave
import zipfile
import zlib
from pathlib import Path

HERE = Path(__file__).parent


def png(width: int, height: int) -> bytes:
    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    rows = b"".join(
        b"\x00" + b"".join(bytes((x * 40 % 256, y * 60 % 256, 128)) for x in range(width))
        for y in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header)
            + chunk(b"IDAT", zlib.compress(rows, 9)) + chunk(b"IEND", b""))


def jpeg(comment: bytes) -> bytes:
    jfif = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return (b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(jfif) + 2) + jfif
            + b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment + b"\xff\xd9")


def wav() -> bytes:
    out = io.BytesIO()
    with wave.open(out, "wb") as handle:
        handle.setnchannels(1)
        handle.setsampwidth(2)
        handle.setframerate(8000)
        handle.writeframes(b"".join(struct.pack("<h", (i * 997) % 4000 - 2000)
                                    for i in range(400)))
    return out.getvalue()


def zipped(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(zipfile.ZipInfo(name, date_time=(2024, 1, 1, 0, 0, 0)), data)
    return out.getvalue()


def main() -> None:
    (HERE / "hdc_cat.png").write_bytes(png(6, 4))
    (HERE / "hdc_tile.png").write_bytes(png(3, 3))
    (HERE / "hdc_dog.jpg").write_bytes(jpeg(b"a dog, in words only"))
    (HERE / "hdc_sound.wav").write_bytes(wav())
    (HERE / "hdc_notes.txt").write_text("not an image\nsecond line\n")
    (HERE / "hdc_vaihingen_area1.hdf5").write_bytes(b"\x89HDF\r\n\x1a\n" + bytes(range(56)))
    (HERE / "hdc_images.zip").write_bytes(zipped({"img1.png": png(2, 2), "img2.png": png(3, 2)}))


if __name__ == "__main__":
    main()
