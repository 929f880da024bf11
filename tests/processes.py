"""The app's real processes for the worker tests: workers, web servers, the CLI; always reaped.

Every process gets its own session (process group) and a log file; `Processes.stop_all()`
terminates, waits with a deadline, then SIGKILLs and waits again, so no test leaves one behind.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, TypeVar

import httpx

from domain.platform import db
from tests.served import cli

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable  # the project's .venv/bin/python (tests/run.py runs pytest with it)
T = TypeVar("T")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Process:
    """One child process in a session of its own, its output in a log file."""

    def __init__(self, name: str, args: list[str], env: dict[str, str], log: Path) -> None:
        self.name, self.log = name, log
        self._out = log.open("wb")
        self.popen = subprocess.Popen(
            args,
            cwd=ROOT,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=self._out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: nothing runs on the way out."""
        self._signal(signal.SIGKILL)

    def _signal(self, sig: signal.Signals) -> None:
        if self.alive:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.popen.pid, sig)

    async def wait(self, timeout: float) -> int:
        return await asyncio.to_thread(self.popen.wait, timeout)

    async def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds; always waited for."""
        self._signal(signal.SIGTERM)
        try:
            await self.wait(grace)
        except subprocess.TimeoutExpired:
            self._signal(signal.SIGKILL)
            await self.wait(10)
        self._out.close()

    def tail(self, lines: int = 25) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])


class Web(Process):
    """`python -m app` serving on a free port (WORKERS=0: the web alone)."""

    def __init__(self, name: str, env: dict[str, str], log: Path) -> None:
        self.port = free_port()
        env = {**env, "WORKERS": "0", "PORT": str(self.port), "HOST": "127.0.0.1"}
        super().__init__(name, [PYTHON, "-m", "app"], env, log)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class Processes:
    """The processes one test started; the fixture calls stop_all() however the test ended."""

    def __init__(self, logs: Path) -> None:
        self.logs = logs
        self.all: list[Process] = []

    def worker(self, name: str, env: dict[str, str]) -> Process:
        """`python -m app worker` named `name` (the name the run ledger shows)."""
        env = {**env, "WORKER_NAME": name}
        return self._add(Process(name, [PYTHON, "-m", "app", "worker"], env, self._log(name)))

    def web(self, name: str, env: dict[str, str]) -> Web:
        web = Web(name, env, self._log(name))
        self._add(web)
        return web

    def _add(self, process: Process) -> Any:
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
            if not p.alive:
                raise AssertionError(f"{p.name} exited with {p.popen.poll()}:\n{p.tail()}")

    async def wait_for(
        self,
        probe: Callable[[], Awaitable[T]],
        what: str,
        timeout: float = 60.0,
        *,
        alive: tuple[Process, ...] = (),
    ) -> T:
        """Poll `probe` until it returns something truthy; else fail naming `what`, with logs."""
        deadline = time.monotonic() + timeout
        while True:
            value = await probe()
            if value:
                return value
            self.check_alive(*alive)
            if time.monotonic() > deadline:
                raise AssertionError(f"timed out after {timeout:.0f} s: {what}\n{self.report()}")
            await asyncio.sleep(0.2)

    async def workers_registered(self, count: int, timeout: float = 60.0) -> None:
        """Wait until `count` workers heartbeat in the queue (they are taking jobs)."""

        async def registered() -> bool:
            rows = await db.fetch("SELECT COUNT(*) AS n FROM procrastinate_workers")
            return int(rows[0]["n"]) >= count

        await self.wait_for(registered, f"{count} worker(s) registered", timeout)

    async def web_ready(self, web: Web, timeout: float = 60.0) -> None:
        async def answers() -> bool:
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    return (await client.get(f"{web.url}/healthz")).status_code == 200
            except httpx.HTTPError:
                return False

        await self.wait_for(answers, f"{web.name} answering /healthz", timeout, alive=(web,))


async def run_cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`litestar ARGS` to the end (in a thread: the test's event loop keeps serving)."""
    return await asyncio.to_thread(cli, env, *args)
