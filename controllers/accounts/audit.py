"""Audit log: who did what, when; newest first, paginated, filtered by who, what, which target,
a range of days and a free-text search (all GET parameters: a filtered view is a bookmark)."""

from __future__ import annotations

import asyncio

from litestar import Controller, get
from litestar.plugins.htmx import HTMXHeaders, HTMXRequest, HTMXTemplate

from controllers.lists import ListDep, listed
from controllers.responses import is_fragment, render
from controllers.templating import query as query_string
from domain.accounts import audit
from domain.platform import paging
from domain.platform.listing import link_params

TABLE = "accounts/audit/_table.html"


class AuditController(Controller):
    path = "/audit"
    include_in_schema = False

    @get("/", name="audit.index", dependencies=listed(audit.LIST))
    async def index(self, request: HTMXRequest, listing: ListDep) -> HTMXTemplate:
        actions = await audit.logged_actions()
        query = audit.check(listing, actions)
        fragment = is_fragment(request)
        found, total, actors = await asyncio.gather(
            audit.page(query),
            audit.matching(query),
            audit.admin_names() if not fragment else asyncio.sleep(0, []),  # page only
        )
        rows, next_before = paging.older(found, audit.PAGE_SIZE)
        action, actor = query.filter("action"), query.filter("admin")
        choices = actions if not action or action in actions else [action]
        if actor and actor not in actors:
            actors = [actor, *actors]
        params = link_params(query, audit.LIST)
        response = render(
            request,
            "accounts/audit/index.html",
            TABLE,
            rows=rows,
            next_before=next_before,
            listing=query,
            params=params,
            total=total,
            actions=choices,
            actors=actors,
            nav="audit",
        )
        if fragment:  # the address htmx pushes names only the filters in use: a clean bookmark
            here = query_string(params, before=query.before)
            path = request.app.route_reverse("audit.index")
            response.headers[HTMXHeaders.PUSH_URL.value] = f"{path}?{here}" if here else path
        return response
