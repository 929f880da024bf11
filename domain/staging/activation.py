"""Activation: promote staged models into the production tables the public site reads."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from typing import Any

from domain.errors import NotFound
from domain.platform import db
from domain.platform.db import now
from domain.production.lifecycle import is_model_level
from domain.staging.activation_plan import plan_posts

ACTIVATION_LOCK = 0x43464C41  # "CFLA", with the staged model id as the second key


@dataclass
class ActivationResult:
    processed: int = 0
    models_created: int = 0
    posts_created: int = 0
    posts_updated: int = 0
    posts_unpublished: int = 0
    activated: list[str] = field(default_factory=list)

    def add(self, other: ActivationResult) -> None:
        for name in (
            "processed",
            "models_created",
            "posts_created",
            "posts_updated",
            "posts_unpublished",
        ):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.activated.extend(other.activated)

    def summary(self, draft: bool = False) -> str:
        state = "activated as draft(s), not public" if draft else "activated"
        return (
            f"{self.processed} model(s) {state}: {self.posts_created} post(s) created, "
            f"{self.posts_updated} updated, {self.posts_unpublished} unpublished."
        )


class UnknownModels(NotFound):
    def __init__(self, names: list[str]) -> None:
        self.names = names
        shown = ", ".join(repr(n) for n in names[:5])
        super().__init__(f"no staged model named {shown}; sync the bucket or check the name.")


def slugify(name: str) -> str:
    ascii_name = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode()
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.lower()).strip("-")
    return slug[:200] or "model"


async def activate(names: list[str], draft: bool = False) -> ActivationResult:
    """Activate the named staged models, one transaction each; unknown names fail first.

    Activation makes content public; a draft activation leaves the production model
    unpublished, for an admin to review and publish later."""
    by_name: dict[str, int] = {}
    for name in dict.fromkeys(names):
        found = await db.fetch("SELECT id FROM whitelabel_models WHERE folder_name = $1", name)
        if found:
            by_name[name] = int(found[0]["id"])
    missing = [n for n in names if n not in by_name]
    if missing:
        raise UnknownModels(missing)
    result = ActivationResult()
    for staged_id in by_name.values():
        result.add(await _activate_one(staged_id, draft))
    return result


async def activate_all_new(draft: bool = False) -> ActivationResult:
    rows = await db.fetch(
        "SELECT id FROM whitelabel_models WHERE status = 'new' ORDER BY folder_name"
    )
    result = ActivationResult()
    for row in rows:
        result.add(await _activate_one(row["id"], draft))
    return result


async def _activate_one(staged_id: int, draft: bool = False) -> ActivationResult:
    result = ActivationResult(processed=1)
    stamp = now()
    async with db.transaction() as tx:
        # One activation of a model at a time (a bulk job and a row's button may overlap).
        await tx.execute("SELECT pg_advisory_xact_lock($1, $2)", ACTIVATION_LOCK, staged_id)
        staged = (
            await tx.fetch(
                "SELECT id, folder_name, thumbnail_key, icon_key, banner_key "
                "FROM whitelabel_models "
                "WHERE id = $1",
                staged_id,
            )
        )[0]
        folder = staged["folder_name"]
        model_id, created = await _upsert_model(tx, staged, stamp, draft)
        result.models_created += int(created)
        media = await tx.fetch(
            "SELECT p.folder_name, p.title, m.s3_key, m.type FROM whitelabel_posts p "
            "JOIN whitelabel_media m ON m.whitelabel_post = p.id WHERE p.whitelabel_model = $1 "
            "ORDER BY p.folder_name, m.s3_key",
            staged_id,
        )
        existing = {
            r["source_key"]: r
            for r in await tx.fetch(
                "SELECT id, source_key, title, content_key, type, thumbnail_key, media, "
                "source_missing_at, model FROM posts WHERE model = $1",
                model_id,
            )
        }
        plan = plan_posts(folder, media, existing)
        inserts = [
            (model_id, key, *values[:4], json.dumps(values[4]), True, stamp, stamp)
            for key, values in plan.inserts
        ]
        updates = [
            (post_id, *values[:4], json.dumps(values[4]), stamp) for post_id, values in plan.updates
        ]
        if inserts:
            await tx.copy(
                "posts",
                (
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
                ),
                inserts,
            )
        await tx.executemany(
            # A post whose source came back is public again: activating says so.
            "UPDATE posts SET title = $2, content_key = $3, type = $4, thumbnail_key = $5, "
            "media = $6::json, updated_at = $7, is_published = is_published OR "
            "source_missing_at IS NOT NULL, source_missing_at = NULL WHERE id = $1",
            updates,
        )
        unpublished = await _unpublish(tx, plan.unpublish, stamp)
        await tx.execute(  # only when it changed: an unchanged row is not rewritten
            "UPDATE models SET post_count = (SELECT COUNT(*) FROM posts WHERE model = $1 AND "
            "is_published AND source_missing_at IS NULL) WHERE id = $1 AND post_count <> "
            "(SELECT COUNT(*) FROM posts WHERE model = $1 AND is_published AND "
            "source_missing_at IS NULL)",
            model_id,
        )
        await tx.execute("UPDATE whitelabel_models SET status = 'active' WHERE id = $1", staged_id)
    result.posts_created = len(inserts)
    result.posts_updated = len(updates)
    result.posts_unpublished = unpublished
    result.activated.append(folder)
    return result


async def _upsert_model(
    tx: db.Tx, staged: dict[str, Any], stamp: Any, draft: bool
) -> tuple[int, bool]:
    """The production model of a staged folder, created or brought up to date. Only the
    model's own images are copied: a post image as thumbnail would outlive the post's
    publication (the public side takes it from the first published post instead)."""
    folder = staged["folder_name"]
    thumb = staged["thumbnail_key"] if is_model_level(folder, staged["thumbnail_key"]) else None
    icon, banner = staged["icon_key"] or thumb, staged["banner_key"] or thumb
    found = await tx.fetch(
        "SELECT id, source_missing_at FROM models WHERE source_folder = $1", folder
    )
    if found:
        model_id = int(found[0]["id"])
        # Activating brings a source-missing model back and, unless as a draft, publishes it.
        await tx.execute(
            "UPDATE models SET icon_key = $2, banner_key = $3, thumbnail_key = $4, "
            "whitelabel_model = $5, updated_at = $6, source_missing_at = NULL, "
            "is_published = CASE WHEN $7 THEN FALSE WHEN source_missing_at IS NOT NULL THEN "
            "TRUE ELSE is_published END WHERE id = $1 AND (icon_key IS DISTINCT FROM $2 OR "
            "banner_key IS DISTINCT FROM $3 OR thumbnail_key IS DISTINCT FROM $4 OR "
            "whitelabel_model IS DISTINCT FROM $5 OR source_missing_at IS NOT NULL OR "
            "($7 AND is_published))",
            model_id,
            icon,
            banner,
            thumb,
            staged["id"],
            stamp,
            draft,
        )
        return model_id, False
    slug = slugify(folder)
    taken = (
        "SELECT 1 FROM models WHERE slug = $1 UNION ALL SELECT 1 FROM model_slugs WHERE slug = $1"
    )
    if await tx.fetch(taken, slug):
        slug = f"{slug[:190]}-{staged['id']}"
    name = folder
    if await tx.fetch("SELECT 1 FROM models WHERE name = $1", name):
        name = f"{folder} ({staged['id']})"  # an edited model took the folder's name
    model_id = await tx.fetchval(
        "INSERT INTO models (name, slug, description, icon_key, banner_key, thumbnail_key, "
        "is_featured, is_advertiser, is_published, post_count, whitelabel_model, source_folder, "
        "created_at, updated_at) VALUES ($1, $2, '', $3, $4, $5, FALSE, FALSE, $6, 0, $7, $8, "
        "$9, $9) RETURNING id",
        name,
        slug,
        icon,
        banner,
        thumb,
        not draft,
        staged["id"],
        folder,
        stamp,
    )
    return int(model_id), True


async def _unpublish(tx: db.Tx, post_ids: list[int], stamp: Any) -> int:
    if not post_ids:
        return 0
    rows = await tx.fetch(
        "UPDATE posts SET is_published = $2, updated_at = $3 WHERE id = ANY($1::int[]) AND "
        "is_published RETURNING id",
        post_ids,
        False,
        stamp,
    )
    return len(rows)
