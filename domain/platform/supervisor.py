"""`python -m app`: embedded services when unconfigured, the web server and its workers.

One command runs everything: the embedded PostgreSQL and S3 (only when DATABASE_URL and
DO_SPACES_* are unset), migrations, the demo catalogue, `settings.workers` worker processes
(restarted if they die), and the web server in this process. Ctrl-C stops it all.
"""

from __future__ import annotations

import asyncio
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from domain.catalogue import runs
from domain.platform import embedded_pg
from domain.platform.embedded_s3 import EmbeddedS3
from domain.platform.runtime import Runtime
from domain.platform.s3 import S3Service
from domain.platform.settings import ROOT, Settings

log = logging.getLogger("creatorflix")


def serve(settings: Settings, make_app: Callable[[Settings], Any]) -> None:
    import uvicorn

    url = embedded_pg.database_url(settings)
    embedded = EmbeddedS3(settings) if settings.s3 is None else None
    s3 = embedded.start() if embedded is not None else settings.s3
    settings = replace(settings, database_url=url, s3=s3)
    pool = WorkerPool(settings)
    try:
        login = asyncio.run(_prepare(settings, embedded))
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
        )
        uvicorn.Server(config).run()
    finally:
        pool.stop()
        if embedded is not None:
            asyncio.run(_persist(embedded))
            embedded.stop()
        embedded_pg.stop_all()


async def _prepare(settings: Settings, embedded: EmbeddedS3 | None) -> tuple[str, str] | None:
    """Migrate; in demo mode fill (or restore) the bucket and queue its first sync."""
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
        if settings.demo and not await runs.recent(1):
            run_id = await runtime.start_sync(None, "demo")
            log.info("demo: first sync queued as run #%s", run_id)
        return runtime.demo_login
    finally:
        await runtime.stop()


async def _persist(embedded: EmbeddedS3) -> None:
    async with S3Service(embedded.settings) as s3:
        log.info("embedded S3: %d objects kept in %s", await embedded.persist(s3), embedded.store)


class WorkerPool:
    """Worker processes (`python -m app worker`), restarted with a backoff when one dies."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.procs: list[subprocess.Popen[bytes] | None] = [None] * settings.workers
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._watch, name="workers", daemon=True)

    def env(self, index: int) -> dict[str, str]:
        s = self.settings
        env = {**os.environ, "WORKER_NAME": f"worker-{index + 1}@{os.getpid()}"}
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
        self.procs[index] = subprocess.Popen(
            [sys.executable, "-m", "app", "worker"], cwd=ROOT, env=self.env(index)
        )

    def start(self) -> None:
        for index in range(len(self.procs)):
            self._spawn(index)
        if self.procs:
            self._thread.start()
            log.info("started %d worker process(es)", len(self.procs))
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
                    time.sleep(delay)
                    delay = min(delay * 2, 30.0)
                    if not self._stopping.is_set():
                        self._spawn(index)

    def stop(self, timeout: float = 15.0) -> None:
        self._stopping.set()
        for proc in self.procs:
            if proc is not None and proc.poll() is None:
                proc.terminate()
        deadline = time.monotonic() + timeout
        for proc in self.procs:
            if proc is None:
                continue
            try:
                proc.wait(max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)
