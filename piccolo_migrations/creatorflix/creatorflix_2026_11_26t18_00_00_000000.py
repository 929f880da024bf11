"""Content lifecycle: production rows know their source folder and whether it is missing, posts
list all their media, old slugs keep resolving, audit lines can name a production model."""

from domain.platform.migrations import ddl_forwards

ID = "2026-11-26T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "lifecycle: source folder and source missing, post media, slug history"

STATEMENTS = [
    "ALTER TABLE models ADD COLUMN IF NOT EXISTS source_folder TEXT NULL",
    "UPDATE models SET source_folder = name WHERE source_folder IS NULL",
    "CREATE UNIQUE INDEX IF NOT EXISTS models_source_folder ON models (source_folder)",
    "ALTER TABLE models ADD COLUMN IF NOT EXISTS source_missing_at TIMESTAMPTZ NULL",
    "ALTER TABLE models ADD COLUMN IF NOT EXISTS display_order INTEGER NOT NULL DEFAULT 0",
    "ALTER TABLE posts ADD COLUMN IF NOT EXISTS source_missing_at TIMESTAMPTZ NULL",
    "ALTER TABLE posts ADD COLUMN IF NOT EXISTS media JSON NOT NULL DEFAULT '[]'",
    "UPDATE posts SET media = json_build_array(json_build_object('key', content_key, "
    "'type', type)) WHERE media::text = '[]'",
    """CREATE TABLE IF NOT EXISTS model_slugs (
        id SERIAL PRIMARY KEY,
        slug VARCHAR(255) NOT NULL UNIQUE,
        model INTEGER NOT NULL REFERENCES models (id) ON DELETE CASCADE,
        created_at TIMESTAMPTZ NOT NULL DEFAULT now()
    )""",
    "ALTER TABLE audit_log ADD COLUMN IF NOT EXISTS model INTEGER NULL",
    "CREATE INDEX IF NOT EXISTS audit_log_model ON audit_log (model)",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
