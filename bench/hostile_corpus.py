"""Hostile media: small files that decode to far more memory than their size or header says.

Every file is written byte by byte (no full-size image is ever held here), so a test and a
benchmark can make the whole corpus in a second or two with a few MB of memory:

    corpus(folder) -> {name: path}     # what bench/hostile_media.py and the tests put in a bucket

The items, and what each one costs a decoder that trusts it (measured on the original code):
- mjpeg_liar.mov: motion JPEG whose container header and first frame say 64x64 and whose later
  frames (the one at 1 s included) are 12000x12000.
- rgba_6324.png: 6324x6324 RGBA, just under the 40 MP cap for PNG, compresses to ~170 KB.
- palette_6300.png: 6300x6300 palette PNG with transparency (converted to RGBA when rendered).
- progressive_10k.jpg: 10000x10000 progressive JPEG (4:4:4): at the 100 MP JPEG cap, and a
  progressive decode keeps every DCT coefficient (600 MB) whatever scale is asked for.
- anim_canvas.gif: 6000x6000 canvas, 2,000 frames of 1x1.
- anim_canvas.webp: 6000x6000 canvas, 2,000 frames of 1x1 (lossless).
- many_frames.mov: 20,000 motion-JPEG frames of 16x16 (a poster must not read them all).
"""

from __future__ import annotations

import io
import struct
import zlib
from collections.abc import Callable
from fractions import Fraction
from pathlib import Path

import av
from PIL import Image

# --- JPEG, written by hand: one Huffman symbol per table, so a flat block costs 1-2 bits ----


class _Bits:
    def __init__(self) -> None:
        self.out = bytearray()
        self.acc = 0
        self.n = 0

    def put(self, value: int, length: int) -> None:
        self.acc = (self.acc << length) | value
        self.n += length
        while self.n >= 8:
            self.n -= 8
            byte = (self.acc >> self.n) & 0xFF
            self.out += b"\xff\x00" if byte == 0xFF else bytes([byte])
        self.acc &= (1 << self.n) - 1

    def zeros(self, count: int) -> None:
        """`count` 0-bits, fast (flat blocks are all zeros)."""
        while count and self.n:
            self.put(0, 1)
            count -= 1
        self.out += bytes(count // 8)
        if count % 8:
            self.put(0, count % 8)

    def flush(self) -> bytes:
        if self.n:
            self.put((1 << (8 - self.n)) - 1, 8 - self.n)
        return bytes(self.out)


def _segment(marker: int, body: bytes) -> bytes:
    return struct.pack(">HH", 0xFF00 | marker, len(body) + 2) + body


def _dht(table_class: int, table_id: int, symbols: list[int]) -> bytes:
    """Codes of length 1 and then 2, 3...: symbol i gets code length i + 1 (one per length)."""
    counts = [1 if i < len(symbols) else 0 for i in range(16)]
    return _segment(0xC4, bytes([table_class << 4 | table_id, *counts, *symbols]))


def _jpeg_head(width: int, height: int, sof: int, sampling: int) -> bytes:
    comps = [(1, sampling), (2, 0x11), (3, 0x11)]
    frame = struct.pack(">BHHB", 8, height, width, 3) + b"".join(
        bytes([cid, samp, 0]) for cid, samp in comps
    )
    return b"\xff\xd8" + _segment(0xDB, bytes([0]) + bytes([1] * 64)) + _segment(sof, frame)


def flat_jpeg(width: int, height: int) -> bytes:
    """A grey baseline 4:2:0 JPEG: each block is 2 bits (DC difference 0, end of block)."""
    mcus = -(-width // 16) * -(-height // 16)
    bits = _Bits()
    bits.zeros(mcus * 6 * 2)  # 4 luma + 2 chroma blocks
    scan = _segment(0xDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 63, 0]))
    tables = _dht(0, 0, [0]) + _dht(1, 0, [0])
    return _jpeg_head(width, height, 0xC0, 0x22) + tables + scan + bits.flush() + b"\xff\xd9"


def progressive_jpeg(width: int, height: int) -> bytes:
    """A grey progressive 4:4:4 JPEG: one DC scan, then one AC scan per component made of
    end-of-band runs (EOBr: 2**r blocks plus r extra bits, up to 32,767 blocks a symbol)."""
    blocks = -(-width // 8) * -(-height // 8)
    out = [_jpeg_head(width, height, 0xC2, 0x11), _dht(0, 0, [0])]
    dc = _Bits()
    dc.zeros(blocks * 3)
    out += [_segment(0xDA, bytes([3, 1, 0x00, 2, 0x00, 3, 0x00, 0, 0, 0])), dc.flush()]
    out.append(_dht(1, 0, [r << 4 for r in range(14, -1, -1)]))  # EOB14 gets the 1-bit code
    for cid in (1, 2, 3):
        ac = _Bits()
        left = blocks
        while left:
            r = min(14, left.bit_length() - 1)
            run = min(left, (2 << r) - 1)
            index = 14 - r  # code: `index` ones then a zero
            ac.put(((1 << index) - 1) << 1, index + 1)
            if r:
                ac.put(run - (1 << r), r)
            left -= run
        out += [_segment(0xDA, bytes([1, cid, 0x00, 1, 63, 0])), ac.flush()]
    return b"".join(out) + b"\xff\xd9"


# --- PNG: rows streamed through zlib (Up filter: every byte after the first row is 0) ---------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def flat_png(width: int, height: int, *, palette: bool = False) -> bytes:
    """A PNG of one colour: RGBA (half transparent), or 8-bit palette with a tRNS entry."""
    if palette:
        header = struct.pack(">IIBBBBB", width, height, 8, 3, 0, 0, 0)
        extra = _chunk(b"PLTE", bytes(range(256)) * 3) + _chunk(b"tRNS", bytes([128] * 256))
        first = b"\x00" + bytes([7] * width)
    else:
        header = struct.pack(">IIBBBBB", width, height, 8, 6, 0, 0, 0)
        extra = b""
        first = b"\x01" + bytes([20, 120, 220, 128]) + bytes(4 * (width - 1))  # Sub filter
    rest = b"\x02" + bytes(len(first) - 1)
    packer = zlib.compressobj(9)
    parts = [packer.compress(first)]
    parts += [packer.compress(rest) for _ in range(height - 1)]
    parts.append(packer.flush())
    idat = b"".join(parts)
    return (
        b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", header) + extra + _chunk(b"IDAT", idat)
        + _chunk(b"IEND", b"")
    )  # fmt: skip


# --- GIF: LZW of a one-colour run, codes growing to the longest string (4,091 pixels) --------


def _lzw_run(pixels: int) -> bytes:
    """LZW (minimum code size 2) for `pixels` of colour 0: clear, codes 0, 6, 7, ... each one
    pixel longer, then code 4095 again and again once the table is full (no clear), end."""
    out, acc, nbits = bytearray(), 0, 0
    next_code, width = 6, 3

    def emit(code: int, size: int) -> None:
        nonlocal acc, nbits
        acc |= code << nbits
        nbits += size
        while nbits >= 8:
            out.append(acc & 0xFF)
            acc >>= 8
            nbits -= 8

    emit(4, 3)
    first, length = True, 1
    while pixels:
        take = min(length, pixels)
        emit(0 if take == 1 else 4 + take, width)
        pixels -= take
        if not first and next_code < 4096:  # the decoder adds an entry from the 2nd code on
            next_code += 1
            if next_code == 1 << width and width < 12:
                width += 1
        first = False
        length = min(length + 1, 4091)
    emit(5, width)
    if nbits:
        out.append(acc & 0xFF)
    data = bytes(out)
    blocks = b"".join(
        bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255)
    )
    return b"\x02" + blocks + b"\x00"


def animated_gif(width: int, height: int, frames: int) -> bytes:
    """A `width`x`height` canvas filled by the first frame, then `frames - 1` frames of 1x1."""
    out = [b"GIF89a", struct.pack("<HHBBB", width, height, 0x80, 0, 0), b"\x00\x00\x00\xff\xff\xff"]
    out.append(b"\x21\xff\x0bNETSCAPE2.0\x03\x01\x00\x00\x00")
    for i in range(frames):
        x, y = (0, 0) if i == 0 else (i % width, (i // width) % height)
        w, h = (width, height) if i == 0 else (1, 1)
        out.append(b"\x21\xf9\x04\x00\x02\x00\x00\x00")  # 20 ms a frame
        out.append(b"\x2c" + struct.pack("<HHHHB", x, y, w, h, 0))
        out.append(_lzw_run(w * h))
    return b"".join(out) + b"\x3b"


# --- WebP: a VP8X canvas and ANMF frames that each hold a 1x1 lossless image -----------------


def _riff_chunk(kind: bytes, data: bytes) -> bytes:
    return kind + struct.pack("<I", len(data)) + data + (b"\x00" if len(data) % 2 else b"")


def animated_webp(width: int, height: int, frames: int) -> bytes:
    one = io.BytesIO()
    Image.new("RGBA", (1, 1), (200, 30, 30, 255)).save(one, "WEBP", lossless=True)
    vp8l = one.getvalue()[12:]  # the "VP8L" chunk of a simple lossless file
    assert vp8l[:4] == b"VP8L", vp8l[:4]

    def u24(v: int) -> bytes:
        return struct.pack("<I", v)[:3]

    body = [
        b"WEBP",
        _riff_chunk(b"VP8X", bytes([0x12, 0, 0, 0]) + u24(width - 1) + u24(height - 1)),
    ]
    body.append(_riff_chunk(b"ANIM", b"\xff\xff\xff\xff\x00\x00"))
    for i in range(frames):
        x, y = (i * 2) % width, ((i * 2) // width * 2) % height
        head = u24(x // 2) + u24(y // 2) + u24(0) + u24(0) + u24(20) + b"\x00"
        body.append(_riff_chunk(b"ANMF", head + vp8l))
    data = b"".join(body)
    return b"RIFF" + struct.pack("<I", len(data)) + data


# --- motion JPEG in a QuickTime file, the JPEG packets muxed as they are ---------------------


def mjpeg_mov(path: Path, frames: Callable[[int], bytes], count: int, fps: int) -> Path:
    """A .mov whose header says the size of frame 0; frame i is `frames(i)` (a JPEG)."""
    first = Image.open(io.BytesIO(frames(0))).size
    with av.open(str(path), "w", format="mov") as out:
        stream = out.add_stream("mjpeg", rate=fps)
        stream.width, stream.height = first
        stream.pix_fmt = "yuvj420p"
        stream.time_base = Fraction(1, fps)
        for i in range(count):
            packet = av.Packet(frames(i))
            packet.stream = stream
            packet.time_base = Fraction(1, fps)
            packet.pts = packet.dts = i
            packet.duration = 1
            packet.is_keyframe = True
            out.mux(packet)
    return path


# --- the corpus ---------------------------------------------------------------------------


def _liar_frames(index: int) -> bytes:
    return flat_jpeg(64, 64) if index == 0 else flat_jpeg(12000, 12000)


def _tiny_frames(index: int) -> bytes:
    return flat_jpeg(16, 16)


IMAGES: dict[str, Callable[[], bytes]] = {
    "rgba_6324.png": lambda: flat_png(6324, 6324),
    "palette_6300.png": lambda: flat_png(6300, 6300, palette=True),
    "progressive_10k.jpg": lambda: progressive_jpeg(10000, 10000),
    "anim_canvas.gif": lambda: animated_gif(6000, 6000, 2000),
    "anim_canvas.webp": lambda: animated_webp(6000, 6000, 2000),
}
VIDEOS: dict[str, Callable[[Path], Path]] = {
    "mjpeg_liar.mov": lambda p: mjpeg_mov(p, _liar_frames, 6, 2),
    "many_frames.mov": lambda p: mjpeg_mov(p, _tiny_frames, 20000, 25),
}


def corpus(folder: Path) -> dict[str, Path]:
    """Write every hostile file into `folder`; returns name -> path."""
    folder.mkdir(parents=True, exist_ok=True)
    made = {name: make(folder / name) for name, make in VIDEOS.items()}
    for name, draw in IMAGES.items():
        made[name] = folder / name
        made[name].write_bytes(draw())
    return made


def kind_of(name: str) -> str:
    return "video" if name.endswith(".mov") else "image"


# What the fixed code records for each item: a substring of its error, or None for a preview
# (made within the memory a render may use).
EXPECTED: dict[str, str | None] = {
    "mjpeg_liar.mov": "12000x12000 pixels",
    "rgba_6324.png": None,
    "palette_6300.png": None,
    "progressive_10k.jpg": "would take about",
    "anim_canvas.gif": None,
    "anim_canvas.webp": "would take about",
    "many_frames.mov": None,
}
