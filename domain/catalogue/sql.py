"""Hand-written SQL for sync runs: runs, parts, a worker's hold on a run, what a run changed,
and beginning a run (see the package docstring; the sync's store is in sync_writes.py)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from decimal import Decimal
from typing import Any, TypedDict

from domain.platform import db

# When a whole-bucket sync last succeeded: it saw every model still staged. Unchanged models
# are not stamped one by one (an unchanged re-sync writes no row), so a model was last synced
# at its own stamp (its last change, or a one-model sync) or then. A scalar subquery, so that
# the pages showing it pay no extra round trip.
LAST_FULL_SYNC = (
    "(SELECT max(finished_at) FROM sync_runs WHERE status = 'succeeded' "
    "AND scope = 'all' AND NOT dry_run AND kind = 'sync')"
)
ADVISORY_LOCK_KEY = 0x43464C58  # "CFLX": held by the process running a sync
ENQUEUE_LOCK_KEY = 0x43464C59  # serialises "is a sync active? then record a new one"
# Serialises the ignored-key budget of one run across its parts and workers.
BUDGET_LOCK = 0x43464C5A
CHANGE_COLUMNS = ("run", "kind", "change", "model", "name", "reason")


class Claimed(TypedDict):
    scope: str
    cancel_requested: bool


class Finished(TypedDict):
    scope: str
    dry_run: bool
    kind: str


class ClaimedPart(TypedDict):
    id: int
    part_no: int
    folders: Any  # JSON: {"folders", "lo", "hi", "solo"} (a list before parts had key ranges)
    previous: str  # the owner it was taken over from ("" for a new part)


class Sums(TypedDict):
    seconds: Decimal
    keys: int
    finished: int


class Last(TypedDict):
    seconds: Decimal
    keys_listed: int


class FirstChange(TypedDict):
    kind: str
    change: str
    model: str
    name: str
    reason: str
    staged: bool  # the model is staged now (its page can be linked)


# -- runs (domain/catalogue/runs.py)


async def log_event(run_id: int, events: str) -> None:
    """Append `events` (a JSON list) to the run's ledger."""
    await db.fetch(  # raw: an atomic jsonb append, which the query builder cannot express
        "UPDATE sync_runs SET events = (events::jsonb || $2::jsonb)::json WHERE id = $1",
        run_id,
        events,
    )


async def request_cancel(run_id: int, at: datetime, active: list[str]) -> str | None:
    """The run's status before the request, or None if it was not active."""
    rows = await db.fetch(  # raw: it locks the row (FOR UPDATE) to read the status it replaces
        # `before` is joined (FROM) so it is read before the update; read only in RETURNING,
        # it found no row (the row was already updated by this statement) and gave None.
        "WITH before AS (SELECT status AS was FROM sync_runs WHERE id = $1 FOR UPDATE) "
        "UPDATE sync_runs SET cancel_requested = true, "
        "status = CASE WHEN status = 'queued' THEN 'cancelled' ELSE status END, "
        "finished_at = CASE WHEN status = 'queued' THEN $2 ELSE finished_at END, "
        "phase = CASE WHEN status = 'queued' THEN 'done' ELSE phase END, "
        "error = CASE WHEN status = 'queued' THEN 'cancelled before it started' ELSE error END "
        "FROM before WHERE id = $1 AND status = ANY($3::text[]) "
        "RETURNING before.was AS before",
        run_id,
        at,
        active,
    )
    return str(rows[0]["before"]) if rows else None


async def current(active: list[str]) -> db.Record | None:
    found = await db.fetch(  # raw: hot read, query builder measured slower (the model page's)
        "SELECT * FROM sync_runs WHERE status = ANY($1::text[]) ORDER BY id DESC LIMIT 1",
        active,
    )
    return found[0] if found else None


async def totals() -> tuple[Sums, Last | None]:
    """(the sums over finished syncs, the last finished sync's duration and keys)."""
    # raw: interval arithmetic (EXTRACT(EPOCH FROM finished_at - started_at)) in the aggregates
    sums = await db.fetch(
        "SELECT COALESCE(SUM(EXTRACT(EPOCH FROM finished_at - started_at)), 0) AS seconds, "
        "COALESCE(SUM(keys_listed), 0) AS keys, COUNT(*) AS finished FROM sync_runs "
        "WHERE finished_at IS NOT NULL AND kind = 'sync'"
    )
    last = await db.fetch(  # raw: interval arithmetic, as above
        "SELECT EXTRACT(EPOCH FROM finished_at - started_at) AS seconds, keys_listed "
        "FROM sync_runs WHERE finished_at IS NOT NULL AND kind = 'sync' AND status <> 'skipped' "
        "ORDER BY id DESC LIMIT 1"
    )
    return db.typed(Sums, sums)[0], (db.typed(Last, last)[0] if last else None)


# -- a worker's hold on a run (domain/catalogue/run_handle.py)


async def flush_run(
    conn: db.Connection | db.Tx, counters: Sequence[str], args: Sequence[object]
) -> bool | None:
    """Progress and heartbeat; the run's cancel flag. `conn`: the sync lock's own asyncpg
    connection or a db.Tx; `args`: id, phase, each counter's value, the time."""
    # raw: sent on the sync lock's own connection, outside the pool
    sets = ", ".join(f"{k} = ${i + 3}" for i, k in enumerate(counters))
    sql = (
        f"UPDATE sync_runs SET phase = $2, heartbeat_at = ${len(counters) + 3}, {sets} "
        "WHERE id = $1 RETURNING cancel_requested"
    )
    found = await conn.fetch(sql, *args)
    return bool(found[0]["cancel_requested"]) if found else None


async def try_sync_lock(conn: db.Connection) -> bool:
    """The sync lock, on its own asyncpg connection, if free."""
    # raw: a lock (session-level, on the lock's own connection)
    return bool(await conn.fetchval("SELECT pg_try_advisory_lock($1)", ADVISORY_LOCK_KEY))


async def fail_others(tx: db.Tx, at: datetime, run_id: int) -> None:
    """Under the sync lock, any other "running" run belongs to a process that is gone."""
    # raw (with claim_run): the claim under the sync lock, with a jsonb ledger append and a CASE
    await tx.execute(
        "UPDATE sync_runs SET status = 'failed', finished_at = $1, phase = 'done', "
        "error = 'the process running this sync stopped' "
        "WHERE status = 'running' AND id <> $2",
        at,
        run_id,
    )


async def claim_run(
    tx: db.Tx, run_id: int, at: datetime, events: str, active: list[str]
) -> Claimed | None:
    # raw: the claim under the sync lock, with a jsonb ledger append and a CASE
    found = await tx.fetch(
        "UPDATE sync_runs SET status = 'running', heartbeat_at = $2, "
        "phase = CASE WHEN status = 'queued' THEN 'starting' ELSE phase END, "
        "events = (events::jsonb || $3::jsonb)::json "
        "WHERE id = $1 AND status = ANY($4::text[]) RETURNING scope, cancel_requested",
        run_id,
        at,
        events,
        active,
    )
    return db.typed(Claimed, found)[0] if found else None


async def finish_run(
    tx: db.Tx,
    run_id: int,
    status: str,
    at: datetime,
    error: str | None,
    plan: str | None,
    keys_ignored: int,
    events: str,
) -> Finished | None:
    found = await tx.fetch(  # raw: a jsonb ledger append
        "UPDATE sync_runs SET status = $2, finished_at = $3, error = $4, plan = $5, "
        "keys_ignored = $6, events = (events::jsonb || $7::jsonb)::json WHERE id = $1 "
        "RETURNING scope, dry_run, kind",
        run_id,
        status,
        at,
        error,
        plan,
        keys_ignored,
        events,
    )
    return db.typed(Finished, found)[0] if found else None


async def supersede(tx: db.Tx, run_id: int, scope: str, events: str) -> None:
    await tx.execute(  # raw: a jsonb ledger append
        "UPDATE sync_runs SET status = 'superseded', superseded_by = $1, "
        "events = (events::jsonb || $3::jsonb)::json "
        "WHERE status = 'needs_confirmation' AND id < $1 AND ($2 = 'all' OR scope = $2)",
        run_id,
        scope,
        events,
    )


# -- beginning a run (domain/catalogue/begin.py)


async def enqueue_lock(tx: db.Tx) -> None:
    await tx.execute("SELECT pg_advisory_xact_lock($1)", ENQUEUE_LOCK_KEY)  # raw: a lock


async def try_sync_xact_lock(tx: db.Tx) -> bool:
    """The sync lock for this transaction, if no process holds it."""
    # raw: a lock
    return bool(await tx.fetchval("SELECT pg_try_advisory_xact_lock($1)", ADVISORY_LOCK_KEY))


# -- the parts of a run (domain/catalogue/parts.py)


async def lock_run(tx: db.Tx, run_id: int) -> None:
    # raw: a row lock on the run, so two workers never split it twice
    await tx.execute("SELECT id FROM sync_runs WHERE id = $1 FOR UPDATE", run_id)


async def claim_part(
    run_id: int, owner: str, at: datetime, lapsed_before: datetime
) -> ClaimedPart | None:
    found = await db.fetch(  # raw: the claim is FOR UPDATE SKIP LOCKED
        "UPDATE sync_parts p SET status = 'running', owner = $2, heartbeat_at = $3, "
        "stats = '{}' FROM (SELECT id, owner AS previous FROM sync_parts WHERE run = $1 AND "
        "(status = 'pending' OR (status = 'running' AND heartbeat_at < $4)) "
        "ORDER BY part_no LIMIT 1 FOR UPDATE SKIP LOCKED) q WHERE p.id = q.id "
        "RETURNING p.id, p.part_no, p.folders, q.previous",
        run_id,
        owner,
        at,
        lapsed_before,
    )
    return db.typed(ClaimedPart, found)[0] if found else None


async def beat_part(part_id: int, owner: str, at: datetime, stats: str) -> bool | None:
    """The run's cancel flag, or None when the part is no longer this owner's."""
    found = await db.fetch(  # raw: RETURNING a subquery (the run's cancel flag)
        "UPDATE sync_parts SET heartbeat_at = $3, stats = $4 WHERE id = $1 AND owner = $2 "
        "AND status = 'running' "
        "RETURNING (SELECT cancel_requested FROM sync_runs WHERE id = run) AS cancel_requested",
        part_id,
        owner,
        at,
        stats,
    )
    return bool(found[0]["cancel_requested"]) if found else None


# -- what a run changed (domain/catalogue/run_changes.py, run_reports.py)


async def insert_changes(tx: db.Tx, rows: Sequence[Sequence[object]]) -> None:
    """Rows in CHANGE_COLUMNS' order, with COPY."""
    # raw: the sync's bulk write path (COPY)
    await tx.copy("sync_run_changes", CHANGE_COLUMNS, rows)


async def budget_lock(tx: db.Tx, run_id: int) -> None:
    await tx.execute("SELECT pg_advisory_xact_lock($1, $2)", BUDGET_LOCK, run_id)  # raw: a lock


_ROWS = (
    "SELECT c.model, c.name, c.reason, m.id IS NOT NULL AS staged FROM sync_run_changes c "
    "LEFT JOIN whitelabel_models m ON m.folder_name = c.model AND c.model <> '' "
)


async def first_changes(
    run_id: int, kinds: list[str], changes: list[str], shown: int
) -> list[FirstChange]:
    """The first `shown` rows of each (kind, change) list of the run."""
    found = await db.fetch(  # raw: one LATERAL join for the first rows of every list
        "SELECT g.kind, g.change, x.* FROM unnest($2::text[], $3::text[]) AS g(kind, change) "
        f"CROSS JOIN LATERAL ({_ROWS} WHERE c.run = $1 AND c.kind = g.kind "
        "AND c.change = g.change ORDER BY c.id LIMIT $4) x",
        run_id,
        kinds,
        changes,
        shown,
    )
    return db.typed(FirstChange, found)
