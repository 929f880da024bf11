"""Whole numbers from the outside: ids, page numbers, sizes. ASCII digits only, within the range
of the column they reach, else a 400 naming the parameter and what it takes.

Python's `int()` takes '٣' (Arabic-Indic), '３' (full width), ' 3', '3_0' and '+3'; Litestar's
`{x:int}` path converter is that `int()`, and msgspec takes '1e3' for a query's `int`. So every
integer a request carries is checked here, as written: form fields by `whole_number`, path and
query parameters by the `strict_integers` guard (app-wide, in app.py; the route
fuzz checks that none is left out) before Litestar converts them, a list's own (its `ListSpec`'s
size, page or before) among them. `whole_number` lives in domain/platform/listing.py, which
parses a list's query string.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from litestar.connection import ASGIConnection
from litestar.handlers import BaseRouteHandler
from litestar.params import ParameterKwarg
from litestar.typing import FieldDefinition

from controllers.app_cache import app_cache
from controllers.lists import list_spec
from domain.platform.listing import MAX_PAGE, whole_number
from domain.platform.paging import INT32 as MAX_ID

__all__ = ["MAX_ID", "MAX_PAGE", "int_parameters", "strict_integers", "whole_number"]
PARAM = re.compile(r"\{(\w+)(?::(\w+))?\}")  # {name:int}; routing drops the :int


@lru_cache(256)
def _path_pattern(template: str) -> re.Pattern[str]:
    """The route's template (as routing puts it in the scope: '/production/{model_id}/edit')
    as a regex whose named groups are its parameters, as written in the request's path."""
    out = []
    for part in re.split(r"(\{\w+(?::\w+)?\})", template):
        found = PARAM.fullmatch(part)
        out.append(f"(?P<{found.group(1)}>[^/]*)" if found else re.escape(part))
    return re.compile("".join(out) + "/?")


def _bounds(field: FieldDefinition, default: tuple[int, int]) -> tuple[int, int]:
    kwarg = field.kwarg_definition
    if not isinstance(kwarg, ParameterKwarg):
        return default
    least = int(kwarg.ge) if kwarg.ge is not None else default[0]
    most = int(kwarg.le) if kwarg.le is not None else default[1]
    return least, most


def int_parameters(handler: BaseRouteHandler, template: str) -> dict[str, tuple[str, int, int]]:
    """{parameter: (where it is read: path or a query key, least, most)} for the integer
    parameters of the handler at the route `template` (dependencies and bodies aside)."""
    found = {}
    in_path = {name for name, _ in PARAM.findall(template)}
    for name, field in handler.parsed_fn_signature.parameters.items():
        if field.is_di_field or name in ("data", "self", "request"):
            continue
        if not (field.annotation is int or field.has_inner_subclass_of(int)):
            continue
        if field.is_subclass_of(bool) or field.has_inner_subclass_of(bool):
            continue
        kwarg = field.kwarg_definition
        key = kwarg.query if isinstance(kwarg, ParameterKwarg) and kwarg.query else name
        where = "path" if name in in_path else key
        found[name] = (where, *_bounds(field, (1, MAX_ID)))
    spec = list_spec(handler)  # a list's own: read by its `listing` (controllers/lists.py)
    for name, (least, most) in (spec.integers() if spec else {}).items():
        found[name] = (name, least, most)
    return found


def strict_integers(
    connection: ASGIConnection[Any, Any, Any, Any], handler: BaseRouteHandler
) -> None:
    """Guard: every integer path and query parameter of the handler, checked as written."""
    template = connection.scope.get("path_template", "")
    checks = app_cache(connection.app, "int_parameters", lambda: lru_cache(512)(int_parameters))(
        handler, template
    )
    if not checks:
        return
    written = _path_pattern(template).fullmatch(connection.scope["path"])
    for name, (where, least, most) in checks.items():
        if where == "path":
            raw = written.group(name) if written else ""  # unmatched: refused, not let through
            whole_number(name, raw, least, most)
            continue
        for raw in connection.query_params.getall(where, []):
            whole_number(where, raw, least, most)
