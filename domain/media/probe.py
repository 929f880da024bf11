"""What decoding an original will cost, read before anything is decoded.

A header is a claim, not a size: these estimates only decide what is refused outright. Every
decoded image and frame is checked again (render.py), and each render runs under a memory
ceiling (sandbox.py) for whatever a decoder allocates that no estimate foresaw.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from pathlib import Path

from PIL import Image

# Start-of-frame markers (baseline, extended, progressive, lossless; Huffman or arithmetic).
_SOF = frozenset({0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF})
_PROGRESSIVE = frozenset({0xC2, 0xC6, 0xCA, 0xCE})
_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # TEM, RSTn: no length
HEAD_LIMIT = 4 * 2**20  # markers before the first scan: EXIF, ICC and XMP fit well within this
# Bytes a pixel costs in Pillow's own storage (RGB is stored 4 bytes a pixel).
_MODE_BYTES = {"1": 1, "L": 1, "P": 1, "I;16": 2, "I;16B": 2, "I;16L": 2}


@dataclass(frozen=True, slots=True)
class JpegLayout:
    width: int
    height: int
    progressive: bool
    sampling: tuple[tuple[int, int], ...]  # (h, v) per component
    multi_scan: bool  # progressive, or a first scan without every component

    def coefficient_bytes(self) -> int:
        """What libjpeg keeps for a multi-scan image: every DCT coefficient of every block,
        at full size whatever scale is asked for (2 bytes x 64 a block). 0 for one scan."""
        if not self.multi_scan:
            return 0
        h_max = max(h for h, _ in self.sampling)
        v_max = max(v for _, v in self.sampling)
        blocks = sum(
            _ceil(_ceil(self.width * h, h_max), 8) * _ceil(_ceil(self.height * v, v_max), 8)
            for h, v in self.sampling
        )
        return blocks * 128


def _ceil(a: int, b: int) -> int:
    return -(-a // b)


def jpeg_layout(data: bytes) -> JpegLayout | None:
    """The frame header of the JPEG in `data` (a file's head, or a motion-JPEG packet), read
    up to its first scan; None if there is none."""
    size, pos = len(data), 2
    if data[:2] != b"\xff\xd8":
        return None
    frame: tuple[int, int, bool, tuple[tuple[int, int], ...], tuple[int, ...]] | None = None
    while pos + 4 <= size:
        if data[pos] != 0xFF:
            return None
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in _STANDALONE:
            pos += 2
            continue
        (length,) = struct.unpack_from(">H", data, pos + 2)
        body = data[pos + 4 : pos + 2 + length]
        if marker in _SOF and len(body) >= 6:
            height, width, count = struct.unpack_from(">HHB", body, 1)
            comps = [body[6 + 3 * i : 9 + 3 * i] for i in range(count)]
            if any(len(c) < 3 for c in comps) or not comps:
                return None
            sampling = tuple((c[1] >> 4 or 1, c[1] & 15 or 1) for c in comps)
            frame = (width, height, marker in _PROGRESSIVE, sampling, tuple(c[0] for c in comps))
        elif marker == 0xDA and frame is not None and body:
            width, height, progressive, sampling, ids = frame
            multi = progressive or body[0] < len(ids)
            return JpegLayout(width, height, progressive, sampling, multi)
        elif marker in (0xD9, 0xDA):
            return None
        pos += 2 + length
    if frame is None:
        return None
    width, height, progressive, sampling, _ = frame
    return JpegLayout(width, height, progressive, sampling, progressive)


def read_head(path: Path) -> bytes:
    with path.open("rb") as file:
        return file.read(HEAD_LIMIT)


def decode_bytes(image: Image.Image, head: bytes) -> int:
    """Roughly what loading the (first frame of) `image` allocates at its size (for a JPEG,
    the size its draft decodes to), `head` being a JPEG's first bytes."""
    width, height = image.size
    fmt = image.format or ""
    per_pixel = _MODE_BYTES.get(image.mode, 4)
    if fmt in ("JPEG", "MPO"):
        layout = jpeg_layout(head)
        coefficients = layout.coefficient_bytes() if layout else 0
        return coefficients + width * height * 4
    if fmt == "WEBP":
        # libwebp decodes into a buffer Pillow then copies; an animation keeps two canvases more.
        copies = 4 if getattr(image, "is_animated", False) else 2
        return width * height * 4 * copies
    if fmt == "GIF":
        return width * height * 2  # the frame and the canvas it is pasted on
    return width * height * per_pixel
