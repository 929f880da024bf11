"""Production follows the bucket: when a sync removes staged content, its production counterpart
is unpublished and marked "source missing" in the same transaction, and audited.

Called from the sync's write path (domain/catalogue/sync_writes.py) with its open transaction,
so the public site never shows content whose objects are gone, not even between two statements.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime
from typing import Any

from piccolo.columns.combination import WhereRaw

from domain.accounts import audit
from domain.platform import db
from domain.platform.tables import Model, Post
from domain.production import sql

ACTOR = "sync"


def is_model_level(folder: str, key: str | None) -> bool:
    """A model's own image (`Model/x.jpg`, `Model/profile/...`), not one of its posts'."""
    if not key or not key.startswith(folder + "/"):
        return False
    rest = key[len(folder) + 1 :]
    return "/" not in rest or rest.startswith("profile/")


def main_item(media: list[dict[str, str]]) -> tuple[str | None, str, str | None]:
    """(content_key, type, thumbnail_key) of a post: its first video, else its first image."""
    video = next((m["key"] for m in media if m["type"] == "video"), None)
    image = next((m["key"] for m in media if m["type"] == "image"), None)
    return video or image, "video" if video else "image", image


def media_list(value: Any) -> list[dict[str, str]]:
    """A post's media column as a list, however the driver hands back JSON."""
    items = json.loads(value) if isinstance(value, str) else value
    return list(items or [])


async def _audit(tx: db.Tx, rows: Iterable[tuple[int, str, str]]) -> None:
    """One audit line per production model or post the sync took off the public site."""
    await audit.record_in(
        tx, ((ACTOR, "source_missing", target, detail, "", m) for m, target, detail in rows)
    )


async def models_removed(tx: db.Tx, staged_ids: list[int], stamp: datetime) -> int:
    """Before staged models are deleted: unpublish their production models and all their posts."""
    rows = await sql.models_removed(tx, staged_ids, stamp)
    if not rows:
        return 0
    ids = [r["id"] for r in rows]
    await tx.run(
        Post.update(
            {Post.is_published: False, Post.source_missing_at: stamp, Post.updated_at: stamp}
        ).where(WhereRaw("posts.model = ANY({}::int[])", ids) & Post.source_missing_at.is_null())
    )
    detail = "its folder is gone from the bucket: unpublished with all its posts"
    await _audit(tx, ((r["id"], r["name"], detail) for r in rows))
    return len(rows)


async def content_removed(
    tx: db.Tx, folder: str, post_folders: list[str], media_keys: list[str], stamp: datetime
) -> int:
    """Staged posts and media of a surviving model are about to go: unpublish production posts
    whose folder is gone, drop gone items from the others' media lists (re-picking the main
    item and thumbnail), and unpublish a post left with nothing. Returns posts unpublished."""
    if not (post_folders or media_keys):
        return 0
    found = await tx.run(Model.select(Model.id).where(Model.source_folder == folder))
    if not found:
        return 0
    model_id = int(found[0]["id"])
    gone = await tx.run(
        Post.update(
            {Post.is_published: False, Post.source_missing_at: stamp, Post.updated_at: stamp}
        )
        .where(
            (Post.model == model_id)
            & WhereRaw(
                "posts.source_key = ANY({}::text[])", [f"{folder}/{p}" for p in post_folders]
            )
            & Post.source_missing_at.is_null()
        )
        .returning(Post.id, Post.source_key)
    )
    missing = [(model_id, r["source_key"], "its folder is gone from the bucket") for r in gone]
    if media_keys:
        missing += await _drop_media(tx, model_id, set(media_keys), stamp)
    if missing:
        await _audit(tx, missing)
        await recount(tx, model_id)
    return len(missing)


async def _drop_media(
    tx: db.Tx, model_id: int, keys: set[str], stamp: datetime
) -> list[tuple[int, str, str]]:
    rows = await sql.posts_with_media(tx, model_id, list(keys))
    emptied: list[tuple[int, str, str]] = []
    updates = []
    for row in rows:
        left = [m for m in media_list(row["media"]) if m["key"] not in keys]
        if not left:
            emptied.append((model_id, row["source_key"], "all its files are gone from the bucket"))
            await tx.run(
                Post.update(
                    {
                        Post.is_published: False,
                        Post.source_missing_at: stamp,
                        Post.media: [],
                        Post.updated_at: stamp,
                    }
                ).where(Post.id == row["id"])
            )
            continue
        content, kind, thumb = main_item(left)
        updates.append((row["id"], json.dumps(left), content, kind, thumb, stamp))
    await sql.set_posts_media(tx, updates)
    return emptied


async def model_images_changed(tx: db.Tx, folder: str, keys: Iterable[str | None]) -> None:
    """A staged model's own images changed: production forgets the ones no longer there."""
    present = [k for k in keys if k]
    await sql.forget_model_images(tx, folder, present)


async def recount(tx: db.Tx, model_id: int) -> None:
    """post_count is what the public site lists: published posts whose source exists."""
    await sql.recount(tx, model_id)
