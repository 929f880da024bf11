"""Our sync as the product runs it: `python -m app worker` processes sharing one run's parts.

The bench records a run and defers its job, as the web's "Sync now" does; the first worker to
take it cuts the listing into parts and defers helpers, which the other workers take. Each
worker lists the store through its own S3 client. Peak RSS is read per worker (VmHWM).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.measure import _proc_cpu
from domain.catalogue import jobs as catalogue_jobs
from domain.catalogue import runs
from domain.catalogue.begin import RunRequest, begin
from domain.platform import db
from harness.app import start_worker
from harness.processes import ROOT, Bound, Process, stop_group, wait_until


@dataclass
class Workers:
    """`count` `python -m app worker` processes, started (and registered in the queue) on
    entering, stopped on leaving."""

    count: int
    env: dict[str, str]
    log_dir: Path
    tree: Path = ROOT  # where `python -m app worker` runs from, so imports its code: a checkout
    procs: list[subprocess.Popen[bytes]] | None = None
    started: list[Process] = field(default_factory=list)

    async def __aenter__(self) -> Workers:
        env = {**os.environ, **self.env}
        count = "SELECT COUNT(*) AS n FROM procrastinate_workers"
        already = int((await db.fetch(count))[0]["n"])  # left by an earlier set that was killed
        for i in range(1, self.count + 1):
            log = self.log_dir / f"worker-{i}.log"
            worker = start_worker(f"bench-worker-{i}", env, log, session=False, cwd=self.tree)
            self.started.append(worker)
        self.procs = [p.popen for p in self.started]

        async def registered() -> bool:
            return int((await db.fetch(count))[0]["n"]) >= already + self.count

        try:
            what = f"{self.count} worker(s) registered (logs in {self.log_dir})"
            await wait_until(registered, Bound(what, 120, self.started), 0.1)
        except BaseException:
            await self.__aexit__()
            raise
        return self

    async def __aexit__(self, *exc: object) -> None:
        stops = (
            asyncio.to_thread(stop_group, p, 30, leader_only=True, reap=5) for p in self.procs or ()
        )
        await asyncio.gather(*stops)

    def cpu_seconds(self) -> float:
        """The workers' CPU so far (utime + stime, and their reaped children's), summed."""
        return sum(_proc_cpu(p.pid, children=True) for p in self.procs or ())

    def peak_rss_mb(self) -> list[float]:
        """Each worker's peak RSS so far (VmHWM); reset with reset_peaks()."""
        return [_status_kb(p.pid, "VmHWM") / 1024 for p in self.procs or ()]

    def reset_peaks(self) -> None:
        for p in self.procs or ():
            with contextlib.suppress(OSError):
                Path(f"/proc/{p.pid}/clear_refs").write_text("5")


def _status_kb(pid: int, field: str) -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith(field + ":"):
                return float(line.split()[1])
    except OSError:
        pass
    return float("nan")


async def queued_sync(within: float = 3600) -> runs.Run:
    """Record a whole-bucket sync, defer it to the workers and wait for its end."""
    run_id = await begin(
        RunRequest("all", "bench"), lambda run: catalogue_jobs.defer_run("sync", run)
    )
    deadline = time.monotonic() + within
    while time.monotonic() < deadline:
        run = await runs.get(run_id)
        if run is not None and run.status not in runs.ACTIVE:
            return run
        await asyncio.sleep(0.05)
    raise TimeoutError(f"run #{run_id} did not finish within {within:.0f} s")
