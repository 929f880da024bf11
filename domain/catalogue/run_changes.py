"""What a sync run changed, recorded as it goes: every model and post it added, changed or
removed, and the first IGNORED_KEPT keys it ignored with the reason (run pages read them)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterable

from piccolo.query.functions.aggregate import Count

from domain.catalogue import sql
from domain.catalogue.diff import ExistingModel, ModelChange
from domain.catalogue.keys import KeyKind, classify, ignore_reason
from domain.catalogue.plan_json import PlanJSON
from domain.platform import db
from domain.platform.lists import any_of
from domain.platform.s3_types import S3Object
from domain.platform.tables import SyncRunChange, WhitelabelPost
from domain.production import live

log = logging.getLogger("creatorflix.sync")
IGNORED_KEPT = 200  # ignored keys kept per run, with their reason; the run counts them all
BIG_SCAN = 20_000  # keys: look for ignored ones in a thread, so the loop stays free
Row = tuple[int, str, str, str, str, str]


def _text(value: str) -> str:
    """A key as database text: NUL and unpaired surrogates written out, never an error."""
    return value.replace("\x00", "\\x00").encode("utf-8", "backslashreplace").decode()


def ignored_in(folder: str, objects: Iterable[S3Object], limit: int) -> list[str]:
    """The first `limit` keys of a model folder's listing that the key rules ignore (the
    project's own objects, under keys.DERIVED_PREFIX, are not ignored keys: never kept)."""
    found: list[str] = []
    for obj in objects:
        kind, model, _ = classify(obj.key)
        if model != folder and kind is not KeyKind.DERIVED:
            found.append(obj.key)
            if len(found) >= limit:
                break
    return found


class Recorder:
    """One part's changes, written in batches (a flush per heartbeat and one at the end), so
    the sync pays no extra round trip per model."""

    def __init__(self, run_id: int) -> None:
        self.run_id = run_id
        self.rows: list[Row] = []
        self.ignored: list[str] = []
        self.ignored_full = False  # the run has kept IGNORED_KEPT keys already
        self._writes: set[asyncio.Task[None]] = set()

    @property
    def wants_ignored(self) -> bool:
        return not self.ignored_full and len(self.ignored) < IGNORED_KEPT

    def _add(self, kind: str, change: str, model: str, name: str) -> None:
        self.rows.append((self.run_id, kind, change, model, name, ""))

    def model(self, change: ModelChange) -> None:
        """A diffed model: itself if added or changed, and its added and changed posts."""
        folder = change.desired.folder
        if change.model_id is None:
            self._add("model", "added", folder, folder)
        elif change.writes_anything or change.has_deletions:
            self._add("model", "changed", folder, folder)
        for post in change.new_posts:
            self._add("post", "added", folder, post.folder)
        for _, post in change.changed_posts:
            self._add("post", "changed", folder, post.folder)

    async def scan(self, folder: str, objects: list[S3Object]) -> None:
        """Keep the ignored keys of a model folder, while the run still keeps any."""
        if not self.wants_ignored:
            return
        room = IGNORED_KEPT - len(self.ignored)
        if len(objects) < BIG_SCAN:
            self.ignored.extend(ignored_in(folder, objects, room))
        else:
            self.ignored.extend(await asyncio.to_thread(ignored_in, folder, objects, room))

    async def flush_quietly(self) -> None:
        """Flush; a failure is logged, never the sync's failure (those rows are lost).

        The write is a task of its own: cancelling the caller (the heartbeat, when its part
        ends) never cuts a write short after it took the rows, so none goes missing."""
        write = asyncio.ensure_future(self._flush_logged())
        self._writes.add(write)
        write.add_done_callback(self._writes.discard)
        await asyncio.shield(write)

    async def close(self) -> None:
        """Every write started has ended, and what is left is written."""
        await asyncio.gather(*self._writes, return_exceptions=True)
        await self._flush_logged()

    async def _flush_logged(self) -> None:
        try:
            await self.flush()
        except Exception:  # noqa: BLE001 - the run's own outcome matters more
            log.warning("recording the changes of run %s failed", self.run_id, exc_info=True)

    async def flush(self) -> None:
        rows, self.rows = self.rows, []
        ignored, self.ignored = self.ignored, []
        async with db.transaction() as tx:
            await sql.insert_changes(tx, rows)
            if ignored and not self.ignored_full:
                self.ignored_full = await _keep_ignored(tx, self.run_id, ignored)


async def _keep_ignored(tx: db.Tx, run_id: int, keys: list[str]) -> bool:
    """Keep as many of these keys as the run's budget allows; True once it is spent."""
    await sql.budget_lock(tx, run_id)
    c = SyncRunChange
    (kept,) = await tx.run(
        c.select(Count(alias="n")).where(
            (c.run == run_id) & (c.kind == "ignored") & (c.change == "")
        )
    )
    room = max(0, IGNORED_KEPT - int(kept["n"]))
    await sql.insert_changes(
        tx, [(run_id, "ignored", "", "", _text(k), ignore_reason(k)) for k in keys[:room]]
    )
    return len(keys) >= room


async def record_ignored(run_id: int, keys: list[str]) -> None:
    """Keys a run ignored outside any model folder (the top of the bucket)."""
    if keys:
        async with db.transaction() as tx:
            await _keep_ignored(tx, run_id, keys[:IGNORED_KEPT])


def deleted_post_names(change: ModelChange, existing: ExistingModel | None) -> list[str]:
    """The folders of the posts a change deletes (the plan keeps their ids)."""
    if existing is None or not change.deleted_post_ids:
        return []
    gone = set(change.deleted_post_ids)
    return [folder for folder, row in existing.posts.items() if row["id"] in gone]


async def posts_of_models(model_ids: list[int]) -> list[tuple[str, str]]:
    """(model, post) folders of these models: what deleting them takes along."""
    if not model_ids:
        return []
    p = WhitelabelPost
    model = p.whitelabel_model._.folder_name
    rows = await db.select(
        p.select(model.as_alias("model"), p.folder_name.as_alias("post"))
        .where(p.whitelabel_model.is_in(any_of(model_ids)))
        .order_by(model, p.folder_name)
    )
    return [(r["model"], r["post"]) for r in rows]


async def live_in(plan: PlanJSON) -> live.Live:
    """The live (public) models and posts among the plan's deletions."""
    post_keys = [
        f"{part['name']}/{post}"
        for part in plan["per_model"].values()
        for post in part.get("post_names", [])
    ]
    return await live.in_plan(plan["models"], post_keys)


async def planned_removals(plan: PlanJSON) -> tuple[list[str], list[tuple[str, str]]]:
    """The model and (model, post) folders a deletion plan removes, read before it is applied."""
    posts = [
        (part["name"], name)
        for part in plan["per_model"].values()
        for name in part.get("post_names", [])
    ]
    posts += await posts_of_models(list(plan["models"].values()))
    return sorted(plan["models"]), posts


async def record_removed(run_id: int, models: list[str], posts: list[tuple[str, str]]) -> None:
    rows = [(run_id, "model", "removed", m, m, "") for m in models]
    rows += [(run_id, "post", "removed", m, p, "") for m, p in posts]
    if rows:
        async with db.transaction() as tx:
            await sql.insert_changes(tx, rows)
