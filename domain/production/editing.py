"""Editing a production model: what the public site shows of it. A renamed slug keeps
resolving in the public API (model_slugs remembers it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.accounts.audit import Logged
from domain.errors import Conflict, Invalid, NotFound
from domain.platform import db, unique
from domain.platform.db import now
from domain.platform.listing import ListSpec
from domain.platform.tables import AuditEntry, Model, ModelSlug
from domain.production import sql

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_NAME = 200
MAX_SLUG = 200
MAX_DESCRIPTION = 5000
ORDER_RANGE = (-1_000_000, 1_000_000)  # display_order
EDITABLE = ("name", "slug", "description", "is_featured", "is_advertiser", "display_order")


@dataclass(frozen=True)
class ModelEdit:
    """The edit form's values, validated: each bad one is a 400 that names it and the fix."""

    name: str
    slug: str
    description: str = ""
    is_featured: bool = False
    is_advertiser: bool = False
    display_order: int = 0

    def __post_init__(self) -> None:
        name = self.name.strip()
        if not name:
            raise Invalid("name is empty: give the model a display name.", field="name")
        if len(name) > MAX_NAME:
            raise Invalid(
                f"name is {len(name)} characters long: use at most {MAX_NAME}.", field="name"
            )
        if not SLUG.match(self.slug) or len(self.slug) > MAX_SLUG:
            raise Invalid(
                f"slug {self.slug[:60]!r} is not URL-safe: use lowercase letters, digits and "
                f"single hyphens between them, at most {MAX_SLUG} characters (e.g. 'jane-doe').",
                field="slug",
            )
        if len(self.description) > MAX_DESCRIPTION:
            raise Invalid(
                f"description is too long: use at most {MAX_DESCRIPTION} characters.",
                field="description",
            )
        if not ORDER_RANGE[0] <= self.display_order <= ORDER_RANGE[1]:
            raise Invalid(
                f"display_order={self.display_order} is out of range: use a number from "
                f"{ORDER_RANGE[0]} to {ORDER_RANGE[1]}.",
                field="display_order",
            )
        object.__setattr__(self, "name", name)


async def update_model(model_id: int, edit: ModelEdit) -> list[str]:
    """Apply the edit; returns what changed ("slug: a → b", ...). A slug or name taken by
    another model is a Conflict naming it: found taken here, or refused by its unique index
    when another admin's save took it between this check and this write."""
    with unique.as_conflict("another model"):
        return await _update_model(model_id, edit)


async def _update_model(model_id: int, edit: ModelEdit) -> list[str]:
    async with db.transaction() as tx:
        rows = await sql.lock_model(tx, model_id, EDITABLE)
        if not rows:
            raise NotFound(f"there is no production model #{model_id}.")
        old = rows[0]
        new = {name: getattr(edit, name) for name in EDITABLE}
        changes = [f"{k}: {old[k]!r} → {new[k]!r}" for k in EDITABLE if old[k] != new[k]]
        if not changes:
            return []
        if new["name"] != old["name"] and await tx.run(
            Model.select(Model.id).where((Model.name == new["name"]) & (Model.id != model_id))
        ):
            raise Conflict(
                f"name {new['name']!r} is taken by another model: choose another.", field="name"
            )
        if new["slug"] != old["slug"]:
            await _move_slug(tx, model_id, str(old["slug"]), edit.slug)
        await tx.run(
            Model.update(
                {
                    Model.name: edit.name,
                    Model.slug: edit.slug,
                    Model.description: edit.description,
                    Model.is_featured: edit.is_featured,
                    Model.is_advertiser: edit.is_advertiser,
                    Model.display_order: edit.display_order,
                    Model.updated_at: now(),
                }
            ).where(Model.id == model_id)
        )
    return changes


async def _move_slug(tx: db.Tx, model_id: int, old: str, new: str) -> None:
    """The new slug must be free (also of other models' former slugs); the old one is kept."""
    taken = await tx.run(
        Model.select(Model.id).where((Model.slug == new) & (Model.id != model_id))
    ) or await tx.run(
        ModelSlug.select(ModelSlug.id).where(
            (ModelSlug.slug == new) & (ModelSlug.model != model_id)
        )
    )
    if taken:
        raise Conflict(f"slug {new!r} is taken by another model: choose another.", field="slug")
    await tx.run(ModelSlug.delete().where(ModelSlug.slug == new))  # taking one back
    await tx.run(
        ModelSlug.insert(ModelSlug(slug=old, model=model_id, created_at=now())).on_conflict(
            target=ModelSlug.slug, action="DO NOTHING"
        )
    )


HISTORY = ListSpec(sizes=(50,), paging="older")  # a model's history: ?before= (an id)


async def history(model_id: int, before: int | None = None, size: int = 50) -> list[Logged]:
    """The audit log of one model: lines naming it, and activations of its source folder."""
    found = await db.first(
        Model.select(Model.name, Model.source_folder).where(Model.id == model_id)
    )
    if found is None:
        return []
    names = [n for n in (found["source_folder"], found["name"]) if n is not None]
    query = (
        AuditEntry.select()
        .where(
            (AuditEntry.model == model_id)
            | (
                AuditEntry.model.is_null()
                & AuditEntry.action.is_in(["activation", "sync_started"])
                & AuditEntry.target.is_in(names)
            )
        )
        .order_by(AuditEntry.id, ascending=False)
        .limit(size + 1)
    )
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return [Logged.from_row(r) for r in await db.select(query)]
