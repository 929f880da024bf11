"""Web benchmark data: staged models, posts and media, and production models and posts, by COPY.

The rows come from bench/web_rows.py: with the default five media a post, 100,000 models give
200,000 posts and 1,000,000 media rows; `production` of them are activated (1,000,000 staged
and 1,000,000 production models with one media a post is the scale run's set). All of it is
written in one transaction, in chunks of CHUNK rows a table, parents first.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from bench.web_rows import COLUMNS, KINDS, RowMaker, activated, creator_names
from domain.accounts.admins import upsert_admin
from domain.platform import db
from domain.platform.embedded_pg import database_url
from domain.platform.settings import Settings

CHUNK = 50_000
STAGED_TABLES = ("whitelabel_media", "whitelabel_posts", "whitelabel_models", "posts", "models")
SIZED_TABLES = ("whitelabel_models", "whitelabel_posts", "whitelabel_media", "models", "posts")


@dataclass
class SeedStats:
    models: int = 0
    posts: int = 0
    media: int = 0
    production_models: int = 0
    production_posts: int = 0
    media_per_post: int = 5
    seconds: float = 0.0
    phases: dict[str, float] = field(default_factory=dict)
    database_bytes: int = 0
    table_bytes: dict[str, int] = field(default_factory=dict)  # with indexes and TOAST

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def describe(self) -> str:
        return (
            f"{self.models:,} staged models, {self.posts:,} posts, {self.media:,} media "
            f"({self.media_per_post} a post); {self.production_models:,} production models "
            f"(published, each linked to its staged folder), {self.production_posts:,} "
            f"production posts; in {self.seconds:.1f} s {self.phases}; database "
            f"{self.database_bytes / 2**30:.2f} GiB ("
            + ", ".join(f"{t} {b / 2**20:,.0f} MiB" for t, b in self.table_bytes.items())
            + ")"
        )


async def _copy_all(tx: db.Tx, maker: RowMaker, stats: SeedStats) -> None:
    buffers: dict[str, list[tuple[Any, ...]]] = {kind: [] for kind in KINDS}
    counts = dict.fromkeys(KINDS, 0)

    async def flush(kind: str) -> None:
        table, columns = COLUMNS[kind]
        await tx.copy(table, columns, buffers[kind])
        buffers[kind] = []

    for kind, row in maker.rows():
        buffers[kind].append(row)
        counts[kind] += 1
        if len(buffers[kind]) >= CHUNK:
            # Parents first, so foreign keys always find their rows.
            for parent in KINDS[: KINDS.index(kind) + 1]:
                await flush(parent)
    for kind in KINDS:
        await flush(kind)
    stats.models, stats.posts, stats.media = counts["model"], counts["post"], counts["media"]
    stats.production_models, stats.production_posts = counts["pmodel"], counts["ppost"]


async def prepare_schema(settings: Settings) -> None:
    """Engine on every table, pool open, migrations applied, Piccolo Admin's sessions table."""
    from piccolo_api.session_auth.tables import SessionsBase

    engine = db.make_engine(database_url(settings))
    db.install_engine(engine)
    SessionsBase._meta.db = engine
    await db.start(engine)
    await db.migrate()
    await SessionsBase.create_table(if_not_exists=True)


async def seed(
    models: int, production: int, *, media_per_post: int = 5, reset: bool = False
) -> SeedStats:
    """Fill the staged and production tables; the engine must be installed and started."""
    started = time.perf_counter()
    existing = await db.fetch("SELECT COUNT(*) AS n FROM whitelabel_models")
    if existing[0]["n"]:
        if not reset:
            raise SystemExit(
                f"whitelabel_models already holds {existing[0]['n']} rows: run on an empty "
                "database (tests/run.py --only-db does) or pass --reset to truncate it."
            )
        async with db.transaction() as tx:
            await tx.execute(f"TRUNCATE {', '.join(STAGED_TABLES)} RESTART IDENTITY CASCADE")
    stats = SeedStats(media_per_post=media_per_post)
    mark = time.perf_counter()

    def lap(phase: str) -> None:
        nonlocal mark
        stats.phases[phase] = round(time.perf_counter() - mark, 2)
        mark = time.perf_counter()

    now = datetime.now(UTC).replace(microsecond=0)
    maker = RowMaker(creator_names(models), activated(models, production), now, media_per_post)
    lap("names")

    async with db.transaction() as tx:
        await _copy_all(tx, maker, stats)
        lap("copy")
        for table in STAGED_TABLES:
            await tx.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), "
                f"(SELECT COALESCE(MAX(id), 0) + 1 FROM {table}), false)"
            )
    lap("commit")
    async with db.read_connection() as conn:  # VACUUM cannot run inside a transaction
        await conn.execute(f"VACUUM (ANALYZE) {', '.join(STAGED_TABLES)}")
    lap("vacuum_analyze")
    stats.seconds = time.perf_counter() - started
    await _sizes(stats)
    return stats


async def _sizes(stats: SeedStats) -> None:
    rows = await db.fetch("SELECT pg_database_size(current_database()) AS n")
    stats.database_bytes = int(rows[0]["n"])
    for table in SIZED_TABLES:
        rows = await db.fetch("SELECT pg_total_relation_size($1::regclass) AS n", table)
        stats.table_bytes[table] = int(rows[0]["n"])


async def try_sql(statements: list[str], say: Callable[[str], None]) -> None:
    """Statements to try a fix with (an index, a setting), then ANALYZE: bench-only, like --app."""
    for statement in statements:
        started = time.perf_counter()
        async with db.read_connection() as conn:  # CREATE INDEX CONCURRENTLY needs no transaction
            await conn.execute(statement)
        say(f"  tried ({time.perf_counter() - started:.1f} s): {statement}")
    if statements:
        async with db.read_connection() as conn:
            await conn.execute(f"ANALYZE {', '.join(STAGED_TABLES)}")


async def create_users(password: str) -> tuple[str, str]:
    """Our admin (active + admin) and Piccolo Admin's (active + admin + superuser)."""
    from piccolo.apps.user.tables import BaseUser

    ours, theirs = "bench", "piccolo"
    await upsert_admin(ours, "bench@example.com", password)
    if not await BaseUser.exists().where(BaseUser.username == theirs):
        await BaseUser.create_user(
            username=theirs,
            password=password,
            email="piccolo@example.com",
            active=True,
            admin=True,
            superuser=True,
        )
    return ours, theirs
