"""Database engine set-up, Piccolo queries on our own connections, and a small raw-SQL layer
for the bulk write path and locks (PostgreSQL only)."""

from __future__ import annotations

import asyncio
import contextlib
import io
import re
import sys
from collections.abc import (
    AsyncIterator,
    Awaitable,
    Callable,
    Iterable,
    Iterator,
    Mapping,
    Sequence,
)
from contextlib import asynccontextmanager, contextmanager
from contextvars import ContextVar
from datetime import UTC, datetime
from types import ModuleType
from typing import Any, Self, TypeAlias, TypeVar, cast

import asyncpg
import asyncpg.pool
from piccolo.engine import PostgresEngine
from piccolo.query.base import Query
from piccolo.table import Table

from domain.platform import dedicated


def now() -> datetime:
    """The time every stamp the application writes is taken from (UTC)."""
    return datetime.now(UTC)


class DatabaseUnavailable(RuntimeError):
    """The database cannot be reached; the message says which and how to fix it."""


class Engine(PostgresEngine):
    """Piccolo's engine without its version check: made, Piccolo's engine opens a connection
    of its own, in a thread and event loop of its own, to read the server's version and warn
    below PostgreSQL 10. `start` checks the server instead, on the pool it opens anyway. (Each
    engine made cost a backend start, about 13 ms of the server's CPU; every process and every
    test's app makes one.)"""

    async def check_version(self) -> None:
        return None


def make_engine(database_url: str) -> PostgresEngine:
    # JIT off on every connection: the pages' queries are short, and at a million models
    # PostgreSQL's JIT spent 535 ms compiling one deep public page (bench/web_scale.py).
    # No extensions: Piccolo would open one more connection to create uuid-ossp, which no
    # column uses.
    return Engine(config={"dsn": database_url, "server_settings": {"jit": "off"}}, extensions=())


def install_engine(engine: PostgresEngine) -> None:
    """Point every table (ours, Piccolo's user and migration tables) and piccolo_conf at it."""
    from piccolo.apps.migrations.tables import Migration
    from piccolo.apps.user.tables import BaseUser

    from domain.platform.tables import TABLES

    tables: tuple[type[Table], ...] = (*TABLES, BaseUser, Migration)
    for table in tables:
        table._meta.db = engine
    conf: ModuleType | None = sys.modules.get("piccolo_conf")
    if conf is None:
        import piccolo_conf as conf
    setattr(conf, "DB", engine)  # noqa: B010 - a module mypy sees only as ModuleType


def current_engine() -> PostgresEngine:
    from domain.platform.tables import WhitelabelModel

    engine = WhitelabelModel._meta.db
    assert isinstance(engine, PostgresEngine)
    return engine


async def start(engine: PostgresEngine, *, pool_size: int = 16) -> None:
    """Open the pool and check the database answers; fail loudly, naming it, if not."""
    where = redact(engine.config["dsn"])
    try:
        await engine.start_connection_pool(min_size=2, max_size=pool_size, reset=_cheap_reset)
        await engine.run_ddl("SELECT 1")
    except Exception as exc:  # noqa: BLE001 - any driver error means the same thing here
        with contextlib.suppress(Exception):
            await engine.close_connection_pool()
        raise DatabaseUnavailable(
            f"database {where} is unreachable ({exc}); check DATABASE_URL and that PostgreSQL "
            "is running and accepts connections, or unset DATABASE_URL for the embedded one."
        ) from exc


async def _cheap_reset(connection: asyncpg.Connection) -> None:
    """On release to the pool: roll back a stray transaction, skip asyncpg's full RESET ALL.

    Nothing here sets session state or LISTENs, and the sync's advisory lock lives on its own
    connection, outside the pool.
    """
    if connection.is_in_transaction():
        await connection.execute("ROLLBACK")


async def stop(engine: PostgresEngine) -> None:
    await dedicated.close(engine)
    if engine.pool is not None:
        await engine.close_connection_pool()


async def migrate() -> None:
    """Apply pending Piccolo migrations for every app (procrastinate's schema is one of them)."""
    from piccolo.apps.migrations.commands.forwards import run_forwards

    with contextlib.redirect_stdout(io.StringIO()) as out:
        result = await run_forwards(app_name="all")
    if not result.success:
        raise RuntimeError(f"migrations failed: {result.message}\n{out.getvalue()}")


def redact(url: str) -> str:
    return re.sub(r"//([^:/@]+):[^@]*@", r"//\1:***@", url)


class Row(dict[str, Any]):
    """A result row; attribute access too, so templates read `row.name` without a miss."""

    def __getattr__(self, name: str) -> object:
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


class FromRow:
    """For the dataclasses features hand across module boundaries: built from a record in one
    place. Columns the class lacks are ignored; fields the record lacks keep their defaults."""

    @classmethod
    def from_row(cls, row: Mapping[str, object]) -> Self:
        names: Mapping[str, object] = getattr(cls, "__dataclass_fields__")  # noqa: B009 - a dataclass
        return cls(**{name: row[name] for name in names if name in row})


RowT = TypeVar("RowT", bound=Mapping[str, object])
TableT = TypeVar("TableT", bound=Table)
# A whole table row read with `SELECT *`, on its way into its dataclass (`FromRow.from_row`).
Record = Mapping[str, object]


def typed(_: type[RowT], found: Sequence[Mapping[str, object]]) -> list[RowT]:
    """Rows of a hand-written statement as the TypedDict naming their columns and types: the
    one place a raw row gets its type (they stay `Row`s: attribute access for templates)."""
    return cast(list[RowT], found)


def rows(results: Iterable[dict[str, Any]]) -> list[dict[str, Any]]:
    """Piccolo's result dicts as `Row`s (same keys, attribute access for templates)."""
    return [Row(r) for r in results]


async def select(query: Query[TableT, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """A Piccolo select (or count-free read) on the pool, as `Row`s."""
    return rows(await query.run())


async def first(query: Query[TableT, list[dict[str, Any]]]) -> dict[str, Any] | None:
    """The first row of a Piccolo query on the pool, as a `Row`, or None."""
    found = await select(query)
    return found[0] if found else None


# A pooled connection (a proxy) or one of its own (the sync lock's, a pool-less engine's).
Connection: TypeAlias = "asyncpg.Connection | asyncpg.pool.PoolConnectionProxy"


class Tx:
    """One connection (inside a transaction for writes), returning `Row`s."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection

    async def run(self, query: Query[TableT, list[dict[str, Any]]]) -> list[dict[str, Any]]:
        """A Piccolo query (select, insert, update, delete) on this connection, so it commits or
        rolls back with the transaction. Piccolo's own `engine.transaction()` is not used (see
        `transaction`), so the query is checked, compiled and its rows processed here as
        Piccolo's own run does (the check refuses an update or delete of every row without
        `force=True`)."""
        query._validate()  # type: ignore[no-untyped-call]  # Piccolo leaves it untyped
        (querystring,) = query.querystrings
        sql, args = querystring.compile_string(engine_type="postgres")
        return rows(await query._process_results(await self.connection.fetch(sql, *args)))

    async def fetch(self, sql: str, *args: object) -> list[dict[str, Any]]:
        return rows(await self.connection.fetch(sql, *args))

    async def fetchval(self, sql: str, *args: object) -> object:
        rows = await self.fetch(sql, *args)
        return next(iter(rows[0].values())) if rows else None

    async def execute(self, sql: str, *args: object) -> None:
        await self.connection.execute(sql, *args)

    async def executemany(self, sql: str, rows: Iterable[Sequence[object]]) -> None:
        rows = list(rows)
        if rows:
            await self.connection.executemany(sql, rows)

    async def copy(
        self, table: str, columns: Sequence[str], rows: Sequence[Sequence[object]]
    ) -> None:
        """Bulk insert with COPY."""
        if rows:
            await self.connection.copy_records_to_table(table, records=rows, columns=columns)


TxCheck = Callable[[Tx], Awaitable[None]]
# (the task that set it, the check): tasks it spawns copy the context but are not the request.
_check: ContextVar[tuple[asyncio.Task[object] | None, TxCheck] | None] = ContextVar(
    "transaction_check", default=None
)


@contextmanager
def checked_transactions(check: TxCheck) -> Iterator[None]:
    """Every transaction the current task opens inside this block runs `check` first, on its
    own connection: a request's action re-checks who acts inside the transaction that acts."""
    token = _check.set((asyncio.current_task(), check))
    try:
        yield
    finally:
        _check.reset(token)


async def _run_check(tx: Tx) -> None:
    held = _check.get()
    if held is not None and held[0] is asyncio.current_task():
        await held[1](tx)


@asynccontextmanager
async def transaction(
    engine: PostgresEngine | None = None, *, checked: bool = True
) -> AsyncIterator[Tx]:
    """One transaction on a pooled connection of its own; `checked`: it runs the check of
    `checked_transactions` first, if one is set (the audit record of a done action is not).

    Not Piccolo's `engine.transaction()`: that one lives in a context variable, and when its
    connection is killed, the failed rollback leaves the variable set, so every later
    transaction in the same task nests into the dead one.
    """
    engine = engine or current_engine()
    if engine.pool is None:
        conn = await engine.get_new_connection()
        try:
            async with conn.transaction():
                tx = Tx(conn)
                if checked:
                    await _run_check(tx)
                yield tx
        finally:
            await conn.close()
        return
    async with engine.pool.acquire() as conn, conn.transaction():
        tx = Tx(conn)
        if checked:
            await _run_check(tx)
        yield tx


async def fetch(sql: str, *args: object) -> list[dict[str, Any]]:
    """A read outside any write transaction."""
    async with read_connection() as tx:
        return await tx.fetch(sql, *args)


async def fetchval(sql: str, *args: object) -> Any:
    """The first column of the first row of a read (a count, an id), or None."""
    async with read_connection() as tx:
        return await tx.fetchval(sql, *args)


@asynccontextmanager
async def read_connection(engine: PostgresEngine | None = None) -> AsyncIterator[Tx]:
    engine = engine or current_engine()
    if engine.pool is not None:
        async with engine.pool.acquire() as conn:
            yield Tx(conn)
        return
    conn = await engine.get_new_connection()
    try:
        yield Tx(conn)
    finally:
        await conn.close()
