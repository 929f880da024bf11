"""Sync run records: single flight, heartbeat and progress, cancellation, stale runs."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from datetime import timedelta
from typing import Any

import asyncpg

from domain import db
from domain.sync_store import now

STALE_AFTER = timedelta(seconds=60)
ADVISORY_LOCK_KEY = 0x43464C58  # "CFLX"
FINISHED = ("succeeded", "failed", "cancelled", "needs_confirmation")
COUNTERS = (
    "keys_listed",
    "keys_ignored",
    "models_total",
    "models_done",
    "models_inserted",
    "models_updated",
    "models_deleted",
    "posts_inserted",
    "posts_updated",
    "posts_deleted",
    "media_inserted",
    "media_updated",
    "media_deleted",
)


class SyncBusy(RuntimeError):
    """Another sync holds the database; `run` is that run's row."""

    def __init__(self, run: dict[str, Any] | None) -> None:
        self.run = run
        if run:
            super().__init__(
                f"sync run #{run['id']} ({run['scope']}) is already running since "
                f"{run['started_at']:%Y-%m-%d %H:%M:%S} UTC; wait for it or cancel it."
            )
        else:
            super().__init__("another sync is already running; wait for it or cancel it.")


@dataclass
class RunStats:
    phase: str = "starting"
    keys_listed: int = 0
    keys_ignored: int = 0
    models_total: int = 0
    models_done: int = 0
    models_inserted: int = 0
    models_updated: int = 0
    models_deleted: int = 0
    posts_inserted: int = 0
    posts_updated: int = 0
    posts_deleted: int = 0
    media_inserted: int = 0
    media_updated: int = 0
    media_deleted: int = 0
    errors: list[str] = field(default_factory=list)

    def counters(self) -> dict[str, int]:
        return {k: getattr(self, k) for k in COUNTERS}

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass
class RunHandle:
    id: int
    scope: str
    stats: RunStats
    cancelled: asyncio.Event
    _lock_conn: Any = None

    async def flush(self) -> None:
        """Write progress and heartbeat; pick up a cancel request made from any process."""
        async with db.transaction() as tx:
            sets = ", ".join(f"{k} = ${i + 3}" for i, k in enumerate(COUNTERS))
            await tx.execute(
                f"UPDATE sync_runs SET phase = $2, heartbeat_at = ${len(COUNTERS) + 3}, {sets} "
                "WHERE id = $1",
                self.id,
                self.stats.phase,
                *self.stats.counters().values(),
                now(),
            )
            if not tx.postgres:
                await tx.execute(
                    "UPDATE sync_locks SET heartbeat_at = $2 WHERE name = 'sync' AND run_id = $1",
                    self.id,
                    now(),
                )
            flag = await tx.fetchval(
                "SELECT cancel_requested FROM sync_runs WHERE id = $1", self.id
            )
        if flag:
            self.cancelled.set()
        _notify(self.id)


_last_stale_check = 0.0


async def mark_stale(force: bool = True) -> int:
    """Runs whose process stopped heartbeating become failed, so they no longer block.

    Page views call it with force=False: then it runs at most every few seconds per process.
    """
    global _last_stale_check
    if not force and time.monotonic() - _last_stale_check < 5:
        return 0
    _last_stale_check = time.monotonic()
    async with db.transaction() as tx:
        rows = await tx.fetch(
            "UPDATE sync_runs SET status = 'failed', finished_at = $1, phase = 'done', error = "
            "'the process running this sync stopped (no heartbeat for 60 s)' "
            "WHERE status = 'running' AND heartbeat_at < $2 RETURNING id",
            now(),
            now() - STALE_AFTER,
        )
    return len(rows)


async def begin(scope: str, triggered_by: str, dry_run: bool = False) -> RunHandle:
    """Record a new run, or raise SyncBusy naming the run that holds the database."""
    await mark_stale()
    engine = db.current_engine()
    lock_conn = None
    if db.is_postgres(engine):
        lock_conn = await asyncpg.connect(engine.config["dsn"])  # type: ignore[attr-defined]
        if not await lock_conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY):
            await lock_conn.close()
            raise SyncBusy(await current())
    try:
        async with db.transaction() as tx:
            if lock_conn is not None:  # we hold the lock: any other "running" row is dead
                await tx.execute(
                    "UPDATE sync_runs SET status = 'failed', finished_at = $1, phase = 'done', "
                    "error = 'the process running this sync stopped' WHERE status = 'running'",
                    now(),
                )
            else:
                holder = await tx.fetchval(
                    "SELECT run_id FROM sync_locks WHERE name = 'sync' AND run_id IS NOT NULL "
                    "AND heartbeat_at >= $1",
                    now() - STALE_AFTER,
                )
                if holder is not None:
                    raise SyncBusy(await get(int(holder), tx))
            run_id = await tx.fetchval(
                "INSERT INTO sync_runs (scope, status, phase, dry_run, started_at, heartbeat_at, "
                "triggered_by, cancel_requested, " + ", ".join(COUNTERS) + ") VALUES ($1, "
                "'running', 'starting', $2, $3, $3, $4, $5, "
                + ", ".join("0" for _ in COUNTERS)
                + ") RETURNING id",
                scope,
                dry_run,
                now(),
                triggered_by,
                False,
            )
            if lock_conn is None:
                await tx.execute(
                    "UPDATE sync_locks SET run_id = $1, heartbeat_at = $2 WHERE name = 'sync'",
                    run_id,
                    now(),
                )
    except BaseException:
        if lock_conn is not None:
            await lock_conn.close()
        raise
    handle = RunHandle(int(run_id), scope, RunStats(), asyncio.Event(), lock_conn)
    _notify(handle.id)
    return handle


async def finish(
    handle: RunHandle, status: str, error: str | None = None, plan: dict[str, Any] | None = None
) -> None:
    handle.stats.phase = "done"
    await handle.flush()
    async with db.transaction() as tx:
        await tx.execute(
            "UPDATE sync_runs SET status = $2, finished_at = $3, error = $4, plan = $5, "
            "keys_ignored = $6 WHERE id = $1",
            handle.id,
            status,
            now(),
            error,
            json.dumps(plan) if plan is not None else None,
            handle.stats.keys_ignored,
        )
        if not tx.postgres:
            await tx.execute(
                "UPDATE sync_locks SET run_id = NULL WHERE name = 'sync' AND run_id = $1", handle.id
            )
    await release(handle)
    _notify(handle.id)


async def release(handle: RunHandle) -> None:
    """Drop the advisory lock (closing its connection); safe to call twice."""
    if handle._lock_conn is not None:
        conn, handle._lock_conn = handle._lock_conn, None
        with contextlib.suppress(Exception):
            await conn.close()


async def request_cancel(run_id: int) -> bool:
    """Ask a running run to stop at its next model boundary; False if it is not running."""
    async with db.transaction() as tx:
        rows = await tx.fetch(
            "UPDATE sync_runs SET cancel_requested = $2 WHERE id = $1 AND "
            "status = 'running' RETURNING id",
            run_id,
            True,
        )
    for handle in _local.values():
        if handle.id == run_id:
            handle.cancelled.set()
    return bool(rows)


async def get(run_id: int, tx: db.Tx | None = None) -> dict[str, Any] | None:
    sql = "SELECT * FROM sync_runs WHERE id = $1"
    rows = await (tx.fetch(sql, run_id) if tx else db.fetch(sql, run_id))
    return _decode(rows[0]) if rows else None


async def current() -> dict[str, Any] | None:
    """The run going now, if any (stale ones are marked failed first)."""
    await mark_stale(force=False)
    rows = await db.fetch(
        "SELECT * FROM sync_runs WHERE status = 'running' ORDER BY id DESC LIMIT 1"
    )
    return _decode(rows[0]) if rows else None


async def recent(limit: int = 20, before_id: int | None = None) -> list[dict[str, Any]]:
    await mark_stale(force=False)
    if before_id is None:
        rows = await db.fetch("SELECT * FROM sync_runs ORDER BY id DESC LIMIT $1", limit)
    else:
        rows = await db.fetch(
            "SELECT * FROM sync_runs WHERE id < $1 ORDER BY id DESC LIMIT $2", before_id, limit
        )
    return [_decode(r) for r in rows]


def _decode(row: dict[str, Any]) -> dict[str, Any]:
    if isinstance(row.get("plan"), str):
        row["plan"] = json.loads(row["plan"])
    started, finished = row.get("started_at"), row.get("finished_at") or row.get("heartbeat_at")
    row["duration_s"] = (finished - started).total_seconds() if started and finished else None
    return row


# In-process wake-ups, so a subscriber in this process sees changes at once.
_local: dict[int, RunHandle] = {}
_waiters: dict[int, set[asyncio.Event]] = {}


def track(handle: RunHandle) -> None:
    _local[handle.id] = handle


def untrack(handle: RunHandle) -> None:
    _local.pop(handle.id, None)


def _notify(run_id: int) -> None:
    for event in _waiters.get(run_id, ()):
        event.set()


async def subscribe(run_id: int, interval: float = 0.5) -> AsyncIterator[dict[str, Any]]:
    """Yield the run's row whenever it changes, until it finishes (works across processes)."""
    wake = asyncio.Event()
    _waiters.setdefault(run_id, set()).add(wake)
    last: tuple[Any, ...] | None = None
    try:
        while True:
            run = await get(run_id)
            if run is None:
                return
            snapshot = (run["status"], run["phase"], *(run[k] for k in COUNTERS))
            if snapshot != last:
                last = snapshot
                yield run
            if run["status"] != "running":
                return
            if run["heartbeat_at"] < now() - STALE_AFTER:
                await mark_stale()
                continue
            wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wake.wait(), timeout=interval)
    finally:
        _waiters[run_id].discard(wake)
        if not _waiters[run_id]:
            del _waiters[run_id]
