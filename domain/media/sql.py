"""Hand-written SQL for media derivatives and model images (see the package docstring)."""

from __future__ import annotations

from typing import TypedDict

from domain.platform import db

# A row waits when its derivatives were made from another ETag (or never) and it did not fail
# on this one; the partial index whitelabel_media_underived covers exactly these rows.
PENDING = "derived_etag IS DISTINCT FROM etag AND media_error_etag IS DISTINCT FROM etag"
# The tables whose rows get derivatives (same derivative columns): post media, then the
# models' own images. Each has a partial index on exactly its PENDING rows.
SOURCES = ("whitelabel_media", "whitelabel_model_images")
_COLUMNS = (
    "s3_key, type, etag, derived_etag, width, height, duration, thumb_key, preview_key, "
    "poster_key, media_error, media_error_etag"
)
_ALL_SOURCES = " UNION ALL ".join(f"SELECT {_COLUMNS} FROM {table}" for table in SOURCES)
# A row's derivative columns as pages read them: only what was made from (or failed on) the
# object's current ETag; a replaced object's older derivatives read as none.
CURRENT = ", ".join(
    [
        f"CASE WHEN derived_etag = etag THEN {c} END AS {c}"
        for c in ("width", "height", "duration", "thumb_key", "preview_key", "poster_key")
    ]
    + ["CASE WHEN media_error_etag = etag THEN media_error END AS media_error"]
)
CLAIM_EXPIRES = "10 minutes"  # a claim older than this belongs to a worker that went away


class Current(TypedDict):
    """CURRENT's columns: the derivatives (or error) of the source's current ETag, else None."""

    width: int | None
    height: int | None
    duration: float | None
    thumb_key: str | None
    preview_key: str | None
    poster_key: str | None
    media_error: str | None


class MediaDerivatives(Current):
    s3_key: str
    type: str  # "image" or "video"


class ModelImageDerivatives(Current):
    s3_key: str
    role: str  # "icon", "banner", "image"


class Claimed(TypedDict):
    id: int
    s3_key: str
    etag: str
    type: str
    size: int
    thumb_key: str | None  # derivatives of an earlier version, deleted once replaced
    preview_key: str | None
    poster_key: str | None


async def model_images_removed(tx: db.Tx, model_id: int, kept: list[str]) -> None:
    """Delete the model's image rows whose keys are not `kept`."""
    # raw: the sync's bulk write path (one statement for all of a model's images)
    await tx.execute(
        "DELETE FROM whitelabel_model_images WHERE whitelabel_model = $1 "
        "AND s3_key <> ALL($2::text[])",
        model_id,
        kept,
    )


async def model_images_listed(
    tx: db.Tx, model_id: int, images: dict[str, tuple[str, str, int]]
) -> None:
    """Insert or update the model's image rows (key -> role, ETag, size)."""
    keys = list(images)
    # raw: the sync's bulk write path (one statement for all of a model's images)
    await tx.execute(
        "INSERT INTO whitelabel_model_images (whitelabel_model, s3_key, role, etag, size) "
        "SELECT $1, k, r, e, s FROM unnest($2::text[], $3::text[], $4::text[], $5::bigint[]) "
        "AS t(k, r, e, s) ON CONFLICT (s3_key) DO UPDATE SET whitelabel_model = EXCLUDED."
        "whitelabel_model, role = EXCLUDED.role, etag = EXCLUDED.etag, size = EXCLUDED.size, "
        # a new version is claimable at once, even if a job skipped the old one (changed)
        "derive_claimed_at = CASE WHEN whitelabel_model_images.etag IS DISTINCT FROM "
        "EXCLUDED.etag THEN NULL ELSE whitelabel_model_images.derive_claimed_at END",
        model_id,
        keys,
        [v[0] for v in images.values()],
        [v[1] for v in images.values()],
        [v[2] for v in images.values()],
    )


async def counts() -> tuple[int, int]:
    """(media waiting for derivatives, derivative objects waiting to be deleted)."""
    pending = " + ".join(f"(SELECT COUNT(*) FROM {table} WHERE {PENDING})" for table in SOURCES)
    # raw: COUNT over each source table's partial index, named by its PENDING predicate
    (row,) = await db.fetch(
        f"SELECT {pending} AS pending, (SELECT COUNT(*) FROM media_derived_trash) AS trash"
    )
    return int(row["pending"]), int(row["trash"])


async def claim_from(table: str, limit: int) -> list[Claimed]:
    # raw: the claim is FOR UPDATE SKIP LOCKED
    found = await db.fetch(
        f"UPDATE {table} SET derive_claimed_at = now() WHERE id IN ("
        f"SELECT id FROM {table} WHERE {PENDING} AND (derive_claimed_at IS NULL OR "
        f"derive_claimed_at < now() - interval '{CLAIM_EXPIRES}') "
        "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) "
        "RETURNING id, s3_key, etag, type, size, thumb_key, preview_key, poster_key",
        limit,
    )
    return db.typed(Claimed, found)


async def record_done(
    table: str,
    row_id: int,
    etag: str,
    keys: dict[str, str | None],
    width: int,
    height: int,
    duration: float | None,
) -> bool:
    """False when the row is gone or its ETag changed meanwhile."""
    # raw: one statement for either source table (SOURCES), chosen by name at run time
    done = await db.fetch(
        f"UPDATE {table} SET derived_etag = etag, thumb_key = $3, preview_key = $4, "
        "poster_key = $5, width = $6, height = $7, duration = $8, media_error = NULL, "
        "media_error_etag = NULL, derived_at = now(), derive_claimed_at = NULL "
        "WHERE id = $1 AND etag = $2 RETURNING id",
        row_id,
        etag,
        keys.get("thumb"),
        keys.get("preview"),
        keys.get("poster"),
        width,
        height,
        duration,
    )
    return bool(done)


async def record_error(table: str, row_id: int, etag: str, message: str) -> bool:
    """False when the row is gone or its ETag changed meanwhile."""
    # raw: one statement for either source table (SOURCES), chosen by name at run time
    done = await db.fetch(
        f"UPDATE {table} SET media_error = $3, media_error_etag = etag, "
        "derived_etag = NULL, thumb_key = NULL, preview_key = NULL, poster_key = NULL, "
        "width = NULL, height = NULL, duration = NULL, derived_at = now(), "
        "derive_claimed_at = NULL WHERE id = $1 AND etag = $2 RETURNING id",
        row_id,
        etag,
        message,
    )
    return bool(done)


async def take_trash(tx: db.Tx, limit: int) -> list[str]:
    """Drop trash a returned source makes again, then take up to `limit` keys (SKIP LOCKED: two
    jobs emptying the trash never wait on each other)."""
    # raw: FOR UPDATE SKIP LOCKED, and a join over both source tables
    await tx.execute(
        "DELETE FROM media_derived_trash WHERE id IN (SELECT t.id FROM media_derived_trash t "
        f"JOIN ({_ALL_SOURCES}) m ON m.s3_key = t.source_key AND m.etag = t.etag "
        "FOR UPDATE OF t SKIP LOCKED)"
    )
    taken = await tx.fetch(
        "DELETE FROM media_derived_trash WHERE id IN (SELECT id FROM media_derived_trash "
        "ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) RETURNING s3_key",
        limit,
    )
    return [str(r["s3_key"]) for r in taken]


async def derivatives_of(keys: list[str]) -> list[MediaDerivatives]:
    # raw: CASE columns over the union of both source tables
    found = await db.fetch(
        f"SELECT s3_key, type, {CURRENT} FROM ({_ALL_SOURCES}) m WHERE s3_key = ANY($1::text[])",
        keys,
    )
    return db.typed(MediaDerivatives, found)


async def model_images(model_name: str) -> list[ModelImageDerivatives]:
    # raw: CASE columns (a derivative counts only for the current ETag)
    found = await db.fetch(
        f"SELECT s3_key, role, {CURRENT} FROM whitelabel_model_images WHERE whitelabel_model = "
        "(SELECT id FROM whitelabel_models WHERE folder_name = $1) ORDER BY s3_key",
        model_name,
    )
    return db.typed(ModelImageDerivatives, found)
