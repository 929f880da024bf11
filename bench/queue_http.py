"""A signed-in admin over HTTP (start a sync from the dashboard) and the sync run it started,
followed through its sync_runs row until it ends."""

from __future__ import annotations

import asyncio
import re
import time
from dataclasses import dataclass
from typing import Any

import aiohttp
import asyncpg

from bench.web_server import CSRF_INPUT, login_ours

STATUS_ATTR = re.compile(r'data-status="([a-z_]+)"')


class Browser:
    """A signed-in admin: the session cookie and the CSRF token of the dashboard's forms."""

    def __init__(self, base: str, cookie: str, csrf: str) -> None:
        self.base, self.cookie, self.csrf = base, cookie, csrf

    @classmethod
    async def sign_in(cls, base: str, username: str, password: str) -> Browser:
        cookie = await login_ours(base, username, password)
        async with (
            aiohttp.ClientSession(headers={"Cookie": cookie}) as session,
            session.get(base + "/") as response,
        ):
            page = await response.text()
            if response.status != 200:
                raise RuntimeError(f"GET / after sign-in: HTTP {response.status}")
        found = CSRF_INPUT.search(page)
        if found is None:
            raise RuntimeError("no _csrf_token on the dashboard")
        return cls(base, cookie, found.group(1))

    async def start_sync(self) -> int:
        """POST /sync as the dashboard's "Sync now" does; returns the run id."""
        async with (
            aiohttp.ClientSession(headers={"Cookie": self.cookie}) as session,
            session.post(
                self.base + "/sync", data={"_csrf_token": self.csrf}, allow_redirects=False
            ) as response,
        ):
            text = await response.text()
            location = response.headers.get("Location", "")
        found = re.search(r"/sync-runs/(\d+)", location)
        if response.status != 303 or found is None:
            raise RuntimeError(f"POST /sync: HTTP {response.status} {location} {text[:300]}")
        return int(found.group(1))

    async def sync(self, conn: asyncpg.Connection) -> RunResult:
        """Start a sync from the dashboard and wait for its end (polling the database)."""
        posted = time.perf_counter()
        return await wait_run(conn, await self.start_sync(), posted)

    async def run_status(self, run_id: int) -> str | None:
        async with (
            aiohttp.ClientSession(headers={"Cookie": self.cookie}) as session,
            session.get(f"{self.base}/sync-runs/{run_id}", allow_redirects=False) as response,
        ):
            page = await response.text()
        if response.status != 200:
            return None
        found = STATUS_ATTR.search(page)
        return found.group(1) if found else None


@dataclass
class RunResult:
    run_id: int
    status: str
    seconds: float  # finished_at - started_at: queued to the end, from the row
    running_from: float  # perf_counter when the bench first saw it running
    running_to: float  # ...and first saw it finished
    row: dict[str, Any]
    parts: dict[str, int]  # owner (worker) -> parts done
    seen: dict[str, float]  # status/phase -> seconds after the POST when first seen

    @property
    def pickup(self) -> float:
        """Seconds from the POST until the row was first seen running (a worker took it)."""
        times = [t for k, t in self.seen.items() if k.startswith("running/")]
        return min(times) if times else float("nan")

    def timeline(self) -> str:
        return ", ".join(f"{k} {t:.2f}" for k, t in sorted(self.seen.items(), key=lambda x: x[1]))

    def describe(self) -> str:
        r = self.row
        return (
            f"run #{self.run_id} {self.status} in {self.seconds:.2f} s (queued -> end); "
            f"listed {r['keys_listed']:,} keys, models +{r['models_inserted']:,} "
            f"~{r['models_updated']:,}, media +{r['media_inserted']:,} ~{r['media_updated']:,}"
            + (f"; error: {r['error']}" if r.get("error") else "")
        )


async def wait_run(
    conn: asyncpg.Connection, run_id: int, posted: float, within: float = 1800.0
) -> RunResult:
    """Poll the sync_runs row every 100 ms until the run ends (`posted`: when POST /sync was
    sent, perf_counter)."""
    running_from = running_to = 0.0
    seen: dict[str, float] = {}
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        row = await conn.fetchrow("SELECT * FROM sync_runs WHERE id = $1", run_id)
        now = time.perf_counter()
        if row is not None:
            seen.setdefault(f"{row['status']}/{row['phase']}", now - posted)
        if row is not None and row["status"] == "running" and not running_from:
            running_from = now
        if row is not None and row["status"] not in ("queued", "running"):
            running_to = now
            running_from = running_from or now
            parts = await conn.fetch(
                "SELECT owner, COUNT(*) AS n FROM sync_parts WHERE run = $1 AND status = 'done' "
                "GROUP BY owner ORDER BY owner",
                run_id,
            )
            seconds = (row["finished_at"] - row["started_at"]).total_seconds()
            return RunResult(
                run_id,
                row["status"],
                seconds,
                running_from,
                running_to,
                dict(row),
                {p["owner"]: int(p["n"]) for p in parts},
                seen,
            )
        await asyncio.sleep(0.1)
    raise RuntimeError(f"sync run #{run_id} did not end within {within:.0f} s")
