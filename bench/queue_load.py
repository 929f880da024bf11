"""What the queue benches measure around the app: CPU by process group (and what the rest of
a shared machine used), the load average, and /staged latency under an open-loop sampler."""

from __future__ import annotations

import asyncio
import contextlib
import os
import time
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from bench.measure import ServerCpu, _ppid, _proc_cpu
from bench.web_load import host_cpu, percentile

CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1


def load() -> tuple[float, float, float]:
    return os.getloadavg()


def fmt_load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


def children(pid: int) -> list[int]:
    out = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and _ppid(entry.name) == pid:
            out.append(int(entry.name))
    return out


@dataclass
class CpuMark:
    wall: float
    host_busy: float  # seconds of busy CPU on the whole machine, all cores
    groups: dict[str, float]


class CpuMeter:
    """CPU seconds by process group (web, workers, PostgreSQL, store, this bench) and what
    the rest of the machine (other users of a shared box) used meanwhile."""

    def __init__(self, pg: ServerCpu, store_pid: int) -> None:
        self.pg = pg
        self.store_pid = store_pid
        self.app_pid: int | None = None
        self._workers: dict[int, float] = {}  # worker pid -> CPU at last sight (outlives it)

    def mark(self) -> CpuMark:
        busy, _ = host_cpu()
        groups = {
            "store": _proc_cpu(self.store_pid),
            "bench": time.process_time(),
            "postgres": self.pg.seconds() or 0.0,
            "web": 0.0,
            "workers": 0.0,
        }
        if self.app_pid is not None:
            groups["web"] = _proc_cpu(self.app_pid)
            for pid in children(self.app_pid):
                self._workers[pid] = max(self._workers.get(pid, 0.0), _proc_cpu(pid))
        groups["workers"] = sum(self._workers.values())
        return CpuMark(time.perf_counter(), busy / CLK_TCK, groups)

    def use(self, start: CpuMark, end: CpuMark) -> dict[str, float]:
        wall = max(end.wall - start.wall, 1e-9)
        used = {k: end.groups[k] - start.groups.get(k, 0.0) for k in end.groups}
        ours = sum(used.values())
        host = end.host_busy - start.host_busy
        used["others"] = max(0.0, host - ours)
        used["host_busy_pct"] = 100 * host / (wall * CORES)
        used["wall"] = wall
        return used


def fmt_cpu(used: dict[str, float]) -> str:
    names = ("web", "workers", "postgres", "store", "bench", "others")
    parts = [f"{n} {used[n]:.1f}" for n in names if n in used]
    return (
        f"CPU s: {', '.join(parts)} (over {used['wall']:.1f} s wall; host "
        f"{used['host_busy_pct']:.0f}% busy of {CORES} cores)"
    )


@dataclass
class Sample:
    start: float
    end: float
    ok: bool


@dataclass
class Latency:
    name: str
    requests: int = 0
    errors: int = 0
    p50: float = float("nan")
    p95: float = float("nan")
    p99: float = float("nan")
    max: float = float("nan")
    seconds: float = 0.0
    load1: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)
    note: str = ""

    @classmethod
    def of(cls, name: str, samples: list[Sample], lo: float, hi: float) -> Latency:
        inside = [s for s in samples if s.start >= lo and s.end <= hi]
        ms = sorted(1000 * (s.end - s.start) for s in inside if s.ok)
        return cls(
            name,
            requests=len(ms),
            errors=sum(1 for s in inside if not s.ok),
            p50=percentile(ms, 0.50),
            p95=percentile(ms, 0.95),
            p99=percentile(ms, 0.99),
            max=ms[-1] if ms else float("nan"),
            seconds=hi - lo,
        )


class Sampler:
    """Open loop: one GET every 1/rate seconds whatever the answers' speed (no coordinated
    omission), over keep-alive connections; each request's start and end are kept."""

    def __init__(self, base: str, path: str, cookie: str, rate: float) -> None:
        self.url = base + path
        self.cookie = cookie
        self.rate = rate
        self.samples: list[Sample] = []
        self._stop = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    async def __aenter__(self) -> Sampler:
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc: object) -> None:
        self._stop.set()
        assert self._task is not None
        await self._task

    async def _run(self) -> None:
        connector = aiohttp.TCPConnector(limit=64)
        timeout = aiohttp.ClientTimeout(total=60)
        pending: set[asyncio.Task[None]] = set()
        async with aiohttp.ClientSession(
            connector=connector, timeout=timeout, headers={"Cookie": self.cookie}
        ) as session:

            async def one() -> None:
                start = time.perf_counter()
                ok = False
                try:
                    async with session.get(self.url, allow_redirects=False) as response:
                        await response.read()
                        ok = response.status == 200
                except (aiohttp.ClientError, TimeoutError):
                    ok = False
                self.samples.append(Sample(start, time.perf_counter(), ok))

            interval = 1.0 / self.rate
            due = time.perf_counter()
            while not self._stop.is_set():
                task = asyncio.create_task(one())
                pending.add(task)
                task.add_done_callback(pending.discard)
                due += interval
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._stop.wait(), max(0.0, due - time.perf_counter()))
            if pending:
                await asyncio.gather(*pending)
