"""What storing a first sync's media rows costs PostgreSQL, part by part.

    make bench-floor                      # 2,000 models x 20 posts x 10 media, 3 rounds
    make bench-floor ARGS="--models 500 --rounds 1"

Fills the staged tables with SQL alone (no sync), then measures bench/write_floor.py's database
floor (every media row put back model by model, one transaction each, as many writers as the
sync's write slots) three ways, alternating over rounds: the schema as it is; without the
foreign key from media to posts; without it and the `whitelabel_media_underived` index. Each
part removed is put back before the next measure. Prints the database's CPU seconds per million
media rows for each, their medians and the differences. Asserts nothing; the schema is whole
again at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics

import asyncpg

from bench import args as cli
from bench import write_floor
from bench.measure import ServerCpu
from bench.report import say
from domain.platform import db
from domain.platform.schema_extras import RAW_EXTRAS

UNDERIVED = next(s for s in RAW_EXTRAS if "whitelabel_media_underived ON" in s)
# (statement, which of --models, --posts, --media it takes)
FILL = (
    (
        "INSERT INTO whitelabel_models (folder_name, status, listing_hash) "
        "SELECT 'model' || lpad(g::text, 6, '0'), 'new', 'x' FROM generate_series(1, $1) g",
        ("models",),
    ),
    (
        "INSERT INTO whitelabel_posts (whitelabel_model, folder_name, title, media_cdns, "
        "image_count, video_count) SELECT m.id, 'post' || p, 'post' || p, '{}', $2 - 1, 1 "
        "FROM whitelabel_models m, generate_series(1, $1) p",
        ("posts", "media"),
    ),
    (
        "INSERT INTO whitelabel_media (whitelabel_post, s3_key, url, type, size, etag, "
        "last_modified) SELECT p.id, k, 'https://cdn.example.com/' || k, 'image', 123456, "
        "md5(k), now() FROM whitelabel_posts p JOIN whitelabel_models m "
        "ON m.id = p.whitelabel_model, generate_series(1, $1) i, "
        "LATERAL (SELECT m.folder_name || '/' || p.folder_name || '/' || i || '.jpg' AS k) key",
        ("media",),
    ),
)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = cli.parser("python -m bench.floor_parts", __doc__)
    p.add_argument("--models", type=int, default=2_000, help="model folders")
    p.add_argument("--posts", type=int, default=20, help="posts per model")
    p.add_argument("--media", type=int, default=10, help="media per post")
    p.add_argument("--rounds", type=int, default=3, help="measures of each variant")
    return p.parse_args(argv)


async def fill(conn: asyncpg.Connection, args: argparse.Namespace) -> None:
    for statement, names in FILL:
        await conn.execute(statement, *(getattr(args, name) for name in names))
    await conn.execute("VACUUM ANALYZE")


async def main(args: argparse.Namespace) -> None:
    url = os.environ["DATABASE_URL"]
    engine = db.make_engine(url)
    db.install_engine(engine)
    await db.start(engine, pool_size=4)
    await db.migrate()
    conn = await asyncpg.connect(url)
    try:
        await fill(conn, args)
        server = await ServerCpu.find(conn)
        (fk, definition), *_ = await conn.fetch(
            "SELECT conname, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = 'whitelabel_media'::regclass AND contype = 'f'"
        )
        drop_fk = f"ALTER TABLE whitelabel_media DROP CONSTRAINT {fk}"
        add_fk = f"ALTER TABLE whitelabel_media ADD CONSTRAINT {fk} {definition}"
        variants = {
            "as is": ([], []),
            "no foreign key": ([drop_fk], [add_fk]),
            "no foreign key, no underived index": (
                [drop_fk, "DROP INDEX whitelabel_media_underived"],
                [add_fk, UNDERIVED],
            ),
        }
        per_million: dict[str, list[float]] = {name: [] for name in variants}
        for n in range(args.rounds):
            for name in list(variants) if n % 2 == 0 else list(variants)[::-1]:
                drop, restore = variants[name]
                for statement in drop:
                    await conn.execute(statement)
                try:
                    timer, rows = await write_floor.put_back_media(url, server)
                finally:
                    for statement in restore:
                        await conn.execute(statement)
                per_million[name].append((timer.server_cpu or 0.0) / rows * 1e6)
                say(f"  round {n + 1} {name:<36} {rows:,} rows, {timer.seconds:.2f} s wall, "
                    f"{per_million[name][-1]:.2f} s of database CPU a million rows")  # fmt: skip
        medians = {name: statistics.median(v) for name, v in per_million.items()}
        say("\nDatabase CPU seconds per million media rows (median):")
        for name, value in medians.items():
            say(f"  {name:<36} {value:6.2f}")
        whole, no_fk, neither = medians.values()
        say(f"  the foreign-key check: {whole - no_fk:.2f}")
        say(f"  the underived index: {no_fk - neither:.2f}")
    finally:
        await conn.close()
        await db.stop(engine)


if __name__ == "__main__":
    asyncio.run(main(parse_args()))
