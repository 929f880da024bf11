"""A part's work: list each model folder, skip it if unchanged, else write its change."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from operator import attrgetter

import asyncpg

from domain import parts, runs, sync_store
from domain.plan import build_model, diff_model, listing_hash
from domain.runs import RunStats
from domain.s3 import S3Error, S3Object
from domain.sync_options import PLAN_NAMES_SHOWN, DeletionPlan, ListingSource, SyncOptions

log = logging.getLogger("creatorflix.sync")
# A killed or dropped database connection: the model's transaction rolled back, so retry it.
CONNECTION_LOST = (
    asyncpg.PostgresConnectionError,
    asyncpg.InterfaceError,
    asyncpg.exceptions.AdminShutdownError,
    ConnectionError,
)
RETRIES = 3
# Model writes that may wait on the database at once in this process: fewer than the pool's
# connections, so heartbeats, leases and claims always find one.
_write_slots = asyncio.Semaphore(8)


# Parts this process is syncing now: their counters are fresher here than in the database.
live_parts: dict[int, RunStats] = {}


async def work_parts(
    source: ListingSource,
    options: SyncOptions,
    run_id: int,
    owner: str,
    cancelled: asyncio.Event,
) -> int:
    """Claim and sync parts of a run until none is left to take; returns how many it did."""
    done = 0
    while not cancelled.is_set():
        part = await parts.claim(run_id, owner)
        if part is None:
            return done
        if part.reclaimed_from:
            await runs.log_event(
                run_id,
                f"part {part.part_no + 1} taken over by {owner} from {part.reclaimed_from}, "
                "which stopped",
            )
        await _sync_part(source, options, part, cancelled)
        done += 1
    return done


async def _sync_part(
    source: ListingSource, options: SyncOptions, part: parts.Part, cancelled: asyncio.Event
) -> None:
    stats = RunStats()
    plan = DeletionPlan()
    seen: set[str] = set()
    failed: list[str] = []
    lost = asyncio.Event()  # another worker took the part over: stop, store nothing
    known = await sync_store.known_models_in(part.folders)
    queue: asyncio.Queue[str] = asyncio.Queue()
    for folder in part.folders:
        queue.put_nowait(folder)

    async def beat() -> None:
        while True:
            await asyncio.sleep(0.5)
            with contextlib.suppress(Exception):
                ours, cancel = await parts.beat(part, stats.counters())
                if not ours:
                    lost.set()
                if cancel:
                    cancelled.set()

    async def worker() -> None:
        while not cancelled.is_set() and not lost.is_set():
            try:
                folder = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                if await _sync_model(source, options, folder, known.get(folder), plan, stats):
                    seen.add(folder)
            except Exception as exc:  # noqa: BLE001 - S3 or database: this model is skipped
                if not isinstance(exc, S3Error):
                    log.warning("sync of model %r failed", folder, exc_info=True)
                failed.append(folder)
                stats.errors.append(f"{folder}: {exc}")
                seen.add(folder)  # keep its rows
            stats.models_done += 1

    ticker = asyncio.create_task(beat())
    live_parts[part.id] = stats
    try:
        await asyncio.gather(*(worker() for _ in range(max(1, options.concurrency))))
    finally:
        live_parts.pop(part.id, None)
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
    if cancelled.is_set() or lost.is_set():
        return
    result = {
        "seen": sorted(seen),
        "failed": failed,
        "errors": stats.errors,
        "unchanged": plan.unchanged,
        "per_model": {str(k): v for k, v in plan.per_model.items()},
    }
    await parts.complete(part, stats.counters(), result)


async def _sync_model(
    source: ListingSource,
    options: SyncOptions,
    folder: str,
    known: sync_store.KnownModel | None,
    plan: DeletionPlan,
    stats: RunStats,
) -> bool:
    """List one model folder and write its change; returns whether the model exists."""
    objects: list[S3Object] = []
    async for page in source.list_pages(folder + "/"):
        objects.extend(page)
        stats.keys_listed += len(page)
    objects.sort(key=attrgetter("key"))
    fingerprint = listing_hash(objects, options.public_base)
    if known is not None and known.listing_hash == fingerprint:  # unchanged: parse nothing
        stats.keys_ignored += known.ignored_keys
        plan.unchanged.append(known.id)
        return True
    desired = build_model(folder, objects, options.public_base, fingerprint)
    if not desired.exists:
        stats.keys_ignored += desired.ignored
        return False
    for attempt in range(1, RETRIES + 1):
        try:
            async with _write_slots:
                existing = await sync_store.load_existing(known.id) if known else None
                change = diff_model(desired, existing)
                if change.writes_anything and not options.dry_run:
                    model_id = await sync_store.write_change(change)
                else:
                    model_id = change.model_id or 0
            break
        except CONNECTION_LOST as exc:  # one transaction: safe to do again on a new connection
            if attempt == RETRIES:
                raise
            log.warning("model %r: database connection lost (%s); trying again", folder, exc)
            await asyncio.sleep(0.2 * attempt)  # pooled connections killed too get noticed
    stats.keys_ignored += desired.ignored
    if change.model_id is None:
        stats.models_inserted += 1
    elif change.writes_anything or change.has_deletions:
        stats.models_updated += 1
    stats.posts_inserted += len(change.new_posts)
    stats.posts_updated += len(change.changed_posts)
    stats.media_inserted += len(change.new_media)
    stats.media_updated += len(change.changed_media)
    if change.has_deletions:
        plan.per_model[model_id] = {
            "name": folder,
            "posts": change.deleted_post_ids,
            "media": change.deleted_media_ids,
            "keys": change.deleted_media_keys[:PLAN_NAMES_SHOWN],
            "fingerprint": desired.listing_hash,
        }
    return True
