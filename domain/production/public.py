"""The public read side: published production models and their published posts, 20 a page,
with signed media URLs (the public API serves these as they are)."""

from __future__ import annotations

from typing import Any

from piccolo.columns.combination import WhereRaw

from domain.platform.paging import Signer, page_bounds
from domain.platform.tables import Model, Post

PAGE_SIZE = 20


async def models(page: int, signer: Signer) -> dict[str, Any]:
    offset = page_bounds(page, PAGE_SIZE)
    # A literal predicate, not `= $1`: the partial index models_public_order (WHERE is_published)
    # then serves generic plans of the prepared statement too.
    published = WhereRaw("is_published")
    rows = (
        await Model.select(Model.id, Model.name, Model.slug, Model.post_count, Model.thumbnail_key)
        .where(published)
        .order_by(Model.post_count, ascending=False)
        .order_by(Model.id)
        .limit(PAGE_SIZE)
        .offset(offset)
    )
    count = await Model.count().where(published)
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
    found = (
        await Model.select(Model.id)
        .where((Model.name == name) & Model.is_published.eq(True))
        .first()
    )
    if found is None:
        return None
    published_posts = (Post.model == found["id"]) & Post.is_published.eq(True)
    rows = (
        await Post.select(
            Post.id,
            Post.model,
            Post.source_key,
            Post.title,
            Post.content_key,
            Post.type,
            Post.thumbnail_key,
            Post.created_at,
        )
        .where(published_posts)
        .order_by(Post.created_at, Post.id, ascending=False)
        .limit(PAGE_SIZE)
        .offset(offset)
    )
    count = await Post.count().where(published_posts)
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
