"""Production: activated models and their posts; publish and unpublish each."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body, FromQuery
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from controllers.deps import ActorDep, S3Dep
from controllers.forms import Checked, RowId
from controllers.responses import Did, audited, render
from domain.errors import NotFound
from domain.platform import paging
from domain.platform.s3 import S3Service
from domain.production import publishing as production


@dataclass
class PublishForm(Checked):
    published: bool


PublishBody = Annotated[PublishForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
MODEL_ROW = "production/_model_row.html"
POST_ROW = "production/_post_row.html"
Fetch = Callable[[int], Awaitable[dict[str, Any] | None]]


async def _signed(s3: S3Service, what: str, row_id: int, fetch: Fetch) -> dict[str, Any]:
    row = await fetch(row_id)
    if row is None:
        raise NotFound(f"production {what} #{row_id} is gone")
    return (await paging.sign_rows([row], s3.sign))[0]


class ProductionController(Controller):
    path = "/production"
    include_in_schema = False

    @get("/", name="production.index")
    async def index(
        self, request: HTMXRequest, s3: S3Dep, q: FromQuery[str] = "", page: FromQuery[int] = 1
    ) -> HTMXTemplate:
        rows, total = await production.models(page, q.strip())
        await paging.sign_rows(rows, s3.sign)
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

    @get("/{model_id:int}", name="production.detail")
    async def detail(
        self, request: HTMXRequest, s3: S3Dep, model_id: RowId, page: FromQuery[int] = 1
    ) -> HTMXTemplate:
        model = await production.model(model_id)
        if model is None:
            raise NotFoundException(f"There is no production model #{model_id}.")
        posts, total = await production.posts(model_id, page)
        await paging.sign_rows(posts, s3.sign)
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

    @post("/{model_id:int}/publish", name="production.publish_model")
    async def publish_model(
        self,
        request: HTMXRequest,
        actor: ActorDep,
        s3: S3Dep,
        model_id: RowId,
        data: PublishBody,
    ) -> Response[Any]:
        row = await production.set_model_published(model_id, data.published)
        if row is None:
            raise NotFoundException(f"There is no production model #{model_id}.")

        async def fresh() -> dict[str, Any]:
            return {"row": await _signed(s3, "model", model_id, production.model_row)}

        back = request.app.route_reverse("production.index")
        toast = f"{row['name']} {_state(data.published)}."
        did = Did("publish_change", row["name"], _state(data.published))
        return await audited(
            request, actor, did, back=back, toast=("success", toast), partial=MODEL_ROW, fresh=fresh
        )

    @post("/posts/{post_id:int}/publish", name="production.publish_post")
    async def publish_post(
        self,
        request: HTMXRequest,
        actor: ActorDep,
        s3: S3Dep,
        post_id: RowId,
        data: PublishBody,
    ) -> Response[Any]:
        row = await production.set_post_published(post_id, data.published)
        if row is None:
            raise NotFoundException(f"There is no production post #{post_id}.")

        async def fresh() -> dict[str, Any]:
            return {"post": await _signed(s3, "post", post_id, production.post)}

        back = request.app.route_reverse("production.detail", model_id=row["model"])
        toast = f"Post {row['title']!r} {_state(data.published)}."
        did = Did("publish_change", row["source_key"], _state(data.published))
        return await audited(
            request, actor, did, back=back, toast=("success", toast), partial=POST_ROW, fresh=fresh
        )


def _state(published: bool) -> str:
    return "published" if published else "unpublished"
