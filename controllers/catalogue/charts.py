"""The charts: sync runs over time, catalogue growth, storage by model (issue 25). A page of
its own, and its fragment, which the dashboard loads after drawing itself so that these reads
never slow the dashboard down."""

from __future__ import annotations

from dataclasses import replace

from litestar import Controller, get
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from controllers import svg_charts as svg
from controllers.responses import render_context
from domain.catalogue import trends


class ChartsController(Controller):
    include_in_schema = False

    @get("/charts", name="charts.index")
    async def index(self, request: HTMXRequest) -> HTMXTemplate:
        """The page; for htmx (the dashboard's charts section) only the charts."""
        return render_context(
            request,
            "catalogue/dashboard/charts.html",
            "catalogue/dashboard/_charts.html",
            {"nav": "dashboard", **await charts()},
        )


async def charts() -> dict[str, object]:
    """The three charts' rows and geometry (None where there is nothing to draw yet)."""
    read = await trends.trends()
    runs, growth, storage = read.runs, read.growth, read.storage
    context: dict[str, object] = {
        "runs": runs,
        "growth": growth,
        "storage": storage,
        "days": trends.GROWTH_DAYS,
        "size": svg.size,
        "runs_charts": None,
        "growth_chart": None,
        "storage_chart": None,
    }
    if runs:
        labels = [f"#{r.id}" for r in runs]
        span = f"runs #{runs[0].id} to #{runs[-1].id}" if len(runs) > 1 else f"run #{runs[0].id}"
        context["runs_charts"] = [
            replace(
                svg.columns(
                    f"chart-runs-{key}",
                    f"Sync runs: {name}",
                    f"{name.capitalize()} of the last {len(runs)} ended sync runs ({span}), "
                    f"oldest first; the longest bar is {fmt(max(values))}.",
                    labels,
                    values,
                    fmt,
                    integer=integer,
                ),
                caption=caption,
            )
            for key, name, caption, values, fmt, integer in (
                (
                    "duration",
                    "duration",
                    "Duration",
                    [r.duration_s for r in runs],
                    svg.seconds,
                    False,
                ),
                (
                    "keys",
                    "keys listed",
                    "keys",
                    [float(r.keys_listed) for r in runs],
                    svg.count,
                    True,
                ),
                (
                    "changes",
                    "changes",
                    "Changes: rows added, changed, deleted",
                    [float(r.changes) for r in runs],
                    svg.count,
                    True,
                ),
            )
        ]
    if growth:
        last = growth[-1]
        context["growth_chart"] = svg.lines(
            "chart-growth",
            "Catalogue growth",
            f"Staged models, posts and media at the end of each of the last {len(growth)} days "
            f"(UTC), counting what is staged now by when it was first synced; today "
            f"{last.models:,} models, {last.posts:,} posts, {last.media:,} media.",
            [p.day.strftime("%b %d") for p in growth],
            [
                ("models", "models", [float(p.models) for p in growth]),
                ("posts", "posts", [float(p.posts) for p in growth]),
                ("media", "media", [float(p.media) for p in growth]),
            ],
            svg.count,
        )
    if storage:
        top = storage[0]
        context["storage_chart"] = svg.bars(
            "chart-storage",
            f"Storage by model: top {len(storage)}",
            f"The {len(storage)} staged models whose media hold the most bytes, biggest first; "
            f"the biggest, {top.folder_name}, holds {svg.size(top.bytes)} in {top.files:,} files.",
            [m.folder_name for m in storage],
            [float(m.bytes) for m in storage],
            svg.size,
        )
    return context
