"""The module-level limits (model writes at once, renders at once) hold in every event loop a
process runs, one after another: a plain asyncio.Semaphore binds to the first loop that waits
on it, and a sync in the next loop then failed its models ("bound to a different event loop")."""

from __future__ import annotations

import asyncio

from domain.catalogue import model_sync
from domain.media import derive, sandbox
from domain.platform.loops import LoopSemaphore


def contend(limit: LoopSemaphore | asyncio.Semaphore, holders: int) -> int:
    """Run `holders` tasks through `limit` in a new event loop; the most inside at once."""
    inside = most = 0

    async def hold() -> None:
        nonlocal inside, most
        async with limit:
            inside += 1
            most = max(most, inside)
            await asyncio.sleep(0.01)
            inside -= 1

    async def main() -> None:
        await asyncio.wait_for(asyncio.gather(*(hold() for _ in range(holders))), 10)

    asyncio.run(main())
    return most


def test_the_write_and_render_limits_hold_in_each_new_event_loop() -> None:
    limits = [
        (model_sync._write_slots, model_sync.WRITE_SLOTS),
        (derive.RENDERS, sandbox.PROCESSES),
    ]
    for limit, at_once in limits:
        for _ in range(3):  # three loops, one after another, each waiting on the limit
            assert contend(limit, at_once * 3) == at_once


def test_a_loop_semaphore_made_now_lets_its_value_in_at_once_and_holds_the_next() -> None:
    assert contend(LoopSemaphore(2), 5) == 2
