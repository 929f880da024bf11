"""Sync runs: start (all or one model), watch live over SSE, cancel, confirm or discard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.htmx import HTMXTemplate
from litestar.response import ServerSentEvent, ServerSentEventMessage

from controllers.forms import Checked, EmptyBody, OptionalRowId, RowId
from controllers.templating import after_action, client_ip, committed, render, user_of
from domain.accounts import audit
from domain.catalogue import runs, schedule
from domain.catalogue.confirm import discard
from domain.platform.runtime import Runtime

PANEL = "sync/_panel.html"


@dataclass
class SyncForm(Checked):
    model: str = ""


@dataclass
class ScheduleForm(Checked):
    schedule: str = ""


SyncBody = Annotated[SyncForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
ScheduleBody = Annotated[ScheduleForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _run_or_404(run_id: RowId) -> dict[str, Any]:
    run = await runs.get(run_id)
    if run is None:
        raise NotFoundException(f"There is no sync run #{run_id}.")
    return run


class SyncController(Controller):
    include_in_schema = False

    @post("/sync")
    async def start(self, request: Request[Any, Any, Any], data: SyncBody) -> Any:
        runtime: Runtime = request.app.state["runtime"]
        user = user_of(request)
        model = data.model or None
        if model is not None and (len(model) > 1024 or "/" in model):
            raise ValueError(f"model={model[:60]!r} is not a model folder name.")
        started = True
        try:
            run_id = await runtime.start_sync(model, user["username"])
            toast = ("info", f"Sync #{run_id} queued" + (f" for {model}" if model else ""))
        except runs.SyncBusy as busy:
            assert busy.run is not None
            run_id, started = busy.run["id"], False
            toast = ("warning", f"Sync #{run_id} is already {busy.run['status']}: showing it.")

        async def rest() -> dict[str, Any]:
            if started:
                what, detail = model or "all", f"run #{run_id}"
                await audit.record(
                    user["username"], "sync_started", what, detail, client_ip(request)
                )
            return {"run": await _run_or_404(run_id)}

        return await committed(request, f"/sync-runs/{run_id}", PANEL, toast, rest())

    @get("/sync-runs")
    async def index(
        self, request: Request[Any, Any, Any], before: OptionalRowId = None
    ) -> HTMXTemplate:
        rows = await runs.recent(26, before_id=before)
        more = len(rows) > 25
        rows = rows[:25]
        return render(
            request,
            "sync/runs.html",
            "sync/_runs_table.html",
            runs=rows,
            next_before=rows[-1]["id"] if more else None,
            nav="runs",
        )

    @get("/sync-runs/{run_id:int}")
    async def detail(self, request: Request[Any, Any, Any], run_id: RowId) -> HTMXTemplate:
        run = await _run_or_404(run_id)
        return render(request, "sync/run.html", PANEL, run=run, nav="runs")

    @get("/sync-runs/{run_id:int}/events")
    async def events(self, request: Request[Any, Any, Any], run_id: RowId) -> ServerSentEvent:
        await _run_or_404(run_id)
        template = request.app.template_engine.get_template("sync/_progress.html")  # type: ignore

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            async for run in runs.subscribe(run_id):
                html = template.render(run=run, csrf_token=lambda: "", live=True)
                event = "progress" if run["status"] in runs.ACTIVE else "done"
                yield ServerSentEventMessage(event=event, data=html)

        return ServerSentEvent(stream())

    @post("/sync-runs/{run_id:int}/cancel")
    async def cancel(self, request: Request[Any, Any, Any], run_id: RowId, data: EmptyBody) -> Any:
        user = user_of(request)
        runtime: Runtime = request.app.state["runtime"]
        before = await runtime.cancel(run_id)
        if before:
            await audit.record(
                user["username"], "sync_cancelled", f"run #{run_id}", "", client_ip(request)
            )
            toast = (
                ("info", f"Sync #{run_id} cancelled before it started.")
                if before == "queued"
                else ("info", f"Cancelling sync #{run_id}: it stops after the current model.")
            )
        else:
            toast = ("warning", f"Sync #{run_id} is not running.")
        run = await _run_or_404(run_id)
        return after_action(request, f"/sync-runs/{run_id}", PANEL, toast, run=run)

    @post("/sync-runs/{run_id:int}/confirm")
    async def confirm_deletions(
        self, request: Request[Any, Any, Any], run_id: RowId, data: EmptyBody
    ) -> Any:
        user = user_of(request)
        runtime: Runtime = request.app.state["runtime"]
        confirm_id = await runtime.start_confirm(run_id, user["username"])

        async def rest() -> dict[str, Any]:
            detail = f"applied by run #{confirm_id}"
            ip = client_ip(request)
            await audit.record(user["username"], "sync_confirmed", f"run #{run_id}", detail, ip)
            return {"run": await _run_or_404(confirm_id)}

        toast = ("info", f"Applying the deletions of sync #{run_id} as run #{confirm_id}.")
        return await committed(request, f"/sync-runs/{confirm_id}", PANEL, toast, rest())

    @post("/sync-runs/{run_id:int}/discard")
    async def discard_deletions(
        self, request: Request[Any, Any, Any], run_id: RowId, data: EmptyBody
    ) -> Any:
        user = user_of(request)
        await discard(run_id, user["username"])

        async def rest() -> dict[str, Any]:
            ip = client_ip(request)
            await audit.record(user["username"], "sync_discarded", f"run #{run_id}", "", ip)
            return {"run": await _run_or_404(run_id)}

        toast = ("info", f"Deletions of sync #{run_id} discarded.")
        return await committed(request, f"/sync-runs/{run_id}", PANEL, toast, rest())

    @post("/sync-schedule")
    async def set_schedule(self, request: Request[Any, Any, Any], data: ScheduleBody) -> Any:
        """Store the schedule (a malformed one is a 400 naming the field); audited."""
        user = user_of(request)
        saved = await schedule.save(data.schedule, user["username"])
        await audit.record(
            user["username"],
            "sync_schedule_changed",
            saved.expression or "off",
            "",
            client_ip(request),
        )
        toast = f"Scheduled sync: {saved.expression}." if saved.enabled else "Scheduled sync off."
        return after_action(request, "/", None, ("success", toast))
