"""Bulk activation: a filter or a list of names, fixed into a set of staged models when the admin
asks, that a worker activates one by one, keeping its progress on the record for pages to poll."""

from __future__ import annotations

import hashlib
import json
import logging
from dataclasses import dataclass, fields
from datetime import datetime

from domain.accounts import audit
from domain.errors import Conflict, Invalid, NotFound
from domain.platform import db, queue
from domain.platform.db import now
from domain.platform.lists import any_of
from domain.platform.tables import BulkActivation as Bulks
from domain.platform.tables import WhitelabelModel as Staged
from domain.staging import sql
from domain.staging.activation import ActivationResult, UnknownModels, _activate_one
from domain.staging.queries import staged_query

log = logging.getLogger("creatorflix.activation")
ACTIVE = ("queued", "running")
DRAFTS = " as drafts"  # ends the description of a draft activation (Selection.describe)


@dataclass(frozen=True)
class Record(db.FromRow):
    """A bulk activation's record: what was asked, and its progress (pages poll it)."""

    id: int
    description: str
    total: int
    done: int
    failed: int
    status: str
    summary: str
    error: str | None
    actor: str
    job_id: int | None
    created_at: datetime
    finished_at: datetime | None

    @property
    def active(self) -> bool:
        return self.status in ACTIVE

    @property
    def drafts(self) -> bool:
        """A draft activation: its models stay unpublished."""
        return self.description.endswith(DRAFTS)


COLUMNS = [Bulks._meta.get_column_by_name(f.name) for f in fields(Record)]
NAMES = ", ".join(c._meta.name for c in COLUMNS)


@dataclass(frozen=True)
class Selection:
    """What the admin picked: the models matching the list's filters, or some by name."""

    search: str = ""
    status: str = ""
    names: tuple[str, ...] | None = None  # None: every model matching search and status
    draft: bool = False  # activate without publishing

    def describe(self) -> str:
        text = self._what()
        return text + DRAFTS if self.draft else text

    def _what(self) -> str:
        if self.names is not None:
            return f"{len(self.names):,} selected model(s)"
        if not self.search and self.status == "new":
            return "all new models"
        if not self.search and not self.status:
            return "all staged models"
        parts = [f"name contains “{self.search}”"] if self.search else []
        parts += [f"status {self.status}"] if self.status else []
        return "models where " + " and ".join(parts)

    def key(self) -> str:
        """The same action on the same selection (names in any order) has the same key: one
        of them at a time is queued or running (the partial unique index on selection_key)."""
        names = sorted(set(self.names)) if self.names is not None else None
        picked = {"names": names, "search": self.search, "status": self.status}
        text = json.dumps(["activate", picked, self.draft], sort_keys=True)
        return hashlib.sha256(text.encode()).hexdigest()

    def as_json(self) -> str:
        if self.names is not None:
            return json.dumps({"names": list(self.names), "draft": self.draft})
        return json.dumps({"search": self.search, "status": self.status, "draft": self.draft})


async def resolve(selection: Selection) -> list[int]:
    """The staged model ids the selection means now, in name order; unknown names are a 404."""
    if selection.names is not None:
        names = list(dict.fromkeys(selection.names))
        if not names:
            return []
        rows = await db.select(
            Staged.select(Staged.id, Staged.folder_name)
            .where(Staged.folder_name.is_in(any_of(names, "text")))
            .order_by(Staged.folder_name, Staged.id)
        )
        found = {r["folder_name"] for r in rows}
        missing = [n for n in names if n not in found]
        if missing:
            raise UnknownModels(missing)
        return [int(r["id"]) for r in rows]
    return await sql.filtered_ids(staged_query(search=selection.search, status=selection.status))


async def record(selection: Selection, actor: str, ip: str) -> tuple[Record, bool]:
    """Fix the selection into a queued bulk activation, and True; or, when the same selection
    is queued or running already, that activation and False (a repeated click, or forty, queue
    one job). Nothing selected is a 400."""
    ids = await resolve(selection)
    if not ids:
        raise Invalid(
            f"No staged model matches ({selection.describe()}): change the filters or sync first."
        )
    key = selection.key()
    for _ in range(3):
        what = (selection.describe(), selection.as_json(), key)
        row = await sql.record_bulk(NAMES, *what, ids, actor[:150], ip[:64])
        if row is not None:
            return Record.from_row(row), True
        for found in await sql.pending_bulk(NAMES, key):
            pending = Record.from_row(found)
            if await _still_queued(pending):
                return pending, False
            await fail(pending.id, "its job had left the queue (failed, cancelled or lost)")
    raise Conflict(
        f"Activating {selection.describe()} is being queued by another request: reload the "
        "staged list to see its progress."
    )


JOBLESS_GRACE_S = 60  # a row is recorded before its job is queued: that long, it may have none


async def _still_queued(pending: Record) -> bool:
    """Whether the activation will still run: its job is queued or running (or it has just
    been recorded, and its job is on its way). One whose job failed or vanished frees its
    selection, or it would answer for every repeat forever."""
    if pending.job_id is None:
        return (now() - pending.created_at).total_seconds() < JOBLESS_GRACE_S
    return await queue.is_pending(pending.job_id)


async def set_job(bulk_id: int, job_id: int) -> None:
    await Bulks.update({Bulks.job_id: job_id}).where(Bulks.id == bulk_id)


async def get(bulk_id: int) -> Record:
    row = await db.first(Bulks.select(*COLUMNS).where(Bulks.id == bulk_id))
    if row is None:
        raise NotFound(f"There is no bulk activation #{bulk_id}.")
    return Record.from_row(row)


async def active() -> list[Record]:
    """Bulk activations still queued or running, oldest first (the list page shows them)."""
    rows = await sql.active_bulks(NAMES)
    return [Record.from_row(r) for r in rows]


async def fail(bulk_id: int, error: str) -> None:
    """The job could not be queued (or its worker gave up): the record says so."""
    await Bulks.update(
        {Bulks.status: "failed", Bulks.error: error, Bulks.finished_at: now()}
    ).where((Bulks.id == bulk_id) & Bulks.status.is_in(list(ACTIVE)))


async def run(bulk_id: int) -> ActivationResult:
    """The worker's body: activate each model still staged, counting progress as it goes.

    A job retried after its worker died resumes after the models already done (activating one
    again would change nothing anyway). A model that fails is counted and the rest go on.
    """
    b = Bulks
    rows = await db.select(
        b.update({b.status: "running"})
        .where((b.id == bulk_id) & b.status.is_in(list(ACTIVE)))
        .returning(b.model_ids, b.done, b.failed, b.actor, b.ip, b.description, b.selection)
    )
    result = ActivationResult()
    if not rows:
        log.info("bulk activation #%s is no longer waiting; nothing to do", bulk_id)
        return result
    job = rows[0]
    ids, done, failed = list(job["model_ids"]), int(job["done"]), int(job["failed"])
    picked = job["selection"]
    draft = bool((json.loads(picked) if isinstance(picked, str) else picked or {}).get("draft"))
    first_error: str | None = None
    for staged_id in ids[done:]:
        still_there = await Staged.exists().where(Staged.id == staged_id)
        try:
            if still_there:  # a sync since the request may have removed it
                result.add(await _activate_one(staged_id, draft))
        except Exception as exc:  # noqa: BLE001 - one model's failure is counted, not fatal
            log.exception("bulk activation #%s: staged model %s failed", bulk_id, staged_id)
            failed += 1
            first_error = first_error or f"staged model #{staged_id}: {exc}"
        done += 1
        await b.update({b.done: done, b.failed: failed}).where(b.id == bulk_id)
    status = "failed" if failed else "succeeded"
    error = f"{failed:,} model(s) failed; the first: {first_error}" if failed else None
    await b.update(
        {b.status: status, b.summary: result.summary(), b.error: error, b.finished_at: now()}
    ).where(b.id == bulk_id)
    await audit.record(
        job["actor"], "activation", job["description"][:500], result.summary(), job["ip"]
    )
    return result
