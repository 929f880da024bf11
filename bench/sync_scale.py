"""`make bench ARGS="--ten-million"`: our sync on the workers at 1M keys, then at 10x that.

In one run, for each size (--models, default 5,000 models x 20 posts x 10 media = 1,015,000
keys; then 10 x --models = 10,150,000 keys), a fresh store (bench/store.py, its own process)
and a fresh set of --workers `python -m app worker` processes do a first sync and an unchanged
re-sync through the S3 client. The in-process phase and the original's algorithm are skipped
at both sizes (plain `make bench` measures them at 1M). bench/scale_report.py prints the two
sizes side by side, the 10M / 1M ratios and the targets (PASS / MISS), and writes --json.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import math
import os
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench.measure import (
    ServerCpu,
    Timer,
    bench_database,
    machine_line,
    mark_writes,
    phase_memory,
    reset_tables,
    settle,
    writes_since,
)
from bench.proc_stats import cpu_seconds, peak_mb, reset_peak
from bench.report import describe_run, fmt_writes, say
from bench.scale_report import STAGED, Phase, Size, report
from bench.store import StoreProcess
from bench.sync_workers import Workers, queued_sync
from domain.platform.settings import Settings

SCALE = 10
RUN_WITHIN_S = 4 * 3600.0  # the bound on one sync at the large size
PROGRESS_EVERY_S = 0.5


@dataclass
class Bench:
    args: argparse.Namespace
    settings: Settings
    conn: asyncpg.Connection
    server: ServerCpu
    worker_env: dict[str, str] = field(default_factory=dict)


async def autovacuums(conn: asyncpg.Connection) -> int:
    """Autovacuum and autoanalyze passes so far on the staged tables (the statistics views)."""
    value = await conn.fetchval(
        "SELECT coalesce(sum(autovacuum_count + autoanalyze_count), 0) FROM pg_stat_user_tables "
        "WHERE relname = ANY($1::text[])",
        list(STAGED),
    )
    return int(value)


async def database_sizes(conn: asyncpg.Connection) -> dict[str, Any]:
    """pg_database_size and each staged table's rows, heap (with TOAST) and index bytes."""
    sizes: dict[str, Any] = {
        "database": int(await conn.fetchval("SELECT pg_database_size(current_database())"))
    }
    for table in STAGED:
        row = await conn.fetchrow(
            f"SELECT count(*) AS rows, pg_table_size('{table}') AS heap, "
            f"pg_indexes_size('{table}') AS indexes FROM {table}"
        )
        sizes[table] = {
            "rows": int(row["rows"]),
            "heap": int(row["heap"]),
            "indexes": int(row["indexes"]),
        }
    return sizes


class Progress:
    """Models the run's parts have done (their heartbeats, every 0.5 s), sampled every
    `every` s while a sync runs: models/s by tenth of the wall time shows a slowdown (a cliff)
    that the whole run's average hides."""

    def __init__(self, conn: asyncpg.Connection, every: float) -> None:
        self.conn, self.every = conn, every
        self.samples: list[tuple[float, int]] = []
        self.loads: list[float] = []  # the 1-minute load average at each sample

    async def sample(self, after: int) -> None:
        """Sample the runs after run `after` (read before the sync is queued) until cancelled."""
        began = time.perf_counter()
        while True:
            done = await self.conn.fetchval(
                "SELECT greatest((SELECT sum((stats::jsonb ->> 'models_done')::bigint) FROM "
                "sync_parts WHERE run > $1), (SELECT sum(models_done) FROM sync_runs "
                "WHERE id > $1), 0)",
                after,
            )
            self.samples.append((time.perf_counter() - began, int(done)))
            self.loads.append(os.getloadavg()[0])
            await asyncio.sleep(self.every)

    def by_tenth(self) -> list[float]:
        """models/s in each tenth of the sampled time (empty when too few samples)."""
        if len(self.samples) < 11:
            return []
        end = self.samples[-1][0]

        def at(x: float) -> tuple[float, int]:  # the last sample taken by time x
            return max((s for s in self.samples if s[0] <= x), default=self.samples[0])

        rates = []
        for k in range(10):
            (t0, k0), (t1, k1) = at(end * k / 10), at(end * (k + 1) / 10)
            rates.append((k1 - k0) / (t1 - t0) if t1 > t0 else 0.0)
        return rates


async def one_sync(b: Bench, store: StoreProcess, workers: Workers, name: str) -> Phase:
    """One queued sync of the whole bucket, with each process's CPU and peak RSS over it."""
    pids = [p.pid for p in workers.procs or ()]
    assert store.proc is not None, "the store is not running"
    for pid in (*pids, store.proc.pid):
        reset_peak(pid)
    cpu_before = [cpu_seconds(pid) for pid in pids]
    store_cpu = cpu_seconds(store.proc.pid)
    vacuums = await autovacuums(b.conn)
    before = int((await store.call("/_bench/stats"))["requests"].get("list", 0))
    progress = Progress(await asyncpg.connect(b.settings.database_url), PROGRESS_EVERY_S)
    last_run = int(await b.conn.fetchval("SELECT coalesce(max(id), 0) FROM sync_runs"))
    sampler = asyncio.create_task(progress.sample(last_run))
    try:
        with phase_memory() as mem, Timer(b.server) as t:
            run = await queued_sync(within=RUN_WITHIN_S)
    finally:
        sampler.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await sampler
        await progress.conn.close()
    requests = int((await store.call("/_bench/stats"))["requests"].get("list", 0)) - before
    phase = Phase(
        name=name,
        status=run.status,
        keys=run.keys_listed,
        seconds=t.seconds,
        requests=requests,
        worker_cpu=[cpu_seconds(pid) - c for pid, c in zip(pids, cpu_before, strict=True)],
        pg_cpu=t.server_cpu,
        store_cpu=cpu_seconds(store.proc.pid) - store_cpu,
        worker_peak_mb=[peak_mb(pid) for pid in pids],
        store_peak_mb=peak_mb(store.proc.pid),
        bench_peak_mb=mem.peak_mb,
        autovacuums=await autovacuums(b.conn) - vacuums,
        models_per_s_by_tenth=progress.by_tenth(),
        load=(min(progress.loads, default=math.nan), max(progress.loads, default=math.nan)),
    )
    say(f"{name}: {phase.describe()}")
    say(f"  [{describe_run(run)}]")
    return phase


async def measure_size(b: Bench, label: str, models: int) -> Size:
    """A fresh store of `models` models and fresh workers: a first sync, an unchanged re-sync."""
    args = replace_models(b.args, models)
    say(f"\n-- {label}: building the store ({models:,} models), its own process --")
    store = StoreProcess(args, Path(tempfile.mkdtemp(prefix="bench-store-")) / "store.log")
    info = store.start()
    try:
        assert store.proc is not None
        size = Size(label, models, int(info["keys"]), float(info["build_seconds"]))
        size.store_build_peak_mb = peak_mb(store.proc.pid)
        say(
            f"{size.keys:,} keys, built in {size.build_seconds:.1f} s, store peak RSS "
            f"{size.store_build_peak_mb:,.0f} MB; {b.args.workers} workers"
        )
        await reset_tables(b.conn)
        env = {**b.worker_env, "DO_SPACES_ENDPOINT": store.endpoint}
        log_dir = Path(tempfile.mkdtemp(prefix="bench-workers-"))
        async with Workers(b.args.workers, env, log_dir) as workers:
            size.first = await one_sync(b, store, workers, "first sync")
            await settle(b.conn)
            mark = await mark_writes(b.conn)
            size.resync = await one_sync(b, store, workers, "unchanged re-sync")
            writes = await writes_since(b.conn, mark)
        say(f"  rows written by the re-sync: {fmt_writes(writes)}")
        size.resync_rows_written = sum(w.total for w in writes.values())
        size.db = await database_sizes(b.conn)
        size.load = os.getloadavg()
        await reset_tables(b.conn)
        return size
    finally:
        store.stop()


def replace_models(args: argparse.Namespace, models: int) -> argparse.Namespace:
    return argparse.Namespace(**{**vars(args), "models": models})


async def run_scale(args: argparse.Namespace, worker_env: dict[str, str]) -> int:
    """Both sizes, the table and the targets; `worker_env` as sync_bench's phase_workers."""
    settings = Settings.from_env()
    async with bench_database(settings) as conn:
        say(
            f"SCALE: our sync on {args.workers} worker processes at {args.models:,} and "
            f"{args.models * SCALE:,} models ({args.posts} posts x {args.media} media each), "
            f"every request held {args.delay * 1000:.0f} ms, SYNC_CONCURRENCY "
            f"{args.concurrency}"
        )
        say(
            "the in-process phase and the original's algorithm are SKIPPED at both sizes "
            "(plain `make bench` measures them at 1M)"
        )
        say(await machine_line(conn))
        b = Bench(args, settings, conn, await ServerCpu.find(conn), worker_env)
        sizes = []
        for label, models in (("small", args.models), ("large", args.models * SCALE)):
            sizes.append(await measure_size(b, label, models))
            say(f"  load average {' '.join(f'{x:.2f}' for x in sizes[-1].load)}")
    report(sizes, args)
    return 0
