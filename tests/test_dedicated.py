"""The sync lock's connection outside the pool (domain/platform/dedicated.py), against
PostgreSQL: the next run in a process starts on the connection the last one kept, whichever
way the last claim ended; at most one is kept per engine; one that broke is not kept; and
stopping the engine closes it."""

from __future__ import annotations

import asyncio

import asyncpg
import pytest
from piccolo.engine import PostgresEngine as Engine

from domain.catalogue.run_handle import claim, finish
from domain.catalogue.runs import SyncBusy
from domain.catalogue.sql import ADVISORY_LOCK_KEY
from domain.platform import db, dedicated
from tests.conftest import rows
from tests.test_run_handle_rules import claimed, recorded, recorded_beside


def kept(engine: Engine) -> asyncpg.Connection | None:
    return dedicated.SPARES.get(id(engine))


async def test_each_run_starts_on_the_backend_the_last_run_kept(database: Engine) -> None:
    first = await claimed(await recorded())
    assert first._lock_conn is not None
    backend = first._lock_conn.get_server_pid()
    await finish(first, "succeeded")
    assert (spare := kept(database)) is not None and spare.get_server_pid() == backend
    second = await claimed(await recorded_beside())
    assert second._lock_conn is not None
    assert second._lock_conn.get_server_pid() == backend, "a new backend was started"
    await finish(second, "succeeded")


async def test_a_claim_refused_or_timed_out_keeps_its_connection_for_the_next(
    database: Engine,
) -> None:
    done = await claimed(await recorded())
    await finish(done, "succeeded")
    assert (spare := kept(database)) is not None
    backend = spare.get_server_pid()
    assert await claim(done.id, "w1") is None  # the run has ended: refused
    assert (spare := kept(database)) is not None and spare.get_server_pid() == backend
    other = await asyncpg.connect(database.config["dsn"])
    try:  # another worker holds the sync lock: the claim gives up
        assert await other.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY)
        with pytest.raises(SyncBusy):
            await claim(await recorded_beside(), "w1", wait=0)
    finally:
        await other.close()
    assert (spare := kept(database)) is not None and spare.get_server_pid() == backend


async def test_one_connection_is_kept_per_engine_and_the_one_it_replaces_is_closed(
    database: Engine,
) -> None:
    one = await dedicated.take(database)
    two = await dedicated.take(database)
    assert one.get_server_pid() != two.get_server_pid()
    await dedicated.give_back(database, one)
    await dedicated.give_back(database, two)
    assert kept(database) is two
    assert one.is_closed(), "the connection it replaced was left open"


async def test_a_connection_killed_before_it_is_given_back_is_closed_not_kept(
    database: Engine,
) -> None:
    connection = await dedicated.take(database)
    await rows("SELECT pg_terminate_backend($1)", connection.get_server_pid())
    await dedicated.give_back(database, connection)
    assert kept(database) is None
    assert connection.is_closed()


async def test_stopping_the_engine_closes_the_connection_it_kept(database: Engine) -> None:
    engine = db.make_engine(database.config["dsn"])
    await db.start(engine, pool_size=2)
    connection = await dedicated.take(engine)
    await dedicated.give_back(engine, connection)
    assert kept(engine) is connection and kept(database) is not connection
    await db.stop(engine)
    assert kept(engine) is None
    assert connection.is_closed(), "the kept connection outlived its engine"


class Stuck:
    """A connection whose server stopped answering: every statement and the close hang."""

    def __init__(self) -> None:
        self.cut = False

    async def execute(self, query: str) -> None:
        await asyncio.Event().wait()

    async def close(self) -> None:
        await asyncio.Event().wait()

    def terminate(self) -> None:
        self.cut = True


BOUND_S = 5.0  # each call below must return well within this (their own bound is 0.1 s)


async def test_a_stuck_connection_given_back_is_cut_not_kept_and_the_release_returns(
    database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dedicated, "TIMEOUT_S", 0.1)
    stuck = Stuck()
    try:
        await asyncio.wait_for(dedicated.give_back(database, stuck), BOUND_S)  # type: ignore[arg-type]
    except TimeoutError:
        raise AssertionError(f"giving back a stuck connection hung for {BOUND_S} s") from None
    assert stuck.cut, "the stuck connection was left open"
    assert kept(database) is not stuck


async def test_a_kept_connection_that_stopped_answering_is_cut_and_replaced(
    database: Engine, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(dedicated, "TIMEOUT_S", 0.1)
    stuck = Stuck()
    monkeypatch.setitem(dedicated.SPARES, id(database), stuck)
    try:
        fresh = await asyncio.wait_for(dedicated.take(database), BOUND_S)
    except TimeoutError:
        raise AssertionError(f"taking past a stuck spare hung for {BOUND_S} s") from None
    try:
        assert fresh is not stuck and await fresh.fetchval("SELECT 1") == 1
        assert stuck.cut, "the stuck spare was left open"
    finally:
        await dedicated.give_back(database, fresh)
