"""Hand-written SQL for admin accounts and the session store (see the package docstring)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import TypedDict

from domain.platform import db

COLUMNS = "id, username, email, active, superuser, last_login"
NEW_ADMIN_LOCK = 0x43464C55  # "CFLU": one admin created at a time (names compare lowercased)


class LiveSession(TypedDict):
    data: bytes
    expires_at: datetime


async def signed_in(user_id: int) -> bool | None:
    """Whether the active admin is a superuser; None if no active admin has this id."""
    # raw: hot read, query builder measured slower
    found = await db.fetch(
        "SELECT superuser FROM piccolo_user WHERE id = $1 AND active AND admin", user_id
    )
    return bool(found[0]["superuser"]) if found else None


async def lock_admins(tx: db.Tx) -> Sequence[db.Record]:
    """Every admin's COLUMNS, locked, on their way into accounts.admins.Admin."""
    # raw: a lock (FOR UPDATE)
    return await tx.fetch(f"SELECT {COLUMNS} FROM piccolo_user WHERE admin ORDER BY id FOR UPDATE")


async def lock_new_admins(tx: db.Tx) -> None:
    """Until the transaction ends: "is the name free? then insert" runs for one admin at a
    time; the unique index on username alone would let 'Ann' and 'ann' in together."""
    await tx.execute("SELECT pg_advisory_xact_lock($1)", NEW_ADMIN_LOCK)  # raw: a lock


async def update_session(tx: db.Tx, key: str, data: bytes, expires: datetime) -> bool:
    """Write a session that still exists; False if it ended meanwhile (never re-creates it)."""
    # raw: hot write, query builder measured slower (the per-request session write)
    updated = await tx.fetch(
        "UPDATE admin_sessions SET data = $2, expires_at = $3 WHERE key = $1 RETURNING key",
        key,
        data,
        expires,
    )
    return bool(updated)


async def insert_session(tx: db.Tx, key: str, data: bytes, expires: datetime) -> None:
    """A new session under a freshly generated key: the only way a session row is made."""
    # raw: hot write (every sign-in), beside update_session
    await tx.execute(
        "INSERT INTO admin_sessions (key, data, expires_at) VALUES ($1, $2, $3)", key, data, expires
    )


async def hold_session(tx: db.Tx, key: str, admin_id: int) -> bool:
    """Inside an action's transaction: the session is live and its admin an active admin. The
    session row stays locked (KEY SHARE) until the action commits, so ending the session
    (a DELETE) waits for the action, or the action sees the session gone."""
    # raw: a lock (FOR KEY SHARE OF s)
    held = await tx.fetch(
        "SELECT 1 FROM admin_sessions s JOIN piccolo_user u ON u.id = $2 "
        "WHERE s.key = $1 AND s.expires_at > now() AND u.active AND u.admin "
        "FOR KEY SHARE OF s",
        key,
        admin_id,
    )
    return bool(held)


async def live_session(key: str, at: datetime) -> LiveSession | None:
    # raw: hot read, query builder measured slower (the per-request session check)
    found = await db.fetch(
        "SELECT data, expires_at FROM admin_sessions WHERE key = $1 AND expires_at > $2",
        key,
        at,
    )
    return db.typed(LiveSession, found)[0] if found else None


async def audit_actions(limit: int) -> list[str]:
    """The distinct actions the audit log holds, by name, one index probe each.
    # raw: a recursive CTE (a loose index scan), which the builder cannot express; the
    builder's SELECT DISTINCT read every entry (68 ms on 300,000, this under 1 ms)."""
    found = await db.fetch(
        "WITH RECURSIVE a AS ("
        " (SELECT action FROM audit_log ORDER BY action LIMIT 1)"
        " UNION ALL"
        " SELECT (SELECT action FROM audit_log WHERE action > a.action ORDER BY action LIMIT 1)"
        " FROM a WHERE a.action IS NOT NULL"
        ") SELECT action FROM a WHERE action IS NOT NULL LIMIT $1",
        limit,
    )
    return [str(r["action"]) for r in found]
