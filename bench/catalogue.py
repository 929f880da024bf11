"""A synthetic bucket: models x posts x media keys, generated page by page from indices.

Nothing is stored per key: one model's key suffixes (with sizes) are built once and shared.
`bench.store` serves these keys over HTTP; `bench.web_soak` seeds them into moto.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

from domain.platform.s3 import S3Object

LAST_MODIFIED = datetime(2026, 1, 1, tzinfo=UTC)
# Per model, besides its posts: a model-level image and two profile images.
MODEL_EXTRAS = ("profile/banner.webp", "profile/icon.jpg", "thumb.jpg")


@dataclass(frozen=True)
class Catalogue:
    models: int = 5_000
    posts: int = 20
    media: int = 10  # per post: media - 1 images and one video (one image when media == 1)
    prefix: str = "Model"
    _suffixes: tuple[tuple[str, int], ...] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if min(self.models, self.posts, self.media) < 1:
            raise ValueError("models, posts and media must be at least 1")
        width = max(3, len(str(self.posts)), len(str(self.media)))
        suffixes: list[str] = list(MODEL_EXTRAS)
        for p in range(1, self.posts + 1):
            post = f"Post {p:0{width}d}/"
            for k in range(1, self.media + 1):
                video = k == self.media and self.media > 1
                suffixes.append(
                    f"{post}{'vid' if video else 'img'}_{k:0{width}d}.{'mp4' if video else 'jpg'}"
                )
        suffixes.sort()  # S3 lists keys in UTF-8 byte order; these are ASCII
        sized = tuple((s, 40_000 + 7_919 * i) for i, s in enumerate(suffixes))
        object.__setattr__(self, "_suffixes", sized)

    @property
    def keys_per_model(self) -> int:
        return len(self._suffixes)

    @property
    def media_per_model(self) -> int:
        return self.posts * self.media

    @property
    def total_keys(self) -> int:
        return self.models * self.keys_per_model

    @property
    def total_media(self) -> int:
        return self.models * self.media_per_model

    def folder(self, index: int) -> str:
        return f"{self.prefix} {index:0{max(5, len(str(self.models)))}d}"

    def folders(self) -> list[str]:
        return [self.folder(i) for i in range(1, self.models + 1)]

    def index_of(self, folder: str) -> int | None:
        """The model number of a folder name, or None when it is not one of ours."""
        head, _, number = folder.partition(" ")
        if head != self.prefix or not number.isdigit():
            return None
        index = int(number)
        if not 1 <= index <= self.models or self.folder(index) != folder:
            return None
        return index

    def model_objects(self, index: int) -> Iterator[S3Object]:
        base = self.folder(index) + "/"
        tag = f"{index:010x}"
        for j, (suffix, size) in enumerate(self._suffixes):
            yield S3Object(base + suffix, size, f"{tag}{j:022x}", LAST_MODIFIED)

    def all_objects(self) -> Iterator[S3Object]:
        for index in range(1, self.models + 1):
            yield from self.model_objects(index)

    def model_keys(self, index: int) -> Iterator[tuple[str, int]]:
        """(key, size) of one model, for seeding a real bucket."""
        base = self.folder(index) + "/"
        for suffix, size in self._suffixes:
            yield base + suffix, size
