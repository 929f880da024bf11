"""The app started as its operators start it: `python -m app` (web, workers), `python -m app
worker`, or an ASGI factory under uvicorn; each on a free port, waited for until it answers."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from pathlib import Path

import httpx

from harness.ports import free_port
from harness.processes import PYTHON, ROOT, Bound, Process, wait_until, wait_until_sync


def ok_200(status: int) -> bool:
    return status == 200


class Served(Process):
    """A process serving HTTP on 127.0.0.1:`port`."""

    def __init__(
        self,
        name: str,
        args: Sequence[str],
        env: dict[str, str],
        log: Path,
        port: int,
        *,
        session: bool = True,
    ) -> None:
        self.port = port
        super().__init__(name, args, env, log, session=session)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    async def wait_answering(
        self,
        path: str = "/healthz",
        within: float = 60.0,
        *,
        ok: Callable[[int], bool] = ok_200,
        interval: float = 0.1,
        request_s: float = 2.0,
        report: Callable[[], str] | None = None,
    ) -> float:
        """Until GET `path` answers a status `ok` accepts; seconds since the process started."""
        # Plain http on loopback: verify=False spares loading the CA bundle (30 ms of CPU).
        async with httpx.AsyncClient(timeout=request_s, verify=False) as client:

            async def answers() -> bool:
                try:
                    return ok((await client.get(self.url + path)).status_code)
                except httpx.HTTPError:
                    return False

            bound = Bound(f"{self.name} answering {path}", within, (self,), report)
            await wait_until(answers, bound, interval)
        return time.perf_counter() - self.started

    def wait_answering_sync(
        self, path: str = "/healthz", within: float = 60.0, *, request_s: float = 1.0
    ) -> None:
        """`wait_answering` (status 200) for code without an event loop."""

        # One client for every poll, and plain http on loopback: no CA bundle to load.
        with httpx.Client(timeout=request_s, verify=False) as client:

            def answers() -> bool:
                try:
                    return client.get(self.url + path).status_code == 200
                except httpx.HTTPError:
                    return False

            wait_until_sync(answers, Bound(f"{self.name} answering {path}", within, (self,)))


class ServedLater:
    """What starts a `Served` later (on `start()` or entering): its pid, URL and start time are
    set then (reading them before is an AttributeError)."""

    server: Served | None = None
    pid: int
    base: str  # its URL
    started: float  # perf_counter when it was started

    def _running(self, server: Served) -> Served:
        self.server = server
        self.pid, self.base, self.started = server.pid, server.url, server.started
        return server


def app_command(*args: str) -> list[str]:
    """`python -m app ARGS` with this interpreter."""
    return [PYTHON, "-m", "app", *args]


def start_app(name: str, env: dict[str, str], log: Path) -> Served:
    """`python -m app` (web, and WORKERS workers) on env's PORT, or a free port it is given."""
    port = int(env["PORT"]) if "PORT" in env else free_port()
    return Served(name, app_command(), {**env, "PORT": str(port)}, log, port)


def start_web(name: str, env: dict[str, str], log: Path) -> Served:
    """`python -m app` serving alone (WORKERS=0) on a free loopback port."""
    alone = {"WORKERS": "0", "PORT": str(free_port()), "HOST": "127.0.0.1"}
    return start_app(name, {**env, **alone}, log)


def start_worker(
    name: str, env: dict[str, str], log: Path, *, session: bool = True, cwd: Path = ROOT
) -> Process:
    """`python -m app worker` named `name` (the name the run ledger shows), run from `cwd` (its
    `app` and packages are imported from there: another commit's checkout, say)."""
    env = {**env, "WORKER_NAME": name}
    return Process(name, app_command("worker"), env, log, session=session, cwd=cwd)


def start_uvicorn(
    name: str,
    factory: str,
    env: dict[str, str],
    log: Path,
    options: Sequence[str] = (),
    *,
    session: bool = True,
) -> Served:
    """`python -m uvicorn FACTORY --factory` on a free loopback port, with uvicorn `options`."""
    port = free_port()
    args = [PYTHON, "-m", "uvicorn", factory, "--factory", "--host", "127.0.0.1"]
    return Served(name, [*args, "--port", str(port), *options], env, log, port, session=session)
