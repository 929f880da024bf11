"""Ending an admin's server-side sessions (`admin_sessions`, written by
controllers/sessions.py).

A session's data is the JSON Litestar serializes; the sign-in puts the admin's id in it as
"uid". Sessions are few (admins times devices), so they are read and matched here rather than
parsed by SQL, where one unreadable row would fail the whole statement.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable

from domain.accounts import sql
from domain.errors import SessionEnded
from domain.platform.db import Tx
from domain.platform.tables import SessionRow


def owner(data: bytes) -> int | None:
    """The admin id a session belongs to, if it names one."""
    try:
        uid = json.loads(data).get("uid")
    except (ValueError, AttributeError):
        return None
    return uid if isinstance(uid, int) else None


async def end(tx: Tx, admin_id: int, keep: str | None = None) -> int:
    """Delete the admin's sessions except `keep`; how many ended."""
    rows = await tx.run(SessionRow.select(SessionRow.key, SessionRow.data))
    keys = [r["key"] for r in rows if owner(bytes(r["data"])) == admin_id and r["key"] != keep]
    if keys:
        await tx.run(SessionRow.delete().where(SessionRow.key.is_in(keys)))
    return len(keys)


def holder(key: str, admin_id: int) -> Callable[[Tx], Awaitable[None]]:
    """The check an admin's action runs first in each of its transactions: its session still
    exists and its admin is still active (else `SessionEnded`). Ending a session is final: an
    action that raced its ending either committed before it or is refused."""

    async def hold(tx: Tx) -> None:
        if not await sql.hold_session(tx, key, admin_id):
            raise SessionEnded(
                "Your session ended while this request ran (signed out, password reset or "
                "account deactivated): nothing was changed. Sign in again."
            )

    return hold
