"""Schema truth, in the database: indexes raw DDL named its own way take the names Piccolo gives
tables.py's `index=True` columns, and models.source_folder's unique index becomes the unique
constraint `unique=True` declares (its index kept, so nothing is rebuilt). Names only: no data
moves. The next migration records tables.py in Piccolo's migration state (docs/migrations.md)."""

from domain.platform.migrations import ddl_forwards

ID = "2026-12-06T13:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "schema truth: Piccolo's names for indexes and the source folder's unique constraint"

STATEMENTS = [
    "ALTER INDEX IF EXISTS sync_runs_started RENAME TO sync_runs_started_at",
    "ALTER INDEX IF EXISTS whitelabel_model_images_model "
    "RENAME TO whitelabel_model_images_whitelabel_model",
    """DO $$ BEGIN
        IF to_regclass('models_source_folder') IS NOT NULL AND NOT EXISTS (
            SELECT 1 FROM pg_constraint WHERE conname = 'models_source_folder_key'
        ) THEN
            ALTER TABLE models
                ADD CONSTRAINT models_source_folder_key UNIQUE USING INDEX models_source_folder;
        END IF;
    END $$""",
]


forwards = ddl_forwards(ID, DESCRIPTION, STATEMENTS)
