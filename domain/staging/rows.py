"""Staged models and posts as the review pages read them, built from their records here."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime

from domain.media.previews import thumbnails
from domain.platform.db import FromRow
from domain.platform.paging import Signer, SortValue


@dataclass(frozen=True)
class StagedRow(FromRow):
    """A row of the staged list (and the top creators on the dashboard)."""

    id: int
    folder_name: str
    status: str  # new or active
    post_count: int
    image_count: int
    video_count: int
    thumbnail_key: str | None
    last_synced_at: datetime | None = None
    sort_value: SortValue | None = None  # the list's sort column, for its keyset cursor
    thumbnail_url: str | None = None  # the original, signed
    preview_url: str | None = None  # a 160 px preview of its thumbnail, once made
    production_retired: bool = False  # its production model is retired: activation keeps it so


@dataclass(frozen=True)
class StagedModel(StagedRow):
    """One staged model: its row, its own images and what production made of it."""

    icon_key: str | None = None
    banner_key: str | None = None
    production_id: int | None = None
    production_published: bool | None = None
    production_retired_at: datetime | None = None


@dataclass(frozen=True)
class GalleryItem:
    """One image or video of a staged post, signed; previews are None until a worker made
    them (`error` says why one could not be)."""

    key: str
    url: str
    size: int
    preview_url: str | None
    thumb_url: str | None
    poster_url: str | None
    error: str | None


@dataclass(frozen=True)
class Gallery:
    images: list[GalleryItem]
    videos: list[GalleryItem]


@dataclass(frozen=True)
class StagedPost(FromRow):
    id: int
    folder_name: str
    title: str
    image_count: int
    video_count: int
    media: Gallery
    preview_url: str | None  # its first image's 160 px preview


async def signed_rows(rows: Sequence[Mapping[str, object]], signer: Signer) -> list[StagedRow]:
    """List rows with their thumbnails' previews signed."""
    shown = await thumbnails(rows, signer)
    return [StagedRow.from_row({**r, **s}) for r, s in zip(rows, shown, strict=True)]


async def signed_model(row: Mapping[str, object], signer: Signer) -> StagedModel:
    """A staged model with its thumbnail's preview signed (its own images, each with its
    previews: `media.previews.model_images`)."""
    (shown,) = await thumbnails([row], signer)
    return StagedModel.from_row({**row, **shown})
