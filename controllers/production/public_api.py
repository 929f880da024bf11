"""Public content API (no login): only published production content, with signed URLs. The
response types are msgspec Structs, so OpenAPI at /schema documents every field (camelCase)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import msgspec
from litestar import Controller, get
from litestar.datastructures import CacheControlHeader
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import Parameter

from controllers.deps import S3Dep
from domain.platform.s3 import S3Service
from domain.production import public


class PublicModel(msgspec.Struct, rename="camel"):
    id: int
    name: str
    slug: str  # what a model is addressed by; a former slug and the display name also resolve
    description: str
    is_featured: bool
    post_count: int
    thumbnail: str | None  # signed; the model's own image, else its first public post's
    # Signed WebP previews, made by the workers after a sync; null until then, or when the
    # file cannot be previewed. The originals beside them are signed too.
    preview: str | None = None  # the thumbnail, 480 px wide
    icon: str | None = None
    icon_preview: str | None = None  # 160 px wide
    banner: str | None = None
    banner_preview: str | None = None  # 480 px wide


class PublicMedia(msgspec.Struct):
    type: str  # "image" or "video"
    url: str  # signed: the original
    # Made by the workers after a sync; null until then, or when the file cannot be previewed.
    preview: str | None = None  # signed WebP, 480 px wide (a video's poster frame)
    thumbnail: str | None = None  # signed WebP, 160 px wide
    poster: str | None = None  # signed WebP frame of a video, 480 px wide; null for images
    width: int | None = None  # of the original, as displayed
    height: int | None = None
    duration: float | None = None  # seconds, videos only


class PublicPost(msgspec.Struct, rename="camel"):
    id: int
    model_id: int
    title: str
    type: str  # the main item's type
    content: str  # the main item (first video, else first image), signed
    thumbnail: str | None  # the first image, signed
    preview: str | None  # the main item's signed WebP (480 px, a video's poster); null until made
    media: list[PublicMedia]  # every image and video of the post, in key order
    created_at: str | None  # ISO 8601, as Python writes it


class PageMeta(msgspec.Struct):
    page: int
    limit: int
    count: int


class ModelPageMeta(msgspec.Struct):
    page: int | None  # null for a page asked by its `after` cursor
    limit: int
    count: int  # public models in all
    next: str | None  # pass as `after` for the next page; null on the last page


class ModelPage(msgspec.Struct):
    data: list[PublicModel]
    meta: ModelPageMeta


class ModelRef(msgspec.Struct):
    id: int
    slug: str
    name: str


class PostPage(msgspec.Struct):
    model: ModelRef
    data: list[PublicPost]
    meta: PageMeta


@dataclass
class ApiError:
    status_code: int
    detail: str


NOT_FOUND = {404: ResponseSpec(data_container=ApiError, description="No such published model")}
Page = Annotated[int, Parameter(ge=1, le=100_000, description="Page number, from 1.")]
ModelsPageNumber = Annotated[
    int | None,
    Parameter(
        ge=1,
        le=100_000,
        description="Page number, from 1 (the first page when neither page nor after is given).",
    ),
]
After = Annotated[
    str | None,
    Parameter(
        max_length=200,
        description=(
            "meta.next of the page before: the page after it, as fast at any depth as the "
            "first. Not with page."
        ),
    ),
]
Ref = Annotated[
    str, Parameter(description="The model's slug (a former slug or the name also work)")
]
# Signed URLs live SIGNED_URL_TTL (an hour by default): a response may be cached for a short
# while, far inside that, and an unpublished model leaves every cache within it.
CACHE = CacheControlHeader(public=True, max_age=30)


def public_post(row: public.SignedPost) -> PublicPost:
    return PublicPost(
        id=row["id"],
        model_id=row["model_id"],
        title=row["title"],
        type=row["type"],
        content=row["content"],
        thumbnail=row["thumbnail"],
        preview=row["preview"],
        media=[PublicMedia(**m) for m in row["media"]],
        created_at=row["created_at"],
    )


def _missing(ref: str) -> NotFoundException:
    return NotFoundException(f"There is no published model with slug or name {ref!r}.")


class PublicApiController(Controller):
    """Version 1. The unversioned paths answer the same, for clients of the original API."""

    path = "/api"
    tags = ["public"]
    cache_control = CACHE

    @get(
        ["/v1/models", "/models"],
        name="api.models",
        summary="Published models, by display order then most posts, 20 a page",
    )
    async def models(
        self, s3: S3Dep, page: ModelsPageNumber = None, after: After = None
    ) -> ModelPage:
        found = await public.models(page, s3.sign, after)
        return ModelPage(
            data=[PublicModel(**row) for row in found["data"]],
            meta=ModelPageMeta(**found["meta"]),
        )

    @get(["/v1/models/{ref:str}"], name="api.model", responses=NOT_FOUND, summary="One model")
    async def model(self, s3: S3Dep, ref: Ref) -> PublicModel:
        found = await public.model(ref, s3.sign)
        if found is None:
            raise _missing(ref)
        return PublicModel(**found)

    @get(
        "/v1/models/{ref:str}/posts",
        name="api.posts",
        responses=NOT_FOUND,
        summary="A published model's published posts, newest first, 20 a page",
    )
    async def posts(self, s3: S3Dep, ref: Ref, page: Page = 1) -> PostPage:
        return await _posts(s3, ref, page, by_name_first=False)

    @get(
        "/models/{ref:str}/posts",
        name="api.posts_by_name",
        responses=NOT_FOUND,
        summary="As /v1/models/{ref}/posts; the original API's path, where names come first",
    )
    async def posts_by_name(self, s3: S3Dep, ref: Ref, page: Page = 1) -> PostPage:
        return await _posts(s3, ref, page, by_name_first=True)


async def _posts(s3: S3Service, ref: str, page: int, by_name_first: bool) -> PostPage:
    found = await public.model_posts(ref, page, s3.sign, by_name_first)
    if found is None:
        raise _missing(ref)
    return PostPage(
        model=ModelRef(**found["model"]),
        data=[public_post(row) for row in found["data"]],
        meta=PageMeta(**found["meta"]),
    )
