"""Connections outside the pool, for a session-level lock held for a whole sync run.

Opening one costs the server a backend start (about 13 ms on a busy 2-core machine); a sync
run takes one, and the test suite runs thousands of runs. So the one given back is kept, idle,
for the next run in this process: at most one per engine, closed with the engine.
"""

from __future__ import annotations

import asyncio
import contextlib

import asyncpg
from piccolo.engine import PostgresEngine

SPARES: dict[int, asyncpg.Connection] = {}  # id(engine) -> its idle connection
TIMEOUT_S = 5.0  # a spare that does not answer this fast is dropped, not waited on


async def take(engine: PostgresEngine) -> asyncpg.Connection:
    """A connection of its own: the spare if it still answers, else a new one."""
    spare = SPARES.pop(id(engine), None)
    if spare is not None:
        try:
            await asyncio.wait_for(spare.execute("SELECT 1"), TIMEOUT_S)
            return spare
        except Exception:  # noqa: BLE001 - killed or gone while idle: open another
            await _drop(spare)
    connection: asyncpg.Connection = await asyncpg.connect(engine.config["dsn"])
    return connection


async def give_back(engine: PostgresEngine, connection: asyncpg.Connection) -> None:
    """Let go of every session lock it holds, then keep it as the spare; a connection that
    cannot do that at once is closed (closing lets go of its locks too)."""
    try:
        # raw: session-level advisory locks are the connection's; this ends all of them
        await asyncio.wait_for(connection.execute("SELECT pg_advisory_unlock_all()"), TIMEOUT_S)
    except Exception:  # noqa: BLE001 - killed, broken or stuck: it is not kept
        await _drop(connection)
        return
    old = SPARES.pop(id(engine), None)
    SPARES[id(engine)] = connection
    if old is not None:
        await _drop(old)


async def close(engine: PostgresEngine) -> None:
    """Drop the engine's spare (when the engine stops)."""
    spare = SPARES.pop(id(engine), None)
    if spare is not None:
        await _drop(spare)


async def _drop(connection: asyncpg.Connection) -> None:
    """Close it, waiting for the server to see it go (its locks with it); cut it if stuck."""
    try:
        await asyncio.wait_for(connection.close(), TIMEOUT_S)
    except Exception:  # noqa: BLE001 - already broken: cutting the socket is all that is left
        with contextlib.suppress(Exception):
            connection.terminate()
