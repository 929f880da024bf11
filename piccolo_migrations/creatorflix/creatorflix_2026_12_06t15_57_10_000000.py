"""The public models' count, kept by triggers on `models` (public_tallies, the table made by the
migration before this one): the public API's count read every public model (90 ms at a million,
bench/web_scale.py); it now sums a few rows."""

from domain.platform.migrations import ddl_forwards

ID = "2026-12-06T15:57:10:000000"
VERSION = "1.38.0"
DESCRIPTION = "models: triggers that keep the number of public models in public_tallies"

# The public rule (domain/production/visibility.py's public_sql("m")), as of this migration.
PUBLIC = "m.is_published AND m.source_missing_at IS NULL AND m.retired_at IS NULL"

STATEMENTS = [
    # A statement's rows after it, minus its rows before it, that are public: one row of change.
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
    # The models public before the triggers: the first row. Creating a trigger locks out
    # writes to `models` until the migration's transaction ends: no change is missed or
    # counted twice.
    f"INSERT INTO public_tallies (models) SELECT COUNT(*) FROM models m WHERE {PUBLIC}",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
