"""Every admin list's controls, given to its handler as `listing` (a `ListQuery`): read from the
query string and checked once, by `domain.platform.listing.parse` against the list's `ListSpec`.

    @get("/", dependencies=listed(queries.LIST))  # = {"listing": list_query(queries.LIST)}
    async def index(self, request: HTMXRequest, listing: ListDep) -> HTMXTemplate: ...
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.di import NamedDependency, Provide
from litestar.handlers import BaseRouteHandler

from domain.platform.listing import ListQuery, ListSpec, parse

ListDep = NamedDependency[ListQuery]


class ListProvide(Provide):
    """A list's `listing`, parsed from the request's query string by its spec."""

    def __init__(self, spec: ListSpec) -> None:
        def provide_listing(request: Request[Any, Any, Any]) -> ListQuery:
            return parse(request.query_params, spec)

        super().__init__(provide_listing, sync_to_thread=False)
        self.spec = spec


def list_query(spec: ListSpec) -> ListProvide:
    return ListProvide(spec)


def listed(spec: ListSpec) -> dict[str, Provide]:
    """A list handler's `dependencies`: its `listing`."""
    return {"listing": list_query(spec)}


def list_spec(handler: BaseRouteHandler) -> ListSpec | None:
    """The spec of the list the handler serves, if it takes a `listing`."""
    provided = handler.resolve_dependencies().get("listing")
    return provided.spec if isinstance(provided, ListProvide) else None
