"""The web benchmark's scale mode (`--scale`): every page on ONE keep-alive connection.

    make bench-web ARGS="--scale --models 1000000 --production 1000000 --media-per-post 1"

Serves the app as the default run does (uvicorn, one worker, moto S3, the seeded PostgreSQL)
and loads, one after another and one request at a time: the staged list, a deep staged page
(followed by its "Next" links), a search, the staged model page, the production list, and the
public API's models (20 a page): its first page, the page holding the `--deep-rows`th model and
the middle page of all public models, asked by its number and by the `after` cursor of the page
before it. Prints p50, p99 and req/s per row, and PASS when p50 is at
most 10 ms (issue 24). Then, for every row that failed, requests the page again on a fresh server
whose database connections run PostgreSQL's auto_explain, and prints the plan (EXPLAIN ANALYZE,
with buffers) of every statement of that request that took `--explain-ms` or longer.
"""

from __future__ import annotations

import argparse
import contextlib
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote, urlencode

import asyncpg

from bench.moto_e2e import moto_server
from bench.web_load import LoadResult, run_load
from bench.web_server import UvicornServer, deep_path, fetch_once, login_ours
from domain.platform.s3 import S3Service

P50_TARGET_MS = 10.0
API_PAGE = 20
EXPLAIN = {  # per database, for new connections: what auto_explain logs and how
    "session_preload_libraries": "auto_explain",
    "auto_explain.log_analyze": "on",
    "auto_explain.log_buffers": "on",
    "auto_explain.log_timing": "on",
}


@dataclass(frozen=True)
class Target:
    name: str
    path: str
    public: bool = False  # sent without the admin session, as the public site would


def say(text: str = "") -> None:
    print(text, flush=True)


def load_targets(facts: dict[str, Any], search: str, deep: str) -> list[Target]:
    """The pages the default run loads under 32 connections (and `--before` on both commits)."""
    return [
        Target("list", "/staged"),
        Target("deep", deep),
        Target("search", "/staged?" + urlencode({"q": search})),
        Target("model", "/staged/" + quote(facts["model"], safe="")),
        Target("production", "/production"),
        Target("api_models", "/api/models", public=True),
    ]


def middle_page(facts: dict[str, Any]) -> int:
    return max(1, min(100_000, int(facts.get("public_models", 0)) // API_PAGE // 2))


async def cursor_before(base: str, page: int) -> str:
    """The `after` cursor that asks for public models' page `page` (meta.next of the one
    before), so the cursor row measures the same page as the page-number row."""
    if page == 1:
        return ""
    status, body = await fetch_once(base, "", f"/api/v1/models?page={page - 1}")
    cursor = json.loads(body)["meta"]["next"] if status == 200 else None
    if not cursor:
        raise RuntimeError(f"GET /api/v1/models?page={page - 1}: HTTP {status}, no meta.next")
    return f"?after={cursor}"


def targets(
    args: argparse.Namespace, facts: dict[str, Any], deep: str, after_middle: str
) -> list[Target]:
    middle = middle_page(facts)
    return [
        Target("staged_list", "/staged"),
        Target("staged_deep", deep),
        Target("staged_search", "/staged?" + urlencode({"q": args.search})),
        Target("staged_model", "/staged/" + quote(facts["model"], safe="")),
        Target("production_list", "/production"),
        Target("api_models", "/api/v1/models", public=True),
        Target("api_deep", f"/api/v1/models?page={args.deep_rows // API_PAGE + 1}", public=True),
        Target("api_middle", f"/api/v1/models?page={middle}", public=True),
        Target("api_mid_after", f"/api/v1/models{after_middle}", public=True),
    ]


HEADER = f"  {'page':<16}{'req/s':>8}{'p50 ms':>9}{'p99 ms':>9}{'max ms':>9}{'errors':>8}  p50<=10"


def line(r: LoadResult) -> str:
    verdict = "PASS" if passed(r) else "FAIL"
    return (
        f"  {r.name:<16}{r.rps:>8.1f}{r.p50_ms:>9.2f}{r.p99_ms:>9.2f}{r.max_ms:>9.1f}"
        f"{r.errors:>8}  {verdict}" + (f"  {r.error_kinds}" if r.error_kinds else "")
    )


def passed(r: LoadResult) -> bool:
    return r.errors == 0 and r.p50_ms <= P50_TARGET_MS


@contextlib.asynccontextmanager
async def bucket_env() -> AsyncIterator[dict[str, str]]:
    """moto with an empty bucket (the pages sign media URLs: they need one), as the app's env."""
    with moto_server() as s3_settings:
        async with S3Service(s3_settings) as s3:
            await s3.create_bucket()
        yield {
            "DO_SPACES_ENDPOINT": s3_settings.endpoint,
            "DO_SPACES_KEY": s3_settings.key,
            "DO_SPACES_SECRET": s3_settings.secret,
            "DO_SPACES_BUCKET": s3_settings.bucket,
        }


async def run(
    args: argparse.Namespace, facts: dict[str, Any], database_url: str
) -> dict[str, LoadResult]:
    """Measure every target on one connection; explain the ones that miss the p50 target."""
    async with bucket_env() as env:
        results, chosen = await _measure(args, facts, env)
        failed = [t for t in chosen if not passed(results[t.name])]
        if failed and args.explain_ms >= 0:
            await _explain(args, env, failed, database_url)
    return results


async def _measure(
    args: argparse.Namespace, facts: dict[str, Any], env: dict[str, str]
) -> tuple[dict[str, LoadResult], list[Target]]:
    results: dict[str, LoadResult] = {}
    async with UvicornServer("creatorflix", args.app, "/healthz", args.out, env) as server:
        cookie = await login_ours(server.base, "bench", args.password)
        deep = await deep_path(server.base, cookie, "/staged", args.deep_rows, 25)
        after_middle = await cursor_before(server.base, middle_page(facts))
        chosen = targets(args, facts, deep, after_middle)
        say(f"\nScale mode: {server.base}, uvicorn pid {server.pid}, 1 worker, ONE connection, "
            f"{args.duration:g} s a page (+{args.warmup:g} s warm-up)")  # fmt: skip
        for t in chosen:
            say(f"  {t.name:<16} GET {t.path}" + ("  (no cookie)" if t.public else ""))
        say(HEADER)
        for t in chosen:
            sent = "" if t.public else cookie
            status, _ = await fetch_once(server.base, sent, t.path)
            if status != 200:
                raise RuntimeError(f"{t.name}: GET {t.path} answered HTTP {status}")
            results[t.name] = await run_load(
                t.name, server.base, t.path, cookies=[sent], connections=1,
                duration=args.duration, warmup=args.warmup, server_pid=server.pid,
            )  # fmt: skip
            say(line(results[t.name]))
    by_number, by_cursor = results["api_middle"], results["api_mid_after"]
    say(f"  the middle API page by its number vs by its cursor, p50: {by_number.p50_ms:.2f} ms vs "
        f"{by_cursor.p50_ms:.2f} ms ({by_number.p50_ms / by_cursor.p50_ms:.1f}x)")  # fmt: skip
    passing = [n for n, r in results.items() if passed(r)]
    say(f"  p50 <= {P50_TARGET_MS:g} ms on one connection: {len(passing)} of {len(results)} pass")
    return results, chosen


async def _explain(
    args: argparse.Namespace, env: dict[str, str], failed: list[Target], database_url: str
) -> None:
    say(
        f"\nPlans of each failing page's statements taking >= {args.explain_ms:g} ms (auto_explain"
        ", a fresh server, the page requested twice: the second request's plans):"
    )
    admin = await asyncpg.connect(database_url)
    try:
        database = await admin.fetchval("SELECT current_database()")
        settings = {**EXPLAIN, "auto_explain.log_min_duration": f"{args.explain_ms:g}ms"}
        for name, value in settings.items():
            await admin.execute(f"ALTER DATABASE \"{database}\" SET {name} = '{value}'")
        async with UvicornServer("creatorflix_explain", args.app, "/healthz", args.out, env) as s:
            cookie = await login_ours(s.base, "bench", args.password)
            for t in failed:
                await fetch_once(s.base, "" if t.public else cookie, t.path)
                start = await _log_size(admin)
                await fetch_once(s.base, "" if t.public else cookie, t.path)
                say(f"\n--- {t.name}: GET {t.path}")
                say(await _log_since(admin, start) or "  (no statement over the threshold)")
    finally:
        for name in (*EXPLAIN, "auto_explain.log_min_duration"):
            await admin.execute(f'ALTER DATABASE "{database}" RESET {name}')
        await admin.close()


LOG = "current_setting('data_directory') || '/../log'"  # where tests/run.py's server logs


async def _log_size(conn: asyncpg.Connection) -> int:
    return int(await conn.fetchval(f"SELECT (pg_stat_file({LOG})).size"))


async def _log_since(conn: asyncpg.Connection, start: int) -> str:
    size = await _log_size(conn)
    text = await conn.fetchval(f"SELECT pg_read_file({LOG}, $1, $2)", start, size - start)
    return str(text).rstrip()
