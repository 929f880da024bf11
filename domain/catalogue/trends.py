"""The catalogue over time, as the dashboard's charts draw it: the last sync runs, how the
catalogue grew, and which models hold the most bytes. Reads only, each bounded (LIMIT)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from piccolo.query import OrderByRaw
from piccolo.query.functions.aggregate import Count, Sum

from domain.catalogue import trends_sql as sql
from domain.catalogue.runs import ACTIVE
from domain.platform import db
from domain.platform.tables import RunStatus, SyncRun, WhitelabelMedia, WhitelabelModel

RUNS = 20  # sync runs the chart shows
GROWTH_DAYS = 30  # days the growth chart spans, ending today
TOP_MODELS = 10  # models the storage chart shows
# Growth and storage read every media row (about 1.3 s for 900,000 of them on a busy 2-core
# box), so they are kept until a run ends, the day changes, or this long has passed.
KEEP_S = 600.0


@dataclass(frozen=True)
class Trends:
    """What the charts draw, read together."""

    runs: list[RunPoint]
    growth: list[GrowthPoint]
    storage: list[ModelBytes]


_kept: tuple[tuple[object, ...], float, Trends] | None = None


async def trends() -> Trends:
    """The last runs, read each time (a LIMIT on an index); growth and storage as read when
    the newest run ended (the catalogue changes only through runs), in this process."""
    global _kept
    runs = await recent_runs()
    newest = runs[-1] if runs else None
    key = (newest and (newest.id, newest.finished_at), db.now().date())
    if _kept is not None and _kept[0] == key and time.monotonic() - _kept[1] < KEEP_S:
        return Trends(runs, _kept[2].growth, _kept[2].storage)
    kept = Trends(runs, await growth(), await storage_by_model())
    _kept = (key, time.monotonic(), kept)
    return kept


@dataclass(frozen=True)
class RunPoint:
    """One ended sync run: how long it took, keys it listed, rows it changed."""

    id: int
    started_at: datetime
    finished_at: datetime
    duration_s: float
    keys_listed: int
    changes: int  # models, posts and media inserted, updated and deleted


async def recent_runs(limit: int = RUNS) -> list[RunPoint]:
    """The last `limit` ended runs, oldest first (skipped ticks did no work: left out)."""
    r = SyncRun
    changed = [
        f"{what}_{how}"
        for what in ("models", "posts", "media")
        for how in ("inserted", "updated", "deleted")
    ]
    rows = await db.select(
        r.select(
            r.id, r.started_at, r.finished_at, r.keys_listed, *(getattr(r, c) for c in changed)
        )
        .where(r.status.not_in([*ACTIVE, RunStatus.skipped]))
        .where(r.finished_at.is_not_null())
        .order_by(r.id, ascending=False)
        .limit(limit)
    )
    return [
        RunPoint(
            id=row["id"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            duration_s=max(0.0, (row["finished_at"] - row["started_at"]).total_seconds()),
            keys_listed=int(row["keys_listed"] or 0),
            changes=sum(int(row[c] or 0) for c in changed),
        )
        for row in reversed(rows)
    ]


@dataclass(frozen=True)
class GrowthPoint:
    """The catalogue at the end of one UTC day: rows of today's catalogue created by then."""

    day: date
    models: int
    posts: int
    media: int


async def growth(days: int = GROWTH_DAYS, today: date | None = None) -> list[GrowthPoint]:
    """A point a day for the last `days` days, ending today. Rows a sync deleted are gone, so
    a day's point counts the rows still staged that were created by its end. Empty if the
    catalogue is."""
    today = today or db.now().date()
    first = today - timedelta(days=days - 1)
    since = datetime(first.year, first.month, first.day, tzinfo=db.now().tzinfo)
    totals = await _totals()
    if not any(totals.values()):
        return []
    added: dict[str, dict[date, int]] = {series: {} for series in totals}
    for row in await sql.added_per_day(since, days):
        added[row["series"]][row["day"]] = int(row["n"])
    # Walk back from today's totals: the end of day d holds what exists less what came after.
    points: list[GrowthPoint] = []
    running = dict(totals)
    for offset in range(days):
        day = today - timedelta(days=offset)
        points.append(GrowthPoint(day, running["models"], running["posts"], running["media"]))
        for series in running:
            running[series] -= added[series].get(day, 0)
    return points[::-1]


async def _totals() -> dict[str, int]:
    """Staged models, posts and media now: counted from the models' own counters (one pass
    over the models, not over millions of media rows)."""
    w = WhitelabelModel
    row = await db.first(
        w.select(
            Count(alias="models"),
            Sum(w.post_count, alias="posts"),
            Sum(w.image_count, alias="images"),
            Sum(w.video_count, alias="videos"),
        )
    )
    row = row or {}
    return {
        "models": int(row.get("models") or 0),
        "posts": int(row.get("posts") or 0),
        "media": int(row.get("images") or 0) + int(row.get("videos") or 0),
    }


@dataclass(frozen=True)
class ModelBytes:
    """One staged model's media: how many files and their bytes, as the sync listed them."""

    folder_name: str
    files: int
    bytes: int


async def storage_by_model(limit: int = TOP_MODELS) -> list[ModelBytes]:
    """The `limit` models whose media hold the most bytes, biggest first (ties: the older
    model). Every media row is read, so grouped by the model's id (an integer, and no join
    to the models table), then the few names looked up."""
    m = WhitelabelMedia
    model = m.whitelabel_post._.whitelabel_model
    rows = await db.select(
        m.select(model.as_alias("model_id"), Count(alias="files"), Sum(m.size, alias="bytes"))
        .group_by(model)
        .order_by(OrderByRaw('"bytes"'), ascending=False)
        .order_by(OrderByRaw('"model_id"'))
        .limit(limit)
    )
    w = WhitelabelModel
    ids = [row["model_id"] for row in rows if row["model_id"] is not None]
    names = (
        {
            row["id"]: row["folder_name"]
            for row in (await db.select(w.select(w.id, w.folder_name).where(w.id.is_in(ids))))
        }
        if ids
        else {}
    )
    return [
        ModelBytes(names[row["model_id"]], int(row["files"]), int(row["bytes"] or 0))
        for row in rows
        if row["model_id"] in names
    ]
