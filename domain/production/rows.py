"""Production models and posts as the admin pages read them, built from their records here;
list rows and posts come with their signed thumbnails."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from functools import cached_property
from typing import TypeVar

from domain.media.previews import thumbnails
from domain.platform.db import FromRow
from domain.platform.paging import Signer, signed_urls
from domain.production.visibility import State, Visibility, public_posts, visibility

R = TypeVar("R", bound=FromRow)


@dataclass(frozen=True)
class ListedModel(FromRow):
    """A row of the production list."""

    id: int
    name: str
    slug: str
    is_published: bool
    is_featured: bool
    post_count: int  # public posts
    all_posts: int
    display_order: int
    updated_at: datetime
    source_missing_at: datetime | None
    source_back: bool  # its missing folder is staged again, not yet activated
    staged_name: str | None
    thumbnail_key: str | None
    retired_at: datetime | None = None  # an admin retired it (domain/production/retiring.py)
    preview_url: str | None = None  # a 160 px preview of its thumbnail, once made

    @cached_property  # a row's badges and its title read it more than once
    def visibility(self) -> Visibility:
        return visibility(self)

    @property
    def public_posts(self) -> int:
        return public_posts(self, self.post_count)


@dataclass(frozen=True)
class ProductionModel(FromRow):
    """One production model, with where it came from (its page, edit form and preview)."""

    id: int
    name: str
    slug: str
    description: str
    is_published: bool
    is_featured: bool
    is_advertiser: bool
    post_count: int
    display_order: int
    source_folder: str | None
    source_missing_at: datetime | None
    source_back: bool
    staged_name: str | None
    updated_at: datetime
    retired_at: datetime | None = None  # an admin retired it (domain/production/retiring.py)
    retired_by: str | None = None

    @cached_property  # a row's badges and its title read it more than once
    def visibility(self) -> Visibility:
        return visibility(self)

    @property
    def public_posts(self) -> int:
        return public_posts(self, self.post_count)


@dataclass(frozen=True)
class ProductionPost(FromRow):
    """A production post as its model's page lists it."""

    id: int
    model: int
    title: str
    source_key: str
    content_key: str
    type: str
    is_published: bool
    source_missing_at: datetime | None
    updated_at: datetime
    thumbnail_key: str | None
    # Its model's flags: a post is public only while its model is.
    model_is_published: bool = False
    model_source_missing_at: datetime | None = None
    model_retired_at: datetime | None = None
    preview_url: str | None = None
    content_url: str | None = None  # the original, for the lightbox

    @cached_property  # a row's badges and its title read it more than once
    def visibility(self) -> Visibility:
        model = State(self.model_is_published, self.model_source_missing_at, self.model_retired_at)
        return visibility(model, self)


@dataclass(frozen=True)
class Published:
    """What a publish or unpublish changed, for its audit entry and toast."""

    name: str  # a model's name, a post's title
    target: str  # the audited target: a model's name, a post's source key
    model_id: int


async def signed(rows: Sequence[Mapping[str, object]], signer: Signer, kind: type[R]) -> list[R]:
    """Rows of `kind` with their thumbnails' previews (and a post's original) signed."""
    shown = await thumbnails(rows, signer)
    if kind is not ProductionPost:
        return [kind.from_row({**r, **s}) for r, s in zip(rows, shown, strict=True)]
    content = await signed_urls(rows, signer, "content_key")
    return [
        kind.from_row({**r, **s, "content_url": c})
        for r, s, c in zip(rows, shown, content, strict=True)
    ]
