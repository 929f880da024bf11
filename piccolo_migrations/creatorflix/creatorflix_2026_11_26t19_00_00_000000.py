"""Media derivatives: each media row records its previews (or why none could be made) for the
ETag it was made from; a deleted row's derivative keys go to a trash a worker empties."""

from domain.platform.migrations import ddl_forwards

ID = "2026-11-26T19:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "media derivatives: preview keys, poster, dimensions, errors, trash"

STATEMENTS = [
    "ALTER TABLE whitelabel_media "
    "ADD COLUMN IF NOT EXISTS derived_etag VARCHAR(128) NULL DEFAULT NULL, "
    "ADD COLUMN IF NOT EXISTS thumb_key TEXT NULL DEFAULT NULL, "
    "ADD COLUMN IF NOT EXISTS preview_key TEXT NULL DEFAULT NULL, "
    "ADD COLUMN IF NOT EXISTS poster_key TEXT NULL DEFAULT NULL, "
    "ADD COLUMN IF NOT EXISTS width INTEGER NULL DEFAULT NULL, "
    "ADD COLUMN IF NOT EXISTS height INTEGER NULL DEFAULT NULL, "
    "ADD COLUMN IF NOT EXISTS duration DOUBLE PRECISION NULL DEFAULT NULL, "
    "ADD COLUMN IF NOT EXISTS media_error TEXT NULL DEFAULT NULL, "
    "ADD COLUMN IF NOT EXISTS media_error_etag VARCHAR(128) NULL DEFAULT NULL, "
    "ADD COLUMN IF NOT EXISTS derived_at TIMESTAMPTZ NULL DEFAULT NULL, "
    "ADD COLUMN IF NOT EXISTS derive_claimed_at TIMESTAMPTZ NULL DEFAULT NULL",
    # The rows still to derive: made from another ETag (or never) and not failed on this one.
    "CREATE INDEX IF NOT EXISTS whitelabel_media_underived ON whitelabel_media (id) "
    "WHERE derived_etag IS DISTINCT FROM etag AND media_error_etag IS DISTINCT FROM etag",
    """CREATE TABLE IF NOT EXISTS media_derived_trash (
        id BIGSERIAL PRIMARY KEY,
        source_key TEXT NOT NULL,
        etag VARCHAR(128) NOT NULL DEFAULT '',
        s3_key TEXT NOT NULL,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""",
    # However a media row goes (a sync's deletions, a model's cascade), its derivatives follow.
    """CREATE OR REPLACE FUNCTION whitelabel_media_derived_gone() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        INSERT INTO media_derived_trash (source_key, etag, s3_key)
        SELECT o.s3_key, COALESCE(o.derived_etag, ''), k
        FROM gone o CROSS JOIN LATERAL unnest(ARRAY[o.thumb_key, o.preview_key, o.poster_key]) k
        WHERE k IS NOT NULL;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS whitelabel_media_derived_gone ON whitelabel_media",
    "CREATE TRIGGER whitelabel_media_derived_gone AFTER DELETE ON whitelabel_media "
    "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT "
    "EXECUTE FUNCTION whitelabel_media_derived_gone()",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
