"""Staged models: search/sort/page the list, open one, activate and re-sync a row (bulk actions:
controllers/staging/bulk.py)."""

from __future__ import annotations

import asyncio
from typing import Any
from urllib.parse import quote

from litestar import Controller, Response, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath
from litestar.plugins.htmx import HTMXHeaders, HTMXRequest, HTMXTemplate
from litestar.response import Redirect

from controllers.deps import ActorDep, RuntimeDep, S3Dep
from controllers.forms import ActivateBody, EmptyBody, OptionalRowId
from controllers.lists import ListDep, listed
from controllers.responses import Did, after_action, audited, is_fragment, render
from domain.catalogue import jobs as catalogue_jobs
from domain.catalogue import runs
from domain.media.previews import model_images
from domain.platform.listing import link_params
from domain.platform.s3 import S3Service
from domain.staging import activation, bulk, queries, row_sync
from domain.staging.rows import StagedModel

ROW = "staging/_row.html"
TABLE = "staging/_table.html"


def model_url(request: HTMXRequest, name: str) -> str:
    return request.app.route_reverse("staged.detail", model_name=quote(name, safe=""))


async def _row(s3: S3Service, name: str) -> StagedModel:
    model = await queries.staged_model(name, s3.sign)
    if model is None:
        raise NotFoundException(f"There is no staged model named {name!r}.")
    return model


class StagedModelsController(Controller):
    path = "/staged"
    include_in_schema = False

    @get("/", name="staged.index", dependencies=listed(queries.LIST))
    async def index(self, request: HTMXRequest, s3: S3Dep, listing: ListDep) -> HTMXTemplate:
        whole = not is_fragment(request)  # the button and the panel are the page's, not the table's
        page, new_count, bulk_jobs = await asyncio.gather(
            queries.staged_models(listing, s3.sign),
            queries.new_count() if whole else asyncio.sleep(0, None),
            bulk.active() if whole else asyncio.sleep(0, []),
        )
        return render(
            request,
            "staging/index.html",
            TABLE,
            page=page,
            params=link_params(listing, queries.LIST),
            sizes=queries.PAGE_SIZES,
            new_count=new_count,
            bulk_jobs=bulk_jobs,
            nav="staged",
        )

    @get("/{model_name:str}", name="staged.detail", dependencies=listed(queries.POSTS))
    async def detail(
        self, request: HTMXRequest, s3: S3Dep, model_name: FromPath[str], listing: ListDep
    ) -> HTMXTemplate:
        model, current, (posts, total), images = await asyncio.gather(
            _row(s3, model_name),
            runs.current(),
            queries.model_posts(model_name, s3.sign, listing),
            model_images(model_name, s3.sign),
        )
        return render(
            request,
            "staging/detail.html",
            "staging/_posts.html",
            model=model,
            images=images,
            posts=posts,
            total=total,
            listing=listing,
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
        data: ActivateBody,
    ) -> Response[Any]:
        draft = bool(data.draft)
        result = await activation.activate([model_name], draft)  # committed: it is done
        response = await audited(
            request,
            actor,
            Did("activation", model_name, result.summary(draft)),
            back=model_url(request, model_name),
            toast=("success", f"{model_name}: " + result.summary(draft)),
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
        """Queue a sync of this model; the row it answers polls the run until it ends."""
        row = await _row(s3, model_name)
        try:
            run_id = await catalogue_jobs.start_sync(model_name, actor.username)
        except runs.SyncBusy as busy:
            toast = ("warning", str(busy))
            return after_action(request, model_url(request, model_name), ROW, toast, row=row)

        async def fresh() -> dict[str, object]:
            return {"row": row, "sync": await runs.get(run_id)}

        return await audited(
            request,
            actor,
            Did("sync_started", model_name, f"run #{run_id}"),
            back=request.app.route_reverse("runs.detail", run_id=run_id),
            toast=("info", f"Re-sync of {model_name} queued (run #{run_id})."),
            partial=ROW,
            fresh=fresh,
        )

    @get("/{model_name:str}/row", name="staged.row")
    async def row(
        self,
        request: HTMXRequest,
        s3: S3Dep,
        model_name: FromPath[str],
        run: OptionalRowId = None,
    ) -> Response[Any]:
        """One row, polled while its re-sync runs; once the run ends, fresh counts and a result."""
        sync = await row_sync.run_of(run, model_name)
        if not is_fragment(request):
            back = request.app.route_reverse("runs.detail", run_id=run) if sync else None
            return Redirect(back or model_url(request, model_name), status_code=303)
        outcome = row_sync.outcome(sync) if sync else None
        row = await queries.staged_model(model_name, s3.sign)
        if row is None:  # the sync found the folder gone
            gone = "staging/_row_gone.html"
            return render(request, gone, gone, name=model_name, sync=sync, outcome=outcome)
        return render(request, ROW, ROW, row=row, sync=sync, outcome=outcome)


async def _fresh_row(s3: S3Service, name: str) -> dict[str, object]:
    return {"row": await _row(s3, name)}
