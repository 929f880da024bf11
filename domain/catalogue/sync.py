"""Incremental, safe bucket sync: list concurrently, write only the change, guard deletions."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

from domain.catalogue import parts, run_changes, run_handle, runs, sync_writes
from domain.catalogue.begin import begin_here
from domain.catalogue.guard import judge_deletions
from domain.catalogue.keys import is_model_folder
from domain.catalogue.part_sync import live_parts, work_parts
from domain.catalogue.plan_json import PlanJSON
from domain.catalogue.run_handle import RunHandle
from domain.catalogue.run_stats import RunStats
from domain.catalogue.sync_options import PLAN_NAMES_SHOWN, DeletionPlan, ListingSource, SyncOptions
from domain.errors import NotFound
from domain.platform.runtime import this_process
from domain.platform.s3 import S3Error
from domain.platform.s3_types import S3Object
from domain.platform.tables import WhitelabelMedia, WhitelabelModel

__all__ = ["ListingSource", "SyncOptions", "run_sync", "work_parts"]
log = logging.getLogger("creatorflix.sync")


class ModelNotInBucket(NotFound):
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
) -> runs.Run:
    """Run one sync to the end and return its run row (status, counters, error, plan).

    Without a handle, the run is recorded and claimed here (the CLI's foreground sync).
    """
    owner = owner or this_process()
    if handle is None:
        handle = await begin_here(options.run_request(), owner)
    runs.track(handle.id, handle.cancelled)
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
        runs.untrack(handle.id)
        await _finish_with_retries(handle, status, error, plan_json)
    result = await runs.get(handle.id)
    assert result is not None
    return result


async def _finish_with_retries(
    handle: RunHandle, status: str, error: str | None, plan: PlanJSON | None
) -> None:
    """Record the outcome even if the database dropped a connection; else staleness ends it."""
    for attempt in range(3):
        try:
            await run_handle.finish(handle, status, error, plan)
            return
        except Exception:  # noqa: BLE001 - retried; the stale-run rule is the last resort
            log.warning("recording the end of run %s failed", handle.id, exc_info=True)
            await asyncio.sleep(0.2 * (attempt + 1))
    await run_handle.release(handle)


async def _heartbeat(handle: RunHandle, base: RunStats) -> None:
    """Every half second: the run's counters are its own plus every part's, from any worker."""
    while True:
        await asyncio.sleep(0.5)
        try:
            await _gather_progress(handle, base)
            await handle.flush()
        except Exception:  # noqa: BLE001 - a missed beat is retried in half a second
            log.warning("heartbeat for run %s failed", handle.id, exc_info=True)


async def _gather_progress(handle: RunHandle, base: RunStats) -> None:
    state = await parts.progress(handle.id)
    total = RunStats(phase=handle.stats.phase, errors=handle.stats.errors)
    total.add(base.counters())
    for part_id, counters in state.by_part.items():
        live = live_parts.get(part_id)
        total.add(live.counters() if live is not None else counters)
    # Each part counts its own models, done and total (a worker taking a part over counts it
    # afresh; a model folder made after the top-level listing adds to its part's total), so
    # done never passes the parts' total. A part not claimed yet counts none: until then the
    # top-level listing's count stands in.
    total.models_total = max(base.models_total, total.models_total - base.models_total)
    handle.stats = total


async def _execute(
    source: ListingSource,
    options: SyncOptions,
    handle: RunHandle,
    base: RunStats,
    spread: Spread | None,
    owner: str,
) -> tuple[str, str | None, PlanJSON | None]:
    handle.stats.phase = "listing"
    loose: list[S3Object]
    if options.model:
        prefixes, loose = [options.model + "/"], []
    else:
        prefixes, loose = await source.list_top()
    base.keys_listed += len(loose)
    base.keys_ignored += len(loose)
    await run_changes.record_ignored(handle.id, [o.key for o in loose])
    folders: list[str] = []
    for prefix in prefixes:
        if is_model_folder(prefix[:-1]):
            folders.append(prefix[:-1])
    base.models_total = len(folders)
    count = await parts.create(
        handle.id, folders, 1 if options.model else options.parts, whole_bucket=not options.model
    )
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
    outcome = await _merge_and_delete(options, handle, base, await parts.results(handle.id))
    await _gather_progress(handle, base)  # the deletions, counted on base, into the run's
    return outcome


async def _merge_and_delete(
    options: SyncOptions, handle: RunHandle, base: RunStats, results: list[parts.PartResult]
) -> tuple[str, str | None, PlanJSON | None]:
    stats = handle.stats  # its errors list outlives the heartbeat's swaps; its counters do not
    plan = DeletionPlan()
    seen: set[str] = set()
    failed: list[str] = []
    for result in results:
        seen.update(result.seen)
        failed.extend(result.failed)
        stats.errors.extend(result.errors)
        plan.unchanged.extend(result.unchanged)
        plan.per_model.update({int(k): v for k, v in result.per_model.items()})
    known = await sync_writes.known_models([options.model] if options.model else None)
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
    if options.model and not options.dry_run:  # a whole-bucket run is its own stamp
        await sync_writes.touch_synced(plan.unchanged)
    for folder, model in known.items():
        if folder not in seen:
            plan.models[folder] = model.id
    # Counted from the rows, as delete_models counts what it deleted: the plan says what
    # confirming it deletes.
    plan.model_posts, plan.model_media = await sync_writes.contents(list(plan.models.values()))
    return await _guard_and_delete(options, handle, plan, known, base)


async def _guard_and_delete(
    options: SyncOptions,
    handle: RunHandle,
    plan: DeletionPlan,
    known: dict[str, sync_writes.KnownModel],
    base: RunStats,
) -> tuple[str, str | None, PlanJSON | None]:
    """Judge the plan, then hold it, count it (a dry run) or apply it. Deletions are counted on
    `base`, the coordinator's own counters: the heartbeat replaces handle.stats every half
    second with base plus the parts', so counts made on handle.stats would be lost."""
    total_models = (
        len(known) if not options.model else await sync_writes.count_rows(WhitelabelModel)
    )
    total_media = await sync_writes.count_rows(WhitelabelMedia)
    verdict = judge_deletions(
        deletes_any=bool(plan.models or plan.per_model),
        models_to_delete=len(plan.models),
        total_models=total_models,
        media_to_delete=plan.media_count,
        total_media=total_media,
        keys_listed=handle.stats.keys_listed,
        known_models=len(known),
        max_fraction=options.max_delete_fraction,
        allow_mass_delete=options.allow_mass_delete,
    )
    guarded = verdict.guarded
    if options.dry_run:
        would = await run_changes.planned_removals(plan.as_json())
        await run_changes.record_removed(handle.id, *would)  # what a real run would remove
        s = plan.as_json()["summary"]
        base.models_deleted, base.posts_deleted, base.media_deleted = (
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
        shown = await run_changes.live_in(summary)  # the guard lists these first, then the others
        s["live"] = shown.as_json()
        s["model_names"] = [n for n in sorted(plan.models) if n not in set(shown.folders)][
            :PLAN_NAMES_SHOWN
        ]
        return (
            "needs_confirmation",
            (
                f"Nothing was deleted: {reason} ({s['models']} model(s), {s['posts']} post(s), "
                f"{s['media']} media). Confirm to apply exactly these deletions"
                + (
                    f": {shown.models} live model(s) and {shown.posts} live post(s) go off "
                    "the public site."
                    if shown.any
                    else "."
                )
            ),
            summary,
        )
    handle.stats.phase = "deleting"
    await apply_plan(plan.as_json(), base, handle.id)
    return "succeeded", None, None


async def apply_plan(plan: PlanJSON, stats: RunStats, run_id: int) -> None:
    """Apply a deletion plan exactly (at the end of a run, after the guard); the run records
    the models and posts it removed."""
    removed = await run_changes.planned_removals(plan)
    for model_id, part in plan["per_model"].items():
        posts, media = await sync_writes.apply_deletions(
            int(model_id), part["posts"], part["media"], part["fingerprint"]
        )
        stats.posts_deleted += posts
        stats.media_deleted += media
    if plan["models"]:
        models, posts, media = await sync_writes.delete_models(list(plan["models"].values()))
        stats.models_deleted += models
        stats.posts_deleted += posts
        stats.media_deleted += media
    await run_changes.record_removed(run_id, *removed)
