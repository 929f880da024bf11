"""Database engine set-up and a small raw-SQL layer for the hot paths (both dialects)."""

from __future__ import annotations

import contextlib
import io
import re
import sys
from collections.abc import AsyncIterator, Iterable, Sequence
from contextlib import asynccontextmanager
from typing import Any

from piccolo.engine import Engine, PostgresEngine, SQLiteEngine
from piccolo.engine.sqlite import TransactionType

from domain.settings import Settings

_PARAM = re.compile(r"\$(\d+)")


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message says which and how to fix it."""


def make_engine(settings: Settings) -> Engine:
    if settings.database_url:
        return PostgresEngine(config={"dsn": settings.database_url})
    settings.sqlite_path.parent.mkdir(parents=True, exist_ok=True)
    return SQLiteEngine(path=str(settings.sqlite_path), timeout=30)


def install_engine(engine: Engine) -> None:
    """Point every table (ours, Piccolo's user and migration tables) and piccolo_conf at it."""
    from piccolo.apps.migrations.tables import Migration
    from piccolo.apps.user.tables import BaseUser

    from domain.tables import TABLES

    tables: tuple[Any, ...] = (*TABLES, BaseUser, Migration)
    for table in tables:
        table._meta.db = engine
    conf: Any = sys.modules.get("piccolo_conf")
    if conf is None:
        import piccolo_conf as conf
    conf.DB = engine


def current_engine() -> Engine:
    from domain.tables import WhitelabelModel

    return WhitelabelModel._meta.db


def is_postgres(engine: Engine | None = None) -> bool:
    return (engine or current_engine()).engine_type == "postgres"


async def start(engine: Engine, settings: Settings) -> None:
    """Open the pool (PostgreSQL) and check the database answers; fail loudly if not."""
    where = settings.database_url and _redact(settings.database_url) or str(settings.sqlite_path)
    try:
        if isinstance(engine, PostgresEngine):
            await engine.start_connection_pool(min_size=2, max_size=16, reset=_cheap_reset)
        else:
            await engine.run_ddl("PRAGMA journal_mode=WAL")
        await engine.run_ddl("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any driver error means the same thing here
        fix = (
            "check DATABASE_URL and that PostgreSQL is running and accepts connections"
            if settings.database_url
            else "check that the directory is writable, or set SQLITE_PATH"
        )
        raise DatabaseUnavailable(f"database {where} is unreachable ({exc}); {fix}.") from exc


async def _cheap_reset(connection: Any) -> None:
    """On release to the pool: roll back a stray transaction, skip asyncpg's full RESET ALL.

    Nothing here sets session state or LISTENs, and the sync's advisory lock lives on its own
    connection, outside the pool.
    """
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def stop(engine: Engine) -> None:
    if isinstance(engine, PostgresEngine) and engine.pool is not None:
        await engine.close_connection_pool()


async def migrate() -> None:
    """Apply pending Piccolo migrations for every app."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")


def _redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


class Row(dict[str, Any]):
    """A result row; attribute access too, so templates read `row.name` without a miss."""

    def __getattr__(self, name: str) -> Any:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class Tx:
    """One open transaction's connection, with the same calls on PostgreSQL and SQLite.

    SQL is written with `$1`-style parameters; SQLite reads them as `?1`.
    """

    def __init__(self, connection: Any, postgres: bool) -> None:
        self.connection = connection
        self.postgres = postgres

    def _sql(self, sql: str) -> str:
        return sql if self.postgres else _PARAM.sub(r"?\1", sql)

    async def fetch(self, sql: str, *args: Any) -> list[dict[str, Any]]:
        if self.postgres:
            return [Row(r) for r in await self.connection.fetch(sql, *args)]
        async with self.connection.execute(self._sql(sql), args) as cursor:
            return [Row(r) for r in await cursor.fetchall()]

    async def fetchval(self, sql: str, *args: Any) -> Any:
        rows = await self.fetch(sql, *args)
        return next(iter(rows[0].values())) if rows else None

    async def execute(self, sql: str, *args: Any) -> None:
        if self.postgres:
            await self.connection.execute(sql, *args)
        else:
            await self.connection.execute(self._sql(sql), args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[Any]]) -> None:
        rows = list(rows)
        if not rows:
            return
        if self.postgres:
            await self.connection.executemany(sql, rows)
        else:
            await self.connection.executemany(self._sql(sql), rows)

    async def copy(self, table: str, columns: Sequence[str], rows: list[tuple[Any, ...]]) -> None:
        """Bulk insert: COPY on PostgreSQL, batched executemany on SQLite."""
        if not rows:
            return
        if self.postgres:
            await self.connection.copy_records_to_table(table, records=rows, columns=columns)
            return
        marks = ", ".join("?" for _ in columns)
        await self.connection.executemany(
            f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({marks})", rows
        )


@asynccontextmanager
async def transaction(engine: Engine | None = None) -> AsyncIterator[Tx]:
    engine = engine or current_engine()
    if isinstance(engine, SQLiteEngine):
        async with engine.transaction(transaction_type=TransactionType.immediate) as t:
            yield Tx(t.connection, postgres=False)
    else:
        async with engine.transaction() as t:
            yield Tx(t.connection, postgres=True)


async def fetch(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A read outside any write transaction."""
    async with read_connection() as tx:
        return await tx.fetch(sql, *args)


@asynccontextmanager
async def read_connection(engine: Engine | None = None) -> AsyncIterator[Tx]:
    engine = engine or current_engine()
    if isinstance(engine, PostgresEngine):
        if engine.pool is not None:
            async with engine.pool.acquire() as conn:
                yield Tx(conn, postgres=True)
        else:
            conn = await engine.get_new_connection()
            try:
                yield Tx(conn, postgres=True)
            finally:
                await conn.close()
        return
    assert isinstance(engine, SQLiteEngine)
    conn = await engine.get_connection()
    try:
        yield Tx(conn, postgres=False)
    finally:
        await conn.close()
