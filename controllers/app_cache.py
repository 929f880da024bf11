"""Caches that belong to one app, kept in its state so that they go with it.

A module-level cache keyed by the app (or by its route handlers) kept every app a process built
alive: the tests build hundreds, each about 10,000 objects, and every garbage pass of their
processes walked them all (a million objects a worker after 70 tests)."""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar, cast

from litestar import Litestar

T = TypeVar("T")


def app_cache(app: Litestar, name: str, build: Callable[[], T]) -> T:
    """The app's cache called `name`, made by `build` on first use."""
    key = f"cache:{name}"
    if key not in app.state:
        app.state[key] = build()
    return cast(T, app.state[key])
