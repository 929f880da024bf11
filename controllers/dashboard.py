"""Dashboard: catalogue cards, last sync, top creators, recent runs."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get
from litestar.plugins.htmx import HTMXTemplate

from controllers.templating import render
from domain.catalogue import overview, runs, schedule
from domain.platform import jobs
from domain.platform.runtime import Runtime


class DashboardController(Controller):
    include_in_schema = False

    @get("/")
    async def index(self, request: Request[Any, Any, Any]) -> HTMXTemplate:
        runtime: Runtime = request.app.state["runtime"]
        recent = await runs.recent(8)
        current = next((r for r in recent if r["status"] in runs.ACTIVE), None)
        last = next((r for r in recent if r["status"] not in runs.ACTIVE), None)
        return render(
            request,
            "dashboard/index.html",
            "dashboard/_cards.html",
            stats=await overview.catalogue_stats(),
            top=await overview.top_creators(runtime.s3.sign, limit=8),
            recent=recent,
            current=current,
            last=last,
            queue=await jobs.queue_state(),
            schedule=await schedule.load(),
            nav="dashboard",
        )
