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
import statistics
import sys
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench.catalogue import Catalogue, SyntheticSource
from bench.measure import (
    ServerCpu,
    Timer,
    mark_writes,
    phase_memory,
    process_peak_mb,
    reset_tables,
    settle,
    table_counts,
    writes_since,
)
from bench.moto_e2e import bare_listing, catalogue_for, moto_server, seed
from bench.original import run_original
from bench.report import Figures, describe_run, fmt_rate, fmt_writes, rate, say
from domain import db
from domain.embedded_pg import database_url
from domain.s3 import S3Service
from domain.settings import Settings
from domain.sync import SyncOptions, run_sync

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
    p.add_argument("--e2e-rounds", type=int, default=2, help="moto syncs (listings: one more)")
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


def options(concurrency: int, public_base: str = PUBLIC_BASE) -> SyncOptions:
    return SyncOptions(public_base=public_base, concurrency=concurrency, triggered_by="bench")


@dataclass
class Ctx:
    args: argparse.Namespace
    conn: asyncpg.Connection
    server: ServerCpu
    fig: Figures
    dsn: str

    def timer(self) -> Timer:
        return Timer(self.server)

    def record(self, name: str, t: Timer, keys: int) -> float:
        """Store a timed phase's figures; returns its keys/s."""
        per_s = rate(keys, t.seconds)
        self.fig[f"{name}_seconds"], self.fig[f"{name}_keys_per_s"] = t.seconds, per_s
        self.fig[f"{name}_cpu_seconds"], self.fig[f"{name}_pg_cpu_seconds"] = t.cpu, t.server_cpu
        self.fig[f"{name}_cpu_us_per_key"] = 1e6 * (t.cpu + (t.server_cpu or 0.0)) / max(keys, 1)
        return per_s


async def phase_ours(cat: Catalogue, ctx: Ctx) -> None:
    conc = ctx.args.concurrency
    say(f"\n-- our sync (domain.sync.run_sync), concurrency {conc} --")
    source = SyntheticSource(cat)
    with ctx.timer() as t:
        listed = await bare_listing(source, conc)
    say(
        f"synthetic source alone: {listed:,} keys, {t.describe()} "
        f"({fmt_rate(rate(listed, t.seconds))}); this is inside every figure below"
    )
    ctx.fig["source_only_keys_per_s"] = rate(listed, t.seconds)
    await reset_tables(ctx.conn)
    with phase_memory() as mem, ctx.timer() as t:
        run = await run_sync(source, options(conc))
    first = ctx.record("ours_first", t, run["keys_listed"])
    say(f"first sync: {fmt_rate(first)}; {t.describe()}\n  [{describe_run(run)}]")
    say(f"  tables now: {await table_counts(ctx.conn)}")
    say(f"  RSS {mem.start_mb:,.0f} MB at start, peak {mem.peak_mb:,.0f} MB ({mem.method})")
    await settle(ctx.conn)
    mark = await mark_writes(ctx.conn)
    with phase_memory() as mem2, ctx.timer() as t:
        run2 = await run_sync(source, options(conc))
    writes = await writes_since(ctx.conn, mark)
    resync = ctx.record("ours_resync", t, run2["keys_listed"])
    say(f"unchanged re-sync: {fmt_rate(resync)}; {t.describe()}\n  [{describe_run(run2)}]")
    say(f"  rows written: {fmt_writes(writes)}")
    say(f"  RSS {mem2.start_mb:,.0f} MB at start, peak {mem2.peak_mb:,.0f} MB ({mem2.method})")
    ctx.fig["ours_first_status"], ctx.fig["ours_resync_status"] = run["status"], run2["status"]
    ctx.fig["ours_resync_media_rows_written"] = writes["whitelabel_media"].total
    ctx.fig["ours_resync_rows_written"] = {k: vars(v) for k, v in writes.items()}
    ctx.fig["ours_rss_start_mb"] = min(mem.start_mb, mem2.start_mb)
    ctx.fig["ours_peak_rss_mb"] = max(mem.peak_mb, mem2.peak_mb)
    say(f"process peak RSS so far (ru_maxrss): {process_peak_mb():,.0f} MB")
    if run["status"] != "succeeded" or run2["status"] != "succeeded":
        ctx.fig.notes.append("our sync did not succeed; its figures are not meaningful")


async def phase_original(cat: Catalogue, ctx: Ctx) -> None:
    limit = ctx.args.original_models
    subset = limit is not None and limit < cat.models
    ocat = Catalogue(limit, cat.posts, cat.media) if subset else cat
    say("\n-- the original's algorithm (bench/original.py), one connection, one stream --")
    if subset:
        say(
            f"!! SUBSET: the original runs on {ocat.models:,} of {cat.models:,} models "
            f"({ocat.total_keys:,} keys); its keys/s is EXTRAPOLATED to the full catalogue"
        )
        ctx.fig.notes.append(
            f"original measured on {ocat.total_keys:,} keys and extrapolated "
            "(keys/s assumed constant)"
        )
    await reset_tables(ctx.conn)
    source = SyntheticSource(ocat)
    with ctx.timer() as t:
        stats = await run_original(ctx.dsn, source, PUBLIC_BASE)
    first = ctx.record("original_first", t, stats.keys)
    say(f"first sync: {fmt_rate(first)}; {t.describe()}\n  [{stats}]")
    say(f"  tables now: {await table_counts(ctx.conn)}")
    await settle(ctx.conn)
    mark = await mark_writes(ctx.conn)
    with ctx.timer() as t:
        stats2 = await run_original(ctx.dsn, source, PUBLIC_BASE)
    writes = await writes_since(ctx.conn, mark)
    resync = ctx.record("original_resync", t, stats2.keys)
    say(f"unchanged re-sync: {fmt_rate(resync)}; {t.describe()}\n  [{stats2}]")
    say(f"  rows written: {fmt_writes(writes)}")
    ctx.fig["original_subset_keys"] = ocat.total_keys if subset else None
    ctx.fig["original_resync_media_rows_written"] = writes["whitelabel_media"].total
    say(f"process peak RSS so far (ru_maxrss): {process_peak_mb():,.0f} MB")


async def phase_e2e(ctx: Ctx) -> None:
    """Alternate bare listings and first syncs (tables truncated before each), then compare
    medians: moto shares this process and its GIL, so single runs are noisy."""
    args = ctx.args
    cat = catalogue_for(args.e2e_keys, args.posts, args.media)
    say(
        f"\n-- end to end through moto (in-process ThreadedMotoServer, HTTP, aiobotocore): "
        f"{cat.models:,} models, {cat.total_keys:,} keys, {args.e2e_rounds} round(s) --"
    )
    bare: list[float] = []
    syncs: list[float] = []
    with moto_server() as s3_settings:
        with ctx.timer() as t:
            seeded = seed(cat, s3_settings.bucket)
        say(f"seeded {seeded:,} keys into moto's backend in {t.seconds:.2f} s")
        async with S3Service(s3_settings) as s3:
            await s3.check()
            await s3.list_top()  # warm the client and the server
            for i in range(args.e2e_rounds + 1):
                with ctx.timer() as t:
                    listed = await bare_listing(s3, args.concurrency)
                bare.append(t.seconds)
                say(f"bare listing #{i + 1}: {fmt_rate(rate(listed, t.seconds))}; {t.describe()}")
                if i == args.e2e_rounds:
                    break
                await reset_tables(ctx.conn)
                with ctx.timer() as t:
                    run = await run_sync(s3, options(args.concurrency, s3_settings.public_base))
                syncs.append(t.seconds)
                say(
                    f"first sync #{i + 1} through S3Service: "
                    f"{fmt_rate(rate(run['keys_listed'], t.seconds))}; {t.describe()}\n"
                    f"  [{describe_run(run)}]"
                )
    ratio = statistics.median(syncs) / statistics.median(bare)
    say(
        f"sync / bare listing: {ratio:.2f}x (median sync {statistics.median(syncs):.2f} s, "
        f"median bare listing {statistics.median(bare):.2f} s)"
    )
    ctx.fig["e2e_keys"], ctx.fig["e2e_status"] = run["keys_listed"], run["status"]
    ctx.fig["e2e_bare_seconds"], ctx.fig["e2e_sync_seconds"] = bare, syncs
    ctx.fig["e2e_ratio"] = ratio
    say(f"process peak RSS so far (ru_maxrss): {process_peak_mb():,.0f} MB")


def compare(fig: Figures) -> None:
    """Ours against the original: wall-clock keys/s, and CPU per key (both processes)."""
    say()
    for run in ("first", "resync"):
        ratio = fig.get(f"ours_{run}_keys_per_s") / fig.get(f"original_{run}_keys_per_s")
        fig[f"{run}_ratio"] = ratio
        ours, orig = (
            fig.get(f"ours_{run}_cpu_us_per_key"),
            fig.get(f"original_{run}_cpu_us_per_key"),
        )
        say(
            f"ours / original, {'first sync' if run == 'first' else 'unchanged re-sync'}: "
            f"{ratio:.2f}x the keys/s; CPU per key (here + PostgreSQL): ours {ours:.1f} us, "
            f"original {orig:.1f} us (original / ours {orig / ours:.2f}x)"
        )


def load() -> str:
    return "load average " + " ".join(f"{x:.2f}" for x in os.getloadavg())


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if not settings.database_url:
        say("DATABASE_URL is not set: run `make bench` (tests/run.py --only-db sets it).")
        return 2
    cat = Catalogue(args.models, args.posts, args.media)
    fig = Figures()
    engine = db.make_engine(database_url(settings))
    db.install_engine(engine)
    await db.start(engine)
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
            f"{load()}, phases {','.join(args.phases)}"
        )
        ctx = Ctx(args, conn, await ServerCpu.find(conn), fig, settings.database_url)
        fig["catalogue"] = {
            "models": cat.models,
            "posts": cat.posts,
            "media": cat.media,
            "keys": cat.total_keys,
        }
        if "ours" in args.phases:
            await phase_ours(cat, ctx)
        if "original" in args.phases:
            await phase_original(cat, ctx)
        if "ours" in args.phases and "original" in args.phases:
            compare(fig)
        if "e2e" in args.phases:
            await phase_e2e(ctx)
        await reset_tables(conn)
    finally:
        await conn.close()
        await db.stop(engine)
    fig["process_peak_rss_mb"] = process_peak_mb()
    fig.notes.append(f"{load()} at the end (other work on this machine slows the figures)")
    fig.summary()
    if args.json:
        fig.write_json(args.json)
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
