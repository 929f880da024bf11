"""Process-wide services (database, S3, job queue), shared by the web app, workers and the CLI.

Resources only: each feature's jobs get it from their context (`of`), the web's handlers through
`Provide`. The web process defers jobs and signs URLs; workers run the jobs (domain/tasks.py).
"""

from __future__ import annotations

import functools
import gc
import logging
import os
import socket

import procrastinate
from piccolo.apps.user.tables import BaseUser
from piccolo.engine import PostgresEngine

from domain.platform import db, queue
from domain.platform.embedded_pg import database_url
from domain.platform.embedded_s3 import running_demo_s3
from domain.platform.s3 import S3Service
from domain.platform.settings import S3Settings, Settings

log = logging.getLogger("creatorflix")
DEMO_USER, DEMO_PASSWORD = "admin", "creatorflix-demo"


class Runtime:
    """Start with `await runtime.start()`; every failure there names what is unreachable."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.engine: PostgresEngine | None = None
        self.s3_settings: S3Settings | None = settings.s3
        self._s3: S3Service | None = None
        self.demo_login: tuple[str, str] | None = None
        self.name = this_process()

    @property
    def s3(self) -> S3Service:
        if self._s3 is None:
            raise RuntimeError("Runtime.start() has not run")
        return self._s3

    async def start(self, *, migrate: bool = True, pool_size: int = 16, s3: bool = True) -> None:
        """Database (embedded when DATABASE_URL is unset), migrations, queue, S3 client."""
        url = database_url(self.settings)
        self.engine = db.make_engine(url)
        db.install_engine(self.engine)
        await db.start(self.engine, pool_size=pool_size)
        try:
            if migrate:
                await db.migrate()
            await queue.connect(url).open_async()
            if s3 and self.s3_settings is None:
                self.s3_settings = running_demo_s3(self.settings)
            if s3:
                assert self.s3_settings is not None
                self._s3 = S3Service(self.s3_settings, ttl=self.settings.signed_url_ttl)
                await self._s3.__aenter__()
                await self._s3.check()
        except BaseException:
            await self.stop()
            raise
        if self.settings.demo and migrate:
            self.demo_login = await ensure_demo_admin()
        freeze_startup_heap()

    async def stop(self) -> None:
        if self._s3 is not None:
            await self._s3.__aexit__(None, None, None)
            self._s3 = None
        await queue.app.close_async()
        if self.engine is not None:
            await db.stop(self.engine)


def of(context: procrastinate.JobContext) -> Runtime:
    """The runtime of the worker running a job (queue.run_worker hands it to every job)."""
    runtime = context.additional_context["runtime"]
    assert isinstance(runtime, Runtime)
    return runtime


def this_process() -> str:
    """How a run's ledger and the logs name this process: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


# Allocations between two young-generation passes (Python's default: 700). A first sync
# allocates a few tuples and objects per key, nearly all freed by reference counting: at 700,
# the collector ran about 480 young and 4 full passes per 200,000 keys, about 2 s of a worker's
# CPU per million keys; at 10,000, about 25 young and one full pass, 0.6 to 1 s (issue 24).
GC_YOUNG_THRESHOLD = 10_000


@functools.cache  # once a process; not gc.get_freeze_count(), which walks what is frozen
def freeze_startup_heap() -> None:
    """Put what start-up left alive (modules, tables, the app: about 140,000 objects) out of the
    garbage collector's reach. Each full pass walked all of it with the event loop held: up to
    117 ms at a time in a first sync (bench/loop_lag.py). And let the young generation grow to
    GC_YOUNG_THRESHOLD objects between passes. Once a process: a process that starts more
    runtimes (the tests' apps) would pay a full pass for each and freeze their garbage."""
    gc.collect()
    gc.freeze()
    _, middle, old = gc.get_threshold()
    gc.set_threshold(GC_YOUNG_THRESHOLD, middle, old)


async def ensure_demo_admin() -> tuple[str, str]:
    """The demo admin for the zero-configuration mode (embedded S3 and PostgreSQL only)."""
    exists = await BaseUser.exists().where(BaseUser.username == DEMO_USER)
    if not exists:
        await BaseUser.create_user(
            username=DEMO_USER,
            password=DEMO_PASSWORD,
            email="admin@example.com",
            active=True,
            admin=True,
            superuser=True,  # manages the admins page
        )
    return DEMO_USER, DEMO_PASSWORD
