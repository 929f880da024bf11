"""Hand-written SQL for the production catalogue and its public side (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any, NamedTuple, TypedDict

from domain.platform import db
from domain.platform.listing import ListQuery
from domain.platform.paging import like_pattern
from domain.production import tally
from domain.production.visibility import (
    post_public_sql,
    public_posts_sql,
    public_sql,
    publishable_sql,
)

# The visibility rule (domain/production/visibility.py) as this module's queries need it.
VISIBLE_MODEL = public_sql("m")
VISIBLE_POST = public_sql("p", "post")  # the post's own conditions: its model is public already
# A model's own thumbnail, else the thumbnail of its first visible post.
THUMBNAIL = (
    f"COALESCE(m.thumbnail_key, (SELECT p.thumbnail_key FROM posts p WHERE p.model = m.id AND "
    f"{VISIBLE_POST} AND p.thumbnail_key IS NOT NULL ORDER BY p.source_key LIMIT 1))"
)
MODEL_COLUMNS = (
    "m.id, m.name, m.slug, m.description, m.is_featured, m.post_count, m.icon_key, "
    f"m.banner_key, {THUMBNAIL} AS thumbnail_key"
)
BACK = (
    "EXISTS (SELECT 1 FROM whitelabel_models w2 WHERE w2.folder_name = m.source_folder) "
    "AS source_back"
)
LIST_COLUMNS = (
    "m.id, m.name, m.slug, m.is_published, m.is_featured, m.post_count, "
    f"{THUMBNAIL} AS thumbnail_key, m.updated_at, m.display_order, m.source_missing_at, "
    "m.retired_at, "
    f"w.folder_name AS staged_name, {BACK}, (SELECT COUNT(*) FROM posts p WHERE p.model = m.id) "
    "AS all_posts"
)
LIST_STAGED = "LEFT JOIN whitelabel_models w ON w.id = m.whitelabel_model"
LIST_SELECT = f"SELECT {LIST_COLUMNS} FROM models m {LIST_STAGED}"
# What publishing one model or post locks and reads first: its names, and whether it may be
# public (a missing source may not, nor a retired model; a model's folder may be staged again,
# not yet activated).
_LOCK = {
    "model": (
        f"SELECT m.name, m.name AS target, m.id AS model_id, m.source_missing_at, {BACK}, "
        "m.retired_at FROM models m WHERE m.id = $1 FOR UPDATE"
    ),
    "post": (
        "SELECT title AS name, source_key AS target, model AS model_id, source_missing_at, "
        "false AS source_back, NULL AS retired_at FROM posts WHERE id = $1 FOR UPDATE"
    ),
}


# -- the public read side (domain/production/public.py)


class PublicFields(TypedDict):
    """A public model's own fields, as stored and as the API serves them."""

    id: int
    name: str
    slug: str
    description: str
    is_featured: bool
    post_count: int


class PublicModelRow(PublicFields):
    """MODEL_COLUMNS: a public model as stored, its thumbnail's key resolved."""

    icon_key: str | None
    banner_key: str | None
    thumbnail_key: str | None


class PublicPosition(NamedTuple):
    """Where a model stands in the public order: the keyset the API's `after` cursor holds."""

    display_order: int
    post_count: int
    id: int


class PublicPageRow(PublicModelRow):
    display_order: int  # with post_count and id, the row's PublicPosition


def public_order(table: str = "m") -> str:
    """The public site's order (the models_public_page index's), of `table`'s columns ("" for
    a union's own)."""
    at = f"{table}." if table else ""
    return f"ORDER BY {at}display_order, {at}post_count DESC, {at}id"


_PAGE_IDS = f"SELECT m.id, m.display_order, m.post_count FROM models m WHERE {VISIBLE_MODEL}"
# The models after a position, as three ranges of the models_public_page index in its order
# (display_order, post_count DESC, id), each read only as far as the page needs: the same
# display order and post count with a higher id, the same display order with fewer posts, a
# later display order. One row comparison cannot say it: post_count runs the other way.
_AFTER = " UNION ALL ".join(
    f"({_PAGE_IDS} AND {where} {public_order()} LIMIT $1)"
    for where in (
        "m.display_order = $2 AND m.post_count = $3 AND m.id > $4",
        "m.display_order = $2 AND m.post_count < $3",
        "m.display_order > $2",
    )
)


async def public_models_page(
    limit: int, offset: int, after: PublicPosition | None = None
) -> list[PublicPageRow]:
    # raw: THUMBNAIL is a correlated subquery, which Piccolo's select cannot express. The
    # page's ids come first, from the models_public_page index alone (an index-only scan skips
    # the offset's rows without reading them; the ranges after a position skip nothing), then
    # the models they name.
    if after is None:
        ids, args = f"{_PAGE_IDS} {public_order()} LIMIT $1 OFFSET $2", [limit, offset]
    else:
        ids, args = f"{_AFTER} {public_order('')} LIMIT $1", [limit, *after]
    found = await db.fetch(
        f"SELECT {MODEL_COLUMNS}, m.display_order FROM ({ids}) AS page "
        f"JOIN models m ON m.id = page.id {public_order('page')}",
        *args,
    )
    return db.typed(PublicPageRow, found)


async def find_public_model(ref: str, by_name_first: bool) -> list[PublicModelRow]:
    # raw: THUMBNAIL's correlated subquery and the CASE ordering, beyond Piccolo's select
    found = await db.fetch(
        f"SELECT {MODEL_COLUMNS} FROM models m WHERE {VISIBLE_MODEL} AND (m.slug = $1 OR "
        "m.name = $1 OR m.id IN (SELECT model FROM model_slugs WHERE slug = $1)) ORDER BY "
        "CASE WHEN $2 AND m.name = $1 THEN 0 WHEN m.slug = $1 THEN 1 WHEN m.id IN (SELECT model "
        "FROM model_slugs WHERE slug = $1) THEN 2 ELSE 3 END LIMIT 1",
        ref,
        by_name_first,
    )
    return db.typed(PublicModelRow, found)


# -- the production list and publishing (domain/production/publishing.py)


# The production list's sorts, each then by id.
LIST_ORDER = {
    "name": "lower(m.name)",
    "posts": public_posts_sql("m"),
    "updated": "m.updated_at",
    "order": "m.display_order",
}


def _list_filters(listing: ListQuery, args: list[object]) -> str:
    """The WHERE clause of the production list's filters; their values go to `args`. Retired
    models are left out unless the state asked is "retired"."""
    clauses = ["TRUE"]
    if listing.search:
        args.append(like_pattern(listing.search.lower()))
        n = len(args)
        clauses.append(f"(lower(m.name) LIKE ${n} ESCAPE '\\' OR m.slug LIKE ${n} ESCAPE '\\')")
    state = listing.filter("state")
    clauses.append("m.retired_at IS NOT NULL" if state == "retired" else "m.retired_at IS NULL")
    if state in ("published", "unpublished"):
        clauses.append("m.is_published" if state == "published" else "NOT m.is_published")
    if listing.flag("featured"):
        clauses.append("m.is_featured")
    if listing.flag("missing"):
        clauses.append("m.source_missing_at IS NOT NULL")
    return " AND ".join(clauses)


class ListCounts(TypedDict):
    """The production list's counts over at most `cap` matching models (see models_count)."""

    total: int
    to_publish: int
    retired: int
    missing: int


class ListRow(TypedDict):
    """LIST_SELECT's columns: a production list row before its thumbnail is signed."""

    id: int
    name: str
    slug: str
    is_published: bool
    is_featured: bool
    post_count: int
    thumbnail_key: str | None
    updated_at: datetime
    display_order: int
    source_missing_at: datetime | None
    retired_at: datetime | None
    staged_name: str | None
    source_back: bool
    all_posts: int


class PublishLock(TypedDict):
    """_LOCK's columns: what publishing one model or post read under its lock."""

    name: str
    target: str
    model_id: int
    source_missing_at: datetime | None
    source_back: bool
    retired_at: datetime | None


async def models_count(listing: ListQuery, cap: int) -> ListCounts:
    """How many models match the production list's filters, and of those how many publishing
    would make public and how many it would skip, retired or with their source missing. It
    reads at most `cap` matching models, so a page view costs the same at a million models as
    at ten thousand: a total of `cap` means "at least", and then the other three are partial."""
    args: list[object] = []
    where = _list_filters(listing, args)
    # raw: hot read, query builder measured slower; FILTER over a LIMITed subquery, which the
    # builder cannot express
    counts = await db.fetch(
        "SELECT COUNT(*) AS total, COUNT(*) FILTER (WHERE to_publish) AS to_publish, "
        "COUNT(*) FILTER (WHERE retired) AS retired, COUNT(*) FILTER (WHERE missing) AS missing "
        f"FROM (SELECT NOT m.is_published AND {publishable_sql('m')} AS to_publish, "
        "m.retired_at IS NOT NULL AS retired, m.retired_at IS NULL AND m.source_missing_at IS "
        f"NOT NULL AS missing FROM models m WHERE {where} LIMIT ${len(args) + 1}) AS capped",
        *args,
        cap,
    )
    return db.typed(ListCounts, counts)[0]


async def models_page(listing: ListQuery) -> list[ListRow]:
    """This page of the production list, and the row after it when there is one."""
    args: list[object] = []
    where = _list_filters(listing, args)
    order = f"{LIST_ORDER[listing.sort]} {'DESC' if listing.desc else 'ASC'}, m.id"
    # The page's models first, then the row's columns for those alone: with the subqueries
    # beside a LIMIT over the whole filter, the planner hashed every staged folder name for
    # source_back (10 ms a page at 20,000 models, most of the page's time).
    page = await db.fetch(  # raw: hot read, query builder measured slower
        f"SELECT {LIST_COLUMNS} FROM (SELECT * FROM models m WHERE {where} ORDER BY {order} "
        f"LIMIT ${len(args) + 1} OFFSET ${len(args) + 2}) AS m {LIST_STAGED} ORDER BY {order}",
        *args,
        listing.size + 1,  # one more: whether a next page exists past a capped count
        listing.offset,
    )
    return db.typed(ListRow, page)


async def matching_ids(listing: ListQuery) -> list[int]:
    args: list[object] = []
    where = _list_filters(listing, args)
    # raw: the production list's filters (_list_filters), one definition for both
    found = await db.fetch(f"SELECT m.id FROM models m WHERE {where} ORDER BY m.id", *args)
    return [int(r["id"]) for r in found]


async def model_row(model_id: int) -> list[ListRow]:
    # raw: hot read, query builder measured slower (the production list's row)
    return db.typed(ListRow, await db.fetch(f"{LIST_SELECT} WHERE m.id = $1", model_id))


async def lock_for_publishing(tx: db.Tx, kind: str, row_id: int) -> list[PublishLock]:
    return db.typed(PublishLock, await tx.fetch(_LOCK[kind], row_id))  # raw: a lock (FOR UPDATE)


# -- editing (domain/production/editing.py)


async def lock_model(tx: db.Tx, model_id: int, columns: Sequence[str]) -> list[dict[str, object]]:
    # raw: a lock (FOR UPDATE)
    return await tx.fetch(
        f"SELECT id, {', '.join(columns)} FROM models WHERE id = $1 FOR UPDATE", model_id
    )


# -- following the bucket (domain/production/lifecycle.py)


class Unpublished(TypedDict):
    id: int
    name: str


class PostMedia(TypedDict):
    id: int
    source_key: str
    media: Any  # JSON: the post's media list
    content_key: str | None


async def models_removed(tx: db.Tx, staged_ids: list[int], stamp: datetime) -> list[Unpublished]:
    """The production models of these staged ones, unpublished as source missing."""
    # raw: an UPDATE over a subquery of whitelabel_models (the sync's bulk statement)
    found = await tx.fetch(
        "UPDATE models SET is_published = FALSE, source_missing_at = $2, updated_at = $2, "
        "post_count = 0 WHERE source_folder IN (SELECT folder_name FROM whitelabel_models "
        "WHERE id = ANY($1::int[])) AND source_missing_at IS NULL RETURNING id, name",
        staged_ids,
        stamp,
    )
    return db.typed(Unpublished, found)


async def posts_with_media(tx: db.Tx, model_id: int, keys: list[str]) -> list[PostMedia]:
    # raw: json_array_elements, which Piccolo's builder cannot express
    found = await tx.fetch(
        "SELECT id, source_key, media, content_key FROM posts WHERE model = $1 AND "
        "source_missing_at IS NULL AND EXISTS (SELECT 1 FROM json_array_elements(media) e "
        "WHERE e->>'key' = ANY($2::text[]))",
        model_id,
        keys,
    )
    return db.typed(PostMedia, found)


async def set_posts_media(tx: db.Tx, updates: Sequence[tuple[object, ...]]) -> None:
    # raw: one statement for many rows (executemany), the sync's bulk write path
    await tx.executemany(
        "UPDATE posts SET media = $2::json, content_key = $3, type = $4, thumbnail_key = $5, "
        "updated_at = $6 WHERE id = $1",
        updates,
    )


async def forget_model_images(tx: db.Tx, folder: str, present: list[str]) -> None:
    # raw: CASE expressions in SET, which Piccolo's update cannot express
    await tx.execute(
        "UPDATE models SET "
        "icon_key = CASE WHEN icon_key = ANY($2::text[]) THEN icon_key END, "
        "banner_key = CASE WHEN banner_key = ANY($2::text[]) THEN banner_key END, "
        "thumbnail_key = CASE WHEN thumbnail_key = ANY($2::text[]) THEN thumbnail_key END "
        "WHERE source_folder = $1 AND (icon_key <> ALL($2::text[]) OR "
        "banner_key <> ALL($2::text[]) OR thumbnail_key <> ALL($2::text[]))",
        folder,
        present,
    )


async def recount(tx: db.Tx, model_id: int) -> None:
    # raw: a correlated subquery in SET, which Piccolo's update cannot express
    await tx.execute(
        "UPDATE models SET post_count = (SELECT COUNT(*) FROM posts WHERE model = $1 AND "
        f"{public_sql('posts', 'post')}) WHERE id = $1",
        model_id,
    )


async def public_counts() -> dict[str, int]:
    """Production models and posts, and how many of each are public (the dashboard's cards).
    Like the production list's "All", retired models (and their posts) are left out of the
    totals and counted on their own. Public models are the public API's count (the tally)."""
    # raw: five counts in one round trip (scalar subqueries, two over a join)
    rows = await db.fetch(
        "SELECT (SELECT COUNT(*) FROM models WHERE retired_at IS NULL) AS models, "
        f"{tally.PUBLIC_MODELS} AS public_models, "
        "(SELECT COUNT(*) FROM models WHERE retired_at IS NOT NULL) AS retired_models, "
        "(SELECT COUNT(*) FROM posts p JOIN models m ON m.id = p.model WHERE m.retired_at IS "
        "NULL) AS posts, (SELECT COUNT(*) FROM posts p JOIN models m "
        f"ON m.id = p.model WHERE {post_public_sql('p', 'm')}) AS public_posts"
    )
    return {k: int(v) for k, v in dict(rows[0]).items()}


# -- what a held deletion plan takes off the public site (domain/production/live.py)


async def live_models(folders: list[str]) -> list[str]:
    """The public models' source folders among `folders`, in order."""
    # raw: the visibility rule's SQL (visibility.py) in a WHERE over an array parameter
    found = await db.fetch(
        "SELECT m.source_folder AS folder FROM models m WHERE "
        f"m.source_folder = ANY($1::text[]) AND {VISIBLE_MODEL} ORDER BY m.source_folder",
        folders,
    )
    return [str(r["folder"]) for r in found]


async def live_posts(folders: list[str], source_keys: list[str]) -> int:
    """Public posts of these model folders, or with these source keys."""
    # raw: the visibility rule's SQL (visibility.py) over a join
    return int(
        await db.fetchval(
            "SELECT COUNT(*) FROM posts p JOIN models m ON m.id = p.model WHERE "
            f"{post_public_sql('p', 'm')} AND (m.source_folder = ANY($1::text[]) OR "
            "p.source_key = ANY($2::text[]))",
            folders,
            source_keys,
        )
    )


async def live_post_keys(source_keys: list[str]) -> set[str]:
    """Which of these posts (by source key) are public."""
    # raw: the visibility rule's SQL (visibility.py) over a join
    found = await db.fetch(
        "SELECT p.source_key FROM posts p JOIN models m ON m.id = p.model WHERE "
        f"p.source_key = ANY($1::text[]) AND {post_public_sql('p', 'm')}",
        source_keys,
    )
    return {str(r["source_key"]) for r in found}
