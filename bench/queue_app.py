"""The app under the queue benches: `python -m app` (web + WORKERS worker processes) on
DATABASE_URL with bench/store.py as its bucket, started and stopped through harness/."""

from __future__ import annotations

import argparse
import contextlib
import os
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import asyncpg

from bench.measure import ServerCpu, reset_tables
from bench.queue_load import CpuMeter
from bench.report import say
from bench.store import StoreProcess
from domain.accounts.admins import upsert_admin
from domain.platform import db
from harness.app import ServedLater, start_app
from harness.ports import free_port
from harness.processes import stop_group

USER, PASSWORD = "bench", "bench-password-123"
APP_ENV_DROP = ("DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY", "WORKERS", "PORT", "DATA_DIR")


def database_url(make_target: str) -> str:
    """DATABASE_URL, which tests/run.py --only-db sets; SystemExit if it is not set."""
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit(f"DATABASE_URL is not set: run through `make {make_target}`")
    return url


def start_store(args: argparse.Namespace) -> tuple[StoreProcess, dict[str, Any]]:
    """bench/store.py serving the bucket `args` describe (its log in args.out), and what it
    said when it was ready."""
    args.out.mkdir(parents=True, exist_ok=True)
    store = StoreProcess(args, args.out / "store.log")
    return store, store.start()


class AppProcess(ServedLater):
    """`python -m app` (web + WORKERS worker processes) in a session of its own."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.log_path = log_path

    def start(self) -> AppProcess:
        self._running(start_app("python -m app", self.env, self.log_path))
        return self

    async def wait_ready(self, within: float = 180.0, interval: float = 0.1) -> float:
        """Seconds from the start until GET /login first answers 200."""
        assert self.server is not None, "not started"
        return await self.server.wait_answering("/login", within, interval=interval, request_s=5.0)

    def stop(self, timeout: float = 40.0) -> None:
        """SIGTERM (the app stops its workers and embedded services), then the whole group."""
        if self.server is not None:
            told = lambda m: say(f"  (python -m app {m})")  # noqa: E731
            stop_group(self.server.popen, timeout, leader_only=True, reap=5.0, said=told)


def app_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in APP_ENV_DROP and not k.startswith(("DO_SPACES_", "SYNC_", "EMBEDDED_"))
    }
    env.update(extra)
    return env


def bucket_env(
    store: StoreProcess, workers: int, data_dir: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = app_env(
        DATABASE_URL=os.environ["DATABASE_URL"],
        DO_SPACES_ENDPOINT=store.endpoint,
        DO_SPACES_REGION="us-east-1",
        DO_SPACES_KEY="bench",
        DO_SPACES_SECRET="bench-secret",
        DO_SPACES_BUCKET=str(store.info["bucket"]),
        SECRET_KEY="q" * 64,
        WORKERS=str(workers),
        PORT=str(free_port()),
        EMBEDDED_S3_PORT=str(free_port()),
        DATA_DIR=str(data_dir),
        MEDIA_PREVIEWS="off",  # the store serves listings, not files: syncs are measured
    )
    env.update(extra or {})
    return env


async def prepare_database(url: str) -> None:
    """Migrate (as the app would at start) and create the bench admin, from this process."""
    engine = db.make_engine(url)
    db.install_engine(engine)
    await db.start(engine, pool_size=2)
    try:
        await db.migrate()
        await upsert_admin(USER, "bench@example.com", PASSWORD)
    finally:
        await db.stop(engine)


async def fresh_tables(conn: asyncpg.Connection) -> None:
    await reset_tables(conn)
    await conn.execute("DELETE FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")


@contextlib.asynccontextmanager
async def measured_database(
    url: str, store: StoreProcess
) -> AsyncIterator[tuple[asyncpg.Connection, CpuMeter]]:
    """The database migrated with the bench admin, a connection to it and a CPU meter over
    PostgreSQL and the store, for the block; then the connection closed and the store stopped
    (also if the block, or getting there, failed)."""
    conn: asyncpg.Connection | None = None
    try:
        await prepare_database(url)
        conn = await asyncpg.connect(url)
        assert store.proc is not None, "the store is not started"
        yield conn, CpuMeter(await ServerCpu.find(conn), store.proc.pid)
    finally:
        if conn is not None:
            await conn.close()
        store.stop()
