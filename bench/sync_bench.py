"""Sync benchmark: our incremental sync vs the original's algorithm, and end to end via moto.

    make bench                      # 5,000 models x 20 posts x 10 media (about 1M keys)
    make bench ARGS="--models 500"  # a quicker run

Needs DATABASE_URL (tests/run.py --only-db sets one on a throwaway PostgreSQL); the tables
are truncated between phases. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import os
import platform
import sys
from pathlib import Path
from typing import Any

import asyncpg

from bench.catalogue import Catalogue, SyntheticSource
from bench.measure import Timer, mark_writes, phase_memory, process_peak_mb, writes_since
from bench.moto_e2e import bare_listing, catalogue_for, moto_server, seed
from bench.original import run_original
from bench.report import Figures, fmt_rate, fmt_writes, rate, say
from domain import db
from domain.s3 import S3Service
from domain.settings import Settings
from domain.sync import ListingSource, SyncOptions, run_sync

PUBLIC_BASE = "https://cdn.example.test/creatorflix"
PHASES = ("ours", "original", "e2e")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.sync_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--models", type=int, default=5_000)
    p.add_argument("--posts", type=int, default=20, help="posts per model")
    p.add_argument("--media", type=int, default=10, help="media per post (the last one a video)")
    p.add_argument("--concurrency", type=int, default=8)
    p.add_argument("--e2e-keys", type=int, default=20_000, help="keys for the moto run")
    p.add_argument(
        "--original-models",
        type=int,
        default=None,
        help="run the original on this many models only and extrapolate (printed)",
    )
    p.add_argument(
        "--phases", default=",".join(PHASES), help=f"comma-separated subset of {','.join(PHASES)}"
    )
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)
    args.phases = [x for x in args.phases.split(",") if x]
    unknown = set(args.phases) - set(PHASES)
    if unknown:
        p.error(f"unknown phase(s) {sorted(unknown)}; choose from {PHASES}")
    return args


async def reset_tables(conn: asyncpg.Connection) -> None:
    await conn.execute(
        "TRUNCATE whitelabel_media, whitelabel_posts, whitelabel_models, sync_runs "
        "RESTART IDENTITY CASCADE"
    )


async def settle(conn: asyncpg.Connection) -> None:
    """VACUUM ANALYZE after a bulk load, as autovacuum would soon do (outside the timings)."""
    for table in ("whitelabel_models", "whitelabel_posts", "whitelabel_media"):
        await conn.execute(f"VACUUM ANALYZE {table}")


async def table_counts(conn: asyncpg.Connection) -> str:
    row = await conn.fetchrow(
        "SELECT (SELECT count(*) FROM whitelabel_models) AS models, "
        "(SELECT count(*) FROM whitelabel_posts) AS posts, "
        "(SELECT count(*) FROM whitelabel_media) AS media"
    )
    return f"{row['models']:,} models, {row['posts']:,} posts, {row['media']:,} media rows"


def options(concurrency: int, public_base: str = PUBLIC_BASE) -> SyncOptions:
    return SyncOptions(public_base=public_base, concurrency=concurrency, triggered_by="bench")


def describe_run(run: dict[str, Any]) -> str:
    return (
        f"status {run['status']}, listed {run['keys_listed']:,}, ignored "
        f"{run['keys_ignored']:,}; models +{run['models_inserted']:,} "
        f"~{run['models_updated']:,}; posts +{run['posts_inserted']:,} "
        f"~{run['posts_updated']:,}; media +{run['media_inserted']:,} "
        f"~{run['media_updated']:,} -{run['media_deleted']:,}"
        + (f"; error: {run['error']}" if run.get("error") else "")
    )


async def timed_sync(source: ListingSource, opts: SyncOptions) -> tuple[dict[str, Any], float]:
    with Timer() as t:
        run = await run_sync(source, opts)
    return run, t.seconds


async def phase_ours(
    cat: Catalogue, args: argparse.Namespace, conn: asyncpg.Connection, fig: Figures
) -> None:
    say(f"\n-- our sync (domain.sync.run_sync), concurrency {args.concurrency} --")
    source = SyntheticSource(cat)
    with Timer() as t:
        listed = await bare_listing(source, args.concurrency)
    say(
        f"synthetic source alone: {listed:,} keys in {t.seconds:.2f} s "
        f"({fmt_rate(rate(listed, t.seconds))}); this is inside every figure below"
    )
    fig["source_only_keys_per_s"] = rate(listed, t.seconds)
    await reset_tables(conn)
    with phase_memory() as mem:
        run, seconds = await timed_sync(source, options(args.concurrency))
    first = rate(run["keys_listed"], seconds)
    say(f"first sync: {seconds:.2f} s, {fmt_rate(first)}  [{describe_run(run)}]")
    say(f"  tables now: {await table_counts(conn)}")
    say(f"  RSS {mem.start_mb:,.0f} MB at start, peak {mem.peak_mb:,.0f} MB ({mem.method})")
    await settle(conn)
    mark = await mark_writes(conn)
    with phase_memory() as mem2:
        run2, seconds2 = await timed_sync(source, options(args.concurrency))
    writes = await writes_since(conn, mark)
    resync = rate(run2["keys_listed"], seconds2)
    say(f"unchanged re-sync: {seconds2:.2f} s, {fmt_rate(resync)}  [{describe_run(run2)}]")
    say(f"  rows written: {fmt_writes(writes)}")
    say(f"  RSS {mem2.start_mb:,.0f} MB at start, peak {mem2.peak_mb:,.0f} MB ({mem2.method})")
    fig["ours_first_seconds"], fig["ours_first_keys_per_s"] = seconds, first
    fig["ours_first_status"], fig["ours_resync_status"] = run["status"], run2["status"]
    fig["ours_resync_seconds"], fig["ours_resync_keys_per_s"] = seconds2, resync
    fig["ours_resync_media_rows_written"] = writes["whitelabel_media"].total
    fig["ours_resync_rows_written"] = {k: vars(v) for k, v in writes.items()}
    fig["ours_rss_start_mb"] = min(mem.start_mb, mem2.start_mb)
    fig["ours_peak_rss_mb"] = max(mem.peak_mb, mem2.peak_mb)
    if run["status"] != "succeeded" or run2["status"] != "succeeded":
        fig.notes.append("our sync did not succeed; its figures are not meaningful")


async def phase_original(
    cat: Catalogue, args: argparse.Namespace, conn: asyncpg.Connection, fig: Figures, dsn: str
) -> None:
    subset = args.original_models is not None and args.original_models < cat.models
    ocat = Catalogue(args.original_models, cat.posts, cat.media) if subset else cat
    say("\n-- the original's algorithm (bench/original.py), one connection, one stream --")
    if subset:
        say(
            f"!! SUBSET: the original runs on {ocat.models:,} of {cat.models:,} models "
            f"({ocat.total_keys:,} keys); its keys/s is EXTRAPOLATED to the full catalogue"
        )
        fig.notes.append(
            f"original measured on {ocat.total_keys:,} keys and extrapolated "
            "(keys/s assumed constant)"
        )
    await reset_tables(conn)
    source = SyntheticSource(ocat)
    with Timer() as t:
        stats = await run_original(dsn, source, PUBLIC_BASE)
    first = rate(stats.keys, t.seconds)
    say(f"first sync: {t.seconds:.2f} s, {fmt_rate(first)}  [{stats}]")
    say(f"  tables now: {await table_counts(conn)}")
    await settle(conn)
    mark = await mark_writes(conn)
    with Timer() as t2:
        stats2 = await run_original(dsn, source, PUBLIC_BASE)
    writes = await writes_since(conn, mark)
    resync = rate(stats2.keys, t2.seconds)
    say(f"unchanged re-sync: {t2.seconds:.2f} s, {fmt_rate(resync)}  [{stats2}]")
    say(f"  rows written: {fmt_writes(writes)}")
    fig["original_subset_keys"] = ocat.total_keys if subset else None
    fig["original_first_seconds"], fig["original_first_keys_per_s"] = t.seconds, first
    fig["original_resync_seconds"], fig["original_resync_keys_per_s"] = t2.seconds, resync
    fig["original_resync_media_rows_written"] = writes["whitelabel_media"].total


async def phase_e2e(args: argparse.Namespace, conn: asyncpg.Connection, fig: Figures) -> None:
    cat = catalogue_for(args.e2e_keys, args.posts, args.media)
    say(
        f"\n-- end to end through moto (in-process ThreadedMotoServer, HTTP, aiobotocore): "
        f"{cat.models:,} models, {cat.total_keys:,} keys --"
    )
    with moto_server() as s3_settings:
        with Timer() as t:
            seeded = seed(cat, s3_settings.bucket)
        say(f"seeded {seeded:,} keys into moto's backend in {t.seconds:.2f} s")
        async with S3Service(s3_settings) as s3:
            await s3.check()
            await s3.list_top()  # warm the client and the server
            bare: list[float] = []
            with Timer() as t:
                listed = await bare_listing(s3, args.concurrency)
            bare.append(t.seconds)
            say(
                f"bare listing #1: {listed:,} keys in {t.seconds:.2f} s "
                f"({fmt_rate(rate(listed, t.seconds))})"
            )
            await reset_tables(conn)
            run, seconds = await timed_sync(s3, options(args.concurrency, s3_settings.public_base))
            say(
                f"first sync through S3Service: {seconds:.2f} s, "
                f"{fmt_rate(rate(run['keys_listed'], seconds))}  [{describe_run(run)}]"
            )
            with Timer() as t:
                await bare_listing(s3, args.concurrency)
            bare.append(t.seconds)
            say(f"bare listing #2: {t.seconds:.2f} s")
    mean = sum(bare) / len(bare)
    say(
        f"sync / bare listing: {seconds / mean:.2f}x against the mean of the two listings "
        f"({seconds / min(bare):.2f}x against the faster)"
    )
    fig["e2e_keys"], fig["e2e_status"] = run["keys_listed"], run["status"]
    fig["e2e_bare_seconds"], fig["e2e_sync_seconds"] = bare, seconds
    fig["e2e_ratio"], fig["e2e_ratio_vs_fastest"] = seconds / mean, seconds / min(bare)


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if not settings.database_url:
        say("DATABASE_URL is not set: run `make bench` (tests/run.py --only-db sets it).")
        return 2
    cat = Catalogue(args.models, args.posts, args.media)
    fig = Figures()
    engine = db.make_engine(settings)
    db.install_engine(engine)
    await db.start(engine, settings)
    await db.migrate()
    conn = await asyncpg.connect(settings.database_url)
    try:
        version = await conn.fetchval("SHOW server_version")
        say(
            f"sync benchmark: {cat.models:,} models x {cat.posts} posts x {cat.media} media "
            f"= {cat.total_media:,} media keys, {cat.total_keys:,} keys in all "
            f"({cat.keys_per_model} a model, with 1 model image and 2 profile images)"
        )
        say(
            f"python {platform.python_version()}, PostgreSQL {version}, {os.cpu_count()} CPUs, "
            f"phases {','.join(args.phases)}"
        )
        fig["catalogue"] = {
            "models": cat.models,
            "posts": cat.posts,
            "media": cat.media,
            "keys": cat.total_keys,
        }
        if "ours" in args.phases:
            await phase_ours(cat, args, conn, fig)
        if "original" in args.phases:
            await phase_original(cat, args, conn, fig, settings.database_url)
        if "ours" in args.phases and "original" in args.phases:
            fig["first_ratio"] = fig.get("ours_first_keys_per_s") / fig.get(
                "original_first_keys_per_s"
            )
            fig["resync_ratio"] = fig.get("ours_resync_keys_per_s") / fig.get(
                "original_resync_keys_per_s"
            )
            say(
                f"\nours / original: first sync {fig.get('first_ratio'):.2f}x, unchanged "
                f"re-sync {fig.get('resync_ratio'):.2f}x"
            )
        if "e2e" in args.phases:
            await phase_e2e(args, conn, fig)
        await reset_tables(conn)
    finally:
        await conn.close()
        await db.stop(engine)
    fig["process_peak_rss_mb"] = process_peak_mb()
    fig.summary()
    if args.json:
        fig.write_json(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
