"""A sync keeps the planner's statistics up with the tables it grows (table_stats): statistics
taken on emptied tables had made every foreign-key check of a first sync scan the table it
points at, reading millions of rows a sync."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from typing import Any

import asyncpg
import pytest

from domain.catalogue import model_sync
from domain.platform import table_stats
from domain.platform.table_stats import FreshStatistics
from tests.conftest import Bucket, count, rows

TABLES = model_sync.statistics.tables


async def analyzed_rows(table: str) -> float:
    found = await rows("SELECT reltuples FROM pg_class WHERE oid = $1::regclass", table)
    return float(found[0]["reltuples"])


@pytest.fixture
async def emptied_and_analyzed(
    database: Any, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[None]:
    """The staged tables empty and analyzed so (a cleared catalogue after autovacuum), with
    autovacuum kept off them so only the sync can refresh their statistics; the sync's count
    of rows written starts at 0, and it looks every 200 rows."""
    monkeypatch.setattr(model_sync, "statistics", FreshStatistics(TABLES, check_every=200))
    for table in TABLES:
        await rows(f"ALTER TABLE {table} SET (autovacuum_enabled = false)")
        await rows(f"ANALYZE {table}")
    try:
        yield
    finally:
        for table in TABLES:
            await rows(f"ALTER TABLE {table} RESET (autovacuum_enabled)")


async def test_a_first_sync_into_emptied_analyzed_tables_refreshes_their_statistics(
    emptied_and_analyzed: None, bucket: Bucket
) -> None:
    assert await analyzed_rows("whitelabel_media") == 0
    await bucket.put(
        *(f"Model{m:02}/Post{p}/{i}.jpg" for m in range(12) for p in range(10) for i in range(10))
    )
    assert (await bucket.sync()).status == "succeeded"
    media = await count("whitelabel_media")
    assert media == 1_200
    seen = await analyzed_rows("whitelabel_media")
    # Analyzed as the table passed each doubling, until its statistics said it was past tiny.
    assert seen >= 200, f"the planner believes {seen} media rows of {media}"


async def test_stale_statistics_are_refreshed_by_one_process_at_a_time_then_left_alone(
    emptied_and_analyzed: None,
    bucket: Bucket,
    settings: Any,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(model_sync.statistics, "check_every", 10**9)  # the sync never looks
    await bucket.put(
        *(f"Model{m:02}/Post{p}/{i}.jpg" for m in range(10) for p in range(10) for i in range(10))
    )
    assert (await bucket.sync()).status == "succeeded"  # 1,000 media rows
    assert "whitelabel_media" in await table_stats.stale_tables(TABLES)  # 32 pages, analyzed at 0
    holder = await asyncpg.connect(settings.database_url)
    try:  # another process analyzing: this one goes on writing
        assert await holder.fetchval("SELECT pg_try_advisory_lock($1)", table_stats.ANALYZING)
        assert await table_stats.analyze_stale(TABLES) == []
    finally:
        await holder.close()
    with caplog.at_level(logging.INFO, logger="creatorflix.db"):
        assert "whitelabel_media" in await table_stats.analyze_stale(TABLES)
    logged = [r.getMessage() for r in caplog.records if r.name == "creatorflix.db"]
    assert any(  # the operator's log names what was analyzed
        m.startswith("statistics refreshed for [") and "'whitelabel_media'" in m for m in logged
    ), logged
    assert await analyzed_rows("whitelabel_media") == 1_000
    assert await table_stats.stale_tables(TABLES) == []  # current now: nothing to do
    assert await table_stats.analyze_stale(TABLES) == []


async def test_statistics_that_say_a_table_is_past_tiny_are_left_to_autovacuum(
    emptied_and_analyzed: None, bucket: Bucket, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(model_sync.statistics, "check_every", 10**9)  # the sync never looks
    batch = 0

    async def sync_more() -> None:
        nonlocal batch
        keys = (
            f"Model{batch:02}{m}/Post{p}/{i}.jpg"
            for m in range(10)
            for p in range(10)
            for i in range(10)
        )
        await bucket.put(*keys)
        assert (await bucket.sync()).status == "succeeded"
        batch += 1

    await sync_more()
    assert "whitelabel_media" in await table_stats.analyze_stale(TABLES)
    for _ in range(6):  # grown past twice its analyzed size (concurrent COPYs extend by runs)
        await sync_more()
        if "whitelabel_media" in await table_stats.stale_tables(TABLES):
            break
    else:
        raise AssertionError("the media table never grew past twice its analyzed size")
    analyzed = (await rows("SELECT relpages FROM pg_class WHERE relname = 'whitelabel_media'"))[0]
    monkeypatch.setattr(table_stats, "TINY", analyzed["relpages"])  # as if it were past tiny
    assert "whitelabel_media" not in await table_stats.stale_tables(TABLES)


@pytest.mark.parametrize(
    ("analyzed", "pages", "stale"),
    [
        (0, 16, False),  # twice SMALL: never worth it
        (0, 17, True),
        (8, 17, True),
        (20, 40, False),  # exactly twice its analyzed size: not yet
        (20, 41, True),
        (127, 1_000, True),
        (128, 100_000, False),  # statistics past tiny: left to autovacuum
    ],
)
def test_statistics_are_stale_only_past_twice_their_size_while_they_call_a_table_tiny(
    analyzed: int, pages: int, stale: bool
) -> None:
    assert table_stats.is_stale(analyzed, pages) is stale


async def test_the_statistics_are_looked_at_once_every_so_many_rows_written(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    looked: list[tuple[str, ...]] = []

    async def analyze(tables: tuple[str, ...]) -> list[str]:
        looked.append(tables)
        return ["t"]

    monkeypatch.setattr(table_stats, "analyze_stale", analyze)
    keeper = FreshStatistics(("t",), check_every=3)
    assert await keeper.wrote(2) == [] and looked == []
    assert await keeper.wrote(1) == ["t"] and looked == [("t",)]  # the third row: a look
    assert await keeper.wrote(2) == [] and len(looked) == 1  # counted afresh from there
    assert await keeper.wrote(1) == ["t"] and len(looked) == 2
