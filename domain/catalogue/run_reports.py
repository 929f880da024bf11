"""A run's page, read: what it changed (first rows of each list, or any page of one), every
deletion a held plan would make, page by page, and the runs that confirmed it."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import NotRequired, TypedDict

from piccolo.query.functions.aggregate import Count

from domain.catalogue import sql
from domain.catalogue.plan_json import PlanJSON
from domain.catalogue.run_changes import live_in
from domain.catalogue.runs import ACTIVE, Run, mark_stale
from domain.errors import NotFound
from domain.platform import db
from domain.platform.db import FromRow
from domain.platform.listing import Filter, ListQuery, ListSpec
from domain.platform.lists import any_of
from domain.platform.paging import BadQuery
from domain.platform.tables import SyncRun as Runs
from domain.platform.tables import SyncRunChange as Changes
from domain.platform.tables import WhitelabelMedia, WhitelabelModel, WhitelabelPost
from domain.production import live

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
# A run's full lists: ?kind=&change=&page= (the pair checked by change_page); a held plan's:
# ?kind=&page=.
CHANGES = ListSpec(
    filters=(Filter("kind", default="model"), Filter("change", default="added")),
    sizes=(SHOWN,),
)
PLAN = ListSpec(filters=(Filter("kind", values=PLAN_KINDS, default="models"),), sizes=(PLAN_PAGE,))


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
    live: bool = False  # a held plan's model or post that is public now (listed first)


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


async def changes(run: Run) -> list[Listing]:
    """Each list of the run with its first SHOWN rows; empty lists left out."""
    counts = await db.select(
        Changes.select(Changes.kind, Changes.change, Count(alias="n"))
        .where(Changes.run == run.id)
        .group_by(Changes.kind, Changes.change)
    )
    stored = {(r["kind"], r["change"]): int(r["n"]) for r in counts}
    rows = await sql.first_changes(run.id, [k for k, _ in LISTS], [c for _, c in LISTS], SHOWN)
    out = []
    for kind, change in LISTS:
        kept = stored.get((kind, change), 0)
        total = max(kept, run.keys_ignored) if kind == "ignored" else kept
        if total:
            mine = _typed([r for r in rows if (r["kind"], r["change"]) == (kind, change)])
            out.append(Listing(kind, change, total, rows=mine, kept=kept))
    return out


async def change_page(run: Run, listing: ListQuery) -> Listing:
    """One page of one of the run's lists, in the order the run recorded them."""
    kind, page = listing.filter("kind"), listing.page
    change = "" if kind == "ignored" else listing.filter("change")
    _check_list(kind, change)
    offset = listing.offset
    mine = (Changes.run == run.id) & (Changes.kind == kind) & (Changes.change == change)
    kept = await Changes.count().where(mine)
    rows = await db.select(
        Changes.select(Changes.model, Changes.name, Changes.reason)
        .where(mine)
        .order_by(Changes.id)
        .limit(SHOWN)
        .offset(offset)
    )
    staged = await _staged({r["model"] for r in rows if r["model"]})
    rows = [{**r, "staged": r["model"] in staged} for r in rows]
    total = max(kept, run.keys_ignored) if kind == "ignored" else kept
    return Listing(kind, change, total, page, SHOWN, _typed(rows), kept)


async def _staged(folders: set[str]) -> set[str]:
    """Which of these model folders are staged now (a link to each of them)."""
    if not folders:
        return set()
    w = WhitelabelModel
    found = await db.select(w.select(w.folder_name).where(w.folder_name.is_in(list(folders))))
    return {r["folder_name"] for r in found}


def held_plan(run: Run) -> PlanJSON:
    """The deletions a run holds back; NotFound if it holds none (any more)."""
    if run.status != "needs_confirmation" or not run.plan:
        raise NotFound(
            f"sync run #{run.id} holds no deletions waiting for confirmation (it is "
            f"{run.status.replace('_', ' ')}); its page shows what it changed."
        )
    return run.plan


async def plan_page(run: Run, listing: ListQuery) -> Listing:
    """One page of everything a held plan deletes: its models (with what goes with them),
    the posts and the media gone from the models it keeps."""
    kind, page, offset = listing.filter("kind"), listing.page, listing.offset
    plan = held_plan(run)
    if kind == "models":
        shown = set((await live_in(plan)).folders)  # public now: listed first
        names = sorted(plan["models"], key=lambda n: (n not in shown, n))
        models = await _plan_models(names, offset, shown)
        return Listing("models", "removed", len(names), page, PLAN_PAGE, models)
    parts = plan["per_model"].values()
    ids = [i for part in parts for i in (part["posts"] if kind == "posts" else part["media"])]
    rows = await (_plan_posts(ids, offset) if kind == "posts" else _plan_media(ids, offset))
    return Listing(kind, "removed", len(ids), page, PLAN_PAGE, _typed(rows, staged=True))


async def _plan_models(names: list[str], offset: int, shown: set[str]) -> list[ChangeRow]:
    """A page of the plan's models, in `names`' order, with what goes with each staged one,
    and whether it is live (in `shown`)."""
    page = names[offset : offset + PLAN_PAGE]
    if not page:
        return []
    w = WhitelabelModel
    query = w.select(w.folder_name, w.post_count, w.image_count, w.video_count)
    found = {r["folder_name"]: r for r in await db.select(query.where(w.folder_name.is_in(page)))}
    return [
        ChangeRow(
            name,
            name,
            True,
            post_count=m["post_count"],
            media=m["image_count"] + m["video_count"],
            live=name in shown,
        )
        if (m := found.get(name))
        else ChangeRow(name, name, False, live=name in shown)
        for name in page
    ]


class PlanRow(TypedDict):
    """A post or a media row a held plan deletes: its model and its name (folder or key)."""

    model: str
    name: str
    live: NotRequired[bool]  # a post's: public now


async def _plan_posts(ids: list[int], offset: int) -> list[PlanRow]:
    """A page of the posts a plan deletes from the models it keeps: the live ones (public
    now) first, each group in model and folder order."""
    if not ids:
        return []
    p = WhitelabelPost
    model = p.whitelabel_model._.folder_name
    rows = db.typed(
        PlanRow,
        await db.select(
            p.select(model.as_alias("model"), p.folder_name.as_alias("name"))
            .where(p.id.is_in(any_of(ids)))
            .order_by(model, p.folder_name, p.id)
        ),
    )
    shown = await live.posts_among([f"{r['model']}/{r['name']}" for r in rows])
    for r in rows:
        r["live"] = f"{r['model']}/{r['name']}" in shown
    rows.sort(key=lambda r: not r["live"])  # stable: each group keeps its order
    return rows[offset : offset + PLAN_PAGE]


async def _plan_media(ids: list[int], offset: int) -> list[PlanRow]:
    if not ids:
        return []
    x = WhitelabelMedia
    found = await db.select(
        x.select(
            x.whitelabel_post._.whitelabel_model._.folder_name.as_alias("model"),
            x.s3_key.as_alias("name"),
        )
        .where(x.id.is_in(any_of(ids)))
        .order_by(x.s3_key, x.id)
        .limit(PLAN_PAGE)
        .offset(offset)
    )
    return db.typed(PlanRow, found)


def _typed(rows: Sequence[Mapping[str, object]], staged: bool | None = None) -> list[ChangeRow]:
    """Rows as ChangeRows; plan rows of posts and media are all of staged models."""
    if staged is not None:
        rows = [{**r, "staged": staged} for r in rows]
    return [ChangeRow.from_row(r) for r in rows]


async def confirmations(run_id: int) -> list[Run]:
    """The runs that confirmed (or tried to confirm) this run's held plan."""
    rows = await db.select(Runs.select().where(Runs.confirms == run_id).order_by(Runs.id))
    return [Run.from_row(r) for r in rows]


async def pulse() -> tuple[str, bool]:
    """A short fingerprint of the recent runs and their statuses, and whether one is active:
    pages compare it to the one they were drawn with, to redraw when a run starts or ends
    (in any process: it is read from the database)."""
    await mark_stale(force=False)
    rows = await db.select(
        Runs.select(Runs.id, Runs.status).order_by(Runs.id, ascending=False).limit(30)
    )
    text = ",".join(f"{r['id']}:{r['status']}" for r in rows)
    digest = hashlib.blake2s(text.encode(), digest_size=8).hexdigest()
    return digest, any(r["status"] in ACTIVE for r in rows)
