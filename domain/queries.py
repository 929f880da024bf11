"""Read side: staged-model pages (keyset), stats, model posts, and the public catalogue."""

from __future__ import annotations

import base64
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from domain import db
from domain.errors import Invalid

Signer = Callable[[str], Awaitable[str]]
SORTS = {"name": "folder_name", "posts": "post_count", "synced": "last_synced_at"}
PAGE_SIZES = (10, 25, 50, 100)
PUBLIC_PAGE_SIZE = 20
COUNT_CAP = 10_000
SEARCH_COUNT_CAP = 1_000  # substring matches cost more to count: show "1,000+"


class BadQuery(Invalid):
    """A query parameter that cannot be used; the message names it and the accepted values."""


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
    rows: list[dict[str, Any]]
    next_cursor: str | None
    prev_cursor: str | None
    total: int  # capped at COUNT_CAP; see total_capped
    total_capped: bool


def encode_cursor(value: Any, row_id: int) -> str:
    if isinstance(value, datetime):
        value = {"t": value.isoformat()}
    raw = json.dumps([value, row_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


INT32 = 2**31 - 1


def _cursor_value(value: Any, sort: str) -> Any:
    """The cursor's value if it has the sort column's type and range, else None."""
    if sort == "synced" and isinstance(value, dict) and isinstance(value.get("t"), str):
        when = datetime.fromisoformat(value["t"])
        return when if when.tzinfo is not None else when.replace(tzinfo=UTC)
    if sort == "posts" and type(value) is int and 0 <= value <= INT32:
        return value
    if sort == "name" and type(value) is str and len(value) <= 1024 and "\x00" not in value:
        value.encode()  # a lone surrogate ("\ud800" in the JSON) raises here
        return value
    return None


def decode_cursor(cursor: str, sort: str = "name", param: str = "cursor") -> tuple[Any, int]:
    """A keyset cursor for `sort`, checked before it reaches the database: a value of another
    column's type, an id out of range, a NUL or a lone surrogate is a BadQuery naming `param`."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, row_id = json.loads(raw)
        value = _cursor_value(value, sort)
        if value is None or type(row_id) is not int or not 1 <= row_id <= INT32:
            raise ValueError
        return value, row_id
    except (ValueError, TypeError, KeyError, UnicodeError, OverflowError):
        raise BadQuery(
            f"{param}={cursor[:40]!r} is not a cursor of this list (sort={sort}): "
            "start again from the first page."
        ) from None


def like_pattern(term: str) -> str:
    return "%" + term.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


async def staged_models(q: StagedQuery) -> StagedPage:
    q = q.validate()
    column = SORTS[q.sort]
    where: list[str] = ["1 = 1"]
    args: list[Any] = []
    if q.search:
        args.append(like_pattern(q.search.lower()))
        where.append(f"lower(folder_name) LIKE ${len(args)} ESCAPE '\\'")
    if q.status:
        args.append(q.status)
        where.append(f"status = ${len(args)}")
    base_where = " AND ".join(where)
    backwards = q.before is not None and q.after is None
    cursor = q.before if backwards else q.after
    page_where = base_where
    page_args: list[Any] = list(args)
    col_expr = column  # last_synced_at is set by every sync write, so never NULL here
    if cursor:
        value, row_id = decode_cursor(cursor, q.sort, "before" if backwards else "after")
        forward_desc = q.desc != backwards
        op = "<" if forward_desc else ">"
        page_args += [value, row_id]
        page_where += f" AND ({col_expr}, id) {op} (${len(page_args) - 1}, ${len(page_args)})"
    direction = "DESC" if q.desc != backwards else "ASC"
    page_args.append(await last_full_sync())
    rows = await db.fetch(
        "SELECT id, folder_name, thumbnail_key, post_count, image_count, video_count, status, "
        f"GREATEST(last_synced_at, ${len(page_args)}) AS last_synced_at "
        f"FROM whitelabel_models WHERE {page_where} "
        f"ORDER BY {col_expr} {direction}, id {direction} LIMIT ${len(page_args) + 1}",
        *page_args,
        q.size + 1,
    )
    more = len(rows) > q.size
    rows = rows[: q.size]
    if backwards:
        rows.reverse()
    cap = SEARCH_COUNT_CAP if q.search else COUNT_CAP
    total = await _capped_count(base_where, args, cap)
    if not rows:
        return StagedPage([], None, None, total, total >= cap)
    first, last = rows[0], rows[-1]
    has_next = more if not backwards else True
    has_prev = more if backwards else bool(cursor)
    return StagedPage(
        rows,
        encode_cursor(last[column], last["id"]) if has_next else None,
        encode_cursor(first[column], first["id"]) if has_prev else None,
        total,
        total >= cap,
    )


async def _capped_count(where: str, args: list[Any], cap: int = COUNT_CAP) -> int:
    """Exact up to `cap`, so a page view never counts a whole 100k-row table."""
    args = [*args, cap]
    rows = await db.fetch(
        f"SELECT COUNT(*) AS n FROM (SELECT 1 FROM whitelabel_models WHERE "
        f"{where} LIMIT ${len(args)}) AS capped",
        *args,
    )
    return int(rows[0]["n"])


async def new_count() -> int:
    """Staged models still new, exact up to COUNT_CAP (the status index makes it cheap)."""
    return await _capped_count("status = $1", ["new"])


async def sign_rows(
    rows: list[dict[str, Any]],
    signer: Signer,
    key: str = "thumbnail_key",
    into: str = "thumbnail_url",
) -> list[dict[str, Any]]:
    for row in rows:
        row[into] = await signer(row[key]) if row.get(key) else None
    return rows


async def top_creators(signer: Signer, limit: int = 8) -> list[dict[str, Any]]:
    rows = await db.fetch(
        "SELECT id, folder_name, thumbnail_key, post_count, image_count, video_count, status "
        "FROM whitelabel_models ORDER BY post_count DESC, id ASC LIMIT $1",
        limit,
    )
    return await sign_rows(rows, signer)


async def catalogue_stats() -> dict[str, Any]:
    staged = await db.fetch(
        "SELECT status, COUNT(*) AS models, COALESCE(SUM(post_count), 0) AS posts, "
        "COALESCE(SUM(image_count), 0) AS images, COALESCE(SUM(video_count), 0) AS videos "
        "FROM whitelabel_models GROUP BY status"
    )
    prod = await db.fetch(
        "SELECT (SELECT COUNT(*) FROM models) AS models, (SELECT COUNT(*) FROM models WHERE "
        "is_published) AS published_models, (SELECT COUNT(*) FROM posts) AS posts, "
        "(SELECT COUNT(*) FROM posts WHERE is_published) AS published_posts"
    )
    by_status = {r["status"]: int(r["models"]) for r in staged}
    return {
        "staged_models": sum(by_status.values()),
        "staged_new": by_status.get("new", 0),
        "staged_active": by_status.get("active", 0),
        "posts": sum(int(r["posts"]) for r in staged),
        "images": sum(int(r["images"]) for r in staged),
        "videos": sum(int(r["videos"]) for r in staged),
        **{f"production_{k}": int(v) for k, v in prod[0].items()},
    }


async def last_full_sync() -> datetime | None:
    """When a whole-bucket sync last succeeded: it saw every model still staged.

    Unchanged models are not stamped one by one (an unchanged re-sync writes no row), so a
    model was last synced at its own stamp (its last change, or a one-model sync) or then."""
    rows = await db.fetch(
        "SELECT max(finished_at) AS at FROM sync_runs WHERE status = 'succeeded' "
        "AND scope = 'all' AND NOT dry_run AND kind = 'sync'"
    )
    return rows[0]["at"] if rows else None


async def staged_model(name: str) -> dict[str, Any] | None:
    rows = await db.fetch(
        "SELECT w.*, GREATEST(w.last_synced_at, $2) AS last_synced_at, m.id AS production_id, "
        "m.is_published AS production_published "
        "FROM whitelabel_models w LEFT JOIN models m ON m.whitelabel_model = w.id "
        "WHERE w.folder_name = $1",
        name,
        await last_full_sync(),
    )
    if not rows:
        return None
    row = rows[0]
    if isinstance(row.get("extra_image_keys"), str):
        row["extra_image_keys"] = json.loads(row["extra_image_keys"])
    return row


def page_bounds(page: int, size: int) -> int:
    if page < 1 or page > 100_000:
        raise BadQuery(f"page={page} is out of range: use a page number from 1.")
    return (page - 1) * size


async def model_posts(
    model_id: int, signer: Signer, page: int = 1, size: int = 12
) -> tuple[list[dict[str, Any]], int]:
    """A staged model's posts with signed image and video URLs; returns (posts, total)."""
    offset = page_bounds(page, size)
    posts = await db.fetch(
        "SELECT id, folder_name, title, image_count, video_count FROM whitelabel_posts "
        "WHERE whitelabel_model = $1 ORDER BY folder_name, id LIMIT $2 OFFSET $3",
        model_id,
        size,
        offset,
    )
    total = int(
        (
            await db.fetch(
                "SELECT COUNT(*) AS n FROM whitelabel_posts WHERE whitelabel_model = $1", model_id
            )
        )[0]["n"]
    )
    if not posts:
        return [], total
    ids = [p["id"] for p in posts]
    media = await db.fetch(
        "SELECT whitelabel_post, s3_key, type, size FROM whitelabel_media WHERE whitelabel_post "
        f"IN ({', '.join(f'${i + 1}' for i in range(len(ids)))}) ORDER BY s3_key",
        *ids,
    )
    by_post: dict[int, dict[str, list[dict[str, Any]]]] = {
        p["id"]: {"images": [], "videos": []} for p in posts
    }
    for m in media:
        bucket = "videos" if m["type"] == "video" else "images"
        by_post[m["whitelabel_post"]][bucket].append(
            {"key": m["s3_key"], "url": await signer(m["s3_key"]), "size": m["size"]}
        )
    for p in posts:
        p["media"] = by_post[p["id"]]
        first = p["media"]["images"][:1]
        p["thumbnail_url"] = first[0]["url"] if first else None
    return posts, total


async def public_models(page: int, signer: Signer) -> dict[str, Any]:
    offset = page_bounds(page, PUBLIC_PAGE_SIZE)
    rows = await db.fetch(
        "SELECT id, name, slug, post_count, thumbnail_key FROM models WHERE is_published "
        "ORDER BY post_count DESC, id ASC LIMIT $1 OFFSET $2",
        PUBLIC_PAGE_SIZE,
        offset,
    )
    count = int((await db.fetch("SELECT COUNT(*) AS n FROM models WHERE is_published"))[0]["n"])
    data = [
        {
            "id": r["id"],
            "name": r["name"],
            "slug": r["slug"],
            "post_count": r["post_count"],
            "thumbnail": await signer(r["thumbnail_key"]) if r["thumbnail_key"] else None,
        }
        for r in rows
    ]
    return {"data": data, "meta": {"page": page, "limit": PUBLIC_PAGE_SIZE, "count": count}}


async def public_model_posts(name: str, page: int, signer: Signer) -> dict[str, Any] | None:
    """Published posts of a published model, newest first; None for an unknown model."""
    offset = page_bounds(page, PUBLIC_PAGE_SIZE)
    found = await db.fetch("SELECT id FROM models WHERE name = $1 AND is_published", name)
    if not found:
        return None
    model_id = found[0]["id"]
    rows = await db.fetch(
        "SELECT id, model, source_key, title, content_key, type, thumbnail_key, created_at "
        "FROM posts WHERE model = $1 AND is_published ORDER BY created_at DESC, id DESC "
        "LIMIT $2 OFFSET $3",
        model_id,
        PUBLIC_PAGE_SIZE,
        offset,
    )
    count = int(
        (
            await db.fetch(
                "SELECT COUNT(*) AS n FROM posts WHERE model = $1 AND is_published", model_id
            )
        )[0]["n"]
    )
    data = []
    for r in rows:
        data.append(
            {
                "id": r["id"],
                "model_id": r["model"],
                "title": r["title"],
                "type": r["type"],
                "content": await signer(r["content_key"]),
                "thumbnail": await signer(r["thumbnail_key"]) if r["thumbnail_key"] else None,
                "created_at": r["created_at"].isoformat() if r["created_at"] else None,
            }
        )
    return {"data": data, "meta": {"page": page, "limit": PUBLIC_PAGE_SIZE, "count": count}}
