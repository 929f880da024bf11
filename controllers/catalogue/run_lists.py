"""A sync run's full lists, page by page (what it changed, what its held plan deletes), and the
pulse that tells the dashboard and the runs list to redraw when a run starts or ends."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get
from litestar.params import FromQuery
from litestar.plugins.htmx import HTMXHeaders, HTMXRequest, HTMXTemplate

from controllers.catalogue.sync import _run_or_404
from controllers.forms import RowId
from controllers.lists import ListDep, listed
from controllers.responses import render
from domain.catalogue import run_reports
from domain.catalogue.run_changes import IGNORED_KEPT, live_in
from domain.catalogue.run_reports import CHANGES, PLAN

LIST = "catalogue/sync/_change_list.html"


class RunListsController(Controller):
    include_in_schema = False

    @get("/sync-runs/{run_id:int}/changes", name="runs.changes", dependencies=listed(CHANGES))
    async def changes(self, request: HTMXRequest, run_id: RowId, listing: ListDep) -> HTMXTemplate:
        """Every model or post the run added, changed or removed, or the keys it ignored."""
        run = await _run_or_404(run_id)
        page = await run_reports.change_page(run, listing)
        template, kept = "catalogue/sync/changes.html", IGNORED_KEPT
        return render(request, template, LIST, run=run, listing=page, ignored_kept=kept, nav="runs")

    @get("/sync-runs/{run_id:int}/plan", name="runs.plan", dependencies=listed(PLAN))
    async def plan(self, request: HTMXRequest, run_id: RowId, listing: ListDep) -> HTMXTemplate:
        """Everything a held plan would delete, page by page."""
        run = await _run_or_404(run_id)
        page = await run_reports.plan_page(run, listing)
        live = await live_in(run_reports.held_plan(run))
        template = "catalogue/sync/plan.html"
        return render(request, template, LIST, run=run, listing=page, live=live, nav="runs")

    @get("/sync-runs/pulse", name="runs.pulse")
    async def pulse(self, request: HTMXRequest, seen: FromQuery[str] = "") -> Response[Any]:
        """Nothing (204) while the runs are as the page drew them; else a new pulse and the
        `runs-changed` event, on which the page's live parts redraw themselves."""
        fingerprint, active = await run_reports.pulse()
        if fingerprint == seen:
            return Response(content=None, status_code=204)
        response = render(request, "catalogue/sync/_pulse.html", pulse=(fingerprint, active))
        response.headers[HTMXHeaders.TRIGGER_EVENT.value] = "runs-changed"
        return response
