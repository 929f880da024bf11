"""Schema truth: the migrations make exactly the schema tables.py and schema_extras.py declare,
and Piccolo's auto-migration has nothing left to write (docs/migrations.md)."""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator, Awaitable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

import asyncpg
import pytest
from piccolo.apps.migrations.commands.forwards import run_forwards
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.conf.apps import Finder
from piccolo.table import sort_table_classes

from domain.platform import db
from domain.platform.schema_extras import RAW_EXTRAS
from domain.platform.tables import TABLES

pytestmark = pytest.mark.timeout(300)
T = TypeVar("T")
WAIT_S = 120.0
# The head before the schema-truth migrations: a database made then is an "existing" one.
EXISTING_HEAD = "2026-12-06T12:00:00:000000"
# Tables other apps own (the job queue, Piccolo's users and migration records).
OTHER_APPS = re.compile(r"^(procrastinate_\w+|piccolo_user|migration)$")


async def bounded(awaitable: Awaitable[T], what: str) -> T:
    """Every wait ends: after WAIT_S the test fails, naming what it waited for."""
    try:
        return await asyncio.wait_for(awaitable, WAIT_S)
    except TimeoutError:
        raise AssertionError(f"{what} took more than {WAIT_S:.0f} s") from None


@asynccontextmanager
async def scratch_database(label: str) -> AsyncIterator[str]:
    """A database of this test's own on the run's server, dropped afterwards."""
    base = os.environ["TEST_DATABASE_URL"].rpartition("/")[0]
    name = f"creatorflix_schema_{label}_{os.getpid()}"
    admin = await bounded(asyncpg.connect(f"{base}/postgres"), "connecting to the server")
    drop = f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'
    try:
        await bounded(admin.execute(drop), f"dropping {name}")
        await bounded(admin.execute(f'CREATE DATABASE "{name}"'), f"creating {name}")
        yield f"{base}/{name}"
    finally:
        await bounded(admin.execute(drop), f"dropping {name}")
        await admin.close()


async def migrate(url: str, upto: str = "all") -> None:
    """Piccolo's migrations on `url` (up to `upto` for ours), then the tests' engine back."""
    previous = db.current_engine()
    db.install_engine(db.make_engine(url))
    try:
        for app, last in (("user", "all"), ("creatorflix", upto)):
            result = await bounded(
                run_forwards(app_name=app, migration_id=last), f"migrating {app}"
            )
            assert result.success, f"migrating {app} to {last} failed: {result.message}"
    finally:
        db.install_engine(previous)


async def declare(url: str) -> None:
    """The schema as declared: Piccolo's CREATE TABLE for tables.py, then the raw extras."""
    conn = await bounded(asyncpg.connect(url), "connecting to the declared database")
    try:
        for table in sort_table_classes(list(TABLES)):
            for sql in table.create_table().ddl:
                await bounded(conn.execute(sql), f"creating {table._meta.tablename}")
        for sql in RAW_EXTRAS:
            await bounded(conn.execute(sql), f"running {sql[:60]}")
    finally:
        await conn.close()


CATALOGUE = {
    "column": """SELECT c.relname, a.attname || ' ' || format_type(a.atttypid, a.atttypmod)
            || CASE WHEN a.attnotnull THEN ' NOT NULL' ELSE ' NULL' END
            || COALESCE(' DEFAULT ' || pg_get_expr(d.adbin, d.adrelid), '')
        FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid
        LEFT JOIN pg_attrdef d ON d.adrelid = a.attrelid AND d.adnum = a.attnum
        WHERE c.relnamespace = 'public'::regnamespace AND c.relkind = 'r'
        AND a.attnum > 0 AND NOT a.attisdropped""",
    "constraint": """SELECT conrelid::regclass::text, conname || ' ' || pg_get_constraintdef(oid)
        FROM pg_constraint WHERE connamespace = 'public'::regnamespace AND conrelid <> 0""",
    "index": "SELECT tablename, indexdef FROM pg_indexes WHERE schemaname = 'public'",
    "trigger": """SELECT tgrelid::regclass::text, pg_get_triggerdef(oid)
        FROM pg_trigger WHERE NOT tgisinternal""",
    "function": """SELECT '', pg_get_functiondef(p.oid) FROM pg_proc p
        WHERE p.pronamespace = 'public'::regnamespace AND p.proname NOT LIKE 'procrastinate%'
        AND NOT EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = p.oid AND d.deptype = 'e')""",
    "extension": "SELECT '', extname FROM pg_extension",
}


def normalise(line: str) -> str:
    """Equal defaults spelt two ways read alike, so only real differences fail."""
    # Piccolo's `current_timestamp` is raw DDL's `now()`; its `DEFAULT null` on a varchar,
    # kept as `NULL::character varying`, is no default.
    line = line.replace("DEFAULT CURRENT_TIMESTAMP", "DEFAULT now()")
    return re.sub(r" DEFAULT NULL::[\w ]+$", "", line)


async def catalogue(url: str) -> set[str]:
    """Our tables' columns, constraints, indexes and triggers, our functions, the extensions."""
    conn = await bounded(asyncpg.connect(url), "connecting to read the catalogue")
    try:
        found: set[str] = set()
        for kind, sql in CATALOGUE.items():
            for table, line in await bounded(conn.fetch(sql), f"reading {kind}s"):
                if not OTHER_APPS.match(table):
                    found.add(normalise(f"{kind} {table}: {line}"))
        return found
    finally:
        await conn.close()


def difference(migrated: set[str], declared: set[str]) -> str:
    """The two schemas' differences, one line each, as the failure message."""
    lines = [f"+ {x}" for x in sorted(migrated - declared)]
    lines += [f"- {x}" for x in sorted(declared - migrated)]
    return (
        "the migrations (+) and tables.py with schema_extras.py (-) disagree; declare what a "
        "migration made, or migrate what is declared (docs/migrations.md):\n" + "\n".join(lines)
    )


# A database made before schema truth holds a row of each table the upgrade records (raw DDL
# made them); after the upgrade, each row is still there.
EXISTING_ROWS = [
    ("whitelabel_models", "INSERT INTO whitelabel_models (folder_name) VALUES ('kept')"),
    (
        "whitelabel_model_images",
        "INSERT INTO whitelabel_model_images (whitelabel_model, s3_key) "
        "SELECT id, 'kept/icon.jpg' FROM whitelabel_models",
    ),
    ("models", "INSERT INTO models (name, slug, source_folder) VALUES ('kept', 'kept', 'kept')"),
    ("model_slugs", "INSERT INTO model_slugs (slug, model) SELECT 'old', id FROM models"),
    ("sync_runs", "INSERT INTO sync_runs DEFAULT VALUES"),
    ("sync_parts", "INSERT INTO sync_parts (run, part_no) SELECT id, 0 FROM sync_runs"),
    (
        "sync_run_changes",
        "INSERT INTO sync_run_changes (run, kind, name) SELECT id, 'model', 'kept' FROM sync_runs",
    ),
    ("bulk_activations", "INSERT INTO bulk_activations (model_ids) VALUES ('{1}')"),
    (
        "media_derived_trash",
        "INSERT INTO media_derived_trash (source_key, s3_key) VALUES ('a', 'b')",
    ),
]


async def rows_by_table(url: str) -> dict[str, list[dict[str, Any]]]:
    conn = await bounded(asyncpg.connect(url), "connecting to read rows")
    try:
        return {
            table: [dict(r) for r in await conn.fetch(f"SELECT * FROM {table} ORDER BY id")]
            for table, _ in EXISTING_ROWS
        }
    finally:
        await conn.close()


@pytest.fixture(scope="module")
async def upgraded() -> AsyncIterator[dict[str, Any]]:
    """Made once, read by the tests below: migrating is the slow part."""
    # An existing database (migrated to EXISTING_HEAD, given rows) upgraded to the head, and a
    # database built from the declarations.
    async with scratch_database("migrated") as url, scratch_database("declared") as declared:
        await migrate(url, upto=EXISTING_HEAD)
        conn = await bounded(asyncpg.connect(url), "connecting to add rows")
        try:
            for _, sql in EXISTING_ROWS:
                await bounded(conn.execute(sql), f"running {sql[:60]}")
        finally:
            await conn.close()
        before = await rows_by_table(url)
        await migrate(url)
        await declare(declared)
        yield {
            "before": before,
            "after": await rows_by_table(url),
            "migrated": await catalogue(url),
            "declared": await catalogue(declared),
        }


async def test_auto_migration_finds_nothing_to_write() -> None:
    """What `piccolo migrations new creatorflix --auto` runs: it must find tables.py recorded."""
    app = Finder().get_app_config(app_name="creatorflix")
    manager = AutoMigrationManager(auto_input="n")
    found = await bounded(manager.get_alter_statements(app_config=app), "Piccolo's schema diff")
    statements = [s for alter in found for s in alter.statements]
    assert not statements, (
        f"tables.py differs from what the migrations record ({len(statements)} statements); "
        "run `piccolo migrations new creatorflix --auto` (docs/migrations.md):\n"
        + "\n".join(statements)
    )


async def test_migrated_schema_is_tables_py_plus_raw_extras(upgraded: dict[str, Any]) -> None:
    """A raw migration that forgets tables.py or schema_extras.py fails here, naming the line."""
    # Columns (type, null, default), constraints (unique, foreign keys with on delete/update),
    # indexes, triggers, functions, extensions.
    migrated, declared = upgraded["migrated"], upgraded["declared"]
    assert not migrated ^ declared, difference(migrated, declared)


async def test_existing_database_upgrades_in_place_keeping_its_rows(
    upgraded: dict[str, Any],
) -> None:
    """Upgrading in place must lose nothing: each row keeps each value it had."""
    before, after = upgraded["before"], upgraded["after"]
    assert all(before.values()), "each table got its row before the upgrade"
    assert {t: len(r) for t, r in after.items()} == {t: len(r) for t, r in before.items()}
    kept = {
        table: [{k: row[k] for k in old} for row, old in zip(rows, before[table], strict=True)]
        for table, rows in after.items()
    }
    assert kept == before
