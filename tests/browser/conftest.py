"""Browser fixtures: the real app in a uvicorn subprocess, driven by Debian's headless Chromium.

One server per session (all its state is in PostgreSQL and one S3 bucket); every test gets a
wiped database with one admin, an emptied bucket, and a fresh browser context.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from piccolo.engine import Engine
from playwright.async_api import Browser, async_playwright, expect

from domain.platform import db
from domain.platform.s3 import S3Service
from domain.platform.settings import S3Settings, Settings
from harness.app import start_uvicorn, start_worker
from harness.browser import kill_playwright_leftovers, launch_chromium
from harness.processes import Process, stop_group
from tests.browser.support import EMAIL, PASSWORD, ROOT, UI, USERNAME, empty_bucket, open_ui
from tests.conftest import Bucket, bounded, eventually, seed_admin, wipe

# One set of logs per test process (its xdist worker's name), not one file all three overwrite.
SERVER_LOG = (
    ROOT / "test-output" / os.environ.get("PYTEST_XDIST_WORKER", "main") / "browser-server.log"
)
STARTUP_TIMEOUT_S = 30.0

expect.set_options(timeout=10_000)


@pytest.fixture(scope="package")  # its worker must not outlive the browser tests
async def server_s3(settings: Settings) -> AsyncIterator[S3Service]:
    """The live server's bucket, driven from the test process."""
    assert settings.s3 is not None
    s3 = S3Settings(
        endpoint=settings.s3.endpoint,
        region="us-east-1",
        key="test",
        secret="test",
        bucket=f"browser-{os.getpid()}",
    )
    async with S3Service(s3, ttl=600, max_attempts=2, timeout=5) as service:
        await service.create_bucket()
        yield service


@contextlib.contextmanager
def serve(server_s3: S3Service, log_path: Path) -> Iterator[str]:
    """Run `uvicorn app:create_app` against the test database and bucket; yield its base URL."""
    log_path.parent.mkdir(parents=True, exist_ok=True)
    env = _env(server_s3)
    server = start_uvicorn("the app", "app:create_app", env, log_path, session=False)
    try:
        server.wait_answering_sync("/healthz", STARTUP_TIMEOUT_S)
        yield server.url
    finally:
        _stop(server)


def _env(server_s3: S3Service) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DO_SPACES_")}
    env.update(
        DATABASE_URL=os.environ["TEST_DATABASE_URL"],
        DO_SPACES_ENDPOINT=server_s3.settings.endpoint,
        DO_SPACES_KEY="test",
        DO_SPACES_SECRET="test",
        DO_SPACES_BUCKET=server_s3.settings.bucket,
        SECRET_KEY="x" * 64,
        # At the tests' own priority: the suite keeps both cores busy, and a worker 10 steps
        # below it (the default) was starved: a sync stayed queued past a test's 30 s wait.
        WORKER_NICE="0",
    )
    return env


def _stop(process: Process) -> None:
    stop_group(process.popen, 10.0, reap=5.0)


@pytest.fixture(scope="package")  # its worker must not outlive the browser tests
def live_server(server_s3: S3Service, pg_engine: Any) -> Iterator[str]:
    """Base URL of the app server, with a worker process running its jobs (syncs).

    Depends on pg_engine so the test process migrates first.
    """
    with serve(server_s3, SERVER_LOG) as base, worker(server_s3):
        yield base


@contextlib.contextmanager
def worker(server_s3: S3Service) -> Iterator[None]:
    """`python -m app worker` against the test database and bucket, stopped afterwards."""
    log_path = SERVER_LOG.with_name("browser-worker.log")
    process = start_worker("browser-worker", _env(server_s3), log_path, session=False)
    try:
        yield
    finally:
        _stop(process)


@pytest.fixture(scope="package")  # its worker must not outlive the browser tests
def second_server(server_s3: S3Service, live_server: str) -> Iterator[str]:
    """A second app process on the same database and bucket."""
    with serve(server_s3, SERVER_LOG.with_name("browser-server-2.log")) as base:
        yield base


# The live server's worker finishing the previous test's jobs (previews at nice 19): 30 s was too
# short on a box at load 9; the test's own 120 s still bounds setup and call together.
IDLE_TIMEOUT_S = 60.0


@pytest.fixture
async def database(pg_engine: Engine) -> AsyncIterator[Engine]:
    """As tests/conftest.py's, once the live server's worker has ended the jobs the last test
    left running: the wipe forgets them, but a preview still being made would land in the
    bucket this test is about to empty (and be listed by its sync)."""
    db.install_engine(pg_engine)

    async def jobs_running() -> int:
        return int(
            await db.fetchval("SELECT count(*) FROM procrastinate_jobs WHERE status = 'doing'")
        )

    await eventually(jobs_running, 0, IDLE_TIMEOUT_S)
    await wipe(pg_engine)
    yield pg_engine


@pytest.fixture
async def app_data(database: Any, server_s3: S3Service, live_server: str) -> Bucket:
    """A wiped database with the admin `tester`, and the server's bucket emptied."""
    await empty_bucket(server_s3)
    await seed_admin(USERNAME, EMAIL, PASSWORD)
    return Bucket(server_s3)


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Browser]:
    pw = await async_playwright().start()
    try:
        chromium = await launch_chromium(pw)
        try:
            yield chromium
        finally:
            await bounded(chromium.close(), "closing Chromium")
    finally:
        if not await bounded(pw.stop(), "stopping the Playwright driver"):
            kill_playwright_leftovers()


@pytest.fixture
async def ui(browser: Browser, live_server: str, app_data: Bucket) -> AsyncIterator[UI]:
    """A fresh context and page; fails the test on JS errors, console errors and dialogs."""
    async with open_ui(browser, live_server, viewport={"width": 1280, "height": 900}) as wrapper:
        yield wrapper
