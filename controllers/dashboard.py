"""Dashboard: catalogue cards, last sync, top creators, recent runs."""

from __future__ import annotations

from litestar import Controller, get
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from controllers.deps import S3Dep
from controllers.responses import render
from domain.catalogue import overview, runs, schedule
from domain.platform import jobs


class DashboardController(Controller):
    include_in_schema = False

    @get("/", name="dashboard")
    async def index(self, request: HTMXRequest, s3: S3Dep) -> HTMXTemplate:
        recent = await runs.recent(8)
        current = next((r for r in recent if r["status"] in runs.ACTIVE), None)
        last = next((r for r in recent if r["status"] not in runs.ACTIVE), None)
        return render(
            request,
            "dashboard/index.html",
            stats=await overview.catalogue_stats(),
            top=await overview.top_creators(s3.sign, limit=8),
            recent=recent,
            current=current,
            last=last,
            queue=await jobs.queue_state(),
            schedule=await schedule.load(),
            nav="dashboard",
        )
