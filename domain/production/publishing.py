"""Production catalogue management: list activated models and posts, publish and unpublish."""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Count
from piccolo.query.methods.select import Select
from piccolo.querystring import QueryString

from domain.platform import db
from domain.platform.db import now
from domain.platform.paging import BadQuery, like_pattern, page_bounds
from domain.platform.tables import Model, Post

PAGE_SIZE = 25


def _list_select() -> Select[Model]:
    """A list row: the model, its staged model's name (LEFT JOIN) and, added by `_all_posts`,
    how many posts it has, published or not."""
    return Model.select(
        Model.id,
        Model.name,
        Model.slug,
        Model.is_published,
        Model.post_count,
        Model.thumbnail_key,
        Model.updated_at,
        Model.whitelabel_model.folder_name.as_alias("staged_name"),
    )


async def _all_posts(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Set `all_posts` on each row: one grouped count for the whole page."""
    if rows:
        counts = (
            await Post.select(Post.model, Count(alias="n"))
            .where(Post.model.is_in([r["id"] for r in rows]))
            .group_by(Post.model)
        )
        by_model = {c["model"]: int(c["n"]) for c in counts}
        for row in rows:
            row["all_posts"] = by_model.get(row["id"], 0)
    return rows


async def models(page: int = 1, search: str = "") -> tuple[list[dict[str, Any]], int]:
    offset = page_bounds(page, PAGE_SIZE)
    query = _list_select().order_by(Model.name).limit(PAGE_SIZE).offset(offset)
    count = Model.count()
    if search:
        if len(search) > 200:
            raise BadQuery("search is too long: use at most 200 characters.")
        matches = Model.name.ilike(like_pattern(search.lower()))
        query, count = query.where(matches), count.where(matches)
    total = await count
    return await _all_posts(await db.select(query)), int(total)


async def model_row(model_id: int) -> dict[str, Any] | None:
    """One model in the shape of a list row (for swapping a single table row)."""
    rows = await _all_posts(await db.select(_list_select().where(Model.id == model_id)))
    return rows[0] if rows else None


async def model(model_id: int) -> dict[str, Any] | None:
    return await db.first(
        Model.select(
            *Model.all_columns(), Model.whitelabel_model.folder_name.as_alias("staged_name")
        ).where(Model.id == model_id)
    )


async def posts(model_id: int, page: int = 1) -> tuple[list[dict[str, Any]], int]:
    offset = page_bounds(page, PAGE_SIZE)
    total = await Post.count().where(Post.model == model_id)
    rows = await db.select(
        Post.select(
            Post.id,
            Post.title,
            Post.source_key,
            Post.content_key,
            Post.thumbnail_key,
            Post.type,
            Post.is_published,
            Post.updated_at,
        )
        .where(Post.model == model_id)
        .order_by(Post.source_key)
        .limit(PAGE_SIZE)
        .offset(offset)
    )
    return rows, int(total)


async def set_model_published(model_id: int, published: bool) -> dict[str, Any] | None:
    rows = db.rows(
        await Model.update({Model.is_published: published, Model.updated_at: now()})
        .where(Model.id == model_id)
        .returning(Model.id, Model.name)
    )
    return rows[0] if rows else None


async def set_post_published(post_id: int, published: bool) -> dict[str, Any] | None:
    async with db.transaction() as tx:
        rows = await tx.run(
            Post.update({Post.is_published: published, Post.updated_at: now()})
            .where(Post.id == post_id)
            .returning(Post.id, Post.model, Post.title, Post.source_key)
        )
        if rows:
            model_id = rows[0]["model"]
            published_posts = Post.count().where(
                (Post.model == model_id) & Post.is_published.eq(True)
            )
            # One statement (a scalar subquery), so concurrent publishes cannot lose a count.
            (recount,) = published_posts.querystrings
            await tx.run(
                Model.update({Model.post_count: QueryString("({})", recount)}).where(
                    Model.id == model_id
                )
            )
    return rows[0] if rows else None


async def post(post_id: int) -> dict[str, Any] | None:
    return await db.first(
        Post.select(
            Post.id,
            Post.model,
            Post.title,
            Post.source_key,
            Post.content_key,
            Post.thumbnail_key,
            Post.type,
            Post.is_published,
            Post.updated_at,
        ).where(Post.id == post_id)
    )
