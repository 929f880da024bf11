"""The public read side: public production models and their public posts, 20 a page,
with signed media URLs (the public API serves these as they are).

Public is domain/production/visibility.py's rule (published, its source still in the bucket,
and for a post its model public too); everything derived (a model's thumbnail, its post
count, a post's media list) comes from public content only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Literal, TypedDict

from piccolo.columns.combination import WhereRaw

from domain.media.records import derivatives_of
from domain.media.sql import MediaDerivatives
from domain.platform import db
from domain.platform.paging import BadQuery, Signer, decode_cursor, encode_cursor, page_bounds
from domain.platform.tables import Post
from domain.production import sql, tally
from domain.production.lifecycle import media_list
from domain.production.visibility import post_public_sql

PAGE_SIZE = 20
# The visibility rule (visibility.py) for the query builder, whose table is named "posts".
VISIBLE_POST_WHERE = WhereRaw(post_public_sql("posts"))


class PageMeta(TypedDict):
    page: int
    limit: int
    count: int


class SignedModel(sql.PublicFields):
    """A public model as the API serves it: its images signed (originals and previews)."""

    thumbnail: str | None
    preview: str | None
    icon: str | None
    icon_preview: str | None
    banner: str | None
    banner_preview: str | None


class ModelsMeta(TypedDict):
    page: int | None  # None for a page asked by its `after` cursor: counting to it costs
    limit: int
    count: int
    next: str | None  # the `after` cursor of the next page; None on the last page


class ModelsPage(TypedDict):
    data: list[SignedModel]
    meta: ModelsMeta


class SignedMedia(TypedDict):
    type: str
    url: str
    preview: str | None
    thumbnail: str | None
    poster: str | None
    width: int | None
    height: int | None
    duration: float | None


class SignedPost(TypedDict):
    id: int
    model_id: int
    title: str
    type: str
    content: str
    thumbnail: str | None
    preview: str | None
    media: list[SignedMedia]
    created_at: str | None


class ModelRef(TypedDict):
    id: int
    slug: str
    name: str


class PostsPage(TypedDict):
    model: ModelRef
    data: list[SignedPost]
    meta: PageMeta


Derived = Mapping[str, MediaDerivatives]


async def models(page: int | None, signer: Signer, after: str | None = None) -> ModelsPage:
    """A page of public models, by its number (the offset's rows are skipped, which costs more
    the deeper the page) or by the `after` cursor of the page before it (costs the same at any
    depth); never both."""
    if page is not None and after is not None:
        raise BadQuery(
            f"page={page} and after={after[:40]!r} were both given: give one, page for a page "
            "by its number or after (meta.next of the page before) to go on from there."
        )
    number = 1 if page is None else page
    position = _position(after) if after is not None else None
    offset = page_bounds(number, PAGE_SIZE) if position is None else 0
    # The page (the models_public_page index) and the count (the tally) at once; one row more
    # than a page says whether there is a next.
    rows, count = await asyncio.gather(
        sql.public_models_page(PAGE_SIZE + 1, offset, position), tally.public_models()
    )
    last = rows[PAGE_SIZE - 1] if len(rows) > PAGE_SIZE else None
    after_last = (
        encode_cursor((last["display_order"], last["post_count"]), last["id"]) if last else None
    )
    return {
        "data": await _models(rows[:PAGE_SIZE], signer),
        "meta": {
            "page": None if position is not None else number,
            "limit": PAGE_SIZE,
            "count": count,
            "next": after_last,
        },
    }


def _position(after: str) -> sql.PublicPosition:
    value, row_id = decode_cursor(after, "public", "after")
    assert isinstance(value, tuple)  # decode_cursor gives the "public" sort its pair, or raises
    return sql.PublicPosition(*value, row_id)


async def _models(rows: Sequence[sql.PublicModelRow], signer: Signer) -> list[SignedModel]:
    """Models with their images signed: each original, and its WebP preview once a worker
    made it (the thumbnail's and banner's 480 px, the icon's 160 px; else null)."""
    keys = [k for r in rows for k in (r["thumbnail_key"], r["icon_key"], r["banner_key"]) if k]
    derived = await derivatives_of(keys)

    async def signed(key: str | None) -> str | None:
        return await signer(key) if key else None

    def made(key: str | None, column: Literal["preview_key", "thumb_key"]) -> str | None:
        found = derived.get(key) if key else None
        return found[column] if found else None

    return [
        {
            "id": r["id"],
            "name": r["name"],
            "slug": r["slug"],
            "description": r["description"],
            "is_featured": r["is_featured"],
            "post_count": r["post_count"],
            "thumbnail": await signed(r["thumbnail_key"]),
            "preview": await signed(made(r["thumbnail_key"], "preview_key")),
            "icon": await signed(r["icon_key"]),
            "icon_preview": await signed(made(r["icon_key"], "thumb_key")),
            "banner": await signed(r["banner_key"]),
            "banner_preview": await signed(made(r["banner_key"], "preview_key")),
        }
        for r in rows
    ]


async def find_model(ref: str, by_name_first: bool = False) -> sql.PublicModelRow | None:
    """A visible model by its slug, a slug it had before, or its display name. When one
    model's name is another's slug, the slug wins, except for clients of the original API,
    which addressed models by name (`by_name_first`)."""
    rows = await sql.find_public_model(ref, by_name_first)
    return rows[0] if rows else None


async def model(ref: str, signer: Signer) -> SignedModel | None:
    found = await find_model(ref)
    return (await _models([found], signer))[0] if found else None


async def model_posts(
    ref: str, page: int, signer: Signer, by_name_first: bool = False
) -> PostsPage | None:
    """Visible posts of a visible model, newest first; None for an unknown model."""
    offset = page_bounds(page, PAGE_SIZE)
    found = await find_model(ref, by_name_first)
    if found is None:
        return None
    model_id = found["id"]
    visible = (Post.model == model_id) & VISIBLE_POST_WHERE
    rows = await db.select(
        Post.select(
            Post.id,
            Post.model,
            Post.title,
            Post.content_key,
            Post.type,
            Post.thumbnail_key,
            Post.media,
            Post.created_at,
        )
        .where(visible)
        .order_by(Post.created_at, Post.id, ascending=False)
        .limit(PAGE_SIZE)
        .offset(offset)
    )
    count = await Post.count().where(visible)
    keys = [m["key"] for r in rows for m in media_list(r["media"])]
    derived = await derivatives_of(keys + [r["content_key"] for r in rows])
    data = [await _post(r, signer, derived) for r in db.typed(PostRow, rows)]
    return {
        "model": {"id": model_id, "slug": found["slug"], "name": found["name"]},
        "data": data,
        "meta": {"page": page, "limit": PAGE_SIZE, "count": int(count)},
    }


class PostRow(TypedDict):
    """model_posts' columns of a post."""

    id: int
    model: int
    title: str
    content_key: str
    type: str
    thumbnail_key: str | None
    media: object  # JSON: the post's media list (lifecycle.media_list reads it)
    created_at: datetime | None


async def _post(r: PostRow, signer: Signer, derived: Derived) -> SignedPost:
    items = media_list(r["media"]) or [{"key": r["content_key"], "type": r["type"]}]
    main = derived.get(r["content_key"])
    preview = (main["preview_key"] or main["poster_key"]) if main else None
    return {
        "id": r["id"],
        "model_id": r["model"],
        "title": r["title"],
        "type": r["type"],
        "content": await signer(r["content_key"]),
        "thumbnail": await signer(r["thumbnail_key"]) if r["thumbnail_key"] else None,
        "preview": await signer(preview) if preview else None,
        "media": [await _media(m["key"], m["type"], signer, derived) for m in items],
        "created_at": r["created_at"].isoformat() if r["created_at"] else None,
    }


async def _media(key: str, kind: str, signer: Signer, derived: Derived) -> SignedMedia:
    """One item: the original, and its previews once a worker made them (else null)."""
    d = derived.get(key)

    async def signed(column: Literal["preview_key", "thumb_key", "poster_key"]) -> str | None:
        made = d[column] if d else None
        return await signer(made) if made else None

    poster = await signed("poster_key")
    return {
        "type": kind,
        "url": await signer(key),
        "preview": await signed("preview_key") or poster,
        "thumbnail": await signed("thumb_key"),
        "poster": poster,
        "width": d["width"] if d else None,
        "height": d["height"] if d else None,
        "duration": d["duration"] if d else None,
    }
