"""What a render gives back, or why it could not: light types, so the web and the workers that
only hand files to the render children never import Pillow and PyAV (about 0.3 s a start)."""

from __future__ import annotations

from dataclasses import dataclass, field


class MediaError(Exception):
    """The original cannot be previewed (corrupt, unsupported, too large): said for an admin."""


@dataclass
class Rendered:
    files: dict[str, bytes] = field(default_factory=dict)  # "w160", "w480" or "poster"
    width: int = 0  # the original's, as displayed (EXIF orientation or rotation applied)
    height: int = 0
    duration: float | None = None
