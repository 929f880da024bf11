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
from domain.platform.lists import any_of
from domain.platform.tables import Model, ModelSlug, Post, StagedStatus, WhitelabelMedia
from domain.platform.tables import WhitelabelModel as Staged
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
    wanted = list(dict.fromkeys(names))
    query = Staged.select(Staged.id, Staged.folder_name)
    found = await db.select(query.where(Staged.folder_name.is_in(any_of(wanted, "text"))))
    ids = {r["folder_name"]: int(r["id"]) for r in found}
    by_name = {name: ids[name] for name in wanted if name in ids}
    missing = [n for n in names if n not in by_name]
    if missing:
        raise UnknownModels(missing)
    result = ActivationResult()
    for staged_id in by_name.values():
        result.add(await _activate_one(staged_id, draft))
    return result


async def activate_all_new(draft: bool = False) -> ActivationResult:
    rows = await db.select(
        Staged.select(Staged.id)
        .where(Staged.status == StagedStatus.new)
        .order_by(Staged.folder_name)
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
        await tx.execute("SELECT pg_advisory_xact_lock($1, $2)", ACTIVATION_LOCK, staged_id)  # raw
        (staged,) = await tx.run(
            Staged.select(
                Staged.id,
                Staged.folder_name,
                Staged.thumbnail_key,
                Staged.icon_key,
                Staged.banner_key,
            ).where(Staged.id == staged_id)
        )
        folder = staged["folder_name"]
        model_id, created = await _upsert_model(tx, staged, stamp, draft)
        result.models_created += int(created)
        m = WhitelabelMedia
        post = m.whitelabel_post._
        media = await tx.run(
            m.select(
                post.folder_name.as_alias("folder_name"),
                post.title.as_alias("title"),
                m.s3_key,
                m.type,
            )
            .where(post.whitelabel_model == staged_id)
            .order_by(post.folder_name, m.s3_key)
        )
        p = Post
        existing = {
            r["source_key"]: r
            for r in await tx.run(
                p.select(
                    p.id,
                    p.source_key,
                    p.title,
                    p.content_key,
                    p.type,
                    p.thumbnail_key,
                    p.media,
                    p.source_missing_at,
                    p.model,
                ).where(p.model == model_id)
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
        await tx.executemany(  # raw: one statement for many rows, with expressions
            # A post whose source came back is public again: activating says so.
            "UPDATE posts SET title = $2, content_key = $3, type = $4, thumbnail_key = $5, "
            "media = $6::json, updated_at = $7, is_published = is_published OR "
            "source_missing_at IS NOT NULL, source_missing_at = NULL WHERE id = $1",
            updates,
        )
        unpublished = await _unpublish(tx, plan.unpublish, stamp)
        # raw: correlated subqueries. Only when it changed: an unchanged row is not rewritten.
        await tx.execute(
            "UPDATE models SET post_count = (SELECT COUNT(*) FROM posts WHERE model = $1 AND "
            "is_published AND source_missing_at IS NULL) WHERE id = $1 AND post_count <> "
            "(SELECT COUNT(*) FROM posts WHERE model = $1 AND is_published AND "
            "source_missing_at IS NULL)",
            model_id,
        )
        await tx.run(
            Staged.update({Staged.status: StagedStatus.active}).where(Staged.id == staged_id)
        )
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
    found = await tx.run(Model.select(Model.id).where(Model.source_folder == folder))
    if found:
        model_id = int(found[0]["id"])
        # Activating brings a source-missing model back and, unless as a draft, publishes it.
        await tx.execute(  # raw: CASE and IS DISTINCT FROM, so an unchanged row is not rewritten
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
    if await tx.run(Model.select(Model.id).where(Model.slug == slug)) or await tx.run(
        ModelSlug.select(ModelSlug.id).where(ModelSlug.slug == slug)
    ):
        slug = f"{slug[:190]}-{staged['id']}"
    name = folder
    if await tx.run(Model.select(Model.id).where(Model.name == name)):
        name = f"{folder} ({staged['id']})"  # an edited model took the folder's name
    new = Model(
        name=name,
        slug=slug,
        icon_key=icon,
        banner_key=banner,
        thumbnail_key=thumb,
        is_published=not draft,
        whitelabel_model=staged["id"],
        source_folder=folder,
        created_at=stamp,
        updated_at=stamp,
    )
    (inserted,) = await tx.run(Model.insert(new))
    return int(inserted["id"]), True


async def _unpublish(tx: db.Tx, post_ids: list[int], stamp: Any) -> int:
    if not post_ids:
        return 0
    rows = await tx.run(
        Post.update({Post.is_published: False, Post.updated_at: stamp})
        .where(Post.id.is_in(any_of(post_ids)) & Post.is_published.eq(True))
        .returning(Post.id)
    )
    return len(rows)
