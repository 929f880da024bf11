"""Staged models in bulk: the ticked rows, every model matching the list's filters, or all new
ones. A few ticked rows are activated in the request; more run as a job whose progress the page
polls."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.params import FromQuery, QueryParameter
from litestar.plugins.flash import flash
from litestar.plugins.htmx import HTMXHeaders, HTMXRequest, HTMXTemplate
from litestar.response import Redirect

from controllers.deps import Actor, ActorDep, RuntimeDep
from controllers.forms import ActivateBody, RowId, SelectionBody
from controllers.responses import Did, audited, is_fragment, render
from domain.errors import Invalid
from domain.platform.runtime import Runtime
from domain.staging import activation, bulk, queries
from domain.staging import jobs as staging_jobs

PANEL = "staging/_bulk.html"
INLINE_MAX = 50  # more ticked rows than this run as a job, like "all matching"
FINISHED_EVENT = "activation-finished"  # the list and the "all new" button refresh on it


class StagedBulkController(Controller):
    path = "/staged/_bulk"
    include_in_schema = False

    @post("/activate", name="staged.activate_selected")
    async def activate_selected(
        self, request: HTMXRequest, runtime: RuntimeDep, actor: ActorDep, data: SelectionBody
    ) -> Response[Any]:
        if data.matching:
            selection = bulk.Selection(
                search=data.q.strip(), status=data.status, draft=bool(data.draft)
            )
            return await _queued(request, runtime, actor, selection)
        names = [n for n in data.names() if n]
        if not names:
            raise Invalid("No models selected: tick at least one row.")
        if len(names) > INLINE_MAX:
            selection = bulk.Selection(names=tuple(names), draft=bool(data.draft))
            return await _queued(request, runtime, actor, selection)
        result = await activation.activate(names, draft=bool(data.draft))
        return await audited(
            request,
            actor,
            Did("activation", ", ".join(names)[:500], result.summary(bool(data.draft))),
            back=request.app.route_reverse("staged.index"),
            toast=("success", result.summary(bool(data.draft))),
        )

    @get("/activate", name="staged.confirm_selected")
    async def confirm_selected(
        self,
        request: HTMXRequest,
        names: Annotated[list[str] | None, QueryParameter(name="name")] = None,
        draft: FromQuery[str] = "",
    ) -> HTMXTemplate:
        """Where "Activate selected" leads without JavaScript (the form asks by GET): how many
        go public, and the form to confirm; htmx asks the same with confirm()."""
        picked = [n for n in names or [] if n]
        if not picked:
            raise Invalid("No models selected: tick at least one row.")
        return render(
            request,
            "staging/confirm_selected.html",
            names=picked,
            draft=bool(draft),
            nav="staged",
        )

    @get("/activate-matching", name="staged.confirm_matching")
    async def confirm_matching(
        self, request: HTMXRequest, q: FromQuery[str] = "", status: FromQuery[str] = ""
    ) -> HTMXTemplate:
        """The page behind "Select all N matching": the exact count, and the form to confirm."""
        selection = bulk.Selection(search=q.strip(), status=status)
        count = len(await bulk.resolve(selection))
        return render(
            request,
            "staging/confirm_matching.html",
            selection=selection,
            count=count,
            params={"q": q, "status": status},
            nav="staged",
        )

    # `?id=`, not a path parameter: one under /_bulk/ stops the router from falling back to
    # /staged/{model_name}/... for a model folder named "_bulk".
    @get("/activation", name="staged.bulk")
    async def progress(self, request: HTMXRequest, id: RowId) -> HTMXTemplate:
        """One bulk activation: the page, or the panel its running self polls every second."""
        job = await bulk.get(id)
        finished = not job.active
        toast = None
        if finished and is_fragment(request):
            level = "success" if job.status == "succeeded" else "error"
            toast = (level, f"Activation #{job.id} ended: {job.summary or job.error}")
        response = render(request, "staging/bulk.html", PANEL, toast=toast, job=job, nav="staged")
        if toast is not None:
            response.headers[HTMXHeaders.TRIGGER_EVENT.value] = FINISHED_EVENT
        return response

    @get("/activate-all-button", name="staged.activate_all_button")
    async def activate_all_button(self, request: HTMXRequest) -> HTMXTemplate:
        new_count = await queries.new_count()
        partial = "staging/_activate_all.html"
        return render(request, partial, partial, new_count=new_count)

    @get("/activate-all-new", name="staged.confirm_all_new")
    async def confirm_all_new(self, request: HTMXRequest) -> HTMXTemplate:
        new_count = await queries.new_count()
        return render(request, "staging/confirm_all.html", new_count=new_count, nav="staged")

    @post("/activate-all-new", name="staged.activate_all_new")
    async def activate_all_new(
        self, request: HTMXRequest, runtime: RuntimeDep, actor: ActorDep, data: ActivateBody
    ) -> Response[Any]:
        """Runs as a job: thousands of models take longer than a request should."""
        selection = bulk.Selection(status="new", draft=bool(data.draft))
        return await _queued(request, runtime, actor, selection)


async def _queued(
    request: HTMXRequest, runtime: Runtime, actor: Actor, selection: bulk.Selection
) -> Response[Any]:
    """Queue the job; htmx gets its progress panel, a plain form post goes to its page."""
    job, new = await staging_jobs.start_activation(selection, actor.username, actor.address)
    outcome = (
        "they stay unpublished, as drafts" if selection.draft else "they go public as each is done"
    )
    message = f"Activating {job.total:,} model(s) in the background ({job.description}); {outcome}."
    if not new:  # a repeat: the one already queued, not another job
        message = (
            f"Activation #{job.id} ({job.description}) is already {job.status}: here is its "
            "progress; nothing more was queued."
        )
    if is_fragment(request):
        return render(request, PANEL, PANEL, toast=("info", message), job=job)
    flash(request, message, "info")
    page = request.app.route_reverse("staged.bulk") + f"?id={job.id}"
    return Redirect(page, status_code=303)
