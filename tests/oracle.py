"""An independent model of the staged catalogue, written from docs/keys.md (not from domain/).

Used by property tests: after a sync, the staged tables must equal `expected(bucket)`.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

from domain.platform.s3 import S3Object

IMAGES = {"jpg", "jpeg", "png", "webp", "gif", "avif"}
VIDEOS = {"mp4", "mov", "webm", "m4v", "mkv", "avi", "wmv", "flv"}


def _ext(name: str) -> str:
    return name.rsplit(".", 1)[1].lower() if "." in name[1:] else ""


def _stem(name: str) -> str:
    return name.rsplit(".", 1)[0] if "." in name[1:] else name


def classify(key: str) -> tuple[str, str, str | None] | None:
    """(kind, model, post) or None when the key is ignored."""
    parts = key.split("/")
    if not key or key.endswith("/") or len(parts) < 2:
        return None
    if any(p == "" or p.startswith(".") for p in parts) or parts[0].startswith("_"):
        return None
    model, name = parts[0], parts[-1]
    ext = _ext(name)
    if len(parts) == 2:
        return ("model_image", model, None) if ext in IMAGES else None
    if parts[1] == "profile":
        if ext not in IMAGES:
            return None
        stem = _stem(name)
        kind = (
            "icon"
            if stem in ("icon", "avatar")
            else ("banner" if stem in ("banner", "cover") else "profile_image")
        )
        return kind, model, None
    if ext in VIDEOS:
        return "video", model, parts[1]
    if ext in IMAGES:
        return "image", model, parts[1]
    return None


def expected(keys: list[str]) -> dict[str, Any]:
    """folder -> {thumbnail, icon, banner, counts, posts: {folder: [(key, type)]}}."""
    out: dict[str, Any] = {}
    for key in sorted(keys):
        parsed = classify(key)
        if parsed is None:
            continue
        kind, model, post = parsed
        m = out.setdefault(
            model,
            {"thumbnail": None, "icon": None, "banner": None, "model_images": [], "posts": {}},
        )
        if kind in ("image", "video"):
            m["posts"].setdefault(post, []).append((key, kind))
        elif kind == "icon":
            m["icon"] = m["icon"] or key
        elif kind == "banner":
            m["banner"] = m["banner"] or key
        elif kind == "model_image":
            m["model_images"].append(key)
    for m in out.values():
        post_images = [k for media in m["posts"].values() for k, t in media if t == "image"]
        firsts = sorted(post_images)
        m["thumbnail"] = (m["model_images"] or firsts or [None])[0]
        images = sum(1 for media in m["posts"].values() for _, t in media if t == "image")
        videos = sum(1 for media in m["posts"].values() for _, t in media if t == "video")
        m["counts"] = (len(m["posts"]), images, videos)
        del m["model_images"]
    return out


class MemoryBucket:
    """A listing source over a dict, with S3's ordering and delimiter semantics."""

    PAGE = 7

    def __init__(self) -> None:
        self.objects: dict[str, tuple[str, int]] = {}

    async def list_top(self) -> tuple[list[str], list[S3Object]]:
        prefixes = sorted({k.split("/", 1)[0] + "/" for k in self.objects if "/" in k})
        loose = [
            S3Object(k, s, e, None) for k, (e, s) in sorted(self.objects.items()) if "/" not in k
        ]
        return prefixes, loose

    async def list_level(self, prefix: str) -> tuple[list[str], list[S3Object]]:
        under = [k for k in self.objects if k.startswith(prefix)]
        prefixes = sorted(
            {
                prefix + k[len(prefix) :].split("/", 1)[0] + "/"
                for k in under
                if "/" in k[len(prefix) :]
            }
        )
        return prefixes, [self._object(k) for k in sorted(under) if "/" not in k[len(prefix) :]]

    async def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]:
        keys = sorted(k for k in self.objects if k.startswith(prefix))
        for start in range(0, len(keys), 1000):
            yield [self._object(k) for k in keys[start : start + 1000]]

    async def list_after(self, start_after: str) -> AsyncIterator[list[S3Object]]:
        """Pages of PAGE keys (small, so ranges end mid-page and span pages), as S3 orders."""
        keys = sorted(k for k in self.objects if k > start_after)
        for start in range(0, len(keys), self.PAGE):
            yield [self._object(k) for k in keys[start : start + self.PAGE]]

    def _object(self, key: str) -> S3Object:
        etag, size = self.objects[key]
        return S3Object(key, size, etag, None)
