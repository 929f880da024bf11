"""Audit log: who did what, when; newest first, paginated."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXTemplate

from controllers.forms import OptionalRowId
from controllers.templating import render
from domain.accounts import audit

ACTIONS = (
    "sign_in",
    "sign_in_failed",
    "sign_out",
    "sync_started",
    "sync_finished",
    "sync_cancelled",
    "sync_confirmed",
    "sync_schedule_changed",
    "sync_discarded",
    "activation",
    "publish_change",
)


class AuditController(Controller):
    path = "/audit"
    include_in_schema = False

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        before: OptionalRowId = None,
        action: FromQuery[str] = "",
    ) -> HTMXTemplate:
        if action and action not in ACTIONS:
            raise ValueError(
                f"action={action!r} is not an audited action: use one of {', '.join(ACTIONS)}."
            )
        rows = await audit.page(before, action)
        more = len(rows) > audit.PAGE_SIZE
        rows = rows[: audit.PAGE_SIZE]
        return render(
            request,
            "audit/index.html",
            "audit/_table.html",
            rows=rows,
            next_before=rows[-1]["id"] if more else None,
            action=action,
            actions=ACTIONS,
            nav="audit",
        )
