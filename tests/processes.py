"""The app's real processes for the worker tests: workers, web servers, the CLI; always reaped.

Every process gets its own session (process group) and a log file; `Processes.stop_all()`
terminates, waits with a deadline, then SIGKILLs and waits again, so no test leaves one behind.
"""

from __future__ import annotations

import asyncio
import subprocess
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TypeVar

from domain.platform import db
from harness.app import Served, start_web, start_worker
from harness.processes import Bound, Process, wait_until
from tests.served import cli

T = TypeVar("T")
P = TypeVar("P", bound=Process)
Web = Served  # `python -m app` serving alone on a free port (harness.app.start_web)


class Processes:
    """The processes one test started; the fixture calls stop_all() however the test ended."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.all: list[Process] = []

    def worker(self, name: str, env: dict[str, str]) -> Process:
        """`python -m app worker` named `name` (the name the run ledger shows)."""
        return self._add(start_worker(name, env, self._log(name)))

    def web(self, name: str, env: dict[str, str]) -> Web:
        return self._add(start_web(name, env, self._log(name)))

    def _add(self, process: P) -> P:
        self.all.append(process)
        return process

    def _log(self, name: str) -> Path:
        return self.logs / f"{name}.log"

    async def stop_all(self) -> None:
        await asyncio.gather(*(p.stop() for p in self.all))

    def report(self) -> str:
        """The end of every process's log, for a failure message."""
        return "\n".join(f"--- {p.name} (exit {p.popen.poll()}) ---\n{p.tail()}" for p in self.all)

    def check_alive(self, *expected: Process) -> None:
        for p in expected:
            p.check_alive()

    async def wait_for(
        self,
        probe: Callable[[], Awaitable[T]],
        what: str,
        timeout: float = 60.0,
        *,
        alive: tuple[Process, ...] = (),
    ) -> T:
        """Poll `probe` until it returns something truthy; else fail naming `what`, with logs."""
        return await wait_until(probe, Bound(what, timeout, alive, self.report))

    async def workers_registered(self, count: int, timeout: float = 60.0) -> None:
        """Wait until `count` workers heartbeat in the queue (they are taking jobs)."""

        async def registered() -> bool:
            rows = await db.fetch("SELECT COUNT(*) AS n FROM procrastinate_workers")
            return int(rows[0]["n"]) >= count

        await self.wait_for(registered, f"{count} worker(s) registered", timeout)

    async def web_ready(self, web: Web, timeout: float = 60.0) -> None:
        await web.wait_answering("/healthz", timeout, interval=0.2, report=self.report)


async def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`litestar ARGS` to the end (in a thread: the test's event loop keeps serving)."""
    return await asyncio.to_thread(cli, env, *args)
