"""Every admin list's controls in one shape: `ListQuery` (search, filters, sort, direction, page
size, page or cursors), what each list accepts (`ListSpec`), the one parser from a query string
(`parse`, a BadQuery naming the parameter and what it takes), and the parameters its links keep
(`link_params`). Whole numbers as written (`whole_number`) are read here too."""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from domain.platform.paging import INT32, BadQuery

MAX_PAGE = 100_000
MAX_SIZE = 1000
DIGITS = re.compile(r"-?[0-9]{1,19}")  # re.fullmatch; [0-9], not \d (which takes '٣')
DAY = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")  # the one way a day is written: YYYY-MM-DD
# search: the free-text search (ListQuery.search); text: an exact value, trimmed; choice: one of
# `values` ("" too where the default is ""; values None: any, the feature checks it); flag: on
# or off; date: a day.
Kind = Literal["search", "text", "choice", "flag", "date"]
Paging = Literal["pages", "keyset", "older"]  # page numbers; after/before cursors; before an id
FLAG_ON = ("1", "true", "on", "yes")


def whole_number(name: str, raw: str, least: int = 1, most: int = INT32) -> int:
    """`raw` as an integer from `least` to `most`, written in ASCII digits (a leading '-' only
    where negatives are allowed); anything else is a 400 that names `name`."""
    text = raw if isinstance(raw, str) else str(raw)
    if DIGITS.fullmatch(text) and (least < 0 or not text.startswith("-")):
        value = int(text)
        if least <= value <= most:
            return value
    shown = text if len(text) <= 24 else text[:24] + "…"
    raise BadQuery(
        f"{name}={shown!r} is not a whole number from {least} to {most}: write it in ASCII "
        "digits 0-9, without spaces, signs, separators or exponents.",
        field=name,
    )


@dataclass(frozen=True)
class Filter:
    """One query parameter of a list besides sort, dir, size and the page."""

    name: str
    kind: Kind = "choice"
    values: tuple[str, ...] | None = None  # choice: the accepted values
    default: str = ""  # when the parameter is absent
    limit: int = 200  # search and text: the most characters
    label: str = ""  # what a too-long message calls it (default: its name)


@dataclass(frozen=True)
class ListSpec:
    """What one list accepts: its filters (in the order its links spell them), sorts (the first
    is the default), page sizes (one: fixed), how it pages, and pairs of date filters that make
    a range (from, to)."""

    filters: tuple[Filter, ...] = ()
    sorts: tuple[str, ...] = ()
    sizes: tuple[int, ...] = (25,)
    default_size: int = 0  # 0: the first of `sizes`
    paging: Paging = "pages"
    ranges: tuple[tuple[str, str], ...] = ()

    @property
    def size(self) -> int:
        return self.default_size or self.sizes[0]

    def parameters(self) -> dict[str, bool]:
        """{query parameter: whether it is a whole number}: every parameter the list reads."""
        names = {f.name: False for f in self.filters}
        if self.sorts:
            names |= {"sort": False, "dir": False}
        if len(self.sizes) > 1:
            names["size"] = True
        if self.paging == "keyset":
            names |= {"after": False, "before": False}
        else:
            names["before" if self.paging == "older" else "page"] = True
        return names

    def integers(self) -> dict[str, tuple[int, int]]:
        """{query parameter: (least, most)} of its whole numbers."""
        bounds = {"size": (1, MAX_SIZE), "page": (1, MAX_PAGE), "before": (1, INT32)}
        return {n: bounds[n] for n, whole in self.parameters().items() if whole}


@dataclass(frozen=True)
class ListQuery:
    """A list's controls, checked: its search, its own filters by name, the sort and its
    direction, the page size and the page (a number, keyset cursors, or the id `before`)."""

    search: str = ""
    filters: Mapping[str, str] = field(default_factory=dict)
    sort: str = ""
    desc: bool = False
    size: int = 25
    page: int = 1
    after: str | None = None
    before: str | None = None

    def filter(self, name: str) -> str:
        return self.filters.get(name, "")

    def flag(self, name: str) -> bool:
        return self.filters.get(name) == "1"

    @property
    def filtered(self) -> bool:
        return bool(self.search or any(self.filters.values()))

    @property
    def offset(self) -> int:
        return (self.page - 1) * self.size

    @property
    def before_id(self) -> int | None:
        """The id an "older" page starts below (checked by `parse`)."""
        return int(self.before) if self.before else None


def _either(values: tuple[str, ...] | list[str]) -> str:
    """ "a, b or c"."""
    return values[0] if len(values) == 1 else f"{', '.join(values[:-1])} or {values[-1]}"


def _unsupported(name: str, shown: str, accepted: tuple[str, ...] | list[str]) -> BadQuery:
    return BadQuery(f"{name}={shown} is not supported: use {_either(accepted)}.", field=name)


def _value(spec: Filter, raw: str) -> str:
    if spec.kind in ("search", "text"):
        value = raw.strip()
        if len(value) > spec.limit:
            label = spec.label or spec.name
            raise BadQuery(f"{label} is too long: use at most {spec.limit} characters.")
        if "\x00" in value:
            raise BadQuery(f"{spec.name} holds a NUL byte (%00).", field=spec.name)
        return value
    if spec.kind == "flag":
        return "1" if raw in FLAG_ON else ""
    if spec.kind == "date":
        value = raw.strip()
        try:
            if value and not DAY.fullmatch(value):
                raise ValueError(value)
            return date.fromisoformat(value).isoformat() if value else ""
        except ValueError:
            raise BadQuery(
                f"{spec.name}={value!r} is not a date: write it as YYYY-MM-DD, e.g. 2026-12-06.",
                field=spec.name,
            ) from None
    if spec.values is not None and (raw or spec.default) and raw not in spec.values:
        raise _unsupported(spec.name, repr(raw), spec.values)
    return raw


def parse(params: Mapping[str, str], spec: ListSpec) -> ListQuery:
    """The list's controls as written in the address (a parameter absent takes its default),
    checked: a bad value is a BadQuery (400) naming the parameter and what it accepts."""
    search, filters = "", {}
    for one in spec.filters:
        raw = params.get(one.name)
        value = _value(one, one.default if raw is None else raw)
        if one.kind == "search":
            search = value
        else:
            filters[one.name] = value
    for first, last in spec.ranges:
        if filters[first] and filters[last] and filters[first] > filters[last]:
            raise BadQuery(
                f"{first}={filters[first]} is after {last}={filters[last]}: "
                "swap them, or leave one empty."
            )
    sort, desc = "", False
    if spec.sorts:
        sort, direction = params.get("sort", spec.sorts[0]), params.get("dir", "asc")
        if sort not in spec.sorts:
            raise _unsupported("sort", repr(sort), spec.sorts)
        if direction not in ("asc", "desc"):
            raise _unsupported("dir", repr(direction), ("asc", "desc"))
        desc = direction == "desc"
    size = spec.size
    if len(spec.sizes) > 1 and "size" in params:
        size = whole_number("size", params["size"], 1, MAX_SIZE)
        if size not in spec.sizes:
            raise _unsupported("size", str(size), [str(s) for s in spec.sizes])
    page, after, before = 1, None, None
    if spec.paging == "pages" and "page" in params:
        page = whole_number("page", params["page"], 1, MAX_PAGE)
    elif spec.paging == "older" and "before" in params:
        before = str(whole_number("before", params["before"]))
    elif spec.paging == "keyset":
        after, before = params.get("after") or None, params.get("before") or None
    return ListQuery(search, filters, sort, desc, size, page, after, before)


def link_params(query: ListQuery, spec: ListSpec) -> dict[str, str | int]:
    """The list's controls as its links spell them (the pager and the sort headers keep them;
    the page or cursor aside)."""
    params: dict[str, str | int] = {
        f.name: query.search if f.kind == "search" else query.filter(f.name) for f in spec.filters
    }
    if spec.sorts:
        params |= {"sort": query.sort, "dir": "desc" if query.desc else "asc"}
    if len(spec.sizes) > 1:
        params["size"] = query.size
    return params
