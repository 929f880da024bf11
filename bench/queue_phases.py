"""The queue benchmark's phases (see bench/queue_bench.py): a. the page during syncs,
b. one worker against two, c. a cold start."""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import asyncpg

from bench.measure import table_counts
from bench.queue_app import PASSWORD, USER, AppProcess, bucket_env, fresh_tables
from bench.queue_http import Browser, RunResult
from bench.queue_load import CpuMeter, Latency, Sampler, children, fmt_cpu, load
from bench.report import say
from bench.store import StoreProcess
from harness.ports import free_port

DEMO_USER, DEMO_PASSWORD = "admin", "creatorflix-demo"


@dataclass
class Ctx:
    args: argparse.Namespace
    conn: asyncpg.Connection
    store: StoreProcess
    meter: CpuMeter
    figures: dict[str, Any] = field(default_factory=dict)
    loads: list[tuple[str, tuple[float, float, float]]] = field(default_factory=list)

    def note_load(self, label: str) -> tuple[float, float, float]:
        value = load()
        self.loads.append((label, value))
        return value

    def tmp(self, name: str) -> Path:
        path = Path(tempfile.mkdtemp(prefix=f"queue-bench-{name}-"))
        return path


async def phase_a(ctx: Ctx) -> None:
    args = ctx.args
    say("\n-- a. the staged list page while a dashboard-started sync runs (WORKERS=1) --")
    await fresh_tables(ctx.conn)
    data_dir = ctx.tmp("a")
    env = bucket_env(ctx.store, 1, data_dir, args.app_env)
    app = AppProcess(env, args.out / "app-a.log").start()
    ctx.meter.app_pid = app.pid
    rows: list[Latency] = []
    try:
        await app.wait_ready()
        if args.nice_workers:
            for pid in children(app.pid):
                os.setpriority(os.PRIO_PROCESS, pid, args.nice_workers)
            say(f"  experiment: worker processes reniced to {args.nice_workers}")
        browser = await Browser.sign_in(app.base, USER, PASSWORD)
        first = await browser.sync(ctx.conn)
        say(f"first sync: {first.describe()}")
        say(f"  tables: {await table_counts(ctx.conn)}")
        await asyncio.sleep(2.0)

        async def idle(name: str) -> Latency:
            mark = ctx.meter.mark()
            async with Sampler(app.base, args.path, browser.cookie, args.rate) as sampler:
                lo = time.perf_counter() + 1.0  # a second to warm up
                await asyncio.sleep(1.0 + args.idle_seconds)
                hi = time.perf_counter()
            result = Latency.of(name, sampler.samples, lo, hi)
            result.cpu = ctx.meter.use(mark, ctx.meter.mark())
            result.load1 = ctx.note_load(f"a: {name}")[0]
            return result

        async def during(name: str) -> tuple[Latency, RunResult]:
            mark = ctx.meter.mark()
            async with Sampler(app.base, args.path, browser.cookie, args.rate) as sampler:
                run = await browser.sync(ctx.conn)
            result = Latency.of(name, sampler.samples, run.running_from, run.running_to)
            result.cpu = ctx.meter.use(mark, ctx.meter.mark())
            result.load1 = ctx.note_load(f"a: {name}")[0]
            result.note = run.describe()
            return result, run

        rows.append(await idle("idle, after the first sync"))
        say(f"  {rows[-1].name}: {fmt_cpu(rows[-1].cpu)}")
        unchanged, run2 = await during("during an unchanged re-sync")
        rows.append(unchanged)
        say(f"  {unchanged.name}: {unchanged.note}\n    {fmt_cpu(unchanged.cpu)}")
        bumped = await ctx.store.call(f"/_bench/bump?every={args.bump_every}", "POST")
        changed, run3 = await during(f"during a re-sync, {bumped['changed']:,} objects changed")
        rows.append(changed)
        say(f"  {changed.name}: {changed.note}\n    {fmt_cpu(changed.cpu)}")
        await asyncio.sleep(2.0)
        rows.append(await idle("idle again, after the re-syncs"))
        say(f"  {rows[-1].name}: {fmt_cpu(rows[-1].cpu)}")
    finally:
        app.stop()
        ctx.meter.app_pid = None
        shutil.rmtree(data_dir, ignore_errors=True)
    ctx.figures["a"] = {
        "rows": [vars(r) for r in rows],
        "first_sync": first.row | {"seconds": first.seconds},
        "resync_seconds": run2.seconds,
        "changed_resync_seconds": run3.seconds,
        "ratios": {r.name: r.p95 / rows[0].p95 for r in rows[1:3] if rows[0].p95 == rows[0].p95},
    }


async def phase_b(ctx: Ctx) -> None:
    args = ctx.args
    say("\n-- b. a full first sync by one worker process, then two (fresh tables each) --")
    results: dict[int, list[RunResult]] = {1: [], 2: []}
    cpu: dict[int, list[dict[str, float]]] = {1: [], 2: []}
    for _ in range(args.rounds):
        for workers in (1, 2):
            await fresh_tables(ctx.conn)
            await ctx.conn.execute("VACUUM ANALYZE whitelabel_models, whitelabel_media")
            data_dir = ctx.tmp("b")
            env = bucket_env(ctx.store, workers, data_dir, args.app_env)
            app = AppProcess(env, args.out / f"app-b{workers}.log").start()
            ctx.meter.app_pid = app.pid
            try:
                await app.wait_ready()
                await asyncio.sleep(1.0)  # let the workers connect and listen
                browser = await Browser.sign_in(app.base, USER, PASSWORD)
                before = await ctx.store.call("/_bench/stats")
                mark = ctx.meter.mark()
                run = await browser.sync(ctx.conn)
                used = ctx.meter.use(mark, ctx.meter.mark())
                after = await ctx.store.call("/_bench/stats")
            finally:
                app.stop()
                ctx.meter.app_pid = None
                shutil.rmtree(data_dir, ignore_errors=True)
            used["store_requests"] = after["requests"]["total"] - before["requests"]["total"]
            used["load1"] = ctx.note_load(f"b: WORKERS={workers}")[0]
            results[workers].append(run)
            cpu[workers].append(used)
            parts = ", ".join(f"{owner.split('@')[0]}: {n}" for owner, n in run.parts.items())
            say(f"WORKERS={workers}: {run.describe()}")
            say(f"  first seen (s after POST): {run.timeline()}")
            say(f"  parts done by: {parts}; {used['store_requests']:,} store requests")
            say(f"  {fmt_cpu(used)}; load1 {used['load1']:.2f}")
    ctx.figures["b"] = {
        str(w): [
            {
                "seconds": r.seconds,
                "status": r.status,
                "parts": r.parts,
                "cpu": c,
                "pickup": r.pickup,
                "seen": r.seen,
                "keys_listed": r.row["keys_listed"],
            }
            for r, c in zip(results[w], cpu[w], strict=True)
        ]
        for w in (1, 2)
    }


async def phase_c(ctx: Ctx) -> None:
    say("\n-- c. cold start: python -m app with an empty environment --")
    data_dir = ctx.tmp("c")
    env = {
        k: os.environ[k] for k in ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR") if k in os.environ
    }
    env.update(
        DATA_DIR=str(data_dir / "data"),
        PORT=str(free_port()),
        EMBEDDED_S3_PORT=str(free_port()),
    )
    app = AppProcess(env, ctx.args.out / "app-c.log").start()
    result: dict[str, Any] = {}
    try:
        result["login_200_s"] = await app.wait_ready(within=600.0)
        say(f"first 200 of /login after {result['login_200_s']:.2f} s")
        browser = await Browser.sign_in(app.base, DEMO_USER, DEMO_PASSWORD)
        status = None
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline:
            status = await browser.run_status(1)
            if status not in (None, "queued", "running"):
                break
            await asyncio.sleep(0.1)
        result["demo_sync_s"] = time.perf_counter() - app.started
        result["demo_sync_status"] = status
        say(f"demo run #1 {status} after {result['demo_sync_s']:.2f} s")
    finally:
        app.stop()
        shutil.rmtree(data_dir, ignore_errors=True)
    result["load1"] = ctx.note_load("c: cold start")[0]
    ctx.figures["c"] = result
