"""The database's own cost of storing a first sync's media rows: a floor under any first sync.

After our first sync, its media rows are copied aside, the table is emptied, and the rows are
put back model by model, one transaction each, `writers` at once (as the sync's write slots),
by the server alone: nothing is listed, parsed, classified or sent from here. The indexes, the
foreign key and the write-ahead log cost what they cost the sync, so no first sync can store
these rows faster on this machine and this schema (models and posts are not even counted).
"""

from __future__ import annotations

import asyncio

import asyncpg

from bench.measure import ServerCpu, Timer
from bench.report import Figures, say
from domain.catalogue.model_sync import WRITE_SLOTS

COLUMNS = "whitelabel_post, s3_key, url, type, size, etag, last_modified, created_at"


async def put_back_media(
    dsn: str, server: ServerCpu, writers: int = WRITE_SLOTS
) -> tuple[Timer, int]:
    """(the timer of putting every media row back, how many there were)."""
    conn = await asyncpg.connect(dsn)
    try:
        await conn.execute("DROP TABLE IF EXISTS bench_floor_media")
        await conn.execute(
            f"CREATE UNLOGGED TABLE bench_floor_media AS SELECT p.whitelabel_model AS model, "
            f"{', '.join('m.' + c for c in COLUMNS.split(', '))} FROM whitelabel_media m "
            "JOIN whitelabel_posts p ON p.id = m.whitelabel_post ORDER BY model, m.s3_key"
        )
        await conn.execute("CREATE INDEX ON bench_floor_media (model)")
        await conn.execute("ANALYZE bench_floor_media")
        models = [r[0] for r in await conn.fetch("SELECT DISTINCT model FROM bench_floor_media")]
        rows = int(await conn.fetchval("SELECT count(*) FROM bench_floor_media"))
        await conn.execute("TRUNCATE whitelabel_media")
        await conn.execute("CHECKPOINT")
    finally:
        await conn.close()
    todo = list(reversed(models))
    pool = await asyncpg.create_pool(dsn, min_size=writers, max_size=writers)
    assert pool is not None

    async def writer() -> None:
        async with pool.acquire() as c:
            while todo:
                model = todo.pop()
                async with c.transaction():
                    await c.execute(
                        f"INSERT INTO whitelabel_media ({COLUMNS}) SELECT {COLUMNS} "
                        "FROM bench_floor_media WHERE model = $1",
                        model,
                    )

    try:
        with Timer(server) as timer:
            await asyncio.gather(*(writer() for _ in range(writers)))
    finally:
        await pool.close()
        cleanup = await asyncpg.connect(dsn)
        try:
            await cleanup.execute("DROP TABLE IF EXISTS bench_floor_media")
        finally:
            await cleanup.close()
    return timer, rows


def report(fig: Figures, timer: Timer, rows: int) -> None:
    fig["floor_media_rows"], fig["floor_media_seconds"] = rows, timer.seconds
    fig["floor_media_pg_cpu_seconds"] = timer.server_cpu
    say(
        f"\n-- database floor: the first sync's {rows:,} media rows put back by the server alone "
        "(no listing, no parsing, nothing sent; models and posts left in place) --"
    )
    say(f"  {timer.describe()}")


def compare(fig: Figures, cpus: int) -> None:
    """What the first-sync target asks for, against what storing the media rows alone costs."""
    original, floor = fig.get("original_first_seconds"), fig.get("floor_media_seconds")
    if not original or not floor:
        return
    pg_cpu = fig.get("floor_media_pg_cpu_seconds")
    say(
        f"first sync at 10x the original's: {original / 10:.1f} s at most; the media rows "
        f"alone took {floor:.1f} s"
        + (f" and {pg_cpu:.1f} s of the database's CPU ({cpus} CPUs here)" if pg_cpu else "")
    )
