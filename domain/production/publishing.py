"""Production catalogue management: list activated models and posts, publish and unpublish."""

from __future__ import annotations

from typing import Any

from domain.platform import db
from domain.platform.db import now
from domain.platform.paging import BadQuery, like_pattern, page_bounds

PAGE_SIZE = 25


LIST_SELECT = (
    "SELECT m.id, m.name, m.slug, m.is_published, m.post_count, m.thumbnail_key, m.updated_at, "
    "w.folder_name AS staged_name, (SELECT COUNT(*) FROM posts p WHERE p.model = m.id) "
    "AS all_posts FROM models m LEFT JOIN whitelabel_models w ON w.id = m.whitelabel_model"
)


async def models(page: int = 1, search: str = "") -> tuple[list[dict[str, Any]], int]:
    offset = page_bounds(page, PAGE_SIZE)
    where, args = "1 = 1", []
    if search:
        if len(search) > 200:
            raise BadQuery("search is too long: use at most 200 characters.")
        args.append(like_pattern(search.lower()))
        where = "lower(m.name) LIKE $1 ESCAPE '\\'"
    count = await db.fetch(f"SELECT COUNT(*) AS n FROM models m WHERE {where}", *args)
    rows = await db.fetch(
        f"{LIST_SELECT} WHERE {where} ORDER BY m.name LIMIT ${len(args) + 1} "
        f"OFFSET ${len(args) + 2}",
        *args,
        PAGE_SIZE,
        offset,
    )
    return rows, int(count[0]["n"])


async def model_row(model_id: int) -> dict[str, Any] | None:
    """One model in the shape of a list row (for swapping a single table row)."""
    rows = await db.fetch(f"{LIST_SELECT} WHERE m.id = $1", model_id)
    return rows[0] if rows else None


async def model(model_id: int) -> dict[str, Any] | None:
    rows = await db.fetch(
        "SELECT m.*, w.folder_name AS staged_name FROM models m LEFT JOIN whitelabel_models w "
        "ON w.id = m.whitelabel_model WHERE m.id = $1",
        model_id,
    )
    return rows[0] if rows else None


async def posts(model_id: int, page: int = 1) -> tuple[list[dict[str, Any]], int]:
    offset = page_bounds(page, PAGE_SIZE)
    total = int(
        (await db.fetch("SELECT COUNT(*) AS n FROM posts WHERE model = $1", model_id))[0]["n"]
    )
    rows = await db.fetch(
        "SELECT id, title, source_key, content_key, thumbnail_key, type, is_published, "
        "updated_at FROM posts WHERE model = $1 ORDER BY source_key LIMIT $2 OFFSET $3",
        model_id,
        PAGE_SIZE,
        offset,
    )
    return rows, total


async def set_model_published(model_id: int, published: bool) -> dict[str, Any] | None:
    async with db.transaction() as tx:
        rows = await tx.fetch(
            "UPDATE models SET is_published = $2, updated_at = $3 WHERE id = $1 RETURNING id, name",
            model_id,
            published,
            now(),
        )
    return rows[0] if rows else None


async def set_post_published(post_id: int, published: bool) -> dict[str, Any] | None:
    async with db.transaction() as tx:
        rows = await tx.fetch(
            "UPDATE posts SET is_published = $2, updated_at = $3 WHERE id = $1 "
            "RETURNING id, model, title, source_key",
            post_id,
            published,
            now(),
        )
        if rows:
            await tx.execute(
                "UPDATE models SET post_count = (SELECT COUNT(*) FROM posts WHERE model = $1 AND "
                "is_published) WHERE id = $1",
                rows[0]["model"],
            )
    return rows[0] if rows else None


async def post(post_id: int) -> dict[str, Any] | None:
    rows = await db.fetch(
        "SELECT id, model, title, source_key, content_key, thumbnail_key, type, "
        "is_published, updated_at FROM posts WHERE id = $1",
        post_id,
    )
    return rows[0] if rows else None
