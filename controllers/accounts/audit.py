"""Audit log: who did what, when; newest first, paginated, filtered by who, what, which target,
a range of days and a free-text search (all GET parameters: a filtered view is a bookmark)."""

from __future__ import annotations

import asyncio
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter
from litestar.plugins.htmx import HTMXHeaders, HTMXRequest, HTMXTemplate

from controllers.forms import OptionalRowId
from controllers.responses import is_fragment, render
from controllers.templating import query as query_string
from domain.accounts import audit
from domain.platform import paging

TABLE = "accounts/audit/_table.html"


class AuditController(Controller):
    path = "/audit"
    include_in_schema = False

    @get("/", name="audit.index")
    async def index(
        self,
        request: HTMXRequest,
        before: OptionalRowId = None,
        admin: FromQuery[str] = "",  # `actor` is the signed-in admin (controllers/deps.py)
        action: FromQuery[str] = "",
        target: FromQuery[str] = "",
        q: FromQuery[str] = "",
        since: Annotated[str, QueryParameter(name="from")] = "",  # `from` is Python's
        until: Annotated[str, QueryParameter(name="to")] = "",
    ) -> HTMXTemplate:
        actions = await audit.logged_actions()
        query = audit.audit_query(
            actor=admin,
            action=action,
            target=target,
            q=q,
            since=since,
            until=until,
            before=before,
            known_actions=actions,
        )
        fragment = is_fragment(request)
        found, total, actors = await asyncio.gather(
            audit.page(query),
            audit.matching(query),
            audit.admin_names() if not fragment else asyncio.sleep(0, []),  # page only
        )
        rows, next_before = paging.older(found, audit.PAGE_SIZE)
        choices = actions if not query.action or query.action in actions else [query.action]
        if query.actor and query.actor not in actors:
            actors = [query.actor, *actors]
        response = render(
            request,
            "accounts/audit/index.html",
            TABLE,
            rows=rows,
            next_before=next_before,
            listing=query,
            params=query.params(),
            total=total,
            actions=choices,
            actors=actors,
            nav="audit",
        )
        if fragment:  # the address htmx pushes names only the filters in use: a clean bookmark
            here = query_string(query.params(), before=query.before)
            path = request.app.route_reverse("audit.index")
            response.headers[HTMXHeaders.PUSH_URL.value] = f"{path}?{here}" if here else path
        return response
