"""A first sync's CPU per million keys, another commit's side by side with this checkout's.

    make bench-sync-compare ARGS="--before 238d27b --models 1000"
    make bench-sync-compare ARGS="--before 238d27b --analyzed-empty"   # a cleared catalogue

Checks REV out into a temporary git worktree (web_compare.worktree). Each commit gets a database
of its own in the same cluster (CREATE DATABASE, then that tree's migrations) and its own
`python -m app worker` processes started from its own tree; both list one shared store
(bench/store.py, its own process). Each round runs a queued first sync (the web's "Sync now")
on one commit and then the other, in the other order the next round, the tables emptied before
each; a commit's workers run only for its own sync. Measured per sync: wall time (queued to
finished), the workers' CPU (/proc/<pid>/stat utime + stime) and the cluster's (ServerCpu: every
PostgreSQL process, autovacuum and checkpointer included). Prints each round, then per commit
the median over the rounds of CPU seconds per million keys (ours, PostgreSQL, total) and wall,
and the ratio now / before. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import os
import statistics
import subprocess
import sys
import tempfile
from contextlib import AsyncExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg
from piccolo.engine import PostgresEngine

from bench import args as cli
from bench.measure import SYNC_TABLES, ServerCpu, Timer, reset_tables
from bench.report import describe_run, say
from bench.store import StoreProcess
from bench.sync_bench import worker_env
from bench.sync_workers import Workers, queued_sync
from bench.web_compare import worktree
from domain.platform import db, queue
from harness.processes import PYTHON, ROOT

# A tree's own migrations, run from that tree (its `domain` is imported from the working dir).
MIGRATE = """
import asyncio, os
from domain.platform import db
async def main():
    engine = db.make_engine(os.environ["DATABASE_URL"])
    db.install_engine(engine)
    await db.start(engine)
    try:
        await db.migrate()
    finally:
        await db.stop(engine)
asyncio.run(main())
"""
FIGURES = ("ours", "pg", "total", "wall")


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    p = cli.parser("python -m bench.sync_compare", __doc__)
    cli.add_bucket(p, models=1_000, posts=20, media=10)
    p.add_argument("--before", required=True, help="the commit to compare with (any git rev)")
    p.add_argument("--rounds", type=int, default=3, help="first syncs per commit")
    p.add_argument("--workers", type=int, default=2, help="`python -m app worker` processes")
    p.add_argument("--concurrency", type=int, default=16, help="SYNC_CONCURRENCY")
    p.add_argument(
        "--analyzed-empty",
        action="store_true",
        help="VACUUM ANALYZE the emptied tables before each sync (a catalogue cleared, then "
        "analyzed by autovacuum): statistics that say the tables are empty",
    )
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    return p.parse_args(argv)


@dataclass
class Side:
    """One commit under test: its tree, its database and what its syncs measured."""

    label: str
    tree: Path
    url: str
    engine: PostgresEngine | None = None
    rounds: list[dict[str, float]] = field(default_factory=list)

    def median(self, what: str) -> float:
        return statistics.median(r[what] for r in self.rounds)


def database(url: str, name: str) -> str:
    parts = urlsplit(url)
    return urlunsplit(parts._replace(path="/" + name))


async def create(side: Side, admin: asyncpg.Connection) -> None:
    """A fresh database for `side`, migrated by its own tree."""
    name = urlsplit(side.url).path.lstrip("/")
    await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    await admin.execute(f'CREATE DATABASE "{name}"')
    env = {**os.environ, "DATABASE_URL": side.url}
    done = await asyncio.to_thread(
        subprocess.run, [PYTHON, "-c", MIGRATE], cwd=side.tree, env=env, capture_output=True,
        text=True, timeout=300,
    )  # fmt: skip
    if done.returncode != 0:
        raise RuntimeError(f"migrating {side.label}'s database failed:\n{done.stderr[-3000:]}")
    side.engine = db.make_engine(side.url)
    await db.start(side.engine, pool_size=4)


async def use(side: Side) -> None:
    """Point this process's tables and job queue at `side`'s database."""
    assert side.engine is not None
    db.install_engine(side.engine)
    queue.connect(side.url)
    await queue.app.open_async()


async def one_sync(side: Side, args: argparse.Namespace, env: dict[str, str], server: ServerCpu,
                   log_dir: Path, n: int) -> None:  # fmt: skip
    """A queued first sync on `side`'s workers, on emptied tables; its figures appended."""
    await use(side)
    conn = await asyncpg.connect(side.url)
    try:
        await reset_tables(conn)
        if args.analyzed_empty:
            await conn.execute(f"VACUUM ANALYZE {', '.join(SYNC_TABLES)}")
        logs = log_dir / f"{side.label}-{n}"
        logs.mkdir()
        async with Workers(args.workers, {**env, "DATABASE_URL": side.url}, logs, side.tree) as w:
            ours = w.cpu_seconds()
            with Timer(server) as t:
                run = await queued_sync()
            ours = w.cpu_seconds() - ours
        await reset_tables(conn)  # nothing left for autovacuum to do during the other's sync
    finally:
        await conn.close()
        await queue.app.close_async()
    if run.status != "succeeded" or not run.keys_listed:
        raise RuntimeError(f"{side.label}: the sync ended {run.status} [{describe_run(run)}]")
    per = 1e6 / run.keys_listed
    pg = (t.server_cpu or 0.0) * per
    figures = {"keys": run.keys_listed, "ours": ours * per, "pg": pg, "wall": t.seconds}
    figures["total"] = figures["ours"] + pg
    side.rounds.append(figures)
    say(
        f"  round {n + 1} {side.label:<22} {run.keys_listed:>9,} keys {t.seconds:>7.1f} s wall; "
        f"CPU per million keys: ours {figures['ours']:6.1f} s, PostgreSQL {pg:6.1f} s, "
        f"total {figures['total']:6.1f} s"
    )


def report(before: Side, now: Side) -> dict[str, Any]:
    say(f"\nFirst sync, median of {len(now.rounds)} rounds: CPU seconds per million keys")
    say(f"  {'':<24}{'ours':>8}{'PG':>8}{'total':>8}{'wall s':>9}")
    for side in (before, now):
        cells = "".join(f"{side.median(w):>8.1f}" for w in FIGURES[:3])
        say(f"  {side.label:<24}{cells}{side.median('wall'):>9.1f}")
    ratios = {w: now.median(w) / before.median(w) for w in FIGURES if before.median(w)}
    cells = "".join(f"{ratios.get(w, float('nan')):>7.2f}x" for w in FIGURES[:3])
    say(f"  {'ratio now / before':<24}{cells}{ratios.get('wall', float('nan')):>8.2f}x")
    say("  (ours: the workers' CPU; PG: every PostgreSQL process; below 1.00x is cheaper now)")
    return {
        "before": {"rev": before.label, "rounds": before.rounds},
        "now": {"rounds": now.rounds},
        "median": {s.label: {w: s.median(w) for w in FIGURES} for s in (before, now)},
        "ratio": ratios,
    }


async def main(args: argparse.Namespace) -> int:
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    base = os.environ.get("DATABASE_URL")
    if not base:
        say("DATABASE_URL is not set: run `make bench-sync-compare` (tests/run.py --only-db).")
        return 2
    log_dir = Path(tempfile.mkdtemp(prefix="bench-sync-compare-"))
    store = StoreProcess(args, log_dir / "store.log")
    info = store.start()
    admin = await asyncpg.connect(base)
    env = worker_env(args, base, store.endpoint)  # DATABASE_URL: each side's own, in one_sync
    try:
        server = await ServerCpu.find(admin)
        say(
            f"first sync, {args.before} and this checkout: {info['keys']:,} keys "
            f"({args.models:,} models x {args.posts} posts x {args.media} media), "
            f"{args.workers} workers each, {args.rounds} rounds, logs in {log_dir}"
        )
        if server.postmaster is None:
            say("!! PostgreSQL is not on this machine: its CPU is not measured (PG shows 0)")
        with worktree(args.before) as before_dir:
            sides = [
                Side(f"before ({args.before})", before_dir, database(base, "sync_compare_before")),
                Side("now", ROOT, database(base, "sync_compare_now")),
            ]
            async with AsyncExitStack() as stack:
                for side in sides:
                    await create(side, admin)
                    assert side.engine is not None
                    stack.push_async_callback(db.stop, side.engine)
                for n in range(args.rounds):
                    for side in sides if n % 2 == 0 else sides[::-1]:
                        await one_sync(side, args, env, server, log_dir, n)
            figures = report(*sides)
        for side in sides:
            name = urlsplit(side.url).path.lstrip("/")
            await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.close()
        store.stop()
    if args.json:
        args.json.write_text(json.dumps(figures, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main(parse_args())))
