"""The Jinja environment's filters and globals: dates, numbers, names, query strings."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, pass_context
from litestar import Litestar

from controllers.lookalike import reveal


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


@lru_cache(maxsize=8192)
def _reverse(app: Litestar, route: str, params: tuple[tuple[str, Any], ...]) -> str:
    return app.route_reverse(route, **dict(params))


def url_for(context: Mapping[str, Any], /, route_name: str, **params: Any) -> str:
    """Litestar's `url_for` for templates, remembered: a list page asks for the same few hundred
    URLs (three a row) on every view, and each reverse lookup costs some microseconds."""
    return _reverse(context["request"].app, route_name, tuple(params.items()))
