"""Child processes in sessions of their own, waited for with bounds, stopped with their tree.

`spawn` starts one (output to a log file, or nowhere); `Process` keeps it with its name and log;
`Process.stop` sends SIGTERM, waits a grace, then SIGKILLs the whole process group and reaps it.
`wait_until` / `wait_until_sync` poll a probe until it answers, failing with `NotReady` that says
what did not happen (and why: a watched process exited, or the bound passed) with the log's end.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import threading
import time
import weakref
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import IO, Any, TypeVar

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable  # the project's .venv/bin/python when run through it
T = TypeVar("T")
Argv = Sequence[str]  # a command line
Env = dict[str, str]  # a child's whole environment
# What was started in a session of its own: signals go to its whole process group.
_OWN_GROUP: weakref.WeakSet[subprocess.Popen[bytes]] = weakref.WeakSet()


class NotReady(AssertionError):
    """A wait ran out, or what it waited on exited first. (An AssertionError: a test's failure.)"""


def spawn(
    args: Sequence[str],
    env: dict[str, str],
    log: Path | None,
    *,
    cwd: Path = ROOT,
    session: bool = True,
) -> subprocess.Popen[bytes]:
    """`args` with output to `log` (None: discarded), in a session (process group) of its own
    unless `session` is False.

    A session of its own: a signal sent to the test or bench's group does not reach it, and
    stopping it reaches everything it started. Without one, it shares the caller's group: a
    terminal's Ctrl-C or a `timeout` reaches it too, and stopping it signals it alone.
    """
    with contextlib.ExitStack() as stack:
        out = stack.enter_context(log.open("wb")) if log is not None else subprocess.DEVNULL
        popen = subprocess.Popen(
            list(args),
            cwd=cwd,
            env=env,
            stdin=subprocess.DEVNULL,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=session,
        )
    if session:
        _OWN_GROUP.add(popen)
    return popen


def spawn_announcing(
    args: Sequence[str], log: Path | None, *, stdin: bool = False, cwd: Path = ROOT
) -> subprocess.Popen[bytes]:
    """`args`, which prints one JSON line on stdout once it is ready (`announced` reads it),
    in this process's group (see `spawn`); stderr to `log` (None: this process's stderr);
    `stdin`: a pipe it may serve until it is closed."""
    with contextlib.ExitStack() as stack:
        err = stack.enter_context(log.open("wb")) if log is not None else None
        return subprocess.Popen(
            list(args),
            cwd=cwd,
            stdin=subprocess.PIPE if stdin else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=err,
        )


def announced(popen: subprocess.Popen[bytes], within: float, what: str) -> dict[str, Any]:
    """The JSON line `popen` prints once ready; NotReady if none came within `within` s."""
    out: IO[bytes] | None = popen.stdout
    assert out is not None, "started without a stdout pipe"
    lines: list[bytes] = []
    reader = threading.Thread(target=lambda: lines.append(out.readline()), daemon=True)
    reader.start()
    reader.join(within)
    if lines and lines[0]:
        told: dict[str, Any] = json.loads(lines[0])
        return told
    if popen.poll() is not None:
        raise NotReady(f"{what} exited ({popen.returncode}) before saying it was ready")
    raise NotReady(f"timed out after {within:g} s: {what} saying it was ready")


def run_command(
    args: Sequence[str], env: dict[str, str], stdin: str | None = None, within: float = 120.0
) -> subprocess.CompletedProcess[str]:
    """`args` from the project root to their end (at most `within` s), as an operator runs
    them: text in and out captured; no controlling terminal, so a password prompt reads stdin."""
    return subprocess.run(
        list(args), cwd=ROOT, env=env, input=stdin, capture_output=True, text=True,
        timeout=within, start_new_session=True,
    )  # fmt: skip


def signal_group(popen: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    """`sig` to the process group `popen` leads, or to `popen` alone if it was started in ours
    (gone already: nothing to do)."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        if popen in _OWN_GROUP:
            os.killpg(popen.pid, sig)
        elif popen.poll() is None:
            popen.send_signal(sig)


def stop_group(
    popen: subprocess.Popen[bytes],
    grace: float = 10.0,
    *,
    leader_only: bool = False,
    sweep: bool = True,
    reap: float = 10.0,
    said: Callable[[str], None] | None = None,
) -> None:
    """SIGTERM (to the group, or to its leader alone, which then stops its own children), up to
    `grace` seconds for it to exit, then SIGKILL to the group and up to `reap` seconds to reap.

    `sweep`: SIGKILL the group also when the leader exited in time, or before (whatever it
    left behind); without it, SIGKILL only follows a leader that outlived `grace`.
    `said`: told when the leader did not stop within `grace`.
    """
    kill = sweep
    if popen.poll() is None:
        if leader_only:
            with contextlib.suppress(ProcessLookupError):
                popen.send_signal(signal.SIGTERM)
        else:
            signal_group(popen, signal.SIGTERM)
        try:
            popen.wait(grace)
        except subprocess.TimeoutExpired:
            kill = True
            if said is not None:
                said(f"did not stop within {grace:.0f} s after SIGTERM; killing its group")
    if kill:
        signal_group(popen, signal.SIGKILL)
    popen.wait(reap)


def tail(log: Path, chars: int = 4000) -> str:
    """The end of a log file ("" if there is none yet)."""
    return log.read_text(errors="replace")[-chars:] if log.exists() else ""


class Process:
    """One child process, its output in a log file; in a session of its own unless `session`
    is False (see `spawn`)."""

    def __init__(
        self, name: str, args: Argv, env: Env, log: Path, *, session: bool = True, cwd: Path = ROOT
    ) -> None:
        self.name, self.log = name, log
        self.started = time.perf_counter()
        self.popen = spawn(args, env, log, cwd=cwd, session=session)

    @property
    def pid(self) -> int:
        return self.popen.pid

    @property
    def alive(self) -> bool:
        return self.popen.poll() is None

    def kill(self) -> None:
        """SIGKILL, as a crash or the OOM killer would: nothing runs on the way out."""
        if self.alive:
            signal_group(self.popen, signal.SIGKILL)

    async def wait(self, within: float) -> int:
        """Its exit code; subprocess.TimeoutExpired if it runs on after `within` seconds."""
        return await asyncio.to_thread(self.popen.wait, within)

    async def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL after `grace` seconds; always waited for."""
        await asyncio.to_thread(stop_group, self.popen, grace, sweep=False)

    def tail(self, lines: int = 25) -> str:
        return "\n".join(tail(self.log, 1 << 20).splitlines()[-lines:])

    def check_alive(self, before: str = "") -> None:
        """NotReady if it exited (`before`: what it exited before), with its log's end."""
        if not self.alive:
            when = f" before {before}" if before else ""
            raise NotReady(f"{self.name} exited ({self.popen.poll()}){when}:\n{self.tail()}")


class Bound:
    """One wait's bound: `what` it waits for, for `within` seconds, while `watch` stay alive."""

    def __init__(
        self,
        what: str,
        within: float,
        watch: Sequence[Process] = (),
        report: Callable[[], str] | None = None,
    ) -> None:
        self.what, self.within, self.watch, self.report = what, within, watch, report
        self.deadline = time.monotonic() + within

    def check(self) -> None:
        """NotReady if a watched process exited or the bound passed."""
        for process in self.watch:
            process.check_alive(self.what)
        if time.monotonic() > self.deadline:
            told = self.report() if self.report else "\n".join(p.tail() for p in self.watch)
            raise NotReady(f"timed out after {self.within:g} s: {self.what}\n{told}".rstrip())


async def wait_until(probe: Callable[[], Awaitable[T]], bound: Bound, interval: float = 0.2) -> T:
    """Poll `probe` until it returns something truthy; NotReady from `bound` meanwhile."""
    while True:
        value = await probe()
        if value:
            return value
        bound.check()
        await asyncio.sleep(interval)


def wait_until_sync(probe: Callable[[], T], bound: Bound, interval: float = 0.1) -> T:
    """`wait_until` for code without an event loop."""
    while True:
        value = probe()
        if value:
            return value
        bound.check()
        time.sleep(interval)
