"""A worker process: runs queued jobs; waits, saying so, while the database is unreachable."""

from __future__ import annotations

import asyncio
import logging

from domain.catalogue import runs
from domain.platform import jobs
from domain.platform.db import DatabaseUnavailable
from domain.platform.runtime import Runtime
from domain.platform.s3 import S3Error
from domain.platform.settings import Settings

log = logging.getLogger("creatorflix.worker")
logging.getLogger("procrastinate").setLevel(logging.WARNING)  # one line per job is too many
MAX_BACKOFF = 30.0


async def run(settings: Settings, name: str | None = None, concurrency: int | None = None) -> None:
    """Take jobs until SIGTERM/SIGINT; reconnect with backoff when the database goes away."""
    name = name or settings.worker_name or runs.this_process()
    concurrency = concurrency or settings.worker_concurrency
    delay = 1.0
    while True:
        runtime = Runtime(settings)
        runtime.name = name
        try:
            await runtime.start(migrate=False, pool_size=max(8, concurrency * 4))
        except (DatabaseUnavailable, S3Error, OSError) as exc:
            log.warning("worker %s cannot start: %s; retrying in %.0f s", name, exc, delay)
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)
            continue
        delay = 1.0
        try:
            await jobs.run_worker(runtime, name, concurrency)
            log.info("worker %s stopped", name)
            return
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - e.g. the database restarted: start over
            log.warning(
                "worker %s lost its connection (%s); reconnecting in %.0f s", name, exc, delay
            )
            await asyncio.sleep(delay)
            delay = min(delay * 2, MAX_BACKOFF)
        finally:
            await runtime.stop()
