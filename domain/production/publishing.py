"""Production catalogue management: list activated models and posts with filters, publish and
unpublish one or many. Content whose source is missing from the bucket cannot be published, nor
a retired model (domain/production/retiring.py); the list leaves retired models out unless
asked for them."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, NamedTuple

from piccolo.columns.combination import WhereRaw
from piccolo.querystring import QueryString

from domain.errors import Conflict
from domain.platform import db
from domain.platform.db import now
from domain.platform.paging import BadQuery, Signer, like_pattern, page_bounds
from domain.platform.tables import Model, Post
from domain.production import sql
from domain.production.lifecycle import recount
from domain.production.retiring import refuse_publishing
from domain.production.rows import ListedModel, ProductionModel, ProductionPost, Published, signed
from domain.production.visibility import public_posts_sql, publishable_sql

PAGE_SIZE = 25
PAGE_SIZES = (25, 50, 100)
STATES = ("", "published", "unpublished", "retired")  # "": every model not retired
SORTS = {
    "name": "lower(m.name)",
    "posts": public_posts_sql("m"),
    "updated": "m.updated_at",
    "order": "m.display_order",
}
# sql.BACK for the query builder, where the table is named "models".
SOURCE_BACK = QueryString(
    "EXISTS (SELECT 1 FROM whitelabel_models w2 WHERE w2.folder_name = models.source_folder)"
).as_alias("source_back")


@dataclass(frozen=True)
class ProductionQuery:
    """The production list's controls, validated: each bad value is a 400 naming it."""

    search: str = ""
    state: str = ""  # "" (all but retired), "published", "unpublished", "retired"
    featured: bool = False
    missing: bool = False  # only models whose source folder is gone from the bucket
    sort: str = "name"
    desc: bool = False
    size: int = PAGE_SIZE
    page: int = 1

    def __post_init__(self) -> None:
        if len(self.search) > 200:
            raise BadQuery("q is too long: use at most 200 characters.")
        if self.state not in STATES:
            raise BadQuery(
                f"state={self.state!r} is not supported: use published, unpublished or retired."
            )
        if self.sort not in SORTS:
            raise BadQuery(f"sort={self.sort!r} is not supported: use one of {', '.join(SORTS)}.")
        if self.size not in PAGE_SIZES:
            raise BadQuery(f"size={self.size} is not supported: use 25, 50 or 100.")
        page_bounds(self.page, self.size)

    def where(self) -> tuple[str, list[Any]]:
        clauses, args = ["TRUE"], []
        if self.search:
            args.append(like_pattern(self.search.lower()))
            clauses.append(
                f"(lower(m.name) LIKE ${len(args)} ESCAPE '\\' OR m.slug LIKE "
                f"${len(args)} ESCAPE '\\')"
            )
        if self.state == "retired":
            clauses.append("m.retired_at IS NOT NULL")
        else:
            clauses.append("m.retired_at IS NULL")
        if self.state in ("published", "unpublished"):
            clauses.append("m.is_published" if self.state == "published" else "NOT m.is_published")
        if self.featured:
            clauses.append("m.is_featured")
        if self.missing:
            clauses.append("m.source_missing_at IS NOT NULL")
        return " AND ".join(clauses), args


class Matching(NamedTuple):
    """How many models the list's filters match, and what "Publish all matching" would do."""

    total: int
    to_publish: int  # unpublished ones publishing makes public
    retired: int  # skipped: restore them first
    missing: int  # skipped: their source is missing from the bucket


async def models(query: ProductionQuery, signer: Signer) -> tuple[list[ListedModel], Matching]:
    where, args = query.where()
    order = f"{SORTS[query.sort]} {'DESC' if query.desc else 'ASC'}, m.id"
    counts, rows = await sql.models_page(
        where, args, order, query.size, (query.page - 1) * query.size
    )
    matching = Matching(*(int(counts[k]) for k in Matching._fields))
    return await signed(rows, signer, ListedModel), matching


async def matching_ids(query: ProductionQuery) -> list[int]:
    """Every model the filters match, on all pages: what "all matching" acts on."""
    where, args = query.where()
    rows = await sql.matching_ids(where, args)
    return [int(r["id"]) for r in rows]


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


async def posts(model_id: int, signer: Signer, page: int = 1) -> tuple[list[ProductionPost], int]:
    offset = page_bounds(page, PAGE_SIZE)
    total = await Post.count().where(Post.model == model_id)
    rows = await db.select(
        Post.select(*POST_COLUMNS)
        .where(Post.model == model_id)
        .order_by(Post.source_key)
        .limit(PAGE_SIZE)
        .offset(offset)
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
