"""Incremental, safe bucket sync: list concurrently, write only the change, guard deletions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from operator import attrgetter
from typing import Any, Protocol

from domain import db, runs, sync_store
from domain.guard import judge_deletions
from domain.keys import parse_key
from domain.plan import build_model, diff_model, listing_hash
from domain.runs import RunHandle, RunStats
from domain.s3 import S3Error, S3Object

log = logging.getLogger("creatorflix.sync")
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


async def run_sync(
    source: ListingSource, options: SyncOptions, handle: RunHandle | None = None
) -> dict[str, Any]:
    """Run one sync to the end and return its run row (status, counters, error, plan)."""
    handle = handle or await runs.begin(
        options.model or "all", options.triggered_by, options.dry_run
    )
    runs.track(handle)
    ticker = asyncio.create_task(_heartbeat(handle))
    status, error, plan_json = "failed", None, None
    try:
        status, error, plan_json = await _execute(source, options, handle)
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


async def _heartbeat(handle: RunHandle) -> None:
    while True:
        await asyncio.sleep(0.5)
        try:
            await handle.flush()
        except Exception:  # noqa: BLE001 - a missed beat is retried in half a second
            log.warning("heartbeat for run %s failed", handle.id, exc_info=True)


async def _execute(
    source: ListingSource, options: SyncOptions, handle: RunHandle
) -> tuple[str, str | None, dict[str, Any] | None]:
    stats = handle.stats
    stats.phase = "listing"
    known = await sync_store.known_models([options.model] if options.model else None)
    if options.model:
        prefixes, loose = [options.model + "/"], []
    else:
        prefixes, loose = await source.list_top()
    stats.keys_listed += len(loose)
    stats.keys_ignored += len(loose)
    folders: list[str] = []
    for prefix in prefixes:
        folder = prefix[:-1]
        if parse_key(prefix + "x.jpg").model == folder:
            folders.append(folder)
    stats.models_total = len(folders)
    plan = DeletionPlan()
    seen: set[str] = set()
    failed: list[str] = []
    stats.phase = "syncing"
    queue: asyncio.Queue[str] = asyncio.Queue()
    for folder in folders:
        queue.put_nowait(folder)
    write_lock = asyncio.Lock() if not db.is_postgres() else None

    async def worker() -> None:
        while not handle.cancelled.is_set():
            try:
                folder = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            try:
                exists = await _sync_model(
                    source, options, folder, known.get(folder), plan, stats, write_lock
                )
                if exists:
                    seen.add(folder)
            except Exception as exc:  # noqa: BLE001 - S3 or database: this model is skipped
                if not isinstance(exc, S3Error):
                    log.warning("sync of model %r failed", folder, exc_info=True)
                failed.append(folder)
                stats.errors.append(f"{folder}: {exc}")
                seen.add(folder)  # keep its rows
            stats.models_done += 1

    await asyncio.gather(*(worker() for _ in range(max(1, options.concurrency))))
    if options.model and options.model not in seen and options.model not in known:
        raise ModelNotInBucket(
            f"model folder {options.model!r} is not in the bucket; no model was created."
        )
    if handle.cancelled.is_set():
        return "cancelled", "cancelled by an admin; finished models were kept", None
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


async def _sync_model(
    source: ListingSource,
    options: SyncOptions,
    folder: str,
    known: sync_store.KnownModel | None,
    plan: DeletionPlan,
    stats: RunStats,
    write_lock: asyncio.Lock | None,
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
    stats.keys_ignored += desired.ignored
    if not desired.exists:
        return False
    existing = await sync_store.load_existing(known.id) if known is not None else None
    change = diff_model(desired, existing)
    if change.writes_anything and not options.dry_run:
        if write_lock is not None:
            async with write_lock:
                model_id = await sync_store.write_change(change)
        else:
            model_id = await sync_store.write_change(change)
    else:
        model_id = change.model_id or 0
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
    """Apply a deletion plan exactly (used at the end of a run and on confirmation)."""
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


async def confirm(run_id: int, actor: str) -> dict[str, Any]:
    """Apply the deletions a needs_confirmation run held back, exactly as planned."""
    run = await runs.get(run_id)
    if run is None or run["status"] != "needs_confirmation" or not run["plan"]:
        raise LookupError(f"sync run #{run_id} is not waiting for confirmation.")
    handle = await runs.begin(run["scope"], actor)
    try:
        handle.stats.phase = "deleting"
        await apply_plan(run["plan"], handle.stats)
        await runs.finish(handle, "succeeded", f"confirmed deletions of run #{run_id}")
        async with db.transaction() as tx:
            await tx.execute(
                "UPDATE sync_runs SET status = 'succeeded', error = $2 WHERE id = $1",
                run_id,
                f"deletions confirmed by {actor} in run #{handle.id}",
            )
    except BaseException as exc:
        await runs.finish(handle, "failed", str(exc))
        raise
    result = await runs.get(handle.id)
    assert result is not None
    return result


async def discard(run_id: int, actor: str) -> None:
    async with db.transaction() as tx:
        rows = await tx.fetch(
            "UPDATE sync_runs SET status = 'cancelled', error = $2 WHERE id = $1 AND "
            "status = 'needs_confirmation' RETURNING id",
            run_id,
            f"deletions discarded by {actor}; nothing was deleted",
        )
    if not rows:
        raise LookupError(f"sync run #{run_id} is not waiting for confirmation.")
