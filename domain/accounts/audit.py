"""Audit log of admin actions, and sign-in throttling derived from it (works across processes)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from domain.platform import db
from domain.platform.db import now

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
    """One line; `model` names the production model it concerns (its history page)."""
    async with db.transaction() as tx:
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
    await tx.executemany(
        "INSERT INTO audit_log (actor, action, target, detail, ip, model, created_at) "
        "VALUES ($1, $2, $3, $4, $5, $6, $7)",
        [
            (actor[:150], action, target, detail, ip[:64], model, stamp)
            for actor, action, target, detail, ip, model in entries
        ],
    )


async def page(before_id: int | None = None, action: str = "") -> list[Logged]:
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if before_id is not None:
        args.append(before_id)
        where.append(f"id < ${len(args)}")
    if action:
        args.append(action)
        where.append(f"action = ${len(args)}")
    args.append(PAGE_SIZE + 1)
    rows = await db.fetch(
        f"SELECT * FROM audit_log WHERE {' AND '.join(where)} ORDER BY id DESC LIMIT ${len(args)}",
        *args,
    )
    return [Logged.from_row(r) for r in rows]


@dataclass(frozen=True)
class Throttle:
    retry_after: int  # seconds
    reason: str


async def begin_sign_in(username: str, ip: str) -> int:
    """Record an attempt before its password is hashed, as a failure until it proves right:
    concurrent wrong guesses for one account then count each other, and at most the limit of
    them reach the slow hash."""
    rows = await db.fetch(
        "INSERT INTO audit_log (actor, action, target, detail, ip, created_at) "
        "VALUES ($1, 'sign_in_failed', $2, 'checking', $3, $4) RETURNING id",
        username[:150],
        username,
        ip[:64],
        now(),
    )
    return int(rows[0]["id"])


async def end_sign_in(attempt: int, succeeded: bool | None) -> None:
    """The attempt's verdict: a sign-in, a failure, or (None) refused unheard, and forgotten."""
    async with db.transaction() as tx:
        if succeeded is None:
            await tx.execute("DELETE FROM audit_log WHERE id = $1", attempt)
        elif succeeded:
            await tx.execute(
                "UPDATE audit_log SET action = 'sign_in', detail = '' WHERE id = $1", attempt
            )
        else:
            await tx.execute(
                "UPDATE audit_log SET detail = 'wrong credentials' WHERE id = $1", attempt
            )


async def sign_in_throttle(username: str, ip: str, attempt: int = 0) -> Throttle | None:
    """Too many failed sign-ins (other than `attempt`, this one) for this account or address in
    the window: when to retry. Attempts still being checked count as failures."""
    since = now() - THROTTLE_WINDOW
    for column, value, limit, what in (
        ("target", username, MAX_FAILURES_PER_ACCOUNT, "account"),
        ("ip", ip, MAX_FAILURES_PER_ADDRESS, "address"),
    ):
        rows = await db.fetch(
            f"SELECT created_at FROM audit_log WHERE action = 'sign_in_failed' AND {column} = $1 "
            "AND created_at >= $2 AND id <> $4 ORDER BY created_at DESC LIMIT $3",
            value,
            since,
            limit,
            attempt,
        )
        if len(rows) >= limit:
            oldest = rows[-1]["created_at"]
            wait = int((oldest + THROTTLE_WINDOW - now()).total_seconds()) + 1
            return Throttle(max(wait, 1), f"too many failed sign-ins for this {what}")
    return None
