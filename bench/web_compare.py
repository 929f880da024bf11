"""Our pages side by side with another commit's, in one run (issue 23: "pages stay as fast").

    make bench-web ARGS="--before 7b1468f"

Checks REV out into a temporary git worktree and serves it and this checkout with uvicorn (one
worker each, the same database and S3). Each page is then loaded on one and the other in turn,
`--rounds` times, each time in the other order, so a machine that gets busier or quieter during
the run slows both alike. Prints each page's p50, p99 and req/s for both, summed over the rounds,
and the ratio now / before.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import AsyncExitStack, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench import web_scale
from bench.web_load import HEADER, LoadResult, row, run_load
from bench.web_scale import Target
from bench.web_server import UvicornServer, deep_path, login_ours
from harness.processes import ROOT


def say(text: str = "") -> None:
    print(text, flush=True)


@contextmanager
def worktree(rev: str) -> Iterator[Path]:
    """REV checked out in a temporary directory (a detached git worktree), removed after."""
    path = Path(tempfile.mkdtemp(prefix="creatorflix-before-"))
    git = ["git", "-C", str(ROOT)]
    subprocess.run([*git, "worktree", "add", "--detach", str(path), rev], check=True)
    try:
        yield path
    finally:
        subprocess.run([*git, "worktree", "remove", "--force", str(path)], check=False)


@dataclass
class Side:
    """One app under test: its label, its server and its signed-in cookie."""

    label: str
    server: UvicornServer
    cookie: str = ""
    paths: dict[str, str] = field(default_factory=dict)
    results: dict[str, list[LoadResult]] = field(default_factory=dict)


async def run(args: argparse.Namespace, facts: dict[str, Any], password: str) -> dict[str, Any]:
    """Serve both commits and load each page on both in turn; print and return the figures."""
    chosen = web_scale.load_targets(facts, args.search, "")  # deep: each side's own
    with worktree(args.before) as before_dir:
        async with web_scale.bucket_env() as env, AsyncExitStack() as stack:
            sides = [
                Side(f"before ({args.before})", UvicornServer("before", "app:create_app",
                     "/healthz", args.out, env, app_dir=before_dir)),
                Side("now", UvicornServer("now", args.app, "/healthz", args.out, env)),
            ]  # fmt: skip
            for side in sides:
                await stack.enter_async_context(side.server)
                side.cookie = await login_ours(side.server.base, "bench", password)
                deep = await deep_path(side.server.base, side.cookie, "/staged", args.deep_rows, 25)
                side.paths = {t.name: deep if t.name == "deep" else t.path for t in chosen}
            say(f"\n{args.rounds} rounds, each page on both apps in turn\n  {'app':<8}{HEADER}")
            for n in range(args.rounds):
                for target in chosen:
                    for side in sides if n % 2 == 0 else sides[::-1]:
                        result = await run_load(
                            target.name,
                            side.server.base,
                            side.paths[target.name],
                            cookies=[""] if target.public else [side.cookie],
                            connections=args.connections,
                            duration=args.duration / args.rounds,
                            warmup=args.warmup,
                            server_pid=side.server.pid,
                        )
                        side.results.setdefault(target.name, []).append(result)
                        say(f"  {side.server.name:<8}{row(result)}")
    return report(sides, chosen)


def _merged(results: list[LoadResult]) -> tuple[float, float, float, int]:
    """(median p50, worst p99, mean req/s, errors) over a page's rounds."""
    return (
        statistics.median(r.p50_ms for r in results),
        max(r.p99_ms for r in results),
        statistics.fmean(r.rps for r in results),
        sum(r.errors for r in results),
    )


def report(sides: list[Side], chosen: list[Target]) -> dict[str, Any]:
    before, now = sides
    say(f"\nSide by side, {before.label} and {now.label}, pages loaded in turn")
    say(
        f"  {'page':<12}{'p50 before':>11}{'p50 now':>9}{'ratio':>7}{'p99 before':>12}"
        f"{'p99 now':>9}{'req/s before':>14}{'req/s now':>11}{'ratio':>7}{'errors':>8}"
    )
    figures: dict[str, Any] = {}
    for target in chosen:
        b, n = _merged(before.results[target.name]), _merged(now.results[target.name])
        p50_ratio = n[0] / b[0] if b[0] else float("inf")
        rps_ratio = n[2] / b[2] if b[2] else float("inf")
        say(
            f"  {target.name:<12}{b[0]:>11.1f}{n[0]:>9.1f}{p50_ratio:>6.2f}x{b[1]:>12.1f}"
            f"{n[1]:>9.1f}{b[2]:>14.1f}{n[2]:>11.1f}{rps_ratio:>6.2f}x{b[3] + n[3]:>8}"
        )
        figures[target.name] = {
            "before": {"p50_ms": b[0], "p99_ms": b[1], "rps": b[2], "errors": b[3]},
            "now": {"p50_ms": n[0], "p99_ms": n[1], "rps": n[2], "errors": n[3]},
            "p50_ratio": round(p50_ratio, 3),
            "rps_ratio": round(rps_ratio, 3),
        }
    say("  (ratio: now / before; p50 below 1.00x and req/s above 1.00x are faster now)")
    return figures
