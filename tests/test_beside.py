"""A read started beside a page's own (loops.beside): its answer reaches the page, and when the
page fails it is cancelled rather than left running on a pooled connection."""

from __future__ import annotations

import asyncio

import pytest

from domain.platform.loops import beside


async def started_within(started: asyncio.Event, seconds: float = 5) -> None:
    try:
        await asyncio.wait_for(started.wait(), seconds)
    except TimeoutError:
        raise AssertionError(
            f"the read beside the block had not started after {seconds} s"
        ) from None


async def test_a_read_beside_the_block_runs_while_the_block_does_and_gives_its_answer() -> None:
    started = asyncio.Event()

    async def count() -> int:
        started.set()
        return 7

    async with beside(count()) as counting:
        await started_within(started)  # running before the block awaits it
        assert await counting == 7


async def test_a_read_beside_a_failing_block_is_cancelled_not_left_running() -> None:
    started, release = asyncio.Event(), asyncio.Event()
    ended: list[str] = []

    async def count() -> int:
        started.set()
        try:
            await release.wait()
        except asyncio.CancelledError:
            ended.append("cancelled")
            raise
        ended.append("finished")
        return 1

    with pytest.raises(LookupError, match="the page's query failed"):
        async with beside(count()):
            await started_within(started)
            raise LookupError("the page's query failed")
    assert ended == ["cancelled"], f"the read beside the failed block ended as {ended}"
