"""Error answers in the app's look: domain refusals with their own message and status, anything
else a logged 500 that carries a request id; an htmx request gets a toast and keeps its page."""

from __future__ import annotations

import errno
import logging
import secrets
from typing import Any

from litestar import MediaType, Response
from litestar.exceptions import (
    HTTPException,
    InternalServerException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.plugins.htmx import HTMXRequest, Reswap
from litestar.response import Template

from controllers.responses import is_fragment, user_of
from controllers.security import to_sign_in
from domain.errors import Conflict, DomainError, Invalid, NotFound, SessionEnded
from domain.platform import unique
from domain.uploads.names import human

log = logging.getLogger("creatorflix.errors")
TITLES = {
    400: "Bad request",
    401: "Sign in required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    413: "Too large",
    429: "Too many attempts",
    500: "Something went wrong",
}
DOMAIN_STATUS: dict[type[DomainError], int] = {Invalid: 400, NotFound: 404, Conflict: 409}


def _validation_message(exc: ValidationException) -> str:
    extra = exc.extra if isinstance(exc.extra, list) else []
    parts = [
        f"{e.get('key', 'value')}: {e.get('message', '')}" for e in extra if isinstance(e, dict)
    ]
    return "Invalid input — " + "; ".join(parts) if parts else "Invalid input."


def _no_such_file(exc: Exception) -> bool:
    """A static file path the file system refuses (a 10 kB name): not found, not a 500.
    Litestar's static files raise it as a 500 whose cause is the OSError."""
    cause = exc.__cause__ if isinstance(exc, InternalServerException) else exc
    return isinstance(cause, OSError) and cause.errno in (
        errno.ENAMETOOLONG,
        errno.ENOENT,
        errno.ENOTDIR,
        errno.EINVAL,
    )


def _too_large(request: HTMXRequest) -> str:
    """413: how much this route takes (the upload form takes a file's limit)."""
    try:
        limit = request.route_handler.resolve_request_max_body_size()
    except Exception:  # noqa: BLE001 - not routed: no route's limit to name
        limit = None
    most = f" (at most {human(limit)})" if limit else ""
    return (
        f"The request is larger than this page accepts{most}: send fewer or smaller files; "
        "with JavaScript on, the upload page sends each file straight to the bucket."
    )


def classify(request: HTMXRequest, exc: Exception) -> tuple[int, str, dict[str, str]]:
    """Status, the message for the user, and headers. Only a domain refusal or an HTTP error
    speaks for itself: a bare ValueError or KeyError is a bug, logged under a request id."""
    if _no_such_file(exc):
        return 404, "Not Found", {}
    if isinstance(exc, ValidationException):
        return exc.status_code, _validation_message(exc), dict(exc.headers or {})
    if isinstance(exc, HTTPException) and exc.status_code == 413:
        return 413, _too_large(request), {}
    if isinstance(exc, HTTPException) and exc.status_code < 500:
        return exc.status_code, str(exc.detail), dict(exc.headers or {})
    if isinstance(exc, DomainError):
        status = next(s for kind, s in DOMAIN_STATUS.items() if isinstance(exc, kind))
        return status, str(exc), {}
    if isinstance(exc, unique.UniqueViolation):  # a race no write caught: still the user's 409
        log.warning("unique violation not mapped at its write, on %r: %s", request.url.path, exc)
        return 409, str(unique.conflict(exc)), {}
    request_id = secrets.token_hex(6)
    # repr: a path with an encoded newline must not write a line of its own into the log.
    log.error(
        "request %s: unhandled error on %s %r",
        request_id,
        request.method,
        request.url.path,
        exc_info=exc,
    )
    message = f"An unexpected error occurred; it has been logged as request {request_id}."
    return 500, message, {"X-Request-ID": request_id}


def wants_json(request: HTMXRequest) -> bool:
    """The public API, or a script that asked for JSON (the upload page's calls)."""
    if request.url.path.startswith("/api/"):
        return True
    accept = request.headers.get("accept", "")
    return accept.startswith(MediaType.JSON.value)


def error_response(request: HTMXRequest, exc: Exception) -> Response[Any]:
    status, message, headers = classify(request, exc)
    if wants_json(request):
        return Response(
            {"status_code": status, "detail": message},
            status_code=status,
            headers=headers,
            media_type=MediaType.JSON,
        )
    if is_fragment(request):
        fragment = Reswap(message, "none", status_code=status, media_type=MediaType.TEXT)
        fragment.headers.update(headers)
        return fragment
    return Template(
        "errors/error.html",
        status_code=status,
        headers=headers,
        context={
            "status": status,
            "title": TITLES.get(status, "Error"),
            "message": message,
            "user": user_of(request),
        },
    )


def session_ended(request: HTMXRequest, exc: SessionEnded) -> Response[Any]:
    """An action whose session ended while it ran: refused, and back to the sign-in page."""
    return to_sign_in(request, NotAuthorizedException(str(exc)))


def exception_handlers() -> dict[Any, Any]:
    return {
        Exception: error_response,
        NotAuthorizedException: to_sign_in,
        SessionEnded: session_ended,
    }
