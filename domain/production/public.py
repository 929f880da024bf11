"""The public read side: published production models and their published posts, 20 a page,
with signed media URLs (the public API serves these as they are)."""

from __future__ import annotations

from typing import Any

from domain.platform import db
from domain.platform.paging import Signer, page_bounds

PAGE_SIZE = 20


async def models(page: int, signer: Signer) -> dict[str, Any]:
    offset = page_bounds(page, PAGE_SIZE)
    rows = await db.fetch(
        "SELECT id, name, slug, post_count, thumbnail_key FROM models WHERE is_published "
        "ORDER BY post_count DESC, id ASC LIMIT $1 OFFSET $2",
        PAGE_SIZE,
        offset,
    )
    count = int((await db.fetch("SELECT COUNT(*) AS n FROM models WHERE is_published"))[0]["n"])
    data = [
        {
            "id": r["id"],
            "name": r["name"],
            "slug": r["slug"],
            "post_count": r["post_count"],
            "thumbnail": await signer(r["thumbnail_key"]) if r["thumbnail_key"] else None,
        }
        for r in rows
    ]
    return {"data": data, "meta": {"page": page, "limit": PAGE_SIZE, "count": count}}


async def model_posts(name: str, page: int, signer: Signer) -> dict[str, Any] | None:
    """Published posts of a published model, newest first; None for an unknown model."""
    offset = page_bounds(page, PAGE_SIZE)
    found = await db.fetch("SELECT id FROM models WHERE name = $1 AND is_published", name)
    if not found:
        return None
    model_id = found[0]["id"]
    rows = await db.fetch(
        "SELECT id, model, source_key, title, content_key, type, thumbnail_key, created_at "
        "FROM posts WHERE model = $1 AND is_published ORDER BY created_at DESC, id DESC "
        "LIMIT $2 OFFSET $3",
        model_id,
        PAGE_SIZE,
        offset,
    )
    count = int(
        (
            await db.fetch(
                "SELECT COUNT(*) AS n FROM posts WHERE model = $1 AND is_published", model_id
            )
        )[0]["n"]
    )
    data = []
    for r in rows:
        data.append(
            {
                "id": r["id"],
                "model_id": r["model"],
                "title": r["title"],
                "type": r["type"],
                "content": await signer(r["content_key"]),
                "thumbnail": await signer(r["thumbnail_key"]) if r["thumbnail_key"] else None,
                "created_at": r["created_at"].isoformat() if r["created_at"] else None,
            }
        )
    return {"data": data, "meta": {"page": page, "limit": PAGE_SIZE, "count": count}}
