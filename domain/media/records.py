"""The database side of derivatives: which media wait, claiming them, recording the outcome."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass

from domain.media import sql
from domain.media.sql import SOURCES
from domain.platform import db


@dataclass(frozen=True, slots=True)
class Pending:
    table: str  # one of SOURCES (domain/media/sql.py)
    id: int
    s3_key: str
    etag: str
    type: str
    size: int
    old_keys: tuple[str, ...]  # derivatives of an earlier version, deleted once replaced


async def model_images_listed(
    tx: db.Tx, model_id: int, images: dict[str, tuple[str, str, int]], *, new: bool = False
) -> None:
    """The model's image rows become `images`: a replaced object (another ETag) waits for new
    derivatives; a removed one's row goes, and a trigger sends its derivatives to the trash.
    Applied with the model's fields, which already stopped naming the removed images. A `new`
    model (inserted in this transaction) has no rows to remove."""
    if not new:
        await sql.model_images_removed(tx, model_id, list(images))
    if images:
        await sql.model_images_listed(tx, model_id, images)


async def counts() -> tuple[int, int]:
    """(media waiting for derivatives, derivative objects waiting to be deleted)."""
    return await sql.counts()


async def claim(limit: int) -> list[Pending]:
    """Take up to `limit` waiting rows for this job, post media first; other jobs skip them."""
    taken: list[Pending] = []
    for table in SOURCES:
        if len(taken) < limit:
            taken += await _claim_from(table, limit - len(taken))
    return taken


async def _claim_from(table: str, limit: int) -> list[Pending]:
    rows = await sql.claim_from(table, limit)
    return [
        Pending(
            table,
            r["id"],
            r["s3_key"],
            r["etag"],
            r["type"],
            int(r["size"]),
            tuple(k for k in (r["thumb_key"], r["preview_key"], r["poster_key"]) if k),
        )
        for r in sorted(rows, key=lambda r: r["id"])
    ]


async def record_done(
    item: Pending, keys: dict[str, str | None], width: int, height: int, duration: float | None
) -> bool:
    """Store the derivatives of this ETag; False when the row is gone or changed meanwhile."""
    return await sql.record_done(item.table, item.id, item.etag, keys, width, height, duration)


async def record_error(item: Pending, message: str) -> bool:
    """Why this ETag cannot be previewed; the row keeps no derivative of an older version."""
    return await sql.record_error(item.table, item.id, item.etag, message[:1000])


@asynccontextmanager
async def trash(limit: int = 1000) -> AsyncIterator[list[str]]:
    """Up to `limit` derivative keys to delete from the bucket, taken in a transaction that
    commits only if the caller's block (the deletion) succeeds. Keys of a source that is back
    with the same ETag are dropped from the trash: its new row makes them again."""
    async with db.transaction() as tx:
        yield sorted(set(await sql.take_trash(tx, limit)))


async def derivatives_of(keys: list[str]) -> dict[str, sql.MediaDerivatives]:
    """s3_key -> its current derivatives (or error) for the media among `keys`; a replaced
    object's older derivatives are not current."""
    if not keys:
        return {}
    rows = await sql.derivatives_of(keys)
    return {r["s3_key"]: r for r in rows}
