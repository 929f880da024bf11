"""Audit log: who did what, when; newest first, paginated."""

from __future__ import annotations

from litestar import Controller, get
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from controllers.forms import OptionalRowId
from controllers.responses import render
from domain.accounts import audit
from domain.errors import Invalid
from domain.platform import paging

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
    "previews_paused",
    "previews_resumed",
    "job_failed",
    "job_retried",
    "publish_change",
    "model_retired",
    "model_restored",
    "upload_started",
    "upload_finished",
    "admin_created",
    "admin_deactivated",
    "admin_reactivated",
    "admin_password_reset",
)


class AuditController(Controller):
    path = "/audit"
    include_in_schema = False

    @get("/", name="audit.index")
    async def index(
        self,
        request: HTMXRequest,
        before: OptionalRowId = None,
        action: FromQuery[str] = "",
    ) -> HTMXTemplate:
        if action and action not in ACTIONS:
            raise Invalid(
                f"action={action!r} is not an audited action: use one of {', '.join(ACTIONS)}."
            )
        rows, next_before = paging.older(await audit.page(before, action), audit.PAGE_SIZE)
        return render(
            request,
            "accounts/audit/index.html",
            "accounts/audit/_table.html",
            rows=rows,
            next_before=next_before,
            action=action,
            actions=ACTIONS,
            nav="audit",
        )
