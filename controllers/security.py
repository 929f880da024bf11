"""Who may ask: Litestar's session authentication for admins, a guard for the metrics scraper."""

from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from litestar import Response
from litestar.connection import ASGIConnection
from litestar.enums import ScopeType
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers import BaseRouteHandler
from litestar.middleware import ASGIMiddleware
from litestar.middleware.session.server_side import (
    ServerSideSessionBackend,
    ServerSideSessionConfig,
)
from litestar.plugins.htmx import ClientRedirect, HTMXRequest
from litestar.response import Redirect
from litestar.security.session_auth import SessionAuth
from litestar.types import ASGIApp, Guard, Receive, Scope, Send

from controllers.boundary import UNSAFE
from controllers.sessions import SESSION_COOKIE, RotatingSessionBackend, session_config
from domain.accounts.admins import signed_in
from domain.accounts.sessions import holder
from domain.platform import db

PUBLIC = ("^/login$", "^/healthz$", "^/static/", "^/api/", "^/schema", "^/favicon.ico")
PUBLIC_PREFIXES = ("/login", "/healthz", "/static/", "/api/", "/schema", "/favicon.ico")


@dataclass(frozen=True)
class SignedInAdmin:
    """The signed-in admin (`request.user`), checked to be an active admin on every request."""

    id: int
    username: str
    is_superuser: bool = False


async def current_admin(
    session: dict[str, Any], connection: ASGIConnection[Any, Any, Any, Any]
) -> SignedInAdmin | None:
    """The session's admin if still an active admin: a deactivated one is out at once."""
    user_id = session.get("uid")
    if user_id is None or (found := await signed_in(int(user_id))) is None:
        return None
    return SignedInAdmin(int(user_id), str(session.get("username", "")), found.superuser)


async def superusers_only(
    connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler
) -> None:
    """Managing admins is for superusers: anyone else gets a 403, whatever the route."""
    user = connection.scope.get("user")
    if not (isinstance(user, SignedInAdmin) and user.is_superuser):
        raise PermissionDeniedException(
            "Only superusers manage admins: ask a superuser to do this, or to make you one."
        )


class AdminAuth(SessionAuth[SignedInAdmin, ServerSideSessionBackend]):
    """Session authentication on database sessions that rotate at sign-in."""

    @property
    def session_backend(self) -> ServerSideSessionBackend:
        config = self.session_backend_config
        assert isinstance(config, ServerSideSessionConfig)
        return RotatingSessionBackend(config=config)


class ActionsHoldTheirSession(ASGIMiddleware):
    """After authentication, which ran once the whole body was in (controllers/boundary.py): an
    admin's unsafe request runs each of its transactions only while its session is live and its
    admin active, checked and locked inside that transaction (domain/accounts/sessions.py)."""

    scopes = (ScopeType.HTTP,)

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        user = scope.get("user")
        key = ASGIConnection[Any, Any, Any, Any](scope).cookies.get(SESSION_COOKIE)
        if scope.get("method") not in UNSAFE or not isinstance(user, SignedInAdmin) or not key:
            await next_app(scope, receive, send)
            return
        with db.checked_transactions(holder(key, user.id)):
            await next_app(scope, receive, send)


def admin_auth(idle_seconds: int, secure: bool) -> AdminAuth:
    """Every route but the public ones needs a signed-in, still active admin. Added as
    middleware, not through on_app_init: the public API's schema needs no session cookie."""
    return AdminAuth(
        retrieve_user_handler=current_admin,
        session_backend_config=session_config(idle_seconds, secure),
        exclude=list(PUBLIC),
        exclude_http_methods=[],  # HEAD and OPTIONS of an admin page need a sign-in too
        scopes={ScopeType.HTTP},
    )


def is_public(path: str) -> bool:
    return path == "/login" or path.startswith(PUBLIC_PREFIXES)


def admin_or_scraper(metrics_token: str) -> Guard:
    """`/metrics` (not behind the session middleware's check): a signed-in admin, or a scraper
    that sends `Authorization: Bearer <metrics_token>`."""
    bearer = f"Bearer {metrics_token}".encode() if metrics_token else b""

    async def guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
        given = connection.headers.get("authorization", "").encode("latin-1")
        if bearer and hmac.compare_digest(given, bearer):
            return
        if await current_admin(connection.session, connection) is None:
            if connection.session:  # deactivated or demoted since sign-in: end the session
                connection.clear_session()
            raise NotAuthorizedException("Sign in again.")

    return guard


def to_sign_in(request: HTMXRequest, exc: NotAuthorizedException) -> Response[Any]:
    """Not signed in (or no longer an admin): to the sign-in page, coming back here after.
    An htmx request gets a 401 that tells htmx to load the sign-in page."""
    query = request.scope.get("query_string", b"").decode("latin-1")
    target = request.scope["path"] + (f"?{query}" if query else "")
    location = request.app.route_reverse("login") + f"?next={quote(target, safe='')}"
    if request.htmx:
        response = ClientRedirect(location)
        response.status_code = 401
        return response
    return Redirect(location, status_code=303)
