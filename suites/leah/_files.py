"""Small, valid files built in code for the upload clauses (no fixtures on disk).

Each generator returns well-formed bytes a real validator (finfo, an image decoder, a PDF
parser) accepts, so a refusal means the server refused the type or size, not a broken file.
"""

from __future__ import annotations

import struct
import zlib
from functools import lru_cache

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png(size: int | None = None) -> bytes:
    """A 1x1 grey PNG; with ``size``, padded to exactly that many bytes by a private ancillary
    chunk that decoders skip (so the image stays valid whatever its size)."""
    header = _png_chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0))
    pixels = _png_chunk(b"IDAT", zlib.compress(b"\x00\x80"))
    end = _png_chunk(b"IEND", b"")
    base = PNG_SIGNATURE + header + pixels
    if size is None:
        return base + end
    padding = size - len(base) - len(end) - 12
    if padding < 0:
        raise ValueError(f"a PNG cannot be smaller than {len(base) + len(end) + 12} bytes")
    return base + _png_chunk(b"tlCp", bytes(padding)) + end


@lru_cache(maxsize=4)
def big_png(size: int) -> bytes:
    """``png(size)``, built once per size per process (the 15 MB files are costly)."""
    return png(size)


def jpeg() -> bytes:
    """A baseline 1x1 greyscale JPEG (JFIF) with one-code Huffman tables."""
    soi = b"\xff\xd8"
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    dqt = b"\xff\xdb" + struct.pack(">H", 67) + b"\x00" + bytes([1] * 64)
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, 1, 1, 1) + b"\x01\x11\x00"
    # DC table 0 and AC table 0, each with a single 1-bit code for symbol 0x00.
    dht_dc = b"\xff\xc4" + struct.pack(">H", 20) + b"\x00" + bytes([1] + [0] * 15) + b"\x00"
    dht_ac = b"\xff\xc4" + struct.pack(">H", 20) + b"\x10" + bytes([1] + [0] * 15) + b"\x00"
    sos = b"\xff\xda" + struct.pack(">HB", 8, 1) + b"\x01\x00\x00\x3f\x00"
    # DC difference category 0 ("0"), then end-of-block ("0"), padded with 1 bits.
    scan = b"\x3f"
    eoi = b"\xff\xd9"
    return soi + app0 + dqt + sof0 + dht_dc + dht_ac + sos + scan + eoi


def pdf() -> bytes:
    """A one-page PDF 1.4 with a correct cross-reference table."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 72 72] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (
        len(objects) + 1,
        xref,
    )
    return bytes(out)


def gif() -> bytes:
    """A 1x1 GIF89a."""
    return (
        b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff"
        b"!\xf9\x04\x01\x00\x00\x00\x00,\x00\x00\x00\x00\x01\x00\x01\x00\x00\x02\x02D\x01\x00;"
    )


def text() -> bytes:
    return b"teleconform upload probe: plain text is not an accepted format\n"


def executable() -> bytes:
    """The start of a Windows PE executable (MZ header pointing at a PE signature)."""
    dos = bytearray(b"MZ" + bytes(58))
    dos += struct.pack("<I", 64)
    return bytes(dos) + b"PE\x00\x00" + bytes(60)


def fake_pdf() -> bytes:
    """Text that only claims, by its name, to be a PDF."""
    return b"This file is named .pdf but it is plain text, not a PDF document.\n"
