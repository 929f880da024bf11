"""Bucket key classification, as docs/keys.md states the rules (a pure function)."""

from __future__ import annotations

import enum
import re
from dataclasses import dataclass
from urllib.parse import quote

IMAGE_EXTENSIONS = frozenset({"jpg", "jpeg", "png", "webp", "gif", "avif"})
VIDEO_EXTENSIONS = frozenset({"mp4", "mov", "webm", "m4v", "mkv", "avi", "wmv", "flv"})
ICON_STEMS = frozenset({"icon", "avatar"})
BANNER_STEMS = frozenset({"banner", "cover"})
PROFILE_FOLDER = "profile"
# Where this project writes its own objects (previews: domain/media/derive.py's DERIVED_PREFIX).
# They are the project's, not the bucket's content: neither a model's nor an ignored key.
DERIVED_PREFIX = "_derived/"
# Bumped whenever these rules change, so an unchanged listing is re-parsed once.
RULES_VERSION = "1"


class KeyKind(enum.StrEnum):
    IGNORED = "ignored"
    MODEL_IMAGE = "model_image"
    ICON = "icon"
    BANNER = "banner"
    PROFILE_IMAGE = "profile_image"
    POST_IMAGE = "post_image"
    POST_VIDEO = "post_video"
    DERIVED = "derived"  # the project's own object under DERIVED_PREFIX: not counted, not kept


@dataclass(frozen=True, slots=True)
class ParsedKey:
    kind: KeyKind
    model: str | None = None
    post: str | None = None

    @property
    def is_post_media(self) -> bool:
        return self.kind in (KeyKind.POST_IMAGE, KeyKind.POST_VIDEO)


def extension(name: str) -> str:
    """The lower-cased text after the last dot of a file name ('' when none)."""
    dot = name.rfind(".")
    return name[dot + 1 :].lower() if dot > 0 else ""


def stem(name: str) -> str:
    dot = name.rfind(".")
    return name[:dot] if dot > 0 else name


def parse_key(key: str) -> ParsedKey:
    """Classify one bucket key; docs/keys.md has the rules this follows."""
    return ParsedKey(*classify(key))


Classified = tuple[KeyKind, str | None, str | None]
_IGNORED: Classified = (KeyKind.IGNORED, None, None)
_DERIVED: Classified = (KeyKind.DERIVED, None, None)


def classify(key: str) -> Classified:
    """parse_key as a plain (kind, model, post) tuple: the sync classifies every key it lists,
    and building a frozen dataclass per key nearly doubled the cost (1.8 µs against 1.0)."""
    # Empty, folder marker, an empty segment, a segment starting with ".", a reserved "_"
    # first segment, or NUL (no database text can hold it): all checked in C, not per segment.
    if not key or key[-1] == "/" or key[0] in "/._" or "//" in key or "/." in key or "\x00" in key:
        return _DERIVED if key.startswith(DERIVED_PREFIX) else _IGNORED
    segments = key.split("/")
    if len(segments) < 2:
        return _IGNORED
    model = segments[0]
    filename = segments[-1]
    ext = extension(filename)
    if len(segments) == 2:
        if ext in IMAGE_EXTENSIONS:
            return (KeyKind.MODEL_IMAGE, model, None)
        return _IGNORED
    folder = segments[1]
    if folder == PROFILE_FOLDER:
        if ext not in IMAGE_EXTENSIONS:
            return _IGNORED
        file_stem = stem(filename)
        if file_stem in ICON_STEMS:
            return (KeyKind.ICON, model, None)
        if file_stem in BANNER_STEMS:
            return (KeyKind.BANNER, model, None)
        return (KeyKind.PROFILE_IMAGE, model, None)
    if ext in VIDEO_EXTENSIONS:
        return (KeyKind.POST_VIDEO, model, folder)
    if ext in IMAGE_EXTENSIONS:
        return (KeyKind.POST_IMAGE, model, folder)
    return _IGNORED


def is_model_folder(name: str) -> bool:
    """Whether a top-level folder of the bucket can hold a model (`_derived`, `_x` and `.x`
    cannot): the folders a sync counts as its models."""
    return classify(name + "/x.jpg")[1] == name


_PLAIN = re.compile(r"[A-Za-z0-9._~/-]*")


def encode_key(key: str) -> str:
    """Percent-encode each segment (RFC 3986 unreserved characters kept)."""
    if _PLAIN.fullmatch(key):  # nothing to encode: skip quote(), the sync's hot path
        return key
    return "/".join(quote(segment, safe="") for segment in key.split("/"))


def media_url(public_base: str, key: str) -> str:
    return f"{public_base.rstrip('/')}/{encode_key(key)}"


def ignore_reason(key: str) -> str:
    """Why parse_key ignores this key, in docs/keys.md's words (run pages list them). The
    project's own objects (DERIVED_PREFIX) are not ignored: a run never keeps them."""
    if not key:
        return "an empty key"
    if key.startswith(DERIVED_PREFIX):
        return "not ignored: the project's own preview (_derived/), neither counted nor kept"
    if key[-1] == "/":
        return "a folder marker (ends with /)"
    if "\x00" in key:
        return "holds a NUL character, which no database text can store"
    segments = key.split("/")
    if len(segments) < 2:
        return "a file at the top of the bucket, in no model folder"
    if "" in segments:
        return "an empty path segment (// or a leading /)"
    if any(s.startswith(".") for s in segments):
        return "a hidden file or folder (a segment starts with .)"
    if key[0] == "_":
        return "a model folder starting with _ (kept for the project's own files)"
    ext = extension(segments[-1])
    shown = f".{ext}" if ext else "no extension"
    if len(segments) == 2:
        return f"not an image ({shown}) directly in the model folder"
    if segments[1] == PROFILE_FOLDER:
        return f"not an image ({shown}) in the profile folder"
    return f"neither an image nor a video ({shown})"
