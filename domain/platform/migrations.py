"""Raw-SQL migrations, for what Piccolo's auto migrations cannot express: each file names its
ID, description and idempotent statements, and takes its `forwards` from `ddl_forwards`. What
they create is listed in schema_extras.py too (docs/migrations.md)."""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder


def ddl_forwards(
    migration_id: str, description: str, statements: Sequence[str]
) -> Callable[[], Awaitable[MigrationManager]]:
    """Piccolo's `forwards` for a migration that runs `statements` in order."""

    async def forwards() -> MigrationManager:
        manager = MigrationManager(
            migration_id=migration_id, app_name="creatorflix", description=description
        )

        async def apply() -> None:
            engine = engine_finder()
            assert engine is not None
            for sql in statements:
                await engine.run_ddl(sql)

        manager.add_raw(apply)
        return manager

    return forwards
