"""The parts of the schema Piccolo's tables cannot declare, in one list: with tables.py, the whole
schema. Each is created by a raw-SQL migration (named in its comment); tests/test_schema_truth.py
builds a database from tables.py plus this list and checks the migrations make the same one."""

from __future__ import annotations

from collections.abc import Sequence

# The public rule (domain/production/visibility.py's public_sql("m")) as the tally's triggers
# hold it; tests/test_public_tally.py checks the two agree.
PUBLIC = "m.is_published AND m.source_missing_at IS NULL AND m.retired_at IS NULL"

# Statements, in order, each idempotent. The migration that creates each one comes first.
RAW_EXTRAS: Sequence[str] = (
    # -- 2026-11-24T08:20: multi-column indexes (keyset pages, the catalogue's sorts) ---------
    # A staged post is one folder of one model (sync's upserts rely on it).
    "CREATE UNIQUE INDEX IF NOT EXISTS whitelabel_posts_model_folder "
    "ON whitelabel_posts (whitelabel_model, folder_name)",
    "CREATE INDEX IF NOT EXISTS whitelabel_models_posts_keyset "
    "ON whitelabel_models (post_count, id)",
    "CREATE INDEX IF NOT EXISTS whitelabel_models_synced_keyset "
    "ON whitelabel_models (last_synced_at, id)",
    "CREATE INDEX IF NOT EXISTS posts_model_created ON posts (model, created_at)",
    "CREATE INDEX IF NOT EXISTS models_published_posts ON models (is_published, post_count)",
    # Staged search: an expression (trigram) index; skipped where pg_trgm is missing.
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS whitelabel_models_name_trgm "
    "ON whitelabel_models USING gin (lower(folder_name) gin_trgm_ops)",
    # -- 2026-11-26T18:30: a run's change list in its page order; a held run's confirmations --
    "CREATE INDEX IF NOT EXISTS sync_run_changes_list ON sync_run_changes (run, kind, change, id)",
    "CREATE INDEX IF NOT EXISTS sync_runs_confirms ON sync_runs (confirms) "
    "WHERE confirms IS NOT NULL",
    # -- 2026-11-26T19:00 and 21:00: rows still to derive (partial), derivatives' trash --------
    "CREATE INDEX IF NOT EXISTS whitelabel_media_underived ON whitelabel_media (id) "
    "WHERE derived_etag IS DISTINCT FROM etag AND media_error_etag IS DISTINCT FROM etag",
    "CREATE INDEX IF NOT EXISTS whitelabel_model_images_underived "
    "ON whitelabel_model_images (id) "
    "WHERE derived_etag IS DISTINCT FROM etag AND media_error_etag IS DISTINCT FROM etag",
    # However a media or image row goes (a sync, a model's cascade), its derivatives follow.
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
    "DROP TRIGGER IF EXISTS whitelabel_model_images_derived_gone ON whitelabel_model_images",
    "CREATE TRIGGER whitelabel_model_images_derived_gone AFTER DELETE "
    "ON whitelabel_model_images REFERENCING OLD TABLE AS gone FOR EACH STATEMENT "
    "EXECUTE FUNCTION whitelabel_media_derived_gone()",
    # -- 2026-11-27T01:00: the public models page, over visible models (partial) ---------------
    "CREATE INDEX IF NOT EXISTS models_public_page "
    "ON models (display_order, post_count DESC, id) "
    "WHERE is_published AND source_missing_at IS NULL",
    # (redefined 2026-12-06T14:00, below, with the public rule's "not retired")
    # -- 2026-12-06T12:00: one queued or running bulk activation per selection (partial) -------
    "CREATE UNIQUE INDEX IF NOT EXISTS bulk_activations_pending_selection "
    "ON bulk_activations (selection_key) WHERE status IN ('queued', 'running')",
    # -- 2026-12-06T14:00: what the pages need at a million production models (partial) --------
    "CREATE INDEX IF NOT EXISTS models_retired_source ON models (source_folder) "
    "WHERE retired_at IS NOT NULL",
    "CREATE INDEX IF NOT EXISTS models_live_name ON models (lower(name), id) "
    "WHERE retired_at IS NULL",
    "DROP INDEX IF EXISTS models_public_page",
    "CREATE INDEX IF NOT EXISTS models_public_page "
    "ON models (display_order, post_count DESC, id) "
    "WHERE is_published AND source_missing_at IS NULL AND retired_at IS NULL",
    # -- 2026-12-06T15:57:10: the number of public models, kept in public_tallies ------------
    # The public rule (domain/production/visibility.py) as of that migration; a statement's
    # public rows after it minus those before it make one row of public_tallies.
    f"""CREATE OR REPLACE FUNCTION models_public_tally() RETURNS trigger
    LANGUAGE plpgsql AS $$
    DECLARE
        change bigint := 0;
    BEGIN
        IF TG_OP IN ('INSERT', 'UPDATE') THEN
            change := change + (SELECT COUNT(*) FROM fresh m WHERE {PUBLIC});
        END IF;
        IF TG_OP IN ('UPDATE', 'DELETE') THEN
            change := change - (SELECT COUNT(*) FROM gone m WHERE {PUBLIC});
        END IF;
        IF change <> 0 THEN
            INSERT INTO public_tallies (models) VALUES (change);
        END IF;
        RETURN NULL;
    END $$""",
    """CREATE OR REPLACE FUNCTION models_public_tally_reset() RETURNS trigger
    LANGUAGE plpgsql AS $$
    BEGIN
        DELETE FROM public_tallies;
        RETURN NULL;
    END $$""",
    "DROP TRIGGER IF EXISTS models_public_tally_insert ON models",
    "CREATE TRIGGER models_public_tally_insert AFTER INSERT ON models "
    "REFERENCING NEW TABLE AS fresh FOR EACH STATEMENT EXECUTE FUNCTION models_public_tally()",
    "DROP TRIGGER IF EXISTS models_public_tally_update ON models",
    "CREATE TRIGGER models_public_tally_update AFTER UPDATE ON models "
    "REFERENCING OLD TABLE AS gone NEW TABLE AS fresh FOR EACH STATEMENT "
    "EXECUTE FUNCTION models_public_tally()",
    "DROP TRIGGER IF EXISTS models_public_tally_delete ON models",
    "CREATE TRIGGER models_public_tally_delete AFTER DELETE ON models "
    "REFERENCING OLD TABLE AS gone FOR EACH STATEMENT EXECUTE FUNCTION models_public_tally()",
    "DROP TRIGGER IF EXISTS models_public_tally_truncate ON models",
    "CREATE TRIGGER models_public_tally_truncate AFTER TRUNCATE ON models "
    "FOR EACH STATEMENT EXECUTE FUNCTION models_public_tally_reset()",
    # -- 2026-12-07T08:40: the production list's capped count, from an index alone -----------
    "CREATE INDEX IF NOT EXISTS models_live_counted ON models (id) "
    "INCLUDE (is_published, source_missing_at, retired_at) WHERE retired_at IS NULL",
)
