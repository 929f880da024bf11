"""The job queue: procrastinate on the app's PostgreSQL, run by worker processes.

Each feature defines its own tasks on `app` (domain/catalogue/jobs.py, domain/staging/jobs.py,
domain/media/jobs.py; domain/tasks.py loads them all for a worker). This module knows no
feature: it connects, defers by task name, cancels, counts, and runs a worker; its one task of
its own puts back the jobs of a worker that died. The web process only defers jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass

import procrastinate
from procrastinate.exceptions import AlreadyEnqueued
from procrastinate.middleware import WorkerMiddleware
from procrastinate.tasks import ConfigureTaskOptions
from procrastinate.types import JSONDict
from typing_extensions import Unpack

from domain.platform import queue_sql as sql

log = logging.getLogger("creatorflix.jobs")
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

app = procrastinate.App(connector=procrastinate.PsycopgConnector())
# What wraps every job a worker runs: (call_next, context, worker) -> the job's result.
Middleware = WorkerMiddleware


def connect(database_url: str) -> procrastinate.App:
    """Point the queue at the database (one queue per process, opened by the runtime)."""
    # psycopg's pool opens min_size connections before it answers, and makes max_size as many
    # by default: four backends for every process, though the web only queues a job now and
    # then. One to start, up to four (the worker's jobs, its listener) made when asked for.
    connector = procrastinate.PsycopgConnector(conninfo=database_url, min_size=1, max_size=4)
    app.connector = connector
    app.job_manager.connector = connector
    return app


def worker_name(context: procrastinate.JobContext) -> str:
    """How the ledger names the worker running this job."""
    return str(context.additional_context.get("name") or context.worker_name or "worker")


@app.periodic(cron="* * * * * */5", periodic_id="recover")
@app.task(name="recover_stalled", pass_context=True, priority=SYNC_PRIORITY)
async def recover_stalled(context: procrastinate.JobContext, timestamp: int) -> None:
    """Jobs whose worker stopped heartbeating go back to the queue for another worker."""
    manager = context.app.job_manager
    for job in await manager.get_stalled_jobs(seconds_since_heartbeat=STALLED_S):
        log.warning("job %s (%s) lost its worker; queueing it again", job.id, job.task_name)
        await manager.retry_job(job)


async def defer(task: str, kwargs: JSONDict, **options: Unpack[ConfigureTaskOptions]) -> int:
    """Queue `task` by name; `kwargs`: the job's arguments, as procrastinate stores them (JSON);
    `options`: procrastinate's (lock, queueing_lock, priority...). 0 if its queueing lock is
    already held by a queued job."""
    try:
        return await app.configure_task(task, **options).defer_async(**kwargs)
    except AlreadyEnqueued:
        log.info("job %s %s is already queued", task, kwargs)
        return 0


async def defer_many(task: str, count: int, kwargs: JSONDict | None = None) -> None:
    """`count` jobs of a task with the same arguments (they share the work between them)."""
    for _ in range(count):
        await defer(task, dict(kwargs or {}))


async def is_pending(job_id: int) -> bool:
    """Whether the job is still queued or running (not finished, failed, cancelled or gone)."""
    return await sql.job_status(app.connector, job_id) in PENDING


async def queued_ids(task: str) -> list[int]:
    """The ids of a task's jobs still waiting to be taken."""
    return await sql.queued_ids(app.connector, task)


async def abort(job_id: int) -> None:
    """Cancel a queued job, or ask a running one to stop."""
    await app.job_manager.cancel_job_by_id_async(job_id, abort=True)


@dataclass(frozen=True)
class QueueState:
    """Live workers and the jobs waiting and running, for the dashboard and /metrics."""

    workers: int
    queued: int
    running: int


async def queue_state() -> QueueState:
    """Live workers and queue depth, for the dashboard and /metrics."""
    workers, by_status = await sql.queue_counts(app.connector, STALLED_S)
    return QueueState(workers, by_status.get("todo", 0), by_status.get("doing", 0))


async def run_worker(
    resources: object,
    name: str,
    concurrency: int,
    *,
    signals: bool = True,
    middleware: Sequence[Middleware] = (),
) -> None:
    """Run jobs until cancelled or signalled (SIGTERM/SIGINT stop it gracefully). `resources`
    (the process's Runtime) reaches every job as `context.additional_context["runtime"]`."""
    log.info("worker %s: taking jobs (%d at once)", name, concurrency)
    await app.run_worker_async(
        name=name,
        concurrency=concurrency,
        additional_context={"runtime": resources, "name": name},
        update_heartbeat_interval=HEARTBEAT_S,
        stalled_worker_timeout=STALLED_S,
        install_signal_handlers=signals,
        delete_jobs="successful",
        worker_middleware=list(middleware),
    )
