"""The catalogue at a glance, as the dashboard shows it: counts by status and the top creators."""

from __future__ import annotations

from typing import Any

from piccolo.query.functions.aggregate import Count, Sum

from domain.platform import db
from domain.platform.paging import Signer, sign_rows
from domain.platform.tables import Model, Post, WhitelabelModel


async def top_creators(signer: Signer, limit: int = 8) -> list[dict[str, Any]]:
    w = WhitelabelModel
    rows = await db.select(
        w.select(
            w.id,
            w.folder_name,
            w.thumbnail_key,
            w.post_count,
            w.image_count,
            w.video_count,
            w.status,
        )
        .order_by(w.post_count, ascending=False)
        .order_by(w.id)
        .limit(limit)
    )
    return await sign_rows(rows, signer)


async def catalogue_stats() -> dict[str, Any]:
    w = WhitelabelModel
    staged = await w.select(
        w.status,
        Count(alias="models"),
        Sum(w.post_count, alias="posts"),
        Sum(w.image_count, alias="images"),
        Sum(w.video_count, alias="videos"),
    ).group_by(w.status)
    prod = {
        "models": await Model.count(),
        "published_models": await Model.count().where(Model.is_published.eq(True)),
        "posts": await Post.count(),
        "published_posts": await Post.count().where(Post.is_published.eq(True)),
    }
    by_status = {r["status"]: int(r["models"]) for r in staged}
    return {
        "staged_models": sum(by_status.values()),
        "staged_new": by_status.get("new", 0),
        "staged_active": by_status.get("active", 0),
        "posts": sum(int(r["posts"] or 0) for r in staged),
        "images": sum(int(r["images"] or 0) for r in staged),
        "videos": sum(int(r["videos"] or 0) for r in staged),
        **{f"production_{k}": int(v) for k, v in prod.items()},
    }
