"""Previews and poster frames from one original on disk: blocking work, run in a thread.

Bounded memory: a JPEG is decoded already reduced (`draft`), other formats only up to
MAX_DECODED_PIXELS, and nothing above MAX_PIXELS is opened at all (decompression bombs).
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from pathlib import Path

import av
import av.error
from PIL import Image, ImageOps

PREVIEW_WIDTH = 480  # galleries, the public API's `preview`, a video's poster
THUMB_WIDTH = 160  # lists
MAX_WIDTH = 640  # no derivative is wider, whatever the widths above become
MAX_ASPECT = 3  # a derivative is at most 3 times as tall as it is wide
MAX_PIXELS = 100_000_000  # larger images are refused before decoding
MAX_DECODED_PIXELS = 40_000_000  # formats without reduced decoding (PNG, WebP, GIF...)
WEBP_QUALITY = 80
POSTER_AT_S = 1.0  # a video's poster is the key frame at (or before) one second in

Image.MAX_IMAGE_PIXELS = MAX_PIXELS  # Pillow refuses twice this at open, warns above it
EXIF_ORIENTATION = 0x0112
IMAGE_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "GIF", "AVIF"})


class MediaError(Exception):
    """The original cannot be previewed (corrupt, unsupported, too large): said for an admin."""


@dataclass
class Rendered:
    files: dict[str, bytes] = field(default_factory=dict)  # "w160", "w480" or "poster"
    width: int = 0  # the original's, as displayed (EXIF orientation or rotation applied)
    height: int = 0
    duration: float | None = None


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
            # JPEG: decode at 1/2, 1/4 or 1/8 scale, still covering the preview's box.
            src.draft("RGB", (box[1], box[0]) if turned else box)
            return _previews(ImageOps.exif_transpose(src), *shown)
    except MediaError:
        raise
    except Image.DecompressionBombError as exc:
        raise MediaError(f"refused as a decompression bomb: {exc}") from exc
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        raise MediaError(f"not a readable image: {_said(exc, path)}") from exc


def render_video(path: Path) -> Rendered:
    try:
        with av.open(str(path), metadata_errors="ignore") as container:
            if not container.streams.video:
                raise MediaError("the file holds no video stream.")
            stream = container.streams.video[0]
            width, height = stream.codec_context.width, stream.codec_context.height
            _check_pixels(width, height, "video")
            duration = _duration(container, stream)
            frame = _poster_frame(container, stream, duration)
            image = frame.to_image()  # type: ignore[no-untyped-call]
            rotation = int(getattr(frame, "rotation", 0) or 0)
            if rotation:  # the display matrix's angle, counter-clockwise, as PIL rotates
                image = image.rotate(rotation, expand=True)
                if rotation % 180:
                    width, height = height, width
            result = _previews(image, width, height, poster=True)
            result.duration = duration
            return result
    except MediaError:
        raise
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
            for frame in container.decode(stream):
                return frame
        except av.error.FFmpegError:
            pass
        container.seek(0, stream=stream)
    for frame in container.decode(stream):
        return frame
    raise MediaError("no frame of the video could be decoded (truncated or corrupt).")
