"""Pages first on one box: GET /staged while a dashboard-started first sync runs, with the
worker at the web's CPU priority and at WORKER_NICE=idle (the default: nice 19 in Linux's idle
scheduling class) below it (--modes: any values), side by side in one run.

    make bench-pages                                   # 3,000 models x 32 posts x 2 media:
                                                       # 201,000 keys, 50 ms a request
    make bench-pages ARGS="--models 500 --idle-seconds 6"   # a quicker, smaller run
    make bench-pages ARGS="--modes 0,10,idle --rounds 2"    # three modes, each twice

The machinery is bench/queue_bench.py's phase a: `python -m app` (web + WORKERS worker
processes) on DATABASE_URL, bench/store.py as the bucket, an open-loop sampler of the page at
--rate req/s, the run's own row for its duration. For each mode (--modes, the first the
reference; --rounds > 1 alternates the order): fresh tables, the app started with WORKER_NICE,
a first sync from the dashboard with the page sampled while it runs, then the page sampled idle
on the synced tables. Prints p95 idle, p95 during, their ratio, the sync's seconds, the ratio
of sync durations, CPU by process group and the machine's load. Asserts nothing.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import asyncpg

from bench import args as cli
from bench.queue_app import PASSWORD as BENCH_PASSWORD
from bench.queue_app import (
    USER,
    AppProcess,
    bucket_env,
    database_url,
    fresh_tables,
    measured_database,
    start_store,
)
from bench.queue_http import Browser
from bench.queue_load import CORES, CpuMeter, Latency, Sampler, children, fmt_cpu, fmt_load
from bench.queue_table import fmt_ms
from bench.report import say
from bench.store import StoreProcess
from harness.processes import ROOT

RATIO_TARGET = 2.0  # p95 during the sync / p95 idle
SLOWER_TARGET = 1.15  # sync seconds lowered / sync seconds at the web's priority


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    prog, bucket = "python -m bench.pages_first", (3_000, 32, 2)
    p = cli.sampling_parser(prog, __doc__, bucket, "the page measured")
    p.add_argument("--workers", type=int, default=1, help="WORKERS for python -m app")
    p.add_argument(
        "--modes",
        type=_modes,
        default=["0", "idle"],
        help="WORKER_NICE values to compare, the first as the reference (default 0,idle)",
    )
    p.add_argument("--rounds", type=int, default=1, help="syncs per mode, order alternating")
    cli.add_app_env(p, "extra environment for python -m app in both modes")
    p.add_argument("--out", type=Path, default=ROOT / "test-output" / "pages-first")
    return cli.parse(p, argv)


def _modes(raw: str) -> list[str]:
    modes = [m.strip().lower() for m in raw.split(",") if m.strip()]
    bad = [m for m in modes if not (m == "idle" or (m.isdigit() and int(m) <= 19))]
    if len(modes) < 2 or bad:
        raise argparse.ArgumentTypeError(
            f"--modes {raw!r}: give two or more WORKER_NICE values (0 to 19 or idle), e.g. 0,idle"
        )
    return modes


@dataclass
class Round:
    nice: str  # the WORKER_NICE of this round
    worker_nice: list[str]  # as read from /proc for each worker process of the app
    idle: Latency
    during: Latency
    sync_seconds: float
    status: str
    keys: int
    load: tuple[float, float, float] = (0.0, 0.0, 0.0)

    @property
    def ratio(self) -> float:
        return self.during.p95 / self.idle.p95 if self.idle.p95 else float("nan")


@dataclass
class Bench:
    args: argparse.Namespace
    conn: asyncpg.Connection
    store: StoreProcess
    meter: CpuMeter
    rounds: list[Round] = field(default_factory=list)

    async def sample(self, app: AppProcess, cookie: str, name: str) -> Latency:
        """The page idle for --idle-seconds (after a second's warm-up)."""
        mark, waited = self.meter.mark(), run_delay(app.pid)
        async with Sampler(app.base, self.args.path, cookie, self.args.rate) as sampler:
            lo = time.perf_counter() + 1.0
            await asyncio.sleep(1.0 + self.args.idle_seconds)
            hi = time.perf_counter()
        result = Latency.of(name, sampler.samples, lo, hi)
        result.cpu = self.meter.use(mark, self.meter.mark())
        result.cpu["web_waited"] = run_delay(app.pid) - waited
        return result

    async def one(self, nice: str) -> Round:
        args = self.args
        await fresh_tables(self.conn)
        await self.conn.execute("VACUUM ANALYZE whitelabel_models, whitelabel_posts")
        await self.conn.execute("DELETE FROM procrastinate_workers")  # the last mode's, if left
        data_dir = Path(f"{args.out}/data-{nice}")
        extra = {**args.app_env, "WORKER_NICE": nice}
        env = bucket_env(self.store, args.workers, data_dir, extra)
        app = AppProcess(env, args.out / f"app-nice{nice}.log").start()
        self.meter.app_pid = app.pid
        try:
            await app.wait_ready()
            await started(self.conn, args.workers)
            browser = await Browser.sign_in(app.base, USER, BENCH_PASSWORD)
            mark, waited = self.meter.mark(), run_delay(app.pid)
            async with Sampler(app.base, args.path, browser.cookie, args.rate) as sampler:
                run = await browser.sync(self.conn)
            workers = [nice_of(pid) for pid in children(app.pid)]  # they have run the sync
            during = Latency.of("during", sampler.samples, run.running_from, run.running_to)
            during.cpu = self.meter.use(mark, self.meter.mark())
            during.cpu["web_waited"] = run_delay(app.pid) - waited
            await asyncio.sleep(2.0)
            idle = await self.sample(app, browser.cookie, "idle")
        finally:
            app.stop()
            self.meter.app_pid = None
            shutil.rmtree(data_dir, ignore_errors=True)
        done = Round(nice, workers, idle, during, run.seconds, run.status, run.row["keys_listed"])
        done.load = os.getloadavg()
        say(
            f"worker nice {workers} (WORKER_NICE={nice}): {run.describe()}\n"
            f"  during: p95 {fmt_ms(during.p95)} ms over {during.requests} requests "
            f"({during.errors} errors); {fmt_cpu(during.cpu)}; {fmt_wait(during)}\n"
            f"  idle:   p95 {fmt_ms(idle.p95)} ms over {idle.requests} requests "
            f"({idle.errors} errors); {fmt_cpu(idle.cpu)}; {fmt_wait(idle)}\n"
            f"  load {fmt_load(done.load)}"
        )
        return done


async def started(conn: asyncpg.Connection, count: int, within: float = 120.0) -> None:
    """Until `count` workers have registered with the queue (the page answers before they do)."""
    deadline = time.monotonic() + within
    seen = 0
    while time.monotonic() < deadline:
        seen = int(
            await conn.fetchval(
                "SELECT COUNT(*) FROM procrastinate_workers "
                "WHERE last_heartbeat > now() - interval '5 seconds'"
            )
        )
        if seen >= count:
            return
        await asyncio.sleep(0.1)
    raise RuntimeError(f"{count} worker(s) did not register within {within:.0f} s (saw {seen})")


def run_delay(pid: int) -> float:
    """Seconds the process's threads have waited for a core so far (/proc schedstat)."""
    total = 0
    for task in Path(f"/proc/{pid}/task").glob("*"):
        try:
            total += int((task / "schedstat").read_text().split()[1])
        except (OSError, IndexError, ValueError):
            continue  # a thread that ended
    return total / 1e9


def fmt_wait(window: Latency) -> str:
    per_request = 1000 * window.cpu["web_waited"] / max(1, window.requests)
    return f"the web waited for a core {per_request:.1f} ms a request"


def nice_of(pid: int) -> str:
    """Fields 19 and 41 of /proc/PID/stat: the process's nice value, with "i" when its
    scheduling class is the idle one ("?" when it is gone)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return "?"
    return fields[16] + ("i" if int(fields[38]) == os.SCHED_IDLE else "")


def summary(bench: Bench) -> None:
    args = bench.args
    quiet = min(r.idle.p95 for r in bench.rounds)  # the strictest idle reference of the run
    say("\n" + "=" * 100)
    say(
        f"PAGES FIRST  {bench.store.info['keys']:,} keys ({args.models:,} models x {args.posts} "
        f"posts x {args.media} media + 3), store {1000 * args.delay:.0f} ms/request, WORKERS="
        f"{args.workers}, GET {args.path} at {args.rate:g} req/s (open loop), {CORES} cores"
    )
    say(
        f"  {'mode':<26} {'nice':>5} {'idle p95':>9} {'sync p95':>9} {'ratio':>7} "
        f"{'vs quiet':>8} {'sync s':>7} {'keys':>8} {'requests':>9} {'load1':>6}"
    )
    for r in bench.rounds:
        mode = f"WORKER_NICE={r.nice}" + (" (reference)" if r.nice == args.modes[0] else "")
        say(
            f"  {mode:<26} {'/'.join(map(str, r.worker_nice)):>5} {fmt_ms(r.idle.p95):>9} "
            f"{fmt_ms(r.during.p95):>9} {r.ratio:>6.2f}x {r.during.p95 / quiet:>7.2f}x "
            f"{r.sync_seconds:>7.1f} {r.keys:>8,} {f'{r.idle.requests}/{r.during.requests}':>9} "
            f"{r.load[0]:>6.2f}"
        )
    by = {n: [r for r in bench.rounds if r.nice == n] for n in args.modes}
    reference = args.modes[0]
    before = statistics.median(r.sync_seconds for r in by[reference])
    for label, key in (("its own idle", lambda r: r.ratio), ("the quietest idle", None)):
        for mode in args.modes:
            ratio = statistics.median(key(r) if key else r.during.p95 / quiet for r in by[mode])
            verdict = "met" if ratio <= RATIO_TARGET else "MISSED"
            say(
                f"  p95 during / {label}, WORKER_NICE={mode}: {ratio:.2f}x (target <= "
                f"{RATIO_TARGET:g}x) {verdict}"
            )
    for mode in args.modes[1:]:
        after = statistics.median(r.sync_seconds for r in by[mode])
        slower = after / before
        say(
            f"  sync seconds WORKER_NICE={mode} / WORKER_NICE={reference}: {after:.1f} / "
            f"{before:.1f} = {slower:.2f}x (target <= {SLOWER_TARGET:g}x) "
            + ("met" if slower <= SLOWER_TARGET else "MISSED")
        )
    say("  (medians over rounds; ms; nice: the workers' as read from /proc, i: idle class;")
    say("   p95 during: requests started and ended while the run was running; idle: afterwards,")
    say("   on the synced tables; vs quiet: during / the lowest idle p95 of this run; load1: at")
    say("   the end)")
    say("=" * 100)


async def main_async(args: argparse.Namespace) -> None:
    url = database_url("bench-pages")
    say(f"pages-first benchmark: load average {fmt_load(os.getloadavg())} on {CORES} cores")
    store, info = start_store(args)
    say(f"store: {info['keys']:,} keys at {info['endpoint']} (built in {info['build_seconds']} s)")
    async with measured_database(url, store) as (conn, meter):
        bench = Bench(args, conn, store, meter)
        for i in range(args.rounds):
            order = args.modes if i % 2 == 0 else args.modes[::-1]
            for nice in order:
                bench.rounds.append(await bench.one(nice))
        summary(bench)


def main(argv: list[str] | None = None) -> None:
    asyncio.run(main_async(parse_args(argv)))


if __name__ == "__main__":
    main(sys.argv[1:])
