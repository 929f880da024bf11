"""Hand-written SQL for admin accounts and the session store (see the package docstring)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from domain.platform import db

COLUMNS = "id, username, email, active, superuser, last_login"
NEW_ADMIN_LOCK = 0x43464C55  # "CFLU": one admin created at a time (names compare lowercased)


async def signed_in(user_id: int) -> list[dict[str, Any]]:
    # raw: hot read, query builder measured slower
    return await db.fetch(
        "SELECT superuser FROM piccolo_user WHERE id = $1 AND active AND admin", user_id
    )


async def lock_admins(tx: db.Tx) -> list[dict[str, Any]]:
    # raw: a lock (FOR UPDATE)
    return await tx.fetch(f"SELECT {COLUMNS} FROM piccolo_user WHERE admin ORDER BY id FOR UPDATE")


async def lock_new_admins(tx: db.Tx) -> None:
    """Until the transaction ends: "is the name free? then insert" runs for one admin at a
    time; the unique index on username alone would let 'Ann' and 'ann' in together."""
    await tx.execute("SELECT pg_advisory_xact_lock($1)", NEW_ADMIN_LOCK)  # raw: a lock


async def upsert_session(tx: db.Tx, key: str, data: bytes, expires: datetime) -> None:
    # raw: hot read, query builder measured slower (the per-request session write)
    await tx.execute(
        "INSERT INTO admin_sessions (key, data, expires_at) VALUES ($1, $2, $3) "
        "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
        "expires_at = excluded.expires_at",
        key,
        data,
        expires,
    )


async def live_session(key: str, at: datetime) -> list[dict[str, Any]]:
    # raw: hot read, query builder measured slower (the per-request session check)
    return await db.fetch(
        "SELECT data, expires_at FROM admin_sessions WHERE key = $1 AND expires_at > $2",
        key,
        at,
    )
