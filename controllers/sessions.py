"""Server-side sessions in PostgreSQL, given a new id at sign-in and written only when changed."""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from typing import Any

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import Empty, Message, ScopeSession
from litestar.utils.dataclass import extract_dataclass_items

from domain.accounts import sql
from domain.platform import db
from domain.platform.db import now
from domain.platform.tables import SessionRow

PURGE_CHANCE = 0.01
SESSION_COOKIE = "cfx_session"  # its value is the session's key in `admin_sessions`
ROTATE = "_rotate"  # set in the session by the sign-in handler: give it a new id


class DatabaseStore(Store):
    """Sessions in the `admin_sessions` table: they survive restarts and span processes.

    Ending a session is final: `set` only rewrites a session that still exists, and `create`,
    under a key nobody has held, is the only way a row is made (see RotatingSessionBackend)."""

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        await self.write(key, value, expires_in)

    async def write(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> bool:
        """Rewrite a live session; False, writing nothing, if it ended meanwhile."""
        async with db.transaction() as tx:
            return await sql.update_session(tx, key, _bytes(value), _expiry(expires_in))

    async def create(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        async with db.transaction() as tx:
            await sql.insert_session(tx, key, _bytes(value), _expiry(expires_in))
            if random.random() < PURGE_CHANCE:  # expired rows go now and then, not per request
                await tx.run(SessionRow.delete().where(SessionRow.expires_at < now()))

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        live = await sql.live_session(key, now())
        if live is None:
            return None
        seconds = (
            renew_for.total_seconds() if isinstance(renew_for, timedelta) else (renew_for or 0)
        )
        # Sliding expiry, written at most once a minute rather than on every request.
        if seconds and live["expires_at"] < now() + timedelta(seconds=seconds - 60):
            await SessionRow.update(
                {SessionRow.expires_at: now() + timedelta(seconds=seconds)}
            ).where(SessionRow.key == key)
        return bytes(live["data"])

    async def delete(self, key: str) -> None:
        await SessionRow.delete().where(SessionRow.key == key)

    async def delete_all(self) -> None:
        await SessionRow.delete(force=True)

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        row = await db.first(SessionRow.select(SessionRow.expires_at).where(SessionRow.key == key))
        return int((row["expires_at"] - now()).total_seconds()) if row else None


class RotatingSessionBackend(ServerSideSessionBackend):
    """Litestar keeps a session's id across sign-in (session fixation): this backend gives the
    session a new id when it holds `ROTATE`, dropping the old one, and writes the store only
    when the session changed (the cookie is still renewed, for the idle timeout)."""

    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        if session_id := connection.cookies.get(self.config.key):
            store = self.config.get_store_from_app(connection.scope["app"])
            data = await self.get(session_id, store=store)
            if data is not None:
                connection.state.session_loaded = data
                return self.deserialize_data(data)
        return {}

    async def store_in_message(
        self,
        scope_session: ScopeSession,
        message: Message,
        connection: ASGIConnection[Any, Any, Any, Any],
    ) -> None:
        cookie = connection.cookies.get(self.config.key)
        store = self.config.get_store_from_app(connection.scope["app"])
        if not scope_session or scope_session is Empty:
            # Anonymous requests store nothing; an emptied session is deleted server-side.
            if cookie not in (None, "null"):
                await super().store_in_message(Empty, message, connection)
            return
        rotate = isinstance(scope_session, dict) and bool(scope_session.pop(ROTATE, False))
        data = self.serialize_data(scope_session, connection.scope)
        loaded = connection.state.get("session_loaded")
        assert isinstance(store, DatabaseStore)
        if rotate or loaded is None:
            # A new session (a sign-in, or data in a request that loaded none) gets a key
            # nobody has held: never the cookie's, which may name a session that has ended.
            if rotate and cookie:
                await self.delete(cookie, store=store)
            session_id = self.generate_session_id()
            await store.create(session_id, data, expires_in=self.config.max_age)
        elif data == loaded or await store.write(str(cookie), data, self.config.max_age):
            session_id = str(cookie)  # unchanged, or rewritten while it still exists
        else:  # it ended while this request ran (sign-out, reset, deactivation): it stays ended
            await super().store_in_message(Empty, message, connection)
            return
        self._set_cookie(message, session_id)

    def _set_cookie(self, message: Message, session_id: str) -> None:
        params = extract_dataclass_items(
            self.config, exclude_none=True, include=Cookie.__dict__.keys()
        )
        cookie = Cookie(value=session_id, key=self.config.key, **dict(params))
        MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))


def _bytes(value: str | bytes) -> bytes:
    return value.encode() if isinstance(value, str) else value


def _expiry(expires_in: int | timedelta | None) -> datetime:
    seconds = (
        expires_in.total_seconds() if isinstance(expires_in, timedelta) else (expires_in or 86400)
    )
    return now() + timedelta(seconds=seconds)


def session_config(idle_seconds: int, secure: bool) -> ServerSideSessionConfig:
    return ServerSideSessionConfig(
        store="sessions",
        max_age=idle_seconds,
        renew_on_access=True,
        key=SESSION_COOKIE,
        httponly=True,
        samesite="lax",
        secure=secure,
    )
