"""Beginning a sync run, in one place: record it (one at a time), then hand it to its job or
claim it in this process. Every sync, confirmation and skipped tick starts here."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Literal

from domain.catalogue import run_handle, runs, sql
from domain.catalogue.run_handle import RunHandle
from domain.catalogue.runs import (
    ACTIVE,
    Run,
    SyncBusy,
    ledger_entry,
    notify,
)
from domain.platform import db
from domain.platform.db import now
from domain.platform.tables import SyncRun as Runs

# Queues the job of a recorded run and returns the job's id (the job queue, injected).
Defer = Callable[[int], Awaitable[int]]


@dataclass(frozen=True)
class RunRequest:
    """What a new run is: its scope ("all" or one model folder), who asked, and its kind."""

    scope: str
    triggered_by: str
    dry_run: bool = False
    kind: Literal["sync", "confirm"] = "sync"
    confirms: int | None = None  # the held run a "confirm" run applies


async def begin(request: RunRequest, defer: Defer | None) -> int:
    """Record a queued run and hand it to its job (`defer`); raises SyncBusy naming the run
    already queued or going. If the queue refuses, the run ends cancelled. Without `defer`
    the run waits for a claim (`begin_here`)."""
    run_id = await _record(request)
    if defer is not None:
        try:
            await runs.set_job(run_id, await defer(run_id))
        except Exception as exc:
            await runs.request_cancel(run_id)
            raise RuntimeError(f"could not queue run #{run_id}: {exc}") from exc
    return run_id


async def begin_here(request: RunRequest, owner: str) -> RunHandle:
    """Begin a run that this process works on itself (the CLI's foreground runs)."""
    run_id = await begin(request, None)
    handle = await run_handle.claim(run_id, owner)
    if handle is None:
        raise SyncBusy(await runs.get(run_id))
    return handle


async def skip(scope: str, triggered_by: str, reason: str) -> int:
    """A run that never ran, kept in the ledger (a scheduled tick while a sync was going)."""
    stamp = now()
    async with db.transaction() as tx:
        return await _insert(
            tx,
            Runs(
                scope=scope,
                status="skipped",
                phase="done",
                started_at=stamp,
                finished_at=stamp,
                heartbeat_at=stamp,
                triggered_by=triggered_by,
                error=reason,
                events=json.dumps([ledger_entry(reason)]),
            ),
        )


async def _record(request: RunRequest) -> int:
    """Insert a queued run under the enqueue lock, or raise SyncBusy."""
    await runs.mark_stale()
    async with db.transaction() as tx:
        await sql.enqueue_lock(tx)
        rows = await tx.run(
            Runs.select().where(Runs.status.is_in(list(ACTIVE))).order_by(Runs.id).limit(1)
        )
        active = Run.from_row(rows[0]) if rows else None
        if active is not None and not await _orphaned(tx, active):
            raise SyncBusy(active)
        stamp = now()
        run_id = await _insert(
            tx,
            Runs(
                scope=request.scope,
                status="queued",
                phase="queued",
                dry_run=request.dry_run,
                started_at=stamp,
                heartbeat_at=stamp,
                triggered_by=request.triggered_by,
                kind=request.kind,
                confirms=request.confirms,
                events=json.dumps([ledger_entry(f"queued by {request.triggered_by}")]),
            ),
        )
    notify(run_id)
    return run_id


async def _insert(tx: db.Tx, run: Runs) -> int:
    """A new sync_runs row with the run's columns and every counter at 0 (their default)."""
    (row,) = await tx.run(Runs.insert(run))
    return int(row["id"])


async def _orphaned(tx: db.Tx, run: Run) -> bool:
    """A foreground run (no job) whose process died: nothing will resume it, so it failed.

    A queued job's run is left alone: when its worker dies, the queue hands it to another.
    """
    if run.status != "running" or run.job_id is not None:
        return False
    if not await sql.try_sync_xact_lock(tx):
        return False  # its process still holds the sync lock
    stopped = "the process running this sync stopped"
    await tx.run(
        Runs.update(
            {
                Runs.status: "failed",
                Runs.finished_at: now(),
                Runs.phase: "done",
                Runs.error: stopped,
            }
        ).where(Runs.id == run.id)
    )
    return True
