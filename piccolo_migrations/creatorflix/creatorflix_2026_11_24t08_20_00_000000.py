"""Indexes the ORM cannot express: composite keys, keyset sorts, trigram search."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-24T08:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "composite, keyset and search indexes"

STATEMENTS = [
    "CREATE UNIQUE INDEX IF NOT EXISTS whitelabel_posts_model_folder "
    "ON whitelabel_posts (whitelabel_model, folder_name)",
    "CREATE INDEX IF NOT EXISTS whitelabel_models_posts_keyset "
    "ON whitelabel_models (post_count, id)",
    "CREATE INDEX IF NOT EXISTS whitelabel_models_synced_keyset "
    "ON whitelabel_models (last_synced_at, id)",
    "CREATE INDEX IF NOT EXISTS sync_runs_started ON sync_runs (started_at)",
    "CREATE INDEX IF NOT EXISTS posts_model_created ON posts (model, created_at)",
    "CREATE INDEX IF NOT EXISTS models_published_posts ON models (is_published, post_count)",
    "INSERT INTO sync_locks (name, run_id, heartbeat_at) VALUES ('sync', NULL, NULL)",
]
TRIGRAM = [
    "CREATE EXTENSION IF NOT EXISTS pg_trgm",
    "CREATE INDEX IF NOT EXISTS whitelabel_models_name_trgm "
    "ON whitelabel_models USING gin (lower(folder_name) gin_trgm_ops)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="creatorflix", description=DESCRIPTION)

    async def create_indexes() -> None:
        engine = engine_finder()
        assert engine is not None
        for sql in STATEMENTS:
            await engine.run_ddl(sql)
        outer = engine.current_transaction.get()  # type: ignore[attr-defined]
        try:  # search works without pg_trgm (a sequential ILIKE); the index is a bonus
            if outer is None:
                for sql in TRIGRAM:
                    await engine.run_ddl(sql)
            else:
                async with outer.connection.transaction():  # a savepoint
                    for sql in TRIGRAM:
                        await outer.connection.execute(sql)
        except Exception as exc:  # noqa: BLE001 - e.g. a server built without contrib
            print(f"pg_trgm is not available ({exc}); search runs without its index")

    manager.add_raw(create_indexes)
    return manager
