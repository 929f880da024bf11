"""Schema truth, in the database: indexes raw DDL named its own way take the names Piccolo gives
tables.py's `index=True` columns, and models.source_folder's unique index becomes the unique
constraint `unique=True` declares (its index kept, so nothing is rebuilt). Names only: no data
moves. Each step is guarded, so a database missing one ends the same. The next migration
records tables.py in Piccolo's migration state (docs/migrations.md)."""

from domain.platform.migrations import ddl_forwards

ID = "2026-12-06T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "schema truth: Piccolo's names for indexes and the source folder's unique constraint"


def rename_index(old: str, new: str) -> str:
    """Rename when only the old name is there: a rerun, or a database that has both, is left."""
    return (
        f"DO $$ BEGIN IF to_regclass('{old}') IS NOT NULL AND to_regclass('{new}') IS NULL "
        f"THEN ALTER INDEX {old} RENAME TO {new}; END IF; END $$"
    )


STATEMENTS = [
    rename_index("sync_runs_started", "sync_runs_started_at"),
    rename_index("whitelabel_model_images_model", "whitelabel_model_images_whitelabel_model"),
    # Made here if a database somehow lacks them, so every database ends as tables.py says.
    "CREATE INDEX IF NOT EXISTS sync_runs_started_at ON sync_runs USING btree (started_at)",
    "CREATE INDEX IF NOT EXISTS whitelabel_model_images_whitelabel_model "
    "ON whitelabel_model_images USING btree (whitelabel_model)",
    """DO $$ BEGIN
        IF EXISTS (SELECT 1 FROM pg_constraint WHERE conname = 'models_source_folder_key') THEN
            NULL;
        ELSIF to_regclass('models_source_folder') IS NOT NULL THEN
            ALTER TABLE models
                ADD CONSTRAINT models_source_folder_key UNIQUE USING INDEX models_source_folder;
        ELSE
            ALTER TABLE models ADD CONSTRAINT models_source_folder_key UNIQUE (source_folder);
        END IF;
    END $$""",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
