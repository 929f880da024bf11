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

from domain.catalogue import sql
from domain.catalogue.key_ranges import in_key_order, part_bounds
from domain.catalogue.plan_json import PlanPart
from domain.platform import db
from domain.platform.db import now
from domain.platform.tables import SyncPart

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
        await sql.lock_run(tx, run_id)
        existing = await tx.run(SyncPart.select(SyncPart.id).where(SyncPart.run == run_id))
        if existing:
            return len(existing)
        groups = split(in_key_order(folders), parts) or ([[]] if whole_bucket else [])
        bounds = part_bounds(groups, whole_bucket) if folders else [("", None)] * len(groups)
        new = [
            SyncPart(
                run=run_id,
                part_no=i,
                folders=json.dumps({"folders": g, "lo": lo, "hi": hi, "solo": len(groups) == 1}),
            )
            for i, (g, (lo, hi)) in enumerate(zip(groups, bounds, strict=True))
        ]
        if new:
            await tx.run(SyncPart.insert(*new))
    return len(groups)


async def claim(run_id: int, owner: str) -> Part | None:
    """The next pending part, or one whose owner stopped; None when none is left to take."""
    r = await sql.claim_part(run_id, owner, now(), now() - LEASE)
    if r is None:
        return None
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
    cancelled = await sql.beat_part(part.id, part.owner, now(), json.dumps(counters))
    return (False, False) if cancelled is None else (True, cancelled)


@dataclass(frozen=True)
class PartResult:
    """What one part saw, stored with it until the run merges every part's."""

    seen: list[str]  # model folders listed
    failed: list[str]  # model folders that could not be synced
    errors: list[str]
    unchanged: list[int]  # staged model ids whose fingerprint was equal
    per_model: dict[str, PlanPart]  # model id -> its deletions (DeletionPlan's JSON)


async def complete(part: Part, counters: dict[str, int], result: PartResult) -> bool:
    """Store what the part saw; False if another worker took it over meanwhile."""
    p = SyncPart
    rows = await db.select(
        p.update(
            {
                p.status: "done",
                p.heartbeat_at: now(),
                p.stats: json.dumps(counters),
                p.result: json.dumps(asdict(result)),
            }
        )
        .where((p.id == part.id) & (p.owner == part.owner) & (p.status == "running"))
        .returning(p.id)
    )
    return bool(rows)


@dataclass(frozen=True)
class Progress:
    by_part: dict[int, dict[str, int]]  # part id -> its counters, as last published
    total: int
    done: int


async def progress(run_id: int) -> Progress:
    p = SyncPart
    rows = await db.select(
        p.select(p.id, p.status, p.stats).where(p.run == run_id).output(load_json=True)
    )
    by_part = {r["id"]: r["stats"] for r in rows}
    return Progress(by_part, len(rows), sum(1 for r in rows if r["status"] == "done"))


async def results(run_id: int) -> list[PartResult]:
    p = SyncPart
    rows = await db.select(
        p.select(p.result)
        .where((p.run == run_id) & (p.status == "done"))
        .order_by(p.part_no)
        .output(load_json=True)
    )
    return [PartResult(**r["result"]) for r in rows]
