"""The public models page reads in the order the public site shows (display order, then most
posts) among visible models only: one partial index serves its page and its count, instead of a
scan and a sort of every model (the old index predates display order and missing sources)."""

from domain.platform.migrations import ddl_forwards

ID = "2026-11-27T01:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "models: an index in the public page's order, over visible models"

STATEMENTS = [
    "DROP INDEX IF EXISTS models_public_order",
    "CREATE INDEX IF NOT EXISTS models_public_page "
    "ON models (display_order, post_count DESC, id) "
    "WHERE is_published AND source_missing_at IS NULL",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
