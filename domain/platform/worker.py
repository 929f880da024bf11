"""A worker process: runs queued jobs; waits, saying so, while the database is unreachable.

SIGTERM and SIGINT stop it in every state: while it takes jobs (procrastinate stops taking new
ones and the running ones get STOP_GRACE_S to finish), while it cannot start and while it waits
to reconnect (those waits end at once). A job still running after the grace is left as a
crash leaves it: the worker exits and the job goes back to the queue once its heartbeat is
queue.STALLED_S old (`recover_stalled`), where the next worker resumes it. A second signal
changes nothing: the grace already bounds the stop.

A worker started by `python -m app` (the supervisor's pid in SUPERVISOR_PID_ENV) also stops
when the supervisor dies, even by SIGKILL, with ORPHAN_GRACE_S for its jobs: Linux sends it
SIGTERM then (PR_SET_PDEATHSIG; it is sent when the *thread* that started the worker ends,
which for the supervisor's threads means stopping anyway), and it checks its parent every
second besides (other systems, or a supervisor gone before the worker asked).

A worker runs WORKER_NICE steps below the CPU priority of whatever started it (`lower_priority`):
on one box, the web's pages get a core first while a sync writes. By default (`idle`) it is 19
steps and Linux's idle scheduling class besides: a task of that class gives up its core the
moment another task wakes wanting it, where a merely lowered one runs on to the end of its
slice. Most of a sync's CPU is PostgreSQL's, writing for it: when the database is on this
machine, the backends serving the worker's connections (named by application_name) are lowered
as much (`_lower_backends`).
"""

from __future__ import annotations

import asyncio
import contextlib
import ctypes
import logging
import math
import os
import signal
import sys
import time
from collections.abc import Sequence
from dataclasses import replace
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from domain.platform import db, queue
from domain.platform.db import DatabaseUnavailable
from domain.platform.runtime import Runtime, this_process
from domain.platform.s3 import S3Error
from domain.platform.settings import Settings

log = logging.getLogger("creatorflix.worker")
logging.getLogger("procrastinate").setLevel(logging.WARNING)  # one line per job is too many
MAX_BACKOFF = 30.0
STOP_GRACE_S = 10.0  # running jobs get this long to finish after SIGTERM/SIGINT
ORPHAN_GRACE_S = 2.0  # or this long, once the supervisor is gone
SUPERVISOR_PID_ENV = "CREATORFLIX_SUPERVISOR_PID"  # set by supervisor.WorkerPool only
PR_SET_PDEATHSIG = 1  # <linux/prctl.h>
BACKENDS_EVERY_S = 2.0  # how often the worker looks for new connections' backends to lower


async def run(
    settings: Settings,
    name: str | None = None,
    concurrency: int | None = None,
    middleware: Sequence[queue.Middleware] = (),
) -> None:
    """Take jobs until SIGTERM/SIGINT; reconnect with backoff when the database goes away.
    The caller has imported the features' tasks (domain/tasks.py) and passes their middleware."""
    name = name or settings.worker_name or this_process()
    concurrency = concurrency or settings.worker_concurrency
    nice = lower_priority(settings.worker_nice, idle=settings.worker_idle)
    log.info(
        "worker %s: CPU priority nice %d%s (WORKER_NICE=%s)",
        name,
        nice,
        ", idle class" if settings.worker_idle else "",
        "idle" if settings.worker_idle else settings.worker_nice,
    )
    supervisor = follow_supervisor()
    if supervisor is not None and os.getppid() != supervisor:
        log.warning("worker %s: its supervisor (pid %d) is gone; not starting", name, supervisor)
        return
    stopping = asyncio.Event()
    label = local_label(settings)
    if label is not None:
        settings = replace(settings, database_url=label[0])
    work = asyncio.create_task(
        _work(settings, name, concurrency, stopping, middleware), name="worker"
    )
    lowering = (
        asyncio.create_task(_lower_backends(label[1], settings.worker_nice, settings.worker_idle))
        if label
        else None
    )
    stop = _Stop(name, supervisor, stopping, work)
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop, sig.name)
    watcher = asyncio.create_task(_watch_parent(supervisor, stop)) if supervisor else None
    try:
        while not work.done():  # until the work ends, or the grace after a stop signal does
            if time.monotonic() > stop.deadline:
                _abandon(name)
            await asyncio.wait([work], timeout=0.5)
        with contextlib.suppress(asyncio.CancelledError):
            await work
        log.info("worker %s stopped", name)
    finally:
        for task in (watcher, lowering):
            if task is not None:
                task.cancel()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.remove_signal_handler(sig)


class _Stop:
    """Called with the reason to stop: ends every wait of the work, sets its deadline."""

    def __init__(
        self, name: str, supervisor: int | None, stopping: asyncio.Event, work: asyncio.Task[None]
    ) -> None:
        self.name, self.supervisor, self.stopping, self.work = name, supervisor, stopping, work
        self.deadline = math.inf

    def __call__(self, why: str) -> None:
        # An orphan's jobs can wait for no one: it exits soon, leaving them to the queue.
        orphan = self.supervisor is not None and os.getppid() != self.supervisor
        grace = ORPHAN_GRACE_S if orphan else STOP_GRACE_S
        if self.stopping.is_set():
            log.info("worker %s: %s while stopping", self.name, why)
        else:
            log.info("worker %s: %s; stopping (running jobs get %.0f s)", self.name, why, grace)
            self.stopping.set()
            self.work.cancel()  # every await of the worker ends; procrastinate's stop is graceful
        self.deadline = min(self.deadline, time.monotonic() + grace)


async def _work(
    settings: Settings,
    name: str,
    concurrency: int,
    stopping: asyncio.Event,
    middleware: Sequence[queue.Middleware],
) -> None:
    delay = 1.0
    while not stopping.is_set():
        runtime = Runtime(settings)
        runtime.name = name
        try:
            await runtime.start(migrate=False, pool_size=max(8, concurrency * 4))
        except (DatabaseUnavailable, S3Error, OSError) as exc:
            log.warning("worker %s cannot start: %s; retrying in %.0f s", name, exc, delay)
            await _pause(stopping, delay)
            delay = min(delay * 2, MAX_BACKOFF)
            continue
        delay = 1.0
        try:
            # Signals are ours (above): procrastinate's would replace them for its run only.
            await queue.run_worker(runtime, name, concurrency, signals=False, middleware=middleware)
            return
        except Exception as exc:  # noqa: BLE001 - e.g. the database restarted: start over
            if stopping.is_set():
                return
            log.warning(
                "worker %s lost its connection (%s); reconnecting in %.0f s", name, exc, delay
            )
            await _pause(stopping, delay)
            delay = min(delay * 2, MAX_BACKOFF)
        finally:
            await runtime.stop()


async def _pause(stopping: asyncio.Event, seconds: float) -> None:
    """Wait `seconds`, or less if the worker is asked to stop."""
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stopping.wait(), seconds)


def _abandon(name: str) -> None:
    """The grace is over: leave the unfinished job(s) as a crash would, and exit now."""
    log.warning(
        "worker %s: still busy when its stop grace ended; exiting without waiting: an "
        "unfinished job goes back to the queue when its heartbeat is %.0f s old",
        name,
        queue.STALLED_S,
    )
    logging.shutdown()
    os._exit(1)


def lower_priority(steps: int, *, idle: bool = False) -> int:
    """Pages first: this process yields the CPU to the web's; returns its nice value now.

    Linux keeps a nice value and a scheduling class per thread (later threads inherit them),
    so every thread running already is lowered too. Raising one's own nice value, or taking the
    idle class, needs no privilege; 19 is the floor.
    """
    now = os.getpriority(os.PRIO_PROCESS, 0)
    if steps <= 0:
        return now
    target = min(19, now + steps)
    tasks = Path("/proc/self/task")
    for tid in [int(t.name) for t in tasks.iterdir()] if tasks.is_dir() else [0]:
        with contextlib.suppress(ProcessLookupError):  # a thread that ended meanwhile
            _lower(tid, target, idle)
    return target


def _lower(pid: int, nice: int, idle: bool) -> None:
    os.setpriority(os.PRIO_PROCESS, pid, nice)
    if idle and hasattr(os, "SCHED_IDLE"):  # Linux's; elsewhere the nice value alone
        os.sched_setscheduler(pid, os.SCHED_IDLE, os.sched_param(0))


def local_label(settings: Settings) -> tuple[str, str] | None:
    """(DATABASE_URL naming this worker's connections, that name) when its backends are to be
    lowered: WORKER_NICE set and PostgreSQL on this machine (loopback or a Unix socket)."""
    url = settings.database_url
    if settings.worker_nice <= 0 or not url or not Path("/proc/self/stat").exists():
        return None
    parts = urlsplit(url)
    query = dict(parse_qsl(parts.query))
    host = query.get("host") or parts.hostname or ""
    if host not in ("", "localhost", "127.0.0.1", "::1") and not host.startswith("/"):
        return None
    name = f"creatorflix-worker-{os.getpid()}"
    query["application_name"] = name
    return urlunsplit(parts._replace(query=urlencode(query))), name


async def _lower_backends(name: str, steps: int, idle: bool) -> None:
    """Give the PostgreSQL backends serving this worker's connections its lower priority, as
    the pools open them; stop at the first refusal (another user's server, no privilege)."""
    lowered: set[int] = set()
    while True:
        await asyncio.sleep(BACKENDS_EVERY_S)
        try:
            rows = await db.fetch(
                "SELECT pid FROM pg_stat_activity WHERE application_name = $1", name
            )
        except Exception:  # noqa: BLE001 - no pool yet, or reconnecting: try again later
            continue
        now = {int(r["pid"]) for r in rows}
        for pid in now - lowered:
            if _command(pid) != "postgres":  # gone already, or not this machine's backend
                continue
            try:
                _lower(pid, min(19, os.getpriority(os.PRIO_PROCESS, pid) + steps), idle)
            except PermissionError:
                log.info(
                    "worker %s: PostgreSQL's backends keep their priority (no permission)", name
                )
                return
            except ProcessLookupError:
                continue
            lowered.add(pid)
        lowered &= now


def _command(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return ""


def follow_supervisor() -> int | None:
    """Under `python -m app`: have SIGTERM sent here when the supervisor dies; its pid."""
    value = os.environ.get(SUPERVISOR_PID_ENV, "")
    if not value.isdigit():
        return None
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGTERM), 0, 0, 0) != 0:
            log.warning("PR_SET_PDEATHSIG failed (errno %d)", ctypes.get_errno())
    return int(value)


async def _watch_parent(supervisor: int, stop: _Stop) -> None:
    """Poll for the supervisor's death (PR_SET_PDEATHSIG aside: other systems, missed cases)."""
    while True:
        await asyncio.sleep(1.0)
        if os.getppid() != supervisor:
            stop(f"its supervisor (pid {supervisor}) is gone")
            return
