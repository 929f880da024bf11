"""The read side of derivatives for admin pages: which small image to show for a key, and a
model's own images with theirs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from domain.media import sql
from domain.media.records import derivatives_of
from domain.media.sql import Current
from domain.platform.paging import Signer, key_of, signed_urls


class Thumbnail(TypedDict):
    thumbnail_url: str | None  # the original, signed
    preview_url: str | None


async def thumbnails(
    rows: Sequence[Mapping[str, object]], signer: Signer, key: str = "thumbnail_key"
) -> list[Thumbnail]:
    """Each row's thumbnail (`key`) signed, and its `preview_url`: the 160 px preview of a
    post's media once a worker made it, None (a placeholder) until then, and the original for
    images no worker previews."""
    urls = await signed_urls(rows, signer, key)
    derived = await derivatives_of([k for r in rows if (k := key_of(r, key))])
    out: list[Thumbnail] = []
    for row, url in zip(rows, urls, strict=True):
        found = derived.get(key_of(row, key) or "")
        if found is None:
            preview = url
        else:
            thumb = found["thumb_key"]
            preview = await signer(thumb) if thumb else None
        out.append({"thumbnail_url": url, "preview_url": preview})
    return out


class SignedDerivatives(TypedDict):
    preview_url: str | None
    thumb_url: str | None
    poster_url: str | None
    error: str | None


async def signed_derivatives(item: Current, signer: Signer) -> SignedDerivatives:
    """A gallery item's preview (480 px), thumbnail, poster URLs and error, from its row."""

    async def signed(key: str | None) -> str | None:
        return await signer(key) if key else None

    return {
        "preview_url": await signed(item["preview_key"]),
        "thumb_url": await signed(item["thumb_key"]),
        "poster_url": await signed(item["poster_key"]),
        "error": item["media_error"],
    }


@dataclass(frozen=True, slots=True)
class ImageView:
    """One of a model's own images as a page shows it: the original, its previews (None until
    a worker made them, or when it could not), and why not."""

    key: str
    role: str  # icon, banner or image
    url: str
    preview_url: str | None  # 480 px WebP
    thumb_url: str | None  # 160 px WebP
    error: str | None


@dataclass(frozen=True, slots=True)
class ModelImages:
    icon: ImageView | None
    banner: ImageView | None
    images: list[ImageView]  # model and profile images, in key order


async def model_images(model_name: str, signer: Signer) -> ModelImages:
    """A staged model's own images with signed originals and previews (keyed by name: the model
    page reads them alongside the model itself)."""
    rows = await sql.model_images(model_name)
    views = []
    for r in rows:
        signed = await signed_derivatives(r, signer)
        views.append(
            ImageView(
                r["s3_key"],
                r["role"],
                await signer(r["s3_key"]),
                signed["preview_url"],
                signed["thumb_url"],
                signed["error"],
            )
        )
    by_role = {v.role: v for v in views if v.role != "image"}
    return ModelImages(
        by_role.get("icon"), by_role.get("banner"), [v for v in views if v.role == "image"]
    )
