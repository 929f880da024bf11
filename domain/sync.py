"""Incremental, safe bucket sync: list concurrently, write only the change, guard deletions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol

import asyncpg

from domain import parts, runs, sync_store
from domain.guard import judge_deletions
from domain.keys import parse_key
from domain.plan import build_model, diff_model, listing_hash
from domain.runs import RunHandle, RunStats
from domain.s3 import S3Error, S3Object

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
PLAN_NAMES_SHOWN = 20


class ListingSource(Protocol):
    """What the sync needs from a bucket (S3Service, or an in-memory source in benchmarks)."""

    def list_top(self) -> Any: ...  # awaitable of (prefixes, loose objects)

    def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]: ...


@dataclass(frozen=True)
class SyncOptions:
    public_base: str
    model: str | None = None
    dry_run: bool = False
    allow_mass_delete: bool = False
    concurrency: int = 8
    max_delete_fraction: float = 0.2
    triggered_by: str = "cli"
    parts: int = 16  # most parts the folders are split into (shared by workers)


@dataclass
class DeletionPlan:
    """Deletions collected during a run, applied only after the mass-delete guard."""

    models: dict[str, int] = field(default_factory=dict)  # folder -> id of gone models
    model_media: int = 0  # media rows that go with the gone models
    per_model: dict[int, dict[str, Any]] = field(default_factory=dict)
    unchanged: list[int] = field(default_factory=list)  # seen, fingerprint equal: no writes

    @property
    def media_count(self) -> int:
        return self.model_media + sum(len(p["media"]) for p in self.per_model.values())

    def as_json(self) -> dict[str, Any]:
        keys = [k for p in self.per_model.values() for k in p["keys"][:PLAN_NAMES_SHOWN]]
        return {
            "models": self.models,
            "model_media": self.model_media,
            "per_model": {str(k): v for k, v in self.per_model.items()},
            "summary": {
                "models": len(self.models),
                "posts": sum(len(p["posts"]) for p in self.per_model.values()),
                "media": self.media_count,
                "model_names": sorted(self.models)[:PLAN_NAMES_SHOWN],
                "media_keys": keys[:PLAN_NAMES_SHOWN],
            },
        }


class ModelNotInBucket(LookupError):
    pass


# Called by the coordinator once the parts exist, to let other workers help (the job queue).
Spread = Callable[[int, int], Awaitable[None]]


async def run_sync(
    source: ListingSource,
    options: SyncOptions,
    handle: RunHandle | None = None,
    *,
    spread: Spread | None = None,
    owner: str | None = None,
) -> dict[str, Any]:
    """Run one sync to the end and return its run row (status, counters, error, plan).

    Without a handle, the run is recorded and claimed here (the CLI's foreground sync).
    """
    owner = owner or f"{socket.gethostname()}:{os.getpid()}"
    if handle is None:
        run_id = await runs.record(
            options.model or "all", options.triggered_by, dry_run=options.dry_run
        )
        handle = await runs.claim(run_id, owner)
        if handle is None:
            raise runs.SyncBusy(await runs.get(run_id))
    runs.track(handle)
    base = RunStats()
    ticker = asyncio.create_task(_heartbeat(handle, base))
    status, error, plan_json = "failed", None, None
    try:
        status, error, plan_json = await _execute(source, options, handle, base, spread, owner)
    except ModelNotInBucket as exc:
        error = str(exc)
    except S3Error as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - recorded on the run; the run must end
        log.exception("sync run %s failed", handle.id)
        error = f"{type(exc).__name__}: {exc}"
    finally:
        ticker.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await ticker
        runs.untrack(handle)
        await _finish_with_retries(handle, status, error, plan_json)
    result = await runs.get(handle.id)
    assert result is not None
    return result


async def _finish_with_retries(
    handle: RunHandle, status: str, error: str | None, plan: dict[str, Any] | None
) -> None:
    """Record the outcome even if the database dropped a connection; else staleness ends it."""
    for attempt in range(3):
        try:
            await runs.finish(handle, status, error, plan)
            return
        except Exception:  # noqa: BLE001 - retried; the stale-run rule is the last resort
            log.warning("recording the end of run %s failed", handle.id, exc_info=True)
            await asyncio.sleep(0.2 * (attempt + 1))
    await runs.release(handle)


async def _heartbeat(handle: RunHandle, base: RunStats) -> None:
    """Every half second: the run's counters are its own plus every part's, from any worker."""
    while True:
        await asyncio.sleep(0.5)
        try:
            await _gather_progress(handle, base)
            await handle.flush()
        except Exception:  # noqa: BLE001 - a missed beat is retried in half a second
            log.warning("heartbeat for run %s failed", handle.id, exc_info=True)


# Parts this process is syncing now: their counters are fresher here than in the database.
_live_parts: dict[int, RunStats] = {}


async def _gather_progress(handle: RunHandle, base: RunStats) -> None:
    state = await parts.progress(handle.id)
    total = RunStats(phase=handle.stats.phase, errors=handle.stats.errors)
    total.add(base.counters())
    for part_id, counters in state.by_part.items():
        live = _live_parts.get(part_id)
        total.add(live.counters() if live is not None else counters)
    total.models_total = base.models_total
    handle.stats = total


async def _execute(
    source: ListingSource,
    options: SyncOptions,
    handle: RunHandle,
    base: RunStats,
    spread: Spread | None,
    owner: str,
) -> tuple[str, str | None, dict[str, Any] | None]:
    handle.stats.phase = "listing"
    if options.model:
        prefixes, loose = [options.model + "/"], []
    else:
        prefixes, loose = await source.list_top()
    base.keys_listed += len(loose)
    base.keys_ignored += len(loose)
    folders: list[str] = []
    for prefix in prefixes:
        folder = prefix[:-1]
        if parse_key(prefix + "x.jpg").model == folder:
            folders.append(folder)
    base.models_total = len(folders)
    count = await parts.create(handle.id, folders, 1 if options.model else options.parts)
    handle.stats.phase = "syncing"
    if spread is not None and count > 1:
        await spread(handle.id, count - 1)
    while True:  # our share, then any part whose worker stopped, until all are done
        await work_parts(source, options, handle.id, owner, handle.cancelled)
        state = await parts.progress(handle.id)
        if state.done == state.total or handle.cancelled.is_set():
            break
        await asyncio.sleep(0.5)
    await _gather_progress(handle, base)
    if handle.cancelled.is_set():
        return "cancelled", "cancelled by an admin; finished models were kept", None
    return await _merge_and_delete(options, handle, await parts.results(handle.id))


async def _merge_and_delete(
    options: SyncOptions, handle: RunHandle, results: list[dict[str, Any]]
) -> tuple[str, str | None, dict[str, Any] | None]:
    stats = handle.stats
    plan = DeletionPlan()
    seen: set[str] = set()
    failed: list[str] = []
    for result in results:
        seen.update(result["seen"])
        failed.extend(result["failed"])
        stats.errors.extend(result["errors"])
        plan.unchanged.extend(result["unchanged"])
        plan.per_model.update({int(k): v for k, v in result["per_model"].items()})
    known = await sync_store.known_models([options.model] if options.model else None)
    if options.model and options.model not in seen and options.model not in known:
        raise ModelNotInBucket(
            f"model folder {options.model!r} is not in the bucket; no model was created."
        )
    if failed:
        names = ", ".join(failed[:PLAN_NAMES_SHOWN])
        return (
            "failed",
            (
                f"{len(failed)} model(s) could not be synced: {names}. Their rows were "
                f"kept and nothing was deleted. First error: {stats.errors[0]}"
            ),
            None,
        )
    if not options.dry_run:
        await sync_store.touch_synced(plan.unchanged)
    for folder, model in known.items():
        if folder not in seen:
            plan.models[folder] = model.id
            plan.model_media += model.media
    return await _guard_and_delete(options, handle, plan, known, stats)


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
    _live_parts[part.id] = stats
    try:
        await asyncio.gather(*(worker() for _ in range(max(1, options.concurrency))))
    finally:
        _live_parts.pop(part.id, None)
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


async def _guard_and_delete(
    options: SyncOptions,
    handle: RunHandle,
    plan: DeletionPlan,
    known: dict[str, sync_store.KnownModel],
    stats: RunStats,
) -> tuple[str, str | None, dict[str, Any] | None]:
    total_models = (
        len(known) if not options.model else await sync_store.count_rows("whitelabel_models")
    )
    total_media = await sync_store.count_rows("whitelabel_media")
    verdict = judge_deletions(
        deletes_any=bool(plan.models or plan.per_model),
        models_to_delete=len(plan.models),
        total_models=total_models,
        media_to_delete=plan.media_count,
        total_media=total_media,
        keys_listed=stats.keys_listed,
        known_models=len(known),
        max_fraction=options.max_delete_fraction,
        allow_mass_delete=options.allow_mass_delete,
    )
    guarded = verdict.guarded
    if options.dry_run:
        s = plan.as_json()["summary"]
        stats.models_deleted, stats.posts_deleted, stats.media_deleted = (
            s["models"],
            s["posts"],
            s["media"],
        )
        note = (
            "dry run: a real run would stop for confirmation before deleting" if guarded else None
        )
        return "succeeded", note, None
    if guarded:
        summary = plan.as_json()
        reason = verdict.reason
        s = summary["summary"]
        return (
            "needs_confirmation",
            (
                f"Nothing was deleted: {reason} ({s['models']} model(s), {s['posts']} post(s), "
                f"{s['media']} media). Confirm to apply exactly these deletions."
            ),
            summary,
        )
    stats.phase = "deleting"
    await apply_plan(plan.as_json(), stats)
    return "succeeded", None, None


async def apply_plan(plan: dict[str, Any], stats: RunStats) -> None:
    """Apply a deletion plan exactly (at the end of a run, after the guard)."""
    for model_id, part in plan["per_model"].items():
        posts, media = await sync_store.apply_deletions(
            int(model_id), part["posts"], part["media"], part["fingerprint"]
        )
        stats.posts_deleted += posts
        stats.media_deleted += media
    if plan["models"]:
        models, posts, media = await sync_store.delete_models(list(plan["models"].values()))
        stats.models_deleted += models
        stats.posts_deleted += posts
        stats.media_deleted += media
