"""Hand-written SQL for staged models: the review list, bulk activation and activation itself
(see the package docstring)."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from domain.catalogue.sql import LAST_FULL_SYNC
from domain.media.sql import CURRENT, Current
from domain.platform import db
from domain.platform.listing import ListQuery
from domain.platform.paging import SortValue, like_pattern

ACTIVATION_LOCK = 0x43464C41  # "CFLA", with the staged model id as the second key
POST_COLUMNS = (
    "model",
    "source_key",
    "title",
    "content_key",
    "type",
    "thumbnail_key",
    "media",
    "is_published",
    "created_at",
    "updated_at",
)


# -- the review list and a model's page (domain/staging/queries.py)

# Whether a staged row's production model (by its source folder) is retired.
PRODUCTION_RETIRED = (
    "EXISTS (SELECT 1 FROM models rm WHERE rm.source_folder = whitelabel_models.folder_name "
    "AND rm.retired_at IS NOT NULL) AS production_retired"
)


# The list's sorts: its cursor holds the column itself (sort_value). Qualified: a bare
# last_synced_at in ORDER BY would be the displayed GREATEST(...), which the keyset condition
# (and the index) cannot follow. Every sync write sets it: never NULL here.
class ListRow(TypedDict):
    id: int
    folder_name: str
    thumbnail_key: str | None
    post_count: int
    image_count: int
    video_count: int
    status: str
    sort_value: SortValue  # the list's sort column (SORT_COLUMNS), for its keyset cursor
    production_retired: bool
    last_synced_at: datetime | None


class PostRow(TypedDict):
    id: int
    folder_name: str
    title: str
    image_count: int
    video_count: int


class PostMedia(Current):
    whitelabel_post: int
    s3_key: str
    type: str  # "image" or "video"
    size: int


SORT_COLUMNS = {
    "name": "whitelabel_models.folder_name",
    "posts": "whitelabel_models.post_count",
    "synced": "whitelabel_models.last_synced_at",
}


def _filters(listing: ListQuery, args: list[object]) -> str:
    """The WHERE clause of the list's search and status filters; their values go to `args`."""
    where = ["1 = 1"]
    if listing.search:
        args.append(like_pattern(listing.search.lower()))
        where.append(f"lower(folder_name) LIKE ${len(args)} ESCAPE '\\'")
    if status := listing.filter("status"):
        args.append(status)
        where.append(f"status = ${len(args)}")
    return " AND ".join(where)


def _after(
    listing: ListQuery, key: tuple[SortValue, int], forward: bool, args: list[object]
) -> str:
    """The keyset bound: rows after `key` (a (sort value, id) pair) in the list's order, or
    before it when not `forward`."""
    args += list(key)
    op = _beyond(listing, forward)
    return f"({SORT_COLUMNS[listing.sort]}, id) {op} (${len(args) - 1}, ${len(args)})"


def _beyond(listing: ListQuery, forward: bool) -> str:
    """The comparison that keeps the rows past a cursor, in the list's order and direction."""
    return "<" if listing.desc == forward else ">"


async def staged_page(
    listing: ListQuery, key: tuple[SortValue, int] | None, backwards: bool, limit: int
) -> list[ListRow]:
    """One keyset page of the staged list: the rows after the cursor's `key` (before it, read
    nearest first, when `backwards`)."""
    args: list[object] = []
    column = SORT_COLUMNS[listing.sort]
    direction = "DESC" if listing.desc != backwards else "ASC"
    if listing.search and listing.sort == "name" and not listing.filter("status"):
        where = _names_matching(listing, key, not backwards, direction, limit, args)
    else:
        where = _filters(listing, args)
        if key is not None:
            where += " AND " + _after(listing, key, not backwards, args)
        args.append(limit)
    found = await db.fetch(  # raw: hot read, query builder measured slower
        "SELECT id, folder_name, thumbnail_key, post_count, image_count, video_count, status, "
        f"{column} AS sort_value, {PRODUCTION_RETIRED}, "
        f"GREATEST(last_synced_at, {LAST_FULL_SYNC}) AS last_synced_at "
        f"FROM whitelabel_models WHERE {where} "
        f"ORDER BY {column} {direction}, id {direction} LIMIT ${len(args)}",
        *args,
    )
    return db.typed(ListRow, found)


def _names_matching(
    listing: ListQuery,
    key: tuple[SortValue, int] | None,
    forward: bool,
    direction: str,
    limit: int,
    args: list[object],
) -> str:
    """A name search in name order: the page's names picked from the name index alone (an
    index-only scan, skipping the names that do not match), then those rows read. Filtered on
    the table, every name skipped cost a heap fetch: 2,000 of them, 4.5 ms, for a page of
    'rose' at a million models. Names are unique, so the cursor's name alone bounds the page."""
    where = _filters(listing, args)
    if key is not None:
        args.append(key[0])
        where += f" AND folder_name {_beyond(listing, forward)} ${len(args)}"
    args.append(limit)
    return (
        f"folder_name IN (SELECT folder_name FROM whitelabel_models WHERE {where} "
        f"ORDER BY folder_name {direction} LIMIT ${len(args)})"
    )


async def rows_before(listing: ListQuery, key: tuple[SortValue, int], cap: int) -> int:
    """How many rows under the list's filters come before `key` in its order, up to `cap`: a
    (column, id) bound the keyset indexes serve, not a scan of the table."""
    args: list[object] = []
    where = f"{_filters(listing, args)} AND {_after(listing, key, False, args)}"
    rows = await db.fetch(  # raw: hot read, query builder measured slower
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM whitelabel_models WHERE "
        f"{where} LIMIT ${len(args) + 1}) AS capped",
        *args,
        cap,
    )
    return int(rows[0]["n"])


async def capped_count(listing: ListQuery, cap: int) -> int:
    """The models the list's filters match, exact up to `cap`, so a page view never counts a
    whole 100k-row table."""
    args: list[object] = []
    where = _filters(listing, args)
    rows = await db.fetch(  # raw: hot read, query builder measured slower
        "SELECT COUNT(*) AS n FROM (SELECT 1 FROM whitelabel_models WHERE "
        f"{where} LIMIT ${len(args) + 1}) AS capped",
        *args,
        cap,
    )
    return int(rows[0]["n"])


async def staged_model(name: str) -> Sequence[db.Record]:
    """The model's whole row (`w.*`) with its production model's id and state."""
    return await db.fetch(  # raw: hot read, query builder measured slower
        f"SELECT w.*, GREATEST(w.last_synced_at, {LAST_FULL_SYNC}) AS last_synced_at, "
        "m.id AS production_id, m.is_published AS production_published, "
        "m.retired_at AS production_retired_at, "
        "COALESCE(m.retired_at IS NOT NULL, FALSE) AS production_retired "
        "FROM whitelabel_models w LEFT JOIN models m ON m.whitelabel_model = w.id "
        "WHERE w.folder_name = $1",
        name,
    )


async def model_posts(
    model_name: str, size: int, offset: int
) -> tuple[list[PostRow], int, list[PostMedia]]:
    """(a page of a model's posts, their count, their media), read at once."""
    model = "(SELECT id FROM whitelabel_models WHERE folder_name = $1)"
    page_of_posts = (
        "SELECT id, folder_name, title, image_count, video_count FROM whitelabel_posts "
        f"WHERE whitelabel_model = {model} ORDER BY folder_name, id LIMIT $2 OFFSET $3"
    )
    posts, counted, media = await asyncio.gather(
        db.fetch(page_of_posts, model_name, size, offset),  # raw: hot read, builder slower
        db.fetch(  # raw: hot read, query builder measured slower
            f"SELECT COUNT(*) AS n FROM whitelabel_posts WHERE whitelabel_model = {model}",
            model_name,
        ),
        db.fetch(  # raw: hot read, query builder measured slower
            f"SELECT whitelabel_post, s3_key, type, size, {CURRENT} FROM whitelabel_media "
            f"WHERE whitelabel_post IN (SELECT id FROM ({page_of_posts}) AS page) ORDER BY s3_key",
            model_name,
            size,
            offset,
        ),
    )
    return db.typed(PostRow, posts), int(counted[0]["n"]), db.typed(PostMedia, media)


# -- bulk activation (domain/staging/bulk.py)


async def filtered_ids(listing: ListQuery) -> list[int]:
    args: list[object] = []
    where = _filters(listing, args)  # the staged list's own, so both pick the same models
    found = await db.fetch(  # raw: the staged list's own filter (_filters)
        f"SELECT id FROM whitelabel_models WHERE {where} ORDER BY folder_name, id", *args
    )
    return [int(r["id"]) for r in found]


async def record_bulk(
    names: str, description: str, selection: str, key: str, ids: list[int], actor: str, ip: str
) -> db.Record | None:
    """The new bulk activation's row (`names`: the columns it returns), or None when one of the
    same selection (`key`) is queued or running already."""
    rows = await db.fetch(  # raw: model_ids may hold every staged model; the ORM warns on that
        "INSERT INTO bulk_activations "
        "(description, selection, selection_key, model_ids, total, actor, ip) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7) "
        "ON CONFLICT (selection_key) WHERE status IN ('queued', 'running') DO NOTHING "
        f"RETURNING {names}",
        description,
        selection,
        key,
        ids,
        len(ids),
        actor,
        ip,
    )
    return rows[0] if rows else None


async def pending_bulk(names: str, key: str) -> Sequence[db.Record]:
    return await db.fetch(  # raw: the partial unique index's own predicate
        f"SELECT {names} FROM bulk_activations "
        "WHERE selection_key = $1 AND status IN ('queued', 'running')",
        key,
    )


async def active_bulks(names: str) -> Sequence[db.Record]:
    return await db.fetch(  # raw: hot read, query builder measured slower (the list page's)
        f"SELECT {names} FROM bulk_activations WHERE status IN ('queued', 'running') ORDER BY id"
    )


# -- activating one model (domain/staging/activation.py)


async def lock_activation(tx: db.Tx, staged_id: int) -> None:
    """One activation of a model at a time (a bulk job and a row's button may overlap)."""
    await tx.execute("SELECT pg_advisory_xact_lock($1, $2)", ACTIVATION_LOCK, staged_id)  # raw


async def insert_posts(tx: db.Tx, rows: Sequence[Sequence[object]]) -> None:
    # raw: the bulk write path (COPY)
    if rows:
        await tx.copy("posts", POST_COLUMNS, rows)


async def update_posts(tx: db.Tx, updates: Sequence[Sequence[object]]) -> None:
    await tx.executemany(  # raw: one statement for many rows, with expressions
        # A post whose source came back is public again: activating says so.
        "UPDATE posts SET title = $2, content_key = $3, type = $4, thumbnail_key = $5, "
        "media = $6::json, updated_at = $7, is_published = is_published OR "
        "source_missing_at IS NOT NULL, source_missing_at = NULL WHERE id = $1",
        updates,
    )


async def recount_if_changed(tx: db.Tx, model_id: int) -> None:
    # raw: correlated subqueries. Only when it changed: an unchanged row is not rewritten.
    await tx.execute(
        "UPDATE models SET post_count = (SELECT COUNT(*) FROM posts WHERE model = $1 AND "
        "is_published AND source_missing_at IS NULL) WHERE id = $1 AND post_count <> "
        "(SELECT COUNT(*) FROM posts WHERE model = $1 AND is_published AND "
        "source_missing_at IS NULL)",
        model_id,
    )


async def refresh_model(
    tx: db.Tx,
    model_id: int,
    icon: str | None,
    banner: str | None,
    thumb: str | None,
    staged_id: int,
    stamp: datetime,
    draft: bool,
) -> None:
    """Activating brings a source-missing model back and, unless as a draft, publishes it. A
    retired model is brought up to date but stays retired and unpublished."""
    await tx.execute(  # raw: CASE and IS DISTINCT FROM, so an unchanged row is not rewritten
        "UPDATE models SET icon_key = $2, banner_key = $3, thumbnail_key = $4, "
        "whitelabel_model = $5, updated_at = $6, source_missing_at = NULL, "
        "is_published = CASE WHEN $7 OR retired_at IS NOT NULL THEN FALSE "
        "WHEN source_missing_at IS NOT NULL THEN "
        "TRUE ELSE is_published END WHERE id = $1 AND (icon_key IS DISTINCT FROM $2 OR "
        "banner_key IS DISTINCT FROM $3 OR thumbnail_key IS DISTINCT FROM $4 OR "
        "whitelabel_model IS DISTINCT FROM $5 OR source_missing_at IS NOT NULL OR "
        "($7 AND is_published))",
        model_id,
        icon,
        banner,
        thumb,
        staged_id,
        stamp,
        draft,
    )
