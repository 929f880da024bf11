"""The jobs page: queued, running, failed and done per kind of job; recent failures with a
Retry; Pause and Resume for the previews. Each action is audited; htmx swaps the board, a plain
form post goes back to the page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Response, get, post
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from controllers.deps import Actor, ActorDep, RuntimeDep
from controllers.forms import EmptyBody, RowId
from controllers.responses import Did, Toast, audited, render_context
from domain.jobs import board, failures
from domain.media import jobs as media_jobs
from domain.media import pause

PAGE, BOARD = "jobs/index.html", "jobs/_board.html"


async def _board() -> dict[str, object]:
    """What the board shows: the kinds' counts, the previews' state, the recent failures."""
    return {
        "kinds": await board.kinds(),
        "previews": await pause.state(),
        "failures": await failures.recent(),
        "since": board.today(),
        "label": board.label,
    }


class JobsController(Controller):
    path = "/jobs"
    include_in_schema = False

    @get("/", name="jobs.index")
    async def index(self, request: HTMXRequest) -> HTMXTemplate:
        """The page; for htmx (its refresh) only the board."""
        return render_context(request, PAGE, BOARD, {"nav": "jobs", **await _board()})

    @post("/previews/pause", name="jobs.pause_previews")
    async def pause_previews(
        self, request: HTMXRequest, actor: ActorDep, data: EmptyBody
    ) -> Response[Any]:
        """No preview job is queued or taken until resumed (audited with the switch)."""
        taken = await pause.pause(actor.username, actor.address)
        toast = ("info", f"Previews paused; {taken} queued preview job(s) taken off the queue.")
        return await _answer(request, actor, None, toast)

    @post("/previews/resume", name="jobs.resume_previews")
    async def resume_previews(
        self, request: HTMXRequest, runtime: RuntimeDep, actor: ActorDep, data: EmptyBody
    ) -> Response[Any]:
        """Audited by the resume itself; jobs are queued for the backlog."""
        queued = await media_jobs.resume_previews(runtime.settings, actor.username, actor.address)
        toast = ("success", f"Previews resumed; {queued} preview job(s) queued for the backlog.")
        return await _answer(request, actor, None, toast)

    @post("/{job_id:int}/retry", name="jobs.retry")
    async def retry(
        self, request: HTMXRequest, actor: ActorDep, job_id: RowId, data: EmptyBody
    ) -> Response[Any]:
        task = await failures.retry(job_id)
        did = Did(failures.RETRIED, failures.target(job_id), task)
        toast = ("success", f"Job #{job_id} ({board.label(task)}) queued again.")
        return await _answer(request, actor, did, toast)


async def _answer(
    request: HTMXRequest, actor: Actor, did: Did | None, toast: Toast
) -> Response[Any]:
    back = request.app.route_reverse("jobs.index")
    return await audited(request, actor, did, back=back, toast=toast, partial=BOARD, fresh=_board)
