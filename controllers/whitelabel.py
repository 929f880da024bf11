"""Staged models: search/sort/page the list, open one, activate and re-sync per row or in bulk."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXHeaders, HTMXRequest, HTMXTemplate

from controllers.deps import ActorDep, RuntimeDep, S3Dep
from controllers.forms import EmptyBody, SelectionBody
from controllers.responses import Did, after_action, audited, render
from domain.catalogue import runs
from domain.errors import Invalid
from domain.platform import paging
from domain.platform.s3 import S3Service
from domain.staging import activation, queries

ROW = "whitelabel/_row.html"
TABLE = "whitelabel/_table.html"


def model_url(request: HTMXRequest, name: str) -> str:
    return request.app.route_reverse("staged.detail", model_name=quote(name, safe=""))


async def _row(s3: S3Service, name: str) -> dict[str, Any]:
    model = await queries.staged_model(name)
    if model is None:
        raise NotFoundException(f"There is no staged model named {name!r}.")
    return (await paging.sign_rows([model], s3.sign))[0]


class WhitelabelController(Controller):
    path = "/whitelabel"
    include_in_schema = False

    @get("/", name="staged.index")
    async def index(
        self,
        request: HTMXRequest,
        s3: S3Dep,
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        sort: FromQuery[str] = "name",
        dir: FromQuery[str] = "asc",
        size: FromQuery[int] = 25,
        after: FromQuery[str | None] = None,
        before: FromQuery[str | None] = None,
    ) -> HTMXTemplate:
        if dir not in ("asc", "desc"):
            raise paging.BadQuery(f"dir={dir!r} is not supported: use asc or desc.")
        query = queries.StagedQuery(
            search=q.strip(),
            status=status,
            sort=sort,
            desc=dir == "desc",
            size=size,
            after=after,
            before=before,
        )
        page = await queries.staged_models(query)
        await paging.sign_rows(page.rows, s3.sign)
        params = {"q": q, "status": status, "sort": sort, "dir": dir, "size": size}
        new_count = await queries.new_count()
        return render(
            request,
            "whitelabel/index.html",
            TABLE,
            page=page,
            params=params,
            sizes=queries.PAGE_SIZES,
            new_count=new_count,
            nav="staged",
        )

    @get("/{model_name:str}", name="staged.detail")
    async def detail(
        self,
        request: HTMXRequest,
        s3: S3Dep,
        model_name: FromPath[str],
        page: FromQuery[int] = 1,
    ) -> HTMXTemplate:
        model = await _row(s3, model_name)
        posts, total = await queries.model_posts(model["id"], s3.sign, page=page)
        for key in ("icon_key", "banner_key"):
            model[key.replace("_key", "_url")] = await s3.sign(model[key]) if model[key] else None
        current = await runs.current()
        return render(
            request,
            "whitelabel/detail.html",
            "whitelabel/_posts.html",
            model=model,
            posts=posts,
            total=total,
            page=page,
            size=12,
            current=current,
            nav="staged",
        )

    @post("/{model_name:str}/activate", name="staged.activate")
    async def activate_one(
        self,
        request: HTMXRequest,
        actor: ActorDep,
        s3: S3Dep,
        model_name: FromPath[str],
        data: EmptyBody,
    ) -> Response[Any]:
        result = await activation.activate([model_name])  # committed: from here on it is done
        response = await audited(
            request,
            actor,
            Did("activation", model_name, result.summary()),
            back=model_url(request, model_name),
            toast=("success", f"{model_name}: " + result.summary()),
            partial=ROW,
            fresh=lambda: _fresh_row(s3, model_name),
        )
        # Refreshes "Activate all new (N)", which listens for it.
        response.headers[HTMXHeaders.TRIGGER_EVENT.value] = "catalogue-changed"
        return response

    @post("/{model_name:str}/resync", name="staged.resync")
    async def resync(
        self,
        request: HTMXRequest,
        runtime: RuntimeDep,
        actor: ActorDep,
        s3: S3Dep,
        model_name: FromPath[str],
        data: EmptyBody,
    ) -> Response[Any]:
        row = await _row(s3, model_name)
        try:
            run_id = await runtime.start_sync(model_name, actor.username)
        except runs.SyncBusy as busy:
            toast = ("warning", str(busy))
            return after_action(request, model_url(request, model_name), ROW, toast, row=row)

        async def fresh() -> dict[str, Any]:
            return {"row": row, "run_id": run_id}

        return await audited(
            request,
            actor,
            Did("sync_started", model_name, f"run #{run_id}"),
            back=request.app.route_reverse("runs.detail", run_id=run_id),
            toast=("info", f"Re-sync of {model_name} queued (run #{run_id})."),
            partial=ROW,
            fresh=fresh,
        )

    @post("/_bulk/activate", name="staged.activate_selected")
    async def activate_selected(
        self, request: HTMXRequest, actor: ActorDep, data: SelectionBody
    ) -> Response[Any]:
        names = [n for n in data.names() if n][:500]
        if not names:
            raise Invalid("No models selected: tick at least one row.")
        result = await activation.activate(names)
        return await audited(
            request,
            actor,
            Did("activation", ", ".join(names)[:500], result.summary()),
            back=request.app.route_reverse("staged.index"),
            toast=("success", result.summary()),
        )

    @get("/_bulk/activate-all-button", name="staged.activate_all_button")
    async def activate_all_button(self, request: HTMXRequest) -> HTMXTemplate:
        new_count = await queries.new_count()
        partial = "whitelabel/_activate_all.html"
        return render(request, partial, partial, new_count=new_count)

    @get("/_bulk/activate-all-new", name="staged.confirm_all_new")
    async def confirm_all_new(self, request: HTMXRequest) -> HTMXTemplate:
        new_count = await queries.new_count()
        return render(request, "whitelabel/confirm_all.html", new_count=new_count, nav="staged")

    @post("/_bulk/activate-all-new", name="staged.activate_all_new")
    async def activate_all_new(
        self, request: HTMXRequest, runtime: RuntimeDep, actor: ActorDep, data: EmptyBody
    ) -> Response[Any]:
        """Runs as a job: thousands of models take longer than a request should."""
        count = await queries.new_count()
        await runtime.start_activation([], True, actor.username, actor.address)
        message = f"Activating {count:,} new model(s) in the background; they go public as done."
        return after_action(
            request, request.app.route_reverse("staged.index"), None, ("info", message)
        )


async def _fresh_row(s3: S3Service, name: str) -> dict[str, Any]:
    return {"row": await _row(s3, name)}
