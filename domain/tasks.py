"""Every feature's jobs on the one queue, and what wraps each job: what a worker process loads.

The worker's composition root: importing this module registers every task with
domain/platform/queue.py (which knows no feature); app.py and the CLI hand MIDDLEWARE to
domain/platform/worker.py.
"""

from __future__ import annotations

from domain.catalogue import jobs as catalogue_jobs
from domain.jobs import failures
from domain.media import jobs as media_jobs
from domain.platform import queue
from domain.platform.runtime import Runtime
from domain.staging import jobs as staging_jobs

TASK_MODULES = (catalogue_jobs, media_jobs, staging_jobs)
MIDDLEWARE: tuple[queue.Middleware, ...] = (failures.note_failure,)


async def run_worker(rt: Runtime, name: str, concurrency: int, *, signals: bool = True) -> None:
    """Run every feature's jobs in this process (tests and benches; workers use worker.run)."""
    await queue.run_worker(rt, name, concurrency, signals=signals, middleware=MIDDLEWARE)
