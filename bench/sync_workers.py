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
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from domain.catalogue import jobs as catalogue_jobs
from domain.catalogue import runs
from domain.catalogue.begin import RunRequest, begin
from domain.platform import db

ROOT = Path(__file__).resolve().parent.parent


@dataclass
class Workers:
    count: int
    env: dict[str, str]
    log_dir: Path
    procs: list[subprocess.Popen[bytes]] | None = None

    async def __aenter__(self) -> Workers:
        self.procs = []
        for i in range(self.count):
            log = (self.log_dir / f"worker-{i + 1}.log").open("wb")
            env = {**os.environ, **self.env, "WORKER_NAME": f"bench-worker-{i + 1}"}
            self.procs.append(
                subprocess.Popen(  # noqa: ASYNC220 - started once, before anything is timed
                    [sys.executable, "-m", "app", "worker"], cwd=ROOT, env=env, stdout=log,
                    stderr=subprocess.STDOUT,
                )
            )  # fmt: skip
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            rows = await db.fetch("SELECT COUNT(*) AS n FROM procrastinate_workers")
            if int(rows[0]["n"]) >= self.count:
                return self
            if any(p.poll() is not None for p in self.procs):
                break
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.count} worker(s) did not start; see {self.log_dir}")

    async def __aexit__(self, *exc: object) -> None:
        for p in self.procs or ():
            p.terminate()
        for p in self.procs or ():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(5)

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
