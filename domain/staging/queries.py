"""Staged models, as the admin reviews them: the keyset-paged list, one model and its posts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Any

from domain.media.previews import signed_derivatives
from domain.platform.paging import (
    BadQuery,
    Signer,
    decode_cursor,
    encode_cursor,
    like_pattern,
    page_bounds,
)
from domain.staging import sql
from domain.staging.rows import (
    Gallery,
    GalleryItem,
    StagedModel,
    StagedPost,
    StagedRow,
    signed_model,
    signed_rows,
)

SORTS = {"name": "folder_name", "posts": "post_count", "synced": "last_synced_at"}
PAGE_SIZES = (10, 25, 50, 100)
COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1_000  # substring matches cost more to count: show "1,000+"


@dataclass(frozen=True)
class StagedQuery:
    search: str = ""
    status: str = ""  # "", "new", "active"
    sort: str = "name"
    desc: bool = False
    size: int = 25
    after: str | None = None  # cursor of the last row of the previous page
    before: str | None = None  # cursor of the first row of the next page

    def validate(self) -> StagedQuery:
        if self.sort not in SORTS:
            raise BadQuery(f"sort={self.sort!r} is not supported: use one of {', '.join(SORTS)}.")
        if self.status not in ("", "new", "active"):
            raise BadQuery(f"status={self.status!r} is not supported: use new or active.")
        if self.size not in PAGE_SIZES:
            raise BadQuery(f"size={self.size} is not supported: use one of {PAGE_SIZES}.")
        if len(self.search) > 200:
            raise BadQuery("search is too long: use at most 200 characters.")
        return self


@dataclass
class StagedPage:
    rows: list[StagedRow]
    next_cursor: str | None
    prev_cursor: str | None
    total: int  # capped at COUNT_CAP; see total_capped
    total_capped: bool
    start: int = 0  # 1-based position of the first row under the same filter; 0 when empty
    start_capped: bool = False  # the page lies past the first COUNT_CAP rows: start is a floor

    @property
    def end(self) -> int:
        return self.start + len(self.rows) - 1 if self.rows else 0


def filter_where(search: str, status: str) -> tuple[str, list[Any]]:
    """The WHERE clause (and its arguments) of the list's search and status filters."""
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if search:
        args.append(like_pattern(search.lower()))
        where.append(f"lower(folder_name) LIKE ${len(args)} ESCAPE '\\'")
    if status:
        args.append(status)
        where.append(f"status = ${len(args)}")
    return " AND ".join(where), args


async def staged_models(q: StagedQuery, signer: Signer) -> StagedPage:
    """One page of the list, its rows' thumbnails signed."""
    q = q.validate()
    column = SORTS[q.sort]
    base_where, args = filter_where(q.search, q.status)
    backwards = q.before is not None and q.after is None
    cursor = q.before if backwards else q.after
    page_where = base_where
    page_args: list[Any] = list(args)
    # Qualified: a bare last_synced_at in ORDER BY would be the displayed GREATEST(...) below,
    # which the keyset condition (and the index) cannot follow. Every sync write sets it: never
    # NULL here.
    col_expr = f"whitelabel_models.{column}"
    if cursor:
        value, row_id = decode_cursor(cursor, q.sort, "before" if backwards else "after")
        forward_desc = q.desc != backwards
        op = "<" if forward_desc else ">"
        page_args += [value, row_id]
        page_where += f" AND ({col_expr}, id) {op} (${len(page_args) - 1}, ${len(page_args)})"
    direction = "DESC" if q.desc != backwards else "ASC"
    rows = await sql.staged_page(col_expr, page_where, page_args, direction, q.size + 1)
    more = len(rows) > q.size
    rows = rows[: q.size]
    if backwards:
        rows.reverse()
    cap = SEARCH_COUNT_CAP if q.search else COUNT_CAP
    if not rows:
        total = await _capped_count(base_where, args, cap)
        return StagedPage([], None, None, total, total >= cap)
    first, last = rows[0], rows[-1]
    # Independent reads, each on its own pooled connection: the page waits for the slowest.
    total, before, signed = await asyncio.gather(
        _capped_count(base_where, args, cap),
        _rows_before(first, col_expr, q.desc, base_where, args) if cursor else asyncio.sleep(0, 0),
        signed_rows(rows, signer),
    )
    has_next = more if not backwards else True
    has_prev = more if backwards else bool(cursor)
    return StagedPage(
        signed,
        encode_cursor(last["sort_value"], last["id"]) if has_next else None,
        encode_cursor(first["sort_value"], first["id"]) if has_prev else None,
        total,
        total >= cap,
        min(before, COUNT_CAP) + 1,
        start_capped=before >= COUNT_CAP,
    )


async def _rows_before(
    first: dict[str, Any], col_expr: str, desc: bool, where: str, args: list[Any]
) -> int:
    """How many rows under the same filter come before this one in the list's order, counted
    up to COUNT_CAP: a (column, id) bound the keyset indexes serve, not a scan of the table."""
    op = ">" if desc else "<"
    return await sql.rows_before(
        where, args, col_expr, op, first["sort_value"], first["id"], COUNT_CAP
    )


async def _capped_count(where: str, args: list[Any], cap: int = COUNT_CAP) -> int:
    """Exact up to `cap`, so a page view never counts a whole 100k-row table."""
    return await sql.capped_count(where, [*args, cap])


async def new_count() -> int:
    """Staged models still new, exact up to COUNT_CAP (the status index makes it cheap)."""
    return await _capped_count("status = $1", ["new"])


async def staged_model(name: str, signer: Signer) -> StagedModel | None:
    """One staged model, signed, with its production model's id and state if it has one."""
    rows = await sql.staged_model(name)
    return await signed_model(rows[0], signer) if rows else None


async def model_posts(
    model_name: str, signer: Signer, page: int = 1, size: int = 12
) -> tuple[list[StagedPost], int]:
    """A staged model's posts with signed image and video URLs; returns (posts, total). Keyed by
    name, so its three reads run at once, alongside the page's read of the model itself."""
    offset = page_bounds(page, size)
    posts, counted, media = await sql.model_posts(model_name, size, offset)
    total = int(counted[0]["n"])
    by_post = {p["id"]: Gallery([], []) for p in posts}
    for m in media:
        gallery = by_post.get(m["whitelabel_post"])
        if gallery is None:  # read in another snapshot: a sync changed the page in between
            continue
        # preview_url, thumb_url, poster_url: None until a worker made them
        item = GalleryItem(
            m["s3_key"], await signer(m["s3_key"]), m["size"], **await signed_derivatives(m, signer)
        )
        (gallery.videos if m["type"] == "video" else gallery.images).append(item)
    out = []
    for p in posts:
        gallery = by_post[p["id"]]
        preview = gallery.images[0].thumb_url if gallery.images else None
        out.append(StagedPost.from_row({**p, "media": gallery, "preview_url": preview}))
    return out, total
