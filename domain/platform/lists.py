"""Long lists in Piccolo filters, as one array parameter."""

from __future__ import annotations

from collections.abc import Sequence

from piccolo.querystring import QueryString


def any_of(values: Sequence[object], sql_type: str = "int") -> QueryString:
    """For `column.is_in(...)`: Piccolo spells a list out as one parameter per item, and
    PostgreSQL takes at most 32,767 parameters, so ids by the thousand go as one array."""
    return QueryString(f"SELECT unnest({{}}::{sql_type}[])", values)
