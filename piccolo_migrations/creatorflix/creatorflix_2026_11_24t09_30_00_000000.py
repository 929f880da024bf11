"""An index in the public catalogue's order: published models, most posts first."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-24T09:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "public catalogue order index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="creatorflix", description=DESCRIPTION)

    async def create_index() -> None:
        engine = engine_finder()
        assert engine is not None
        await engine.run_ddl(
            "CREATE INDEX IF NOT EXISTS models_public_order ON models (post_count DESC, id) "
            "WHERE is_published"
        )

    manager.add_raw(create_index)
    return manager
