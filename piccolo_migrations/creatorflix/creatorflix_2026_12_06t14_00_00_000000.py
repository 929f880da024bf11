"""Indexes the pages need at a million production models (bench/web_scale.py, `make bench-web
ARGS=--scale`): each statement below was a plan that read every model."""

from domain.platform.migrations import ddl_forwards

ID = "2026-12-06T14:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "models: partial indexes the pages need at a million production models"

STATEMENTS = [
    # The staged list asks, per row, whether its production model is retired: one probe of a
    # (usually empty) index instead of reading every production model (210 ms at 1M).
    "CREATE INDEX IF NOT EXISTS models_retired_source ON models (source_folder) "
    "WHERE retired_at IS NOT NULL",
    # The production list's default sort (name, then id) over the models not retired: a page
    # without sorting every model (3.8 s at 1M).
    "CREATE INDEX IF NOT EXISTS models_live_name ON models (lower(name), id) "
    "WHERE retired_at IS NULL",
    # The public page and its count: the public rule now includes "not retired".
    "DROP INDEX IF EXISTS models_public_page",
    "CREATE INDEX IF NOT EXISTS models_public_page "
    "ON models (display_order, post_count DESC, id) "
    "WHERE is_published AND source_missing_at IS NULL AND retired_at IS NULL",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
