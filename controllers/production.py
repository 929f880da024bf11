"""Production: activated models and their posts; publish and unpublish each."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromQuery
from litestar.plugins.htmx import HTMXTemplate

from controllers.forms import Checked, RowId
from controllers.templating import client_ip, committed, render, user_of
from domain.accounts import audit
from domain.platform import paging
from domain.platform.runtime import Runtime
from domain.production import publishing as production


@dataclass
class PublishForm(Checked):
    published: bool


PublishBody = Annotated[PublishForm, Body(media_type=RequestEncodingType.URL_ENCODED)]


async def _audit_publish(request: Request[Any, Any, Any], target: str, published: bool) -> str:
    state = "published" if published else "unpublished"
    user = user_of(request)
    await audit.record(user["username"], "publish_change", target, state, client_ip(request))
    return state


class ProductionController(Controller):
    path = "/production"
    include_in_schema = False

    @get("/")
    async def index(
        self, request: Request[Any, Any, Any], q: FromQuery[str] = "", page: FromQuery[int] = 1
    ) -> HTMXTemplate:
        runtime: Runtime = request.app.state["runtime"]
        rows, total = await production.models(page, q.strip())
        await paging.sign_rows(rows, runtime.s3.sign)
        return render(
            request,
            "production/index.html",
            "production/_models.html",
            rows=rows,
            total=total,
            page=page,
            size=production.PAGE_SIZE,
            q=q,
            nav="production",
        )

    @get("/{model_id:int}")
    async def detail(
        self, request: Request[Any, Any, Any], model_id: RowId, page: FromQuery[int] = 1
    ) -> HTMXTemplate:
        runtime: Runtime = request.app.state["runtime"]
        model = await production.model(model_id)
        if model is None:
            raise NotFoundException(f"There is no production model #{model_id}.")
        posts, total = await production.posts(model_id, page)
        await paging.sign_rows(posts, runtime.s3.sign)
        return render(
            request,
            "production/detail.html",
            "production/_posts.html",
            model=model,
            posts=posts,
            total=total,
            page=page,
            size=production.PAGE_SIZE,
            nav="production",
        )

    @post("/{model_id:int}/publish")
    async def publish_model(
        self, request: Request[Any, Any, Any], model_id: RowId, data: PublishBody
    ) -> Any:
        row = await production.set_model_published(model_id, data.published)
        if row is None:
            raise NotFoundException(f"There is no production model #{model_id}.")
        state = "published" if data.published else "unpublished"
        runtime: Runtime = request.app.state["runtime"]

        async def rest() -> dict[str, Any]:
            await _audit_publish(request, row["name"], data.published)
            model_row = await production.model_row(model_id)
            if model_row is None:
                raise LookupError(f"production model #{model_id} is gone")
            await paging.sign_rows([model_row], runtime.s3.sign)
            return {"row": model_row}

        toast = ("success", f"{row['name']} {state}.")
        return await committed(request, "/production", "production/_model_row.html", toast, rest())

    @post("/posts/{post_id:int}/publish")
    async def publish_post(
        self, request: Request[Any, Any, Any], post_id: RowId, data: PublishBody
    ) -> Any:
        row = await production.set_post_published(post_id, data.published)
        if row is None:
            raise NotFoundException(f"There is no production post #{post_id}.")
        state = "published" if data.published else "unpublished"
        runtime: Runtime = request.app.state["runtime"]

        async def rest() -> dict[str, Any]:
            await _audit_publish(request, row["source_key"], data.published)
            post_row = await production.post(post_id)
            if post_row is None:
                raise LookupError(f"production post #{post_id} is gone")
            await paging.sign_rows([post_row], runtime.s3.sign)
            return {"post": post_row}

        toast = ("success", f"Post {row['title']!r} {state}.")
        back = f"/production/{row['model']}"
        return await committed(request, back, "production/_post_row.html", toast, rest())
