"""CSRF tokens bound to the server-side session (Litestar's own check is double-submit only, so a
cookie planted from a sibling site would pass it). Signed in, the token is the one stored in the
session, new at every sign-in; signed out (the sign-in form), an HMAC-signed cookie must match."""

from __future__ import annotations

import re
import secrets
from secrets import compare_digest
from typing import Any

from litestar.connection import Request
from litestar.datastructures import Cookie, MutableScopeHeaders
from litestar.enums import RequestEncodingType, ScopeType
from litestar.exceptions import PermissionDeniedException
from litestar.middleware import ASGIMiddleware
from litestar.middleware.csrf import generate_csrf_hash, generate_csrf_token
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from litestar.utils.scope.state import ScopeState

from controllers.boundary import UNSAFE

COOKIE = "cfx_csrf"
HEADER = "x-csrftoken"
FIELD = "_csrf_token"
SESSION_KEY = "csrf"
EXEMPT = re.compile(r"^/(api/|static/|schema(/|$)|healthz$)")  # anchored: never a folder name


class SessionCsrf(ASGIMiddleware):
    """After the session middleware: the token for templates, and the check on unsafe requests."""

    scopes = (ScopeType.HTTP,)

    def __init__(self, secret: str, secure: bool) -> None:
        self.secret = secret
        self.secure = secure

    def new_token(self) -> str:
        return generate_csrf_token(self.secret)

    def signed(self, token: str | None) -> bool:
        """Ours: 64 hex characters and their HMAC under the app's secret."""
        if not token or len(token) != 128:
            return False
        return _same(token[64:], generate_csrf_hash(token[:64], self.secret))

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if EXEMPT.match(scope["path"]):
            await next_app(scope, receive, send)
            return
        request: Request[Any, Any, Any] = Request(scope, receive)
        cookie = request.cookies.get(COOKIE)
        bound = _bound(scope)
        token: str
        if scope.get("method") in UNSAFE:
            expected = bound if _signed_in(scope) else (cookie if self.signed(cookie) else None)
            given = request.headers.get(HEADER)
            content_type, _ = request.content_type
            if not given and content_type in (
                RequestEncodingType.URL_ENCODED,
                RequestEncodingType.MULTI_PART,
            ):
                value = (await request.form()).get(FIELD)
                given = value if isinstance(value, str) else None
            if not (expected and given and _same(given, expected)):
                raise PermissionDeniedException(
                    "CSRF token missing or not this session's: reload the page and try again."
                )
            token = str(expected)
        else:
            if _signed_in(scope) and bound is None:  # a session from before tokens were bound
                bound = _session(scope)[SESSION_KEY] = fresh_token()
            token = bound or (cookie if cookie and self.signed(cookie) else self.new_token())
        ScopeState.from_scope(scope).csrf_token = token

        async def send_cookie(message: Message) -> None:
            if message["type"] == "http.response.start":
                # After the handler: a sign-in has stored the session's new token by now.
                wanted = _bound(scope) or token
                if wanted != cookie:
                    cookie_header = Cookie(
                        key=COOKIE, value=wanted, path="/", secure=self.secure, samesite="lax"
                    ).to_header(header="")
                    MutableScopeHeaders.from_message(message).add("set-cookie", cookie_header)
            await send(message)

        await next_app(scope, receive, send_cookie)


def _same(given: str, expected: str) -> bool:
    """Constant-time, and any characters (compare_digest refuses non-ASCII str)."""
    return compare_digest(given.encode("utf-8", "replace"), expected.encode("utf-8", "replace"))


def fresh_token() -> str:
    """A signed-in session's token: stored in the session at sign-in, so a new one each time."""
    return secrets.token_hex(64)


def _session(scope: Scope) -> dict[str, object]:
    raw = scope.get("session")
    return raw if isinstance(raw, dict) else {}


def _signed_in(scope: Scope) -> bool:
    return _session(scope).get("uid") is not None


def _bound(scope: Scope) -> str | None:
    """The token stored in a signed-in session (a signed-out one has none)."""
    session = _session(scope)
    token = session.get(SESSION_KEY)
    return token if session.get("uid") is not None and isinstance(token, str) else None
