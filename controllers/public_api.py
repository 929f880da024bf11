"""Public content API (no login): only published production content, with signed URLs."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from litestar import Controller, Request, get
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, Parameter

from domain.platform.runtime import Runtime
from domain.production import public


@dataclass
class ApiError:
    status_code: int
    detail: str


NOT_FOUND = {404: ResponseSpec(data_container=ApiError, description="No such published model")}
Page = Annotated[int, Parameter(ge=1, le=100_000, description="Page number, from 1.")]


class PublicApiController(Controller):
    path = "/api"
    tags = ["public"]

    @get("/models", summary="Published models, most posts first, 20 a page")
    async def models(self, request: Request[Any, Any, Any], page: Page = 1) -> dict[str, Any]:
        runtime: Runtime = request.app.state["runtime"]
        return await public.models(page, runtime.s3.sign)

    @get(
        "/models/{name:str}/posts",
        responses=NOT_FOUND,
        summary="A published model's posts, newest first",
    )
    async def posts(
        self, request: Request[Any, Any, Any], name: FromPath[str], page: Page = 1
    ) -> dict[str, Any]:
        runtime: Runtime = request.app.state["runtime"]
        result = await public.model_posts(name, page, runtime.s3.sign)
        if result is None:
            raise NotFoundException(f"There is no published model named {name!r}.")
        return result
