"""Staged models: search/sort/page the list, open one, activate and re-sync per row or in bulk."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Controller, Request, get, post
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery
from litestar.plugins.htmx import HTMXTemplate

from controllers.forms import EmptyBody, SelectionBody, as_list
from controllers.templating import after_action, client_ip, committed, render, user_of
from domain.accounts import audit
from domain.catalogue import runs
from domain.platform import paging
from domain.platform.runtime import Runtime
from domain.staging import activation, queries

ROW = "whitelabel/_row.html"
TABLE = "whitelabel/_table.html"


def model_url(name: FromPath[str]) -> str:
    return "/whitelabel/" + quote(name, safe="")


async def _row(request: Request[Any, Any, Any], name: FromPath[str]) -> dict[str, Any]:
    runtime: Runtime = request.app.state["runtime"]
    model = await queries.staged_model(name)
    if model is None:
        raise NotFoundException(f"There is no staged model named {name!r}.")
    return (await paging.sign_rows([model], runtime.s3.sign))[0]


class WhitelabelController(Controller):
    path = "/whitelabel"
    include_in_schema = False

    @get("/")
    async def index(
        self,
        request: Request[Any, Any, Any],
        q: FromQuery[str] = "",
        status: FromQuery[str] = "",
        sort: FromQuery[str] = "name",
        dir: FromQuery[str] = "asc",
        size: FromQuery[int] = 25,
        after: FromQuery[str | None] = None,
        before: FromQuery[str | None] = None,
    ) -> HTMXTemplate:
        runtime: Runtime = request.app.state["runtime"]
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
        await paging.sign_rows(page.rows, runtime.s3.sign)
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

    @get("/{name:str}")
    async def detail(
        self, request: Request[Any, Any, Any], name: FromPath[str], page: FromQuery[int] = 1
    ) -> HTMXTemplate:
        runtime: Runtime = request.app.state["runtime"]
        model = await _row(request, name)
        sign = runtime.s3.sign
        posts, total = await queries.model_posts(model["id"], sign, page=page)
        for key in ("icon_key", "banner_key"):
            model[key.replace("_key", "_url")] = await sign(model[key]) if model[key] else None
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

    @post("/{name:str}/activate")
    async def activate_one(
        self, request: Request[Any, Any, Any], name: FromPath[str], data: EmptyBody
    ) -> Any:
        result = await activation.activate([name])  # committed: from here on it is done
        user = user_of(request)

        async def rest() -> dict[str, Any]:
            ip = client_ip(request)
            await audit.record(user["username"], "activation", name, result.summary(), ip)
            return {"row": await _row(request, name)}

        toast = ("success", f"{name}: " + result.summary())
        response = await committed(request, model_url(name), ROW, toast, rest())
        response.headers["HX-Trigger"] = "catalogue-changed"  # refreshes "Activate all new (N)"
        return response

    @post("/{name:str}/resync")
    async def resync(
        self, request: Request[Any, Any, Any], name: FromPath[str], data: EmptyBody
    ) -> Any:
        runtime: Runtime = request.app.state["runtime"]
        user = user_of(request)
        row = await _row(request, name)
        try:
            run_id = await runtime.start_sync(name, user["username"])
        except runs.SyncBusy as busy:
            return after_action(request, model_url(name), ROW, ("warning", str(busy)), row=row)

        async def rest() -> dict[str, Any]:
            ip = client_ip(request)
            await audit.record(user["username"], "sync_started", name, f"run #{run_id}", ip)
            return {"row": row, "run_id": run_id}

        toast = ("info", f"Re-sync of {name} queued (run #{run_id}).")
        return await committed(request, f"/sync-runs/{run_id}", ROW, toast, rest())

    @post("/_bulk/activate")
    async def activate_selected(self, request: Request[Any, Any, Any], data: SelectionBody) -> Any:
        names = [n for n in as_list(data.name) if n][:500]
        if not names:
            raise ValueError("No models selected: tick at least one row.")
        result = await activation.activate(names)
        user = user_of(request)

        async def rest() -> dict[str, Any]:
            target = ", ".join(names)[:500]
            ip = client_ip(request)
            await audit.record(user["username"], "activation", target, result.summary(), ip)
            return {}

        toast = ("success", result.summary())
        return await committed(request, "/whitelabel", None, toast, rest())

    @get("/_bulk/activate-all-button")
    async def activate_all_button(self, request: Request[Any, Any, Any]) -> HTMXTemplate:
        new_count = await queries.new_count()
        partial = "whitelabel/_activate_all.html"
        return render(request, partial, partial, new_count=new_count)

    @get("/_bulk/activate-all-new")
    async def confirm_all_new(self, request: Request[Any, Any, Any]) -> HTMXTemplate:
        new_count = await queries.new_count()
        return render(request, "whitelabel/confirm_all.html", new_count=new_count, nav="staged")

    @post("/_bulk/activate-all-new")
    async def activate_all_new(self, request: Request[Any, Any, Any], data: EmptyBody) -> Any:
        """Runs as a job: thousands of models take longer than a request should."""
        runtime: Runtime = request.app.state["runtime"]
        count = await queries.new_count()
        user = user_of(request)
        await runtime.start_activation([], True, user["username"], client_ip(request))
        message = f"Activating {count:,} new model(s) in the background; they go public as done."
        return after_action(request, "/whitelabel", None, ("info", message))
