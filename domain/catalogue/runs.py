"""Sync run records: single flight, the run ledger, progress, cancellation, stale runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Self

from piccolo.query.functions.aggregate import Count

from domain.catalogue import sql
from domain.catalogue.plan_json import PlanJSON
from domain.catalogue.run_stats import Counters
from domain.errors import Conflict
from domain.platform import db
from domain.platform.db import now
from domain.platform.listing import ListSpec
from domain.platform.tables import SyncRun as Runs

STALE_AFTER = timedelta(seconds=60)
ACTIVE = ("queued", "running")
JSON = ("plan", "events")  # sync_runs' JSON columns (asyncpg hands them over as text)


# Not frozen: it inherits the counters (defined once) from the mutable Counters.
@dataclass(kw_only=True)
class Run(Counters, db.FromRow):
    """One sync run as stored: what pages, the CLI and the workers read about it."""

    id: int
    scope: str  # "all", or one model folder
    status: str
    phase: str
    dry_run: bool
    kind: str  # "sync", or "confirm" (applies a held plan)
    triggered_by: str
    started_at: datetime
    finished_at: datetime | None
    heartbeat_at: datetime
    error: str | None
    cancel_requested: bool
    plan: PlanJSON | None  # a held deletion plan: DeletionPlan.as_json()
    confirms: int | None  # the held run a "confirm" run applies
    superseded_by: int | None
    job_id: int | None
    events: list[dict[str, str]]  # the ledger: ledger_entry()s

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> Self:
        decoded = {k: json.loads(v) if isinstance(v := row[k], str) else v for k in JSON}
        return super().from_row({**row, **decoded})

    @property
    def duration_s(self) -> float:
        """Seconds from start to end (or to the last heartbeat, while it runs)."""
        return ((self.finished_at or self.heartbeat_at) - self.started_at).total_seconds()

    @property
    def active(self) -> bool:
        return self.status in ACTIVE


class SyncBusy(Conflict):
    """Another sync is queued or running; `run` is that run."""

    def __init__(self, run: Run | None) -> None:
        self.run = run
        if run:
            super().__init__(
                f"sync run #{run.id} ({run.scope}) is already {run.status} since "
                f"{run.started_at:%Y-%m-%d %H:%M:%S} UTC; wait for it or cancel it."
            )
        else:
            super().__init__("another sync is already running; wait for it or cancel it.")


_last_stale_check = 0.0


async def mark_stale(force: bool = True) -> int:
    """Runs whose process stopped heartbeating become failed, so they no longer block.

    Page views call it with force=False: then it runs at most every few seconds per process.
    """
    global _last_stale_check
    if not force and time.monotonic() - _last_stale_check < 5:
        return 0
    _last_stale_check = time.monotonic()
    rows = await db.select(
        Runs.update(
            {
                Runs.status: "failed",
                Runs.finished_at: now(),
                Runs.phase: "done",
                Runs.error: "the process running this sync stopped (no heartbeat for 60 s)",
            }
        )
        .where((Runs.status == "running") & (Runs.heartbeat_at < now() - STALE_AFTER))
        .returning(Runs.id)
    )
    return len(rows)


async def set_job(run_id: int, job_id: int) -> None:
    await Runs.update({Runs.job_id: job_id}).where(Runs.id == run_id)


async def log_event(run_id: int, text: str) -> None:
    """Add a line to the run's ledger (what happened, when, on which worker)."""
    await sql.log_event(run_id, json.dumps([ledger_entry(text)]))


def ledger_entry(text: str) -> dict[str, str]:
    return {"at": now().isoformat(timespec="seconds"), "text": text}


async def request_cancel(run_id: int) -> str | None:
    """Cancel a run: a queued one ends at once, a running one stops at its next model.

    Returns the run's status before the request, or None if it was not active.
    """
    before = await sql.request_cancel(run_id, now(), list(ACTIVE))
    if run_id in _cancelled:
        _cancelled[run_id].set()
    notify(run_id)
    return before


async def get(run_id: int) -> Run | None:
    row = await db.first(Runs.select().where(Runs.id == run_id))
    return Run.from_row(row) if row else None


async def current() -> Run | None:
    """The run queued or going now, if any (stale ones are marked failed first)."""
    await mark_stale(force=False)
    row = await sql.current(list(ACTIVE))
    return Run.from_row(row) if row else None


LIST = ListSpec(sizes=(25,), paging="older")  # the runs list: ?before= (an id), newest first


async def recent(limit: int = 20, before_id: int | None = None) -> list[Run]:
    await mark_stale(force=False)
    query = Runs.select().order_by(Runs.id, ascending=False).limit(limit)
    if before_id is not None:
        query = query.where(Runs.id < before_id)
    return [Run.from_row(r) for r in await db.select(query)]


# In-process wake-ups, so a subscriber in this process sees changes at once, and a run worked
# on here stops at its next model when cancelled here.
_cancelled: dict[int, asyncio.Event] = {}
_waiters: dict[int, set[asyncio.Event]] = {}


def track(run_id: int, cancelled: asyncio.Event) -> None:
    _cancelled[run_id] = cancelled


def untrack(run_id: int) -> None:
    _cancelled.pop(run_id, None)


def notify(run_id: int) -> None:
    for event in _waiters.get(run_id, ()):
        event.set()


async def subscribe(run_id: int, interval: float = 0.5) -> AsyncIterator[Run]:
    """Yield the run's row whenever it changes, until it finishes (works across processes)."""
    wake = asyncio.Event()
    _waiters.setdefault(run_id, set()).add(wake)
    last: tuple[object, ...] | None = None
    try:
        while True:
            run = await get(run_id)
            if run is None:
                return
            snapshot = (run.status, run.phase, *run.counters().values())
            if snapshot != last:
                last = snapshot
                yield run
            if not run.active:
                return
            if run.status == "running" and run.heartbeat_at < now() - STALE_AFTER:
                await mark_stale()
                continue
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=interval)
    finally:
        _waiters[run_id].discard(wake)
        if not _waiters[run_id]:
            del _waiters[run_id]


@dataclass(frozen=True)
class RunTotals:
    """Runs by status, and the sums /metrics exposes (durations and keys of finished syncs)."""

    by_status: dict[str, int]
    seconds: float
    keys: int
    finished: int
    last_seconds: float
    last_keys: int


async def totals() -> RunTotals:
    """Runs by status, plus the sums /metrics exposes (durations and keys of finished runs)."""
    by_status = await db.select(Runs.select(Runs.status, Count(alias="n")).group_by(Runs.status))
    sums, last = await sql.totals()
    return RunTotals(
        by_status={r["status"]: int(r["n"]) for r in by_status},
        seconds=float(sums["seconds"]),
        keys=int(sums["keys"]),
        finished=int(sums["finished"]),
        last_seconds=float(last["seconds"]) if last else 0.0,
        last_keys=int(last["keys_listed"]) if last else 0,
    )
