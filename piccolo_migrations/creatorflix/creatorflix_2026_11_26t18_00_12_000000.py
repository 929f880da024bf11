"""Admins are managed in the UI by superusers: if no active admin is one, the first becomes one."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T18:00:12:000000"
VERSION = "1.38.0"
DESCRIPTION = "first active admin becomes a superuser when there is none"

STATEMENTS = [
    "UPDATE piccolo_user SET superuser = true WHERE id = "
    "(SELECT min(id) FROM piccolo_user WHERE admin AND active) AND NOT EXISTS "
    "(SELECT 1 FROM piccolo_user WHERE admin AND active AND superuser)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="creatorflix", description=DESCRIPTION)

    async def apply() -> None:
        engine = engine_finder()
        assert engine is not None
        for sql in STATEMENTS:
            await engine.run_ddl(sql)

    manager.add_raw(apply)
    return manager
