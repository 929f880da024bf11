"""Production catalogue management: list activated models and posts with filters, publish and
unpublish one or many. Content whose source is missing from the bucket cannot be published, nor
a retired model (domain/production/retiring.py); the list leaves retired models out unless
asked for them."""

from __future__ import annotations

from typing import Literal, NamedTuple

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from domain.errors import Conflict
from domain.platform import db
from domain.platform.db import now
from domain.platform.listing import Filter, ListQuery, ListSpec, parse
from domain.platform.loops import beside
from domain.platform.paging import Signer
from domain.platform.tables import Model, Post
from domain.production import sql
from domain.production.lifecycle import recount
from domain.production.retiring import refuse_publishing
from domain.production.rows import ListedModel, ProductionModel, ProductionPost, Published, signed
from domain.production.visibility import publishable_sql

PAGE_SIZE = 25
PAGE_SIZES = (25, 50, 100)
STATES = ("published", "unpublished", "retired")  # "": every model not retired
# The production list's controls: ?q=&state=&featured=&missing=&sort=&dir=&size=&page=
LIST = ListSpec(
    filters=(
        Filter("q", "search"),
        Filter("state", values=STATES),
        Filter("featured", "flag"),
        Filter("missing", "flag"),  # only models whose source folder is gone from the bucket
    ),
    sorts=tuple(sql.LIST_ORDER),
    sizes=PAGE_SIZES,
)
POSTS = ListSpec(sizes=(PAGE_SIZE,))  # a model's posts: ?page=
# sql.BACK for the query builder, where the table is named "models".
SOURCE_BACK = QueryString(
    "EXISTS (SELECT 1 FROM whitelabel_models w2 WHERE w2.folder_name = models.source_folder)"
).as_alias("source_back")


def production_query(
    search: str = "", state: str = "", featured: bool = False, missing: bool = False
) -> ListQuery:
    """The list's filters from Python ("Publish all matching", the bench), checked as the
    address's are."""
    flags = {"featured": "1" if featured else "", "missing": "1" if missing else ""}
    return parse({"q": search, "state": state, **flags}, LIST)


ProductionQuery = production_query  # the name the list's controls had


# The list counts at most this many matching models (sql.models_count): past it, "10,000+".
COUNT_CAP = 10_000


class Matching(NamedTuple):
    """How many models the list's filters match, and what "Publish all matching" would do:
    exact below COUNT_CAP; at it, `capped` and the other three unknown (None)."""

    total: int
    capped: bool
    to_publish: int | None  # unpublished ones publishing makes public
    retired: int | None  # skipped: restore them first
    missing: int | None  # skipped: their source is missing from the bucket
    more: bool = False  # models follow this page (the pager's "Next" past a capped count)


async def models(query: ListQuery, signer: Signer) -> tuple[list[ListedModel], Matching]:
    # The count runs beside the page's query and signing, on its own pooled connection: at a
    # million models it reads 10,000 from the index models_live_counted (1.1 ms; 2.2 to 3.3 ms
    # from the table, as long as the rest of the page's SQL).
    async with beside(sql.models_count(query, COUNT_CAP)) as counting:
        rows = await sql.models_page(query)
        listed = await signed(rows[: query.size], signer, ListedModel)
        counts = await counting
    total, more = counts["total"], len(rows) > query.size
    if total >= COUNT_CAP:
        matching = Matching(total, True, None, None, None, more)
    else:
        found = (counts["to_publish"], counts["retired"], counts["missing"])
        matching = Matching(total, False, *found, more)
    return listed, matching


async def matching_ids(query: ListQuery) -> list[int]:
    """Every model the filters match, on all pages: what "all matching" acts on."""
    return await sql.matching_ids(query)


async def model_row(model_id: int, signer: Signer) -> ListedModel | None:
    """One model in the shape of a list row (for swapping a single table row)."""
    rows = await sql.model_row(model_id)
    return (await signed(rows, signer, ListedModel))[0] if rows else None


async def model(model_id: int) -> ProductionModel | None:
    row = await db.first(
        Model.select(
            *Model.all_columns(),
            Model.whitelabel_model.folder_name.as_alias("staged_name"),
            SOURCE_BACK,
        ).where(Model.id == model_id)
    )
    return ProductionModel.from_row(row) if row else None


POST_COLUMNS = (
    Post.id,
    Post.model,
    Post.title,
    Post.source_key,
    Post.content_key,
    Post.thumbnail_key,
    Post.type,
    Post.is_published,
    Post.source_missing_at,
    Post.updated_at,
    Post.model.is_published.as_alias("model_is_published"),
    Post.model.source_missing_at.as_alias("model_source_missing_at"),
    Post.model.retired_at.as_alias("model_retired_at"),
)


async def posts(
    model_id: int, signer: Signer, listing: ListQuery
) -> tuple[list[ProductionPost], int]:
    total = await Post.count().where(Post.model == model_id)
    rows = await db.select(
        Post.select(*POST_COLUMNS)
        .where(Post.model == model_id)
        .order_by(Post.source_key)
        .limit(listing.size)
        .offset(listing.offset)
    )
    return await signed(rows, signer, ProductionPost), int(total)


def _refuse_missing(what: str, source_back: bool) -> Conflict:
    if source_back:
        return Conflict(
            f"{what}: its folder is back in the bucket but not activated yet. Activate its "
            "staged model to bring it up to date; that publishes it."
        )
    return Conflict(
        f"{what}: its source is missing from the bucket, so it cannot be public. Put the "
        "folder back and sync, then activate it again."
    )


async def set_published(
    kind: Literal["model", "post"], row_id: int, published: bool
) -> Published | None:
    """Publish or unpublish one model or post; None if there is no such row. Publishing
    content whose source is missing is a conflict that says what to do."""
    async with db.transaction() as tx:
        rows = await sql.lock_for_publishing(tx, kind, row_id)
        if not rows:
            return None
        row = rows[0]
        if published and row["retired_at"] is not None:
            raise refuse_publishing(row["name"])
        if published and row["source_missing_at"] is not None:
            what = row["name"] if kind == "model" else f"post {row['name']!r}"
            raise _refuse_missing(what, row["source_back"])
        table = Model if kind == "model" else Post
        await tx.run(
            table.update({table.is_published: published, table.updated_at: now()}).where(
                table.id == row_id
            )
        )
        if kind == "post":
            await recount(tx, row["model_id"])
    return Published(row["name"], row["target"], row["model_id"])


class Bulk(NamedTuple):
    """What a bulk publish or unpublish did: models changed, and those publishing skipped."""

    changed: int
    retired: int = 0  # skipped: retired (restore first)
    missing: int = 0  # skipped: source missing (not retired)

    @property
    def skipped(self) -> int:
        return self.retired + self.missing


async def set_many_published(ids: list[int], published: bool) -> Bulk:
    """Publish or unpublish many models in one transaction. Publishing skips the models that
    cannot be public (retired, or their source missing) and counts them by reason."""
    if not ids:
        return Bulk(0)
    chosen = WhereRaw("models.id = ANY({}::int[])", ids)  # one parameter, however many ids
    changing = chosen & (Model.is_published != published)
    async with db.transaction() as tx:
        changed = await tx.run(
            Model.update({Model.is_published: published, Model.updated_at: now()})
            .where((changing & WhereRaw(publishable_sql("models"))) if published else changing)
            .returning(Model.id)
        )
        if not published:
            return Bulk(len(changed))
        retired = await tx.run(
            Model.select(Model.id).where(chosen & Model.retired_at.is_not_null())
        )
        missing = await tx.run(
            Model.select(Model.id).where(
                chosen & Model.retired_at.is_null() & Model.source_missing_at.is_not_null()
            )
        )
    return Bulk(len(changed), len(retired), len(missing))


async def post(post_id: int, signer: Signer) -> ProductionPost | None:
    rows = await db.select(Post.select(*POST_COLUMNS).where(Post.id == post_id))
    return (await signed(rows, signer, ProductionPost))[0] if rows else None
