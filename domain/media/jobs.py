"""The media jobs: previews and posters for new and changed media, queued after a sync's writes
are committed and run behind every other job (domain/platform/queue.py's priorities)."""

from __future__ import annotations

import logging
import math

import procrastinate

from domain.media import derive, pause
from domain.media import records as media_records
from domain.platform import queue, runtime
from domain.platform.s3 import S3Service
from domain.platform.settings import Settings

log = logging.getLogger("creatorflix.jobs")


@queue.app.task(name=pause.TASK, pass_context=True, priority=queue.MEDIA_PRIORITY)
async def derive_media_job(context: procrastinate.JobContext) -> None:
    """Previews and posters for new and changed media, until none waits (or a time slice)."""
    await derive_media(runtime.of(context).s3, queue.worker_name(context))


async def queue_media(settings: Settings) -> int:
    """After a sync's writes are committed: media jobs for new and changed media (and
    derivatives whose source is gone), enough to keep every live worker busy but for one
    slot each, so a sync queued meanwhile starts at once (MEDIA_PREVIEWS=off, or previews
    paused on the jobs page: none; resuming calls this again)."""
    if not settings.media_previews or await pause.is_paused():
        return 0
    pending, trash = await media_records.counts()
    if not pending and not trash:
        return 0
    workers = max(1, (await queue.queue_state()).workers)
    slots = workers * max(1, settings.worker_concurrency - 1)
    count: int = min(math.ceil(pending / derive.BATCH), slots)
    await queue.defer_many(pause.TASK, max(1, count))
    log.info("media: %d waiting, %d stale derivatives: %d job(s) queued", pending, trash, count)
    return count


async def derive_media(s3: S3Service, worker: str) -> None:
    if await pause.is_paused():  # queued before the pause: it takes no media
        log.info("media job on %s: previews are paused; nothing taken", worker)
        return
    stats = await derive.run(s3)
    log.info("media job on %s: %s", worker, stats)
    # Its time slice ended: a follow-up takes its place behind other jobs (none if paused).
    if stats.more and not await pause.is_paused():
        await queue.defer_many(pause.TASK, 1)


async def resume_previews(settings: Settings, actor: str, ip: str) -> int:
    """Resume the previews paused on the jobs page: jobs for the backlog are queued again."""
    await pause.resume(actor, ip)
    return await queue_media(settings)
