"""Previews and poster frames from one original on disk: blocking work, run in a child process
under a memory ceiling (sandbox.py), or in a thread.

Bounded memory: nothing above MAX_PIXELS is opened at all, and what a decode would allocate is
estimated from the headers first (probe.py: a progressive JPEG keeps every coefficient, an
animated WebP several canvases) and refused above MAX_DECODE_BYTES. A JPEG is decoded already
reduced (`draft`); everything else is reduced right after decoding, in strips, before any
conversion or copy. The pixel cap applies to what is decoded, not to what a header says: every
decoded image and video frame is checked, a motion-JPEG packet's own frame header before it is
decoded, and a poster reads at most POSTER_PACKETS packets.
"""

from __future__ import annotations

import io
import math
from pathlib import Path

import av
import av.error
from PIL import Image, ImageOps

from domain.media import probe
from domain.media.rendered import MediaError, Rendered

PREVIEW_WIDTH = 480  # galleries, the public API's `preview`, a video's poster
THUMB_WIDTH = 160  # lists
MAX_WIDTH = 640  # no derivative is wider, whatever the widths above become
MAX_ASPECT = 3  # a derivative is at most 3 times as tall as it is wide
MAX_PIXELS = 100_000_000  # larger images are refused before decoding
MAX_DECODED_PIXELS = 40_000_000  # formats without reduced decoding (PNG, WebP, GIF...), frames
MAX_DECODE_BYTES = 192 * 2**20  # what one decode may allocate, as estimated from its headers
STRIP_PIXELS = 2_000_000  # converted a strip at a time when a mode has to change
REDUCING_GAP = 2  # reduced (box filter) to at least twice the preview, then resampled
POSTER_PACKETS = 48  # packets a poster may read after its seek (and again from the start)
WEBP_QUALITY = 80
POSTER_AT_S = 1.0  # a video's poster is the key frame at (or before) one second in

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow refuses twice this at open, warns above it
EXIF_ORIENTATION = 0x0112
IMAGE_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "AVIF"})


def render(path: Path, kind: str) -> Rendered:
    """Previews of an image, or a poster frame and duration of a video."""
    return render_video(path) if kind == "video" else render_image(path)


def render_image(path: Path) -> Rendered:
    try:
        with Image.open(path) as src:
            if src.format not in IMAGE_FORMATS:
                raise MediaError(f"{src.format} images are not supported: use JPEG, PNG or WebP.")
            width, height = src.size
            _check_pixels(width, height, src.format)
            turned = src.getexif().get(EXIF_ORIENTATION) in (5, 6, 7, 8)  # a quarter turn
            shown = (height, width) if turned else (width, height)
            box = _box(*shown)
            stored_box = (box[1], box[0]) if turned else box
            # JPEG: decode at 1/2, 1/4 or 1/8 scale, still covering the preview's box.
            src.draft("RGB", stored_box)  # src.size becomes the size it decodes to
            jpeg = src.format in ("JPEG", "MPO")
            need = probe.decode_bytes(src, probe.read_head(path) if jpeg else b"")
            if need > MAX_DECODE_BYTES:
                raise MediaError(_too_costly(need, width, height, src.format))
            src.load()
            _check_pixels(*src.size, f"decoded {src.format}")
            small = _reduced(src, stored_box)
            return _previews(ImageOps.exif_transpose(small), *shown)
    except MediaError:
        raise
    except MemoryError as exc:
        raise MediaError(out_of_memory(exc)) from exc
    except Image.DecompressionBombError as exc:
        raise MediaError(f"refused as a decompression bomb: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaError(f"not a readable image: {_said(exc, path)}") from exc


def _reduced(image: Image.Image, box: tuple[int, int]) -> Image.Image:
    """`image` in RGB or RGBA, reduced by a whole factor to at least REDUCING_GAP times `box`,
    with no full-size copy: a mode change, and Pillow's reduce of an image with alpha (which
    converts it to premultiplied alpha first), are done a strip at a time."""
    mode = "RGBA" if _has_alpha(image) else "RGB"
    factor = max(
        1, min(image.width // (box[0] * REDUCING_GAP), image.height // (box[1] * REDUCING_GAP))
    )
    if image.mode == mode and (mode == "RGB" or factor == 1):
        return image.reduce(factor) if factor > 1 else image
    out = Image.new(mode, (-(-image.width // factor), -(-image.height // factor)))
    step = max(1, STRIP_PIXELS // image.width // factor) * factor
    for top in range(0, image.height, step):
        strip = image.crop((0, top, image.width, min(image.height, top + step))).convert(mode)
        out.paste(strip.reduce(factor) if factor > 1 else strip, (0, top // factor))
    out.info = dict(image.info)  # its EXIF orientation
    return out


def render_video(path: Path) -> Rendered:
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                raise MediaError("the file holds no video stream.")
            stream = container.streams.video[0]
            stream.codec_context.thread_count = 1  # one frame: no decoding threads to pay for
            _check_pixels(stream.codec_context.width, stream.codec_context.height, "video")
            duration = _duration(container, stream)
            frame = _poster_frame(container, stream, duration)
            rotation = int(getattr(frame, "rotation", 0) or 0)
            turned = bool(rotation % 180)
            width, height = (frame.height, frame.width) if turned else (frame.width, frame.height)
            scale = min(1.0, REDUCING_GAP * _box(width, height)[0] / width)
            image = frame.to_image(  # type: ignore[no-untyped-call]
                width=max(1, math.ceil(frame.width * scale)),
                height=max(1, math.ceil(frame.height * scale)),
                interpolation="AREA",
            )
            if rotation:  # the display matrix's angle, counter-clockwise, as PIL rotates
                image = image.rotate(rotation, expand=True)
            result = _previews(image, width, height, poster=True)
            result.duration = duration
            return result
    except MediaError:
        raise
    except MemoryError as exc:
        raise MediaError(out_of_memory(exc)) from exc
    except (av.error.FFmpegError, OSError, ValueError, IndexError) as exc:
        raise MediaError(f"not a readable video: {_said(exc, path)}") from exc


def _said(exc: BaseException, path: Path) -> str:
    """A decoder's message without the worker's temporary file name."""
    text = str(exc).replace(f"'{path}'", "").replace(str(path), "").strip(" :")
    return text or type(exc).__name__


def _check_pixels(width: int, height: int, kind: str) -> None:
    if width <= 0 or height <= 0:
        raise MediaError(f"the file claims a size of {width}x{height} pixels.")
    cap = MAX_PIXELS if kind in ("JPEG", "MPO") else MAX_DECODED_PIXELS
    if width * height > cap:
        raise MediaError(
            f"{width}x{height} pixels ({width * height / 1e6:,.0f} megapixels) is above the "
            f"{cap / 1e6:,.0f} megapixel limit for {kind} previews: a smaller export previews."
        )


def _box(width: int, height: int, target: int = PREVIEW_WIDTH) -> tuple[int, int]:
    """The size an image fits into at `target` px wide, at most MAX_ASPECT times as tall."""
    target = min(target, MAX_WIDTH)
    scale = min(target / width, target * MAX_ASPECT / height, 1.0)
    return max(1, math.ceil(width * scale)), max(1, math.ceil(height * scale))


def _previews(image: Image.Image, width: int, height: int, *, poster: bool = False) -> Rendered:
    image = image.convert("RGBA" if _has_alpha(image) else "RGB")
    large = image.copy()
    large.thumbnail(_box(*image.size, PREVIEW_WIDTH), Image.Resampling.LANCZOS)
    small = large.copy()
    small.thumbnail(_box(*large.size, THUMB_WIDTH), Image.Resampling.LANCZOS)
    return Rendered(
        {"poster" if poster else "w480": _webp(large), "w160": _webp(small)}, width, height
    )


def _has_alpha(image: Image.Image) -> bool:
    return image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info


def _webp(image: Image.Image) -> bytes:
    assert image.size[0] <= MAX_WIDTH
    out = io.BytesIO()
    image.save(out, "WEBP", quality=WEBP_QUALITY, method=4)
    return out.getvalue()


def _duration(container: av.container.InputContainer, stream: av.VideoStream) -> float | None:
    if stream.duration is not None and stream.time_base is not None:
        return float(stream.duration * stream.time_base)
    if container.duration is not None:
        return container.duration / av.time_base
    return None


def _poster_frame(
    container: av.container.InputContainer, stream: av.VideoStream, duration: float | None
) -> av.VideoFrame:
    """The key frame at POSTER_AT_S (the very first frames are often black), else the first."""
    if duration and duration > 2 * POSTER_AT_S and stream.time_base is not None:
        try:
            container.seek(int(POSTER_AT_S / stream.time_base), stream=stream)
            if frame := _first_frame(container, stream):
                return frame
        except av.error.FFmpegError:
            pass
        container.seek(0, stream=stream)
    if frame := _first_frame(container, stream):
        return frame
    raise MediaError(
        f"no frame of the video could be decoded from its first {POSTER_PACKETS} packets "
        "(truncated or corrupt)."
    )


def _first_frame(
    container: av.container.InputContainer, stream: av.VideoStream
) -> av.VideoFrame | None:
    """The first frame decoded from at most POSTER_PACKETS packets. A frame's size is checked
    before it is converted, a motion-JPEG packet's before it is even decoded."""
    for count, packet in enumerate(container.demux(stream)):
        if count >= POSTER_PACKETS:
            return None
        if packet.size and stream.codec_context.name == "mjpeg":
            layout = probe.jpeg_layout(bytes(packet)[: probe.HEAD_LIMIT])
            if layout:
                _check_pixels(layout.width, layout.height, "video frame")
        for frame in packet.decode():
            if isinstance(frame, av.VideoFrame):
                _check_pixels(frame.width, frame.height, "video frame")
                return frame
    return None


def _too_costly(need: int, width: int, height: int, fmt: str | None) -> str:
    return (
        f"decoding this {width}x{height} {fmt} would take about {need / 2**20:,.0f} MB, above "
        f"the {MAX_DECODE_BYTES / 2**20:,.0f} MB a preview may use: a smaller export previews."
    )


def out_of_memory(exc: BaseException) -> str:
    detail = str(exc).strip()
    return (
        "decoding it ran out of the memory a preview may use (a decompression bomb, or far "
        "larger than its header says)" + (f": {detail}" if detail else ".")
    )
