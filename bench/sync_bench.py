"""Sync benchmark through the S3 client: our sync against the original's algorithm, side by side.

    make bench                                   # 5,000 models x 20 posts x 10 media: 1,015,000
                                                 # keys, every request held 50 ms
    make bench ARGS="--models 500"               # a quicker run
    make bench ARGS="--original-models 1000"     # the original on a subset, extrapolated
    make bench ARGS="--ten-million"              # scale: ours on the workers at 1M keys and
                                                 # at 10M, side by side (bench/sync_scale.py)
    make bench ARGS="--ten-million --models 200" # the same at 40k and 400k keys

Both syncs list a remote-like bucket (`bench.store`, its own process: a ListObjectsV2 server
that holds every request `--delay` seconds) through a real S3 client over HTTP, and write to a
real PostgreSQL (DATABASE_URL; tests/run.py --only-db sets one; tables are truncated between
phases). Ours goes through `S3Service` (signed ListObjectsV2, lxml parsing, key ranges); the
original's algorithm (bench/original.py) lists as the original did: one stream through the
SDK's paginator (aiobotocore; botocore parses every page). No figure here skips the client.
Prints figures; asserts nothing.

--ten-million measures only the first sync and the unchanged re-sync on --workers processes,
at --models (1M keys by default) and then at 10 x --models (10M keys), each with its own store
and workers; it skips the in-process phase and the original at both sizes. It prints each
size's time, keys/s, listing requests, CPU per million keys (workers', PostgreSQL's), peak RSS
of every worker, the store and the bench, database and staged tables' sizes, the 10M / 1M
ratios and the targets (re-sync <= 3x its listing floor, peak RSS <= 300 MB a process, first
sync time per key within 1.2x of 1M's), PASS or MISS; --json writes them. At 10M the store
takes 30 s to build and ~230 MB; the whole run about 6 minutes on 2 quiet CPUs.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import math
import os
import sys
import tempfile
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg

from bench import args as cli
from bench import write_floor
from bench.loop_lag import LoopLag
from bench.measure import (
    ServerCpu,
    Timer,
    bench_database,
    machine_line,
    mark_writes,
    phase_memory,
    process_peak_mb,
    reset_tables,
    settle,
    table_counts,
    writes_since,
)
from bench.original import run_original
from bench.report import Figures, describe_run, fmt_rate, fmt_writes, rate, say
from bench.store import StoreProcess
from bench.sync_scale import run_scale
from bench.sync_workers import Workers, queued_sync
from domain.catalogue import runs
from domain.catalogue.sync import SyncOptions, run_sync
from domain.platform.runtime import freeze_startup_heap
from domain.platform.s3 import S3Object, S3Service
from domain.platform.settings import S3Settings, Settings

PUBLIC_BASE = "https://cdn.example.test/creatorflix"
BUCKET = "creatorflix-bench"


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = cli.parser("python -m bench.sync_bench", __doc__)
    cli.add_bucket(p, models=5_000, posts=20, media=10)
    p.add_argument("--concurrency", type=int, default=16, help="SYNC_CONCURRENCY for ours")
    p.add_argument(
        "--workers",
        type=int,
        default=2,
        help="also run ours on this many `python -m app worker` processes (0: skip)",
    )
    p.add_argument(
        "--original-models",
        type=int,
        default=None,
        help="run the original on this many models only and extrapolate (printed)",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    p.add_argument(
        "--ten-million",
        action="store_true",
        help="scale run: ours on the workers at --models, then at 10 x --models (see above)",
    )
    return p.parse_args(argv)


class SdkListing:
    """The original's listing: the whole bucket as one stream through the SDK's paginator."""

    def __init__(self, s3: S3Service) -> None:
        self.s3 = s3

    async def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]:
        paginator = self.s3.client.get_paginator("list_objects_v2")
        async for page in paginator.paginate(Bucket=self.s3.settings.bucket, Prefix=prefix):
            yield [
                S3Object(o["Key"], int(o["Size"]), o["ETag"].strip('"'), o["LastModified"])
                for o in page.get("Contents", ())
            ]


@dataclass
class Ctx:
    args: argparse.Namespace
    conn: asyncpg.Connection
    server: ServerCpu
    fig: Figures
    dsn: str
    store: StoreProcess

    async def listings(self) -> int:
        """ListObjectsV2 requests the store has answered so far."""
        stats = await self.store.call("/_bench/stats")
        return int(stats["requests"].get("list", 0))

    def record(self, name: str, t: Timer, keys: int, requests: int) -> float:
        per_s = rate(keys, t.seconds)
        f = self.fig
        f[f"{name}_seconds"], f[f"{name}_keys_per_s"] = t.seconds, per_s
        f[f"{name}_requests"], f[f"{name}_keys"] = requests, keys
        f[f"{name}_cpu_seconds"], f[f"{name}_pg_cpu_seconds"] = t.cpu, t.server_cpu
        per_m = 1e6 / keys if keys else 0.0  # CPU seconds per million keys (issue 24)
        f[f"{name}_cpu_per_million"] = t.cpu * per_m
        f[f"{name}_pg_cpu_per_million"] = (t.server_cpu or 0.0) * per_m
        return per_s


def s3_settings(endpoint: str) -> S3Settings:
    return S3Settings(endpoint, "us-east-1", "bench", "bench-secret", BUCKET, PUBLIC_BASE)


async def timed_sync(ctx: Ctx, s3: S3Service, name: str, label: str) -> runs.Run:
    options = SyncOptions(
        public_base=PUBLIC_BASE, concurrency=ctx.args.concurrency, triggered_by="bench"
    )
    before = await ctx.listings()
    async with LoopLag() as lag:
        with phase_memory() as mem, Timer(ctx.server) as t:
            run = await run_sync(s3, options)
    requests = await ctx.listings() - before
    per_s = ctx.record(name, t, run.keys_listed, requests)
    say(f"{label}: {fmt_rate(per_s)}, {requests:,} requests; {t.describe()}")
    say(f"  [{describe_run(run)}]")
    say(f"  RSS {mem.start_mb:,.0f} MB at start, peak {mem.peak_mb:,.0f} MB ({mem.method})")
    say(f"  {lag.describe()}")
    ctx.fig[f"{name}_loop_step_ms"] = lag.longest_step_ms()
    ctx.fig[f"{name}_loop_wake_ms"] = lag.latest_wake_ms()
    ctx.fig[f"{name}_status"] = run.status
    ctx.fig[f"{name}_peak_rss_mb"] = mem.peak_mb
    if run.status != "succeeded":
        ctx.fig.notes.append(f"{label} ended {run.status}: its figures are not meaningful")
    return run


async def phase_ours(ctx: Ctx, s3: S3Service) -> None:
    say(f"\n-- our sync (S3Service, key ranges), SYNC_CONCURRENCY {ctx.args.concurrency} --")
    await reset_tables(ctx.conn)
    await timed_sync(ctx, s3, "ours_first", "first sync")
    say(f"  tables now: {await table_counts(ctx.conn)}")
    await settle(ctx.conn)
    mark = await mark_writes(ctx.conn)
    await timed_sync(ctx, s3, "ours_resync", "unchanged re-sync")
    writes = await writes_since(ctx.conn, mark)
    say(f"  rows written: {fmt_writes(writes)}")
    ctx.fig["ours_resync_rows_written"] = sum(w.total for w in writes.values())
    ctx.fig["ours_peak_rss_mb"] = max(
        ctx.fig.get("ours_first_peak_rss_mb"), ctx.fig.get("ours_resync_peak_rss_mb")
    )


def worker_env(args: argparse.Namespace, dsn: str, endpoint: str) -> dict[str, str]:
    """The environment of the bench's `python -m app worker` processes."""
    return {
        "DATABASE_URL": dsn,
        "DO_SPACES_ENDPOINT": endpoint,
        "DO_SPACES_KEY": "bench",
        "DO_SPACES_SECRET": "bench-secret",
        "DO_SPACES_BUCKET": BUCKET,
        "DO_SPACES_CDN_URL": PUBLIC_BASE,
        "SYNC_CONCURRENCY": str(args.concurrency),
        # The store serves listings, not files: this measures syncs, not preview making.
        "MEDIA_PREVIEWS": "off",
    }


async def phase_workers(ctx: Ctx, endpoint: str) -> None:
    n = ctx.args.workers
    say(f"\n-- our sync on {n} worker processes (python -m app worker, the job queue) --")
    env = worker_env(ctx.args, ctx.dsn, endpoint)
    await reset_tables(ctx.conn)
    log_dir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
    async with Workers(n, env, log_dir) as workers:
        for name, label in (("workers_first", "first sync"), ("workers_resync", "re-sync")):
            if name == "workers_resync":
                await settle(ctx.conn)
                mark = await mark_writes(ctx.conn)
            workers.reset_peaks()
            before = await ctx.listings()
            with Timer(ctx.server) as t:
                cpu = workers.cpu_seconds()
                run = await queued_sync()
            t.cpu = workers.cpu_seconds() - cpu  # ours: the workers' CPU, not this process's
            requests = await ctx.listings() - before
            per_s = ctx.record(name, t, run.keys_listed, requests)
            peaks = workers.peak_rss_mb()
            ctx.fig[f"{name}_peak_rss_mb"] = max(peaks)
            ctx.fig[f"{name}_status"] = run.status
            say(
                f"{label}: {fmt_rate(per_s)}, {requests:,} requests; {t.seconds:.2f} s wall "
                f"(queued to finished); workers' peak RSS "
                + ", ".join(f"{p:,.0f} MB" for p in peaks)
            )
            say(f"  [{describe_run(run)}]")
        writes = await writes_since(ctx.conn, mark)
    say(f"  rows written by the re-sync: {fmt_writes(writes)}")
    ctx.fig["workers_resync_rows_written"] = sum(w.total for w in writes.values())


async def phase_original(ctx: Ctx, s3: S3Service, total_keys: int) -> None:
    say("\n-- the original's algorithm (bench/original.py): one stream, SDK paginator --")
    limit = ctx.args.original_models
    source: SdkListing | SubsetListing = SdkListing(s3)
    if limit is not None and limit < ctx.args.models:
        say(f"!! SUBSET: the original runs on the first {limit:,} models; EXTRAPOLATED")
        ctx.fig.notes.append(f"original measured on {limit:,} models and extrapolated")
        source = SubsetListing(source, limit)
    await reset_tables(ctx.conn)
    for name, label in (("original_first", "first sync"), ("original_resync", "re-sync")):
        if name == "original_resync":
            await settle(ctx.conn)
        before = await ctx.listings()
        with Timer(ctx.server) as t:
            stats = await run_original(ctx.dsn, source, PUBLIC_BASE)
        requests = await ctx.listings() - before
        if stats.keys < total_keys:  # a subset: scale time and requests to the whole bucket
            scale = total_keys / max(stats.keys, 1)
            t.seconds *= scale
            requests = math.ceil(requests * scale)
        per_s = ctx.record(name, t, total_keys, requests)
        say(f"{label}: {fmt_rate(per_s)}, {requests:,} requests; {t.seconds:.1f} s  [{stats}]")


class SubsetListing:
    """The first `models` model folders of a listing (for a quicker original run)."""

    def __init__(self, inner: SdkListing, models: int | None) -> None:
        self.inner, self.models = inner, models or 0

    async def list_pages(self, prefix: str) -> AsyncIterator[list[S3Object]]:
        seen: set[str] = set()
        async for page in self.inner.list_pages(prefix):
            kept = []
            for obj in page:
                seen.add(obj.key.partition("/")[0])
                if len(seen) > self.models:
                    if kept:
                        yield kept
                    return
                kept.append(obj)
            yield kept


def compare(ctx: Ctx, keys: int) -> None:
    fig, args = ctx.fig, ctx.args
    floor = math.ceil(keys / 1000) * args.delay / args.concurrency
    fig["listing_floor_seconds"] = floor
    say()
    say(
        f"listing floor: ceil({keys:,} / 1,000) x {args.delay * 1000:.0f} ms / "
        f"{args.concurrency} = {floor:.2f} s"
    )
    say(f"{'':<20}{'first sync':>14}{'re-sync':>12}{'requests':>18}{'keys/s (re-sync)':>20}")
    for who in ("original", "ours", "workers"):
        first, again = fig.get(f"{who}_first_seconds"), fig.get(f"{who}_resync_seconds")
        if first is None:
            continue
        reqs = f"{fig.get(f'{who}_first_requests'):,} / {fig.get(f'{who}_resync_requests'):,}"
        say(
            f"{who:<20}{first:>12.1f} s{again:>10.1f} s{reqs:>18}"
            f"{fmt_rate(fig.get(f'{who}_resync_keys_per_s')):>20}"
        )
    say(f"{'CPU s per million keys':<24}{'ours':>8}{'PG':>8}{'total':>8}")
    for phase in (f"{w}_{r}" for w in ("original", "ours", "workers") for r in ("first", "resync")):
        if (ours_m := fig.get(f"{phase}_cpu_per_million")) is not None:
            pg_m = fig.get(f"{phase}_pg_cpu_per_million")
            say(f"  {phase:<22}{ours_m:>8.1f}{pg_m:>8.1f}{ours_m + pg_m:>8.1f}")
    for who, label in (("ours", "ours, 1 process"), ("workers", f"ours, {args.workers} workers")):
        for run in ("first", "resync"):
            ours, orig = fig.get(f"{who}_{run}_seconds"), fig.get(f"original_{run}_seconds")
            if ours and orig:
                fig[f"{who}_{run}_ratio"] = orig / ours
                say(f"{label} vs original, {run}: {orig / ours:.1f}x faster")
        if fig.get(f"{who}_resync_seconds"):
            fig[f"{who}_resync_over_floor"] = fig.get(f"{who}_resync_seconds") / floor
            say(
                f"{label}, unchanged re-sync / listing floor: "
                f"{fig.get(f'{who}_resync_over_floor'):.2f}x"
            )


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    settings = Settings.from_env()
    if not settings.database_url:
        say("DATABASE_URL is not set: run `make bench` (tests/run.py --only-db sets it).")
        return 2
    if args.ten_million:
        if args.workers < 1:
            say("--ten-million measures the workers: give --workers 1 or more.")
            return 2
        return await run_scale(args, worker_env(args, settings.database_url, ""))
    store = StoreProcess(args, Path(tempfile.mkdtemp(prefix="bench-store-")) / "store.log")
    info = store.start()
    keys = int(info["keys"])
    fig = Figures()
    try:
        async with bench_database(settings) as conn:
            await _measure(args, settings, conn, store, fig, keys)
    finally:
        store.stop()
    fig["process_peak_rss_mb"] = process_peak_mb()
    fig.summary()
    if args.json:
        fig.write_json(args.json)
    return 0


async def _measure(
    args: argparse.Namespace,
    settings: Settings,
    conn: asyncpg.Connection,
    store: StoreProcess,
    fig: Figures,
    keys: int,
) -> None:
    """Every phase on one bucket (`keys`), then the comparisons, into `fig`."""
    info = store.info
    say(
        f"sync benchmark through the S3 client: {args.models:,} models x {args.posts} posts "
        f"x {args.media} media = {keys:,} keys, every request held {args.delay * 1000:.0f} ms "
        f"(store built in {info['build_seconds']} s, its own process)"
    )
    say(await machine_line(conn))
    ctx = Ctx(args, conn, await ServerCpu.find(conn), fig, settings.database_url, store)
    fig["catalogue"] = {"models": args.models, "keys": keys, "delay": args.delay}
    async with S3Service(s3_settings(store.endpoint), timeout=60) as s3:
        await s3.check()
        freeze_startup_heap()  # as Runtime.start does, once its S3 client is made
        await phase_ours(ctx, s3)
        write_floor.report(fig, *await write_floor.put_back_media(ctx.dsn, ctx.server))
        if args.workers > 0:
            await phase_workers(ctx, store.endpoint)
        await phase_original(ctx, s3, keys)
    compare(ctx, keys)
    write_floor.compare(fig, os.cpu_count() or 1)
    await reset_tables(conn)


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
