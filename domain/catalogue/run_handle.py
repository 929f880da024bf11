"""A worker's hold on a sync run: claim it (taking the sync lock), flush progress, finish it
(superseding older held plans), release the lock."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from dataclasses import dataclass
from typing import Any

import asyncpg

from domain.catalogue.run_stats import COUNTERS, RunStats
from domain.catalogue.runs import (
    ACTIVE,
    ADVISORY_LOCK_KEY,
    SyncBusy,
    current,
    get,
    ledger_entry,
    notify,
)
from domain.platform import db
from domain.platform.db import now


@dataclass
class RunHandle:
    id: int
    scope: str
    stats: RunStats
    cancelled: asyncio.Event
    _lock_conn: Any = None

    async def flush(self) -> None:
        """Write progress and heartbeat; pick up a cancel request made from any process."""
        # raw: sent on the sync lock's own connection, outside the pool
        sets = ", ".join(f"{k} = ${i + 3}" for i, k in enumerate(COUNTERS))
        sql = (
            f"UPDATE sync_runs SET phase = $2, heartbeat_at = ${len(COUNTERS) + 3}, {sets} "
            "WHERE id = $1 RETURNING cancel_requested"
        )
        args = (self.id, self.stats.phase, *self.stats.counters().values(), now())
        flag = None
        if self._lock_conn is not None:  # its own connection: a busy pool never delays a beat
            try:
                flag = await self._lock_conn.fetchval(sql, *args)
            except (asyncpg.PostgresConnectionError, asyncpg.InterfaceError, OSError):
                self._lock_conn = None  # killed: the pool's connections will do from now on
        if self._lock_conn is None:
            async with db.transaction() as tx:
                flag = await tx.fetchval(sql, *args)
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
    engine = db.current_engine()
    lock_conn = await asyncpg.connect(engine.config["dsn"])
    try:
        deadline = time.monotonic() + wait
        while not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY):
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
            # raw (both): the claim under the sync lock, with a jsonb ledger append and a CASE
            await tx.execute(
                "UPDATE sync_runs SET status = 'failed', finished_at = $1, phase = 'done', "
                "error = 'the process running this sync stopped' "
                "WHERE status = 'running' AND id <> $2",
                now(),
                run_id,
            )
            claimed = await tx.fetch(
                "UPDATE sync_runs SET status = 'running', heartbeat_at = $2, "
                "phase = CASE WHEN status = 'queued' THEN 'starting' ELSE phase END, "
                "events = (events::jsonb || $3::jsonb)::json "
                "WHERE id = $1 AND status = ANY($4::text[]) RETURNING scope, cancel_requested",
                run_id,
                now(),
                json.dumps([ledger_entry(text)]),
                list(ACTIVE),
            )
    except BaseException:
        await lock_conn.close()
        raise
    if not claimed:
        await lock_conn.close()
        return None
    handle = RunHandle(run_id, claimed[0]["scope"], RunStats(), asyncio.Event(), lock_conn)
    if claimed[0]["cancel_requested"]:
        handle.cancelled.set()
    notify(run_id)
    return handle


async def finish(
    handle: RunHandle, status: str, error: str | None = None, plan: dict[str, Any] | None = None
) -> None:
    handle.stats.phase = "done"
    await handle.flush()
    async with db.transaction() as tx:
        run = await tx.fetch(  # raw: a jsonb ledger append
            "UPDATE sync_runs SET status = $2, finished_at = $3, error = $4, plan = $5, "
            "keys_ignored = $6, events = (events::jsonb || $7::jsonb)::json WHERE id = $1 "
            "RETURNING scope, dry_run, kind",
            handle.id,
            status,
            now(),
            error,
            json.dumps(plan) if plan is not None else None,
            handle.stats.keys_ignored,
            json.dumps([ledger_entry(f"ended {status}")]),
        )
        whole_view = status in ("succeeded", "needs_confirmation")  # a newer, complete view
        if whole_view and run and run[0]["kind"] == "sync" and not run[0]["dry_run"]:
            await _supersede(tx, handle.id, run[0]["scope"])
    await release(handle)
    notify(handle.id)


async def _supersede(tx: db.Tx, run_id: int, scope: str) -> None:
    """Older held plans of the same scope (any scope, after a full sync) are out of date."""
    await tx.execute(  # raw: a jsonb ledger append
        "UPDATE sync_runs SET status = 'superseded', superseded_by = $1, "
        "events = (events::jsonb || $3::jsonb)::json "
        "WHERE status = 'needs_confirmation' AND id < $1 AND ($2 = 'all' OR scope = $2)",
        run_id,
        scope,
        json.dumps([ledger_entry(f"superseded by run #{run_id}")]),
    )


async def release(handle: RunHandle) -> None:
    """Drop the advisory lock (closing its connection); safe to call twice."""
    if handle._lock_conn is not None:
        conn, handle._lock_conn = handle._lock_conn, None
        with contextlib.suppress(Exception):
            await conn.close()
