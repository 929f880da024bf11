"""A worker's hold on a sync run: claim it (taking the sync lock), flush progress, finish it
(superseding older held plans), release the lock."""

from __future__ import annotations

import asyncio
import json
import time
from dataclasses import dataclass

import asyncpg

from domain.catalogue import sql
from domain.catalogue.plan_json import PlanJSON
from domain.catalogue.run_stats import COUNTERS, RunStats
from domain.catalogue.runs import (
    ACTIVE,
    SyncBusy,
    current,
    get,
    ledger_entry,
    notify,
)
from domain.platform import db, dedicated
from domain.platform.db import now


@dataclass
class RunHandle:
    id: int
    scope: str
    stats: RunStats
    cancelled: asyncio.Event
    _lock_conn: asyncpg.Connection | None = None

    async def flush(self) -> None:
        """Write progress and heartbeat; pick up a cancel request made from any process."""
        args = (self.id, self.stats.phase, *self.stats.counters().values(), now())
        flag = None
        if self._lock_conn is not None:  # its own connection: a busy pool never delays a beat
            try:
                flag = await sql.flush_run(self._lock_conn, COUNTERS, args)
            # Killed: the pool's connections will do from now on. A kill that reached the
            # client half-read (its error in, its socket not yet closed) is InternalClientError.
            except (
                asyncpg.PostgresConnectionError,
                asyncpg.InterfaceError,
                asyncpg.InternalClientError,
                OSError,
            ):
                self._lock_conn = None
        if self._lock_conn is None:
            async with db.transaction() as tx:
                flag = await sql.flush_run(tx, COUNTERS, args)
        if flag:
            self.cancelled.set()
        notify(self.id)


async def claim(run_id: int, worker: str, *, wait: float = 30.0) -> RunHandle | None:
    """Take the sync lock and mark a queued (or interrupted) run running on this worker.

    Returns None when the run has already ended (cancelled while queued, or marked failed).
    """
    run = await get(run_id)
    if run is None or run.status not in ACTIVE:
        return None
    lock_conn = await dedicated.take(db.current_engine())
    try:
        deadline = time.monotonic() + wait
        while not await sql.try_sync_lock(lock_conn):
            if time.monotonic() > deadline:
                raise SyncBusy(await current())
            await asyncio.sleep(0.5)
        resumed = run.status == "running"
        text = (
            f"resumed on {worker}: the worker running it stopped"
            if resumed
            else f"started on {worker}"
        )
        async with db.transaction() as tx:
            # We hold the lock: any other "running" row belongs to a process that is gone.
            await sql.fail_others(tx, now(), run_id)
            claimed = await sql.claim_run(
                tx, run_id, now(), json.dumps([ledger_entry(text)]), list(ACTIVE)
            )
    except BaseException:
        await dedicated.give_back(db.current_engine(), lock_conn)
        raise
    if not claimed:
        await dedicated.give_back(db.current_engine(), lock_conn)
        return None
    handle = RunHandle(run_id, claimed["scope"], RunStats(), asyncio.Event(), lock_conn)
    if claimed["cancel_requested"]:
        handle.cancelled.set()
    notify(run_id)
    return handle


async def finish(
    handle: RunHandle, status: str, error: str | None = None, plan: PlanJSON | None = None
) -> None:
    handle.stats.phase = "done"
    await handle.flush()
    async with db.transaction() as tx:
        run = await sql.finish_run(
            tx,
            handle.id,
            status,
            now(),
            error,
            json.dumps(plan) if plan is not None else None,
            handle.stats.keys_ignored,
            json.dumps([ledger_entry(f"ended {status}")]),
        )
        whole_view = status in ("succeeded", "needs_confirmation")  # a newer, complete view
        if whole_view and run and run["kind"] == "sync" and not run["dry_run"]:
            await _supersede(tx, handle.id, run["scope"])
    await release(handle)
    notify(handle.id)


async def _supersede(tx: db.Tx, run_id: int, scope: str) -> None:
    """Older held plans of the same scope (any scope, after a full sync) are out of date."""
    await sql.supersede(
        tx, run_id, scope, json.dumps([ledger_entry(f"superseded by run #{run_id}")])
    )


async def release(handle: RunHandle) -> None:
    """Let go of the advisory lock (its connection is kept for the next run); safe to call
    twice."""
    if handle._lock_conn is not None:
        conn, handle._lock_conn = handle._lock_conn, None
        await dedicated.give_back(db.current_engine(), conn)
