"""The jobs page's table: per kind of job, how many are queued, running, failed today and done
today.

procrastinate deletes a job that succeeded (the worker runs with delete_jobs="successful"), so
"done today" comes from the record each kind's work keeps, where it keeps one: the runs a sync
or a confirmation ended, the bulk activations that ended, the media the preview jobs handled.
The helpers (sync parts) and the periodic jobs keep none: their "done" is not known.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from domain.jobs import sql
from domain.platform import db, queue
from domain.platform.tables import BulkActivation, SyncRun, WhitelabelMedia, WhitelabelModelImage

# Every kind the app queues (domain/platform/queue.py), in the order the page lists them.
KINDS: dict[str, str] = {
    "sync": "Sync",
    "sync_part": "Sync helper (one part)",
    "confirm": "Confirm held deletions",
    "activate": "Bulk activation",
    "derive_media": "Previews and posters",
    "schedule_tick": "Schedule tick",
    "recover_stalled": "Recover lost jobs",
}


@dataclass(frozen=True)
class Done:
    """What a kind of job got done today, in its own unit ("runs ended")."""

    count: int
    unit: str


@dataclass(frozen=True)
class KindRow:
    """One line of the page's table."""

    task: str
    label: str
    queued: int
    running: int
    failed_today: int
    done_today: Done | None  # None: not kept for this kind


def today() -> datetime:
    """The start of today, UTC (the page says so)."""
    return db.now().replace(hour=0, minute=0, second=0, microsecond=0)


def label(task: str) -> str:
    return KINDS.get(task, task)


async def kinds() -> list[KindRow]:
    """Every known kind, and any other task found in the queue after them."""
    since = today()
    counts: dict[tuple[str, str], int] = {}
    for r in await sql.counts_by_task(queue.app.connector, since):
        counts[(str(r["task_name"]), str(r["status"]))] = int(r["n"])
    tasks = list(KINDS) + sorted({t for t, _ in counts} - set(KINDS))
    done = await done_today(since)
    return [
        KindRow(
            task=task,
            label=label(task),
            queued=counts.get((task, "todo"), 0),
            running=counts.get((task, "doing"), 0),
            failed_today=counts.get((task, "failed"), 0),
            done_today=done.get(task),
        )
        for task in tasks
    ]


async def done_today(since: datetime) -> dict[str, Done]:
    """The work each kind that keeps a record of it ended since `since`."""
    runs: dict[str, int] = {}
    for kind in ("sync", "confirm"):
        runs[kind] = await SyncRun.count().where(
            (SyncRun.kind == kind) & (SyncRun.finished_at >= since)
        )
    bulks = await BulkActivation.count().where(BulkActivation.finished_at >= since)
    media = 0
    for table in (WhitelabelMedia, WhitelabelModelImage):  # derived, or refused with a reason
        media += await table.count().where(table.derived_at >= since)
    return {
        "sync": Done(runs["sync"], "runs ended"),
        "confirm": Done(runs["confirm"], "runs ended"),
        "activate": Done(bulks, "activations ended"),
        "derive_media": Done(media, "media done"),
    }
