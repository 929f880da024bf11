"""Web benchmark: our admin pages and public API under load, against Piccolo Admin's list.

    python tests/run.py --only-db -- .venv/bin/python -m bench.web_bench [--models 5000 ...]

Seeds 100,000 staged models (200,000 posts, 1,000,000 media) and 3,000 published production
models by COPY, then serves the app with uvicorn (one worker, embedded S3) and drives
32 keep-alive connections for 20 s at each page; then the same against Piccolo Admin's
whitelabel_models list endpoint (one uvicorn worker, same database). Prints req/s, p50, p99
and errors per page, and the targets (list page >= 2x Piccolo Admin; p99 <= 50 ms).

Side by side with another commit (issue 23; see bench/web_compare.py):
    make bench-web ARGS="--before 7b1468f"

Scale mode (issue 24: p50 <= 10 ms on ONE connection; see bench/web_scale.py):
    make bench-web ARGS="--scale --models 1000000 --production 1000000 --media-per-post 1"
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import sys
from importlib.metadata import version
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from bench import web_compare, web_scale, web_seed
from bench.web_load import HEADER, LoadResult, row, run_load
from bench.web_piccolo_admin import LIST_PATH
from bench.web_profile import Profile, print_profile, profile_under_load
from bench.web_server import UvicornServer, deep_path, fetch_once, login_ours, login_piccolo_admin
from domain.platform import db
from domain.platform.settings import Settings
from domain.production.visibility import public_sql
from harness.processes import ROOT

PASSWORD = "bench-password-123"
RATIO_TARGET = 2.0
P99_TARGET_MS = 50.0
PACKAGES = ("litestar", "piccolo", "piccolo-admin", "piccolo-api", "uvicorn", "aiohttp", "asyncpg")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(prog="python -m bench.web_bench", description="Web benchmark")
    p.add_argument("--models", type=int, default=100_000, help="staged models (x2 posts)")
    p.add_argument("--production", type=int, default=3_000, help="published production models")
    p.add_argument("--media-per-post", type=int, default=5, choices=range(1, 11), metavar="1-10")
    p.add_argument("--scale", action="store_true", help="one connection, p50 <= 10 ms a page")
    p.add_argument("--explain-ms", type=float, default=2.0, help="scale: plans of slower SQL")
    p.add_argument("--try-sql", action="append", default=[], help="run after seeding (a fix)")
    p.add_argument("--duration", type=float, default=20.0, help="seconds of load per page")
    p.add_argument("--warmup", type=float, default=3.0, help="unmeasured seconds before each")
    p.add_argument("--connections", type=int, default=32, help="concurrent keep-alive connections")
    p.add_argument("--logins", type=int, default=1, help="sessions per app, round-robin")
    p.add_argument("--deep-rows", type=int, default=2_000, help="how deep the deep page is")
    p.add_argument("--search", default="rose", help="the q= search term")
    p.add_argument("--admin-page-size", type=int, default=25, help="Piccolo Admin rows a page")
    p.add_argument("--app", default="app:create_app", help="our uvicorn factory (to try a fix)")
    p.add_argument("--json", type=Path, help="also write the figures to this file")
    p.add_argument("--profile", action="store_true", help="py-spy our pages after measuring")
    p.add_argument("--profile-seconds", type=float, default=10.0)
    p.add_argument("--out", type=Path, default=ROOT / "test-output" / "web-bench", help="logs")
    p.add_argument("--reset", action="store_true", help="truncate staged/production tables first")
    p.add_argument("--before", metavar="REV", help="our pages side by side with commit REV's")
    p.add_argument("--rounds", type=int, default=4, help="--before: turns each page takes")
    p.set_defaults(password=PASSWORD)
    args = p.parse_args(argv)
    args.connections = 1 if args.scale else args.connections
    return args


def say(text: str = "") -> None:
    print(text, flush=True)


def versions() -> dict[str, str]:
    found = {"python": platform.python_version()}
    for name in PACKAGES:
        try:
            found[name] = version(name)
        except Exception:  # noqa: BLE001 - a missing package is reported, not fatal
            found[name] = "missing"
    return found


async def prepare(args: argparse.Namespace, settings: Settings) -> dict[str, Any]:
    """Seed, create the two users, pick the sample model; returns facts for the report."""
    await web_seed.prepare_schema(settings)
    say(f"Seeding {args.models:,} staged models and {args.production:,} production models ...")
    stats = await web_seed.seed(
        args.models, args.production, media_per_post=args.media_per_post, reset=args.reset
    )
    say(f"  seeded {stats.describe()}")
    await web_seed.try_sql(args.try_sql, say)
    await web_seed.create_users(PASSWORD)
    middle = await db.fetch(
        "SELECT folder_name FROM whitelabel_models ORDER BY id OFFSET $1 LIMIT 1", args.models // 2
    )
    matches = await db.fetch(
        "SELECT COUNT(*) AS n FROM whitelabel_models WHERE lower(folder_name) LIKE $1",
        f"%{args.search.lower()}%",
    )
    server = await db.fetch("SHOW server_version")
    public = await db.fetch(f"SELECT COUNT(*) AS n FROM models m WHERE {public_sql('m')}")
    await db.stop(db.current_engine())
    return {
        "seed": stats.as_dict(),
        "model": middle[0]["folder_name"],
        "search_matches": int(matches[0]["n"]),
        "postgres": server[0]["server_version"],
        "public_models": int(public[0]["n"]),
    }


async def load(
    args: argparse.Namespace, name: str, base: str, path: str, cookies: list[str], pid: int
) -> LoadResult:
    status, body = await fetch_once(base, cookies[0], path)
    if status != 200:
        raise RuntimeError(f"{name}: GET {path} answered HTTP {status} before the load")
    if path.startswith(LIST_PATH) and len(json.loads(body)["rows"]) != args.admin_page_size:
        raise RuntimeError(f"{name}: GET {path} did not return {args.admin_page_size} rows")
    result = await run_load(
        name,
        base,
        path,
        cookies=cookies,
        connections=args.connections,
        duration=args.duration,
        warmup=args.warmup,
        server_pid=pid,
    )
    say(row(result))
    return result


async def bench_ours(
    args: argparse.Namespace, facts: dict[str, Any]
) -> tuple[dict[str, LoadResult], list[Profile], dict[str, str]]:
    results: dict[str, LoadResult] = {}
    profiles: list[Profile] = []
    async with web_scale.bucket_env() as env:
        return await _bench_ours(args, facts, results, profiles, env)


async def _bench_ours(
    args: argparse.Namespace,
    facts: dict[str, Any],
    results: dict[str, LoadResult],
    profiles: list[Profile],
    env: dict[str, str],
) -> tuple[dict[str, LoadResult], list[Profile], dict[str, str]]:
    async with UvicornServer("creatorflix", args.app, "/healthz", args.out, env) as server:
        cookies = [await login_ours(server.base, "bench", PASSWORD) for _ in range(args.logins)]
        deep = await deep_path(server.base, cookies[0], "/staged", args.deep_rows, 25)
        targets = web_scale.load_targets(facts, args.search, deep)
        say(
            f"\nCreatorFlix Admin ({args.app}) at {server.base}, uvicorn pid {server.pid}, 1 worker"
        )
        for target in targets:
            who = "no cookie" if target.public else f"{args.logins} session(s)"
            say(f"  {target.name:<11} GET {target.path}  ({who})")
        say(HEADER)
        for target in targets:
            sent = [""] if target.public else cookies
            results[target.name] = await load(
                args, target.name, server.base, target.path, sent, server.pid
            )
        if args.profile:
            args.out.mkdir(parents=True, exist_ok=True)
            for target in targets:
                profile, _ = await profile_under_load(
                    target.name,
                    server.base,
                    target.path,
                    pid=server.pid,
                    cookies=[""] if target.public else cookies,
                    connections=args.connections,
                    seconds=args.profile_seconds,
                    out_dir=args.out,
                )
                profiles.append(profile)
    return results, profiles, {t.name: t.path for t in targets}


async def bench_piccolo_admin(args: argparse.Namespace) -> LoadResult:
    app = "bench.web_piccolo_admin:create_app"
    async with UvicornServer("piccolo_admin", app, "/public/meta/", args.out) as server:
        cookies = [
            await login_piccolo_admin(server.base, "piccolo", PASSWORD) for _ in range(args.logins)
        ]
        query = urlencode({"__readable": "true", "__page": 1, "__page_size": args.admin_page_size})
        path = f"{LIST_PATH}?{query}"
        say(f"\nPiccolo Admin at {server.base} (uvicorn pid {server.pid}, 1 worker)")
        say(HEADER)
        return await load(args, "piccolo_list", server.base, path, cookies, server.pid)


def summarize(ours: dict[str, LoadResult], theirs: LoadResult) -> dict[str, Any]:
    ratio = ours["list"].rps / theirs.rps if theirs.rps else float("inf")
    ratio_ok = ratio >= RATIO_TARGET
    say("\nSummary")
    say(
        f"  list page {ours['list'].rps:.1f} req/s vs Piccolo Admin list {theirs.rps:.1f} req/s: "
        f"{ratio:.2f}x (target >= {RATIO_TARGET:.0f}x) {'PASS' if ratio_ok else 'FAIL'}"
    )
    p99: dict[str, bool] = {}
    for name, result in ours.items():
        p99[name] = result.errors == 0 and result.p99_ms <= P99_TARGET_MS
        say(
            f"  {name:<12} p99 {result.p99_ms:7.1f} ms (target <= {P99_TARGET_MS:.0f} ms), "
            f"{result.errors} errors: {'PASS' if p99[name] else 'FAIL'}"
        )
    verdict = ratio_ok and all(p99.values())
    say(f"  overall: {'PASS' if verdict else 'FAIL'}")
    return {"ratio": round(ratio, 2), "ratio_ok": ratio_ok, "p99_ok": p99, "pass": verdict}


def write_json(args: argparse.Namespace, figures: dict[str, Any]) -> None:
    if not args.json:
        return
    config = {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()}
    for key, value in figures.items():  # LoadResults, one or by page name
        if isinstance(value, LoadResult):
            figures[key] = value.as_dict()
        elif isinstance(value, dict) and all(isinstance(v, LoadResult) for v in value.values()):
            figures[key] = {k: v.as_dict() for k, v in value.items()}
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps({"config": config, **figures}, indent=2, default=str))
    say(f"Figures written to {args.json}")


async def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    settings = Settings.from_env()
    if not settings.database_url:
        raise SystemExit("error: DATABASE_URL is not set (run through tests/run.py --only-db)")
    args.out.mkdir(parents=True, exist_ok=True)
    load_avg = os.getloadavg()
    say(
        f"Web benchmark: {os.cpu_count()} CPUs, load average {load_avg[0]:.2f}, "
        f"{args.connections} connections x {args.duration:g} s (+{args.warmup:g} s warm-up), "
        f"{args.logins} signed-in session(s) per app"
    )
    if load_avg[0] > 1.0:
        say("  note: the machine is already busy; figures will be lower and noisier")
    facts = await prepare(args, settings)
    say(f"  PostgreSQL {facts['postgres']}; model page: {facts['model']!r}; "
        f"q={args.search!r} matches {facts['search_matches']:,} models")  # fmt: skip
    if args.before:
        compared = await web_compare.run(args, facts, PASSWORD)
        write_json(args, {"facts": facts, "load_average_at_start": load_avg, "compare": compared})
        return 0
    if args.scale:
        scaled = await web_scale.run(args, facts, settings.database_url)
        write_json(args, {"facts": facts, "load_average_at_start": load_avg, "scale": scaled})
        return 0
    ours, profiles, paths = await bench_ours(args, facts)
    theirs = await bench_piccolo_admin(args)
    verdict = summarize(ours, theirs)
    for profile in profiles:
        print_profile(profile)
    found = versions()
    say("\nVersions: " + ", ".join(f"{k} {v}" for k, v in found.items()))
    write_json(
        args,
        {
            "machine": {"cpus": os.cpu_count(), "load_average_at_start": load_avg},
            "facts": facts,
            "paths": paths,
            "ours": ours,
            "piccolo_admin": theirs,
            "targets": verdict,
            "profiles": {p.name: p.as_dict() for p in profiles},
            "versions": found,
        },
    )
    return 0


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
