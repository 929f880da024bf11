"""Dashboard: catalogue cards, last sync, top creators, recent runs."""

from __future__ import annotations

from litestar import Controller, get
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from controllers.deps import S3Dep
from controllers.responses import is_fragment, render_context
from domain.catalogue import run_reports, runs, schedule
from domain.media import pause
from domain.platform import queue
from domain.platform.s3 import S3Service
from domain.staging import overview


class DashboardController(Controller):
    include_in_schema = False

    @get("/", name="dashboard")
    async def index(self, request: HTMXRequest, s3: S3Dep) -> HTMXTemplate:
        """The page; for htmx (a run started or ended) only the cards and the recent runs."""
        context = await dashboard_context(request, s3)
        if not is_fragment(request):
            context["schedule"] = await schedule.load()
        return render_context(
            request,
            "catalogue/dashboard/index.html",
            "catalogue/dashboard/_live.html",
            context,
        )


async def dashboard_context(request: HTMXRequest, s3: S3Service) -> dict[str, object]:
    """What the dashboard shows but the schedule (also the page a refused schedule is on);
    for htmx only what its live parts redraw."""
    pulse = await run_reports.pulse()  # first: a run starting meanwhile redraws the page
    recent = await runs.recent(8)
    context: dict[str, object] = {
        "stats": await overview.catalogue_stats(),
        "recent": recent,
        "last": next((r for r in recent if not r.active), None),
        "queue": await queue.queue_state(),
        "backlog": await pause.backlog(),  # the jobs line links to /jobs with it
        "nav": "dashboard",
    }
    if not is_fragment(request):
        context.update(
            top=await overview.top_creators(s3.sign, limit=8),
            current=next((r for r in recent if r.active), None),
            pulse=pulse,
        )
    return context
