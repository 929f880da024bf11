"""The catalogue at a glance, as the dashboard shows it: counts by status and the top creators."""

from __future__ import annotations

from dataclasses import dataclass

from piccolo.query.functions.aggregate import Count, Sum

from domain.platform import db
from domain.platform.paging import Signer
from domain.platform.tables import WhitelabelModel
from domain.production import sql as production_sql
from domain.staging.rows import StagedRow, signed_rows


async def top_creators(signer: Signer, limit: int = 8) -> list[StagedRow]:
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
    production_models: int  # not retired, like the production list's "All"
    production_public_models: int  # public: domain/production/visibility.py's rule
    production_retired_models: int
    production_posts: int
    production_public_posts: int


async def catalogue_stats() -> CatalogueStats:
    w = WhitelabelModel
    staged = await db.select(
        w.select(
            w.status,
            Count(alias="models"),
            Sum(w.post_count, alias="posts"),
            Sum(w.image_count, alias="images"),
            Sum(w.video_count, alias="videos"),
        ).group_by(w.status)
    )
    prod = await production_sql.public_counts()
    by_status = {r["status"]: int(r["models"]) for r in staged}
    return CatalogueStats(
        staged_models=sum(by_status.values()),
        staged_new=by_status.get("new", 0),
        staged_active=by_status.get("active", 0),
        posts=sum(int(r["posts"] or 0) for r in staged),
        images=sum(int(r["images"] or 0) for r in staged),
        videos=sum(int(r["videos"] or 0) for r in staged),
        **{f"production_{k}": int(v) for k, v in prod.items()},
    )
