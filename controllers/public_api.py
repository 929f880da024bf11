"""Public content API (no login): only published production content, with signed URLs. The
response types are msgspec Structs, so OpenAPI at /schema documents every field (camelCase)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, Parameter

from controllers.deps import S3Dep
from domain.production import public


class PublicModel(msgspec.Struct, rename="camel"):
    id: int
    name: str
    slug: str
    post_count: int
    thumbnail: str | None


class PublicPost(msgspec.Struct, rename="camel"):
    id: int
    model_id: int
    title: str
    type: str
    content: str
    thumbnail: str | None
    created_at: str | None  # ISO 8601, as Python writes it


class PageMeta(msgspec.Struct):
    page: int
    limit: int
    count: int


class ModelPage(msgspec.Struct):
    data: list[PublicModel]
    meta: PageMeta


class PostPage(msgspec.Struct):
    data: list[PublicPost]
    meta: PageMeta


@dataclass
class ApiError:
    status_code: int
    detail: str


NOT_FOUND = {404: ResponseSpec(data_container=ApiError, description="No such published model")}
Page = Annotated[int, Parameter(ge=1, le=100_000, description="Page number, from 1.")]


class PublicApiController(Controller):
    path = "/api"
    tags = ["public"]

    @get("/models", name="api.models", summary="Published models, most posts first, 20 a page")
    async def models(self, s3: S3Dep, page: Page = 1) -> ModelPage:
        found = await public.models(page, s3.sign)
        return ModelPage(
            data=[PublicModel(**row) for row in found["data"]], meta=PageMeta(**found["meta"])
        )

    @get(
        "/models/{name:str}/posts",
        name="api.posts",
        responses=NOT_FOUND,
        summary="A published model's posts, newest first",
    )
    async def posts(self, s3: S3Dep, name: FromPath[str], page: Page = 1) -> PostPage:
        found = await public.model_posts(name, page, s3.sign)
        if found is None:
            raise NotFoundException(f"There is no published model named {name!r}.")
        return PostPage(
            data=[PublicPost(**row) for row in found["data"]], meta=PageMeta(**found["meta"])
        )
