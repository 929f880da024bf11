"""The sync's database side: load a model's rows, write one model's change, apply deletions."""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from domain.catalogue import sync_sql as sql
from domain.catalogue.diff import DesiredPost, ExistingModel, ModelChange, model_fields
from domain.media import records as media_records
from domain.platform import db
from domain.platform.db import now
from domain.platform.lists import any_of
from domain.platform.tables import WhitelabelMedia, WhitelabelPost
from domain.production import lifecycle

if TYPE_CHECKING:
    from piccolo.table import Table


@dataclass(frozen=True, slots=True)
class KnownModel:
    id: int
    listing_hash: str | None
    ignored_keys: int
    media: int


async def known_models(names: list[str] | None = None) -> dict[str, KnownModel]:
    """Every staged model (or the named ones): folder -> id, fingerprint and media count."""
    if names is not None and len(names) != 1:
        raise ValueError("known_models filters on one name at most")
    rows = await sql.known_models(names[0] if names is not None else None)
    return {
        r["folder_name"]: KnownModel(r["id"], r["listing_hash"], r["ignored_keys"], r["media"])
        for r in rows
    }


async def known_models_in(folders: list[str]) -> dict[str, KnownModel]:
    """The staged models among these folders: folder -> id, fingerprint and media count."""
    rows = await sql.known_models_in(folders)
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
    fields, posts, media, images = await sql.load_existing(model_id)
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
            model_id = await sql.insert_model(
                tx, desired.folder, list(fields.values()), fingerprint, stamp
            )
        else:
            await sql.update_model(tx, model_id, list(fields.values()), fingerprint, stamp)
            images = [desired.thumbnail_key, desired.icon_key, desired.banner_key]
            await lifecycle.model_images_changed(
                tx, desired.folder, [*images, *desired.extra_image_keys]
            )
        if change.images_changed:
            await media_records.model_images_listed(
                tx, model_id, desired.image_versions(), new=change.model_id is None
            )
        post_ids = await _insert_posts(tx, model_id, change, stamp)
        if change.changed_posts:  # each statement skipped when empty: a round trip saved
            await sql.update_posts(
                tx, [(pid, p.cdns_json(), *p.counts()) for pid, p in change.changed_posts]
            )
        await sql.insert_media(
            tx,
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
        if change.changed_media:
            await sql.update_media(
                tx,
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
        counts = [p.counts() for p in posts]
        rows = await sql.insert_posts_returning(
            tx,
            model_id,
            stamp,
            [p.folder for p in posts],
            [p.cdns_json() for p in posts],
            [images for images, _ in counts],
            [videos for _, videos in counts],
        )
        ids = {r["folder_name"]: r["id"] for r in rows}
        if len(ids) == len(change.desired.posts):
            return ids
    else:
        await _insert_post_rows(tx, model_id, posts, stamp)
    rows = await sql.post_ids(tx, model_id)
    return {r["folder_name"]: r["id"] for r in rows}


async def _insert_post_rows(
    tx: db.Tx, model_id: int, posts: list[DesiredPost], stamp: datetime
) -> None:
    await sql.insert_post_rows(
        tx,
        [(model_id, p.folder, p.folder, p.cdns_json(), *p.counts(), stamp) for p in posts],
    )


async def apply_deletions(
    model_id: int, post_ids: list[int], media_ids: list[int], fingerprint: str | None
) -> tuple[int, int]:
    """Delete a surviving model's gone media and posts; returns (posts, media) deleted."""
    async with db.transaction() as tx:
        folder = await sql.folder_of(tx, model_id)
        media = await sql.delete_ids(tx, "whitelabel_media", media_ids, returning="s3_key")
        posts = await sql.delete_ids(
            tx, "whitelabel_posts", post_ids, model_id, returning="folder_name"
        )
        await lifecycle.content_removed(tx, folder, posts, media, now())
        await sql.set_listing_hash(tx, model_id, fingerprint)
    return len(posts), len(media)


async def contents(model_ids: list[int]) -> tuple[int, int]:
    """(posts, media) these models hold: what deleting them (delete_models) cascades to."""
    totals = [0, 0]
    for start in range(0, len(model_ids), 500):
        async with db.transaction() as tx:
            posts, media = await sql.contents_of(tx, model_ids[start : start + 500])
        totals[0] += posts
        totals[1] += media
    return totals[0], totals[1]


async def delete_models(model_ids: list[int]) -> tuple[int, int, int]:
    """Delete whole models (their posts and media cascade); returns rows deleted per table."""
    totals = [0, 0, 0]
    for start in range(0, len(model_ids), 500):
        chunk = model_ids[start : start + 500]
        async with db.transaction() as tx:
            posts, media = await sql.contents_of(tx, chunk)
            await lifecycle.models_removed(tx, chunk, now())
            models = await sql.delete_ids(tx, "whitelabel_models", chunk)
        totals[0] += len(models)
        totals[1] += posts
        totals[2] += media
    return totals[0], totals[1], totals[2]


async def touch_synced(model_ids: list[int]) -> None:
    """Stamp last_synced_at on models a run saw unchanged: one statement per 10k ids."""
    stamp = now()
    for start in range(0, len(model_ids), 10_000):
        chunk = model_ids[start : start + 10_000]
        async with db.transaction() as tx:
            await sql.touch_synced(tx, stamp, chunk)
