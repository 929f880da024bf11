"""Rendering helpers: full page or its partial (for HTMX), toasts, Jinja filters."""

from __future__ import annotations

import json
import logging
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, pass_context
from litestar import MediaType, Request
from litestar.plugins.htmx import HTMXTemplate

from controllers.lookalike import reveal

log = logging.getLogger("creatorflix.actions")


def is_fragment(request: Request[Any, Any, Any]) -> bool:
    """An HTMX request that is not a boosted navigation wants only the partial."""
    htmx = getattr(request, "htmx", None)
    if not htmx:
        return False
    return not (htmx.boosted or htmx.history_restore_request)


def user_of(request: Request[Any, Any, Any]) -> dict[str, Any]:
    return request.scope.get("state", {}).get("user") or {"id": None, "username": ""}


def client_ip(request: Request[Any, Any, Any]) -> str:
    return request.client.host if request.client else ""


def render(
    request: Request[Any, Any, Any],
    template: str,
    partial: str | None = None,
    toast: tuple[str, str] | None = None,
    status_code: int = 200,
    **context: Any,
) -> HTMXTemplate:
    """The page, or just `partial` for an HTMX fragment request; a toast rides along."""
    name = partial if partial and is_fragment(request) else template
    return HTMXTemplate(
        media_type=MediaType.HTML,
        template_name=name,
        status_code=status_code,
        context={"user": user_of(request), **context},
        headers=toast_header(*toast) if toast else None,
    )


def toast_header(level: str, message: str) -> dict[str, str]:
    """The `toast` event for htmx to raise after the swap settles.

    Written here, not through HTMXTemplate(trigger_event=...): litestar-htmx encodes the JSON
    as UTF-8, and response headers are Latin-1, so a model named with emoji or Cyrillic turned
    a committed action into an error. ASCII-escaped JSON reads back the same in the browser.
    """
    event = {"toast": {"level": level, "message": message}}
    return {"HX-Trigger-After-Settle": json.dumps(event, ensure_ascii=True)}


def when(value: datetime | None) -> str:
    if value is None:
        return "—"
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S UTC")


def ago(value: datetime | None) -> str:
    if value is None:
        return "never"
    seconds = int((datetime.now(UTC) - value).total_seconds())
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size:
            return f"{seconds // size} {unit} ago"
    return "just now" if seconds < 5 else f"{seconds} s ago"


def duration(seconds: float | None) -> str:
    if seconds is None:
        return "—"
    if seconds < 60:
        return f"{seconds:.1f} s"
    return f"{int(seconds // 60)} min {int(seconds % 60)} s"


def number(value: int | None) -> str:
    return f"{value or 0:,}"


def query(params: dict[str, Any], **changes: Any) -> str:
    """A query string from the current params with some changed; empty values dropped."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "", False)})


@pass_context
def flashes(context: Any) -> list[dict[str, Any]]:
    """Flash messages, also on pages rendered outside the session middleware (404s)."""
    request = context.get("request")
    if request is None or "session" not in request.scope or not request.scope["session"]:
        return []
    return list(request.session.pop("_messages", []))


def register_filters(env: Environment) -> None:
    env.filters.update(when=when, ago=ago, duration=duration, number=number, reveal=reveal)
    env.globals.update(query=query, flashes=flashes)


def after_action(
    request: Request[Any, Any, Any],
    redirect_to: str,
    partial: str | None,
    toast: tuple[str, str],
    **context: Any,
) -> Any:
    """HTMX gets the swapped partial plus a toast; a plain form post gets a redirect + flash."""
    from litestar.plugins.flash import flash
    from litestar.response import Redirect

    if partial and is_fragment(request):
        return render(request, partial, partial, toast=toast, **context)
    flash(request, toast[1], toast[0])
    if is_fragment(request):  # nothing to swap: reload the page, which shows the flash
        from litestar import Response

        return Response(b"", status_code=200, headers={"HX-Refresh": "true"})
    return Redirect(redirect_to, status_code=303)


async def committed(
    request: Request[Any, Any, Any],
    redirect_to: str,
    partial: str | None,
    toast: tuple[str, str],
    rest: Awaitable[dict[str, Any]],
) -> Any:
    """The answer to an action whose change is committed: `rest` (its audit record, the fresh
    row) failing is logged, and the action still reported as done, with a reload to show it."""
    try:
        context = await rest
    except Exception:
        log.exception("%s %r: done, but its answer failed", request.method, request.url.path)
        return after_action(request, redirect_to, None, (toast[0], toast[1] + " Reloading."))
    return after_action(request, redirect_to, partial, toast, **context)
