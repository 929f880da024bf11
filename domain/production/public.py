"""The public read side: public production models and their public posts, 20 a page,
with signed media URLs (the public API serves these as they are).

Public is domain/production/visibility.py's rule (published, its source still in the bucket,
and for a post its model public too); everything derived (a model's thumbnail, its post
count, a post's media list) comes from public content only.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

from piccolo.columns.combination import WhereRaw

from domain.media.records import derivatives_of
from domain.platform import db
from domain.platform.paging import Signer, page_bounds
from domain.platform.tables import Post
from domain.production import sql, tally
from domain.production.lifecycle import media_list
from domain.production.visibility import post_public_sql

PAGE_SIZE = 20
# The visibility rule (visibility.py) for the query builder, whose table is named "posts".
VISIBLE_POST_WHERE = WhereRaw(post_public_sql("posts"))


async def models(page: int, signer: Signer) -> dict[str, Any]:
    offset = page_bounds(page, PAGE_SIZE)
    # The page (the models_public_page index) and the count (the tally) at once.
    rows, count = await asyncio.gather(
        sql.public_models_page(PAGE_SIZE, offset), tally.public_models()
    )
    return {
        "data": await _models(rows, signer),
        "meta": {"page": page, "limit": PAGE_SIZE, "count": count},
    }


async def _models(rows: list[dict[str, Any]], signer: Signer) -> list[dict[str, Any]]:
    """Models with their images signed: each original, and its WebP preview once a worker
    made it (the thumbnail's and banner's 480 px, the icon's 160 px; else null)."""
    keys = [r[c] for r in rows for c in ("thumbnail_key", "icon_key", "banner_key") if r[c]]
    derived: Mapping[str, Mapping[str, Any]] = await derivatives_of(keys)

    async def signed(key: str | None, column: str = "") -> str | None:
        if column:
            key = derived.get(key or "", {}).get(column)
        return await signer(key) if key else None

    return [
        {
            **{k: v for k, v in r.items() if not k.endswith("_key")},
            "thumbnail": await signed(r["thumbnail_key"]),
            "preview": await signed(r["thumbnail_key"], "preview_key"),
            "icon": await signed(r["icon_key"]),
            "icon_preview": await signed(r["icon_key"], "thumb_key"),
            "banner": await signed(r["banner_key"]),
            "banner_preview": await signed(r["banner_key"], "preview_key"),
        }
        for r in rows
    ]


async def find_model(ref: str, by_name_first: bool = False) -> dict[str, Any] | None:
    """A visible model by its slug, a slug it had before, or its display name. When one
    model's name is another's slug, the slug wins, except for clients of the original API,
    which addressed models by name (`by_name_first`)."""
    rows = await sql.find_public_model(ref, by_name_first)
    return rows[0] if rows else None


async def model(ref: str, signer: Signer) -> dict[str, Any] | None:
    found = await find_model(ref)
    return (await _models([found], signer))[0] if found else None


async def model_posts(
    ref: str, page: int, signer: Signer, by_name_first: bool = False
) -> dict[str, Any] | None:
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
    data = [await _post(r, signer, derived) for r in rows]
    return {
        "model": {"id": model_id, "slug": found["slug"], "name": found["name"]},
        "data": data,
        "meta": {"page": page, "limit": PAGE_SIZE, "count": int(count)},
    }


async def _post(
    r: dict[str, Any], signer: Signer, derived: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    items = media_list(r["media"]) or [{"key": r["content_key"], "type": r["type"]}]
    main = derived.get(r["content_key"], {})
    preview = main.get("preview_key") or main.get("poster_key")
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


async def _media(
    key: str, kind: str, signer: Signer, derived: Mapping[str, Mapping[str, Any]]
) -> dict[str, Any]:
    """One item: the original, and its previews once a worker made them (else null)."""
    d = derived.get(key, {})

    async def signed(column: str) -> str | None:
        return await signer(d[column]) if d.get(column) else None

    poster = await signed("poster_key")
    return {
        "type": kind,
        "url": await signer(key),
        "preview": await signed("preview_key") or poster,
        "thumbnail": await signed("thumb_key"),
        "poster": poster,
        "width": d.get("width"),
        "height": d.get("height"),
        "duration": d.get("duration"),
    }
