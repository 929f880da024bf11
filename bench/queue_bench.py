"""Queue benchmark: the web while a sync runs, one worker against two, and a cold start.

    make bench-queue                                  # 5,000 models, about 115k keys, 50 ms
    make bench-queue ARGS="--models 1000 --quick --rounds 1"   # a quicker, smaller run

Everything goes through the real path: `python -m app` (the web process and its worker
processes) on the DATABASE_URL that tests/run.py --only-db provides, HTTP to the web, and
syncs run by the workers through the app's S3 client (aiobotocore) against bench/store.py, an
S3-compatible listing server in its own process that waits `--delay` per request.

a. /staged p50/p95 (paced requests, as an admin browsing) idle after a first sync, then
   while a dashboard-started sync runs (POST /sync with the CSRF token): an unchanged re-sync
   and one where every model's objects have new content; ratio p95 during / p95 idle.
b. A full first sync (fresh tables, same bucket) with WORKERS=1 and WORKERS=2: seconds from
   queued to succeeded (the sync_runs row), the speed-up, who did which parts, CPU by process.
c. `python -m app` with an empty environment (embedded PostgreSQL and S3, fresh DATA_DIR):
   seconds to the first 200 of /login and to the demo's run #1 succeeded.

The machine is shared: the load average and the CPU other processes used are printed with
each phase. Prints figures; asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
import time
from pathlib import Path

from bench import args as cli
from bench.queue_app import database_url, measured_database, start_store
from bench.queue_load import CORES, fmt_load, load
from bench.queue_phases import Ctx, phase_a, phase_b, phase_c
from bench.queue_table import print_table
from bench.report import say
from harness.processes import ROOT


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    bucket, path_help = (5_000, 10, 2), "the page measured in (a)"
    p = cli.sampling_parser("python -m bench.queue_bench", __doc__, bucket, path_help)
    p.add_argument("--bump-every", type=int, default=1, help="(a) changed re-sync: every Kth model")
    p.add_argument("--rounds", type=int, default=2, help="(b) syncs per worker count")
    p.add_argument(
        "--nice-workers",
        type=int,
        default=0,
        help="(a) experiment: renice the worker processes by this much after start (0: as the "
        "app runs them)",
    )
    p.add_argument("--phases", default="a,b,c", help="comma-separated subset of a,b,c")
    cli.add_app_env(
        p, "(a, b) experiment: extra environment for python -m app, e.g. SYNC_CONCURRENCY=4"
    )
    p.add_argument("--no-check", action="store_true", help="skip the store's listing self-check")
    p.add_argument("--quick", action="store_true", help="shorter idle window, no self-check")
    p.add_argument("--out", type=Path, default=ROOT / "test-output" / "queue-bench")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = cli.parse(p, argv)
    args.phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    if set(args.phases) - {"a", "b", "c"}:
        p.error("--phases takes a, b and c")
    if args.quick:
        args.idle_seconds = min(args.idle_seconds, 6.0)
        args.no_check = True
    return args


async def main_async(args: argparse.Namespace) -> None:
    url = database_url("bench-queue")
    say(f"queue benchmark: load average {fmt_load(load())} on {CORES} cores at start")
    store, info = start_store(args)
    say(
        f"store: {info['keys']:,} keys at {info['endpoint']} (built in {info['build_seconds']} s), "
        f"{1000 * args.delay:.0f} ms a request"
    )
    async with measured_database(url, store) as (conn, meter):
        if not args.no_check:
            from bench.store import self_check

            began = time.perf_counter()
            checked = await self_check(
                info["endpoint"], info["bucket"], info["keys"], info["digest"], by_folder=False
            )
            say(
                f"store self-check through aiobotocore: {checked['keys']:,} keys listed = "
                f"{info['keys']:,} generated, same keys; {checked['folders']:,} top-level "
                f"folders ({time.perf_counter() - began:.1f} s). Every sync below lists the "
                "store folder by folder: its keys_listed must equal the keys generated."
            )
        ctx = Ctx(args, conn, store, meter)
        ctx.note_load("start")
        for phase in args.phases:
            await {"a": phase_a, "b": phase_b, "c": phase_c}[phase](ctx)
        print_table(ctx)
        if args.json:
            args.json.write_text(
                json.dumps({"figures": ctx.figures, "loads": ctx.loads}, indent=2, default=str)
            )


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
