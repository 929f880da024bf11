"""Model images (icons, banners, model and profile images) get derivatives like post media: a
row per image, with its ETag and the derivative columns of `whitelabel_media`, so the same
worker job and the same trash trigger serve both."""

from domain.platform.migrations import ddl_forwards

ID = "2026-11-26T21:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "model images: one row per model-level image, with its derivatives"

STATEMENTS = [
    """CREATE TABLE IF NOT EXISTS whitelabel_model_images (
        id SERIAL PRIMARY KEY,
        whitelabel_model INTEGER NOT NULL REFERENCES whitelabel_models (id) ON DELETE CASCADE,
        s3_key TEXT NOT NULL UNIQUE,
        role VARCHAR(8) NOT NULL DEFAULT 'image',
        type VARCHAR(8) NOT NULL DEFAULT 'image',
        size BIGINT NOT NULL DEFAULT 0,
        etag VARCHAR(128) NOT NULL DEFAULT '',
        created_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        derived_etag VARCHAR(128) NULL DEFAULT NULL,
        thumb_key TEXT NULL DEFAULT NULL,
        preview_key TEXT NULL DEFAULT NULL,
        poster_key TEXT NULL DEFAULT NULL,
        width INTEGER NULL DEFAULT NULL,
        height INTEGER NULL DEFAULT NULL,
        duration DOUBLE PRECISION NULL DEFAULT NULL,
        media_error TEXT NULL DEFAULT NULL,
        media_error_etag VARCHAR(128) NULL DEFAULT NULL,
        derived_at TIMESTAMPTZ NULL DEFAULT NULL,
        derive_claimed_at TIMESTAMPTZ NULL DEFAULT NULL
    )""",
    "CREATE INDEX IF NOT EXISTS whitelabel_model_images_model "
    "ON whitelabel_model_images (whitelabel_model)",
    "CREATE INDEX IF NOT EXISTS whitelabel_model_images_underived "
    "ON whitelabel_model_images (id) "
    "WHERE derived_etag IS DISTINCT FROM etag AND media_error_etag IS DISTINCT FROM etag",
    # However an image row goes (a sync, a model's cascade), its derivatives follow.
    "DROP TRIGGER IF EXISTS whitelabel_model_images_derived_gone ON whitelabel_model_images",
    "CREATE TRIGGER whitelabel_model_images_derived_gone AFTER DELETE "
    "ON whitelabel_model_images REFERENCING OLD TABLE AS gone FOR EACH STATEMENT "
    "EXECUTE FUNCTION whitelabel_media_derived_gone()",
    # Models synced before this kept no row per image: their next sync looks at them again.
    "UPDATE whitelabel_models SET listing_hash = NULL WHERE (icon_key IS NOT NULL "
    "OR banner_key IS NOT NULL OR extra_image_keys::text NOT IN ('[]', 'null')) "
    "AND NOT EXISTS (SELECT 1 FROM whitelabel_model_images i WHERE i.whitelabel_model = "
    "whitelabel_models.id)",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
