"""`python -m app`: embedded services when unconfigured, the web server and its workers.

One command runs everything: the embedded PostgreSQL and S3 (only when DATABASE_URL and
DO_SPACES_* are unset), migrations, the demo catalogue, `settings.workers` worker processes
(restarted if they die), and the web server in this process.

SIGTERM (kill, docker stop, supervisord) and SIGINT (Ctrl-C) stop it all the same way, whether
the signal reaches this process alone or its whole process group: the web server stops taking
requests (open ones get WEB_SHUTDOWN_S), the workers are told at once and get
worker.STOP_GRACE_S for their jobs (then SIGKILL), the embedded bucket is kept, the embedded
S3 and PostgreSQL are stopped. A second signal during that cleanup is logged, not obeyed: the
cleanup is bounded (about 20 s at most) and a half-done one would leave the database running.
If this process is SIGKILLed, its workers still stop (worker.py); the embedded PostgreSQL keeps
running until the next start on the same data dir reuses it and stops it at its end.
"""

from __future__ import annotations

import asyncio
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import replace
from types import FrameType
from typing import Any

import uvicorn

from domain.platform import embedded_pg, worker
from domain.platform.embedded_s3 import EmbeddedS3
from domain.platform.runtime import Runtime
from domain.platform.s3 import S3Service
from domain.platform.settings import ROOT, Settings

log = logging.getLogger("creatorflix")
WEB_SHUTDOWN_S = 5  # open requests (live-progress streams too) get this long once stopping
WORKER_KILL_S = worker.STOP_GRACE_S + 5.0  # a worker still there this long after SIGTERM: SIGKILL
STOP_SIGNALS = (signal.SIGTERM, signal.SIGINT)


def serve(
    settings: Settings,
    make_app: Callable[[Settings], Any],
    first_start: Callable[[Runtime], Awaitable[None]] | None = None,
) -> None:
    """Run until SIGTERM or SIGINT (raised here as KeyboardInterrupt), then stop everything.
    `first_start` runs once the database is migrated, before the workers start (the demo's
    first sync: app.py)."""
    for sig in STOP_SIGNALS:  # SIGTERM would kill outright; SIGINT may be inherited ignored
        signal.signal(sig, signal.default_int_handler)
    pool: WorkerPool | None = None
    embedded: EmbeddedS3 | None = None
    keep_bucket = False  # only once the kept bucket is restored: never save a half-restored one
    try:
        url = embedded_pg.database_url(settings)
        embedded = EmbeddedS3(settings) if settings.s3 is None else None
        s3 = embedded.start() if embedded is not None else settings.s3
        settings = replace(settings, database_url=url, s3=s3)
        pool = WorkerPool(settings)
        login = asyncio.run(_prepare(settings, embedded, first_start))
        keep_bucket = True
        pool.start()
        if login:
            print(
                f"\n  CreatorFlix Admin demo on http://{settings.host}:{settings.port}/ : "
                f"sign in as {login[0]!r} with password {login[1]!r}\n",
                file=sys.stderr,
                flush=True,
            )
        # uvicorn would believe X-Forwarded-For from 127.0.0.1 (and read FORWARDED_ALLOW_IPS
        # itself); the app decides from settings.forwarded_allow_ips instead, validating it.
        config = uvicorn.Config(
            make_app(settings),
            host=settings.host,
            port=settings.port,
            log_level="info",
            proxy_headers=False,
            forwarded_allow_ips="",
            timeout_graceful_shutdown=WEB_SHUTDOWN_S,
        )
        # uvicorn takes the signals while it serves, then raises them again here.
        _Server(config, pool.terminate).run()
    finally:
        for sig in STOP_SIGNALS:
            signal.signal(sig, _stopping_already)
        _stop(pool, embedded, keep_bucket)


class _Server(uvicorn.Server):
    """uvicorn's server; a stop signal also tells the workers at once, not after the web."""

    def __init__(self, config: uvicorn.Config, on_exit: Callable[[], None]) -> None:
        super().__init__(config)
        self._on_exit = on_exit

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        self._on_exit()
        super().handle_exit(sig, frame)


def _stopping_already(signum: int, frame: FrameType | None) -> None:
    log.warning("%s while stopping: finishing the cleanup first", signal.Signals(signum).name)


def _stop(pool: WorkerPool | None, embedded: EmbeddedS3 | None, keep_bucket: bool) -> None:
    """Workers, then the embedded S3 (its bucket kept first), then PostgreSQL: each step runs
    even if one before it failed."""
    started = time.monotonic()
    steps: list[tuple[str, Callable[[], None]]] = []
    if pool is not None:
        steps.append(("stopping the workers", pool.stop))
    if embedded is not None:
        if keep_bucket:
            steps.append(("keeping the embedded bucket", lambda: asyncio.run(_persist(embedded))))
        steps.append(("stopping the embedded S3", embedded.stop))
    steps.append(("stopping the embedded PostgreSQL", embedded_pg.stop_all))
    log.info("cleaning up: %s", ", ".join(what for what, _ in steps))
    for what, step in steps:
        try:
            step()
        except Exception:  # noqa: BLE001 - the next steps must still run
            log.exception("%s failed", what)
    log.info("cleanup done in %.1f s", time.monotonic() - started)


async def _prepare(
    settings: Settings,
    embedded: EmbeddedS3 | None,
    first_start: Callable[[Runtime], Awaitable[None]] | None,
) -> tuple[str, str] | None:
    """Migrate; in demo mode fill (or restore) the bucket; then `first_start`."""
    if embedded is not None:
        from domain.platform.demo import fill_bucket  # the demo extra: only in demo mode

        async with S3Service(embedded.settings) as s3:
            restored = await embedded.restore(s3)
            if restored:
                log.info("embedded S3: %d objects kept from the last run", restored)
            else:
                log.info("embedded S3: %d demo objects created", await fill_bucket(s3))
    runtime = Runtime(settings)
    await runtime.start()
    try:
        if first_start is not None:
            await first_start(runtime)
        return runtime.demo_login
    finally:
        await runtime.stop()


async def _persist(embedded: EmbeddedS3) -> None:
    async with S3Service(embedded.settings) as s3:
        log.info("embedded S3: %d objects kept in %s", await embedded.persist(s3), embedded.store)


class WorkerPool:
    """Worker processes (`python -m app worker`), restarted with a backoff when one dies.

    Each gets this process's pid (worker.SUPERVISOR_PID_ENV), so it stops when this process
    dies, however it dies. They share this process group: Ctrl-C reaches them too, which is
    harmless (a worker obeys the first stop signal and ignores the next).
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * settings.workers
        self._stopping = threading.Event()
        self._lock = threading.Lock()  # spawning against stopping
        self._told_at: float | None = None
        self._told: set[int] = set()  # pids sent SIGTERM
        self._thread = threading.Thread(target=self._watch, name="workers", daemon=True)

    def env(self, index: int) -> dict[str, str]:
        s = self.settings
        env = {**os.environ, "WORKER_NAME": f"worker-{index + 1}@{os.getpid()}"}
        env[worker.SUPERVISOR_PID_ENV] = str(os.getpid())
        if s.database_url:
            env["DATABASE_URL"] = s.database_url
        if s.s3 is not None:
            env.update(
                DO_SPACES_ENDPOINT=s.s3.endpoint,
                DO_SPACES_REGION=s.s3.region,
                DO_SPACES_KEY=s.s3.key,
                DO_SPACES_SECRET=s.s3.secret,
                DO_SPACES_BUCKET=s.s3.bucket,
            )
            if s.s3.cdn_url:
                env["DO_SPACES_CDN_URL"] = s.s3.cdn_url
        return env

    def _spawn(self, index: int) -> None:
        with self._lock:
            if self._stopping.is_set():
                return
            self.procs[index] = subprocess.Popen(
                [sys.executable, "-m", "app", "worker"], cwd=ROOT, env=self.env(index)
            )

    def start(self) -> None:
        for index in range(len(self.procs)):
            self._spawn(index)
        if self.procs:
            self._thread.start()
            log.info(
                "started %d worker process(es), %d steps below the web's CPU priority%s "
                "(WORKER_NICE)",
                len(self.procs),
                self.settings.worker_nice,
                " and in the idle class" if self.settings.worker_idle else "",
            )
        else:
            log.info("WORKERS=0: no worker here; run `litestar worker` where jobs should run")

    def _watch(self) -> None:
        delay = 1.0
        while not self._stopping.wait(1.0):
            for index, proc in enumerate(self.procs):
                if proc is not None and proc.poll() is not None and not self._stopping.is_set():
                    log.warning(
                        "worker %d exited with %s; restarting it in %.0f s",
                        index + 1,
                        proc.returncode,
                        delay,
                    )
                    if self._stopping.wait(delay):
                        return
                    delay = min(delay * 2, 30.0)
                    self._spawn(index)

    def terminate(self) -> None:
        """Tell every worker to stop (SIGTERM) and spawn no more; returns at once."""
        self._stopping.set()
        if self._told_at is None:
            self._told_at = time.monotonic()
        for proc in self.procs:
            if proc is not None and proc.pid not in self._told and proc.poll() is None:
                self._told.add(proc.pid)
                proc.terminate()

    def stop(self, timeout: float = WORKER_KILL_S) -> None:
        """Stop every worker: SIGTERM, then SIGKILL `timeout` s after the first SIGTERM."""
        with self._lock:  # a spawn under way ends first; none starts after
            self.terminate()
        assert self._told_at is not None
        deadline = self._told_at + timeout
        for proc in self.procs:
            if proc is None:
                continue
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                log.warning(
                    "worker pid %d still running %.0f s after SIGTERM: killed", proc.pid, timeout
                )
                proc.kill()
                proc.wait(5)
        if self._thread.is_alive():
            self._thread.join(2)
