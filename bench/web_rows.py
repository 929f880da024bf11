"""The web benchmark's rows, generated in id order for COPY: staged models, posts and media, and
the production models and posts an activation of some of them would leave.

Posts per model cycle 1, 3, 2, 2 (two on average) with `media_per_post` media each (5 by default:
one or two videos, the rest images; with 1, images and videos alternate). Names are creator-style
handles, unique and deterministic. A production model is what `staging/activation.py` makes of
its staged folder: named after it, its slug the folder's slugified (with the staged id appended
when two folders slugify alike), `source_folder` and `whitelabel_model` pointing back, published,
its posts' main item, thumbnail and media list as `activation_plan.wanted_posts` picks them; the
staged model is then `active`.
"""

from __future__ import annotations

import json
import random
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.production.lifecycle import main_item
from domain.staging.activation import slugify

POSTS_CYCLE = (1, 3, 2, 2)
BASE_URL = "https://cdn.example.com/creatorflix"
# fmt: off
FIRST = (
    "aria", "mia", "luna", "ella", "zoe", "chloe", "ivy", "ruby", "stella", "nova", "jade", "skye",
    "lily", "rose", "hazel", "violet", "aurora", "scarlett", "willow", "daisy", "layla", "nina",
    "sofia", "kira", "maya", "emma", "olivia", "amber", "sasha", "jenna", "bella", "lexi", "megan",
    "tara", "gigi", "coco", "remy", "alexis", "jordan", "riley", "casey", "quinn", "sienna",
    "paige",
)
LAST = (
    "blake", "rose", "monroe", "hart", "vale", "star", "fox", "lane", "reed", "knight", "steele",
    "winter", "frost", "storm", "rivers", "moon", "sky", "belle", "grace", "love", "kiss", "honey",
    "lush", "wild", "sweet", "cruz", "diaz", "vega", "king", "queen", "moss", "park", "stone",
    "wolfe", "hale", "blaze", "snow", "noir", "rain", "sage",
)
# fmt: on
STYLES = ("{f}{l}", "{f}_{l}", "{f}.{l}", "{F}{L}", "the{f}{l}", "{f}{l}xo", "{f}_{l}_official")
# Kinds in the order COPY must write them: each one's parents come before it.
KINDS = ("model", "post", "media", "pmodel", "ppost")
COLUMNS = {
    "model": (
        "whitelabel_models",
        ("id", "folder_name", "thumbnail_key", "icon_key", "banner_key", "extra_image_keys",
         "post_count", "image_count", "video_count", "status", "listing_hash", "ignored_keys",
         "last_synced_at", "created_at"),
    ),
    "post": (
        "whitelabel_posts",
        ("id", "whitelabel_model", "folder_name", "title", "media_cdns", "image_count",
         "video_count", "created_at"),
    ),
    "media": (
        "whitelabel_media",
        ("id", "whitelabel_post", "s3_key", "url", "type", "size", "etag", "last_modified",
         "created_at"),
    ),
    "pmodel": (
        "models",
        ("id", "name", "slug", "description", "icon_key", "banner_key", "thumbnail_key",
         "is_featured", "is_advertiser", "is_published", "post_count", "display_order",
         "whitelabel_model", "source_folder", "created_at", "updated_at"),
    ),
    "ppost": (
        "posts",
        ("id", "model", "source_key", "title", "content_key", "thumbnail_key", "type",
         "is_published", "media", "created_at", "updated_at"),
    ),
}  # fmt: skip


def creator_names(count: int, seed: int = 42) -> list[str]:
    rng = random.Random(seed)
    seen: set[str] = set()
    names: list[str] = []
    while len(names) < count:
        f, lname = rng.choice(FIRST), rng.choice(LAST)
        name = rng.choice(STYLES).format(f=f, l=lname, F=f.capitalize(), L=lname.capitalize())
        if name.lower() in seen:
            name = f"{name}{rng.randint(2, 9999)}"
        if name.lower() in seen:
            continue
        seen.add(name.lower())
        names.append(name)
    return names


def posts_of(model_index: int) -> int:
    return POSTS_CYCLE[model_index % len(POSTS_CYCLE)]


def media_types(post_index: int, per_post: int = 5) -> list[str]:
    """`per_post` media a post: one or two videos, the rest images (one alone alternates)."""
    videos = min(1 + post_index % 2, per_post - 1) if per_post > 1 else post_index % 2
    return ["image"] * (per_post - videos) + ["video"] * videos


def activated(models: int, production: int) -> set[int]:
    """The indexes of the staged models activated: every n-th, mixing the post counts."""
    step = max(1, models // max(1, production))
    jitter = len(POSTS_CYCLE) if step >= len(POSTS_CYCLE) else 1
    return {k * step + k % jitter for k in range(min(production, models))}


@dataclass
class RowMaker:
    """Rows of every kind for the names given, in id order; ids start at 1 in every table."""

    names: list[str]
    chosen: set[int]
    now: datetime
    media_per_post: int = 5
    post_id: int = 0
    media_id: int = 0
    model_id: int = 0  # production
    ppost_id: int = 0

    def __post_init__(self) -> None:
        self.slugs: set[str] = set()

    def rows(self) -> Iterator[tuple[str, tuple[Any, ...]]]:
        for i, name in enumerate(self.names):
            yield from self._model(i, name)

    def _model(self, i: int, name: str) -> Iterator[tuple[str, tuple[Any, ...]]]:
        staged_id, n_posts, first_post = i + 1, posts_of(i), self.post_id
        kinds = [media_types(first_post + p, self.media_per_post) for p in range(n_posts)]
        images = sum(k.count("image") for k in kinds)
        videos = sum(k.count("video") for k in kinds)
        synced = self.now - timedelta(minutes=(i * 7) % 43_200)
        status = "active" if i in self.chosen else "new"
        yield (
            "model",
            (
                staged_id, name, f"{name}/thumbnail.jpg", f"{name}/icon.jpg",
                f"{name}/banner.jpg", "[]", n_posts, images, videos, status,
                f"{staged_id:064x}", 0, synced, synced - timedelta(days=30),
            ),
        )  # fmt: skip
        posts: list[tuple[str, str, list[dict[str, str]]]] = []
        for p in range(n_posts):
            self.post_id += 1
            folder, title = f"post-{p + 1:03d}", f"Post {p + 1} by {name}"
            pairs = [(f"{name}/{folder}/{n:02d}.{'mp4' if k == 'video' else 'jpg'}", k)
                     for n, k in enumerate(kinds[p])]  # fmt: skip
            cdns = {
                "images": [f"{BASE_URL}/{k}" for k, t in pairs if t == "image"],
                "videos": [f"{BASE_URL}/{k}" for k, t in pairs if t == "video"],
            }
            yield (
                "post",
                (self.post_id, staged_id, folder, title, json.dumps(cdns),
                 len(cdns["images"]), len(cdns["videos"]), synced),
            )  # fmt: skip
            for key, kind in pairs:
                self.media_id += 1
                mid = self.media_id
                size = 250_000 + mid % 997 * 1_000 if kind == "image" else 25_000_000
                yield (
                    "media",
                    (mid, self.post_id, key, f"{BASE_URL}/{key}", kind, size, f"{mid:032x}",
                     synced, synced),
                )  # fmt: skip
            posts.append((folder, title, [{"key": k, "type": t} for k, t in pairs]))
        if status == "active":
            yield from self._production(staged_id, name, posts)

    def _production(
        self, staged_id: int, name: str, posts: list[tuple[str, str, list[dict[str, str]]]]
    ) -> Iterator[tuple[str, tuple[Any, ...]]]:
        self.model_id += 1
        slug = slugify(name)
        while slug in self.slugs:  # activation's rule; the loop only guards the benchmark
            slug = f"{slug[:190]}-{staged_id}"
        self.slugs.add(slug)
        yield (
            "pmodel",
            (self.model_id, name, slug, "", f"{name}/icon.jpg", f"{name}/banner.jpg",
             f"{name}/thumbnail.jpg", False, False, True, len(posts), 0, staged_id, name,
             self.now, self.now),
        )  # fmt: skip
        for p, (folder, title, media) in enumerate(posts):
            self.ppost_id += 1
            content, kind, image = main_item(media)
            yield (
                "ppost",
                (self.ppost_id, self.model_id, f"{name}/{folder}", title, content, image, kind,
                 True, json.dumps(media), self.now - timedelta(hours=p), self.now),
            )  # fmt: skip
