"""Staged models, as the admin reviews them: the keyset-paged list, one model and its posts."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass

from domain.media.previews import signed_derivatives
from domain.platform.listing import Filter, ListQuery, ListSpec, parse
from domain.platform.loops import beside
from domain.platform.paging import Signer, decode_cursor, encode_cursor
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

PAGE_SIZES = (10, 25, 50, 100)
COUNT_CAP = 10_000
# Substring matches cost more to count (a name index scan, filtered: 11 ms for 1,000 of them
# among a million names, bench/web_scale.py): past this many, "200+".
SEARCH_COUNT_CAP = 200
STATUSES = ("new", "active")
# The review list's controls: ?q=&status=&sort=&dir=&size=&after=|before= (keyset cursors).
LIST = ListSpec(
    filters=(Filter("q", "search", label="search"), Filter("status", values=STATUSES)),
    sorts=tuple(sql.SORT_COLUMNS),
    sizes=PAGE_SIZES,
    default_size=25,
    paging="keyset",
)


POSTS = ListSpec(sizes=(12,))  # a staged model's posts: ?page=
FIRST_POSTS = parse({}, POSTS)


def staged_query(
    search: str = "",
    status: str = "",
    sort: str = "name",
    desc: bool = False,
    size: int = 25,
    after: str | None = None,
    before: str | None = None,
) -> ListQuery:
    """The list's controls from Python (the CLI, bulk activation, tests), checked as the
    address's are."""
    params = {"q": search, "status": status, "sort": sort, "dir": "desc" if desc else "asc"}
    params |= {"size": str(size), "after": after or "", "before": before or ""}
    return parse(params, LIST)


StagedQuery = staged_query  # the name the list's controls had


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


async def staged_models(q: ListQuery, signer: Signer) -> StagedPage:
    """One page of the list, its rows' thumbnails signed."""
    backwards = q.before is not None and q.after is None
    cursor = q.before if backwards else q.after
    key = decode_cursor(cursor, q.sort, "before" if backwards else "after") if cursor else None
    cap = SEARCH_COUNT_CAP if q.search else COUNT_CAP
    # Independent reads, each on its own pooled connection: the page waits for the slowest.
    # The count runs beside the page's query and signing (a search's count, 3 ms at a
    # million models, had waited for the page's query, then the signing had waited for it).
    async with beside(sql.capped_count(q, cap)) as counting:
        rows = await sql.staged_page(q, key, backwards, q.size + 1)
        more = len(rows) > q.size
        rows = rows[: q.size]
        if backwards:
            rows.reverse()
        if not rows:
            total = await counting
            return StagedPage([], None, None, total, total >= cap)
        first, last = rows[0], rows[-1]
        before, signed = await asyncio.gather(
            # How many rows under the same filter come before this one, up to COUNT_CAP.
            sql.rows_before(q, (first["sort_value"], first["id"]), COUNT_CAP)
            if cursor
            else asyncio.sleep(0, 0),
            signed_rows(rows, signer),
        )
        total = await counting
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


@dataclass(frozen=True, slots=True)
class NewCount:
    """The staged models still new, read up to a cap: `capped` means at least `n`, so what the
    activate-all button and its confirmation say ("10,000+") never understates what would go
    public."""

    n: int
    capped: bool


async def new_count() -> NewCount:
    """Staged models still new, exact up to COUNT_CAP (the status index makes it cheap); one
    more is read to tell exactly COUNT_CAP from more."""
    n = await sql.capped_count(ListQuery(filters={"status": "new"}), COUNT_CAP + 1)
    return NewCount(min(n, COUNT_CAP), n > COUNT_CAP)


async def staged_model(name: str, signer: Signer) -> StagedModel | None:
    """One staged model, signed, with its production model's id and state if it has one."""
    rows = await sql.staged_model(name)
    return await signed_model(rows[0], signer) if rows else None


async def model_posts(
    model_name: str, signer: Signer, listing: ListQuery = FIRST_POSTS
) -> tuple[list[StagedPost], int]:
    """A staged model's posts with signed image and video URLs; returns (posts, total). Keyed by
    name, so its three reads run at once, alongside the page's read of the model itself."""
    posts, total, media = await sql.model_posts(model_name, listing.size, listing.offset)
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
