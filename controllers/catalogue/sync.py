"""Sync runs: start (all or one model), watch live over SSE, cancel, confirm or discard."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate
from litestar.response import ServerSentEvent, ServerSentEventMessage

from controllers.catalogue.dashboard import dashboard_context
from controllers.deps import Actor, ActorDep, RuntimeDep, S3Dep
from controllers.form_errors import form_errors, refused
from controllers.forms import Checked, EmptyBody, RowId
from controllers.lists import ListDep, listed
from controllers.responses import Did, Toast, after_action, audited, is_fragment, render
from domain.catalogue import jobs as catalogue_jobs
from domain.catalogue import run_reports, runs, schedule
from domain.catalogue.confirm import discard
from domain.catalogue.run_changes import IGNORED_KEPT
from domain.errors import Invalid
from domain.platform import paging

PANEL = "catalogue/sync/_panel.html"
DASHBOARD = "catalogue/dashboard/index.html"
SCHEDULE = "catalogue/dashboard/_schedule.html"


@dataclass
class SyncForm(Checked):
    model: str = ""


@dataclass
class ScheduleForm(Checked):
    schedule: str = ""

    def expression(self) -> str:
        """The schedule as typed; checked here, where the form can mark it."""
        # The schedule's parser reads digits with \d, which takes '٣' for 3: only ASCII ones.
        if other := [c for c in self.schedule if c.isdigit() and not c.isascii()]:
            raise Invalid(
                f"schedule={self.schedule[:40]!r} holds the digit {other[0]!r}: write numbers "
                "in ASCII digits 0-9 (e.g. 'every 30m').",
                field="schedule",
            )
        return self.schedule


SyncBody = Annotated[SyncForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
ScheduleBody = Annotated[ScheduleForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _run_or_404(run_id: int) -> runs.Run:
    run = await runs.get(run_id)
    if run is None:
        raise NotFoundException(f"There is no sync run #{run_id}.")
    return run


def _run_url(request: HTMXRequest, run_id: int) -> str:
    return request.app.route_reverse("runs.detail", run_id=run_id)


async def _answer(
    request: HTMXRequest, actor: Actor, did: Did | None, run_id: int, toast: Toast
) -> Response[Any]:
    """An action on a run, audited: htmx gets the run's panel, a plain form post its page."""

    async def panel() -> dict[str, object]:
        return {"run": await _run_or_404(run_id)}

    back = _run_url(request, run_id)
    return await audited(request, actor, did, back=back, toast=toast, partial=PANEL, fresh=panel)


class SyncController(Controller):
    include_in_schema = False

    @post("/sync", name="sync.start")
    async def start(
        self, request: HTMXRequest, runtime: RuntimeDep, actor: ActorDep, data: SyncBody
    ) -> Response[Any]:
        model = data.model or None
        if model is not None and (len(model) > 1024 or "/" in model):
            raise Invalid(f"model={model[:60]!r} is not a model folder name.")
        did: Did | None = None
        toast: Toast
        try:
            run_id = await catalogue_jobs.start_sync(model, actor.username)
            queued = f"Sync #{run_id} queued" + (f" for {model}" if model else "")
            toast = ("info", queued, {"run": run_id})  # replaced by its outcome when it ends
            did = Did("sync_started", model or "all", f"run #{run_id}")
        except runs.SyncBusy as busy:
            assert busy.run is not None
            run_id = busy.run.id
            toast = ("warning", f"Sync #{run_id} is already {busy.run.status}: showing it.")
        return await _answer(request, actor, did, run_id, toast)

    @get("/sync-runs", name="runs.index", dependencies=listed(runs.LIST))
    async def index(self, request: HTMXRequest, listing: ListDep) -> HTMXTemplate:
        pulse = await run_reports.pulse()  # first: a run starting meanwhile redraws the list
        before, size = listing.before_id, listing.size
        rows, next_before = paging.older(await runs.recent(size + 1, before_id=before), size)
        return render(
            request,
            "catalogue/sync/runs.html",
            "catalogue/sync/_runs_table.html",
            runs=rows,
            next_before=next_before,
            before=before,
            pulse=pulse,
            nav="runs",
        )

    @get("/sync-runs/{run_id:int}", name="runs.detail")
    async def detail(self, request: HTMXRequest, run_id: RowId) -> HTMXTemplate:
        run = await _run_or_404(run_id)
        return render(
            request,
            "catalogue/sync/run.html",
            PANEL,
            run=run,
            changes=await run_reports.changes(run),
            confirmed_by=await run_reports.confirmations(run_id),
            ignored_kept=IGNORED_KEPT,
            nav="runs",
        )

    @get("/sync-runs/{run_id:int}/events", name="runs.events")
    async def events(self, request: HTMXRequest, run_id: RowId) -> ServerSentEvent:
        await _run_or_404(run_id)
        engine = request.app.template_engine
        assert engine is not None
        template = engine.get_template("catalogue/sync/_progress.html")

        async def stream() -> AsyncIterator[ServerSentEventMessage]:
            async for run in runs.subscribe(run_id):
                html = template.render(run=run, request=request, csrf_token=lambda: "")
                event = "progress" if run.active else "done"
                yield ServerSentEventMessage(event=event, data=html)

        return ServerSentEvent(stream())

    @post("/sync-runs/{run_id:int}/cancel", name="runs.cancel")
    async def cancel(
        self,
        request: HTMXRequest,
        runtime: RuntimeDep,
        actor: ActorDep,
        run_id: RowId,
        data: EmptyBody,
    ) -> Response[Any]:
        before = await catalogue_jobs.cancel(run_id)
        if not before:
            toast = ("warning", f"Sync #{run_id} is not running.")
            run = await _run_or_404(run_id)
            return after_action(request, _run_url(request, run_id), PANEL, toast, run=run)
        toast = (
            ("info", f"Sync #{run_id} cancelled before it started.")
            if before == "queued"
            else ("info", f"Cancelling sync #{run_id}: it stops after the current model.")
        )
        did = Did("sync_cancelled", f"run #{run_id}")
        return await _answer(request, actor, did, run_id, toast)

    @post("/sync-runs/{run_id:int}/confirm", name="runs.confirm")
    async def confirm_deletions(
        self,
        request: HTMXRequest,
        runtime: RuntimeDep,
        actor: ActorDep,
        run_id: RowId,
        data: EmptyBody,
    ) -> Response[Any]:
        confirm_id = await catalogue_jobs.start_confirm(run_id, actor.username)
        did = Did("sync_confirmed", f"run #{run_id}", f"applied by run #{confirm_id}")
        toast = ("info", f"Applying the deletions of sync #{run_id} as run #{confirm_id}.")
        return await _answer(request, actor, did, confirm_id, toast)

    @post("/sync-runs/{run_id:int}/discard", name="runs.discard")
    async def discard_deletions(
        self, request: HTMXRequest, actor: ActorDep, run_id: RowId, data: EmptyBody
    ) -> Response[Any]:
        await discard(run_id, actor.username)
        toast = ("info", f"Deletions of sync #{run_id} discarded.")
        return await _answer(request, actor, Did("sync_discarded", f"run #{run_id}"), run_id, toast)

    @post("/sync-schedule", name="sync.schedule")
    async def set_schedule(
        self, request: HTMXRequest, actor: ActorDep, s3: S3Dep, data: ScheduleBody
    ) -> Response[Any]:
        """Store the schedule, audited; a malformed one is a 400 and the form again, marked."""
        try:
            saved = await schedule.save(data.expression(), actor.username)
        except Invalid as exc:
            errors = form_errors(exc, ("schedule",))
            context = {} if is_fragment(request) else await dashboard_context(request, s3)
            context.update(schedule=await schedule.load(), typed=data.schedule, errors=errors)
            target = "#schedule-panel"
            return refused(request, exc, page=DASHBOARD, partial=SCHEDULE, target=target, **context)
        toast = f"Scheduled sync: {saved.expression}." if saved.enabled else "Scheduled sync off."

        async def fresh() -> dict[str, object]:
            return {"schedule": await schedule.load()}

        return await audited(
            request,
            actor,
            Did("sync_schedule_changed", saved.expression or "off"),
            back=request.app.route_reverse("dashboard"),
            toast=("success", toast),
            partial=SCHEDULE,
            fresh=fresh,
        )
