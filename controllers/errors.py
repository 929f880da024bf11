"""Error pages in the app's look; an HTMX request gets a toast and leaves the page intact."""

from __future__ import annotations

import errno
import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import (
    HTTPException,
    InternalServerException,
    NotAuthorizedException,
    ValidationException,
)
from litestar.response import Template
from litestar.status_codes import HTTP_500_INTERNAL_SERVER_ERROR

from controllers.templating import is_fragment, user_of
from domain.catalogue.confirm import NotConfirmable
from domain.catalogue.runs import SyncBusy
from domain.platform.paging import BadQuery
from domain.staging.activation import UnknownModels

log = logging.getLogger("creatorflix.errors")
TITLES = {
    400: "Bad request",
    401: "Sign in required",
    403: "Forbidden",
    404: "Not found",
    405: "Method not allowed",
    409: "Conflict",
    429: "Too many attempts",
    500: "Something went wrong",
}


def _message(exc: Exception, status: int) -> str:
    if isinstance(exc, ValidationException):
        extra = exc.extra if isinstance(exc.extra, list) else []
        parts = [
            f"{e.get('key', 'value')}: {e.get('message', '')}" for e in extra if isinstance(e, dict)
        ]
        return "Invalid input — " + "; ".join(parts) if parts else "Invalid input."
    if _no_such_file(exc):
        return "Not Found"
    if isinstance(exc, HTTPException):
        return str(exc.detail)
    if status == 500:
        return "An unexpected error occurred; it has been logged."
    return str(exc)


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


def error_response(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    if _no_such_file(exc):
        status = 404
    elif isinstance(exc, HTTPException):
        status = exc.status_code
    elif isinstance(exc, (BadQuery, ValueError)):
        status = 400
    elif isinstance(exc, (UnknownModels, LookupError)):
        status = 404
    elif isinstance(exc, SyncBusy | NotConfirmable):
        status = 409
    else:
        status = HTTP_500_INTERNAL_SERVER_ERROR
        # repr: a path with an encoded newline must not write a line of its own into the log.
        log.exception("unhandled error on %s %r", request.method, request.url.path, exc_info=exc)
    message = _message(exc, status)
    headers: dict[str, str] = {}
    if isinstance(exc, HTTPException) and exc.headers:
        headers.update(exc.headers)
    if request.url.path.startswith("/api/"):
        return Response(
            {"status_code": status, "detail": message},
            status_code=status,
            headers=headers,
            media_type=MediaType.JSON,
        )
    if is_fragment(request):
        return Response(
            message,
            status_code=status,
            media_type=MediaType.TEXT,
            headers={**headers, "HX-Reswap": "none"},
        )
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


def exception_handlers() -> dict[Any, Any]:
    return {Exception: error_response, NotAuthorizedException: error_response}
