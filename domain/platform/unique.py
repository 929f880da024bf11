"""A unique constraint that refused a write, as the Conflict (409) that names the field.

Every check-then-write of a unique value (a slug, a name, a username) can lose a race: two
requests both find the value free, both write, and PostgreSQL refuses the second. That refusal
is the last word; this module turns it into the admin's message instead of a 500.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager

import asyncpg

from domain.errors import Conflict

UniqueViolation = asyncpg.UniqueViolationError
# PostgreSQL's detail: 'Key (slug)=(jane-doe) already exists.', or for an index on an
# expression 'Key (lower(username::text))=(ann) already exists.'
_DETAIL = re.compile(r"Key \((?P<columns>.+?)\)=\((?P<values>.*)\) already exists", re.S)
_EXPRESSION = re.compile(r"^\w+\((\w+)(?:::\w+)?\)$")  # lower(username::text) -> username


def field_and_value(exc: asyncpg.UniqueViolationError) -> tuple[str, str]:
    """The column(s) and the value a unique constraint refused, as PostgreSQL reports them."""
    detail = str(getattr(exc, "detail", "") or "")
    if found := _DETAIL.search(detail):
        columns = [c.strip() for c in found.group("columns").split(", ")]
        names = [(m.group(1) if (m := _EXPRESSION.match(c)) else c) for c in columns]
        return ", ".join(names), found.group("values")
    constraint = str(getattr(exc, "constraint_name", "") or "")
    table = str(getattr(exc, "table_name", "") or "")
    name = constraint.removeprefix(f"{table}_").removesuffix("_key") if constraint else ""
    return name or "a unique value", ""


def conflict(exc: asyncpg.UniqueViolationError, owner: str = "another row") -> Conflict:
    """409 naming the field and its value: taken by `owner` a moment ago."""
    field, value = field_and_value(exc)
    shown = f" {value[:80]!r}" if value else ""
    return Conflict(
        f"{field}{shown} was just taken by {owner} (another request saved it first): "
        f"choose another {field.split(', ')[0]} and save again.",
        field=field.split(", ")[0],
    )


@contextmanager
def as_conflict(owner: str = "another row") -> Iterator[None]:
    """Around a write (and the transaction it commits in): a unique refusal becomes a 409."""
    try:
        yield
    except asyncpg.UniqueViolationError as exc:
        raise conflict(exc, owner) from None
