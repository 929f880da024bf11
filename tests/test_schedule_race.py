"""Several workers reach the same due schedule tick at once: the tick is claimed by compare and
set, so exactly one of them starts the scheduled sync and none records a skipped one."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from domain.catalogue import jobs as catalogue_jobs
from domain.catalogue import schedule
from tests.conftest import rows

RACERS = 4


async def scheduled_runs() -> list[str]:
    found = await rows("SELECT status FROM sync_runs WHERE triggered_by = 'schedule' ORDER BY id")
    return [r["status"] for r in found]


async def test_workers_racing_for_one_due_tick_start_exactly_one_scheduled_sync(
    admin_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert admin_app.state["runtime"]  # its job queue is open; no worker takes the run
    await schedule.save("every 1m", "tester")
    await rows("UPDATE sync_schedule SET updated_at = now() - interval '5 minutes'")  # due
    # Every racer has read the schedule (the tick it saw) before any of them tries to claim it:
    # the window a second worker's tick falls into, made certain.
    everyone_read = asyncio.Barrier(RACERS)
    read = schedule.load

    async def read_then_wait() -> schedule.Schedule:
        seen = await read()
        await asyncio.wait_for(everyone_read.wait(), 10)
        return seen

    claims: list[object] = []
    take = schedule.take_due_tick

    async def take_and_record() -> object:
        claims.append(await take())
        return claims[-1]

    monkeypatch.setattr(schedule, "load", read_then_wait)
    monkeypatch.setattr(schedule, "take_due_tick", take_and_record)
    ticks = asyncio.gather(*(catalogue_jobs.schedule_tick() for _ in range(RACERS)))
    await asyncio.wait_for(ticks, 30)
    claimed = [c for c in claims if c is not None]
    assert len(claims) == RACERS
    assert len(claimed) == 1, f"{len(claimed)} of {RACERS} workers claimed the same tick"
    assert await scheduled_runs() == ["queued"], "not exactly one scheduled sync was started"
    # The tick is taken: the next round of ticks, at once, finds nothing due.
    monkeypatch.setattr(schedule, "load", read)
    await asyncio.wait_for(
        asyncio.gather(*(catalogue_jobs.schedule_tick() for _ in range(RACERS))), 30
    )
    assert await scheduled_runs() == ["queued"], "a claimed tick fired again"
