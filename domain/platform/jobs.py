"""The job queue: procrastinate on the app's PostgreSQL, run by worker processes.

Jobs: a sync (full or one model), the helpers that share its parts, confirming held deletions,
activating many models, media previews (after a sync, behind everything else); periodic: the
sync schedule and recovery of jobs whose worker died.
The web process only defers jobs; it never lists or parses a bucket.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued, JobAborted

from domain.platform.sql import jobs as sql

if TYPE_CHECKING:
    from domain.platform.runtime import Runtime

log = logging.getLogger("creatorflix.jobs")
SYNC_LOCK = "sync"  # one sync or confirmation at a time, across every worker
HEARTBEAT_S = 2.0  # workers beat this often...
STALLED_S = 10.0  # ...and one silent this long is gone: its jobs are retried elsewhere
# A free worker takes the queued job of highest priority, then the oldest (procrastinate's
# fetch_job: ORDER BY priority DESC, id). Syncs, what starts them (the schedule's tick) and the
# recovery of lost jobs come first, so forty bulk activations or a backlog of previews queued
# before a sync do not delay it; then bulk activations; media jobs come after any other queued
# job: a worker busy with previews takes a queued sync at the end of its current time slice
# (domain/media/derive.py).
SYNC_PRIORITY = 10
BULK_PRIORITY = 0
MEDIA_PRIORITY = -10
PENDING = ("todo", "doing")  # a job that will still run, or is running

queue = procrastinate.App(connector=procrastinate.PsycopgConnector())


def connect(database_url: str) -> procrastinate.App:
    """Point the queue at the database (one queue per process, opened by the runtime)."""
    connector = procrastinate.PsycopgConnector(conninfo=database_url)
    queue.connector = connector
    queue.job_manager.connector = connector
    return queue


def _runtime(context: procrastinate.JobContext) -> Runtime:
    return context.additional_context["runtime"]  # type: ignore[no-any-return]


def _worker_name(context: procrastinate.JobContext) -> str:
    return str(context.additional_context.get("name") or context.worker_name or "worker")


@queue.task(name="sync", pass_context=True, priority=SYNC_PRIORITY)
async def sync_job(
    context: procrastinate.JobContext, run_id: int, allow_mass_delete: bool = False
) -> None:
    """Coordinate one sync: list the top level, split it into parts, merge, guard, delete."""
    await _runtime(context).run_queued_sync(run_id, allow_mass_delete, _worker_name(context))


@queue.task(name="sync_part", pass_context=True, priority=SYNC_PRIORITY)
async def sync_part_job(context: procrastinate.JobContext, run_id: int) -> None:
    """Help a running sync: take parts until none is left."""
    await _runtime(context).help_sync(run_id, _worker_name(context))


@queue.task(name="confirm", pass_context=True, priority=SYNC_PRIORITY)
async def confirm_job(context: procrastinate.JobContext, run_id: int, confirms: int) -> None:
    """Apply a held deletion plan for what is still gone from the bucket."""
    await _runtime(context).run_queued_confirm(run_id, confirms, _worker_name(context))


@queue.task(name="activate", pass_context=True, priority=BULK_PRIORITY)
async def activate_job(
    context: procrastinate.JobContext,
    bulk_id: int | None = None,
    names: list[str] | None = None,
    all_new: bool = False,
    actor: str = "",
    ip: str = "",
) -> None:
    """Activate a recorded bulk activation's models (older jobs: names, or every new one)."""
    await _runtime(context).run_activation(bulk_id, names or [], all_new, actor, ip)


@queue.task(name="derive_media", pass_context=True, priority=MEDIA_PRIORITY)
async def derive_media_job(context: procrastinate.JobContext) -> None:
    """Previews and posters for new and changed media, until none waits (or a time slice)."""
    await _runtime(context).derive_media(_worker_name(context))


@queue.periodic(cron="* * * * * */5", periodic_id="schedule")
@queue.task(name="schedule_tick", pass_context=True, priority=SYNC_PRIORITY)
async def schedule_tick(context: procrastinate.JobContext, timestamp: int) -> None:
    """Start the scheduled sync when it is due (or record that it was skipped)."""
    await _runtime(context).schedule_tick()


@queue.periodic(cron="* * * * * */5", periodic_id="recover")
@queue.task(name="recover_stalled", pass_context=True, priority=SYNC_PRIORITY)
async def recover_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
    """Jobs whose worker stopped heartbeating go back to the queue for another worker."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_S):
        log.warning("job %s (%s) lost its worker; queueing it again", job.id, job.task_name)
        await manager.retry_job(job)


async def defer_run(task: str, run_id: int, **kwargs: Any) -> int:
    """The job of a recorded run ("sync" or "confirm"): one at a time, once per run."""
    return await _defer(
        task, {"run_id": run_id, **kwargs}, lock=SYNC_LOCK, queueing_lock=f"run-{run_id}"
    )


async def defer_helpers(run_id: int, count: int) -> None:
    for _ in range(count):
        await _defer("sync_part", {"run_id": run_id})


async def defer_activation(bulk_id: int) -> int:
    return await _defer("activate", {"bulk_id": bulk_id}, queueing_lock=f"bulk-{bulk_id}")


async def is_pending(job_id: int) -> bool:
    """Whether the job is still queued or running (not finished, failed, cancelled or gone)."""
    return await sql.job_status(queue.connector, job_id) in PENDING


async def defer_media(count: int) -> None:
    """`count` media jobs; each claims media in small batches, so they share the work."""
    for _ in range(count):
        await _defer("derive_media", {})


async def _defer(task: str, kwargs: dict[str, Any], **options: Any) -> int:
    """`kwargs`: the job's arguments, as procrastinate stores them (JSON)."""
    try:
        return await queue.configure_task(task, **options).defer_async(**kwargs)
    except AlreadyEnqueued:
        log.info("job %s %s is already queued", task, kwargs)
        return 0


async def abort(job_id: int) -> None:
    """Cancel a queued job, or ask a running one to stop."""
    await queue.job_manager.cancel_job_by_id_async(job_id, abort=True)


@dataclass(frozen=True)
class QueueState:
    """Live workers and the jobs waiting and running, for the dashboard and /metrics."""

    workers: int
    queued: int
    running: int


async def queue_state() -> QueueState:
    """Live workers and queue depth, for the dashboard and /metrics."""
    workers, counts = await sql.queue_counts(queue.connector, STALLED_S)
    by_status = {r["status"]: int(r["n"]) for r in counts}
    return QueueState(int(workers["n"]), by_status.get("todo", 0), by_status.get("doing", 0))


async def _note_failure(
    call_next: Callable[[], Awaitable[Any]], context: procrastinate.JobContext, worker: Any
) -> Any:
    """Every job, as a procrastinate worker middleware: one that raises (and so is marked
    failed) has its reason recorded for the jobs page (domain/jobs/failures.py)."""
    try:
        return await call_next()
    except (asyncio.CancelledError, JobAborted):
        raise
    except Exception as exc:
        job = context.job
        await _runtime(context).job_failed(job.id or 0, job.task_name, _worker_name(context), exc)
        raise


async def run_worker(
    runtime: Runtime, name: str, concurrency: int, *, signals: bool = True
) -> None:
    """Run jobs until cancelled or signalled (SIGTERM/SIGINT stop it gracefully)."""
    log.info("worker %s: taking jobs (%d at once)", name, concurrency)
    await queue.run_worker_async(
        name=name,
        concurrency=concurrency,
        additional_context={"runtime": runtime, "name": name},
        update_heartbeat_interval=HEARTBEAT_S,
        stalled_worker_timeout=STALLED_S,
        install_signal_handlers=signals,
        delete_jobs="successful",
        worker_middleware=[_note_failure],
    )
