"""What an upload may be called and hold: model, post and file names and their types, checked
before anything is signed or stored (pure: the browser's and the server's paths share it)."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from domain.catalogue.keys import PROFILE_FOLDER, KeyKind, extension, parse_key
from domain.errors import Invalid

MAX_NAME = 200  # characters of one model, post or file name
MAX_KEY_BYTES = 1024  # S3's limit on a key, in UTF-8
MAX_FILES = 500  # files in one upload
# The media the key rules accept that browsers play; each extension's canonical type first.
TYPES: dict[str, tuple[str, ...]] = {
    "jpg": ("image/jpeg", "image/pjpeg"),
    "jpeg": ("image/jpeg", "image/pjpeg"),
    "png": ("image/png",),
    "webp": ("image/webp",),
    "mp4": ("video/mp4",),
    "mov": ("video/quicktime",),
    "webm": ("video/webm",),
    "m4v": ("video/x-m4v", "video/mp4"),
}
ALLOWED = ", ".join(TYPES)
# What browsers may say about a file they cannot name the type of: the extension decides.
UNKNOWN_TYPES = frozenset({"", "application/octet-stream"})


@dataclass(frozen=True)
class Planned:
    """One file of an upload: its name, where it goes, and the type it is stored with."""

    name: str
    key: str
    content_type: str
    size: int


def check_name(field: str, value: str) -> str:
    """A model, post or file name that becomes one segment of a key, or a 400 saying why not."""
    shown = repr(value[:60]) + ("…" if len(value) > 60 else "")
    if not value or not value.strip():
        raise Invalid(f"The {field} name is empty: type a name.", field=field)
    if "/" in value:
        raise Invalid(
            f"The {field} name {shown} holds a '/': names are one folder, remove it.", field=field
        )
    if value[0] in "._":
        raise Invalid(
            f"The {field} name {shown} starts with {value[0]!r}: the sync ignores such names "
            "(hidden or reserved); start it with a letter or a digit.",
            field=field,
        )
    bad = next((c for c in value if unicodedata.category(c) == "Cc"), None)
    if bad is not None:
        raise Invalid(
            f"The {field} name {shown} holds the control character U+{ord(bad):04X}: remove it.",
            field=field,
        )
    if len(value) > MAX_NAME:
        raise Invalid(
            f"The {field} name {shown} is {len(value)} characters long: use at most {MAX_NAME}.",
            field=field,
        )
    return value


def check_length(field: str, value: str) -> str:
    """A name typed so far (suggestions): any characters, at most MAX_NAME of them."""
    if len(value) > MAX_NAME:
        raise Invalid(
            f"The {field} name is {len(value)} characters long: use at most {MAX_NAME}.",
            field=field,
        )
    return value


def content_type(name: str, declared: str) -> str:
    """The type a file is stored with: its extension's, if what the browser declared fits."""
    ext = extension(name)
    allowed = TYPES.get(ext)
    if allowed is None:
        shown = f".{ext} files" if ext else "Files without an extension"
        raise Invalid(f"{name!r}: {shown} cannot be uploaded: use {ALLOWED}.", field="file")
    declared = declared.strip().lower().split(";")[0].strip()
    if declared not in UNKNOWN_TYPES and declared not in allowed:
        raise Invalid(
            f"{name!r} is sent as {declared[:60]!r}, which is not a .{ext} file's type "
            f"({allowed[0]}): upload the real file, or rename it to its own extension.",
            field="file",
        )
    return allowed[0]


def check_size(name: str, size: int, limit: int) -> int:
    if size <= 0:
        raise Invalid(
            f"{name!r} is empty (0 bytes): pick the file again, or leave it out.", field="file"
        )
    if size > limit:
        raise Invalid(
            f"{name!r} is {human(size)}, over the upload limit of {human(limit)} "
            "(UPLOAD_MAX_BYTES): make it smaller, or raise the limit.",
            field="file",
        )
    return size


def plan(model: str, post: str, files: list[tuple[str, str, int]], limit: int) -> list[Planned]:
    """`files` as (name, declared type, size): where each goes, or a 400 for the first bad one."""
    check_name("model", model)
    check_name("post", post)
    if post == PROFILE_FOLDER:
        raise Invalid(
            f"A post cannot be called {PROFILE_FOLDER!r}: that folder holds the model's icon "
            "and banner. Pick another name.",
            field="post",
        )
    if not files:
        raise Invalid("No files were chosen: add at least one image or video.", field="file")
    if len(files) > MAX_FILES:
        raise Invalid(
            f"{len(files)} files at once is too many: upload at most {MAX_FILES}.", field="file"
        )
    planned: list[Planned] = []
    seen: set[str] = set()
    for name, declared, size in files:
        check_name("file", name)
        if name in seen:
            raise Invalid(f"{name!r} is chosen twice: leave one out.", field="file")
        seen.add(name)
        stored_as = content_type(name, declared)
        key = f"{model}/{post}/{name}"
        if len(key.encode()) > MAX_KEY_BYTES:
            raise Invalid(
                f"{key[:80]!r}… is longer than S3's {MAX_KEY_BYTES} bytes: shorten the names."
            )
        parsed = parse_key(key)
        assert parsed.kind in (KeyKind.POST_IMAGE, KeyKind.POST_VIDEO), key  # rules agree
        planned.append(Planned(name, key, stored_as, check_size(name, size, limit)))
    return planned


def human(size: int) -> str:
    """Bytes as people read them (binary units, as the limit is set)."""
    value = float(size)
    for unit in ("bytes", "KiB", "MiB", "GiB"):
        if value < 1024 or unit == "GiB":
            return f"{int(value)} bytes" if unit == "bytes" else f"{value:.1f} {unit}"
        value /= 1024
    return f"{size} bytes"
