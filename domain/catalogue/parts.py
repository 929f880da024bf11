"""A sync's listing split into parts that any worker claims, with leases that outlive no one.

A part is a run of consecutive model folders, and the key range they span (key_ranges.py):
the ranges of all parts cover the whole bucket, each key exactly once. A worker claims a
pending part (or one whose owner stopped heartbeating), syncs its models, and stores what it
saw; the run's coordinator
merges the parts once all are done. Parts are safe to redo: models already written are skipped
by their fingerprints.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass
from datetime import timedelta
from typing import Any

from domain.catalogue.key_ranges import in_key_order, part_bounds
from domain.platform import db
from domain.platform.db import now

LEASE = timedelta(seconds=15)  # a part whose owner is silent this long is claimed again
MIN_FOLDERS = 25  # smaller parts cost more in coordination than they save


@dataclass(frozen=True)
class Part:
    id: int
    run_id: int
    part_no: int
    folders: list[str]
    owner: str
    reclaimed_from: str  # the previous owner, when this claim took over a stalled part
    lo: str = ""  # the part's keys: lo <= key < hi (None: to the end of the bucket)
    hi: str | None = None
    solo: bool = False  # the run's only part


def split(folders: list[str], parts: int) -> list[list[str]]:
    """Consecutive folders in at most `parts` groups of near-equal size (none empty)."""
    if not folders:
        return []
    parts = max(1, min(parts, math.ceil(len(folders) / MIN_FOLDERS)))
    size = math.ceil(len(folders) / parts)
    return [folders[i : i + size] for i in range(0, len(folders), size)]


async def create(run_id: int, folders: list[str], parts: int, whole_bucket: bool = True) -> int:
    """Split the run's folders into parts, once: a resumed run keeps its first split."""
    async with db.transaction() as tx:
        await tx.execute("SELECT id FROM sync_runs WHERE id = $1 FOR UPDATE", run_id)
        count = await tx.fetchval("SELECT COUNT(*) FROM sync_parts WHERE run = $1", run_id)
        if count:
            return int(count)
        groups = split(in_key_order(folders), parts) or ([[]] if whole_bucket else [])
        bounds = part_bounds(groups, whole_bucket) if folders else [("", None)] * len(groups)
        await tx.executemany(
            "INSERT INTO sync_parts (run, part_no, folders, status, owner, stats) "
            "VALUES ($1, $2, $3, 'pending', '', '{}')",
            [
                (
                    run_id,
                    i,
                    json.dumps({"folders": g, "lo": lo, "hi": hi, "solo": len(groups) == 1}),
                )
                for i, (g, (lo, hi)) in enumerate(zip(groups, bounds, strict=True))
            ],
        )
    return len(groups)


async def claim(run_id: int, owner: str) -> Part | None:
    """The next pending part, or one whose owner stopped; None when none is left to take."""
    rows = await db.fetch(
        "UPDATE sync_parts p SET status = 'running', owner = $2, heartbeat_at = $3, "
        "stats = '{}' FROM (SELECT id, owner AS previous FROM sync_parts WHERE run = $1 AND "
        "(status = 'pending' OR (status = 'running' AND heartbeat_at < $4)) "
        "ORDER BY part_no LIMIT 1 FOR UPDATE SKIP LOCKED) q WHERE p.id = q.id "
        "RETURNING p.id, p.part_no, p.folders, q.previous",
        run_id,
        owner,
        now(),
        now() - LEASE,
    )
    if not rows:
        return None
    r = rows[0]
    spec = json.loads(r["folders"]) if isinstance(r["folders"], str) else r["folders"]
    if isinstance(spec, list):  # a part split before parts had key ranges
        spec = {"folders": spec, "lo": spec[0] + "/", "hi": spec[-1] + "0"} if spec else {}
    return Part(
        r["id"],
        run_id,
        r["part_no"],
        spec.get("folders", []),
        owner,
        r["previous"],
        spec.get("lo", ""),
        spec.get("hi"),
        bool(spec.get("solo")),
    )


async def beat(part: Part, counters: dict[str, int]) -> tuple[bool, bool]:
    """Renew the lease and publish progress; returns (still ours, cancel requested)."""
    rows = await db.fetch(
        "UPDATE sync_parts SET heartbeat_at = $3, stats = $4 WHERE id = $1 AND owner = $2 "
        "AND status = 'running' RETURNING (SELECT cancel_requested FROM sync_runs WHERE id = run)",
        part.id,
        part.owner,
        now(),
        json.dumps(counters),
    )
    if not rows:
        return False, False
    return True, bool(rows[0]["cancel_requested"])


@dataclass(frozen=True)
class PartResult:
    """What one part saw, stored with it until the run merges every part's."""

    seen: list[str]  # model folders listed
    failed: list[str]  # model folders that could not be synced
    errors: list[str]
    unchanged: list[int]  # staged model ids whose fingerprint was equal
    per_model: dict[str, dict[str, Any]]  # model id -> its deletions (DeletionPlan's JSON)


async def complete(part: Part, counters: dict[str, int], result: PartResult) -> bool:
    """Store what the part saw; False if another worker took it over meanwhile."""
    rows = await db.fetch(
        "UPDATE sync_parts SET status = 'done', heartbeat_at = $3, stats = $4, result = $5 "
        "WHERE id = $1 AND owner = $2 AND status = 'running' RETURNING id",
        part.id,
        part.owner,
        now(),
        json.dumps(counters),
        json.dumps(asdict(result)),
    )
    return bool(rows)


@dataclass(frozen=True)
class Progress:
    by_part: dict[int, dict[str, int]]  # part id -> its counters, as last published
    total: int
    done: int


async def progress(run_id: int) -> Progress:
    rows = await db.fetch("SELECT id, status, stats FROM sync_parts WHERE run = $1", run_id)
    by_part = {
        r["id"]: json.loads(r["stats"]) if isinstance(r["stats"], str) else r["stats"] for r in rows
    }
    return Progress(by_part, len(rows), sum(1 for r in rows if r["status"] == "done"))


async def results(run_id: int) -> list[PartResult]:
    rows = await db.fetch(
        "SELECT result FROM sync_parts WHERE run = $1 AND status = 'done' ORDER BY part_no",
        run_id,
    )
    stored = (
        json.loads(r["result"]) if isinstance(r["result"], str) else r["result"] for r in rows
    )
    return [PartResult(**result) for result in stored]
