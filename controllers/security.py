"""Sign-in protection: database sessions (rotated at sign-in) and the admin gate."""

from __future__ import annotations

import hmac
import random
from datetime import timedelta
from typing import Any
from urllib.parse import quote

from litestar.connection import ASGIConnection
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.stores.base import Store
from litestar.types import ASGIApp, Empty, Message, Receive, Scope, Send
from litestar.utils.dataclass import extract_dataclass_items

from domain.accounts.admins import is_active_admin
from domain.platform import db
from domain.platform.db import now

PURGE_CHANCE = 0.01
PUBLIC_PREFIXES = ("/login", "/healthz", "/static/", "/api/", "/schema", "/favicon.ico")


class DatabaseStore(Store):
    """Sessions in the `admin_sessions` table: they survive restarts and span processes."""

    async def set(
        self, key: str, value: str | bytes, expires_in: int | timedelta | None = None
    ) -> None:
        data = value.encode() if isinstance(value, str) else value
        seconds = (
            expires_in.total_seconds()
            if isinstance(expires_in, timedelta)
            else (expires_in or 86400)
        )
        expires = now() + timedelta(seconds=seconds)
        async with db.transaction() as tx:  # an upsert: concurrent requests of one session race
            await tx.execute(
                "INSERT INTO admin_sessions (key, data, expires_at) VALUES ($1, $2, $3) "
                "ON CONFLICT (key) DO UPDATE SET data = excluded.data, "
                "expires_at = excluded.expires_at",
                key,
                data,
                expires,
            )
            if random.random() < PURGE_CHANCE:  # expired rows go now and then, not per request
                await tx.execute("DELETE FROM admin_sessions WHERE expires_at < $1", now())

    async def get(self, key: str, renew_for: int | timedelta | None = None) -> bytes | None:
        rows = await db.fetch(
            "SELECT data, expires_at FROM admin_sessions WHERE key = $1 AND expires_at > $2",
            key,
            now(),
        )
        if not rows:
            return None
        seconds = (
            renew_for.total_seconds() if isinstance(renew_for, timedelta) else (renew_for or 0)
        )
        # Sliding expiry, written at most once a minute rather than on every request.
        if seconds and rows[0]["expires_at"] < now() + timedelta(seconds=seconds - 60):
            async with db.transaction() as tx:
                await tx.execute(
                    "UPDATE admin_sessions SET expires_at = $2 WHERE key = $1",
                    key,
                    now() + timedelta(seconds=seconds),
                )
        return bytes(rows[0]["data"])

    async def delete(self, key: str) -> None:
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM admin_sessions WHERE key = $1", key)

    async def delete_all(self) -> None:
        async with db.transaction() as tx:
            await tx.execute("DELETE FROM admin_sessions")

    async def exists(self, key: str) -> bool:
        return await self.get(key) is not None

    async def expires_in(self, key: str) -> int | None:
        rows = await db.fetch("SELECT expires_at FROM admin_sessions WHERE key = $1", key)
        return int((rows[0]["expires_at"] - now()).total_seconds()) if rows else None


ROTATE = "_rotate"


class RotatingSessionBackend(ServerSideSessionBackend):
    """Gives the session a new id when the handler asks (at sign-in), dropping the old one;
    writes the store only when the session changed."""

    async def load_from_connection(
        self, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> dict[str, Any]:
        if session_id := connection.cookies.get(self.config.key):
            store = self.config.get_store_from_app(connection.scope["app"])
            data = await self.get(session_id, store=store)
            if data is not None:
                connection.scope["_session_raw"] = data  # type: ignore[typeddict-unknown-key]
                return self.deserialize_data(data)
        return {}

    def get_session_id(self, connection: ASGIConnection[Any, Any, Any, Any]) -> str:
        fresh = connection.scope.get("_fresh_session_id")
        return str(fresh) if fresh else super().get_session_id(connection)

    async def store_in_message(
        self, scope_session: Any, message: Message, connection: ASGIConnection[Any, Any, Any, Any]
    ) -> None:
        if not scope_session or scope_session is Empty:
            # Anonymous requests store nothing; an emptied session is deleted server-side.
            if connection.cookies.get(self.config.key) not in (None, "null"):
                await super().store_in_message(Empty, message, connection)
            return
        if isinstance(scope_session, dict) and scope_session.pop(ROTATE, False):
            old = connection.cookies.get(self.config.key)
            if old:
                await self.delete(
                    old, store=self.config.get_store_from_app(connection.scope["app"])
                )
            connection.scope["_fresh_session_id"] = self.generate_session_id()  # type: ignore
        elif self.serialize_data(scope_session, connection.scope) == connection.scope.get(
            "_session_raw"
        ):
            params = extract_dataclass_items(
                self.config, exclude_none=True, include=Cookie.__dict__.keys()
            )
            cookie = Cookie(
                value=self.get_session_id(connection), key=self.config.key, **dict(params)
            )
            MutableScopeHeaders.from_message(message).add("Set-Cookie", cookie.to_header(header=""))
            return
        await super().store_in_message(scope_session, message, connection)


class DatabaseSessionConfig(ServerSideSessionConfig):
    _backend_class = RotatingSessionBackend


def session_config(idle_seconds: int, secure: bool) -> DatabaseSessionConfig:
    return DatabaseSessionConfig(
        store="sessions",
        max_age=idle_seconds,
        renew_on_access=True,
        key="cfx_session",
        httponly=True,
        samesite="lax",
        secure=secure,
    )


def is_public(path: str) -> bool:
    return path == "/login" or path.startswith(PUBLIC_PREFIXES)


class AdminGate(ASGIMiddleware):
    """Every route but the public ones needs a signed-in, still active admin.

    `/metrics` also lets in a scraper that sends `Authorization: Bearer <metrics_token>`.
    """

    scopes = (ScopeType.HTTP,)

    def __init__(self, metrics_token: str = "") -> None:
        self.metrics_bearer = f"Bearer {metrics_token}".encode() if metrics_token else b""

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        path = scope["path"]
        if is_public(path) or self._scraper(scope):
            await next_app(scope, receive, send)
            return
        raw = scope.get("session")
        session: dict[str, Any] = raw if isinstance(raw, dict) else {}
        user_id = session.get("uid")
        if user_id is not None and await is_active_admin(int(user_id)):
            scope.setdefault("state", {})["user"] = {
                "id": user_id,
                "username": session.get("username", ""),
            }
            await next_app(scope, receive, send)
            return
        if user_id is not None:  # deactivated or demoted since sign-in: end the session
            scope["session"] = {}
        await _to_login(scope, send)

    def _scraper(self, scope: Scope) -> bool:
        if not self.metrics_bearer or scope["path"] != "/metrics":
            return False
        given = dict(scope.get("headers", [])).get(b"authorization", b"")
        return hmac.compare_digest(given, self.metrics_bearer)


async def _to_login(scope: Scope, send: Any) -> None:
    query = scope.get("query_string", b"").decode()
    target = scope["path"] + (f"?{query}" if query else "")
    location = f"/login?next={quote(target, safe='')}".encode()
    if dict(scope.get("headers", [])).get(b"hx-request") == b"true":
        await _reply(send, 401, (b"hx-redirect", location), b"Sign in again.")
    else:
        await _reply(send, 303, (b"location", location), b"See /login")


async def _reply(send: Any, status: int, header: tuple[bytes, bytes], body: bytes) -> None:
    headers = [header, (b"content-type", b"text/plain; charset=utf-8")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
