"""A closed-loop HTTP load generator on aiohttp: N connections, each one request at a time.

Every connection sends its next request as soon as the previous response body is read. Only
requests that start after the warm-up and finish before the deadline are counted.
"""

from __future__ import annotations

import asyncio
import os
import time
from collections import Counter
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

CLOCK_TICK = os.sysconf("SC_CLK_TCK")


@dataclass
class LoadResult:
    name: str
    url: str
    requests: int = 0
    errors: int = 0
    seconds: float = 0.0
    rps: float = 0.0
    p50_ms: float = 0.0
    p90_ms: float = 0.0
    p99_ms: float = 0.0
    max_ms: float = 0.0
    mean_bytes: float = 0.0
    server_cpu_pct: float = 0.0  # of one core, over the measured window
    client_cpu_pct: float = 0.0
    host_busy_pct: float = 0.0  # all cores, everything on the machine
    error_kinds: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def percentile(sorted_values: list[float], fraction: float) -> float:
    if not sorted_values:
        return float("nan")
    index = min(len(sorted_values) - 1, max(0, round(fraction * len(sorted_values)) - 1))
    return sorted_values[index]


def process_cpu_seconds(pid: int) -> float:
    """utime + stime of a process, from /proc (0.0 if it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICK


def host_cpu() -> tuple[int, int]:
    """(busy, total) jiffies over all cores, from /proc/stat."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = values[3] + values[4]  # idle + iowait
    return sum(values) - idle, sum(values)


async def run_load(
    name: str,
    base_url: str,
    path: str,
    *,
    cookies: list[str],
    connections: int,
    duration: float,
    warmup: float,
    server_pid: int | None = None,
) -> LoadResult:
    """Hammer base_url+path from `connections` keep-alive connections; return the figures.

    Connection i sends cookies[i % len(cookies)]: one signed-in session, or one per connection.
    """
    url = base_url + path
    latencies: list[float] = []
    sizes: list[int] = []
    errors: Counter[str] = Counter()
    connector = aiohttp.TCPConnector(limit=connections, limit_per_host=connections)
    timeout = aiohttp.ClientTimeout(total=30)
    begin = time.perf_counter()
    measure_from = begin + warmup
    deadline = measure_from + duration
    marks: dict[str, float] = {}

    def snapshot(prefix: str) -> None:
        busy, total = host_cpu()
        marks.update(
            {
                f"{prefix}_server": process_cpu_seconds(server_pid) if server_pid else 0.0,
                f"{prefix}_client": time.process_time(),
                f"{prefix}_busy": busy,
                f"{prefix}_total": total,
                f"{prefix}_wall": time.perf_counter(),
            }
        )

    async def worker(session: aiohttp.ClientSession, cookie: str) -> None:
        headers = {"Cookie": cookie} if cookie else {}
        while True:
            started = time.perf_counter()
            if started >= deadline:
                return
            try:
                async with session.get(url, headers=headers, allow_redirects=False) as response:
                    body = await response.read()
                    status = response.status
            except (aiohttp.ClientError, TimeoutError) as exc:
                if started >= measure_from:
                    errors[type(exc).__name__] += 1
                continue
            finished = time.perf_counter()
            if started < measure_from or finished > deadline:
                continue
            if status != 200:
                errors[f"HTTP {status}"] += 1
                continue
            latencies.append(finished - started)
            sizes.append(len(body))

    async def meter() -> None:
        await asyncio.sleep(max(0.0, measure_from - time.perf_counter()))
        snapshot("start")
        await asyncio.sleep(max(0.0, deadline - time.perf_counter()))
        snapshot("end")

    async with aiohttp.ClientSession(
        connector=connector,
        timeout=timeout,
        cookie_jar=aiohttp.DummyCookieJar(),
    ) as session:
        workers = (worker(session, cookies[i % len(cookies)]) for i in range(connections))
        await asyncio.gather(meter(), *workers)
    wall = marks["end_wall"] - marks["start_wall"]
    latencies.sort()
    ms = [v * 1000 for v in latencies]
    busy = marks["end_busy"] - marks["start_busy"]
    total = marks["end_total"] - marks["start_total"]
    return LoadResult(
        name=name,
        url=path,
        requests=len(ms),
        errors=sum(errors.values()),
        seconds=round(wall, 2),
        rps=round(len(ms) / wall, 1) if wall else 0.0,
        p50_ms=round(percentile(ms, 0.50), 2),
        p90_ms=round(percentile(ms, 0.90), 2),
        p99_ms=round(percentile(ms, 0.99), 2),
        max_ms=round(ms[-1], 2) if ms else float("nan"),
        mean_bytes=round(sum(sizes) / len(sizes)) if sizes else 0.0,
        server_cpu_pct=round(100 * (marks["end_server"] - marks["start_server"]) / wall, 1),
        client_cpu_pct=round(100 * (marks["end_client"] - marks["start_client"]) / wall, 1),
        host_busy_pct=round(100 * busy / total, 1) if total else 0.0,
        error_kinds=dict(errors),
    )


HEADER = (
    f"  {'page':<14}{'req/s':>9}{'p50 ms':>9}{'p90 ms':>9}{'p99 ms':>9}{'max ms':>9}"
    f"{'errors':>8}{'KB':>7}{'srv CPU':>9}{'cli CPU':>9}{'host':>7}"
)


def row(r: LoadResult) -> str:
    return (
        f"  {r.name:<14}{r.rps:>9.1f}{r.p50_ms:>9.1f}{r.p90_ms:>9.1f}{r.p99_ms:>9.1f}"
        f"{r.max_ms:>9.1f}{r.errors:>8}{r.mean_bytes / 1024:>7.1f}{r.server_cpu_pct:>8.0f}%"
        f"{r.client_cpu_pct:>8.0f}%{r.host_busy_pct:>6.0f}%"
        + (f"  {r.error_kinds}" if r.error_kinds else "")
    )
