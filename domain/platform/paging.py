"""Shared read helpers: keyset cursors, page bounds, LIKE patterns, signed thumbnails, and the
error a query parameter that cannot be used raises (the web answers it with 400)."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Protocol, TypeVar

from domain.errors import Invalid

Signer = Callable[[str], Awaitable[str]]
# A keyset list's sort column: a name, a count, a time, or the public order's
# (display order, post count) pair.
SortValue = str | int | datetime | tuple[int, int]
INT32 = 2**31 - 1


class HasId(Protocol):
    @property
    def id(self) -> int: ...


RowT = TypeVar("RowT", bound=HasId)


def older(rows: list[RowT], size: int) -> tuple[list[RowT], int | None]:
    """A page of a newest-first list read with one row more than `size`: its rows, and the id
    the next (older) page starts before, or None on the last page."""
    page = rows[:size]
    return page, (page[-1].id if len(rows) > size else None)


class BadQuery(Invalid):
    """A query parameter that cannot be used; the message names it and the accepted values."""


def encode_cursor(value: SortValue, row_id: int) -> str:
    shown = {"t": value.isoformat()} if isinstance(value, datetime) else value
    raw = json.dumps([shown, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _cursor_value(value: object, sort: str) -> SortValue | None:
    """The cursor's value if it has the sort column's type and range, else None."""
    if sort == "synced" and isinstance(value, dict) and isinstance(value.get("t"), str):
        when = datetime.fromisoformat(value["t"])
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    if sort == "posts" and type(value) is int and 0 <= value <= INT32:
        return value
    if sort == "public" and isinstance(value, list) and len(value) == 2:
        order, posts = value
        if type(order) is int and type(posts) is int and -INT32 <= order <= INT32:
            return (order, posts) if 0 <= posts <= INT32 else None
    if sort == "name" and type(value) is str and len(value) <= 1024 and "\x00" not in value:
        value.encode()  # a lone surrogate ("\ud800" in the JSON) raises here
        return value
    return None


def decode_cursor(cursor: str, sort: str = "name", param: str = "cursor") -> tuple[SortValue, int]:
    """A keyset cursor for `sort`, checked before it reaches the database: a value of another
    column's type, an id out of range, a NUL or a lone surrogate is a BadQuery naming `param`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        found, row_id = json.loads(raw)
        value = _cursor_value(found, sort)
        if value is None or type(row_id) is not int or not 1 <= row_id <= INT32:
            raise ValueError
        return value, row_id
    except (ValueError, TypeError, KeyError, UnicodeError, OverflowError):
        raise BadQuery(
            f"{param}={cursor[:40]!r} is not a cursor of this list (sort={sort}): "
            "start again from the first page."
        ) from None


def like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def page_bounds(page: int, size: int) -> int:
    if page < 1 or page > 100_000:
        raise BadQuery(f"page={page} is out of range: use a page number from 1.")
    return (page - 1) * size


def key_of(row: Mapping[str, object], column: str) -> str | None:
    """The row's object key in `column`, or None when it has none."""
    value = row.get(column)
    return value if isinstance(value, str) and value else None


async def signed_urls(
    rows: Sequence[Mapping[str, object]], signer: Signer, key: str = "thumbnail_key"
) -> list[str | None]:
    """Each row's object in `key`, signed (None for a row without one)."""
    return [await signer(found) if (found := key_of(row, key)) else None for row in rows]
