"""Work moves to a job queue: procrastinate's schema, sync parts, schedule, run ledger."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T12:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "job queue: procrastinate schema, sync parts and schedule, run ledger"

STATEMENTS = [
    "DROP TABLE IF EXISTS sync_locks",
    "ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS kind VARCHAR(16) NOT NULL DEFAULT 'sync'",
    "ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS confirms INTEGER NULL",
    "ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS superseded_by INTEGER NULL",
    "ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS job_id BIGINT NULL",
    "ALTER TABLE sync_runs ADD COLUMN IF NOT EXISTS events JSON NOT NULL DEFAULT '[]'",
    """CREATE TABLE IF NOT EXISTS sync_parts (
        id SERIAL PRIMARY KEY,
        run INTEGER NOT NULL REFERENCES sync_runs (id) ON DELETE CASCADE,
        part_no INTEGER NOT NULL,
        folders JSON NOT NULL DEFAULT '[]',
        status VARCHAR(16) NOT NULL DEFAULT 'pending',
        owner VARCHAR(128) NOT NULL DEFAULT '',
        heartbeat_at TIMESTAMPTZ NULL,
        stats JSON NOT NULL DEFAULT '{}',
        result JSON NULL,
        UNIQUE (run, part_no)
    )""",
    """CREATE TABLE IF NOT EXISTS sync_schedule (
        id SERIAL PRIMARY KEY,
        expression VARCHAR(128) NOT NULL DEFAULT '',
        updated_by VARCHAR(150) NOT NULL DEFAULT '',
        updated_at TIMESTAMPTZ NOT NULL DEFAULT now(),
        last_tick_at TIMESTAMPTZ NULL
    )""",
    "INSERT INTO sync_schedule (expression) SELECT '' WHERE NOT EXISTS "
    "(SELECT 1 FROM sync_schedule)",
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="creatorflix", description=DESCRIPTION)

    async def apply() -> None:
        from procrastinate.schema import SchemaManager

        engine = engine_finder()
        assert engine is not None
        for sql in STATEMENTS:
            await engine.run_ddl(sql)
        rows = await engine.run_ddl("SELECT to_regclass('procrastinate_jobs') IS NOT NULL AS ok")
        if not rows[0]["ok"]:
            outer = engine.current_transaction.get()  # type: ignore[attr-defined]
            if outer is not None:  # many statements at once: asyncpg's execute
                await outer.connection.execute(SchemaManager.get_schema())
            else:
                async with engine.transaction() as tx:
                    await tx.connection.execute(SchemaManager.get_schema())

    manager.add_raw(apply)
    return manager
