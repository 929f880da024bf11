"""The catalogue at a glance, as the dashboard shows it: counts by status and the top creators."""

from __future__ import annotations

from dataclasses import dataclass

from domain.platform import db
from domain.platform.paging import Signer
from domain.staging.rows import StagedRow, signed_rows


async def top_creators(signer: Signer, limit: int = 8) -> list[StagedRow]:
    rows = await db.fetch(
        "SELECT id, folder_name, thumbnail_key, post_count, image_count, video_count, status "
        "FROM whitelabel_models ORDER BY post_count DESC, id ASC LIMIT $1",
        limit,
    )
    return await signed_rows(rows, signer)


@dataclass(frozen=True)
class CatalogueStats:
    """The dashboard's cards: staged models and their content, production models and posts."""

    staged_models: int
    staged_new: int
    staged_active: int
    posts: int
    images: int
    videos: int
    production_models: int
    production_published_models: int
    production_posts: int
    production_published_posts: int


async def catalogue_stats() -> CatalogueStats:
    staged = await db.fetch(
        "SELECT status, COUNT(*) AS models, COALESCE(SUM(post_count), 0) AS posts, "
        "COALESCE(SUM(image_count), 0) AS images, COALESCE(SUM(video_count), 0) AS videos "
        "FROM whitelabel_models GROUP BY status"
    )
    prod = await db.fetch(
        "SELECT (SELECT COUNT(*) FROM models) AS models, (SELECT COUNT(*) FROM models WHERE "
        "is_published) AS published_models, (SELECT COUNT(*) FROM posts) AS posts, "
        "(SELECT COUNT(*) FROM posts WHERE is_published) AS published_posts"
    )
    by_status = {r["status"]: int(r["models"]) for r in staged}
    return CatalogueStats(
        staged_models=sum(by_status.values()),
        staged_new=by_status.get("new", 0),
        staged_active=by_status.get("active", 0),
        posts=sum(int(r["posts"]) for r in staged),
        images=sum(int(r["images"]) for r in staged),
        videos=sum(int(r["videos"]) for r in staged),
        **{f"production_{k}": int(v) for k, v in prod[0].items()},
    )
