"""Admin accounts on Piccolo's BaseUser: only active admins get in."""

from __future__ import annotations

import asyncio

from piccolo.apps.user.tables import BaseUser


async def upsert_admin(username: str, email: str, password: str) -> str:
    """Create the admin, or reset its password and make it an active admin again."""
    if len(password) < 8:
        raise ValueError("password is too short: use at least 8 characters.")
    user = await BaseUser.objects().get(BaseUser.username == username)
    if user is None:
        await BaseUser.create_user(username=username, password=password, email=email,
                                   active=True, admin=True)
        return f"created admin {username!r}"
    await BaseUser.update_password(user.id, password)
    await BaseUser.update({BaseUser.active: True, BaseUser.admin: True,
                           BaseUser.email: email}).where(BaseUser.id == user.id)
    return f"updated admin {username!r}"


async def authenticate(username: str, password: str) -> int | None:
    """The user id for valid credentials of an active admin, else None.

    BaseUser.login returns ids of inactive users too, so `active` and `admin` are checked here;
    its PBKDF2 check is CPU-bound, so it runs in a thread.
    """
    user_id = await asyncio.to_thread(BaseUser.login_sync, username, password)
    if user_id is None:
        return None
    return user_id if await is_active_admin(user_id) else None


async def is_active_admin(user_id: int) -> bool:
    row = await BaseUser.select(BaseUser.active, BaseUser.admin).where(
        BaseUser.id == user_id).first()
    return bool(row and row["active"] and row["admin"])
