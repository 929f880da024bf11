"""Admin accounts on Piccolo's BaseUser: only active admins get in."""

from __future__ import annotations

import asyncio
import hmac
from datetime import datetime

from piccolo.apps.user.tables import BaseUser

from domain.platform import db


async def upsert_admin(username: str, email: str, password: str) -> str:
    """Create the admin, or reset its password and make it an active admin again."""
    if len(password) < 8:
        raise ValueError("password is too short: use at least 8 characters.")
    user = await BaseUser.objects().get(BaseUser.username == username)
    if user is None:
        await BaseUser.create_user(
            username=username, password=password, email=email, active=True, admin=True
        )
        return f"created admin {username!r}"
    await BaseUser.update_password(user.id, password)
    await BaseUser.update(
        {BaseUser.active: True, BaseUser.admin: True, BaseUser.email: email}
    ).where(BaseUser.id == user.id)
    return f"updated admin {username!r}"


async def authenticate(username: str, password: str) -> int | None:
    """The user id for valid credentials of an active admin, else None.

    Mirrors BaseUser.login (which returns ids of inactive users too, and hashes on the event
    loop): the PBKDF2 check runs in a thread, and `active` and `admin` are checked here.
    """
    if len(username) > 100 or len(password) > BaseUser._max_password_length:
        return None
    row = (
        await BaseUser.select(BaseUser.id, BaseUser.password, BaseUser.active, BaseUser.admin)
        .where(BaseUser.username == username)
        .first()
    )
    if row is None:
        await asyncio.to_thread(BaseUser.hash_password, password)  # same timing as a miss
        return None
    _, iterations, salt, _ = BaseUser.split_stored_password(row["password"])
    hashed = await asyncio.to_thread(BaseUser.hash_password, password, salt, int(iterations))
    if not hmac.compare_digest(hashed, row["password"]) or not (row["active"] and row["admin"]):
        return None
    await BaseUser.update({BaseUser.last_login: datetime.now()}).where(BaseUser.id == row["id"])
    return int(row["id"])


async def is_active_admin(user_id: int) -> bool:
    """Checked on every request (a deactivated admin is out at once): one indexed lookup."""
    rows = await db.fetch("SELECT active, admin FROM piccolo_user WHERE id = $1", user_id)
    return bool(rows and rows[0]["active"] and rows[0]["admin"])
