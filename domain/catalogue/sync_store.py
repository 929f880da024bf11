"""The sync's database side: load a model's rows, write one model's change, apply deletions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

from domain.catalogue.plan import ExistingModel, ModelChange, model_fields
from domain.media import store as media_store
from domain.platform import db
from domain.platform.db import now
from domain.platform.lists import any_of
from domain.platform.tables import WhitelabelMedia, WhitelabelPost
from domain.production import lifecycle

if TYPE_CHECKING:
    from piccolo.table import Table

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


@dataclass(frozen=True, slots=True)
class KnownModel:
    id: int
    listing_hash: str | None
    ignored_keys: int
    media: int


async def known_models(names: list[str] | None = None) -> dict[str, KnownModel]:
    """Every staged model (or the named ones): folder -> id, fingerprint and media count."""
    sql = (
        "SELECT id, folder_name, listing_hash, ignored_keys, image_count + video_count AS media "
        "FROM whitelabel_models"
    )
    args: tuple[Any, ...] = ()
    if names is not None:
        if len(names) != 1:
            raise ValueError("known_models filters on one name at most")
        sql += " WHERE folder_name = $1"
        args = (names[0],)
    rows = await db.fetch(sql, *args)  # raw: the sync's read of every model, computed column
    return {
        r["folder_name"]: KnownModel(r["id"], r["listing_hash"], r["ignored_keys"], r["media"])
        for r in rows
    }


async def known_models_in(folders: list[str]) -> dict[str, KnownModel]:
    """The staged models among these folders: folder -> id, fingerprint and media count."""
    rows = await db.fetch(  # raw: each part's read on the sync's path, computed column
        "SELECT id, folder_name, listing_hash, ignored_keys, image_count + video_count AS media "
        "FROM whitelabel_models WHERE folder_name = ANY($1::text[])",
        folders,
    )
    return {
        r["folder_name"]: KnownModel(r["id"], r["listing_hash"], r["ignored_keys"], r["media"])
        for r in rows
    }


async def media_keys(media_ids: list[int]) -> dict[int, str]:
    if not media_ids:
        return {}
    m = WhitelabelMedia
    rows = await db.select(m.select(m.id, m.s3_key).where(m.id.is_in(any_of(media_ids))))
    return {r["id"]: r["s3_key"] for r in rows}


async def post_folders(post_ids: list[int]) -> dict[int, str]:
    if not post_ids:
        return {}
    p = WhitelabelPost
    rows = await db.select(p.select(p.id, p.folder_name).where(p.id.is_in(any_of(post_ids))))
    return {r["id"]: r["folder_name"] for r in rows}


async def count_rows(table: type[Table]) -> int:
    return int(await table.count())


async def load_existing(model_id: int) -> ExistingModel:
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
    return ExistingModel(
        model_id,
        fields,
        {p["folder_name"]: p for p in posts},
        {m["s3_key"]: m for m in media},
        {i["s3_key"]: (i["role"], i["etag"], int(i["size"])) for i in images},
    )


async def write_change(change: ModelChange) -> int:
    """Insert and update one model's rows in one transaction; returns the model id."""
    desired = change.desired
    stamp = now()
    fields = model_fields(desired)
    fields["extra_image_keys"] = json.dumps(fields["extra_image_keys"])
    # A model with pending deletions keeps no fingerprint, so the next run looks at it again.
    fingerprint = None if change.has_deletions else desired.listing_hash
    async with db.transaction() as tx:
        model_id = change.model_id
        if model_id is None:
            model_id = await tx.fetchval(
                "INSERT INTO whitelabel_models (folder_name, thumbnail_key, icon_key, banner_key, "
                "extra_image_keys, post_count, image_count, video_count, ignored_keys, status, "
                "listing_hash, last_synced_at, created_at) "
                "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 'new', $10, $11, $11) RETURNING id",
                desired.folder,
                *fields.values(),
                fingerprint,
                stamp,
            )
        else:
            await tx.execute(
                "UPDATE whitelabel_models SET thumbnail_key = $2, icon_key = $3, banner_key = $4, "
                "extra_image_keys = $5, post_count = $6, image_count = $7, video_count = $8, "
                "ignored_keys = $9, listing_hash = $10, last_synced_at = $11 WHERE id = $1",
                model_id,
                *fields.values(),
                fingerprint,
                stamp,
            )
            images = [desired.thumbnail_key, desired.icon_key, desired.banner_key]
            await lifecycle.model_images_changed(
                tx, desired.folder, [*images, *desired.extra_image_keys]
            )
        if change.images_changed:
            await media_store.model_images_listed(tx, model_id, desired.image_versions())
        post_ids = await _insert_posts(tx, model_id, change, stamp)
        await tx.executemany(
            "UPDATE whitelabel_posts SET media_cdns = $2, image_count = $3, video_count = $4 "
            "WHERE id = $1",
            [(pid, json.dumps(p.cdns()), *p.counts()) for pid, p in change.changed_posts],
        )
        await tx.copy(
            "whitelabel_media",
            MEDIA_COLUMNS,
            [
                (
                    post_ids[folder],
                    m.obj.key,
                    m.url,
                    m.type,
                    m.obj.size,
                    m.obj.etag,
                    m.obj.last_modified,
                    stamp,
                )
                for folder, m in change.new_media
            ],
        )
        await tx.executemany(
            "UPDATE whitelabel_media SET url = $2, type = $3, size = $4, etag = $5, "
            "last_modified = $6 WHERE id = $1",
            [
                (mid, m.url, m.type, m.obj.size, m.obj.etag, m.obj.last_modified)
                for mid, m in change.changed_media
            ],
        )
    assert model_id is not None
    return int(model_id)


async def _insert_posts(
    tx: db.Tx, model_id: int, change: ModelChange, stamp: datetime
) -> dict[str, int]:
    """Insert new posts; returns folder -> id for every post the new media may need."""
    posts = change.new_posts
    if not change.new_media:
        await _insert_post_rows(tx, model_id, posts, stamp)
        return {}
    if posts:
        rows = await tx.fetch(
            "INSERT INTO whitelabel_posts (whitelabel_model, folder_name, title, media_cdns, "
            "image_count, video_count, created_at) "
            "SELECT $1, f, f, c::json, i, v, $2 FROM unnest($3::text[], $4::text[], $5::int[], "
            "$6::int[]) AS t(f, c, i, v) RETURNING id, folder_name",
            model_id,
            stamp,
            [p.folder for p in posts],
            [json.dumps(p.cdns()) for p in posts],
            [p.counts()[0] for p in posts],
            [p.counts()[1] for p in posts],
        )
        ids = {r["folder_name"]: r["id"] for r in rows}
        if len(ids) == len(change.desired.posts):
            return ids
    else:
        await _insert_post_rows(tx, model_id, posts, stamp)
    rows = await tx.fetch(
        "SELECT id, folder_name FROM whitelabel_posts WHERE whitelabel_model = $1", model_id
    )
    return {r["folder_name"]: r["id"] for r in rows}


async def _insert_post_rows(tx: db.Tx, model_id: int, posts: list[Any], stamp: datetime) -> None:
    await tx.executemany(
        "INSERT INTO whitelabel_posts (whitelabel_model, folder_name, title, media_cdns, "
        "image_count, video_count, created_at) VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [(model_id, p.folder, p.folder, json.dumps(p.cdns()), *p.counts(), stamp) for p in posts],
    )


async def apply_deletions(
    model_id: int, post_ids: list[int], media_ids: list[int], fingerprint: str | None
) -> tuple[int, int]:
    """Delete a surviving model's gone media and posts; returns (posts, media) deleted."""
    async with db.transaction() as tx:
        folder = await tx.fetchval(
            "SELECT folder_name FROM whitelabel_models WHERE id = $1", model_id
        )
        media = await _delete_ids(tx, "whitelabel_media", media_ids, returning="s3_key")
        posts = await _delete_ids(
            tx, "whitelabel_posts", post_ids, model_id, returning="folder_name"
        )
        await lifecycle.content_removed(tx, folder, posts, media, now())
        await tx.execute(
            "UPDATE whitelabel_models SET listing_hash = $2 WHERE id = $1", model_id, fingerprint
        )
    return len(posts), len(media)


async def delete_models(model_ids: list[int]) -> tuple[int, int, int]:
    """Delete whole models (their posts and media cascade); returns rows deleted per table."""
    totals = [0, 0, 0]
    for start in range(0, len(model_ids), 500):
        chunk = model_ids[start : start + 500]
        marks = ", ".join(f"${i + 1}" for i in range(len(chunk)))
        async with db.transaction() as tx:
            counts = (
                await tx.fetch(
                    "SELECT (SELECT COUNT(*) FROM whitelabel_posts WHERE "
                    f"whitelabel_model IN ({marks})) AS posts, (SELECT COUNT(*) FROM "
                    "whitelabel_media m JOIN whitelabel_posts p ON "
                    f"p.id = m.whitelabel_post WHERE p.whitelabel_model IN ({marks})) AS media",
                    *chunk,
                )
            )[0]
            await lifecycle.models_removed(tx, chunk, now())
            models = await _delete_ids(tx, "whitelabel_models", chunk)
        totals[0] += len(models)
        totals[1] += int(counts["posts"])
        totals[2] += int(counts["media"])
    return totals[0], totals[1], totals[2]


async def _delete_ids(
    tx: db.Tx, table: str, ids: list[int], model_id: int | None = None, returning: str = "id"
) -> list[Any]:
    """Delete rows by id (of one model, if given); returns a column of each deleted row."""
    deleted: list[Any] = []
    for start in range(0, len(ids), 500):
        chunk = ids[start : start + 500]
        marks = ", ".join(f"${i + 1}" for i in range(len(chunk)))
        extra = ""
        args: list[Any] = list(chunk)
        if model_id is not None:
            extra = f" AND whitelabel_model = ${len(chunk) + 1}"
            args.append(model_id)
        rows = await tx.fetch(
            f"DELETE FROM {table} WHERE id IN ({marks}){extra} RETURNING {returning}", *args
        )
        deleted += [row[returning] for row in rows]
    return deleted


async def touch_synced(model_ids: list[int]) -> None:
    """Stamp last_synced_at on models a run saw unchanged: one statement per 10k ids."""
    stamp = now()
    for start in range(0, len(model_ids), 10_000):
        chunk = model_ids[start : start + 10_000]
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE whitelabel_models SET last_synced_at = $1 WHERE id = ANY($2::int[])",
                stamp,
                chunk,
            )
