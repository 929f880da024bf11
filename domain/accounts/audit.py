"""Audit log of admin actions, and sign-in throttling derived from it (works across processes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from domain.platform import db
from domain.platform.db import now
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


async def page(before_id: int | None = None, action: str = "") -> list[Logged]:
    query = AuditEntry.select().order_by(AuditEntry.id, ascending=False).limit(PAGE_SIZE + 1)
    if before_id is not None:
        query = query.where(AuditEntry.id < before_id)
    if action:
        query = query.where(AuditEntry.action == action)
    return [Logged.from_row(r) for r in await db.select(query)]


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
