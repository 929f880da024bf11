"""Retiring a production model, and restoring it: an admin's decision that a model is gone for
now, like Django admin's inactive records.

Retiring unpublishes the model at once and stamps `retired_at` (and who): the production list
leaves it out unless asked for "Retired", the public site never shows it (visibility.py's rule),
and publishing it is refused until it is restored. Neither a sync nor an activation undoes it.
Restoring makes it a normal model again, unpublished: the admin publishes it when ready.

Each is a conditional write on the row read under its lock (retiring a retired model, or
restoring one that is not, is a Conflict, not a second change), and its audit entry is written
in the same transaction.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TypedDict

from domain.accounts import audit
from domain.errors import Conflict, NotFound
from domain.platform import db
from domain.platform.db import now
from domain.platform.tables import Model
from domain.production import sql

RETIRED, RESTORED = "model_retired", "model_restored"  # their audit actions
COLUMNS = ("name", "is_published", "retired_at", "retired_by")


@dataclass(frozen=True)
class Changed:
    """What a retire or restore changed, for its toast."""

    model_id: int
    name: str
    was_published: bool


def when(stamp: datetime) -> str:
    return stamp.strftime("%Y-%m-%d %H:%M UTC")


async def retire(model_id: int, actor: str, ip: str = "") -> Changed:
    """Retire the model: unpublished, stamped, audited. Already retired is a Conflict."""
    async with db.transaction() as tx:
        row = await _locked(tx, model_id)
        if row["retired_at"] is not None:
            raise Conflict(
                f"{row['name']} is already retired (by {row['retired_by'] or 'an admin'} on "
                f"{when(row['retired_at'])}): nothing was changed. Restore it to bring it back."
            )
        stamp = now()
        await tx.run(
            Model.update(
                {
                    Model.retired_at: stamp,
                    Model.retired_by: actor,
                    Model.is_published: False,
                    Model.updated_at: stamp,
                }
            ).where((Model.id == model_id) & Model.retired_at.is_null())
        )
        detail = "retired: off the production list and the public site"
        if row["is_published"]:
            detail += "; it was published, now unpublished"
        await audit.record_in(tx, [(actor, RETIRED, row["name"], detail, ip, model_id)])
    return Changed(model_id, row["name"], bool(row["is_published"]))


async def restore(model_id: int, actor: str, ip: str = "") -> Changed:
    """Restore a retired model: a normal, unpublished model again. Not retired is a Conflict."""
    async with db.transaction() as tx:
        row = await _locked(tx, model_id)
        if row["retired_at"] is None:
            raise Conflict(f"{row['name']} is not retired: nothing was changed.")
        stamp = now()
        await tx.run(
            Model.update(
                {
                    Model.retired_at: None,
                    Model.retired_by: None,
                    Model.is_published: False,
                    Model.updated_at: stamp,
                }
            ).where((Model.id == model_id) & Model.retired_at.is_not_null())
        )
        detail = (
            f"restored (retired by {row['retired_by'] or 'an admin'} on "
            f"{when(row['retired_at'])}): unpublished until an admin publishes it"
        )
        await audit.record_in(tx, [(actor, RESTORED, row["name"], detail, ip, model_id)])
    return Changed(model_id, row["name"], False)


class Locked(TypedDict):
    """COLUMNS of the model, read under its row lock."""

    id: int
    name: str
    is_published: bool
    retired_at: datetime | None
    retired_by: str | None


async def _locked(tx: db.Tx, model_id: int) -> Locked:
    rows = await sql.lock_model(tx, model_id, COLUMNS)
    if not rows:
        raise NotFound(f"there is no production model #{model_id}.")
    return db.typed(Locked, rows)[0]


def refuse_publishing(name: str) -> Conflict:
    """Publishing a retired model: what to do instead."""
    return Conflict(
        f"{name} is retired, so it cannot be published: restore it first (Restore on its "
        "page), then publish it."
    )
