"""Mixed load on one app process while a 50k-key sync runs: list pages, model pages, the public
API and 20 open progress streams at 64 connections. Reports errors, p99 per route and RSS."""

from __future__ import annotations

import asyncio
import re
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import aiohttp

from bench.moto_e2e import catalogue_for, moto_server, seed
from bench.web_load import percentile
from bench.web_server import UvicornServer, login_ours
from domain.accounts.admins import upsert_admin
from domain.platform import db
from domain.platform.embedded_pg import database_url
from domain.platform.settings import Settings
from harness.processes import ROOT

OUT = ROOT / "test-output"
USER, PASSWORD = "soak", "soak-password-1"
CSRF = re.compile(r'name="_csrf_token"\s+value="([^"]+)"')


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


async def prepare_database() -> None:
    engine = db.make_engine(database_url(Settings.from_env()))
    db.install_engine(engine)
    await db.start(engine)
    await db.migrate()
    await engine.run_ddl(
        "TRUNCATE whitelabel_models, whitelabel_posts, whitelabel_media, "
        "sync_runs, models, posts, audit_log, admin_sessions RESTART IDENTITY "
        "CASCADE"
    )
    await upsert_admin(USER, "soak@example.com", PASSWORD)
    await db.stop(engine)


class Soak:
    def __init__(self, base: str, cookie: str, deadline: float, warm_until: float) -> None:
        self.base, self.cookie = base, cookie
        self.deadline, self.warm_until = deadline, warm_until
        self.latencies: dict[str, list[float]] = defaultdict(list)
        self.errors: dict[str, int] = defaultdict(int)
        self.events = self.stream_errors = self.syncs = 0
        self.run_id: int | None = None
        self.first_sync_done = asyncio.Event()

    async def start_sync(self, session: aiohttp.ClientSession) -> int:
        async with session.get(self.base + "/sync-runs") as page:
            token = CSRF.search(await page.text())
        assert token is not None
        async with session.post(
            self.base + "/sync",
            data={"_csrf_token": token.group(1)},
            headers={"HX-Request": "true"},
        ) as response:
            text = await response.text()
        self.syncs += 1
        return int(text.split('data-run="')[1].split('"')[0])

    async def syncer(self, session: aiohttp.ClientSession) -> None:
        """Keep a sync running for the whole soak: start another when one ends."""
        while time.monotonic() < self.deadline:
            self.run_id = await self.start_sync(session)
            async with session.get(
                f"{self.base}/sync-runs/{self.run_id}/events",
                timeout=aiohttp.ClientTimeout(total=None),
            ) as stream:
                async for _ in stream.content:
                    if time.monotonic() > self.deadline:
                        return
            self.first_sync_done.set()

    async def stream(self, session: aiohttp.ClientSession) -> None:
        while time.monotonic() < self.deadline:
            if self.run_id is None:
                await asyncio.sleep(0.2)
                continue
            try:
                async with session.get(
                    f"{self.base}/sync-runs/{self.run_id}/events",
                    timeout=aiohttp.ClientTimeout(total=None),
                ) as response:
                    async for line in response.content:
                        if line.startswith(b"event:"):
                            self.events += 1
                        if time.monotonic() > self.deadline:
                            return
            except (aiohttp.ClientError, TimeoutError):
                self.stream_errors += 1
            await asyncio.sleep(0.1)

    async def client(
        self, session: aiohttp.ClientSession, routes: list[tuple[str, str]], offset: int
    ) -> None:
        i = offset
        while (started := time.monotonic()) < self.deadline:
            name, path = routes[i % len(routes)]
            i += 1
            try:
                async with session.get(self.base + path, allow_redirects=False) as response:
                    await response.read()
                    ok = response.status == 200
            except (aiohttp.ClientError, TimeoutError):
                ok = False
            if started < self.warm_until:
                continue
            if ok:
                self.latencies[name].append((time.monotonic() - started) * 1000)
            else:
                self.errors[name] += 1


async def run_soak(
    seconds: float = 300.0, connections: int = 64, streams: int = 20, keys: int = 50_000
) -> dict[str, Any]:
    OUT.mkdir(exist_ok=True)
    await prepare_database()
    with moto_server() as s3:
        written = seed(catalogue_for(keys, 20, 10), s3.bucket)
        env = {
            "DO_SPACES_ENDPOINT": s3.endpoint,
            "DO_SPACES_KEY": s3.key,
            "DO_SPACES_SECRET": s3.secret,
            "DO_SPACES_BUCKET": s3.bucket,
        }
        async with UvicornServer("soak", "app:create_app", "/healthz", OUT, env=env) as server:
            cookie = await login_ours(server.base, USER, PASSWORD)
            headers = {"Cookie": cookie}
            # Warm-up lasts until the first full sync ran under load (and at least 30 s), so
            # "RSS after warm-up" already holds what a sync needs at its peak.
            begin = time.monotonic()
            soak = Soak(server.base, cookie, float("inf"), float("inf"))
            connector = aiohttp.TCPConnector(limit=connections + streams + 4)
            async with aiohttp.ClientSession(connector=connector, headers=headers) as session:
                syncer = asyncio.create_task(soak.syncer(session))
                while soak.run_id is None:
                    await asyncio.sleep(0.1)
                routes = [
                    ("/staged", "/staged"),
                    ("/staged?sort=posts", "/staged?sort=posts&dir=desc&size=50"),
                    ("/staged?q=", "/staged?q=model%2000"),
                    ("/staged/{name}", "/staged/Model%2000001"),
                    ("/api/models", "/api/models"),
                    ("/", "/"),
                    ("/sync-runs", "/sync-runs"),
                ]
                tasks = [asyncio.create_task(soak.stream(session)) for _ in range(streams)]
                tasks += [
                    asyncio.create_task(soak.client(session, routes, i)) for i in range(connections)
                ]
                await soak.first_sync_done.wait()
                await asyncio.sleep(max(0.0, begin + 30 - time.monotonic()))
                soak.warm_until = time.monotonic()
                soak.deadline = soak.warm_until + seconds
                rss_warm = rss_mb(server.pid)
                series: list[float] = []

                async def sample() -> None:
                    while time.monotonic() < soak.deadline:
                        series.append(rss_mb(server.pid))
                        await asyncio.sleep(seconds / 10)

                tasks.append(asyncio.create_task(sample()))
                await asyncio.gather(*tasks)
                rss_end = rss_mb(server.pid)
                syncer.cancel()
    return {
        "seconds": seconds,
        "connections": connections,
        "streams": streams,
        "keys": written,
        "syncs": soak.syncs,
        "events": soak.events,
        "stream_errors": soak.stream_errors,
        "warmup_s": soak.warm_until - begin,
        "rss_warm_mb": rss_warm,
        "rss_series_mb": series,
        "rss_end_mb": rss_end,
        "rss_growth_pct": (rss_end - rss_warm) / rss_warm * 100 if rss_warm else 0.0,
        "routes": [
            {
                "name": name,
                "requests": len(values),
                "errors": soak.errors[name],
                "rps": len(values) / seconds,
                "p50_ms": percentile(sorted(values), 0.5),
                "p99_ms": percentile(sorted(values), 0.99),
            }
            for name, values in sorted(soak.latencies.items())
        ],
    }


if __name__ == "__main__":
    import json
    import sys

    duration = float(sys.argv[1]) if len(sys.argv) > 1 else 60.0
    print(json.dumps(asyncio.run(run_soak(seconds=duration)), indent=2))
