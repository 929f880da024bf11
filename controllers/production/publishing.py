"""Production: activated models and their posts; filter, publish and unpublish one or many."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from litestar import Controller, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.exceptions import NotFoundException
from litestar.params import Body
from litestar.plugins.htmx import HTMXRequest, HTMXTemplate

from controllers.deps import ActorDep, S3Dep
from controllers.forms import Checked, RowId
from controllers.lists import ListDep, listed
from controllers.numbers import whole_number
from controllers.responses import Did, audited, render
from domain.errors import Invalid, NotFound
from domain.platform import paging
from domain.platform.listing import link_params, parse
from domain.production import publishing as production


@dataclass
class PublishForm(Checked):
    published: bool


@dataclass
class BulkForm(Checked):
    """Ticked rows ("id" repeated), or with scope=matching every model the filters match."""

    published: bool
    id: list[str] | str = field(default_factory=list)
    scope: str = "selected"
    q: str = ""
    state: str = ""
    featured: str = ""
    missing: str = ""

    def ids(self) -> list[int]:
        values = [self.id] if isinstance(self.id, str) else self.id
        return [whole_number("id", v) for v in values if v]


PublishBody = Annotated[PublishForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
BulkBody = Annotated[BulkForm, Body(media_type=RequestEncodingType.URL_ENCODED)]
MODEL_ROW = "production/_model_row.html"
POST_ROW = "production/_post_row.html"
LIST = "production/_list.html"
# A model's list row or a post's row, signed, to swap in after publishing it.
Fresh = Callable[[int, paging.Signer], Awaitable[object | None]]


class ProductionController(Controller):
    path = "/production"
    include_in_schema = False

    @get("/", name="production.index", dependencies=listed(production.LIST))
    async def index(self, request: HTMXRequest, s3: S3Dep, listing: ListDep) -> HTMXTemplate:
        rows, matching = await production.models(listing, s3.sign)
        return render(
            request,
            "production/index.html",
            LIST,
            rows=rows,
            total=matching.total,
            matching=matching,
            listing=listing,
            params=link_params(listing, production.LIST),
            sizes=production.PAGE_SIZES,
            nav="production",
        )

    @get("/{model_id:int}", name="production.detail", dependencies=listed(production.POSTS))
    async def detail(
        self, request: HTMXRequest, s3: S3Dep, model_id: RowId, listing: ListDep
    ) -> HTMXTemplate:
        model = await production.model(model_id)
        if model is None:
            raise NotFoundException(f"There is no production model #{model_id}.")
        posts, total = await production.posts(model_id, s3.sign, listing)
        return render(
            request,
            "production/detail.html",
            "production/_posts.html",
            model=model,
            posts=posts,
            total=total,
            listing=listing,
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
        return await _publish(request, actor, s3.sign, "model", model_id, data.published)

    @post("/_bulk/publish", name="production.publish_many")
    async def publish_many(
        self, request: HTMXRequest, actor: ActorDep, data: BulkBody
    ) -> Response[Any]:
        if data.scope == "matching":
            filters = {"q": data.q, "state": data.state, "featured": data.featured}
            query = parse(filters | {"missing": data.missing}, production.LIST)
            ids = await production.matching_ids(query)
        elif data.scope == "selected":
            ids = data.ids()
        else:
            raise Invalid(f"scope={data.scope!r} is not supported: use selected or matching.")
        if not ids:
            raise Invalid("No models selected: tick at least one row.")
        done = await production.set_many_published(ids, data.published)
        message = f"{done.changed:,} model(s) {_state(data.published)}" + _skipped(done)
        did = Did("publish_change", f"{len(ids):,} model(s)", message)
        back = request.app.route_reverse("production.index")
        return await audited(request, actor, did, back=back, toast=("success", message + "."))

    @post("/posts/{post_id:int}/publish", name="production.publish_post")
    async def publish_post(
        self,
        request: HTMXRequest,
        actor: ActorDep,
        s3: S3Dep,
        post_id: RowId,
        data: PublishBody,
    ) -> Response[Any]:
        return await _publish(request, actor, s3.sign, "post", post_id, data.published)


# Per kind: the row partial, its template variable, and how to read the row again.
_ROWS: dict[str, tuple[str, str, Fresh]] = {
    "model": (MODEL_ROW, "row", production.model_row),
    "post": (POST_ROW, "post", production.post),
}


async def _publish(
    request: HTMXRequest,
    actor: ActorDep,
    signer: paging.Signer,
    kind: Literal["model", "post"],
    row_id: int,
    published: bool,
) -> Response[Any]:
    """Publish or unpublish one model or post, audited; htmx gets its row again."""
    done = await production.set_published(kind, row_id, published)
    if done is None:
        raise NotFoundException(f"There is no production {kind} #{row_id}.")
    partial, name, read = _ROWS[kind]

    async def fresh() -> dict[str, object]:
        row = await read(row_id, signer)
        if row is None:
            raise NotFound(f"production {kind} #{row_id} is gone")
        return {name: row}

    back = request.app.route_reverse("production.detail", model_id=done.model_id)
    label = done.name if kind == "model" else f"Post {done.name!r}"
    did = Did("publish_change", done.target, _state(published), done.model_id)
    toast = ("success", f"{label} {_state(published)}.")
    return await audited(request, actor, did, back=back, toast=toast, partial=partial, fresh=fresh)


def _skipped(done: production.Bulk) -> str:
    """Why publishing skipped some, by reason ("; 3 skipped: 1 retired (restore first), ...")."""
    reasons = []
    if done.retired:
        reasons.append(f"{done.retired:,} retired (restore first)")
    if done.missing:
        reasons.append(f"{done.missing:,} with their source missing from the bucket")
    return f"; {done.skipped:,} skipped: {', '.join(reasons)}" if reasons else ""


def _state(published: bool) -> str:
    return "published" if published else "unpublished"
