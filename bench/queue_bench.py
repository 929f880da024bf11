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
import contextlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp
import asyncpg

from bench.measure import ServerCpu, _ppid, _proc_cpu, reset_tables, table_counts
from bench.report import say
from bench.store import StoreProcess
from bench.web_load import host_cpu, percentile
from bench.web_server import CSRF_INPUT, ROOT, free_port, login_ours
from domain.accounts.admins import upsert_admin
from domain.platform import db

USER, PASSWORD = "bench", "bench-password-123"
DEMO_USER, DEMO_PASSWORD = "admin", "creatorflix-demo"
LATENCY_TARGET = 1.5
SPEEDUP_TARGET = 1.5
CLK_TCK = os.sysconf("SC_CLK_TCK")
CORES = os.cpu_count() or 1
STATUS_ATTR = re.compile(r'data-status="([a-z_]+)"')
APP_ENV_DROP = ("DATABASE_URL", "TEST_DATABASE_URL", "SECRET_KEY", "WORKERS", "PORT", "DATA_DIR")


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    p = argparse.ArgumentParser(
        prog="python -m bench.queue_bench",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--models", type=int, default=5_000, help="model folders in the bucket")
    p.add_argument("--posts", type=int, default=10, help="posts per model")
    p.add_argument("--media", type=int, default=2, help="media per post")
    p.add_argument("--delay", type=float, default=0.05, help="store's seconds per request")
    p.add_argument("--rate", type=float, default=20.0, help="page requests per second")
    p.add_argument("--idle-seconds", type=float, default=15.0, help="idle sampling window")
    p.add_argument("--path", default="/staged", help="the page measured in (a)")
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
    p.add_argument(
        "--app-env",
        action="append",
        default=[],
        metavar="NAME=VALUE",
        help="(a, b) experiment: extra environment for python -m app, e.g. SYNC_CONCURRENCY=4",
    )
    p.add_argument("--no-check", action="store_true", help="skip the store's listing self-check")
    p.add_argument("--quick", action="store_true", help="shorter idle window, no self-check")
    p.add_argument("--out", type=Path, default=ROOT / "test-output" / "queue-bench")
    p.add_argument("--json", type=Path, default=None, help="also write the figures here")
    args = p.parse_args(argv)
    args.phases = [x.strip() for x in args.phases.split(",") if x.strip()]
    if any("=" not in item for item in args.app_env):
        p.error("--app-env takes NAME=VALUE")
    args.app_env = dict(item.split("=", 1) for item in args.app_env)
    if set(args.phases) - {"a", "b", "c"}:
        p.error("--phases takes a, b and c")
    if args.quick:
        args.idle_seconds = min(args.idle_seconds, 6.0)
        args.no_check = True
    return args


def load() -> tuple[float, float, float]:
    return os.getloadavg()


def fmt_load(values: tuple[float, float, float]) -> str:
    return "/".join(f"{v:.2f}" for v in values)


# ---------------------------------------------------------------- CPU accounting


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


# ---------------------------------------------------------------- processes


class AppProcess:
    """`python -m app` (web + WORKERS worker processes) in a session of its own."""

    def __init__(self, env: dict[str, str], log_path: Path) -> None:
        self.env = env
        self.port = int(env["PORT"])
        self.base = f"http://127.0.0.1:{self.port}"
        self.log_path = log_path
        self.proc: subprocess.Popen[bytes] | None = None
        self.started = 0.0

    @property
    def pid(self) -> int:
        assert self.proc is not None
        return self.proc.pid

    def start(self) -> AppProcess:
        with self.log_path.open("wb") as log:
            self.started = time.perf_counter()
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "app"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,
            )
        return self

    async def wait_ready(self, within: float = 180.0, interval: float = 0.1) -> float:
        """Seconds from the start until GET /login first answers 200."""
        deadline = time.monotonic() + within
        timeout = aiohttp.ClientTimeout(total=5)
        async with aiohttp.ClientSession(timeout=timeout) as session:
            while time.monotonic() < deadline:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(
                        f"python -m app exited ({self.proc.returncode}); log:\n"
                        + self.log_path.read_text(errors="replace")[-3000:]
                    )
                with contextlib.suppress(aiohttp.ClientError, TimeoutError):
                    async with session.get(self.base + "/login") as response:
                        await response.read()
                        if response.status == 200:
                            return time.perf_counter() - self.started
                await asyncio.sleep(interval)
        raise RuntimeError(f"python -m app not ready after {within} s; see {self.log_path}")

    def stop(self, timeout: float = 40.0) -> None:
        """SIGTERM (the app stops its workers and embedded services), then the whole group."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                say(f"  (python -m app did not stop in {timeout:.0f} s; killing its group)")
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(self.proc.pid, signal.SIGKILL)  # leftovers of the group we started
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.proc.wait(5)


def app_env(**extra: str) -> dict[str, str]:
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in APP_ENV_DROP and not k.startswith(("DO_SPACES_", "SYNC_", "EMBEDDED_"))
    }
    env.update(extra)
    return env


def bucket_env(
    store: StoreProcess, workers: int, data_dir: Path, extra: dict[str, str] | None = None
) -> dict[str, str]:
    env = app_env(
        DATABASE_URL=os.environ["DATABASE_URL"],
        DO_SPACES_ENDPOINT=store.endpoint,
        DO_SPACES_REGION="us-east-1",
        DO_SPACES_KEY="bench",
        DO_SPACES_SECRET="bench-secret",
        DO_SPACES_BUCKET=str(store.info["bucket"]),
        SECRET_KEY="q" * 64,
        WORKERS=str(workers),
        PORT=str(free_port()),
        EMBEDDED_S3_PORT=str(free_port()),
        DATA_DIR=str(data_dir),
        MEDIA_PREVIEWS="off",  # the store serves listings, not files: syncs are measured
    )
    env.update(extra or {})
    return env


# ---------------------------------------------------------------- HTTP: sign in, start a sync


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


# ---------------------------------------------------------------- the page sampler


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


# ---------------------------------------------------------------- runs in the database


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


async def prepare_database(url: str) -> None:
    """Migrate (as the app would at start) and create the bench admin, from this process."""
    engine = db.make_engine(url)
    db.install_engine(engine)
    await db.start(engine, pool_size=2)
    try:
        await db.migrate()
        await upsert_admin(USER, "bench@example.com", PASSWORD)
    finally:
        await db.stop(engine)


# ---------------------------------------------------------------- the phases


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


async def fresh_tables(conn: asyncpg.Connection) -> None:
    await reset_tables(conn)
    await conn.execute("DELETE FROM procrastinate_jobs WHERE status IN ('todo', 'doing')")


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


# ---------------------------------------------------------------- the table


def fmt_ms(value: float) -> str:
    return "-" if value != value else f"{value:,.1f}"


def verdict(ok: bool | None) -> str:
    return {True: "met", False: "MISSED", None: "-"}[ok]


def print_table(ctx: Ctx) -> None:
    args, f = ctx.args, ctx.figures
    store = ctx.store.info
    say("\n" + "=" * 100)
    say(
        f"QUEUE BENCHMARK  {datetime.now():%Y-%m-%d %H:%M}  {CORES} cores  bucket "
        f"{store['keys']:,} keys ({args.models:,} models x {args.posts} posts x {args.media} "
        f"media + 3 profile keys each), store delay {1000 * args.delay:.0f} ms/request"
    )
    say("=" * 100)
    if "a" in f:
        a = f["a"]
        nice = f", workers reniced to {args.nice_workers}" if args.nice_workers else ""
        nice += "".join(f", {k}={v}" for k, v in args.app_env.items())
        say(
            f"a. GET {args.path} at {args.rate:g} req/s (open loop), python -m app, WORKERS=1"
            + nice
        )
        say(
            f"   {'window':<42} {'reqs':>5} {'err':>3} {'p50 ms':>7} {'p95 ms':>7} "
            f"{'p99 ms':>7} {'max ms':>7} {'secs':>6} {'web ms/req':>10} {'others':>6} "
            f"{'load1':>5}"
        )
        for r in a["rows"]:
            c = r["cpu"]
            web_ms = 1000 * c["web"] / max(1, r["requests"])
            others = 100 * c["others"] / (c["wall"] * CORES)
            say(
                f"   {r['name']:<42} {r['requests']:>5} {r['errors']:>3} {fmt_ms(r['p50']):>7} "
                f"{fmt_ms(r['p95']):>7} {fmt_ms(r['p99']):>7} {fmt_ms(r['max']):>7} "
                f"{r['seconds']:>6.1f} {web_ms:>10.1f} {others:>5.0f}% {r['load1']:>5.2f}"
            )
        say("   (web ms/req: the web process's CPU per measured request; others: share of the")
        say("    machine's cores used by other processes than this benchmark's, over the window)")
        for name, ratio in a["ratios"].items():
            say(
                f"   p95 {name} / p95 idle: {ratio:.2f}x   target <= {LATENCY_TARGET}x   "
                f"{verdict(ratio <= LATENCY_TARGET)}"
            )
        say(
            f"   syncs: first {a['first_sync']['seconds']:.1f} s, unchanged re-sync "
            f"{a['resync_seconds']:.1f} s, changed re-sync {a['changed_resync_seconds']:.1f} s"
        )
    if "b" in f:
        b = f["b"]
        say("b. full first sync, queued -> succeeded (sync_runs row), fresh tables, same bucket")
        say(
            f"   {'WORKERS':<8} {'seconds':>8} {'keys/s':>8} {'pickup':>6} {'parts':<8} "
            f"{'workers':>8} {'us/key':>6} {'pg':>5} {'store':>5} {'web':>4} {'others':>7} "
            f"{'load1':>6}"
        )
        for w in ("1", "2"):
            for run in b[w]:
                c = run["cpu"]
                parts = "/".join(str(n) for n in run["parts"].values())
                keys = run["keys_listed"] / run["seconds"] if run["seconds"] else 0.0
                per_key = 1e6 * c["workers"] / max(1, run["keys_listed"])
                say(
                    f"   {w:<8} {run['seconds']:>8.2f} {keys:>8,.0f} {run['pickup']:>6.2f} "
                    f"{parts:<8} {c['workers']:>8.1f} {per_key:>6.0f} {c['postgres']:>5.1f} "
                    f"{c['store']:>5.1f} {c['web']:>4.1f} {c['others']:>7.1f} {c['load1']:>6.2f}"
                )
        one = min(r["seconds"] for r in b["1"])
        two = min(r["seconds"] for r in b["2"])
        speedup = one / two if two else float("nan")
        f["b_speedup"] = speedup
        best = " (best of each)" if args.rounds > 1 else ""
        say(
            f"   speed-up WORKERS=2 / WORKERS=1{best}: {speedup:.2f}x   target >= "
            f"{SPEEDUP_TARGET}x   {verdict(speedup >= SPEEDUP_TARGET)}"
        )
        say("   (pickup: s from POST /sync to the row running; parts: parts done by each worker")
        say("    process; workers/pg/store/web/others: CPU s used during the sync by each group,")
        say("    'others' = the rest of this shared machine; us/key: worker CPU per key listed)")
    if "c" in f:
        c = f["c"]
        say("c. cold start, empty environment (embedded PostgreSQL + S3, fresh DATA_DIR)")
        say(
            f"   python -m app -> first 200 of /login: {c.get('login_200_s', float('nan')):>7.2f} s"
        )
        say(
            f"   python -m app -> demo run #1 {c.get('demo_sync_status')}: "
            f"{c.get('demo_sync_s', float('nan')):>7.2f} s"
        )
    say("machine load (os.getloadavg 1/5/15 min) as each phase ended:")
    for label, value in ctx.loads:
        say(f"   {label:<44} {fmt_load(value)}")
    say("=" * 100)


async def main_async(args: argparse.Namespace) -> None:
    url = os.environ.get("DATABASE_URL")
    if not url:
        raise SystemExit("DATABASE_URL is not set: run through `make bench-queue`")
    args.out.mkdir(parents=True, exist_ok=True)
    say(f"queue benchmark: load average {fmt_load(load())} on {CORES} cores at start")
    store = StoreProcess(args, args.out / "store.log")
    info = store.start()
    say(
        f"store: {info['keys']:,} keys at {info['endpoint']} (built in {info['build_seconds']} s), "
        f"{1000 * args.delay:.0f} ms a request"
    )
    conn: asyncpg.Connection | None = None
    try:
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
        await prepare_database(url)
        conn = await asyncpg.connect(url)
        ctx = Ctx(args, conn, store, CpuMeter(await ServerCpu.find(conn), store.proc.pid))  # type: ignore[union-attr]
        ctx.note_load("start")
        for phase in args.phases:
            await {"a": phase_a, "b": phase_b, "c": phase_c}[phase](ctx)
        print_table(ctx)
        if args.json:
            args.json.write_text(
                json.dumps({"figures": ctx.figures, "loads": ctx.loads}, indent=2, default=str)
            )
    finally:
        if conn is not None:
            await conn.close()
        store.stop()


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
