"""A run's page, read: what it changed (first rows of each list, or any page of one), every
deletion a held plan would make, page by page, and the runs that confirmed it."""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from domain.catalogue.runs import ACTIVE, SyncRun, mark_stale
from domain.errors import NotFound
from domain.platform import db
from domain.platform.db import FromRow
from domain.platform.paging import BadQuery, page_bounds

# (kind, change) of each list a run page shows, in its order.
LISTS = (
    ("model", "added"),
    ("model", "changed"),
    ("model", "removed"),
    ("post", "added"),
    ("post", "changed"),
    ("post", "removed"),
    ("ignored", ""),
)
SHOWN = 50  # rows of each list on the run page, and rows a page of the full list
PLAN_KINDS = ("models", "posts", "media")
PLAN_PAGE = 20


@dataclass(frozen=True)
class ChangeRow(FromRow):
    """One line of a run's lists: a model, a post (`name` in `model`), a media key or an
    ignored key with its reason; `staged` when the model is staged now (a link to it)."""

    model: str
    name: str
    staged: bool
    reason: str | None = None
    post_count: int | None = None  # a held plan's models: what goes with them
    media: int | None = None


@dataclass
class Listing:
    """Rows of one list, from position `first` on, and how many the list holds."""

    kind: str
    change: str
    total: int
    page: int = 1
    size: int = SHOWN
    rows: list[ChangeRow] = field(default_factory=list)
    kept: int = 0  # ignored keys: how many the run kept (the first IGNORED_KEPT)

    @property
    def first(self) -> int:
        return (self.page - 1) * self.size + 1 if self.rows else 0

    @property
    def last(self) -> int:
        return self.first + len(self.rows) - 1 if self.rows else 0

    @property
    def pages(self) -> int:
        stored = self.kept if self.kind == "ignored" else self.total
        return max(1, -(-stored // self.size))


def _check_list(kind: str, change: str) -> None:
    if (kind, change) not in LISTS:
        known = ", ".join(f"kind={k}&change={c}" if c else f"kind={k}" for k, c in LISTS)
        raise BadQuery(f"kind={kind[:20]!r} change={change[:20]!r} is not a list: use {known}.")


_ROWS = (
    "SELECT c.model, c.name, c.reason, m.id IS NOT NULL AS staged FROM sync_run_changes c "
    "LEFT JOIN whitelabel_models m ON m.folder_name = c.model AND c.model <> '' "
)


async def changes(run: SyncRun) -> list[Listing]:
    """Each list of the run with its first SHOWN rows; empty lists left out."""
    counts = await db.fetch(
        "SELECT kind, change, COUNT(*) AS n FROM sync_run_changes WHERE run = $1 "
        "GROUP BY kind, change",
        run.id,
    )
    stored = {(r["kind"], r["change"]): int(r["n"]) for r in counts}
    rows = await db.fetch(
        "SELECT g.kind, g.change, x.* FROM unnest($2::text[], $3::text[]) AS g(kind, change) "
        f"CROSS JOIN LATERAL ({_ROWS} WHERE c.run = $1 AND c.kind = g.kind "
        "AND c.change = g.change ORDER BY c.id LIMIT $4) x",
        run.id,
        [k for k, _ in LISTS],
        [c for _, c in LISTS],
        SHOWN,
    )
    out = []
    for kind, change in LISTS:
        kept = stored.get((kind, change), 0)
        total = max(kept, run.keys_ignored) if kind == "ignored" else kept
        if total:
            mine = _typed([r for r in rows if (r["kind"], r["change"]) == (kind, change)])
            out.append(Listing(kind, change, total, rows=mine, kept=kept))
    return out


async def change_page(run: SyncRun, kind: str, change: str, page: int) -> Listing:
    """One page of one of the run's lists, in the order the run recorded them."""
    change = "" if kind == "ignored" else change
    _check_list(kind, change)
    offset = page_bounds(page, SHOWN)
    kept = int(
        await _value(
            "SELECT COUNT(*) FROM sync_run_changes WHERE run = $1 AND kind = $2 AND change = $3",
            run.id,
            kind,
            change,
        )
    )
    rows = await db.fetch(
        f"{_ROWS} WHERE c.run = $1 AND c.kind = $2 AND c.change = $3 ORDER BY c.id "
        "LIMIT $4 OFFSET $5",
        run.id,
        kind,
        change,
        SHOWN,
        offset,
    )
    total = max(kept, run.keys_ignored) if kind == "ignored" else kept
    return Listing(kind, change, total, page, SHOWN, _typed(rows), kept)


async def _value(sql: str, *args: Any) -> Any:
    rows = await db.fetch(sql, *args)
    return next(iter(rows[0].values()))


def held_plan(run: SyncRun) -> dict[str, Any]:
    """The deletions a run holds back; NotFound if it holds none (any more)."""
    if run.status != "needs_confirmation" or not run.plan:
        raise NotFound(
            f"sync run #{run.id} holds no deletions waiting for confirmation (it is "
            f"{run.status.replace('_', ' ')}); its page shows what it changed."
        )
    return run.plan


async def plan_page(run: SyncRun, kind: str, page: int) -> Listing:
    """One page of everything a held plan deletes: its models (with what goes with them),
    the posts and the media gone from the models it keeps."""
    if kind not in PLAN_KINDS:
        known = ", ".join(PLAN_KINDS)
        raise BadQuery(f"kind={kind[:20]!r} is not a list of the plan: use {known}.")
    plan = held_plan(run)
    offset = page_bounds(page, PLAN_PAGE)
    if kind == "models":
        names = sorted(plan["models"])
        rows = await db.fetch(
            "SELECT n.name, n.name AS model, m.post_count, m.image_count + m.video_count AS "
            "media, m.id IS NOT NULL AS staged FROM unnest($1::text[]) WITH ORDINALITY "
            "AS n(name, i) LEFT JOIN whitelabel_models m ON m.folder_name = n.name ORDER BY n.i",
            names[offset : offset + PLAN_PAGE],
        )
        return Listing("models", "removed", len(names), page, PLAN_PAGE, _typed(rows))
    key = "posts" if kind == "posts" else "media"
    ids = [i for part in plan["per_model"].values() for i in part[key]]
    sql = (
        "SELECT m.folder_name AS model, p.folder_name AS name, true AS staged "
        "FROM whitelabel_posts p JOIN whitelabel_models m ON m.id = p.whitelabel_model "
        "WHERE p.id = ANY($1::int[]) ORDER BY m.folder_name, p.folder_name, p.id"
        if kind == "posts"
        else "SELECT m.folder_name AS model, x.s3_key AS name, true AS staged "
        "FROM whitelabel_media x JOIN whitelabel_posts p ON p.id = x.whitelabel_post "
        "JOIN whitelabel_models m ON m.id = p.whitelabel_model "
        "WHERE x.id = ANY($1::int[]) ORDER BY x.s3_key, x.id"
    )
    rows = await db.fetch(f"{sql} LIMIT $2 OFFSET $3", ids, PLAN_PAGE, offset)
    return Listing(kind, "removed", len(ids), page, PLAN_PAGE, _typed(rows))


def _typed(rows: list[dict[str, Any]]) -> list[ChangeRow]:
    return [ChangeRow.from_row(r) for r in rows]


async def confirmations(run_id: int) -> list[SyncRun]:
    """The runs that confirmed (or tried to confirm) this run's held plan."""
    rows = await db.fetch("SELECT * FROM sync_runs WHERE confirms = $1 ORDER BY id", run_id)
    return [SyncRun.from_row(r) for r in rows]


async def pulse() -> tuple[str, bool]:
    """A short fingerprint of the recent runs and their statuses, and whether one is active:
    pages compare it to the one they were drawn with, to redraw when a run starts or ends
    (in any process: it is read from the database)."""
    await mark_stale(force=False)
    rows = await db.fetch("SELECT id, status FROM sync_runs ORDER BY id DESC LIMIT 30")
    text = ",".join(f"{r['id']}:{r['status']}" for r in rows)
    digest = hashlib.blake2s(text.encode(), digest_size=8).hexdigest()
    return digest, any(r["status"] in ACTIVE for r in rows)
