"""Pure sync planning: a model's listing -> its desired rows -> the change against the database."""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any, TypedDict

from domain.catalogue.keys import RULES_VERSION, KeyKind, classify, encode_key
from domain.platform.s3 import S3Object


@dataclass(slots=True)
class DesiredMedia:
    obj: S3Object
    type: str  # "image" | "video"
    url: str


@dataclass(slots=True)
class DesiredPost:
    folder: str
    media: list[DesiredMedia] = field(default_factory=list)

    def cdns(self) -> dict[str, list[str]]:
        return {
            "images": [m.url for m in self.media if m.type == "image"],
            "videos": [m.url for m in self.media if m.type == "video"],
        }

    def cdns_json(self) -> str:
        """`json.dumps(self.cdns())`, the same text, without the encoder's cost per URL where
        no URL needs escaping (the key part of each is percent-encoded: only the public base
        can hold a character JSON escapes)."""
        cdns = self.cdns()
        images, videos = _json_strings(cdns["images"]), _json_strings(cdns["videos"])
        return f'{{"images": [{images}], "videos": [{videos}]}}'

    def counts(self) -> tuple[int, int]:
        videos = sum(1 for m in self.media if m.type == "video")
        return len(self.media) - videos, videos


@dataclass(slots=True)
class DesiredModel:
    """What the bucket says one model folder should be, aggregates included."""

    folder: str
    listing_hash: str
    keys: int = 0
    ignored: int = 0
    thumbnail_key: str | None = None
    icon_key: str | None = None
    banner_key: str | None = None
    extra_image_keys: list[str] = field(default_factory=list)
    posts: dict[str, DesiredPost] = field(default_factory=dict)  # in key order
    # The model's own images (icon, banner, model and profile images): key -> (role, object).
    images: dict[str, tuple[str, S3Object]] = field(default_factory=dict)

    def image_versions(self) -> dict[str, tuple[str, str, int]]:
        """key -> (role, etag, size): what the model's image rows should hold."""
        return {k: (role, o.etag, o.size) for k, (role, o) in self.images.items()}

    @property
    def exists(self) -> bool:
        """A model exists while at least one key is classified under it."""
        return bool(self.posts or self.extra_image_keys or self.icon_key or self.banner_key)

    @property
    def image_count(self) -> int:
        return sum(p.counts()[0] for p in self.posts.values())

    @property
    def video_count(self) -> int:
        return sum(p.counts()[1] for p in self.posts.values())


# Printable ASCII but '"' and '\\': what json.dumps writes unchanged inside a string.
_JSON_PLAIN = re.compile(r"[ !#-\[\]-~]*")


def _json_strings(texts: list[str]) -> str:
    """`json.dumps(texts)` without its brackets."""
    if not texts:
        return ""
    if _JSON_PLAIN.fullmatch("".join(texts)):
        return '"' + '", "'.join(texts) + '"'
    return json.dumps(texts)[1:-1]


def listing_hash(objects: Iterable[S3Object], public_base: str) -> str:
    """Fingerprint of a model's listing and of everything its rows derive from."""
    return hash_lines([f"{o.key}\0{o.etag}\0{o.size}" for o in objects], public_base)


def hash_lines(lines: list[str], public_base: str) -> str:
    """`listing_hash` from each object's line (`Rows.fingerprint_lines` gives them unbuilt)."""
    digest = hashlib.sha256(f"{RULES_VERSION}\0{public_base}\n".encode())
    digest.update("\n".join(lines).encode())
    return digest.hexdigest()


def build_model(
    folder: str, objects: list[S3Object], public_base: str, fingerprint: str | None = None
) -> DesiredModel:
    """Classify a model folder's objects into its desired rows.

    Objects may come in any order, unless `fingerprint` (their listing_hash) is given: then
    they must already be sorted by key.
    """
    if fingerprint is None:
        objects = sorted(objects, key=lambda o: o.key)
        fingerprint = listing_hash(objects, public_base)
    model = DesiredModel(folder=folder, listing_hash=fingerprint, keys=len(objects))
    base = f"{public_base.rstrip('/')}/{encode_key(folder)}/"
    model_images: list[str] = []
    post_base: dict[str, str] = {}
    for obj in objects:
        kind, of_model, folder_post = classify(obj.key)
        if of_model != folder:  # ignored, or (defensively) listed under another prefix
            if kind is not KeyKind.DERIVED:  # the project's own objects are not ignored keys
                model.ignored += 1
            continue
        if kind is KeyKind.POST_IMAGE or kind is KeyKind.POST_VIDEO:
            assert folder_post is not None
            post = model.posts.get(folder_post)
            if post is None:
                post = model.posts[folder_post] = DesiredPost(folder_post)
                post_base[folder_post] = base + encode_key(folder_post) + "/"
            rest = obj.key[len(folder) + len(folder_post) + 2 :]
            post.media.append(
                DesiredMedia(
                    obj,
                    "video" if kind is KeyKind.POST_VIDEO else "image",
                    post_base[folder_post] + encode_key(rest),
                )
            )
        elif kind is KeyKind.ICON:
            if model.icon_key is None:
                model.icon_key = obj.key
                model.images[obj.key] = ("icon", obj)
        elif kind is KeyKind.BANNER:
            if model.banner_key is None:
                model.banner_key = obj.key
                model.images[obj.key] = ("banner", obj)
        else:  # a model image, or a profile image
            if kind is KeyKind.MODEL_IMAGE:
                model_images.append(obj.key)
            model.extra_image_keys.append(obj.key)
            model.images[obj.key] = ("image", obj)
    if model_images:
        model.thumbnail_key = model_images[0]
    else:
        model.thumbnail_key = next(
            (m.obj.key for p in model.posts.values() for m in p.media if m.type == "image"), None
        )
    return model


@dataclass
class ModelChange:
    """The writes one model needs; deletions are only collected, applied after the guard."""

    desired: DesiredModel
    model_id: int | None
    model_fields_changed: bool
    new_posts: list[DesiredPost]
    changed_posts: list[tuple[int, DesiredPost]]
    deleted_post_ids: list[int]
    new_media: list[tuple[str, DesiredMedia]]  # (post folder, media)
    changed_media: list[tuple[int, DesiredMedia]]
    deleted_media_ids: list[int]
    deleted_media_keys: list[str]
    images_changed: bool  # the model's own images were added, replaced or removed

    @property
    def has_deletions(self) -> bool:
        return bool(self.deleted_post_ids or self.deleted_media_ids)

    @property
    def writes_anything(self) -> bool:
        return bool(
            self.model_id is None
            or self.model_fields_changed
            or self.images_changed
            or self.new_posts
            or self.changed_posts
            or self.new_media
            or self.changed_media
        )


class StoredPost(TypedDict):
    """A staged post as the diff compares it (domain/catalogue/sync_sql.py reads it)."""

    id: int
    folder_name: str
    media_cdns: Any  # JSON: {"images": [...], "videos": [...]}
    image_count: int
    video_count: int


class StoredMedia(TypedDict):
    """A staged media row as the diff compares it."""

    id: int
    s3_key: str
    etag: str
    size: int
    type: str
    url: str


@dataclass
class ExistingModel:
    id: int
    fields: Mapping[str, object]  # model_fields' columns, as stored
    posts: dict[str, StoredPost]  # by folder
    media: dict[str, StoredMedia]  # by s3_key
    images: dict[str, tuple[str, str, int]]  # key -> (role, etag, size) of its own images


def model_fields(desired: DesiredModel) -> dict[str, object]:
    return {
        "thumbnail_key": desired.thumbnail_key,
        "icon_key": desired.icon_key,
        "banner_key": desired.banner_key,
        "extra_image_keys": desired.extra_image_keys,
        "post_count": len(desired.posts),
        "image_count": desired.image_count,
        "video_count": desired.video_count,
        "ignored_keys": desired.ignored,
    }


def diff_model(desired: DesiredModel, existing: ExistingModel | None) -> ModelChange:
    if existing is None:
        return ModelChange(
            desired,
            None,
            True,
            list(desired.posts.values()),
            [],
            [],
            [(p.folder, m) for p in desired.posts.values() for m in p.media],
            [],
            [],
            [],
            True,
        )
    fields = model_fields(desired)
    fields_changed = any(_norm(existing.fields.get(k)) != _norm(v) for k, v in fields.items())
    new_posts, changed_posts = [], []
    for folder, post in desired.posts.items():
        row = existing.posts.get(folder)
        if row is None:
            new_posts.append(post)
        elif (_norm(row["media_cdns"]), row["image_count"], row["video_count"]) != (
            post.cdns(),
            *post.counts(),
        ):
            changed_posts.append((row["id"], post))
    deleted_posts = [r["id"] for f, r in existing.posts.items() if f not in desired.posts]
    new_media, changed_media, seen = [], [], set()
    for post in desired.posts.values():
        for m in post.media:
            seen.add(m.obj.key)
            stored = existing.media.get(m.obj.key)
            if stored is None:
                new_media.append((post.folder, m))
            elif (stored["etag"], stored["size"], stored["type"], stored["url"]) != (
                m.obj.etag,
                m.obj.size,
                m.type,
                m.url,
            ):
                changed_media.append((stored["id"], m))
    gone = [(r["id"], k) for k, r in existing.media.items() if k not in seen]
    return ModelChange(
        desired,
        existing.id,
        fields_changed,
        new_posts,
        changed_posts,
        deleted_posts,
        new_media,
        changed_media,
        [i for i, _ in gone],
        [k for _, k in gone],
        desired.image_versions() != existing.images,
    )


def _norm(value: object) -> object:
    """JSON columns come back as text on some paths: compare them decoded."""
    if isinstance(value, str) and value[:1] in ("[", "{"):
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value
