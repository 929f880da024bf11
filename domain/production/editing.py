"""Editing a production model: what the public site shows of it. A renamed slug keeps
resolving in the public API (model_slugs remembers it)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from domain.accounts.audit import Logged
from domain.errors import Conflict, Invalid, NotFound
from domain.platform import db
from domain.platform.db import now

SLUG = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
MAX_NAME = 200
MAX_SLUG = 200
MAX_DESCRIPTION = 5000
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
            raise Invalid("name is empty: give the model a display name.")
        if len(name) > MAX_NAME:
            raise Invalid(f"name is {len(name)} characters long: use at most {MAX_NAME}.")
        if not SLUG.match(self.slug) or len(self.slug) > MAX_SLUG:
            raise Invalid(
                f"slug {self.slug[:60]!r} is not URL-safe: use lowercase letters, digits and "
                f"single hyphens between them, at most {MAX_SLUG} characters (e.g. 'jane-doe')."
            )
        if len(self.description) > MAX_DESCRIPTION:
            raise Invalid(f"description is too long: use at most {MAX_DESCRIPTION} characters.")
        if not -1_000_000 <= self.display_order <= 1_000_000:
            raise Invalid("display order is out of range: use a number from -1000000 to 1000000.")
        object.__setattr__(self, "name", name)


async def update_model(model_id: int, edit: ModelEdit) -> list[str]:
    """Apply the edit; returns what changed ("slug: a → b", ...)."""
    async with db.transaction() as tx:
        rows = await tx.fetch(
            f"SELECT id, {', '.join(EDITABLE)} FROM models WHERE id = $1 FOR UPDATE", model_id
        )
        if not rows:
            raise NotFound(f"there is no production model #{model_id}.")
        old = rows[0]
        new = {name: getattr(edit, name) for name in EDITABLE}
        changes = [f"{k}: {old[k]!r} → {new[k]!r}" for k in EDITABLE if old[k] != new[k]]
        if not changes:
            return []
        if new["name"] != old["name"] and await tx.fetch(
            "SELECT 1 FROM models WHERE name = $1 AND id <> $2", new["name"], model_id
        ):
            raise Conflict(f"name {new['name']!r} is taken by another model: choose another.")
        if new["slug"] != old["slug"]:
            await _move_slug(tx, model_id, old["slug"], new["slug"])
        await tx.execute(
            "UPDATE models SET name = $2, slug = $3, description = $4, is_featured = $5, "
            "is_advertiser = $6, display_order = $7, updated_at = $8 WHERE id = $1",
            model_id,
            *new.values(),
            now(),
        )
    return changes


async def _move_slug(tx: db.Tx, model_id: int, old: str, new: str) -> None:
    """The new slug must be free (also of other models' former slugs); the old one is kept."""
    taken = await tx.fetch(
        "SELECT 1 FROM models WHERE slug = $1 AND id <> $2 UNION ALL "
        "SELECT 1 FROM model_slugs WHERE slug = $1 AND model <> $2",
        new,
        model_id,
    )
    if taken:
        raise Conflict(f"slug {new!r} is taken by another model: choose another.")
    await tx.execute("DELETE FROM model_slugs WHERE slug = $1", new)  # taking one back
    await tx.execute(
        "INSERT INTO model_slugs (slug, model, created_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (slug) DO NOTHING",
        old,
        model_id,
        now(),
    )


async def history(model_id: int, before: int | None = None, size: int = 50) -> list[Logged]:
    """The audit log of one model: lines naming it, and activations of its source folder."""
    rows = await db.fetch(
        "SELECT a.* FROM audit_log a, models m WHERE m.id = $1 AND (a.model = m.id OR "
        "(a.model IS NULL AND a.action IN ('activation', 'sync_started') AND "
        "(a.target = m.source_folder OR a.target = m.name))) AND ($2::int IS NULL OR a.id < $2) "
        "ORDER BY a.id DESC LIMIT $3",
        model_id,
        before,
        size + 1,
    )
    return [Logged.from_row(r) for r in rows]
