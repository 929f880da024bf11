"""What `python -m app` started ends when it does: SIGTERM or SIGINT to that one process (as
kill, supervisord and docker stop send them) stops its workers, the embedded S3 and the embedded
PostgreSQL; when it is SIGKILLed its workers still stop; a worker waiting for its database obeys
SIGTERM at once. Processes are followed through /proc (pid, parent, start time), not by name.

The app's tests share one data directory, so only the first start pays for initdb, and the
last starts on the PostgreSQL the SIGKILLed app left running: it must reuse and stop it.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.app import app_command
from harness.ports import free_port
from harness.processes import signal_group, spawn
from tests.served import clean_env

pytestmark = pytest.mark.timeout(120)
START_S = 80.0  # the first start runs initdb and fills the demo bucket
STOP_S = 30.0  # SIGTERM/SIGINT to nothing left, jobs' grace included
ORPHAN_S = 8.0  # a worker whose supervisor was SIGKILLed: worker.ORPHAN_GRACE_S even mid-job


@dataclass(frozen=True)
class Proc:
    pid: int
    ppid: int
    started: int  # clock ticks after boot: tells a pid reused by another process apart
    state: str
    command: str

    def alive(self) -> bool:
        now = _stat(self.pid)
        return now is not None and now.started == self.started and now.state != "Z"


def _stat(pid: int) -> Proc | None:
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
        command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return None
    name, _, rest = stat.rpartition(")")
    fields = rest.split()  # from field 3, the state, on
    return Proc(pid, int(fields[1]), int(fields[19]), fields[0], command.strip() or name)


def processes() -> dict[int, Proc]:
    found = (_stat(int(p.name)) for p in Path("/proc").iterdir() if p.name.isdigit())
    return {p.pid: p for p in found if p is not None}


def tree(root: int) -> list[Proc]:
    """`root` and every process below it, by parent pid."""
    table = processes()
    found, todo = [], [root]
    while todo:
        pid = todo.pop()
        if pid in table:
            found.append(table[pid])
            todo += [p.pid for p in table.values() if p.ppid == pid]
    return found


def postmaster(data: Path) -> Proc | None:
    """The embedded PostgreSQL serving `data`, if it runs."""
    try:
        pid = int((data / "pg" / "postmaster.pid").read_text().split()[0])
    except (OSError, ValueError, IndexError):
        return None
    proc = _stat(pid)
    return proc if proc is not None and proc.state != "Z" and str(data) in proc.command else None


def spawn_app(args: list[str], env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    """`python -m app ARGS` in a session of its own (a signal reaches it alone), output to log."""
    return spawn(app_command(*args), env, log)


def wait_until(done: Callable[[], bool], within: float) -> float | None:
    """Seconds until `done()` held, or None if it did not within `within`."""
    started = time.monotonic()
    while time.monotonic() - started < within:
        if done():
            return time.monotonic() - started
        time.sleep(0.1)
    return None


@pytest.fixture(scope="module")
def data() -> Iterator[Path]:
    """One data dir for the module (traversable: the embedded PostgreSQL runs as its own
    user under root); any PostgreSQL left on it is stopped at the end."""
    root = Path(tempfile.mkdtemp(prefix="creatorflix-tree-"))
    root.chmod(0o755)
    try:
        yield root / "data"
    finally:
        left = postmaster(root / "data")
        if left is not None:
            os.kill(left.pid, signal.SIGQUIT)  # immediate shutdown
            if wait_until(lambda: not left.alive(), 10) is None:
                os.kill(left.pid, signal.SIGKILL)
        shutil.rmtree(root, ignore_errors=True)


class App:
    """`python -m app` (embedded PostgreSQL and S3, one worker) in a session of its own."""

    def __init__(self, data: Path) -> None:
        self.data, self.port = data, free_port()
        self.log = data.parent / f"app-{self.port}.log"
        env = clean_env(
            DATA_DIR=str(data),
            HOME=str(data.parent),
            HOST="127.0.0.1",
            PORT=str(self.port),
            EMBEDDED_S3_PORT=str(free_port()),
            WORKERS="1",
            PYTHONUNBUFFERED="1",
        )
        self.popen = spawn_app([], env, self.log)
        self.started: list[Proc] = []

    def output(self) -> str:
        return self.log.read_text(errors="replace")

    def ready(self) -> bool:
        if self.popen.poll() is not None:
            raise AssertionError(f"the app exited ({self.popen.returncode}):\n{self.tail()}")
        if "taking jobs" not in self.output():  # the worker runs (and follows its parent)
            return False
        with contextlib.suppress(OSError):
            url = f"http://127.0.0.1:{self.port}/healthz"
            with urllib.request.urlopen(url, timeout=2) as answer:  # noqa: S310 - loopback
                return bool(answer.status == 200)
        return False

    def record(self) -> list[Proc]:
        """Everything this app started: its tree, the embedded PostgreSQL and its tree."""
        server = postmaster(self.data)
        assert server is not None, "no embedded PostgreSQL running for the app"
        self.started = tree(self.popen.pid) + tree(server.pid)
        workers = [p for p in self.started if p.command.endswith("-m app worker")]
        assert workers, f"no worker process under the app: {self.started}"
        return self.started

    def left(self) -> list[Proc]:
        return [p for p in self.started if p.alive()]

    def tail(self) -> str:
        return self.output()[-5000:]

    def reap(self) -> None:
        """Whatever happened: nothing of this app outlives the test (but PostgreSQL)."""
        signal_group(self.popen, signal.SIGKILL)
        for proc in self.left():
            if "postgres" not in proc.command:
                with contextlib.suppress(ProcessLookupError):
                    os.kill(proc.pid, signal.SIGKILL)
        with contextlib.suppress(subprocess.TimeoutExpired):
            self.popen.wait(10)


@contextlib.contextmanager
def running(data: Path) -> Iterator[App]:
    app = App(data)
    try:
        assert wait_until(app.ready, START_S) is not None, (
            f"the app did not serve with a worker within {START_S:.0f} s:\n{app.tail()}"
        )
        app.record()
        yield app
    finally:
        app.reap()


def describe(procs: list[Proc]) -> str:
    return "\n".join(f"  pid {p.pid}: {p.command[:150]}" for p in procs)


@pytest.mark.parametrize("how", ["SIGTERM", "SIGKILL", "SIGINT twice"])
def test_a_signal_to_the_app_leaves_nothing_it_started(data: Path, how: str) -> None:
    """One signal to the Python process alone (not its group), in this order on one data dir:
    - SIGTERM, on the first start, while the worker has the demo's first sync: within STOP_S
      nothing the app started is left, the embedded PostgreSQL and S3 included;
    - SIGKILL runs no cleanup: the worker stops by itself within ORPHAN_S (PR_SET_PDEATHSIG);
      the embedded PostgreSQL is left running;
    - SIGINT, then another SIGINT once the cleanup is under way (an impatient Ctrl-C): the app
      reuses the PostgreSQL the killed one left, and the cleanup still ends, stopping it."""
    left_before = postmaster(data)
    with running(data) as app:
        if left_before is not None:
            server = postmaster(data)
            assert server is not None and (server.pid, server.started) == (
                left_before.pid,
                left_before.started,
            ), "the app did not reuse the PostgreSQL left running"
        sent = time.monotonic()
        if how == "SIGKILL":
            os.kill(app.popen.pid, signal.SIGKILL)
            workers = [p for p in app.started if "postgres" not in p.command]
            took = wait_until(lambda: not any(p.alive() for p in workers), ORPHAN_S)
            assert took is not None, (
                f"{ORPHAN_S:.0f} s after the app was SIGKILLed, still running:\n"
                f"{describe([p for p in workers if p.alive()])}\n{app.tail()}"
            )
            print(f"\n[process tree] SIGKILL: its worker gone {took:.1f} s later")
            return
        os.kill(app.popen.pid, signal.SIGINT if how.startswith("SIGINT") else signal.SIGTERM)
        again = how == "SIGINT twice" and _interrupt_cleanup(app)
        gone = wait_until(lambda: not app.left() and app.popen.poll() is not None, STOP_S)
        assert gone is not None, (
            f"{STOP_S:.0f} s after {how} to the app, still running:\n"
            f"{describe(app.left())}\n{app.tail()}"
        )
        took = time.monotonic() - sent
        print(f"\n[process tree] {how}: everything gone {took:.1f} s later (again: {again})")
        assert postmaster(data) is None
        text = app.output()
        assert not (data / "embedded-s3.json").exists(), "the embedded S3 was not stopped"
        assert "embedded S3:" in text and "objects kept" in text, app.tail()
        if again:
            assert "SIGINT while stopping" in text, app.tail()


def _interrupt_cleanup(app: App) -> bool:
    """A second SIGINT once the cleanup has begun; False if too late. (Not at "Finished
    server process": uvicorn still holds the signals there, and takes a second one itself.)"""
    done = wait_until(lambda: "cleaning up:" in app.output(), STOP_S)
    assert done is not None, f"the cleanup did not begin:\n{app.tail()}"
    if app.popen.poll() is not None:
        return False
    os.kill(app.popen.pid, signal.SIGINT)
    return True


def test_worker_waiting_for_its_database_stops_on_sigterm(tmp_path: Path) -> None:
    """In its "cannot start, retrying" wait, a worker stops at SIGTERM, cleanly."""
    log = tmp_path / "worker.log"
    env = clean_env(
        DATABASE_URL=f"postgresql://postgres@127.0.0.1:{free_port()}/nothing-listens",
        WORKER_NAME="waiting",
        PYTHONUNBUFFERED="1",
    )
    worker = spawn_app(["worker"], env, log)
    try:
        waiting = wait_until(lambda: "retrying in 2 s" in log.read_text(errors="replace"), 60)
        assert waiting is not None, "the worker never said it was retrying:\n" + log.read_text()
        worker.send_signal(signal.SIGTERM)
        took = wait_until(lambda: worker.poll() is not None, 5)
        assert took is not None, "the waiting worker ignored SIGTERM for 5 s:\n" + log.read_text()
        text = log.read_text(errors="replace")
        assert worker.returncode == 0, f"exit {worker.returncode}, not a clean stop:\n{text}"
        assert "worker waiting stopped" in text, text
        print(f"\n[process tree] waiting worker: stopped {took:.1f} s after SIGTERM")
    finally:
        signal_group(worker, signal.SIGKILL)
        worker.wait(10)
