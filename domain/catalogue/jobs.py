"""The catalogue's jobs: a sync (full or one model), the helpers that share its parts, the
confirmation of a held deletion plan and the schedule's tick; and the web side, which records a
run and queues its job (the web never lists or parses a bucket)."""

from __future__ import annotations

import asyncio
import logging

import procrastinate
from procrastinate.types import JSONValue

from domain.accounts import audit
from domain.catalogue import run_handle, runs, schedule
from domain.catalogue.begin import RunRequest, begin, skip
from domain.catalogue.confirm import confirm, confirm_request
from domain.catalogue.sync import SyncOptions, run_sync, work_parts
from domain.media import jobs as media_jobs
from domain.platform import queue, runtime
from domain.platform.runtime import Runtime

log = logging.getLogger("creatorflix.jobs")
SYNC_LOCK = "sync"  # one sync or confirmation at a time, across every worker


def sync_options(
    rt: Runtime,
    model: str | None = None,
    *,
    dry_run: bool = False,
    allow_mass_delete: bool = False,
    triggered_by: str = "cli",
) -> SyncOptions:
    """A sync's options from the process's settings, and one run's own."""
    assert rt.s3_settings is not None
    return SyncOptions(
        public_base=rt.s3_settings.public_base,
        model=model,
        concurrency=rt.settings.sync_concurrency,
        max_delete_fraction=rt.settings.sync_max_delete_fraction,
        parts=rt.settings.sync_parts,
        dry_run=dry_run,
        allow_mass_delete=allow_mass_delete,
        triggered_by=triggered_by,
    )


# The web side: record a run and hand it to the workers.


async def start_sync(
    model: str | None,
    triggered_by: str,
    *,
    allow_mass_delete: bool = False,
    dry_run: bool = False,
) -> int:
    """Queue a sync; raises SyncBusy naming the run already queued or going."""
    request = RunRequest(model or "all", triggered_by, dry_run=dry_run)
    return await begin(
        request, lambda run_id: defer_run("sync", run_id, allow_mass_delete=allow_mass_delete)
    )


async def start_confirm(held_run: int, actor: str) -> int:
    """Queue the confirmation of a held plan as a run of its own."""
    request = await confirm_request(held_run, actor)
    return await begin(request, lambda run_id: defer_run("confirm", run_id, confirms=held_run))


async def cancel(run_id: int) -> str | None:
    """Cancel a run; its status before, or None if it was not active."""
    before = await runs.request_cancel(run_id)
    run = await runs.get(run_id)
    # Only a queued job is taken off the queue. A running one stops by itself at its next
    # model (it sees cancel_requested); aborting it would cancel its task mid-model, and
    # the run would end "failed".
    if before == "queued" and run and run.job_id:
        await queue.abort(int(run.job_id))
    return before


async def first_start(rt: Runtime) -> None:
    """`make run`'s first start in demo mode: the demo bucket's first sync is queued."""
    if rt.settings.demo and not await runs.recent(1):
        run_id = await start_sync(None, "demo")
        log.info("demo: first sync queued as run #%s", run_id)


async def defer_run(task: str, run_id: int, **job_args: JSONValue) -> int:
    """The job of a recorded run ("sync" or "confirm"): one at a time, once per run."""
    return await queue.defer(
        task,
        {"run_id": run_id, **job_args},
        lock=SYNC_LOCK,
        queueing_lock=f"run-{run_id}",
    )


async def defer_helpers(run_id: int, count: int) -> None:
    """Helper jobs that take a running sync's parts."""
    await queue.defer_many("sync_part", count, {"run_id": run_id})


# The worker side: the jobs and their bodies.


@queue.app.task(name="sync", pass_context=True, priority=queue.SYNC_PRIORITY)
async def sync_job(
    context: procrastinate.JobContext, run_id: int, allow_mass_delete: bool = False
) -> None:
    """Coordinate one sync: list the top level, split it into parts, merge, guard, delete."""
    await run_queued_sync(
        runtime.of(context), run_id, allow_mass_delete, queue.worker_name(context)
    )


@queue.app.task(name="sync_part", pass_context=True, priority=queue.SYNC_PRIORITY)
async def sync_part_job(context: procrastinate.JobContext, run_id: int) -> None:
    """Help a running sync: take parts until none is left."""
    await help_sync(runtime.of(context), run_id, queue.worker_name(context))


@queue.app.task(name="confirm", pass_context=True, priority=queue.SYNC_PRIORITY)
async def confirm_job(context: procrastinate.JobContext, run_id: int, confirms: int) -> None:
    """Apply a held deletion plan for what is still gone from the bucket."""
    await run_queued_confirm(runtime.of(context), run_id, confirms, queue.worker_name(context))


@queue.app.periodic(cron="* * * * * */5", periodic_id="schedule")
@queue.app.task(name="schedule_tick", pass_context=True, priority=queue.SYNC_PRIORITY)
async def schedule_job(context: procrastinate.JobContext, timestamp: int) -> None:
    """Start the scheduled sync when it is due (or record that it was skipped)."""
    await schedule_tick()


async def run_queued_sync(rt: Runtime, run_id: int, allow_mass_delete: bool, worker: str) -> None:
    handle = await run_handle.claim(run_id, worker)
    if handle is None:
        log.info("sync run #%s is no longer waiting; nothing to do", run_id)
        return
    run = await runs.get(run_id)
    assert run is not None
    options = sync_options(
        rt,
        _model_of(run),
        dry_run=run.dry_run,
        allow_mass_delete=allow_mass_delete,
        triggered_by=run.triggered_by,
    )
    result = await run_sync(rt.s3, options, handle, spread=defer_helpers, owner=worker)
    if not options.dry_run:
        await media_jobs.queue_media(rt.settings)
    await audit.record(
        options.triggered_by, "sync_finished", result.scope, f"run #{result.id}: {result.status}"
    )


async def help_sync(rt: Runtime, run_id: int, worker: str) -> None:
    run = await runs.get(run_id)
    if run is None or run.status != "running":
        return
    cancelled = asyncio.Event()  # set by the parts' heartbeats when an admin cancels
    await work_parts(rt.s3, sync_options(rt, _model_of(run)), run_id, worker, cancelled)


async def run_queued_confirm(rt: Runtime, run_id: int, confirms: int, worker: str) -> None:
    handle = await run_handle.claim(run_id, worker)
    if handle is None:
        return
    run = await runs.get(run_id)
    assert run is not None
    try:
        await confirm(rt.s3, confirms, run.triggered_by, sync_options(rt).public_base, handle)
    except (LookupError, RuntimeError) as exc:  # recorded on the run by confirm()
        log.info("confirmation run #%s: %s", run_id, exc)
    await media_jobs.queue_media(rt.settings)  # deleted media leave derivatives to delete


async def schedule_tick() -> None:
    """Take the schedule's due tick, if any (one worker wins it), and queue its sync."""
    due = await schedule.take_due_tick()
    if due is None:
        return
    try:
        run_id = await start_sync(None, "schedule")
        log.info("scheduled sync: run #%s queued (%s)", run_id, due)
    except runs.SyncBusy as busy:
        held = busy.run.id if busy.run else "?"
        await skip("all", "schedule", f"scheduled sync skipped: sync run #{held} was still going")


def _model_of(run: runs.Run) -> str | None:
    """The one model a run syncs, or None for the whole bucket."""
    return None if run.scope == "all" else run.scope
