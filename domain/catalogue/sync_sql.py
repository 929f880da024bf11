"""Hand-written SQL of the sync's store (domain/catalogue/sync_writes.py): its reads of staged
models and its bulk write path (see the package docstring). Kept apart from catalogue.py so each
file stays short."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from domain.catalogue.diff import StoredMedia, StoredPost
from domain.platform import db

MEDIA_COLUMNS = (
    "whitelabel_post",
    "s3_key",
    "url",
    "type",
    "size",
    "etag",
    "last_modified",
    "created_at",
)


class KnownRow(TypedDict):
    id: int
    folder_name: str
    listing_hash: str | None
    ignored_keys: int
    media: int


class StoredImage(TypedDict):
    s3_key: str
    role: str
    etag: str
    size: int


class NewPost(TypedDict):
    id: int
    folder_name: str


async def known_models(name: str | None) -> list[KnownRow]:
    """Every staged model, or the one named."""
    sql = (
        "SELECT id, folder_name, listing_hash, ignored_keys, image_count + video_count AS media "
        "FROM whitelabel_models"
    )
    args: tuple[object, ...] = ()
    if name is not None:
        sql += " WHERE folder_name = $1"
        args = (name,)
    found = await db.fetch(sql, *args)  # raw: the sync's read of every model, computed column
    return db.typed(KnownRow, found)


async def known_models_in(folders: list[str]) -> list[KnownRow]:
    found = await db.fetch(  # raw: each part's read on the sync's path, computed column
        "SELECT id, folder_name, listing_hash, ignored_keys, image_count + video_count AS media "
        "FROM whitelabel_models WHERE folder_name = ANY($1::text[])",
        folders,
    )
    return db.typed(KnownRow, found)


async def load_existing(
    model_id: int,
) -> tuple[db.Record, list[StoredPost], list[StoredMedia], list[StoredImage]]:
    """(the model's fields, its posts, its media, its own images) on one connection."""
    async with db.read_connection() as tx:  # raw: the sync's per-model read path
        fields = (
            await tx.fetch(
                "SELECT thumbnail_key, icon_key, banner_key, extra_image_keys, post_count, "
                "image_count, video_count, ignored_keys FROM whitelabel_models WHERE id = $1",
                model_id,
            )
        )[0]
        posts = await tx.fetch(
            "SELECT id, folder_name, media_cdns, image_count, video_count FROM whitelabel_posts "
            "WHERE whitelabel_model = $1",
            model_id,
        )
        media = await tx.fetch(
            "SELECT m.id, m.s3_key, m.etag, m.size, m.type, m.url FROM whitelabel_media m "
            "JOIN whitelabel_posts p ON p.id = m.whitelabel_post WHERE p.whitelabel_model = $1",
            model_id,
        )
        images = await tx.fetch(
            "SELECT s3_key, role, etag, size FROM whitelabel_model_images "
            "WHERE whitelabel_model = $1",
            model_id,
        )
    return (
        fields,
        db.typed(StoredPost, posts),
        db.typed(StoredMedia, media),
        db.typed(StoredImage, images),
    )


# -- writing one model's change: the sync's bulk write path


async def insert_model(
    tx: db.Tx, folder: str, fields: Sequence[object], fingerprint: str | None, stamp: datetime
) -> int:
    """The new staged model's id (`fields`: diff.model_fields' values, in their order)."""
    # raw: the sync's bulk write path
    (row,) = await tx.fetch(
        "INSERT INTO whitelabel_models (folder_name, thumbnail_key, icon_key, banner_key, "
        "extra_image_keys, post_count, image_count, video_count, ignored_keys, status, "
        "listing_hash, last_synced_at, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'new', $10, $11, $11) RETURNING id",
        folder,
        *fields,
        fingerprint,
        stamp,
    )
    return int(row["id"])


async def update_model(
    tx: db.Tx, model_id: int, fields: Sequence[object], fingerprint: str | None, stamp: datetime
) -> None:
    # raw: the sync's bulk write path
    await tx.execute(
        "UPDATE whitelabel_models SET thumbnail_key = $2, icon_key = $3, banner_key = $4, "
        "extra_image_keys = $5, post_count = $6, image_count = $7, video_count = $8, "
        "ignored_keys = $9, listing_hash = $10, last_synced_at = $11 WHERE id = $1",
        model_id,
        *fields,
        fingerprint,
        stamp,
    )


async def update_posts(tx: db.Tx, rows: Sequence[Sequence[object]]) -> None:
    """(id, media_cdns, image_count, video_count) per changed post."""
    # raw: the sync's bulk write path
    await tx.executemany(
        "UPDATE whitelabel_posts SET media_cdns = $2, image_count = $3, video_count = $4 "
        "WHERE id = $1",
        rows,
    )


async def insert_media(tx: db.Tx, rows: Sequence[Sequence[object]]) -> None:
    """New media rows, in MEDIA_COLUMNS' order, with COPY."""
    # raw: the sync's bulk write path (COPY)
    await tx.copy("whitelabel_media", MEDIA_COLUMNS, rows)


async def update_media(tx: db.Tx, rows: Sequence[Sequence[object]]) -> None:
    # raw: the sync's bulk write path
    await tx.executemany(
        "UPDATE whitelabel_media SET url = $2, type = $3, size = $4, etag = $5::text, "
        "last_modified = $6, derive_claimed_at = CASE WHEN etag IS DISTINCT FROM $5::text "
        "THEN NULL ELSE derive_claimed_at END WHERE id = $1",  # a new version: claimable now
        rows,
    )


async def insert_posts_returning(
    tx: db.Tx,
    model_id: int,
    stamp: datetime,
    folders: list[str],
    cdns: list[str],
    images: list[int],
    videos: list[int],
) -> list[NewPost]:
    """New posts in one unnest statement; their ids and folders."""
    # raw: the sync's bulk write path (one unnest statement)
    found = await tx.fetch(
        "INSERT INTO whitelabel_posts (whitelabel_model, folder_name, title, media_cdns, "
        "image_count, video_count, created_at) "
        "SELECT $1, f, f, c::json, i, v, $2 FROM unnest($3::text[], $4::text[], $5::int[], "
        "$6::int[]) AS t(f, c, i, v) RETURNING id, folder_name",
        model_id,
        stamp,
        folders,
        cdns,
        images,
        videos,
    )
    return db.typed(NewPost, found)


async def post_ids(tx: db.Tx, model_id: int) -> list[NewPost]:
    # raw: the sync's bulk write path (a read inside its transaction)
    found = await tx.fetch(
        "SELECT id, folder_name FROM whitelabel_posts WHERE whitelabel_model = $1", model_id
    )
    return db.typed(NewPost, found)


async def insert_post_rows(tx: db.Tx, rows: Sequence[Sequence[object]]) -> None:
    # raw: the sync's bulk write path
    await tx.executemany(
        "INSERT INTO whitelabel_posts (whitelabel_model, folder_name, title, media_cdns, "
        "image_count, video_count, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        rows,
    )


# -- deletions


async def folder_of(tx: db.Tx, model_id: int) -> str:
    # raw: the sync's bulk write path (a read inside its transaction)
    return str(
        await tx.fetchval("SELECT folder_name FROM whitelabel_models WHERE id = $1", model_id)
    )


async def set_listing_hash(tx: db.Tx, model_id: int, fingerprint: str | None) -> None:
    # raw: the sync's bulk write path
    await tx.execute(
        "UPDATE whitelabel_models SET listing_hash = $2 WHERE id = $1", model_id, fingerprint
    )


async def contents_of(tx: db.Tx, chunk: list[int]) -> tuple[int, int]:
    """How many (posts, media) these models hold (what deleting them cascades to)."""
    # raw: the sync's bulk write path (counts before the cascade)
    marks = ", ".join(f"${i + 1}" for i in range(len(chunk)))
    (row,) = await tx.fetch(
        "SELECT (SELECT COUNT(*) FROM whitelabel_posts WHERE "
        f"whitelabel_model IN ({marks})) AS posts, (SELECT COUNT(*) FROM "
        "whitelabel_media m JOIN whitelabel_posts p ON "
        f"p.id = m.whitelabel_post WHERE p.whitelabel_model IN ({marks})) AS media",
        *chunk,
    )
    return int(row["posts"]), int(row["media"])


async def delete_ids(
    tx: db.Tx, table: str, ids: list[int], model_id: int | None = None, returning: str = "id"
) -> list[str]:
    """Delete rows by id (of one model, if given); returns a column of each deleted row, as
    text (a folder name, a key; for ids only their number is read)."""
    # raw: the sync's bulk write path (a table chosen by name, chunked id lists)
    deleted: list[str] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join(f"${i + 1}" for i in range(len(chunk)))
        extra = ""
        args: list[object] = list(chunk)
        if model_id is not None:
            extra = f" AND whitelabel_model = ${len(chunk) + 1}"
            args.append(model_id)
        rows = await tx.fetch(
            f"DELETE FROM {table} WHERE id IN ({marks}){extra} RETURNING {returning}", *args
        )
        deleted += [str(row[returning]) for row in rows]
    return deleted


async def touch_synced(tx: db.Tx, stamp: datetime, chunk: list[int]) -> None:
    # raw: the sync's bulk write path
    await tx.execute(
        "UPDATE whitelabel_models SET last_synced_at = $1 WHERE id = ANY($2::int[])",
        stamp,
        chunk,
    )
