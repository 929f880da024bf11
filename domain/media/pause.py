"""Pausing the previews: while paused, no derive_media job is queued, a queued one is taken off
the queue, and one a worker takes anyway does nothing; the media wait (the backlog) until a
resume queues jobs for them again.

The switch is the one row of `preview_queue` (none until the first pause: not paused), flipped
only from the other position, so two admins pausing at once get one pause and one 409; each
flip writes its audit entry in the same transaction.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from piccolo.columns import Column
from piccolo.query import Insert, Update

from domain.accounts import audit
from domain.errors import Conflict
from domain.media import records as media_records
from domain.platform import db, queue
from domain.platform.db import now
from domain.platform.tables import PreviewQueue

log = logging.getLogger("creatorflix.jobs")
TASK = "derive_media"
PAUSED, RESUMED = "previews_paused", "previews_resumed"
ROW = 1  # preview_queue holds one row


@dataclass(frozen=True)
class Switch:
    """The last pause or resume: who, when (None: never paused)."""

    paused: bool
    by: str = ""
    at: datetime | None = None


@dataclass(frozen=True)
class PreviewState:
    """What the jobs page and the dashboard say about previews."""

    switch: Switch
    backlog: int  # media (and model images) waiting for their previews
    stale: int  # derivative objects waiting to be deleted

    @property
    def paused(self) -> bool:
        return self.switch.paused


async def switch() -> Switch:
    """Whether previews are paused, by whom and since when."""
    q = PreviewQueue
    row = await db.first(q.select(q.paused, q.updated_by, q.updated_at).where(q.id == ROW))
    if row is None:
        return Switch(False)
    return Switch(bool(row["paused"]), str(row["updated_by"]), row["updated_at"])


async def is_paused() -> bool:
    return (await switch()).paused


async def state() -> PreviewState:
    pending, stale = await media_records.counts()
    return PreviewState(await switch(), pending, stale)


async def backlog() -> int:
    """Media waiting for previews (the dashboard's jobs line)."""
    return (await media_records.counts())[0]


async def pause(actor: str, ip: str) -> int:
    """Pause the previews and take the queued preview jobs off the queue; returns how many
    were. Paused already is a 409."""
    if not await _switch_to(True, actor, ip):
        raise Conflict("Previews are already paused.")
    taken = 0
    for job_id in await queue.queued_ids(TASK):
        await queue.abort(job_id)  # procrastinate's cancel: a queued job is never taken
        taken += 1
    log.info("previews paused by %s: %d queued job(s) cancelled", actor, taken)
    return taken


async def resume(actor: str, ip: str) -> None:
    """Resume; the caller then queues jobs for the backlog (media.jobs.queue_media). Not paused
    is a 409."""
    if not await _switch_to(False, actor, ip):
        raise Conflict("Previews are not paused.")


async def _switch_to(paused: bool, actor: str, ip: str) -> bool:
    """Flip the switch, only from the other position (compare and set), with its audit entry,
    in one checked transaction (as every admin's change is: a session ended meanwhile changes
    nothing). False when it was there already."""
    q = PreviewQueue
    at = now()
    flip: Insert[PreviewQueue] | Update[PreviewQueue]
    if paused:  # the row is made by the first pause
        flip = (
            q.insert(q(id=ROW, paused=True, updated_by=actor, updated_at=at))
            .on_conflict(
                target=q.id,
                action="DO UPDATE",
                values=[q.paused, q.updated_by, q.updated_at],
                where=q.paused.eq(False),
            )
            .returning(q.id)
        )
    else:
        changes: dict[Column | str, object] = {
            q.paused: False,
            q.updated_by: actor,
            q.updated_at: at,
        }
        flip = q.update(changes).where((q.id == ROW) & q.paused.eq(True)).returning(q.id)
    action = PAUSED if paused else RESUMED
    detail = "preview jobs paused" if paused else "preview jobs resumed"
    async with db.transaction() as tx:
        if not await tx.run(flip):
            return False
        await audit.record_in(tx, [(actor, action, "previews", detail, ip, None)])
    return True
