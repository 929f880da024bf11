"""Browser fixtures: the real app in a uvicorn subprocess, driven by Debian's headless Chromium.

One server per session (all its state is in PostgreSQL and one S3 bucket); every test gets a
wiped database with one admin, an emptied bucket, and a fresh browser context.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from piccolo.engine import Engine
from playwright.async_api import Browser, async_playwright, expect

from domain.platform import db
from domain.platform.s3 import S3Service
from domain.platform.settings import S3Settings, Settings
from tests.browser.support import EMAIL, PASSWORD, ROOT, UI, USERNAME, empty_bucket
from tests.conftest import Bucket, bounded, eventually, seed_admin, wipe

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-gpu",
    "--no-first-run",
    "--disable-sync",
]
SERVER_LOG = ROOT / "test-output" / "browser-server.log"
STARTUP_TIMEOUT_S = 30.0

expect.set_options(timeout=10_000)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _python() -> str:
    venv = ROOT / ".venv" / "bin" / "python"
    return str(venv) if venv.exists() else sys.executable


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
    port = _free_port()
    env = _env(server_s3)
    log_path.parent.mkdir(parents=True, exist_ok=True)
    base = f"http://127.0.0.1:{port}"
    command = [
        _python(),
        "-m",
        "uvicorn",
        "app:create_app",
        "--factory",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
    ]
    with log_path.open("wb") as log:
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        try:
            _wait_healthy(proc, base)
            yield base
        finally:
            _stop(proc)


def _env(server_s3: S3Service) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DO_SPACES_")}
    env.update(
        DATABASE_URL=os.environ["TEST_DATABASE_URL"],
        DO_SPACES_ENDPOINT=server_s3.settings.endpoint,
        DO_SPACES_KEY="test",
        DO_SPACES_SECRET="test",
        DO_SPACES_BUCKET=server_s3.settings.bucket,
        SECRET_KEY="x" * 64,
    )
    return env


def _stop(proc: subprocess.Popen[bytes]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=5)


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
    env = _env(server_s3)
    log_path = SERVER_LOG.with_name("browser-worker.log")
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [_python(), "-m", "app", "worker"],
            cwd=ROOT,
            env={**env, "WORKER_NAME": "browser-worker"},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        try:
            yield
        finally:
            _stop(proc)


@pytest.fixture(scope="package")  # its worker must not outlive the browser tests
def second_server(server_s3: S3Service, live_server: str) -> Iterator[str]:
    """A second app process on the same database and bucket."""
    with serve(server_s3, SERVER_LOG.with_name("browser-server-2.log")) as base:
        yield base


def _wait_healthy(proc: subprocess.Popen[bytes], base: str) -> None:
    deadline = time.monotonic() + STARTUP_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            pytest.fail(
                f"the app exited with {proc.returncode} at start; see {SERVER_LOG}:\n"
                + SERVER_LOG.read_text(errors="replace")[-3000:]
            )
        try:
            if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    pytest.fail(
        f"the app did not answer {base}/healthz within {STARTUP_TIMEOUT_S} s; see {SERVER_LOG}"
    )


IDLE_TIMEOUT_S = 30.0


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
        chromium = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            await bounded(chromium.close(), "closing Chromium")
    finally:
        if not await bounded(pw.stop(), "stopping the Playwright driver"):
            _kill_descendants(("playwright", CHROMIUM))


def _kill_descendants(markers: tuple[str, ...]) -> None:
    """SIGKILL this process's descendants whose command line holds one of `markers`."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, IndexError, ValueError):
            ppid = int(stat.read_text().rsplit(")", 1)[1].split()[1])
            children.setdefault(ppid, []).append(int(stat.parent.name))
    todo, found = [os.getpid()], []
    while todo:
        for child in children.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    for pid in found:
        with contextlib.suppress(OSError):
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
            if any(marker in cmdline for marker in markers):
                os.kill(pid, signal.SIGKILL)


@pytest.fixture
async def ui(browser: Browser, live_server: str, app_data: Bucket) -> AsyncIterator[UI]:
    """A fresh context and page; fails the test on JS errors, console errors and dialogs."""
    context = await browser.new_context(
        viewport={"width": 1280, "height": 900}, locale="en-GB", timezone_id="UTC"
    )
    context.set_default_timeout(10_000)
    page = await context.new_page()
    wrapper = UI(page, live_server)
    try:
        yield wrapper
    finally:
        await bounded(context.close(), "closing the browser context")
    if wrapper.errors:
        pytest.fail("the browser reported problems:\n" + "\n".join(wrapper.errors))
