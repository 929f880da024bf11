"""Pausing the previews: while paused, no derive_media job is queued, a queued one is taken off
the queue, and one a worker takes anyway does nothing; the media wait (the backlog) until a
resume queues jobs for them again.

The paused flag is stored as the latest of the "previews_paused" / "previews_resumed" audit
entries: the audit log records each change anyway, every process reads it, and it needs no table
of its own (a settings table would be its proper home; there is none yet). Losing those entries
(an audit log pruned) resumes the previews, which is what a fresh install does.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from domain.accounts import audit
from domain.errors import Conflict
from domain.media import store as media_store
from domain.platform import db, jobs
from domain.platform.sql import jobs as sql
from domain.platform.tables import AuditEntry

log = logging.getLogger("creatorflix.jobs")
TASK = "derive_media"
PAUSED, RESUMED = "previews_paused", "previews_resumed"


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
    """Whether previews are paused, read from the last pause or resume recorded."""
    row = await db.first(
        AuditEntry.select(AuditEntry.action, AuditEntry.actor, AuditEntry.created_at)
        .where(AuditEntry.action.is_in([PAUSED, RESUMED]))
        .order_by(AuditEntry.id, ascending=False)
        .limit(1)
    )
    if row is None:
        return Switch(False)
    return Switch(row["action"] == PAUSED, str(row["actor"]), row["created_at"])


async def is_paused() -> bool:
    return (await switch()).paused


async def state() -> PreviewState:
    pending, stale = await media_store.counts()
    return PreviewState(await switch(), pending, stale)


async def backlog() -> int:
    """Media waiting for previews (the dashboard's jobs line)."""
    return (await media_store.counts())[0]


async def pause(actor: str, ip: str) -> int:
    """Pause the previews (recorded in the audit log, which is the flag) and take the queued
    preview jobs off the queue; returns how many were. Paused already is a 409."""
    if await is_paused():
        raise Conflict("Previews are already paused.")
    await _switch_to(PAUSED, actor, ip)
    taken = 0
    for job_id in await sql.queued_ids(jobs.queue.connector, TASK):
        await jobs.abort(job_id)  # procrastinate's cancel: a queued job is never taken
        taken += 1
    log.info("previews paused by %s: %d queued job(s) cancelled", actor, taken)
    return taken


async def resume(actor: str, ip: str) -> None:
    """Record the resume; the caller then queues jobs for the backlog (Runtime.queue_media).
    Not paused is a 409."""
    if not await is_paused():
        raise Conflict("Previews are not paused.")
    await _switch_to(RESUMED, actor, ip)


async def _switch_to(action: str, actor: str, ip: str) -> None:
    """The flag's change is its audit entry, written in a checked transaction (as every admin's
    change is): a session ended meanwhile changes nothing."""
    detail = "preview jobs paused" if action == PAUSED else "preview jobs resumed"
    async with db.transaction() as tx:
        await audit.record_in(tx, [(actor, action, "previews", detail, ip, None)])
