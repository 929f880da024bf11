"""Activation: promote staged models into the production tables the public site reads."""

from __future__ import annotations

import json
import re
import unicodedata
from dataclasses import dataclass, field
from datetime import datetime
from typing import TypedDict

from domain.errors import NotFound
from domain.platform import db, unique
from domain.platform.db import now
from domain.platform.lists import any_of
from domain.platform.tables import Model, ModelSlug, Post, StagedStatus, WhitelabelMedia
from domain.platform.tables import WhitelabelModel as Staged
from domain.production.lifecycle import is_model_level
from domain.staging import sql
from domain.staging.activation_plan import ProductionPost, StagedItem, plan_posts


@dataclass
class ActivationResult:
    processed: int = 0
    models_created: int = 0
    posts_created: int = 0
    posts_updated: int = 0
    posts_unpublished: int = 0
    activated: list[str] = field(default_factory=list)
    retired: list[str] = field(default_factory=list)  # brought up to date, still retired

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
        self.retired.extend(other.retired)

    def summary(self, draft: bool = False) -> str:
        state = "activated as draft(s), not public" if draft else "activated"
        said = (
            f"{self.processed} model(s) {state}: {self.posts_created} post(s) created, "
            f"{self.posts_updated} updated, {self.posts_unpublished} unpublished."
        )
        if self.retired:
            said += (
                f" {len(self.retired)} production model(s) are retired: brought up to date, "
                "they stay retired and unpublished (restore one to publish it)."
            )
        return said


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


class StagedModel(TypedDict):
    """The staged model's columns activation reads."""

    id: int
    folder_name: str
    thumbnail_key: str | None
    icon_key: str | None
    banner_key: str | None


async def _activate_one(staged_id: int, draft: bool = False) -> ActivationResult:
    """One model's activation. Its new production model's slug and name are picked free, but
    another model's activation or edit may take the same one before this commits: then the
    unique index refuses it, and the second attempt sees that model and picks around it."""
    try:
        return await _activate_once(staged_id, draft)
    except unique.UniqueViolation:
        with unique.as_conflict("another model"):
            return await _activate_once(staged_id, draft)


async def _activate_once(staged_id: int, draft: bool) -> ActivationResult:
    result = ActivationResult(processed=1)
    stamp = now()
    async with db.transaction() as tx:
        await sql.lock_activation(tx, staged_id)
        (staged,) = db.typed(
            StagedModel,
            await tx.run(
                Staged.select(
                    Staged.id,
                    Staged.folder_name,
                    Staged.thumbnail_key,
                    Staged.icon_key,
                    Staged.banner_key,
                ).where(Staged.id == staged_id)
            ),
        )
        folder = staged["folder_name"]
        model_id, created, retired = await _upsert_model(tx, staged, stamp, draft)
        result.models_created += int(created)
        if retired:
            result.retired.append(folder)
        m = WhitelabelMedia
        post = m.whitelabel_post._
        media = db.typed(
            StagedItem,
            await tx.run(
                m.select(
                    post.folder_name.as_alias("folder_name"),
                    post.title.as_alias("title"),
                    m.s3_key,
                    m.type,
                )
                .where(post.whitelabel_model == staged_id)
                .order_by(post.folder_name, m.s3_key)
            ),
        )
        p = Post
        existing = {
            r["source_key"]: r
            for r in db.typed(
                ProductionPost,
                await tx.run(
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
                ),
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
        await sql.insert_posts(tx, inserts)
        await sql.update_posts(tx, updates)
        unpublished = await _unpublish(tx, plan.unpublish, stamp)
        await sql.recount_if_changed(tx, model_id)
        await tx.run(
            Staged.update({Staged.status: StagedStatus.active}).where(Staged.id == staged_id)
        )
    result.posts_created = len(inserts)
    result.posts_updated = len(updates)
    result.posts_unpublished = unpublished
    result.activated.append(folder)
    return result


async def _upsert_model(
    tx: db.Tx, staged: StagedModel, stamp: datetime, draft: bool
) -> tuple[int, bool, bool]:
    """The production model of a staged folder, created or brought up to date: (its id,
    whether it is new, whether it is retired: then it stays so, unpublished). Only the
    model's own images are copied: a post image as thumbnail would outlive the post's
    publication (the public side takes it from the first published post instead)."""
    folder = staged["folder_name"]
    thumb = staged["thumbnail_key"] if is_model_level(folder, staged["thumbnail_key"]) else None
    icon, banner = staged["icon_key"] or thumb, staged["banner_key"] or thumb
    found = await tx.run(
        Model.select(Model.id, Model.retired_at).where(Model.source_folder == folder)
    )
    if found:
        model_id = int(found[0]["id"])
        await sql.refresh_model(tx, model_id, icon, banner, thumb, staged["id"], stamp, draft)
        return model_id, False, found[0]["retired_at"] is not None
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
    return int(inserted["id"]), True, False


async def _unpublish(tx: db.Tx, post_ids: list[int], stamp: datetime) -> int:
    if not post_ids:
        return 0
    rows = await tx.run(
        Post.update({Post.is_published: False, Post.updated_at: stamp})
        .where(Post.id.is_in(any_of(post_ids)) & Post.is_published.eq(True))
        .returning(Post.id)
    )
    return len(rows)
