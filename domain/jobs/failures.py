"""Failed jobs: why each failed, and retrying one through procrastinate's own retry.

procrastinate keeps a failed job (the worker deletes only successful ones) but not why it
failed: the worker records the reason as a "job_failed" audit entry naming the job
(`record`, called for every job that raises), and the page reads it back.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from datetime import datetime

import procrastinate
import psycopg
from procrastinate.exceptions import ConnectorException, JobAborted, UniqueViolation
from procrastinate.middleware import AsyncCallNext
from procrastinate.worker import Worker

from domain.accounts import audit
from domain.errors import Conflict, DomainError, NotFound
from domain.jobs import sql
from domain.media import pause
from domain.platform import db, queue
from domain.platform.tables import AuditEntry

log = logging.getLogger("creatorflix.jobs")
FAILED, RETRIED = "job_failed", "job_retried"
SHOWN = 20  # failures the page lists
REASON_MAX = 1000


@dataclass(frozen=True)
class Failure:
    """One failed job, as the page lists it."""

    job_id: int
    task: str
    args: str  # its arguments, as `name=value` pairs
    runs: int  # how often a worker took it, retries included
    failed_at: datetime | None
    reason: str  # "" when none was recorded (a worker older than the recording)


def target(job_id: int) -> str:
    return f"job #{job_id}"


async def record(job_id: int, task: str, worker: str, exc: BaseException) -> None:
    """A job raised: its reason, for the page (the worker still marks it failed)."""
    # A DomainError's message is written for the admin; anything else is named by its type.
    text = str(exc) if isinstance(exc, DomainError) else f"{type(exc).__name__}: {exc}"
    reason = text.strip().removesuffix(":")[:REASON_MAX]
    try:
        await audit.record(f"worker {worker}"[:150], FAILED, target(job_id), f"{task}: {reason}")
    except Exception:  # the job's own failure is what matters; this one is only logged
        log.exception("could not record why job %s (%s) failed", job_id, task)


async def note_failure(
    call_next: AsyncCallNext, context: procrastinate.JobContext, worker: Worker
) -> object:
    """Every job, as a procrastinate worker middleware (domain/tasks.py): one that raises (and
    so is marked failed) has its reason recorded for the jobs page."""
    try:
        return await call_next()
    except (asyncio.CancelledError, JobAborted):
        raise
    except Exception as exc:
        job = context.job
        await record(job.id or 0, job.task_name, queue.worker_name(context), exc)
        raise


async def recent(limit: int = SHOWN) -> list[Failure]:
    """The failed jobs, last failed first, each with its recorded reason."""
    rows = await sql.failed_jobs(queue.app.connector, limit)
    targets = [target(int(r["id"])) for r in rows]
    reasons: dict[str, str] = {}
    if targets:
        for entry in await db.select(
            AuditEntry.select(AuditEntry.target, AuditEntry.detail)
            .where((AuditEntry.action == FAILED) & AuditEntry.target.is_in(targets))
            .order_by(AuditEntry.id)
        ):
            reasons[entry["target"]] = str(entry["detail"])  # the latest failure wins
    return [
        Failure(
            job_id=int(r["id"]),
            task=str(r["task_name"]),
            args=", ".join(f"{k}={v!r}" for k, v in (r["args"] or {}).items()),
            runs=int(r["runs"]),
            failed_at=r["failed_at"],
            reason=reasons.get(target(int(r["id"])), "").partition(": ")[2],
        )
        for r in rows
    ]


async def retry(job_id: int) -> str:
    """Queue a failed job again, as it was (its lock, queueing lock and priority kept), through
    procrastinate's retry; the caller audits it (RETRIED). Returns its task. A job that is not
    failed, one whose queueing lock another queued job holds, or a preview job while previews
    are paused: 409."""
    row = await sql.job_row(queue.app.connector, job_id)
    if row is None:
        raise NotFound(f"There is no job #{job_id}: it may have been retried and succeeded.")
    task = str(row["task_name"])
    if row["status"] != "failed":
        raise Conflict(f"Job #{job_id} ({task}) is {row['status']}, not failed: nothing to retry.")
    if task == pause.TASK and await pause.is_paused():
        raise Conflict("Previews are paused: resume them to run preview jobs again.")
    try:
        await queue.app.job_manager.retry_job_by_id_async(job_id, retry_at=db.now())
    except UniqueViolation as exc:  # its queueing lock: the same job is queued already
        raise Conflict(f"Job #{job_id} ({task}): the same job is already queued.") from exc
    except ConnectorException as exc:
        if not isinstance(exc.__cause__, psycopg.errors.RaiseException):
            raise
        # procrastinate_retry_job refused it: retried meanwhile, by another admin
        raise Conflict(f"Job #{job_id} ({task}) is no longer failed: reload the page.") from exc
    return task
