"""The suite's own wipe (tests/conftest.py) against a live server's worker deferring its periodic
jobs meanwhile: a job written between the wipe's probe and its TRUNCATE outlived the wipe, took
an id again after the RESTART and killed the worker's deferrer (six live browser tests failed in
one full run); the TRUNCATE alone also deadlocked with the defer's own locks."""

from __future__ import annotations

import asyncio

import asyncpg

from domain.platform.db import Engine
from tests.conftest import TEST_DB, wipe

DEFER = (
    "SELECT procrastinate_defer_periodic_job_v2("
    "'default', NULL, NULL, 'tick', 0, 'race', $1, '{}'::jsonb)"
)


async def test_wipes_beside_a_deferring_worker_neither_deadlock_nor_reuse_a_job_id(
    pg_engine: Engine,
) -> None:
    connection = await asyncpg.connect(TEST_DB)
    errors: list[str] = []
    stop = asyncio.Event()

    async def deferrer() -> None:
        timestamp = 0
        while not stop.is_set():
            timestamp += 1
            try:
                await connection.fetchval(DEFER, timestamp)
            except asyncpg.PostgresError as exc:
                errors.append(repr(exc))

    task = asyncio.create_task(deferrer())
    try:
        for _ in range(50):
            await wipe(pg_engine)
            await asyncio.sleep(0.001)
    finally:
        stop.set()
        await asyncio.wait_for(task, 10)
        await connection.close()
    assert not errors, f"the worker's defers failed beside the wipes: {errors[:3]}"
    await wipe(pg_engine)
