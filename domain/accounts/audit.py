"""Audit log of admin actions, and sign-in throttling derived from it (works across processes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from piccolo.apps.user.tables import BaseUser
from piccolo.custom_types import Combinable

from domain.accounts import sql
from domain.platform import db, paging
from domain.platform.db import now
from domain.platform.listing import Filter, ListQuery, ListSpec
from domain.platform.tables import AuditEntry

THROTTLE_WINDOW = timedelta(minutes=15)
MAX_FAILURES_PER_ACCOUNT = 5
MAX_FAILURES_PER_ADDRESS = 20
PAGE_SIZE = 50


async def record(
    actor: str,
    action: str,
    target: str = "",
    detail: str = "",
    ip: str = "",
    model: int | None = None,
) -> None:
    """One line; `model` names the production model it concerns (its history page). Not
    refused when the session has just ended: what was done is recorded."""
    async with db.transaction(checked=False) as tx:
        await record_in(tx, [(actor, action, target, detail, ip, model)])


# (actor, action, target, detail, ip, production model id or None)
Entry = tuple[str, str, str, str, str, int | None]


@dataclass(frozen=True)
class Logged(db.FromRow):
    """An audit entry as written: the log page and a model's history list these."""

    id: int
    actor: str
    action: str
    target: str
    detail: str
    ip: str
    model: int | None  # the production model it concerns
    created_at: datetime


async def record_in(tx: db.Tx, entries: Iterable[Entry]) -> None:
    """Lines written inside the caller's transaction: they commit with the change they record."""
    stamp = now()
    lines = [
        AuditEntry(
            actor=actor[:150],
            action=action,
            target=target,
            detail=detail,
            ip=ip[:64],
            model=model,
            created_at=stamp,
        )
        for actor, action, target, detail, ip, model in entries
    ]
    if lines:
        await tx.run(AuditEntry.insert(*lines))


# Every action the app records; the log's filter also accepts any other one the log holds.
ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "sync_started",
    "sync_finished",
    "sync_cancelled",
    "sync_confirmed",
    "sync_schedule_changed",
    "sync_discarded",
    "activation",
    "previews_paused",
    "previews_resumed",
    "job_failed",
    "job_retried",
    "publish_change",
    "model_edited",
    "model_retired",
    "model_restored",
    "upload_started",
    "upload_replaced",
    "upload_finished",
    "admin_created",
    "admin_deactivated",
    "admin_reactivated",
    "admin_password_reset",
)
MAX_CHOICES = 100  # the admin select lists at most this many names
MAX_TEXT = 200  # a search or target longer than this is refused, not searched
# The log's controls, like a ChangeList: its filters (each a GET parameter, so a view is
# bookmarkable: ?admin=&action=&target=&q=&from=&to=, days UTC and inclusive) and the page
# (`before`, the id the page starts below, newest first). `actor` is the signed-in admin, so
# who did it is `admin`; `from` is Python's, so the days are since/until in code.
LIST = ListSpec(
    filters=(
        Filter("admin", "text", limit=MAX_TEXT),
        Filter("action"),  # any the log holds: checked by `check`
        Filter("target", "text", limit=MAX_TEXT),
        Filter("q", "search", limit=MAX_TEXT),
        Filter("from", "date"),
        Filter("to", "date"),
    ),
    sizes=(PAGE_SIZE,),
    paging="older",
    ranges=(("from", "to"),),
)


def check(query: ListQuery, known_actions: Iterable[str] = ()) -> ListQuery:
    """The query, if its action is one the app records or the log holds; else a BadQuery."""
    action = query.filter("action")
    if action and action not in ACTIONS and action not in set(known_actions):
        raise paging.BadQuery(
            f"action={action!r} is not an audited action: use one of {', '.join(ACTIONS)}."
        )
    return query


def _conditions(query: ListQuery) -> list[Combinable]:
    """The filters as Piccolo conditions (the page's `before` is not one)."""
    found: list[Combinable] = []
    for name, column in (("admin", AuditEntry.actor), ("action", AuditEntry.action)):
        if value := query.filter(name):
            found.append(column == value)
    if target := query.filter("target"):
        found.append(AuditEntry.target == target)
    if query.search:
        pattern = paging.like_pattern(query.search)
        found.append(
            AuditEntry.actor.ilike(pattern)
            | AuditEntry.target.ilike(pattern)
            | AuditEntry.detail.ilike(pattern)
            | AuditEntry.ip.ilike(pattern)
        )
    if since := query.filter("from"):
        found.append(AuditEntry.created_at >= _midnight(date.fromisoformat(since)))
    if until := query.filter("to"):
        next_day = date.fromisoformat(until) + timedelta(days=1)
        found.append(AuditEntry.created_at < _midnight(next_day))
    return found


def _midnight(day: date) -> datetime:
    return datetime.combine(day, time.min, tzinfo=UTC)


async def page(query: ListQuery) -> list[Logged]:
    """One page (and one row more, for `paging.older`), newest first."""
    select = AuditEntry.select().order_by(AuditEntry.id, ascending=False).limit(PAGE_SIZE + 1)
    conditions = _conditions(query)
    if query.before_id is not None:
        conditions.append(AuditEntry.id < query.before_id)
    if conditions:
        select = select.where(*conditions)
    return [Logged.from_row(r) for r in await db.select(select)]


async def matching(query: ListQuery) -> int:
    """How many entries the filters match (all pages)."""
    counted = AuditEntry.count()
    conditions = _conditions(query)
    if conditions:
        counted = counted.where(*conditions)
    return int(await counted)


async def logged_actions() -> list[str]:
    """The actions the log holds, for the filter's choices."""
    return await sql.audit_actions(200)


async def admin_names() -> list[str]:
    """The admins (active or not) by name, at most MAX_CHOICES: the filter's choices of who.
    Not the log's distinct actors: that read every entry (92 ms on 300,000), and holds every
    name typed at a failed sign-in."""
    rows = await db.select(
        BaseUser.select(BaseUser.username)
        .where(BaseUser.admin.eq(True))
        .order_by(BaseUser.username)
        .limit(MAX_CHOICES)
    )
    return [str(r["username"]) for r in rows]


@dataclass(frozen=True)
class Throttle:
    retry_after: int  # seconds
    reason: str


async def begin_sign_in(username: str, ip: str) -> int:
    """Record an attempt before its password is hashed, as a failure until it proves right:
    concurrent wrong guesses for one account then count each other, and at most the limit of
    them reach the slow hash."""
    inserted = await AuditEntry.insert(
        AuditEntry(
            actor=username[:150],
            action="sign_in_failed",
            target=username,
            detail="checking",
            ip=ip[:64],
            created_at=now(),
        )
    ).returning(AuditEntry.id)
    return int(inserted[0]["id"])


async def end_sign_in(attempt: int, succeeded: bool | None) -> None:
    """The attempt's verdict: a sign-in, a failure, or (None) refused unheard, and forgotten."""
    if succeeded is None:
        await AuditEntry.delete().where(AuditEntry.id == attempt)
    elif succeeded:
        await AuditEntry.update({AuditEntry.action: "sign_in", AuditEntry.detail: ""}).where(
            AuditEntry.id == attempt
        )
    else:
        await AuditEntry.update({AuditEntry.detail: "wrong credentials"}).where(
            AuditEntry.id == attempt
        )


async def sign_in_throttle(username: str, ip: str, attempt: int = 0) -> Throttle | None:
    """Too many failed sign-ins (other than `attempt`, this one) for this account or address in
    the window: when to retry. Attempts still being checked count as failures."""
    since = now() - THROTTLE_WINDOW
    for column, value, limit, what in (
        (AuditEntry.target, username, MAX_FAILURES_PER_ACCOUNT, "account"),
        (AuditEntry.ip, ip, MAX_FAILURES_PER_ADDRESS, "address"),
    ):
        rows = await db.select(
            AuditEntry.select(AuditEntry.created_at)
            .where(
                (AuditEntry.action == "sign_in_failed")
                & (column == value)
                & (AuditEntry.created_at >= since)
                & (AuditEntry.id != attempt)
            )
            .order_by(AuditEntry.created_at, ascending=False)
            .limit(limit)
        )
        if len(rows) >= limit:
            oldest = rows[-1]["created_at"]
            wait = int((oldest + THROTTLE_WINDOW - now()).total_seconds()) + 1
            return Throttle(max(wait, 1), f"too many failed sign-ins for this {what}")
    return None
